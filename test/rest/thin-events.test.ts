import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDescription } from '../../connectors/rest/index.js';
import { startListen, tempDir } from '../helpers/cli.js';
import { readRows, writeConfig } from '../helpers/files.js';
import { until } from '../helpers/wait.js';
import { loadConnector } from '../../src/connector/registry.js';
import { WebhookMapper } from '../../src/listen/mapping.js';
import type { StoredDelivery } from '../../src/listen/journal.js';
import { resolveForListen } from '../../src/listen/resolve.js';
import { silentLogger } from '../../src/log.js';
import { startStripe, thinEvent, type StripeEvent, type StripeModel } from '../stripe/model.js';

/**
 * Thin events: the sender names the object (`related_object.id`) and the receiver reads it.
 * The drain fetches each object back through the stream's `item_path`, once per batch however
 * many deliveries name it; an object the API no longer has becomes a deletion at the event's
 * time. While the API cannot answer, the deliveries wait in the journal, nothing is lost.
 */

const KEY = 'sk_test_thin_4eC39HqLyjWDarjtT1zdp7dc';
const WEBHOOK_SECRET = 'whsec_thin_events_5150';

function description(baseUrl: string): object {
  const related = { stream: 'customers', object_path: 'related_object', fields: { id: 'id' }, fetch: true };
  return {
    base_url: baseUrl,
    auth: { type: 'bearer' },
    streams: [
      {
        name: 'customers', path: '/v1/customers', records_path: 'data', primary_key: 'id', replication_key: 'changed_at',
        item_path: '/v1/customers/{id}', deleted_when: { path: 'deleted', equals: true },
        schema: {
          properties: {
            id: { type: 'string' }, object: { type: 'string' }, created: { type: 'integer' }, email: { type: ['null', 'string'] },
            name: { type: ['null', 'string'] }, balance: { type: 'integer' }, metadata: { type: 'object' }, deleted: { type: 'boolean' },
            changed_at: { type: ['null', 'string'], format: 'date-time' },
          },
        },
      },
    ],
    webhooks: {
      scheme: { kind: 'stripe' }, event_path: 'type', time_path: 'created', delivery_id: { path: 'id' },
      events: { 'v1.customer.updated': related, 'v1.customer.deleted': { ...related, deleted: true } },
    },
  };
}

function stored(seq: number, event: object): StoredDelivery {
  return {
    seq, connector: 'rest', deliveryId: `d${seq}`, receivedAt: new Date().toISOString(), event: null, method: 'POST', url: '/webhooks/rest',
    headers: { 'content-type': ['application/json'] }, body: Buffer.from(JSON.stringify(event)), status: 'pending', error: null, attempts: 0, processedAt: null,
  };
}

let tmp: ReturnType<typeof tempDir>;
let api: StripeModel;
beforeEach(async () => {
  tmp = tempDir('sync-thin-');
  api = await startStripe(KEY);
});
afterEach(async () => {
  await api.close();
  tmp.cleanup();
});

describe('thin webhook events', () => {
  it('fetches each named object once per batch, turns a vanished one into a deletion, and waits while the API is down', async () => {
    const ann = api.create('customer', { email: 'ann@example.com' });
    const bob = api.create('customer', { email: 'bob@example.com' });
    const cy = api.create('customer', { email: 'cy@example.com' });
    const updates = [api.update(ann.id, { email: 'ann@1.example.com' }), api.update(ann.id, { email: 'ann@2.example.com', balance: 3 })];
    const bobGone = api.remove(bob.id);
    const cyTouched = api.update(cy.id, { name: 'Cy' });
    // Removed after the event was sent: the API now answers {deleted: true} for it.
    api.remove(cy.id);
    const config = writeConfig(tmp.dir, 'thin', description(api.url));
    const db = join(tmp.dir, 'out.db');
    const { child, url, done } = await startListen(['rest', '--config', config, '--target', `sqlite:${db}`], {
      cwd: tmp.dir,
      env: { SYNC_REST_WEBHOOK_SECRET: WEBHOOK_SECRET, SYNC_REST_TOKEN: KEY },
    });
    const stripe = new Stripe(KEY);
    const send = async (event: object): Promise<number> => {
      const payload = JSON.stringify(event);
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const answer = await fetch(`${url}/webhooks/rest`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
      await answer.arrayBuffer();
      return answer.status;
    };
    // The API is down: every delivery is stored and answered, and waits.
    api.unavailable = true;
    for (const event of [...updates, bobGone, cyTouched]) expect(await send(thinEvent(event))).toBe(200);
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    // The drain tried, gave up for now, and keeps the deliveries.
    await until(() => log.includes('the source is unavailable (rest could not fetch'));
    api.server.seen.length = 0;
    api.unavailable = false;
    await until(() => {
      try {
        return readRows(db, 'SELECT count(*) AS n FROM customers')[0]?.['n'] === 3;
      } catch {
        return false;
      }
    });
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('deliveries are being written again');
    expect(result.stderr).not.toContain(KEY);

    const rows = new Map(readRows(db, 'SELECT id, email, balance, changed_at, _sdc_deleted_at FROM customers').map((r) => [r['id'], r]));
    // Times as the thin event gives them (RFC 3339).
    const at = (seconds: number): string => new Date(seconds * 1000).toISOString();
    // The object as the API has it now, versioned by the newest event that named it.
    expect(rows.get(ann.id)).toEqual({ id: ann.id, email: 'ann@2.example.com', balance: 3, changed_at: at(updates[1]?.created ?? 0), _sdc_deleted_at: null });
    // A deletion event needs no fetch; an object gone since its event is deleted at the event's time.
    expect(rows.get(bob.id)).toMatchObject({ _sdc_deleted_at: at(bobGone.created), email: null });
    expect(rows.get(cy.id)).toMatchObject({ _sdc_deleted_at: at(cyTouched.created) });
    // Once the API answered: the objects named by updates, never one named by a deletion.
    const fetched = new Set(api.server.seen.map((r) => r.url));
    expect(fetched).toEqual(new Set([`/v1/customers/${ann.id}`, `/v1/customers/${cy.id}`]));
    expect(api.server.seen.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
  });

  it('in one batch, several deliveries naming one object cost one request; a delivery without the key is a dead letter', async () => {
    const ann = api.create('customer', { email: 'ann@example.com' });
    const updates = [api.update(ann.id, { balance: 1 }), api.update(ann.id, { balance: 2 }), api.update(ann.id, { balance: 3 })];
    const connector = await resolveForListen(await loadConnector('rest'), { ...description(api.url), token: KEY, webhook_secret: WEBHOOK_SECRET }, {
      log: silentLogger,
      signal: new AbortController().signal,
    });
    const mapper = new WebhookMapper(connector);
    const keyless = { ...thinEvent(updates[0] as StripeEvent), id: 'evt_keyless', related_object: { type: 'customer' } };
    const entries = [...updates.map((u) => thinEvent(u)), keyless].map((event, i) => stored(i + 1, event));
    const results = await mapper.mapMany(entries, { log: silentLogger, signal: new AbortController().signal });
    expect(api.server.seen.map((r) => r.url)).toEqual([`/v1/customers/${ann.id}`]);
    expect(results.slice(0, 3).map((r) => (r.ok ? r.records.map((m) => m.record['balance']) : r.error))).toEqual([[3], [3], [3]]);
    // Each delivery keeps its own event time as the version: the newest wins in the target.
    expect(results.slice(0, 3).map((r) => (r.ok ? r.records[0]?.record['changed_at'] : r.error))).toEqual(updates.map((u) => new Date(u.created * 1000).toISOString()));
    expect(results[3]).toEqual({ ok: false, error: 'a thin event of stream "customers" lacks the key property "id" to fetch its object by' });
  });

  it('takes a 404 for a deletion only once item_path has answered with an object; before that, a dead letter', async () => {
    const ann = api.create('customer', { email: 'ann@example.com' });
    const connector = await resolveForListen(await loadConnector('rest'), { ...description(api.url), token: KEY, webhook_secret: WEBHOOK_SECRET }, {
      log: silentLogger,
      signal: new AbortController().signal,
    });
    const mapper = new WebhookMapper(connector);
    const context = { log: silentLogger, signal: new AbortController().signal };
    const named = (id: string, seq: number) => stored(seq, { id: `evt_${seq}`, object: 'v2.core.event', type: 'v1.customer.updated', created: new Date().toISOString(), related_object: { id, type: 'customer' } });
    // Nothing has answered yet: an unknown id may as well be a wrong path.
    const [first] = await mapper.mapMany([named('cus_unknown1', 1)], context);
    expect(first).toEqual({ ok: false, error: expect.stringContaining('/v1/customers/{id} answered 404 for this customers object, and has not yet answered with any object') });
    // Once an object came back, the path is right: a 404 is an object gone.
    const [live, gone] = await mapper.mapMany([named(ann.id, 2), named('cus_unknown2', 3)], context);
    expect(live).toMatchObject({ ok: true, records: [{ record: { id: ann.id, email: 'ann@example.com' } }] });
    expect(gone).toMatchObject({ ok: true, records: [{ partial: true, record: { id: 'cus_unknown2', _sdc_deleted_at: expect.any(String) } }] });
  });

  it('needs an item_path on the stream, with each key property in it', () => {
    const bad = description('http://127.0.0.1:9') as { streams: Array<Record<string, unknown>> };
    const stream = bad.streams[0] as Record<string, unknown>;
    stream['item_path'] = '/v1/customers/{customer}';
    expect(parseDescription({ ...bad, token: KEY } as never).problems).toEqual(['streams[0].item_path: must hold {id}, where the key goes']);
    delete stream['item_path'];
    expect(parseDescription({ ...bad, token: KEY } as never).problems).toEqual([
      'webhooks.events.v1.customer.updated.fetch: stream "customers" has no item_path to fetch an object by its key',
      'webhooks.events.v1.customer.deleted.fetch: stream "customers" has no item_path to fetch an object by its key',
    ]);
  });
});
