import { schemeProblem, type DigestEncoding, type HmacAlgorithm, type Scheme } from '../../../src/listen/verify/index.js';
import { isJsonObject, type JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import {
  HANDSHAKES,
  WEBHOOK_FORMATS,
  WEBHOOK_SECRET_SETTINGS,
  WHOLE_BODY_BATCH,
  type Handshake,
  type RestFieldPath,
  type RestStream,
  type RestWebhookEvent,
  type RestWebhooks,
  type WebhookFormat,
} from './types.js';

/** `webhooks`: how a sender's deliveries are verified and mapped into the streams. */

const WEBHOOK_KEYS = ['scheme', 'secret_setting', 'format', 'event_path', 'event_header', 'action_path', 'batch_path', 'events', 'delivery_id', 'version_path', 'time_path', 'handshakes'];
const WEBHOOK_EVENT_KEYS = ['stream', 'object_path', 'deleted', 'parent_path', 'fields', 'required', 'fetch'];
/** Property names that would reach a record's prototype rather than a column. */
const UNUSABLE_PROPERTIES = ['__proto__'];
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

export function parseWebhooks(c: Checker, raw: JsonValue, at: string, streams: readonly RestStream[], broken: ReadonlySet<string> = new Set()): RestWebhooks | undefined {
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, WEBHOOK_KEYS);
  const scheme = parseScheme(c, raw['scheme'], `${at}.scheme`);
  const secretSetting = c.oneOf(raw['secret_setting'], `${at}.secret_setting`, WEBHOOK_SECRET_SETTINGS, false) ?? WEBHOOK_SECRET_SETTINGS[0];
  const format = (c.oneOf(raw['format'], `${at}.format`, WEBHOOK_FORMATS, false) ?? 'json') as WebhookFormat;
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
  const actionPath = parseActionPath(c, raw['action_path'], `${at}.action_path`, format);
  const batch = parseBatchPath(c, raw['batch_path'], `${at}.batch_path`, format);
  const events = parseWebhookEvents(c, raw['events'], `${at}.events`, streams, format, broken);
  const deliveryId = parseDeliveryId(c, raw['delivery_id'], `${at}.delivery_id`);
  if (deliveryId !== undefined && 'path' in deliveryId && format === 'form') {
    c.problem(`${at}.delivery_id.path`, 'the listener reads a delivery id from a JSON body only; for a form body give a header, or leave delivery_id out (the body itself then identifies a delivery)');
  }
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
  return { scheme: withId, secretSetting, eventFrom, actionPath, batch, events, deliveryId, versionPath, timePath, handshakes, format };
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

/** `<event>.<action>`: an action that refines the event name, read in each event. */
function parseActionPath(c: Checker, raw: JsonValue | undefined, at: string, format: WebhookFormat): string | undefined {
  const path = c.string(raw, at, false);
  if (path !== undefined && format === 'salesforce_outbound') {
    c.problem(at, 'not for salesforce_outbound: its events are named by the sObject type');
    return undefined;
  }
  return path;
}

/** Where the list of events is: `.` for the body itself, else a dotted path. */
function parseBatchPath(c: Checker, raw: JsonValue | undefined, at: string, format: WebhookFormat): RestWebhooks['batch'] {
  const path = c.string(raw, at, false);
  if (path === undefined) return undefined;
  if (format === 'salesforce_outbound') {
    c.problem(at, 'not for salesforce_outbound: each of its notifications is already an event');
    return undefined;
  }
  if (path === WHOLE_BODY_BATCH) {
    if (format === 'form') {
      c.problem(at, 'a form body is named fields, never a list itself: give the name of the field holding the list (events for events[][type]=...)');
      return undefined;
    }
    return { path: undefined };
  }
  return { path };
}

function parseWebhookEvents(c: Checker, raw: JsonValue | undefined, at: string, streams: readonly RestStream[], format: WebhookFormat, broken: ReadonlySet<string>): Map<string, RestWebhookEvent> | undefined {
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
    if (stream !== undefined && names.length > 0 && !names.includes(stream) && !broken.has(stream)) {
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
    const schema = streams.find((s) => s.name === stream)?.schema;
    const fields = parseFields(c, spec['fields'], `${path}.fields`, format, schema);
    const required = parseRequired(c, spec['required'], `${path}.required`, format, fields ?? (spec['fields'] === undefined ? undefined : []));
    const fetch = c.boolean(spec['fetch'], `${path}.fetch`) ?? false;
    const target = streams.find((s) => s.name === stream);
    if (fetch && target !== undefined && target.item === undefined) {
      c.problem(`${path}.fetch`, `stream ${JSON.stringify(stream)} has no item_path to fetch an object by its key`);
    }
    if (stream !== undefined) {
      out.set(event, {
        stream,
        objectPath,
        deleted,
        ...(parentKey === undefined ? {} : { parentKey }),
        ...(fields === undefined ? {} : { fields }),
        ...(required === undefined || required.length === 0 ? {} : { required }),
        ...(fetch ? { fetch: true } : {}),
      });
    }
  }
  return out;
}

/** `{"<stream property>": "<dotted path in the object>"}`: the record built from these alone. */
function parseFields(c: Checker, raw: JsonValue | undefined, at: string, format: WebhookFormat, schema: JsonValue | undefined): RestFieldPath[] | undefined {
  if (raw === undefined) return undefined;
  if (format === 'salesforce_outbound') {
    c.problem(at, 'not for salesforce_outbound: its records are the fields of each sObject');
    return undefined;
  }
  if (!c.object(raw, at)) return undefined;
  const entries = Object.entries(raw);
  if (entries.length === 0) {
    c.problem(at, 'must map at least one stream property: {"<property>": "<dotted path in the object>"}');
    return undefined;
  }
  // Checked against the stream's own schema when the description gives one: a misspelt
  // property would otherwise become a column of its own.
  const properties = isJsonObject(schema) && isJsonObject(schema['properties']) ? schema['properties'] : undefined;
  const out: RestFieldPath[] = [];
  for (const [property, value] of entries) {
    const where = `${at}.${property}`;
    const path = c.string(value, where, true);
    if (path === undefined) continue;
    if (UNUSABLE_PROPERTIES.includes(property)) c.problem(where, 'not a usable property name');
    else if (properties !== undefined && !Object.hasOwn(properties, property)) {
      c.problem(where, `the stream's schema has no property ${JSON.stringify(property)} (properties: ${Object.keys(properties).join(', ')})`);
    } else out.push({ property, path });
  }
  return out.length === entries.length ? out : undefined;
}

/** Stream properties each record must have; with `fields`, some of its properties. */
function parseRequired(c: Checker, raw: JsonValue | undefined, at: string, format: WebhookFormat, fields: readonly RestFieldPath[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  if (format === 'salesforce_outbound') {
    c.problem(at, 'not for salesforce_outbound: its records are the fields of each sObject');
    return undefined;
  }
  if (!Array.isArray(raw)) {
    c.problem(at, 'must be a list of stream properties');
    return undefined;
  }
  const out: string[] = [];
  raw.forEach((property, i) => {
    const where = `${at}[${i}]`;
    if (typeof property !== 'string' || property === '') c.problem(where, 'must be a non-empty string');
    // A broken `fields` has its own problems; naming every required property again would repeat them.
    else if (fields !== undefined && fields.length > 0 && !fields.some((f) => f.property === property)) {
      c.problem(where, `${JSON.stringify(property)} is not one of fields (${fields.map((f) => f.property).join(', ')}): a record built from fields has no other property`);
    } else out.push(property);
  });
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

