import { schemeProblem, type DigestEncoding, type HmacAlgorithm, type Scheme } from '../../../src/listen/verify/index.js';
import type { JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import { HANDSHAKES, WEBHOOK_SECRET_SETTINGS, type Handshake, type RestStream, type RestWebhookEvent, type RestWebhooks } from './types.js';

/** `webhooks`: how a sender's deliveries are verified and mapped into the streams. */

const WEBHOOK_KEYS = ['scheme', 'secret_setting', 'format', 'event_path', 'event_header', 'events', 'delivery_id', 'version_path', 'time_path', 'handshakes'];
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

export function parseWebhooks(c: Checker, raw: JsonValue, at: string, streams: readonly RestStream[]): RestWebhooks | undefined {
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

