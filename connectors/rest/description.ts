import { parseInstant } from '../../src/protocol/instant.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { BOUND_FORMATS, type BoundFormat, type IncrementalRule } from '../../src/http/incremental.js';
import type { PaginationStyle, ParamsIn } from '../../src/http/paginate.js';
import { schemeProblem, type DigestEncoding, type HmacAlgorithm, type Scheme } from '../../src/listen/verify/index.js';

/**
 * The API description a `rest` config file holds, checked once: every problem is reported
 * with its JSON path (`streams[1].pagination.cursor_path: required`), then the rest of the
 * connector works with the typed `RestDescription`.
 */

export type AuthSpec =
  | { type: 'none' }
  | { type: 'api_key'; in: 'header' | 'query'; name: string; prefix?: string }
  | { type: 'bearer' }
  | { type: 'basic' }
  | { type: 'oauth2_client_credentials' | 'oauth2_refresh_token'; tokenUrl: string; scope?: string; clientAuth: 'body' | 'basic' };

export interface RestStream {
  name: string;
  description: string | undefined;
  path: string;
  method: 'GET' | 'POST';
  recordsPath: string | undefined;
  primaryKey: string[];
  replicationKey: string | undefined;
  sorted: boolean;
  startDate: string | undefined;
  incremental: IncrementalRule | undefined;
  pagination: PaginationStyle;
  params: Record<string, string | number | boolean>;
  body: JsonObject | undefined;
  schema: JsonObject | undefined;
  /** Child stream: read once per record of an earlier stream (each project's tasks). */
  parent: RestParent | undefined;
}

export interface RestParent {
  /** An earlier stream of the description. */
  stream: string;
  /** The parent's property that `{parent}` in the path (and params) stands for. */
  key: string;
  /** The property each child record gets with the parent's key: a column, and the partition of its bookmark. */
  as: string;
}

export interface RestDescription {
  baseUrl: string;
  headers: Record<string, string>;
  auth: AuthSpec;
  startDate: string | undefined;
  streams: RestStream[];
  /** The optional `webhooks` section: how a sender pushes changes to `sync listen rest`. */
  webhooks: RestWebhooks | undefined;
  /** The optional `rate_limit` section: stay under the API's documented limits. */
  rateLimit: RestRateLimit;
}

export interface RestRateLimit {
  requestsPerSecond?: number;
  maxConcurrent?: number;
  /** A header the API uses to say when its limit resets (besides Retry-After and the usual ones). */
  resetHeader?: string;
}

/** What one event name of the webhook section maps to. */
export interface RestWebhookEvent {
  /** A stream of the description. */
  stream: string;
  /** Dotted path of the changed object in the body; undefined: the whole body is the object. */
  objectPath: string | undefined;
  /** The event reports a deletion of the object. */
  deleted: boolean;
  /**
   * The stream is a child stream: its records carry the parent's key as `as`, as a batch
   * read gives them. `path` says where that key is in the body (a dotted path; for
   * `salesforce_outbound`, a field of the sObject); undefined: the object must carry `as` itself.
   */
  parentKey?: { as: string; path: string | undefined };
}

export interface RestWebhooks {
  scheme: Scheme;
  /** The setting holding the secret(s) (space-separated during a rotation). */
  secretSetting: string;
  /** Where the event name is: a dotted path in the JSON body, or a header. */
  eventFrom: { path: string } | { header: string };
  /** Event name → stream; events not listed are ignored. */
  events: ReadonlyMap<string, RestWebhookEvent>;
  /** Where the sender's delivery id is (the dedup key); undefined: the scheme's, else a digest of the body. */
  deliveryId: { header: string } | { path: string } | undefined;
  /** Dotted path in the body of the object's version (e.g. `data.updated_at`). */
  versionPath: string | undefined;
  /** Dotted path in the body of the event time, the version when `versionPath` gives none. */
  timePath: string | undefined;
  /** Handshakes to answer (GitHub's ping, Slack's url_verification, a GET check of the URL). */
  handshakes: readonly Handshake[];
  /**
   * `json` (default), or `salesforce_outbound`: Salesforce Outbound Messages (SOAP XML, each
   * notification an sObject; `events` keyed by sObject type; answered with the SOAP Ack).
   */
  format: 'json' | 'salesforce_outbound';
}

/** Settings that hold credentials: top level, so each can come from `SYNC_REST_<NAME>` instead of the file. */
export const SECRET_SETTINGS = ['api_key', 'token', 'username', 'password', 'client_id', 'client_secret', 'refresh_token'] as const;

const AUTH_SECRETS: Record<string, readonly string[]> = {
  none: [],
  api_key: ['api_key'],
  bearer: ['token'],
  basic: ['username'],
  oauth2_client_credentials: ['client_id', 'client_secret'],
  oauth2_refresh_token: ['client_id', 'refresh_token'],
};

/** Settings a webhook section may name as its `secret_setting` (declared by the connector, so each has `SYNC_REST_<NAME>`). */
export const WEBHOOK_SECRET_SETTINGS = ['webhook_secret'] as const;

const TOP_KEYS = ['base_url', 'headers', 'auth', 'start_date', 'streams', 'refresh_token_file', 'webhooks', 'rate_limit', ...SECRET_SETTINGS, ...WEBHOOK_SECRET_SETTINGS];
const WEBHOOK_KEYS = ['scheme', 'secret_setting', 'format', 'event_path', 'event_header', 'events', 'delivery_id', 'version_path', 'time_path', 'handshakes'];
/** Requests senders make that are not deliveries, answered without storing anything. */
export const HANDSHAKES = ['github_ping', 'slack_url_verification', 'get_check'] as const;
export type Handshake = (typeof HANDSHAKES)[number];
const WEBHOOK_EVENT_KEYS = ['stream', 'object_path', 'deleted', 'parent_path'];
/** The description's scheme keys (snake_case) per kind, and the Scheme field each fills. */
const SCHEME_KEYS: Record<Scheme['kind'], Readonly<Record<string, string>>> = {
  'standard-webhooks': {},
  github: {},
  stripe: {},
  shopify: {},
  slack: {},
  'hubspot-v3': { url: 'url' },
  hmac: {
    header: 'header', algorithm: 'algorithm', encoding: 'encoding', prefix: 'prefix', signed_content: 'signedContent',
    timestamp_header: 'timestampHeader', id_header: 'idHeader', url: 'url',
  },
  token: { header: 'header', query_param: 'queryParam' },
  basic: {},
};
const HMAC_ALGORITHMS: readonly HmacAlgorithm[] = ['sha1', 'sha256', 'sha512'];
const DIGEST_ENCODINGS: readonly DigestEncoding[] = ['hex', 'base64'];
const STREAM_KEYS = [
  'name', 'path', 'method', 'records_path', 'primary_key', 'replication_key', 'sorted', 'start_date',
  'incremental', 'pagination', 'params', 'body', 'schema', 'description', 'parent',
];
const INCREMENTAL_KEYS = ['param', 'format', 'in', 'lookback_minutes', 'client_filter'];
const PAGINATION_KEYS: Record<PaginationStyle['type'], readonly string[]> = {
  none: [],
  cursor: ['cursor_path', 'cursor_param'],
  link_header: [],
  next_url: ['next_url_path'],
  offset: ['offset_param', 'start_offset'],
  page: ['page_param', 'start_page'],
  keyset: ['offset_param'],
};
const PAGINATION_COMMON = ['type', 'limit_param', 'page_size', 'has_more_path', 'stop_on_short_page', 'params_in'];
const SNAKE = /^[a-z][a-z0-9_]*$/;

/** Reads the description out of a validated config; throws nothing, returns the problems instead. */
export function parseDescription(config: JsonObject): { description: RestDescription | undefined; problems: string[] } {
  const c = new Checker();
  c.unknownKeys(config, '', TOP_KEYS);
  const baseUrl = c.url(config['base_url'], 'base_url', true);
  const headers = c.stringMap(config['headers'], 'headers');
  const auth = parseAuth(c, config['auth'], config);
  const startDate = c.dateTime(config['start_date'], 'start_date');
  const streams: RestStream[] = [];
  const list = config['streams'];
  if (list === undefined) c.problem('streams', 'required');
  else if (!Array.isArray(list) || list.length === 0) c.problem('streams', 'must be a non-empty array of streams');
  else {
    const names = new Set<string>();
    list.forEach((raw, i) => {
      const s = parseStream(c, raw, `streams[${i}]`);
      if (s === undefined) return;
      if (names.has(s.name)) c.problem(`streams[${i}].name`, `duplicate stream name ${JSON.stringify(s.name)}`);
      if (s.parent !== undefined && !names.has(s.parent.stream)) {
        c.problem(`streams[${i}].parent.stream`, `must name an earlier stream (${names.size ? [...names].join(', ') : 'none before this one'}), got ${JSON.stringify(s.parent.stream)}`);
      }
      names.add(s.name);
      streams.push(s);
    });
  }
  const webhooks = config['webhooks'] === undefined ? undefined : parseWebhooks(c, config['webhooks'], 'webhooks', streams);
  const rateLimit = parseRateLimit(c, config['rate_limit']);
  if (c.problems.length > 0 || baseUrl === undefined || auth === undefined) return { description: undefined, problems: c.problems };
  return { description: { baseUrl: baseUrl.replace(/\/+$/, ''), headers, auth, startDate, streams, webhooks, rateLimit }, problems: [] };
}

function parseRateLimit(c: Checker, raw: JsonValue | undefined): RestRateLimit {
  if (raw === undefined || !c.object(raw, 'rate_limit')) return {};
  c.unknownKeys(raw, 'rate_limit', ['requests_per_second', 'max_concurrent', 'reset_header']);
  const perSecond = c.number(raw['requests_per_second'], 'rate_limit.requests_per_second', 0.001);
  const concurrent = c.number(raw['max_concurrent'], 'rate_limit.max_concurrent', 1);
  if (concurrent !== undefined && !Number.isInteger(concurrent)) c.problem('rate_limit.max_concurrent', 'must be an integer');
  const header = c.string(raw['reset_header'], 'rate_limit.reset_header', false);
  return {
    ...(perSecond === undefined ? {} : { requestsPerSecond: perSecond }),
    ...(concurrent === undefined ? {} : { maxConcurrent: concurrent }),
    ...(header === undefined ? {} : { resetHeader: header }),
  };
}

function parseAuth(c: Checker, raw: JsonValue | undefined, config: JsonObject): AuthSpec | undefined {
  if (raw === undefined) return { type: 'none' };
  if (!c.object(raw, 'auth')) return undefined;
  const type = c.oneOf(raw['type'], 'auth.type', Object.keys(AUTH_SECRETS), true);
  if (type === undefined) return undefined;
  for (const setting of AUTH_SECRETS[type] ?? []) {
    if (typeof config[setting] !== 'string' || config[setting] === '') {
      c.problem(setting, `required by auth.type "${type}" (set it in the file or in SYNC_REST_${setting.toUpperCase()})`);
    }
  }
  switch (type) {
    case 'none':
    case 'bearer':
    case 'basic':
      c.unknownKeys(raw, 'auth', ['type']);
      return { type };
    case 'api_key': {
      c.unknownKeys(raw, 'auth', ['type', 'in', 'name', 'prefix']);
      const where = c.oneOf(raw['in'], 'auth.in', ['header', 'query'], false) ?? 'header';
      const name = c.string(raw['name'], 'auth.name', true) ?? '';
      const prefix = c.string(raw['prefix'], 'auth.prefix', false);
      return { type, in: where as 'header' | 'query', name, ...(prefix === undefined ? {} : { prefix }) };
    }
    default: {
      c.unknownKeys(raw, 'auth', ['type', 'token_url', 'scope', 'client_auth']);
      const tokenUrl = c.url(raw['token_url'], 'auth.token_url', true) ?? '';
      const scope = c.string(raw['scope'], 'auth.scope', false);
      const clientAuth = (c.oneOf(raw['client_auth'], 'auth.client_auth', ['body', 'basic'], false) ?? 'body') as 'body' | 'basic';
      return { type: type as 'oauth2_client_credentials' | 'oauth2_refresh_token', tokenUrl, clientAuth, ...(scope === undefined ? {} : { scope }) };
    }
  }
}

function parseStream(c: Checker, raw: JsonValue, at: string): RestStream | undefined {
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, STREAM_KEYS);
  const name = c.string(raw['name'], `${at}.name`, true);
  if (name !== undefined && !SNAKE.test(name)) c.problem(`${at}.name`, `must be snake_case (a-z, 0-9, _), it names tables and bookmarks (got ${JSON.stringify(name)})`);
  const path = c.string(raw['path'], `${at}.path`, true);
  const description = c.string(raw['description'], `${at}.description`, false);
  const method = (c.oneOf(raw['method'], `${at}.method`, ['GET', 'POST'], false) ?? 'GET') as 'GET' | 'POST';
  const recordsPath = c.string(raw['records_path'], `${at}.records_path`, false);
  const primaryKey = c.keyList(raw['primary_key'], `${at}.primary_key`);
  const replicationKey = c.string(raw['replication_key'], `${at}.replication_key`, false);
  const sorted = c.boolean(raw['sorted'], `${at}.sorted`) ?? false;
  const startDate = c.dateTime(raw['start_date'], `${at}.start_date`);
  const params: Record<string, string | number | boolean> = {};
  if (raw['params'] !== undefined && c.object(raw['params'], `${at}.params`)) {
    for (const [k, v] of Object.entries(raw['params'])) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') params[k] = v;
      else c.problem(`${at}.params.${k}`, 'must be a string, number or boolean');
    }
  }
  const body = raw['body'] === undefined ? undefined : c.object(raw['body'], `${at}.body`) ? raw['body'] : undefined;
  const schema = raw['schema'] === undefined ? undefined : c.object(raw['schema'], `${at}.schema`) ? raw['schema'] : undefined;
  if (schema !== undefined && !isJsonObject(schema['properties'])) c.problem(`${at}.schema.properties`, 'required: a JSON Schema of one record, an object with "properties"');
  const incremental = parseIncremental(c, raw['incremental'], `${at}.incremental`, replicationKey);
  const pagination = parsePagination(c, raw['pagination'], `${at}.pagination`, replicationKey, incremental);
  const parent = parseParent(c, raw['parent'], `${at}.parent`);
  if (parent !== undefined && path !== undefined && !path.includes('{parent}') && !Object.values(params).some((v) => v === '{parent}')) {
    c.problem(`${at}.path`, 'a child stream must use {parent} in its path or in a param value');
  }
  if (name === undefined || path === undefined || primaryKey === undefined || pagination === undefined) return undefined;
  return { name, description, path, method, recordsPath, primaryKey, replicationKey, sorted, startDate, incremental, pagination, params, body, schema, parent };
}

function parseParent(c: Checker, raw: JsonValue | undefined, at: string): RestParent | undefined {
  if (raw === undefined || !c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, ['stream', 'key', 'as']);
  const stream = c.string(raw['stream'], `${at}.stream`, true);
  const key = c.string(raw['key'], `${at}.key`, true);
  const as = c.string(raw['as'], `${at}.as`, true);
  return stream === undefined || key === undefined || as === undefined ? undefined : { stream, key, as };
}

function parseIncremental(c: Checker, raw: JsonValue | undefined, at: string, replicationKey: string | undefined): IncrementalRule | undefined {
  if (raw === undefined) {
    // A replication key alone: the API cannot filter, records are filtered here.
    return replicationKey === undefined ? undefined : { format: 'iso8601' };
  }
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, INCREMENTAL_KEYS);
  if (replicationKey === undefined) c.problem(at, 'needs a replication_key on the stream');
  const param = c.string(raw['param'], `${at}.param`, false);
  const format = (c.oneOf(raw['format'], `${at}.format`, BOUND_FORMATS, false) ?? 'iso8601') as BoundFormat;
  const where = c.oneOf(raw['in'], `${at}.in`, ['query', 'body'], false) as ParamsIn | undefined;
  const lookback = c.number(raw['lookback_minutes'], `${at}.lookback_minutes`, 0);
  const clientFilter = c.boolean(raw['client_filter'], `${at}.client_filter`);
  return { param, format, in: where, lookbackMinutes: lookback, clientFilter };
}

function parsePagination(
  c: Checker,
  raw: JsonValue | undefined,
  at: string,
  replicationKey: string | undefined,
  incremental: IncrementalRule | undefined,
): PaginationStyle | undefined {
  if (raw === undefined) return { type: 'none' };
  if (!c.object(raw, at)) return undefined;
  const type = c.oneOf(raw['type'], `${at}.type`, Object.keys(PAGINATION_KEYS), true) as PaginationStyle['type'] | undefined;
  if (type === undefined) return undefined;
  c.unknownKeys(raw, at, [...PAGINATION_COMMON, ...PAGINATION_KEYS[type]]);
  const common: Record<string, unknown> = {};
  const limitParam = c.string(raw['limit_param'], `${at}.limit_param`, false);
  const pageSize = c.number(raw['page_size'], `${at}.page_size`, 1);
  if (limitParam !== undefined) common['limitParam'] = limitParam;
  if (pageSize !== undefined) common['pageSize'] = pageSize;
  const hasMore = c.string(raw['has_more_path'], `${at}.has_more_path`, false);
  if (hasMore !== undefined) common['hasMorePath'] = hasMore;
  const short = c.boolean(raw['stop_on_short_page'], `${at}.stop_on_short_page`);
  if (short !== undefined) common['stopOnShortPage'] = short;
  // Keyset paging sends the bound where the incremental rule says, unless told otherwise.
  const paramsIn = c.oneOf(raw['params_in'], `${at}.params_in`, ['query', 'body'], false) ?? (type === 'keyset' ? incremental?.in : undefined);
  if (paramsIn !== undefined) common['paramsIn'] = paramsIn;
  if (limitParam !== undefined && pageSize === undefined) c.problem(`${at}.page_size`, 'required with limit_param');
  let specific: Record<string, unknown> | undefined;
  switch (type) {
    case 'none':
    case 'link_header':
      specific = {};
      break;
    case 'cursor': {
      const cursorPath = c.string(raw['cursor_path'], `${at}.cursor_path`, true);
      const cursorParam = c.string(raw['cursor_param'], `${at}.cursor_param`, true);
      specific = cursorPath === undefined || cursorParam === undefined ? undefined : { cursorPath, cursorParam };
      break;
    }
    case 'next_url': {
      const nextUrlPath = c.string(raw['next_url_path'], `${at}.next_url_path`, true);
      specific = nextUrlPath === undefined ? undefined : { nextUrlPath };
      break;
    }
    case 'offset': {
      const offsetParam = c.string(raw['offset_param'], `${at}.offset_param`, true);
      const start = c.number(raw['start_offset'], `${at}.start_offset`, 0);
      if (pageSize === undefined) c.problem(`${at}.page_size`, 'required for offset pagination');
      specific = offsetParam === undefined ? undefined : { offsetParam, ...(start === undefined ? {} : { startOffset: start }) };
      break;
    }
    case 'keyset': {
      // Pages by the replication key through the incremental parameter.
      const offsetParam = c.string(raw['offset_param'], `${at}.offset_param`, false);
      if (pageSize === undefined) c.problem(`${at}.page_size`, 'required for keyset pagination');
      if (replicationKey === undefined) c.problem(`${at}.type`, 'keyset pagination needs a replication_key on the stream');
      if (incremental?.param === undefined) c.problem(`${at}.type`, 'keyset pagination needs incremental.param, the parameter the API filters on');
      specific =
        replicationKey === undefined || incremental?.param === undefined
          ? undefined
          : { keyPath: replicationKey, param: incremental.param, format: incremental.format, ...(offsetParam === undefined ? {} : { offsetParam }) };
      break;
    }
    case 'page': {
      const pageParam = c.string(raw['page_param'], `${at}.page_param`, true);
      const start = c.number(raw['start_page'], `${at}.start_page`, 0);
      specific = pageParam === undefined ? undefined : { pageParam, ...(start === undefined ? {} : { startPage: start }) };
      break;
    }
  }
  if (specific === undefined) return undefined;
  // Assembled from checked parts; the switch above guarantees the variant's fields.
  return { type, ...common, ...specific } as PaginationStyle;
}

function parseWebhooks(c: Checker, raw: JsonValue, at: string, streams: readonly RestStream[]): RestWebhooks | undefined {
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, WEBHOOK_KEYS);
  const scheme = parseScheme(c, raw['scheme'], `${at}.scheme`);
  const secretSetting = c.oneOf(raw['secret_setting'], `${at}.secret_setting`, WEBHOOK_SECRET_SETTINGS, false) ?? WEBHOOK_SECRET_SETTINGS[0];
  const format = (c.oneOf(raw['format'], `${at}.format`, ['json', 'salesforce_outbound'], false) ?? 'json') as RestWebhooks['format'];
  const eventPath = c.string(raw['event_path'], `${at}.event_path`, false);
  const eventHeader = c.string(raw['event_header'], `${at}.event_header`, false);
  let eventFrom: RestWebhooks['eventFrom'] | undefined;
  if (eventPath !== undefined && eventHeader !== undefined) c.problem(`${at}.event_header`, 'give event_path or event_header, not both');
  else if (eventPath !== undefined) eventFrom = { path: eventPath };
  else if (eventHeader !== undefined) eventFrom = { header: eventHeader.toLowerCase() };
  else if (format === 'salesforce_outbound') eventFrom = { path: 'sObject type' };
  else if (raw['event_path'] === undefined && raw['event_header'] === undefined) {
    c.problem(`${at}.event_path`, 'required: where the event name is, event_path (a dotted path in the body) or event_header');
  }
  const events = parseWebhookEvents(c, raw['events'], `${at}.events`, streams);
  const deliveryId = parseDeliveryId(c, raw['delivery_id'], `${at}.delivery_id`);
  const versionPath = c.string(raw['version_path'], `${at}.version_path`, false);
  const timePath = c.string(raw['time_path'], `${at}.time_path`, false);
  if (scheme === undefined || eventFrom === undefined || events === undefined) return undefined;
  let withId = scheme;
  if (deliveryId !== undefined && 'header' in deliveryId && scheme.kind === 'hmac') {
    // The generic scheme reports the id header's value as the delivery id (and may sign it).
    if (scheme.idHeader === undefined) withId = { ...scheme, idHeader: deliveryId.header };
    else if (scheme.idHeader.toLowerCase() !== deliveryId.header) {
      c.problem(`${at}.delivery_id.header`, `differs from scheme.id_header ${JSON.stringify(scheme.idHeader)}; give one header`);
    }
  }
  const handshakes: Handshake[] = [];
  const rawHandshakes = raw['handshakes'];
  if (rawHandshakes !== undefined) {
    if (!Array.isArray(rawHandshakes)) c.problem(`${at}.handshakes`, `must be a list of: ${HANDSHAKES.join(', ')}`);
    else {
      rawHandshakes.forEach((h, i) => {
        if (typeof h === 'string' && (HANDSHAKES as readonly string[]).includes(h)) handshakes.push(h as Handshake);
        else c.problem(`${at}.handshakes[${i}]`, `must be one of: ${HANDSHAKES.join(', ')}`);
      });
    }
  }
  return { scheme: withId, secretSetting, eventFrom, events, deliveryId, versionPath, timePath, handshakes, format };
}

function parseScheme(c: Checker, raw: JsonValue | undefined, at: string): Scheme | undefined {
  if (!c.object(raw, at)) return undefined;
  const kind = c.oneOf(raw['kind'], `${at}.kind`, Object.keys(SCHEME_KEYS), true) as Scheme['kind'] | undefined;
  if (kind === undefined) return undefined;
  const fields = SCHEME_KEYS[kind];
  c.unknownKeys(raw, at, ['kind', ...Object.keys(fields)]);
  const out: Record<string, string> = { kind };
  let ok = true;
  for (const [key, field] of Object.entries(fields)) {
    const path = `${at}.${key}`;
    const value =
      key === 'algorithm'
        ? c.oneOf(raw[key], path, HMAC_ALGORITHMS, true)
        : key === 'encoding'
          ? c.oneOf(raw[key], path, DIGEST_ENCODINGS, true)
          : key === 'url'
            ? c.url(raw[key], path, false)
            : c.string(raw[key], path, kind === 'hmac' && key === 'header');
    if (value !== undefined) out[field] = value;
    else if (raw[key] !== undefined || (kind === 'hmac' && (key === 'header' || key === 'algorithm' || key === 'encoding'))) ok = false;
  }
  if (!ok) return undefined;
  // Built from the kind's own fields, each checked above; the verifier's own check follows.
  const scheme = out as unknown as Scheme;
  const problem = schemeProblem(scheme);
  if (problem !== undefined) {
    c.problem(at, problem);
    return undefined;
  }
  return scheme;
}

function parseWebhookEvents(c: Checker, raw: JsonValue | undefined, at: string, streams: readonly RestStream[]): Map<string, RestWebhookEvent> | undefined {
  if (!c.object(raw, at)) return undefined;
  const names = streams.map((s) => s.name);
  const out = new Map<string, RestWebhookEvent>();
  if (Object.keys(raw).length === 0) c.problem(at, 'must name at least one event: {"<event>": {"stream": "<stream>", "object_path": "data"}}');
  for (const [event, spec] of Object.entries(raw)) {
    const path = `${at}.${event}`;
    if (!c.object(spec, path)) continue;
    c.unknownKeys(spec, path, WEBHOOK_EVENT_KEYS);
    const stream = c.string(spec['stream'], `${path}.stream`, true);
    // Only checked against streams that parsed; a broken stream has its own problem already.
    if (stream !== undefined && names.length > 0 && !names.includes(stream)) {
      c.problem(`${path}.stream`, `no such stream ${JSON.stringify(stream)} (streams: ${names.join(', ')})`);
    }
    const objectPath = c.string(spec['object_path'], `${path}.object_path`, false);
    const deleted = c.boolean(spec['deleted'], `${path}.deleted`) ?? false;
    const parentPath = c.string(spec['parent_path'], `${path}.parent_path`, false);
    const parent = streams.find((s) => s.name === stream)?.parent;
    if (parentPath !== undefined && parent === undefined && stream !== undefined && names.includes(stream)) {
      c.problem(`${path}.parent_path`, `stream ${JSON.stringify(stream)} has no parent; parent_path is for child streams`);
    }
    const parentKey = parent === undefined ? undefined : { as: parent.as, path: parentPath };
    if (stream !== undefined) out.set(event, { stream, objectPath, deleted, ...(parentKey === undefined ? {} : { parentKey }) });
  }
  return out;
}

function parseDeliveryId(c: Checker, raw: JsonValue | undefined, at: string): RestWebhooks['deliveryId'] {
  if (raw === undefined || !c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, ['header', 'path']);
  const header = c.string(raw['header'], `${at}.header`, false);
  const path = c.string(raw['path'], `${at}.path`, false);
  if (header !== undefined && path !== undefined) c.problem(at, 'give header or path, not both');
  else if (header !== undefined) return { header: header.toLowerCase() };
  else if (path !== undefined) return { path };
  else if (raw['header'] === undefined && raw['path'] === undefined) c.problem(at, 'needs header (a request header) or path (a dotted path in the body)');
  return undefined;
}

/** Collects problems as `path: message`. */
class Checker {
  readonly problems: string[] = [];

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(value: JsonValue | undefined, path: string): value is JsonObject {
    if (isJsonObject(value)) return true;
    this.problem(path, value === undefined ? 'required' : 'must be an object');
    return false;
  }

  unknownKeys(value: JsonObject, path: string, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.problem(path === '' ? key : `${path}.${key}`, `unknown key (known: ${known.join(', ')})`);
    }
  }

  string(value: JsonValue | undefined, path: string, required: boolean): string | undefined {
    if (value === undefined) {
      if (required) this.problem(path, 'required');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.problem(path, 'must be a non-empty string');
      return undefined;
    }
    return value;
  }

  url(value: JsonValue | undefined, path: string, required: boolean): string | undefined {
    const text = this.string(value, path, required);
    if (text === undefined) return undefined;
    if (!/^https?:\/\/[^/]/i.test(text)) {
      this.problem(path, `must be an http(s) URL (got ${JSON.stringify(text)})`);
      return undefined;
    }
    return text;
  }

  dateTime(value: JsonValue | undefined, path: string): string | undefined {
    const text = this.string(value, path, false);
    if (text !== undefined && parseInstant(text) === undefined) {
      this.problem(path, `must be an ISO 8601 date-time such as 2024-01-31T00:00:00Z (got ${JSON.stringify(text)})`);
      return undefined;
    }
    return text;
  }

  oneOf(value: JsonValue | undefined, path: string, options: readonly string[], required: boolean): string | undefined {
    if (value === undefined) {
      if (required) this.problem(path, `required, one of ${options.join(', ')}`);
      return undefined;
    }
    if (typeof value !== 'string' || !options.includes(value)) {
      this.problem(path, `must be one of ${options.join(', ')} (got ${JSON.stringify(value)})`);
      return undefined;
    }
    return value;
  }

  boolean(value: JsonValue | undefined, path: string): boolean | undefined {
    if (value === undefined || typeof value === 'boolean') return value;
    this.problem(path, 'must be true or false');
    return undefined;
  }

  number(value: JsonValue | undefined, path: string, minimum: number): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
      this.problem(path, `must be a number >= ${minimum}`);
      return undefined;
    }
    return value;
  }

  stringMap(value: JsonValue | undefined, path: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (value === undefined || !this.object(value, path)) return out;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') out[k] = v;
      else this.problem(`${path}.${k}`, 'must be a string');
    }
    return out;
  }

  keyList(value: JsonValue | undefined, path: string): string[] | undefined {
    if (value === undefined) return [];
    if (typeof value === 'string' && value !== '') return [value];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
    this.problem(path, 'must be a property name or a list of them');
    return undefined;
  }
}
