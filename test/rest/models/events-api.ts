import type { ServerResponse } from 'node:http';
import { sendJson, startServer, type TestServer } from '../../http/server.js';

/**
 * A payments API with an events feed, as Stripe documents its API:
 *
 * - Secret key as a bearer token (or as the Basic user name); a wrong key is 401 with an
 *   `error` object. Unknown parameters, and `limit` outside 1..100, are 400.
 * - Lists (`GET /v1/customers`) answer `{object: "list", url, has_more, data}`, newest created
 *   first, paged with `limit` (default 10) and `starting_after=<id of the last object>`;
 *   deleted customers are not listed. `created[gte|gt|lte|lt]` filter on creation time only.
 * - `GET /v1/customers/<id>` gives the object, `{id, object, deleted: true}` once deleted,
 *   404 `resource_missing` for an id never seen.
 * - `GET /v1/events`: every change is an event `{id, object: "event", type, created, data:
 *   {object, previous_attributes}}`, newest first, filtered by `type` (a `*` wildcard after a
 *   dot: `customer.*`) and `created[...]`, paged like any list; events older than 30 days are
 *   gone from the feed.
 * - Times are epoch seconds of the model's clock (the real clock plus `clockOffsetSeconds`).
 */

export interface ModelCustomer {
  id: string;
  object: 'customer';
  created: number;
  email: string | null;
  name: string | null;
  balance: number;
  metadata: Record<string, string>;
}

export interface ModelEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  type: string;
  data: { object: ModelCustomer; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: null };
}

export const EVENT_RETENTION_DAYS = 30;
const CUSTOMER_FIELDS = ['email', 'name', 'balance', 'metadata'] as const;

export interface EventsApi {
  server: TestServer;
  url: string;
  customers: Map<string, ModelCustomer>;
  deleted: Set<string>;
  events: ModelEvent[];
  /** Added to the real clock for every time the model writes. */
  clockOffsetSeconds: number;
  /** While true every request is answered 503 (with `Retry-After: 0`). */
  unavailable: boolean;
  now(): number;
  create(fields: Partial<Pick<ModelCustomer, 'email' | 'name' | 'balance' | 'metadata'>>): ModelCustomer;
  update(id: string, fields: Partial<Pick<ModelCustomer, 'email' | 'name' | 'balance' | 'metadata'>>): ModelEvent;
  remove(id: string): ModelEvent;
  close(): Promise<void>;
}

export async function startEventsApi(secretKey: string): Promise<EventsApi> {
  let seq = 0;
  const api: EventsApi = {
    server: undefined as unknown as TestServer,
    url: '',
    customers: new Map(),
    deleted: new Set(),
    events: [],
    clockOffsetSeconds: 0,
    unavailable: false,
    now: () => Math.floor(Date.now() / 1000) + api.clockOffsetSeconds,
    create(fields) {
      const customer: ModelCustomer = { id: `cus_${(++seq).toString(36).padStart(8, '0')}`, object: 'customer', created: api.now(), email: null, name: null, balance: 0, metadata: {}, ...fields };
      api.customers.set(customer.id, customer);
      record('customer.created', customer);
      return customer;
    },
    update(id, fields) {
      const customer = live(id);
      const previous: Record<string, unknown> = {};
      for (const f of CUSTOMER_FIELDS) if (f in fields) previous[f] = customer[f];
      Object.assign(customer, fields);
      return record('customer.updated', customer, previous);
    },
    remove(id) {
      const customer = live(id);
      api.customers.delete(id);
      api.deleted.add(id);
      return record('customer.deleted', customer);
    },
    close: () => api.server.close(),
  };

  function live(id: string): ModelCustomer {
    const customer = api.customers.get(id);
    if (customer === undefined) throw new Error(`the model has no live customer ${id}`);
    return customer;
  }

  function record(type: string, customer: ModelCustomer, previous?: Record<string, unknown>): ModelEvent {
    const event: ModelEvent = {
      id: `evt_${(++seq).toString(36).padStart(12, '0')}`,
      object: 'event',
      api_version: '2026-03-25',
      created: api.now(),
      type,
      // A snapshot: later changes do not alter what the event said.
      data: { object: structuredClone(customer), ...(previous === undefined ? {} : { previous_attributes: previous }) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: `req_${seq}`, idempotency_key: null },
    };
    api.events.push(event);
    return event;
  }

  api.server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://model');
    if (api.unavailable) return sendJson(res, 503, { error: { type: 'api_error', message: 'The service is temporarily unavailable' } }, { 'retry-after': '0' });
    const auth = req.headers.authorization ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7) : auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8').replace(/:$/, '') : '';
    if (key !== secretKey) {
      return error(res, 401, 'invalid_request_error', undefined, key === '' ? 'You did not provide an API key.' : `Invalid API Key provided: ${key.slice(0, 8)}****`);
    }
    if (req.method !== 'GET') return error(res, 405, 'invalid_request_error', undefined, 'This model serves reads only');
    const one = /^\/v1\/customers\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const id = decodeURIComponent(one[1] ?? '');
      const customer = api.customers.get(id);
      if (customer) return sendJson(res, 200, customer);
      if (api.deleted.has(id)) return sendJson(res, 200, { id, object: 'customer', deleted: true });
      return error(res, 404, 'invalid_request_error', 'resource_missing', `No such customer: '${id}'`, 'id');
    }
    if (url.pathname === '/v1/customers') {
      const list = [...api.customers.values()].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
      return answerList(res, url, list, ['limit', 'starting_after', 'ending_before', 'email'], (c) => c.created);
    }
    if (url.pathname === '/v1/events') {
      const oldest = api.now() - EVENT_RETENTION_DAYS * 86_400;
      const type = url.searchParams.get('type');
      const matches = type === null ? () => true : type.endsWith('.*') ? (t: string) => t.startsWith(type.slice(0, -1)) : (t: string) => t === type;
      const list = api.events.filter((e) => e.created >= oldest && matches(e.type)).reverse();
      return answerList(res, url, list, ['limit', 'starting_after', 'ending_before', 'type'], (e) => e.created);
    }
    return error(res, 404, 'invalid_request_error', undefined, `Unrecognized request URL (GET: ${url.pathname}).`);
  });
  api.url = api.server.url;
  return api;
}

/**
 * The thin form of an event (event destinations that send "thin" events): the type, the time
 * (RFC 3339) and a reference to the object, which the receiver fetches to see its state.
 */
export function thinEvent(event: ModelEvent): object {
  const object = event.data.object;
  return {
    id: event.id.replace('evt_', 'evt_thin_'),
    object: 'v2.core.event',
    type: `v1.${event.type}`,
    created: new Date(event.created * 1000).toISOString(),
    livemode: false,
    related_object: { id: object.id, type: object.object, url: `/v1/customers/${object.id}` },
  };
}

/** A page of a list, newest first as given, after the `created` filters and the cursor. */
function answerList<T extends { id: string }>(res: ServerResponse, url: URL, all: T[], known: string[], created: (item: T) => number): void {
  const bounds: Array<[string, (a: number, b: number) => boolean]> = [
    ['created[gte]', (a, b) => a >= b],
    ['created[gt]', (a, b) => a > b],
    ['created[lte]', (a, b) => a <= b],
    ['created[lt]', (a, b) => a < b],
  ];
  for (const name of url.searchParams.keys()) {
    if (!known.includes(name) && !bounds.some(([b]) => b === name)) return error(res, 400, 'invalid_request_error', 'parameter_unknown', `Received unknown parameter: ${name}`, name);
  }
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? 10 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return error(res, 400, 'invalid_request_error', 'parameter_invalid_integer', 'Invalid limit: must be between 1 and 100', 'limit');
  let items = all;
  for (const [name, test] of bounds) {
    const text = url.searchParams.get(name);
    if (text === null) continue;
    if (!/^\d+$/.test(text)) return error(res, 400, 'invalid_request_error', 'parameter_invalid_integer', `Invalid integer: ${text}`, name);
    items = items.filter((item) => test(created(item), Number(text)));
  }
  const after = url.searchParams.get('starting_after');
  if (after !== null) {
    const at = items.findIndex((item) => item.id === after);
    if (at === -1) return error(res, 400, 'invalid_request_error', 'resource_missing', `No such object: '${after}'`, 'starting_after');
    items = items.slice(at + 1);
  }
  sendJson(res, 200, { object: 'list', url: url.pathname, has_more: items.length > limit, data: items.slice(0, limit) });
}

function error(res: ServerResponse, status: number, type: string, code: string | undefined, message: string, param?: string): void {
  sendJson(res, status, { error: { type, message, ...(code === undefined ? {} : { code }), ...(param === undefined ? {} : { param }) } });
}
