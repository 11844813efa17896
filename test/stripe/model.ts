import type { ServerResponse } from 'node:http';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * Stripe's API as its reference documents it, for the objects the connector reads:
 *
 * - Secret key as a bearer token (or as the Basic user name); a wrong key is 401 with an
 *   `error` object. Unknown parameters, and `limit` outside 1..100, are 400. More than
 *   `ratePerSecond` requests within a second are 429 (`rate_limit`).
 * - Lists (`GET /v1/<objects>`) answer `{object: "list", url, has_more, data}`, newest created
 *   first, paged with `limit` (default 10) and `starting_after=<id of the last object>`;
 *   deleted objects are not listed, and subscriptions list canceled ones only with
 *   `status=all` (or `canceled`). `created[gte|gt|lte|lt]` filter on creation time only.
 * - `GET /v1/<objects>/<id>` gives the object; a deleted customer, product or price answers
 *   `{id, object, deleted: true}`; an id never seen is 404 `resource_missing`.
 * - `GET /v1/events`: every change is an event `{id, object: "event", type, created, data:
 *   {object, previous_attributes}}`, newest first, filtered by `type` (a `*` wildcard after a
 *   dot: `customer.*`, which also matches `customer.subscription.updated`) and `created[...]`,
 *   paged like any list; events older than 30 days are gone from the feed.
 * - Times are epoch seconds of the model's clock.
 */

export type Kind = 'customer' | 'product' | 'price' | 'subscription' | 'invoice' | 'charge';

const PATHS: Record<Kind, string> = {
  customer: 'customers',
  product: 'products',
  price: 'prices',
  subscription: 'subscriptions',
  invoice: 'invoices',
  charge: 'charges',
};
const PREFIXES: Record<Kind, string> = { customer: 'cus', product: 'prod', price: 'price', subscription: 'sub', invoice: 'in', charge: 'ch' };
/** The event type prefix of each kind (subscriptions are the customer's). */
const EVENT_PREFIX: Record<Kind, string> = {
  customer: 'customer',
  product: 'product',
  price: 'price',
  subscription: 'customer.subscription',
  invoice: 'invoice',
  charge: 'charge',
};
/** Fields every new object of a kind has, as the API returns them. */
const DEFAULTS: Record<Kind, Record<string, unknown>> = {
  customer: { email: null, name: null, balance: 0, currency: null, delinquent: false, description: null, phone: null, metadata: {} },
  product: { active: true, name: 'Product', description: null, images: [], metadata: {}, type: 'service' },
  price: { active: true, currency: 'usd', unit_amount: 1000, product: null, recurring: null, type: 'one_time', metadata: {} },
  subscription: { status: 'active', customer: null, cancel_at_period_end: false, canceled_at: null, items: { object: 'list', data: [] }, metadata: {} },
  invoice: { status: 'draft', customer: null, amount_due: 0, amount_paid: 0, total: 0, currency: 'usd', metadata: {} },
  charge: { status: 'succeeded', amount: 1000, amount_refunded: 0, currency: 'usd', customer: null, paid: true, refunded: false, metadata: {} },
};

export type StripeObject = Record<string, unknown> & { id: string; object: Kind; created: number };

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  type: string;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: null };
}

export const EVENT_RETENTION_DAYS = 30;

export interface StripeModel {
  server: TestServer;
  url: string;
  objects: Map<string, StripeObject>;
  deleted: Set<string>;
  events: StripeEvent[];
  /** Added to the real clock for every time the model writes. */
  clockOffsetSeconds: number;
  /** While true every request is answered 503 (with `Retry-After: 0`). */
  unavailable: boolean;
  /** Requests per second before 429 (default: unlimited). */
  ratePerSecond: number;
  /** Requests answered 429. */
  throttled: number;
  now(): number;
  create(kind: Kind, fields?: Record<string, unknown>): StripeObject;
  /** Changes an object; the event type defaults to `<prefix>.updated`. */
  update(id: string, fields: Record<string, unknown>, type?: string): StripeEvent;
  /** Deletes a customer, product, price or draft invoice (a deletion event), or cancels a subscription. */
  remove(id: string): StripeEvent;
  /** An event for an object of another kind than the stream's wildcard suggests (a discount, a source). */
  record(type: string, object: StripeObject, previous?: Record<string, unknown>): StripeEvent;
  close(): Promise<void>;
}

export async function startStripe(secretKey: string): Promise<StripeModel> {
  let seq = 0;
  let windowStart = 0;
  let windowCount = 0;
  const model: StripeModel = {
    server: undefined as unknown as TestServer,
    url: '',
    objects: new Map(),
    deleted: new Set(),
    events: [],
    clockOffsetSeconds: 0,
    unavailable: false,
    ratePerSecond: Number.POSITIVE_INFINITY,
    throttled: 0,
    now: () => Math.floor(Date.now() / 1000) + model.clockOffsetSeconds,
    create(kind, fields = {}) {
      const object = { id: `${PREFIXES[kind]}_${(++seq).toString(36).padStart(8, '0')}`, object: kind, created: model.now(), livemode: false, ...DEFAULTS[kind], ...fields } as StripeObject;
      model.objects.set(object.id, object);
      // Charges have no created event: a new charge is succeeded, pending or failed.
      model.record(kind === 'charge' ? `charge.${String(object['status'])}` : `${EVENT_PREFIX[kind]}.created`, object);
      return object;
    },
    update(id, fields, type) {
      const object = live(id);
      const previous: Record<string, unknown> = {};
      for (const key of Object.keys(fields)) previous[key] = object[key];
      Object.assign(object, fields);
      if (object.object === 'product') object['updated'] = model.now();
      return model.record(type ?? `${EVENT_PREFIX[object.object]}.updated`, object, previous);
    },
    remove(id) {
      const object = live(id);
      if (object.object === 'subscription') return model.update(id, { status: 'canceled', canceled_at: model.now() }, 'customer.subscription.deleted');
      model.objects.delete(id);
      model.deleted.add(id);
      return model.record(`${EVENT_PREFIX[object.object]}.deleted`, object);
    },
    record(type, object, previous) {
      const event: StripeEvent = {
        id: `evt_${(++seq).toString(36).padStart(12, '0')}`,
        object: 'event',
        api_version: '2026-03-25',
        created: model.now(),
        type,
        // A snapshot: later changes do not alter what the event said.
        data: { object: structuredClone(object), ...(previous === undefined ? {} : { previous_attributes: previous }) },
        livemode: false,
        pending_webhooks: 1,
        request: { id: `req_${seq}`, idempotency_key: null },
      };
      model.events.push(event);
      return event;
    },
    close: () => model.server.close(),
  };

  function live(id: string): StripeObject {
    const object = model.objects.get(id);
    if (object === undefined) throw new Error(`the model has no live object ${id}`);
    return object;
  }

  model.server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://model');
    if (model.unavailable) return sendJson(res, 503, { error: { type: 'api_error', message: 'The service is temporarily unavailable' } }, { 'retry-after': '0' });
    const second = Math.floor(Date.now() / 1000);
    if (second !== windowStart) {
      windowStart = second;
      windowCount = 0;
    }
    if (++windowCount > model.ratePerSecond) {
      model.throttled++;
      return error(res, 429, 'invalid_request_error', 'rate_limit', 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.');
    }
    const auth = req.headers.authorization ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7) : auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8').replace(/:$/, '') : '';
    if (key !== secretKey) {
      return error(res, 401, 'invalid_request_error', undefined, key === '' ? 'You did not provide an API key.' : `Invalid API Key provided: ${key.slice(0, 8)}****`);
    }
    if (req.method !== 'GET') return error(res, 405, 'invalid_request_error', undefined, 'This model serves reads only');
    const [, version, collection, id, extra] = url.pathname.split('/');
    const kind = (Object.keys(PATHS) as Kind[]).find((k) => PATHS[k] === collection);
    if (version === 'v1' && kind !== undefined && id !== undefined && extra === undefined) {
      const object = model.objects.get(decodeURIComponent(id));
      if (object?.object === kind) return sendJson(res, 200, object);
      if (model.deleted.has(id)) return sendJson(res, 200, { id, object: kind, deleted: true });
      return error(res, 404, 'invalid_request_error', 'resource_missing', `No such ${kind}: '${id}'`, 'id');
    }
    if (version === 'v1' && kind !== undefined && id === undefined) {
      const status = url.searchParams.get('status');
      const list = [...model.objects.values()]
        .filter((o) => o.object === kind)
        .filter((o) => kind !== 'subscription' || status === 'all' || (status === null ? o['status'] !== 'canceled' : o['status'] === status))
        .sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
      return answerList(res, url, list, ['limit', 'starting_after', 'ending_before', ...(kind === 'subscription' ? ['status'] : [])], (o) => o.created);
    }
    if (url.pathname === '/v1/events') {
      const oldest = model.now() - EVENT_RETENTION_DAYS * 86_400;
      const type = url.searchParams.get('type');
      const matches = type === null ? () => true : type.endsWith('.*') ? (t: string) => t.startsWith(type.slice(0, -1)) : (t: string) => t === type;
      const list = model.events.filter((e) => e.created >= oldest && matches(e.type)).reverse();
      return answerList(res, url, list, ['limit', 'starting_after', 'ending_before', 'type'], (e) => e.created);
    }
    return error(res, 404, 'invalid_request_error', undefined, `Unrecognized request URL (GET: ${url.pathname}).`);
  });
  model.url = model.server.url;
  return model;
}

/**
 * The thin form of an event (event destinations that send "thin" events): the type, the time
 * (RFC 3339) and a reference to the object, which the receiver fetches to see its state.
 */
export function thinEvent(event: StripeEvent): object {
  const object = event.data.object;
  return {
    id: event.id.replace('evt_', 'evt_thin_'),
    object: 'v2.core.event',
    type: `v1.${event.type}`,
    created: new Date(event.created * 1000).toISOString(),
    livemode: false,
    related_object: { id: object.id, type: object.object, url: `/v1/${PATHS[object.object]}/${object.id}` },
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
