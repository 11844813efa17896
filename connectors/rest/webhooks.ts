import type { WebhookDelivery, WebhookEvent, WebhookSpec } from '../../src/connector/contract.js';
import { UsageError } from '../../src/errors.js';
import { valueAt } from '../../src/http/paginate.js';
import { isJsonObject, LosslessNumber, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { parseDescription, type Handshake, type RestStream, type RestWebhooks } from './description.js';
import { mapSalesforceOutbound, salesforceAck } from './salesforce.js';

/**
 * Webhooks of a described API: the description's `webhooks` section says how the sender
 * signs, where the event name is, which event goes to which stream and where the changed
 * object is in the body. Each delivery becomes one record of that stream, the object
 * exactly as it is in the body (as a batch read yields it from a response), so webhooks and
 * `sync run` fill the same rows.
 */

/** The webhook support a `rest` config describes, or undefined when it has no `webhooks` section. Throws a UsageError listing every problem. */
export function resolveRestWebhooks(config: JsonObject): WebhookSpec | undefined {
  const { description, problems } = parseDescription(config);
  if (description === undefined) {
    throw new UsageError(`invalid API description for rest (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  return description.webhooks === undefined ? undefined : restWebhookSpec(description.webhooks, description.streams);
}

/** The listener's view of a checked webhook section. */
export function restWebhookSpec(webhooks: RestWebhooks, streams: readonly RestStream[] = []): WebhookSpec {
  const from = webhooks.eventFrom;
  // The listener reads a top-level field only (for log lines and `sync inbox list`).
  const eventName =
    webhooks.format === 'salesforce_outbound' ? undefined
    : 'header' in from ? { header: from.header }
    : from.path.includes('.') ? undefined
    : { field: from.path };
  return {
    scheme: webhooks.scheme,
    secretSettings: [webhooks.secretSetting],
    ...(eventName === undefined ? {} : { eventName }),
    ...(webhooks.deliveryId === undefined ? {} : { deliveryId: webhooks.deliveryId }),
    ...(webhooks.handshakes.length ? { handshake: handshakesFor(webhooks.handshakes) } : {}),
    ...(webhooks.format === 'salesforce_outbound'
      ? { accepted: salesforceAck, map: (delivery: WebhookDelivery) => mapSalesforceOutbound(webhooks, streams, delivery) }
      : { map: (delivery: WebhookDelivery) => mapRestDelivery(webhooks, delivery) }),
  };
}

/**
 * The records one delivery carries: [] for an event the section does not list. A body that
 * is not JSON, a missing event name or a missing object throws (the delivery becomes a dead
 * letter that `sync inbox retry-dead` can replay after the description is fixed).
 */
export function mapRestDelivery(webhooks: RestWebhooks, delivery: WebhookDelivery): WebhookEvent[] {
  const body = delivery.json;
  if (body === undefined) throw new Error('the body is not JSON');
  const from = webhooks.eventFrom;
  const name = 'header' in from ? delivery.headers[from.header] : valueAt(body, from.path);
  if (typeof name !== 'string' || name === '') {
    const where = 'header' in from ? `header ${from.header}` : `"${from.path}"`;
    throw new Error(`no event name at ${where} (got ${name === undefined ? 'nothing' : JSON.stringify(name)})`);
  }
  const event = webhooks.events.get(name);
  if (event === undefined) return [];
  const object = event.objectPath === undefined ? body : valueAt(body, event.objectPath);
  if (!isJsonObject(object)) {
    const where = event.objectPath === undefined ? 'the body' : `"${event.objectPath}"`;
    throw new Error(`event ${name}: ${where} is not an object (got ${object === undefined ? 'nothing' : typeOf(object)})`);
  }
  // A deletion happened at the event time, after the object's last update: versioning it by
  // that update would let a batch copy of the same update revive the row.
  const version = versionOf(body, event.deleted ? [webhooks.timePath, webhooks.versionPath] : [webhooks.versionPath, webhooks.timePath]);
  return [
    {
      stream: event.stream,
      record: object,
      ...(event.deleted ? { deleted: true } : {}),
      ...(version === undefined ? {} : { version }),
    },
  ];
}

/**
 * The sender's delivery id as the section places it, or undefined. The listener takes the
 * scheme's id first; this is for the body path (and headers the scheme does not report).
 */
export function restDeliveryId(webhooks: RestWebhooks, headers: Readonly<Record<string, string | readonly string[] | undefined>>, json: JsonValue | undefined): string | undefined {
  const where = webhooks.deliveryId;
  if (where === undefined) return undefined;
  if ('header' in where) {
    const value = headers[where.header];
    const first = typeof value === 'string' ? value : value?.[0];
    return first === undefined || first === '' ? undefined : first;
  }
  const value = json === undefined ? undefined : valueAt(json, where.path);
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  // An id too large for a double keeps its digits.
  if (value instanceof LosslessNumber) return value.text;
  return undefined;
}

/** The first text value at `paths`: the object's version (`version_path`) or the event time (`time_path`). */
function versionOf(body: JsonValue, paths: Array<string | undefined>): string | undefined {
  for (const path of paths) {
    if (path === undefined) continue;
    const value = valueAt(body, path);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function typeOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof LosslessNumber) return 'a number';
  return `a ${typeof value}`;
}

/**
 * Answers for requests that are not deliveries. A GET check (Mailchimp and others validate a
 * URL before sending) reveals nothing and needs no signature; GitHub's ping and Slack's
 * url_verification are signed, so they are answered only after verification.
 */
function handshakesFor(kinds: readonly Handshake[]): NonNullable<WebhookSpec['handshake']> {
  const on = new Set(kinds);
  return {
    unsigned(request) {
      if (on.has('get_check') && (request.method === 'GET' || request.method === 'HEAD')) return { status: 200, body: 'ok\n' };
      return undefined;
    },
    signed(request, json) {
      if (on.has('github_ping') && request.headers['x-github-event']?.[0] === 'ping') return { status: 200, body: 'pong\n' };
      if (on.has('slack_url_verification') && isJsonObject(json) && json['type'] === 'url_verification' && typeof json['challenge'] === 'string') {
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: json['challenge'] };
      }
      return undefined;
    },
  };
}
