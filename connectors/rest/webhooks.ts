import type { WebhookDelivery, WebhookMapContext, WebhookRequest, WebhookSpec } from '../../src/connector/contract.js';
import { UsageError } from '../../src/errors.js';
import { valueAt } from '../../src/http/paginate.js';
import { isJsonObject, LosslessNumber, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { publicUri } from '../../src/listen/verify/headers.js';
import type { Scheme } from '../../src/listen/verify/index.js';
import { hubspotUri } from '../../src/listen/verify/vendors.js';
import { parseDescription, type Handshake, type RestStream, type RestWebhooks } from './description/index.js';
import { objectFetcher } from './fetch-back.js';
import { mapSalesforceOutbound, salesforceAck } from './salesforce.js';
import { shapeOf } from './unnest.js';
import { mapRestDelivery } from './webhook-payload.js';

/**
 * Webhooks of a described API: the description's `webhooks` section says how the sender
 * signs, how the body is read (JSON, a form, Salesforce SOAP), where the event name is,
 * which event goes to which stream and where the changed object is. Each object becomes a
 * record of that stream shaped as a batch read yields it (webhook-payload.ts), so webhooks
 * and `sync run` fill the same rows.
 */

export { mapRestDelivery } from './webhook-payload.js';

/** The webhook support a `rest` config describes, or undefined when it has no `webhooks` section. Throws a UsageError listing every problem. */
export function resolveRestWebhooks(config: JsonObject): WebhookSpec | undefined {
  const { description, problems } = parseDescription(config);
  if (description === undefined) {
    throw new UsageError(`invalid API description for rest (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  if (description.webhooks === undefined) return undefined;
  const spec = restWebhookSpec(description.webhooks, description.streams);
  const thin = [...description.webhooks.events.values()].some((e) => e.fetch === true);
  return thin ? { ...spec, fetchObjects: objectFetcher(config, description.streams) } : spec;
}

/** The listener's view of a checked webhook section. */
export function restWebhookSpec(webhooks: RestWebhooks, streams: readonly RestStream[] = []): WebhookSpec {
  const from = webhooks.eventFrom;
  // For log lines and `sync inbox list` the listener reads a header, or a top-level field of
  // a JSON body: not a form body, nor an element of a batch.
  const eventName =
    webhooks.format === 'salesforce_outbound' ? undefined
    : 'header' in from ? { header: from.header }
    : webhooks.format === 'form' || webhooks.batch !== undefined || from.path.includes('.') ? undefined
    : { field: from.path };
  const schemaOf = (stream: string): JsonObject | undefined => streams.find((s) => s.name === stream)?.schema;
  const shapes = (stream: string) => {
    const described = streams.find((s) => s.name === stream);
    return described === undefined ? undefined : shapeOf(described);
  };
  return {
    scheme: webhooks.scheme,
    secretSettings: [webhooks.secretSetting],
    ...(eventName === undefined ? {} : { eventName }),
    ...(webhooks.deliveryId === undefined ? {} : { deliveryId: webhooks.deliveryId }),
    ...(webhooks.handshakes.length ? { handshake: handshakesFor(webhooks.handshakes) } : {}),
    ...(signsUrl(webhooks.scheme) ? { refusalDetail: (request: WebhookRequest, reason: string) => urlRefusalDetail(webhooks.scheme, request, reason) } : {}),
    ...(webhooks.format === 'salesforce_outbound'
      ? { accepted: salesforceAck, map: (delivery: WebhookDelivery, context?: WebhookMapContext) => mapSalesforceOutbound(webhooks, streams, delivery, context) }
      : { map: (delivery: WebhookDelivery, context?: WebhookMapContext) => mapRestDelivery(webhooks, delivery, (stream) => context?.schemaOf(stream) ?? schemaOf(stream), shapes) }),
  };
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

function signsUrl(scheme: Scheme): boolean {
  return scheme.kind === 'hubspot-v3' || (scheme.kind === 'hmac' && (scheme.signedContent ?? '').includes('{url}'));
}

/**
 * Schemes that sign the URL refuse every delivery when the URL the listener rebuilds differs
 * from the one the sender called (plain HTTP behind a proxy, another host name), and a bare
 * "signature mismatch" does not say so. The URL is named without its query.
 */
export function urlRefusalDetail(scheme: Scheme, request: WebhookRequest, reason: string): string | undefined {
  if (scheme.kind !== 'hubspot-v3' && scheme.kind !== 'hmac') return undefined;
  const configured = scheme.url;
  if (reason === 'missing public url') {
    return 'the signature is over the URL the sender called, and without a Host header it cannot be rebuilt: set webhooks.scheme.url to that URL';
  }
  if (reason !== 'signature mismatch') return undefined;
  const checked = scheme.kind === 'hubspot-v3' ? hubspotUri(request, configured) : publicUri(request, configured);
  if (checked === undefined) return undefined;
  const q = checked.indexOf('?');
  const shown = q < 0 ? checked : `${checked.slice(0, q)}?…`;
  return configured === undefined
    ? `the signature is over the URL the sender called; checked ${shown} (https and the Host header, as webhooks.scheme.url is not set): if the sender calls another URL (http, a proxy's address), set webhooks.scheme.url to it`
    : `the signature is over the URL the sender called; checked ${shown} (from webhooks.scheme.url)`;
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
