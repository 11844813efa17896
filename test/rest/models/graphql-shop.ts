import type { ServerResponse } from 'node:http';
import { sendJson, startServer, type TestServer } from '../../http/server.js';

/**
 * A GraphQL admin API for orders, as GraphQL commerce APIs document it: connections paged
 * with `first`/`after` and `pageInfo { hasNextPage endCursor }`, a `query` search string
 * (`updated_at:>='<time>'`), `sortKey: UPDATED_AT`; every answer 200, failures in `errors`;
 * each query costs points from a bucket (`extensions.cost`), refused with THROTTLED when the
 * bucket cannot pay. Only what the tests use is modelled; the query text is not parsed beyond
 * the variables, but a query naming an unknown field gets the error a server gives.
 */

export interface ShopOrder {
  id: string;
  name: string;
  updatedAt: string;
}

export interface GraphqlShop {
  server: TestServer;
  orders: ShopOrder[];
  /** The `query` search string of every request, in order. */
  searches: Array<string | undefined>;
  throttled: number;
  bucket: { max: number; available: number; rate: number; cost: number; at: number };
  close(): Promise<void>;
}

export async function startGraphqlShop(orders: ShopOrder[], token: string, bucket = { max: 1000, rate: 50, cost: 10 }): Promise<GraphqlShop> {
  const state: GraphqlShop = {
    server: undefined as unknown as TestServer,
    orders,
    searches: [],
    throttled: 0,
    bucket: { ...bucket, available: bucket.max, at: Date.now() },
    close: () => state.server.close(),
  };
  state.server = await startServer((req, res, seen) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/graphql.json')) return sendJson(res, 404, { errors: 'Not Found' });
    if (req.headers['x-shopify-access-token'] !== token) return sendJson(res, 401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    const { query, variables } = JSON.parse(seen.body) as { query: string; variables?: { first?: number; after?: string | null; query?: string | null } };
    if (/\bnoSuchField\b/.test(query)) return answer(res, state, { errors: [{ message: "Field 'noSuchField' doesn't exist on type 'Order'", extensions: { code: 'undefinedField' } }] }, 0);
    const b = state.bucket;
    b.available = Math.min(b.max, b.available + ((Date.now() - b.at) / 1000) * b.rate);
    b.at = Date.now();
    if (b.available < b.cost) {
      state.throttled++;
      return answer(res, state, { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }] }, 0);
    }
    b.available -= b.cost;
    state.searches.push(variables?.query ?? undefined);
    const since = /updated_at:>=\s*'([^']+)'/.exec(variables?.query ?? '')?.[1];
    const matching = state.orders
      .filter((o) => since === undefined || Date.parse(o.updatedAt) >= Date.parse(since))
      .sort((a, b2) => Date.parse(a.updatedAt) - Date.parse(b2.updatedAt) || a.id.localeCompare(b2.id));
    const first = Math.min(variables?.first ?? 50, 250);
    const start = variables?.after ? Number(Buffer.from(variables.after, 'base64').toString('utf8')) : 0;
    const page = matching.slice(start, start + first);
    const end = start + page.length;
    answer(res, state, {
      data: {
        orders: {
          nodes: page,
          pageInfo: { hasNextPage: end < matching.length, endCursor: page.length ? Buffer.from(String(end)).toString('base64') : null },
        },
      },
    }, b.cost);
  });
  return state;
}

function answer(res: ServerResponse, shop: GraphqlShop, body: Record<string, unknown>, cost: number): void {
  const b = shop.bucket;
  sendJson(res, 200, {
    ...body,
    extensions: { cost: { requestedQueryCost: b.cost, actualQueryCost: cost, throttleStatus: { maximumAvailable: b.max, currentlyAvailable: Math.floor(b.available), restoreRate: b.rate } } },
  });
}
