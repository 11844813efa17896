import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * A small SaaS API on a real local server: items with an `updated_at` set by the server's
 * clock. `GET /items` filters `updated_since` (inclusive, ISO 8601), sorts by
 * (updated_at, id) and pages by `limit` + `offset`. `afterPage` runs after each page is
 * sent, so a test can change the data between page requests.
 */

export interface Item {
  id: number;
  name: string;
  updated_at: string;
}

export interface FakeApi {
  server: TestServer;
  items: Map<number, Item>;
  /** Creates or updates an item, stamped with the clock, which then moves on by `stepMs`. */
  put(id: number, name: string): Item;
  afterPage: ((pageIndex: number) => void) | undefined;
  /** Requests to /items, as `path?query`. */
  requests(): string[];
  close(): Promise<void>;
}

export async function startFakeApi(startMs: number, stepMs = 1000, token = 'tok-123456'): Promise<FakeApi> {
  let clock = startMs;
  const items = new Map<number, Item>();
  let pages = 0;
  const api: FakeApi = {
    server: undefined as unknown as TestServer,
    items,
    afterPage: undefined,
    put(id, name) {
      const item = { id, name, updated_at: new Date(clock).toISOString() };
      clock += stepMs;
      items.set(id, item);
      return item;
    },
    requests: () => api.server.seen.filter((r) => r.url.startsWith('/items')).map((r) => r.url),
    close: () => api.server.close(),
  };
  api.server = await startServer((req, res) => {
    if (req.headers['authorization'] !== `Bearer ${token}`) return sendJson(res, 401, { error: 'unauthorized' });
    const url = new URL(req.url ?? '', 'http://x');
    if (url.pathname !== '/items') return sendJson(res, 404, { error: `no route ${url.pathname}` });
    const since = url.searchParams.get('updated_since');
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const all = [...items.values()]
      .filter((i) => since === null || Date.parse(i.updated_at) >= Date.parse(since))
      .sort((a, b) => (a.updated_at < b.updated_at ? -1 : a.updated_at > b.updated_at ? 1 : a.id - b.id));
    sendJson(res, 200, { data: all.slice(offset, offset + limit), total: all.length });
    api.afterPage?.(pages++);
  });
  return api;
}
