import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../../src/connector/contract.js';
import { withVersion } from '../../src/connector/versions.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { sendJson, startServer } from '../http/server.js';
import { parseDescription } from '../../connectors/rest/index.js';

/**
 * Which version a webhook record carries (src/connector/versions.ts#withVersion): the object's own
 * replication-key value as a batch read gives it, else the payload's version, else the event
 * time, an epoch number made an instant; a deletion at its event time, never overtaken by an
 * older update that arrives later.
 */

const tmp = tempDir('sync-webhook-versions-');
afterAll(tmp.cleanup);

const DATE_TIME = { type: ['string', 'null'], format: 'date-time' };
const RECEIVED = '2026-05-01T00:00:00.000000Z';

describe('the version rule', () => {
  const event = (record: JsonObject, extra: Partial<WebhookEvent> = {}): WebhookEvent => ({ stream: 's', record, ...extra });

  it('keeps the object\'s own replication-key value, even when the event time is later (a batch read gives that value)', () => {
    const record = withVersion(event({ id: 1, updated_at: '2026-01-01T00:00:00Z' }, { time: '2026-01-01T00:00:05Z', version: '2025-12-31T00:00:00Z' }), 'updated_at', RECEIVED, DATE_TIME);
    expect(record['updated_at']).toBe('2026-01-01T00:00:00Z');
  });

  it('takes the payload\'s version, else the event time, when the object has none', () => {
    expect(withVersion(event({ id: 1 }, { version: '2026-01-02T00:00:00Z', time: '2026-01-03T00:00:00Z' }), 'updated_at', RECEIVED, DATE_TIME)['updated_at']).toBe('2026-01-02T00:00:00Z');
    expect(withVersion(event({ id: 1, updated_at: null }, { time: '2026-01-03T00:00:00Z' }), 'updated_at', RECEIVED, DATE_TIME)['updated_at']).toBe('2026-01-03T00:00:00Z');
  });

  it('makes an epoch number an RFC 3339 instant for a date-time key: seconds, fractions, milliseconds', () => {
    const at = (time: number) => withVersion(event({ id: 1 }, { time }), 'updated_at', RECEIVED, DATE_TIME)['updated_at'];
    // Milliseconds, as APIs write times; microseconds only when the epoch holds them.
    expect(at(1767225600)).toBe('2026-01-01T00:00:00.000Z');
    expect(at(1767225600.25)).toBe('2026-01-01T00:00:00.250Z');
    expect(at(1767225600123)).toBe('2026-01-01T00:00:00.123Z');
    expect(at(1767225600.123456)).toBe('2026-01-01T00:00:00.123456Z');
    // An untyped key (inferred from a page that lacked it) gets an instant too.
    expect(withVersion(event({ id: 1 }, { time: 1767225600 }), 'updated_at', RECEIVED, {})['updated_at']).toBe('2026-01-01T00:00:00.000Z');
  });

  it('keeps numbers for a number key, and makes an instant text epoch seconds (milliseconds when the object\'s value is)', () => {
    const INTEGER = { type: 'integer' };
    expect(withVersion(event({ id: 1 }, { time: 1767225600 }), 'created', RECEIVED, INTEGER)['created']).toBe(1767225600);
    const deleted = withVersion(event({ id: 1, created: 1700000000 }, { deleted: true, time: '2026-01-01T00:00:00Z' }), 'created', RECEIVED, INTEGER);
    expect(deleted).toMatchObject({ created: 1767225600, _sdc_deleted_at: '2026-01-01T00:00:00Z' });
    const inMs = withVersion(event({ id: 1, created: 1700000000000 }, { deleted: true, time: '2026-01-01T00:00:00Z' }), 'created', RECEIVED, INTEGER);
    expect(inMs['created']).toBe(1767225600000);
  });

  it('stamps a deletion with the event time, as text, and raises the version to it; the receive time only without one', () => {
    const stripeLike = withVersion(event({ id: 'sub_1', status: 'canceled' }, { deleted: true, time: 1767225600 }), 'updated_at', RECEIVED, DATE_TIME);
    expect(stripeLike).toMatchObject({ _sdc_deleted_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' });
    const older = withVersion(event({ id: 2, updated_at: '2025-06-01T00:00:00Z' }, { deleted: true, time: '2026-01-01T00:00:00Z' }), 'updated_at', RECEIVED, DATE_TIME);
    expect(older).toMatchObject({ _sdc_deleted_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' });
    // A numeric key compared as numbers, not left at the object's creation time.
    const created = withVersion(event({ id: 3, created: 1700000000 }, { deleted: true, time: 1767225600 }), 'created', RECEIVED, { type: 'integer' });
    expect(created).toMatchObject({ created: 1767225600, _sdc_deleted_at: '2026-01-01T00:00:00.000Z' });
    expect(withVersion(event({ id: 4 }, { deleted: true }), 'updated_at', RECEIVED, DATE_TIME)['_sdc_deleted_at']).toBe(RECEIVED);
  });
});

/** Stripe signs `t.body` with the whsec_ secret as the key. */
const STRIPE_SECRET = 'whsec_stripe_test_secret_31415';
function stripeHeaders(body: string): Record<string, string> {
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex');
  return { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` };
}

describe('sync listen rest: Stripe-style events (epoch `created`, objects without updated_at) out of order', () => {
  it('keeps a deletion that arrived before an older update, stamped and versioned at its event time', async () => {
    const dir = tmp.dir;
    const config = join(dir, 'stripe.json');
    writeFileSync(
      config,
      JSON.stringify({
        base_url: 'http://127.0.0.1:9',
        streams: [
          {
            name: 'subscriptions',
            path: '/v1/subscriptions',
            records_path: 'data',
            primary_key: 'id',
            replication_key: 'updated_at',
            schema: { type: 'object', properties: { id: { type: 'string' }, status: { type: ['string', 'null'] }, updated_at: DATE_TIME } },
          },
        ],
        webhooks: {
          scheme: { kind: 'stripe' },
          event_path: 'type',
          events: {
            'customer.subscription.updated': { stream: 'subscriptions', object_path: 'data.object' },
            'customer.subscription.deleted': { stream: 'subscriptions', object_path: 'data.object', deleted: true },
          },
          delivery_id: { path: 'id' },
          time_path: 'created',
        },
      }),
    );
    // --discover says so: the version a delivery gets, and which events delete.
    const discovered = await runSync(['run', 'rest', '--config', config, '--discover'], { cwd: dir });
    expect(discovered.code, discovered.stderr).toBe(0);
    const catalog = JSON.parse(discovered.stdout) as { streams: Array<{ metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
    const meta = catalog.streams[0]?.metadata.find((m) => m.breadcrumb.length === 0)?.metadata;
    expect(meta?.['sync-version']).toBe("the record's updated_at (a delivery whose object has none takes the event's created); the newest copy of a row wins, whichever path wrote it");
    expect(meta?.['sync-deletions']).toBe("webhook events customer.subscription.deleted mark the row deleted (_sdc_deleted_at: the event's created)");
    const { child, url, done } = await startListen(['rest', '--config', config], { cwd: dir, env: { SYNC_REST_WEBHOOK_SECRET: STRIPE_SECRET } });
    const send = async (body: JsonObject) => {
      const text = JSON.stringify(body);
      const r = await fetch(`${url}/webhooks/rest`, { method: 'POST', headers: stripeHeaders(text), body: text });
      await r.arrayBuffer();
      return r.status;
    };
    // 2026-01-01T00:00:00Z and an hour later; the later deletion is delivered first.
    const deletion = { id: 'evt_2', type: 'customer.subscription.deleted', created: 1767229200, data: { object: { id: 'sub_1', status: 'canceled' } } };
    const update = { id: 'evt_1', type: 'customer.subscription.updated', created: 1767225600, data: { object: { id: 'sub_1', status: 'active' } } };
    const fresh = { id: 'evt_3', type: 'customer.subscription.updated', created: 1767225600, data: { object: { id: 'sub_2', status: 'trialing' } } };
    expect(await send(deletion)).toBe(200);
    expect(await send(update)).toBe(200);
    expect(await send(fresh)).toBe(200);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const db = new Database(join(dir, 'sync.db'), { readonly: true });
    const rows = db.prepare('SELECT id, status, updated_at, _sdc_deleted_at FROM subscriptions ORDER BY id').all();
    db.close();
    expect(rows).toEqual([
      { id: 'sub_1', status: 'canceled', updated_at: '2026-01-01T01:00:00.000Z', _sdc_deleted_at: '2026-01-01T01:00:00.000Z' },
      { id: 'sub_2', status: 'trialing', updated_at: '2026-01-01T00:00:00.000Z', _sdc_deleted_at: null },
    ]);
  });
});

describe('a stream read in full each run, versioned by version_key', () => {
  it('keeps the batch copy when an older copy arrives later by webhook, and says so in --discover', async () => {
    const dir = join(tmp.dir, 'version-key');
    mkdirSync(dir, { recursive: true });
    const api = await startServer((_req, res) => sendJson(res, 200, { items: [{ id: 1, status: 'shipped', updated_at: '2026-02-01T00:00:00Z' }] }));
    try {
      const config = join(dir, 'api.json');
      writeFileSync(
        config,
        JSON.stringify({
          base_url: api.url,
          streams: [
            {
              name: 'parcels',
              path: '/parcels',
              records_path: 'items',
              primary_key: 'id',
              version_key: 'updated_at',
              schema: { type: 'object', properties: { id: { type: 'integer' }, status: { type: ['string', 'null'] }, updated_at: DATE_TIME } },
            },
          ],
          webhooks: { scheme: { kind: 'token', header: 'x-token' }, event_path: 'type', events: { 'parcel.updated': { stream: 'parcels', object_path: 'data' } } },
        }),
      );
      const discovered = await runSync(['run', 'rest', '--config', config, '--discover'], { cwd: dir });
      expect(discovered.code, discovered.stderr).toBe(0);
      const catalog = JSON.parse(discovered.stdout) as { streams: Array<{ replication_method: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
      expect(catalog.streams[0]?.replication_method).toBe('FULL_TABLE');
      const meta = catalog.streams[0]?.metadata.find((m) => m.breadcrumb.length === 0)?.metadata;
      expect(meta?.['sync-version']).toBe("the record's updated_at (a delivery whose object has none carries none); the newest copy of a row wins, whichever path wrote it");

      const run = await runSync(['run', 'rest', '--config', config], { cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      const { child, url, done } = await startListen(['rest', '--config', config], { cwd: dir, env: { SYNC_REST_WEBHOOK_SECRET: 'tok-parcels-0001' } });
      const late = JSON.stringify({ type: 'parcel.updated', data: { id: 1, status: 'packed', updated_at: '2026-01-15T00:00:00Z' } });
      const fresh = JSON.stringify({ type: 'parcel.updated', data: { id: 2, status: 'packed', updated_at: '2026-01-15T00:00:00Z' } });
      for (const body of [late, fresh]) {
        const r = await fetch(`${url}/webhooks/rest`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-token': 'tok-parcels-0001' }, body });
        await r.arrayBuffer();
        expect(r.status).toBe(200);
      }
      child.kill('SIGTERM');
      const listened = await done;
      expect(listened.code, listened.stderr).toBe(0);
      const db = new Database(join(dir, 'sync.db'), { readonly: true });
      const rows = db.prepare('SELECT id, status, updated_at FROM parcels ORDER BY id').all();
      db.close();
      expect(rows).toEqual([
        { id: 1, status: 'shipped', updated_at: '2026-02-01T00:00:00Z' },
        { id: 2, status: 'packed', updated_at: '2026-01-15T00:00:00Z' },
      ]);
    } finally {
      await api.close();
    }
  });

  it('is for streams without a replication_key', () => {
    const { problems } = parseDescription({ base_url: 'https://api.example.com', streams: [{ name: 'x', path: '/x', replication_key: 'u', version_key: 'v' }] });
    expect(problems).toEqual(['streams[0].version_key: a stream with a replication_key is versioned by it: give version_key only to a stream read in full']);
  });
});
