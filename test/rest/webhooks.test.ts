import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Webhooks } from '@octokit/webhooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import rest, {
  mapRestDelivery,
  parseDescription,
  resolveRestStreams,
  resolveRestWebhooks,
  restDeliveryId,
  restWebhookSpec,
  type RestWebhooks,
} from '../../connectors/rest/index.js';
import type { AnyConnector, WebhookDelivery, WebhookSpec } from '../../src/connector/contract.js';
import { resolveConfig } from '../../src/connector/config.js';
import { UsageError } from '../../src/errors.js';
import { serveConnector } from '../../src/listen/service.js';
import { verify } from '../../src/listen/verify/index.js';
import { silentLogger } from '../../src/log.js';
import { parseJson, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { tempDir } from '../helpers/cli.js';
import { journalRows, post, rows, startInProcess, waitFor, type InProcess } from '../listen/helpers.js';

/**
 * The `webhooks` section of a rest description: validation (one problem per path), the
 * mapping from a delivery to records, delivery ids, and verification with the declared
 * scheme. `sync listen rest` cannot serve it yet (the listener reads a static
 * `connector.webhooks` and `connector.streams`), so the listener tests below run the real
 * service in this process with the rest connector resolved from its config, as the
 * proposed listener change would do.
 */

const SECRET = 'rest-webhook-secret-1';
const ORDER_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    status: { type: ['string', 'null'] },
    total: { type: ['number', 'null'] },
    updated_at: { type: ['string', 'null'], format: 'date-time' },
  },
};

function description(webhooks: JsonObject | undefined, extra: JsonObject = {}): JsonObject {
  return {
    base_url: 'https://api.example.com/v1',
    streams: [
      { name: 'orders', path: '/orders', records_path: 'data', primary_key: 'id', replication_key: 'updated_at', schema: ORDER_SCHEMA },
      { name: 'customers', path: '/customers', primary_key: 'id', schema: { type: 'object', properties: { id: { type: 'string' }, name: { type: ['string', 'null'] } } } },
    ],
    ...(webhooks === undefined ? {} : { webhooks }),
    ...extra,
  };
}

const HMAC_SECTION: JsonObject = {
  scheme: { kind: 'hmac', header: 'X-Signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' },
  secret_setting: 'webhook_secret',
  event_path: 'type',
  events: {
    'order.created': { stream: 'orders', object_path: 'data' },
    'order.updated': { stream: 'orders', object_path: 'data' },
    'order.deleted': { stream: 'orders', object_path: 'data', deleted: true },
    'customer.created': { stream: 'customers', object_path: 'data.customer' },
  },
  delivery_id: { header: 'X-Delivery-Id' },
  version_path: 'data.updated_at',
  time_path: 'time',
};

function section(webhooks: JsonObject): RestWebhooks {
  const { description: d, problems } = parseDescription(description(webhooks));
  expect(problems).toEqual([]);
  if (d?.webhooks === undefined) throw new Error('no webhooks section');
  return d.webhooks;
}

function problemsOf(webhooks: JsonObject | undefined, extra: JsonObject = {}): string[] {
  return parseDescription(description(webhooks, extra)).problems;
}

function delivery(body: string, headers: Record<string, string> = {}): WebhookDelivery {
  let json;
  try {
    json = parseJson(body).value;
  } catch {
    json = undefined;
  }
  return { id: 'd-1', receivedAt: '2026-03-01T00:00:00.000000Z', headers, text: body, json };
}

const order = (id: number, updatedAt: string | null = '2026-03-01T10:00:00Z'): JsonObject => ({ id, status: 'paid', total: 12.5, updated_at: updatedAt });

describe('the webhooks section: validation', () => {
  it('is optional: a description without it has no webhooks', () => {
    const { description: d, problems } = parseDescription(description(undefined));
    expect(problems).toEqual([]);
    expect(d?.webhooks).toBeUndefined();
    expect(resolveRestWebhooks(description(undefined))).toBeUndefined();
  });

  it('reads a full section into the listener spec', () => {
    const w = section(HMAC_SECTION);
    // The delivery id header is what the generic scheme reports as the delivery id.
    expect(w.scheme).toEqual({ kind: 'hmac', header: 'X-Signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', idHeader: 'x-delivery-id' });
    expect(w.eventFrom).toEqual({ path: 'type' });
    expect(w.deliveryId).toEqual({ header: 'x-delivery-id' });
    expect(w.events.get('order.deleted')).toEqual({ stream: 'orders', objectPath: 'data', deleted: true });
    const spec = resolveRestWebhooks(description(HMAC_SECTION));
    expect(spec?.scheme).toEqual(w.scheme);
    expect(spec?.secretSettings).toEqual(['webhook_secret']);
    expect(spec?.eventName).toEqual({ field: 'type' });
  });

  it('accepts every vendor scheme kind and the token options', () => {
    for (const kind of ['standard-webhooks', 'github', 'stripe', 'shopify', 'slack', 'basic']) {
      expect(section({ scheme: { kind }, event_header: 'X-Event', events: { e: { stream: 'orders' } } }).scheme).toEqual({ kind });
    }
    expect(section({ scheme: { kind: 'hubspot-v3', url: 'https://hooks.example.com/webhooks/rest' }, event_path: 'a.b', events: { e: { stream: 'orders' } } }).scheme).toEqual({
      kind: 'hubspot-v3',
      url: 'https://hooks.example.com/webhooks/rest',
    });
    expect(section({ scheme: { kind: 'token', query_param: 'key' }, event_path: 'type', events: { e: { stream: 'orders' } } }).scheme).toEqual({ kind: 'token', queryParam: 'key' });
    const signed = section({
      scheme: { kind: 'hmac', header: 'x-sig', algorithm: 'sha512', encoding: 'base64', signed_content: '{timestamp}.{body}', timestamp_header: 'x-ts' },
      event_path: 'type',
      events: { e: { stream: 'orders' } },
    });
    expect(signed.scheme).toEqual({ kind: 'hmac', header: 'x-sig', algorithm: 'sha512', encoding: 'base64', signedContent: '{timestamp}.{body}', timestampHeader: 'x-ts' });
  });

  it('reports every problem with its path', () => {
    const problems = problemsOf({
      scheme: { kind: 'hmac', header: '', algorithm: 'md5', encoding: 'hex', colour: 'red' },
      secret_setting: 'token',
      event_path: 'type',
      event_header: 'x-event',
      events: {
        a: { stream: 'invoices' },
        b: { object_path: 'data', deleted: 'yes' },
        c: 'orders',
        d: { stream: 'orders', extra: 1 },
      },
      delivery_id: { header: 'x-id', path: 'id' },
      version_path: 3,
      surprise: true,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^webhooks\.surprise: unknown key/),
        expect.stringMatching(/^webhooks\.scheme\.colour: unknown key/),
        'webhooks.scheme.header: must be a non-empty string',
        expect.stringMatching(/^webhooks\.scheme\.algorithm: must be one of sha1, sha256, sha512/),
        expect.stringMatching(/^webhooks\.secret_setting: must be one of webhook_secret/),
        'webhooks.event_header: give event_path or event_header, not both',
        expect.stringMatching(/^webhooks\.events\.a\.stream: no such stream "invoices" \(streams: orders, customers\)/),
        'webhooks.events.b.stream: required',
        'webhooks.events.b.deleted: must be true or false',
        'webhooks.events.c: must be an object',
        expect.stringMatching(/^webhooks\.events\.d\.extra: unknown key/),
        'webhooks.delivery_id: give header or path, not both',
        'webhooks.version_path: must be a non-empty string',
      ]),
    );
    expect(problems).toHaveLength(13);
    // One problem per path.
    expect(new Set(problems.map((p) => p.split(': ')[0])).size).toBe(problems.length);
  });

  it('requires a scheme, an event location and at least one event', () => {
    expect(problemsOf({})).toEqual([
      'webhooks.scheme: required',
      'webhooks.event_path: required: where the event name is, event_path (a dotted path in the body) or event_header',
      'webhooks.events: required',
    ]);
    expect(problemsOf({ scheme: { kind: 'hmac' }, event_header: 'x-e', events: {} })).toEqual([
      'webhooks.scheme.header: required',
      'webhooks.scheme.algorithm: required, one of sha1, sha256, sha512',
      'webhooks.scheme.encoding: required, one of hex, base64',
      'webhooks.events: must name at least one event: {"<event>": {"stream": "<stream>", "object_path": "data"}}',
    ]);
    expect(problemsOf({ scheme: { kind: 'aws-sns' }, event_path: 'type', events: { e: { stream: 'orders' } } })).toEqual([
      expect.stringMatching(/^webhooks\.scheme\.kind: must be one of standard-webhooks, github, .* \(got "aws-sns"\)$/),
    ]);
    expect(problemsOf({ scheme: { kind: 'github' }, event_path: 'type', events: { e: { stream: 'orders' } }, delivery_id: {} })).toEqual([
      'webhooks.delivery_id: needs header (a request header) or path (a dotted path in the body)',
    ]);
    expect(problemsOf([] as unknown as JsonObject)).toEqual(['webhooks: must be an object']);
  });

  it("passes on the verifier's own check of the scheme, and a conflicting id header", () => {
    const base = { event_path: 'type', events: { e: { stream: 'orders' } } };
    expect(problemsOf({ ...base, scheme: { kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex', signed_content: '{timestamp}.{body}' } })).toEqual([
      'webhooks.scheme: hmac: {timestamp} needs timestampHeader',
    ]);
    expect(problemsOf({ ...base, scheme: { kind: 'token', header: ' ' } })).toEqual(['webhooks.scheme: token: header or queryParam is empty']);
    expect(problemsOf({ ...base, scheme: { kind: 'github', header: 'x-sig' } })).toEqual([expect.stringMatching(/^webhooks\.scheme\.header: unknown key \(known: kind\)/)]);
    expect(
      problemsOf({ ...base, scheme: { kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex', id_header: 'x-id' }, delivery_id: { header: 'x-other' } }),
    ).toEqual(['webhooks.delivery_id.header: differs from scheme.id_header "x-id"; give one header']);
  });

  it('is reported together with the other problems of the description, and by resolveRestWebhooks', () => {
    const problems = problemsOf({ scheme: { kind: 'github' }, event_path: 'type', events: { e: { stream: 'orders' } } }, { base_url: 'ftp://x' });
    expect(problems).toEqual([expect.stringMatching(/^base_url: must be an http\(s\) URL/)]);
    const bad = description({ scheme: { kind: 'github' }, event_path: 'type', events: { e: { stream: 'nope' } } });
    expect(() => resolveRestWebhooks(bad)).toThrow(UsageError);
    try {
      resolveRestWebhooks(bad);
    } catch (err) {
      expect((err as UsageError).message).toBe('invalid API description for rest (1 problem)');
    }
  });
});

describe('the webhook_secret setting', () => {
  it('is a secret setting of the connector, also read from SYNC_REST_WEBHOOK_SECRET', () => {
    expect(rest.config.properties['webhook_secret']).toMatchObject({ type: 'string', secret: true });
    const { config, warnings } = resolveConfig('rest', rest.config, { file: description(HMAC_SECTION), env: { SYNC_REST_WEBHOOK_SECRET: SECRET } });
    expect(warnings).toEqual([]);
    expect(config['webhook_secret']).toBe(SECRET);
    expect(config['webhooks']).toEqual(HMAC_SECTION);
  });
});

describe('the mapping', () => {
  const w = section(HMAC_SECTION);
  const map = (body: JsonObject | string, headers: Record<string, string> = {}) =>
    mapRestDelivery(w, delivery(typeof body === 'string' ? body : JSON.stringify(body), headers));

  // The version_path and time_path values are handed on as found; which becomes the record's
  // version is the listener's rule (test/rest/webhook-versions.test.ts).
  it('maps each configured event to its stream with the object at object_path', () => {
    expect(map({ type: 'order.created', time: '2026-03-01T09:00:00Z', data: order(1) })).toEqual([
      { stream: 'orders', record: order(1), version: '2026-03-01T10:00:00Z', time: '2026-03-01T09:00:00Z' },
    ]);
    expect(map({ type: 'order.updated', data: order(2, '2026-03-02T00:00:00Z') })).toEqual([
      { stream: 'orders', record: order(2, '2026-03-02T00:00:00Z'), version: '2026-03-02T00:00:00Z' },
    ]);
    expect(map({ type: 'customer.created', time: '2026-03-01T09:00:00Z', data: { customer: { id: 'c1', name: 'Ada' } } })).toEqual([
      { stream: 'customers', record: { id: 'c1', name: 'Ada' }, time: '2026-03-01T09:00:00Z' },
    ]);
  });

  it('marks deletions and hands on the event time, text or epoch number', () => {
    expect(map({ type: 'order.deleted', time: '2026-03-03T00:00:00Z', data: { id: 3 } })).toEqual([
      { stream: 'orders', record: { id: 3 }, deleted: true, time: '2026-03-03T00:00:00Z' },
    ]);
    expect(map({ type: 'order.deleted', time: 1772496000, data: { id: 3 } })).toEqual([{ stream: 'orders', record: { id: 3 }, deleted: true, time: 1772496000 }]);
  });

  it('ignores events the section does not list', () => {
    expect(map({ type: 'invoice.paid', data: { id: 1 } })).toEqual([]);
  });

  it('reads the event name from a header, and takes the whole body without object_path', () => {
    const byHeader = section({ scheme: { kind: 'github' }, event_header: 'X-GitHub-Event', events: { issues: { stream: 'orders' } } });
    expect(restWebhookSpec(byHeader).eventName).toEqual({ header: 'x-github-event' });
    expect(mapRestDelivery(byHeader, delivery(JSON.stringify(order(4)), { 'x-github-event': 'issues' }))).toEqual([{ stream: 'orders', record: order(4) }]);
    expect(mapRestDelivery(byHeader, delivery(JSON.stringify(order(4)), { 'x-github-event': 'push' }))).toEqual([]);
  });

  it('reads the event name at a dotted path (the listener then logs no event name)', () => {
    const nested = section({ scheme: { kind: 'github' }, event_path: 'meta.event', events: { created: { stream: 'orders', object_path: 'payload.0' } } });
    expect(restWebhookSpec(nested).eventName).toBeUndefined();
    expect(mapRestDelivery(nested, delivery(JSON.stringify({ meta: { event: 'created' }, payload: [order(5)] })))).toEqual([{ stream: 'orders', record: order(5) }]);
  });

  it('throws (a dead letter) for a body that is not JSON, a missing event name or object', () => {
    expect(() => map('not json')).toThrow('the body is not JSON');
    expect(() => map({ data: order(1) })).toThrow('no event name at "type" (got nothing)');
    expect(() => map({ type: 7, data: order(1) })).toThrow('no event name at "type" (got 7)');
    expect(() => map({ type: 'order.created' })).toThrow('event order.created: "data" is not an object (got nothing)');
    // An array of objects is one record per element; anything else that is not an object is refused.
    expect(map({ type: 'order.created', data: [order(1)] })).toEqual([{ stream: 'orders', record: order(1) }]);
    expect(() => map({ type: 'order.created', data: 'paid' })).toThrow('event order.created: "data" is not an object (got a string)');
  });
});

describe('delivery ids', () => {
  it('come from the header the section names (reported by the generic scheme) or from a body path', () => {
    const byHeader = section(HMAC_SECTION);
    expect(restDeliveryId(byHeader, { 'x-delivery-id': ['abc'] }, undefined)).toBe('abc');
    expect(restDeliveryId(byHeader, {}, undefined)).toBeUndefined();
    const byPath = section({ ...HMAC_SECTION, delivery_id: { path: 'meta.id' } });
    expect(byPath.scheme).not.toHaveProperty('idHeader');
    expect(restDeliveryId(byPath, {}, parseJson('{"meta": {"id": "evt_1"}}').value)).toBe('evt_1');
    expect(restDeliveryId(byPath, {}, parseJson('{"meta": {"id": 12345678901234567890}}').value)).toBe('12345678901234567890');
    expect(restDeliveryId(byPath, {}, parseJson('{"meta": {}}').value)).toBeUndefined();
  });
});

const hmacHex = (body: string, secret = SECRET): string => 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
const toRequest = (body: string, headers: Record<string, string>) => ({
  method: 'POST',
  url: '/webhooks/rest',
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v]])),
  body: Buffer.from(body, 'utf8'),
});

describe('verification with the declared scheme', () => {
  it('generic hmac: signed with node:crypto, reports the delivery id header', () => {
    const spec = resolveRestWebhooks(description(HMAC_SECTION)) as WebhookSpec;
    const body = JSON.stringify({ type: 'order.created', data: order(1), note: 'é ✓' });
    expect(verify(spec.scheme, toRequest(body, { 'x-signature': hmacHex(body), 'x-delivery-id': 'dlv-1' }), [SECRET])).toEqual({ ok: true, deliveryId: 'dlv-1' });
    expect(verify(spec.scheme, toRequest(body, { 'x-signature': hmacHex(body, 'wrong'), 'x-delivery-id': 'dlv-1' }), [SECRET])).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verify(spec.scheme, toRequest(body + ' ', { 'x-signature': hmacHex(body), 'x-delivery-id': 'dlv-1' }), [SECRET])).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('github: signed by @octokit/webhooks', async () => {
    const spec = resolveRestWebhooks(description({ scheme: { kind: 'github' }, event_header: 'x-github-event', events: { issues: { stream: 'orders', object_path: 'issue' } } })) as WebhookSpec;
    const body = JSON.stringify({ action: 'opened', issue: order(9) });
    const headers = { 'x-hub-signature-256': await new Webhooks({ secret: SECRET }).sign(body), 'x-github-delivery': 'gh-1', 'x-github-event': 'issues' };
    expect(verify(spec.scheme, toRequest(body, headers), [SECRET])).toEqual({ ok: true, deliveryId: 'gh-1' });
    expect(verify(spec.scheme, toRequest(body, headers), ['other'])).toEqual({ ok: false, reason: 'signature mismatch' });
  });
});

/**
 * The real listener (HTTP, journal, drain into SQLite) in this process, serving the rest
 * connector as `sync listen rest --config` would once the listener resolves config-derived
 * streams and webhooks (see connectors/rest/webhooks.ts).
 */
describe('through the listener (in process, rest resolved from its config)', () => {
  const tmp = tempDir('sync-rest-webhooks-');
  afterAll(tmp.cleanup);
  let running: InProcess | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  async function start(section: JsonObject): Promise<InProcess> {
    const config = description(section);
    const streams = await resolveRestStreams(config, { log: silentLogger, signal: new AbortController().signal });
    const webhooks = resolveRestWebhooks(config);
    if (!webhooks) throw new Error('no webhooks');
    const connector: AnyConnector = { ...rest, streams, webhooks };
    const dir = join(tmp.dir, `case-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir, { recursive: true });
    running = await startInProcess(dir, {
      connectors: new Map([['rest', serveConnector(connector, [SECRET], { maxBodyBytes: 1_048_576, toleranceSeconds: 300 })]]),
    });
    return running;
  }

  it('verifies hmac deliveries, journals them under the delivery id header, and writes the described streams', async () => {
    const l = await start(HMAC_SECTION);
    const send = (body: JsonObject, id: string, secret = SECRET) => {
      const text = JSON.stringify(body);
      return post(`${l.url}/webhooks/rest`, text, { 'content-type': 'application/json', 'x-signature': hmacHex(text, secret), 'x-delivery-id': id });
    };
    expect((await send({ type: 'order.created', data: order(1) }, 'd1')).status).toBe(200);
    expect((await send({ type: 'order.created', data: order(2) }, 'd2')).status).toBe(200);
    expect((await send({ type: 'order.deleted', time: '2026-03-05T00:00:00Z', data: { id: 2 } }, 'd3')).status).toBe(200);
    expect((await send({ type: 'invoice.paid', data: { id: 1 } }, 'd4')).status).toBe(200);
    expect((await send({ type: 'customer.created', data: { customer: { id: 'c1', name: 'Ada' } } }, 'd5')).status).toBe(200);
    expect((await send({ type: 'order.created', data: order(3) }, 'd6', 'wrong')).status).toBe(401);
    expect((await send({ type: 'order.created', data: order(1) }, 'd1')).text).toBe('duplicate\n');

    const journaled = await waitFor(() => {
      const all = journalRows(l.journal);
      return all.length === 5 && all.every((r) => r.status === 'done') ? all : undefined;
    }, 'five drained deliveries');
    expect(journaled.map((r) => r.delivery_id)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
    const orders = await waitFor(() => {
      const found = rows(l.target, 'orders');
      return found.length === 2 ? found : undefined;
    }, 'two orders');
    expect(orders[0]).toMatchObject({ id: 1, status: 'paid', updated_at: '2026-03-01T10:00:00Z', _sdc_deleted_at: null });
    expect(orders[1]).toMatchObject({ id: 2, _sdc_deleted_at: '2026-03-05T00:00:00Z', updated_at: '2026-03-05T00:00:00Z' });
    expect(rows(l.target, 'customers')).toEqual([expect.objectContaining({ id: 'c1', name: 'Ada' })]);
  });

  it('verifies github deliveries signed by @octokit/webhooks', async () => {
    const l = await start({ scheme: { kind: 'github' }, event_header: 'x-github-event', events: { issues: { stream: 'orders', object_path: 'issue' } } });
    const body = JSON.stringify({ action: 'opened', issue: order(7) });
    const sig = await new Webhooks({ secret: SECRET }).sign(body);
    const headers = { 'content-type': 'application/json', 'x-hub-signature-256': sig, 'x-github-delivery': 'gh-7', 'x-github-event': 'issues' };
    expect((await post(`${l.url}/webhooks/rest`, body, headers)).status).toBe(200);
    expect((await post(`${l.url}/webhooks/rest`, body, { ...headers, 'x-hub-signature-256': await new Webhooks({ secret: 'other' }).sign(body) })).status).toBe(401);
    const orders = await waitFor(() => {
      const found = rows(l.target, 'orders');
      return found.length === 1 ? found : undefined;
    }, 'one order');
    expect(orders[0]).toMatchObject({ id: 7, status: 'paid' });
    expect(journalRows(l.journal).map((r) => r.delivery_id)).toEqual(['gh-7']);
  });
});

describe('handshakes in the webhook section', () => {
  const section = (handshakes: JsonValue): JsonObject => ({
    base_url: 'http://127.0.0.1:9',
    streams: [{ name: 'orders', path: '/orders', primary_key: 'id' }],
    webhooks: { scheme: { kind: 'github' }, event_header: 'x-github-event', events: { order: { stream: 'orders' } }, handshakes },
  });

  it('accepts the known handshakes and names a wrong one by its index', () => {
    expect(parseDescription(section(['github_ping', 'get_check'])).problems).toEqual([]);
    expect(parseDescription(section(['github_ping', 'soap_ack'])).problems).toEqual([
      'webhooks.handshakes[1]: must be one of: github_ping, slack_url_verification, get_check',
    ]);
    expect(parseDescription(section('github_ping')).problems).toEqual([
      'webhooks.handshakes: must be a list of: github_ping, slack_url_verification, get_check',
    ]);
  });

  it('answers a signed GitHub ping without storing it', () => {
    const spec = resolveRestWebhooks(section(['github_ping']));
    const request = { method: 'POST', url: '/webhooks/rest', headers: { 'x-github-event': ['ping'] }, body: Buffer.from('{}') };
    expect(spec?.handshake?.signed?.(request, {})).toEqual({ status: 200, body: 'pong\n' });
    expect(spec?.handshake?.unsigned?.({ ...request, method: 'GET' })).toBeUndefined();
  });
});
