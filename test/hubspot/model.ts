import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * HubSpot's CRM API as its developer documentation describes it, for the objects the connector
 * reads:
 *
 * - A private app's access token as `Authorization: Bearer pat-…`; a missing or wrong token is
 *   401 `{status: "error", message, correlationId, category: "INVALID_AUTHENTICATION"}`.
 * - Objects (`contacts`, `companies`, `deals`, `tickets`) are `{id, properties, createdAt,
 *   updatedAt, archived}` (and `archivedAt` once archived); every property value is text or
 *   null. Without `properties` a read returns the type's default properties; with it, those
 *   asked for (unknown names are left out) plus `hs_object_id`, `createdate` and the
 *   last-modified property. `updatedAt` is the last-modified property's time.
 * - `GET /crm/v3/objects/{type}`: `limit` (default 10, at most 100), `after` (the cursor of
 *   `paging.next.after`), `properties`, `archived` (archived objects only when true).
 * - `GET /crm/v3/objects/{type}/{id}`: the object; 404 `OBJECT_NOT_FOUND` when it does not
 *   exist or is archived (unless `archived=true`).
 * - `POST /crm/v3/objects/{type}/search`: `filterGroups` (OR of groups, AND of filters;
 *   `EQ`, `NEQ`, `GT`, `GTE`, `LT`, `LTE` on a property, date-times compared as milliseconds
 *   since the epoch), one `sorts` entry `{propertyName, direction}`, `properties`, `limit`
 *   (default 10, at most 200) and `after` (an offset). Values and `after` are documented as
 *   text; numbers are read as their text, as HubSpot's JSON binding does. Archived objects are
 *   never found. A query pages through 10,000 results at most: an `after` beyond is 400.
 *   Search answers `{total, results, paging}` and is limited to `searchPerSecond` requests a
 *   second per account, besides the app's overall limit.
 * - `GET /crm/v3/owners`: `{id, email, firstName, lastName, userId, createdAt, updatedAt,
 *   archived, teams}`, `limit` at most 500, `after`, `archived`.
 * - More than `perInterval` requests within `intervalMs` (HubSpot: 100 per 10 s for a private
 *   app) is 429 `RATE_LIMIT` with policy `TEN_SECONDLY_ROLLING` and the X-HubSpot-RateLimit
 *   headers; search's own limit is policy `SECONDLY`, without those headers.
 * - Webhook events (app webhooks, sent in batches): each change records the events HubSpot
 *   would send, `{eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType,
 *   attemptNumber, objectId, changeSource}`, one `propertyChange` per changed property with its
 *   `propertyName` and `propertyValue`.
 */

export type ObjectType = 'contacts' | 'companies' | 'deals' | 'tickets';

/** The event name's object part (`contact.creation`). */
const SINGULAR: Record<ObjectType, string> = { contacts: 'contact', companies: 'company', deals: 'deal', tickets: 'ticket' };
const LAST_MODIFIED: Record<ObjectType, string> = { contacts: 'lastmodifieddate', companies: 'hs_lastmodifieddate', deals: 'hs_lastmodifieddate', tickets: 'hs_lastmodifieddate' };
const DEFAULT_PROPERTIES: Record<ObjectType, string[]> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  deals: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
  tickets: ['content', 'createdate', 'hs_lastmodifieddate', 'hs_object_id', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_category', 'hs_ticket_priority', 'subject'],
};
export const SEARCH_RESULT_CAP = 10_000;
const PORTAL_ID = 62515;
const APP_ID = 1160452;

export interface CrmObject {
  id: string;
  type: ObjectType;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface Owner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  teams: Array<{ id: string; name: string; primary: boolean }>;
}

export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  propertyName?: string;
  propertyValue?: string;
}

export interface HubspotModel {
  server: TestServer;
  url: string;
  objects: Map<string, CrmObject>;
  owners: Owner[];
  /** The events HubSpot would have sent for every change so far. */
  events: WebhookEvent[];
  /** Added to the real clock (ms) for every time the model writes. */
  clockOffsetMs: number;
  /** The app's overall limit: requests per `intervalMs` (default: unlimited). */
  perInterval: number;
  intervalMs: number;
  /** Search requests a second per account (default: unlimited). */
  searchPerSecond: number;
  /** Requests answered 429. */
  throttled: number;
  /** Search requests refused for paging beyond the 10,000 results cap. */
  beyondCap: number;
  /** The bodies of search requests, parsed. */
  searches: Array<{ type: ObjectType; body: SearchBody }>;
  now(): number;
  create(type: ObjectType, properties?: Record<string, string | null>): CrmObject;
  update(id: string, properties: Record<string, string | null>): CrmObject;
  archive(id: string): CrmObject;
  addOwner(fields: Partial<Owner> & { email: string }): Owner;
  /** Whether the account has a property of that name (a custom one: once any object was given a value). */
  hasProperty(type: ObjectType, name: string): boolean;
  close(): Promise<void>;
}

export interface SearchBody {
  filterGroups?: Array<{ filters?: Filter[] }>;
  sorts?: Array<{ propertyName?: string; direction?: string }>;
  properties?: string[];
  limit?: number;
  after?: string | number;
}

interface Filter {
  propertyName?: string;
  operator?: string;
  value?: string | number;
}

export async function startHubspot(token: string): Promise<HubspotModel> {
  let seq = 0;
  let eventSeq = 0;
  let lastWrite = 0;
  const recent: number[] = [];
  const searchTimes: number[] = [];
  const custom = new Map<ObjectType, Set<string>>();
  const remember = (type: ObjectType, names: string[]): void => {
    const set = custom.get(type) ?? new Set<string>();
    for (const name of names) set.add(name);
    custom.set(type, set);
  };
  const model: HubspotModel = {
    server: undefined as unknown as TestServer,
    url: '',
    objects: new Map(),
    owners: [],
    events: [],
    clockOffsetMs: 0,
    perInterval: Number.POSITIVE_INFINITY,
    intervalMs: 10_000,
    searchPerSecond: Number.POSITIVE_INFINITY,
    throttled: 0,
    beyondCap: 0,
    searches: [],
    now: () => Date.now() + model.clockOffsetMs,
    create(type, properties = {}) {
      const at = writeTime();
      const id = String(1000 + ++seq);
      const time = new Date(at).toISOString();
      const object: CrmObject = {
        id, type, createdAt: time, updatedAt: time, archived: false,
        properties: { ...properties, createdate: time, hs_object_id: id, [LAST_MODIFIED[type]]: time },
      };
      model.objects.set(id, object);
      remember(type, Object.keys(object.properties));
      event(object, 'creation', at);
      return object;
    },
    update(id, properties) {
      const object = live(id);
      const at = writeTime();
      const time = new Date(at).toISOString();
      Object.assign(object.properties, properties, { [LAST_MODIFIED[object.type]]: time });
      object.updatedAt = time;
      remember(object.type, Object.keys(properties));
      for (const [name, value] of Object.entries(properties)) event(object, 'propertyChange', at, { propertyName: name, propertyValue: value ?? '' });
      return object;
    },
    archive(id) {
      const object = live(id);
      const at = writeTime();
      object.archived = true;
      object.archivedAt = new Date(at).toISOString();
      event(object, 'deletion', at);
      return object;
    },
    addOwner(fields) {
      const time = new Date(writeTime()).toISOString();
      const owner: Owner = { id: String(500 + ++seq), firstName: '', lastName: '', userId: 9000 + seq, createdAt: time, updatedAt: time, archived: false, teams: [], ...fields };
      model.owners.push(owner);
      return owner;
    },
    hasProperty: (type, name) => DEFAULT_PROPERTIES[type].includes(name) || (custom.get(type)?.has(name) ?? false),
    close: () => model.server.close(),
  };

  /** Times never go backwards; many writes may share a millisecond, as in HubSpot. */
  function writeTime(): number {
    lastWrite = Math.max(lastWrite, model.now());
    return lastWrite;
  }

  function event(object: CrmObject, kind: string, at: number, extra: Partial<WebhookEvent> = {}): void {
    model.events.push({
      eventId: 100 + ++eventSeq, subscriptionId: 2400 + Object.keys(SINGULAR).indexOf(object.type), portalId: PORTAL_ID, appId: APP_ID,
      occurredAt: at, subscriptionType: `${SINGULAR[object.type]}.${kind}`, attemptNumber: 0, objectId: Number(object.id), changeSource: 'CRM', ...extra,
    });
  }

  function live(id: string): CrmObject {
    const object = model.objects.get(id);
    if (object === undefined || object.archived) throw new Error(`the model has no live object ${id}`);
    return object;
  }

  model.server = await startServer((req, res, seen) => {
    const url = new URL(req.url ?? '/', 'http://model');
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${token}`) {
      return hubspotError(res, 401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview');
    }
    const search = /^\/crm\/v3\/objects\/([a-z_]+)\/search$/.exec(url.pathname);
    if (throttled(req, res, search !== null)) return;
    const parts = url.pathname.split('/');
    if (url.pathname === '/crm/v3/owners' || url.pathname === '/crm/v3/owners/') return listOwners(res, url);
    const type = objectType(search?.[1] ?? parts[4]);
    if (parts[1] !== 'crm' || parts[2] !== 'v3' || parts[3] !== 'objects' || type === undefined) {
      return hubspotError(res, 404, 'OBJECT_NOT_FOUND', `Unable to infer object type from: ${parts[4] ?? ''}`);
    }
    if (search !== null && req.method === 'POST') return searchObjects(res, type, seen.body);
    if (req.method !== 'GET') return hubspotError(res, 405, 'VALIDATION_ERROR', 'This model serves reads only');
    if (parts.length === 5) return listObjects(res, url, type);
    if (parts.length === 6) {
      const object = model.objects.get(decodeURIComponent(parts[5] ?? ''));
      const archived = url.searchParams.get('archived') === 'true';
      if (object?.type !== type || object.archived !== archived) return hubspotError(res, 404, 'OBJECT_NOT_FOUND', 'resource not found');
      return sendJson(res, 200, view(object, propertiesParam(url)));
    }
    return hubspotError(res, 404, 'OBJECT_NOT_FOUND', 'resource not found');
  });
  model.url = model.server.url;
  return model;

  function throttled(_req: IncomingMessage, res: ServerResponse, isSearch: boolean): boolean {
    const now = Date.now();
    while (recent.length > 0 && (recent[0] as number) <= now - model.intervalMs) recent.shift();
    while (searchTimes.length > 0 && (searchTimes[0] as number) <= now - 1000) searchTimes.shift();
    if (isSearch && searchTimes.length >= model.searchPerSecond) {
      model.throttled++;
      sendJson(res, 429, { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', correlationId: correlationId(), policyName: 'SECONDLY' });
      return true;
    }
    const headers = {
      'x-hubspot-ratelimit-max': String(model.perInterval),
      'x-hubspot-ratelimit-interval-milliseconds': String(model.intervalMs),
      'x-hubspot-ratelimit-remaining': String(Math.max(0, model.perInterval - recent.length - 1)),
    };
    if (recent.length >= model.perInterval) {
      model.throttled++;
      sendJson(res, 429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: correlationId(), policyName: 'TEN_SECONDLY_ROLLING' }, { ...headers, 'x-hubspot-ratelimit-remaining': '0' });
      return true;
    }
    recent.push(now);
    if (isSearch) searchTimes.push(now);
    return false;
  }

  function listObjects(res: ServerResponse, url: URL, type: ObjectType): void {
    const limit = intParam(url, 'limit', 10);
    if (limit === undefined || limit < 1 || limit > 100) return hubspotError(res, 400, 'VALIDATION_ERROR', 'limit must be between 1 and 100');
    const archived = url.searchParams.get('archived') === 'true';
    const all = [...model.objects.values()].filter((o) => o.type === type && o.archived === archived).sort((a, b) => Number(a.id) - Number(b.id));
    const after = url.searchParams.get('after');
    const from = after === null ? 0 : all.findIndex((o) => Number(o.id) >= Number(after));
    const page = from === -1 ? [] : all.slice(from, from + limit);
    const next = from === -1 ? undefined : all[from + limit];
    sendJson(res, 200, {
      results: page.map((o) => view(o, propertiesParam(url))),
      ...(next === undefined ? {} : { paging: { next: { after: next.id, link: `${model.url}${url.pathname}?after=${next.id}` } } }),
    });
  }

  function listOwners(res: ServerResponse, url: URL): void {
    const limit = intParam(url, 'limit', 100);
    if (limit === undefined || limit < 1 || limit > 500) return hubspotError(res, 400, 'VALIDATION_ERROR', 'limit must be between 1 and 500');
    const archived = url.searchParams.get('archived') === 'true';
    const all = model.owners.filter((o) => o.archived === archived);
    const from = Number(url.searchParams.get('after') ?? '0');
    const next = from + limit < all.length ? String(from + limit) : undefined;
    sendJson(res, 200, { results: all.slice(from, from + limit), ...(next === undefined ? {} : { paging: { next: { after: next } } }) });
  }

  function searchObjects(res: ServerResponse, type: ObjectType, text: string): void {
    let body: SearchBody;
    try {
      body = JSON.parse(text) as SearchBody;
    } catch {
      return hubspotError(res, 400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1');
    }
    model.searches.push({ type, body });
    const limit = body.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) return hubspotError(res, 400, 'VALIDATION_ERROR', 'limit must be between 1 and 200');
    const after = Number(body.after ?? 0);
    if (!Number.isInteger(after) || after < 0) return hubspotError(res, 400, 'VALIDATION_ERROR', `after is not a valid offset: ${String(body.after)}`);
    if (after + limit > SEARCH_RESULT_CAP) {
      model.beyondCap++;
      return hubspotError(res, 400, 'VALIDATION_ERROR', `There was a problem with the request. Search results are limited to ${SEARCH_RESULT_CAP} per query.`);
    }
    const groups = body.filterGroups ?? [];
    for (const filter of groups.flatMap((g) => g.filters ?? [])) {
      if (filter.propertyName === undefined || !model.hasProperty(type, filter.propertyName)) {
        return hubspotError(res, 400, 'VALIDATION_ERROR', `There was a problem with the request. Property "${String(filter.propertyName)}" does not exist`);
      }
      if (!['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE'].includes(filter.operator ?? '')) return hubspotError(res, 400, 'VALIDATION_ERROR', `Unsupported operator ${String(filter.operator)}`);
      if (filter.value === undefined) return hubspotError(res, 400, 'VALIDATION_ERROR', `The filter on ${filter.propertyName} needs a value`);
    }
    const sort = body.sorts?.[0];
    if ((body.sorts?.length ?? 0) > 1) return hubspotError(res, 400, 'VALIDATION_ERROR', 'Only one sort is allowed');
    const matching = [...model.objects.values()]
      .filter((o) => o.type === type && !o.archived)
      .filter((o) => groups.length === 0 || groups.some((g) => (g.filters ?? []).every((f) => matches(o, f))))
      .sort((a, b) => {
        if (sort?.propertyName === undefined) return Number(a.id) - Number(b.id);
        const order = compare(a.properties[sort.propertyName] ?? null, b.properties[sort.propertyName] ?? null);
        return (sort.direction === 'DESCENDING' ? -order : order) || Number(a.id) - Number(b.id);
      });
    const page = matching.slice(after, after + limit);
    const more = after + limit < matching.length;
    sendJson(res, 200, {
      total: matching.length,
      results: page.map((o) => view(o, body.properties)),
      ...(more ? { paging: { next: { after: String(after + limit) } } } : {}),
    });
  }

  function view(object: CrmObject, wanted: string[] | undefined): object {
    const names = wanted === undefined || wanted.length === 0 ? DEFAULT_PROPERTIES[object.type] : [...new Set([...wanted, 'hs_object_id', 'createdate', LAST_MODIFIED[object.type]])];
    const properties: Record<string, string | null> = {};
    for (const name of names) if (model.hasProperty(object.type, name)) properties[name] = object.properties[name] ?? null;
    return { id: object.id, properties, createdAt: object.createdAt, updatedAt: object.updatedAt, archived: object.archived, ...(object.archivedAt === undefined ? {} : { archivedAt: object.archivedAt }) };
  }
}

function objectType(name: string | undefined): ObjectType | undefined {
  return name === 'contacts' || name === 'companies' || name === 'deals' || name === 'tickets' ? name : undefined;
}

function propertiesParam(url: URL): string[] | undefined {
  const values = url.searchParams.getAll('properties').flatMap((v) => v.split(',')).filter((v) => v !== '');
  return values.length === 0 ? undefined : values;
}

function intParam(url: URL, name: string, fallback: number): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Date-time properties compare as epoch milliseconds; a filter value may be those or the ISO text. */
function comparable(value: string | number | null): number | string | null {
  if (value === null) return null;
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(ms) ? ms : value;
}

function compare(a: string | number | null, b: string | number | null): number {
  const x = comparable(a);
  const y = comparable(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
}

function matches(object: CrmObject, filter: Filter): boolean {
  const value = object.properties[filter.propertyName ?? ''] ?? null;
  if (value === null) return filter.operator === 'NEQ';
  const order = compare(value, filter.value ?? null);
  switch (filter.operator) {
    case 'EQ': return order === 0;
    case 'NEQ': return order !== 0;
    case 'GT': return order > 0;
    case 'GTE': return order >= 0;
    case 'LT': return order < 0;
    case 'LTE': return order <= 0;
    default: return false;
  }
}

let correlation = 0;
function correlationId(): string {
  return `5b0c2e4a-1c7d-4f1e-9d2a-${String(++correlation).padStart(12, '0')}`;
}

function hubspotError(res: ServerResponse, status: number, category: string, message: string): void {
  sendJson(res, status, { status: 'error', message, correlationId: correlationId(), category });
}
