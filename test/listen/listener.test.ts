import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import sample from '../../connectors/sample/index.js';
import { defineConnector } from '../../src/connector/contract.js';
import { serveConnector } from '../../src/listen/service.js';
import { isJsonObject, type JsonObject } from '../../src/protocol/json.js';
import { runSync, tempDir } from '../helpers/cli.js';
import { withoutRunMark } from '../helpers/files.js';
import { config, readAll } from '../sample/helpers.js';
import {
  NOW,
  OTHER_SECRET,
  SECRET,
  deliver,
  get,
  journalRows,
  payload,
  post,
  rawSocket,
  requestHead,
  rows,
  sign,
  startInProcess,
  waitFor,
  type InProcess,
} from './helpers.js';

const tmp = tempDir('sync-listen-');
afterAll(tmp.cleanup);
let n = 0;
const fresh = (): string => {
  const dir = join(tmp.dir, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

let running: InProcess | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
async function listener(options: Parameters<typeof startInProcess>[1] = {}): Promise<InProcess> {
  running = await startInProcess(fresh(), options);
  return running;
}

const customers = await readAll('customers', config({ customers: 3, orders: 5, now: NOW }));
const orders = await readAll('orders', config({ customers: 3, orders: 5, now: NOW }));
const customer = (id: number): JsonObject => {
  const found = customers.find((c) => c['id'] === id);
  if (!found) throw new Error(`no customer ${id}`);
  return { ...found };
};

describe('sync listen: one delivery', () => {
  it('lands in the target exactly as `sync run sample` writes the same objects', async () => {
    const dir = fresh();
    const env = { SYNC_SAMPLE_NOW: NOW, SYNC_SAMPLE_CUSTOMERS: '3', SYNC_SAMPLE_ORDERS: '5' };
    const batch = await runSync(['run', 'sample', '--target', `sqlite:${join(dir, 'batch.db')}`], { cwd: dir, env });
    expect(batch.code).toBe(0);

    const l = await listener();
    for (const c of customers) expect((await deliver(l.url, sign(payload('customers.created', c)))).status).toBe(200);
    for (const o of orders) expect((await deliver(l.url, sign(payload('orders.created', o)))).status).toBe(200);
    await waitFor(() => (rows(l.target, 'orders').length === orders.length ? true : undefined), 'the orders in the target');

    const tableSql = (db: string, table: string): unknown => {
      const d = new Database(db, { readonly: true });
      try {
        return d.prepare(`SELECT sql FROM sqlite_master WHERE name = ?`).get(table);
      } finally {
        d.close();
      }
    };
    // The same tables and rows, but for the mark only `sync run` leaves (webhook coverage).
    for (const table of ['customers', 'orders']) {
      expect(tableSql(l.target, table)).toEqual({ sql: (tableSql(join(dir, 'batch.db'), table) as { sql: string }).sql.replace(', "_sync_run_version"', '') });
      expect(rows(l.target, table)).toEqual(rows(join(dir, 'batch.db'), table).map(withoutRunMark));
    }
    expect(rows(l.target, 'customers')).toHaveLength(3);
    expect(l.logs.some((line) => /^delivery \(connector=sample, event=customers\.created, id=msg_\S+, status=200, ms=\d+\)/.test(line))).toBe(true);
  });

  it('answers only after the delivery is in the journal, raw', async () => {
    const l = await listener();
    const body = payload('customers.updated', customer(1));
    const d = sign(body);
    const reply = await deliver(l.url, d);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('stored\n');
    const stored = journalRows(l.journal);
    expect(stored.map((r) => r.delivery_id)).toEqual([d.id]);
    expect(stored[0]?.body.toString('utf8')).toBe(body);
  });

  it('a deletion sets _sdc_deleted_at and the version to the deletion time', async () => {
    const l = await listener();
    const c: JsonObject = { ...customer(2), _sdc_deleted_at: null };
    await deliver(l.url, sign(payload('customers.created', c)));
    await deliver(l.url, sign(payload('customers.deleted', c, '2026-03-02T08:00:00Z')));
    const row = await waitFor(() => rows(l.target, 'customers').find((r) => r['_sdc_deleted_at'] !== null), 'the deleted row');
    expect(row['id']).toBe(2);
    expect(row['_sdc_deleted_at']).toBe('2026-03-02T08:00:00Z');
    expect(row['updated_at']).toBe('2026-03-02T08:00:00Z');
    expect(row['name']).toBe(c['name']);
  });

  it('keeps the newest version whatever the arrival order', async () => {
    const l = await listener();
    const newer = { ...customer(1), plan: 'newer', updated_at: '2026-03-05T00:00:00.000Z' };
    const older = { ...customer(1), plan: 'older', updated_at: '2026-03-04T00:00:00.000Z' };
    await deliver(l.url, sign(payload('customers.updated', newer)));
    await waitFor(() => rows(l.target, 'customers')[0], 'the first version');
    await deliver(l.url, sign(payload('customers.updated', older)));
    await waitFor(() => (journalRows(l.journal).every((r) => r.status === 'done') ? true : undefined), 'both deliveries drained');
    expect(rows(l.target, 'customers').map((r) => r['plan'])).toEqual(['newer']);
  });

  it('moves a delivery the mapping refuses to the dead letters and goes on', async () => {
    const l = await listener();
    await deliver(l.url, sign(payload('refunds.created', customer(1))));
    await deliver(l.url, sign(payload('customers.created', { ...customer(1), plan: 42 })));
    await deliver(l.url, sign(payload('customers.created', customer(3))));
    await waitFor(() => (journalRows(l.journal).every((r) => r.status !== 'pending') ? true : undefined), 'all drained');
    const journal = journalRows(l.journal);
    expect(journal.map((r) => r.status)).toEqual(['dead', 'dead', 'done']);
    expect(journal[0]?.error).toMatch(/stream "refunds", which sample does not have/);
    expect(journal[1]?.error).toMatch(/RECORD of stream "customers" is invalid: plan must be string/);
    expect(rows(l.target, 'customers').map((r) => r['id'])).toEqual([3]);
    expect(l.logs.some((line) => line.startsWith('warning: sample delivery') && line.includes('dead letter'))).toBe(true);
  });
});

describe('sync listen: what is refused', () => {
  it('a tampered body: 401, nothing stored, a log line with the reason but no secret or signature', async () => {
    const l = await listener();
    const d = sign(payload('customers.updated', customer(1)));
    const reply = await deliver(l.url, { ...d, body: (d.body as string).replace('"plan":"', '"plan":"x') });
    expect(reply.status).toBe(401);
    expect(journalRows(l.journal)).toEqual([]);
    // The drain takes deliveries in journal order: once a later one is in the target, anything
    // the tampered one could have left would be there too.
    const later = sign(payload('customers.updated', customer(2)));
    expect((await deliver(l.url, later)).status).toBe(200);
    await waitFor(() => (journalRows(l.journal)[0]?.status === 'done' ? true : undefined), 'the later delivery drained');
    expect(journalRows(l.journal).map((r) => r.delivery_id)).toEqual([later.id]);
    expect(rows(l.target, 'customers').map((r) => r['id'])).toEqual([2]);
    const line = l.logs.find((x) => x.includes('status=401'));
    expect(line).toMatch(/connector=sample/);
    expect(line).toMatch(/reason=/);
    const signature = d.headers['webhook-signature'] as string;
    expect(l.logs.join('')).not.toContain(signature.slice(3));
    expect(l.logs.join('')).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  });

  it('a wrong secret: 401', async () => {
    const l = await listener();
    const reply = await deliver(l.url, sign(payload('customers.updated', customer(1)), { secret: OTHER_SECRET }));
    expect(reply.status).toBe(401);
    expect(journalRows(l.journal)).toEqual([]);
  });

  it('accepts any of several secrets (rotation)', async () => {
    const l = await listener({ secrets: [OTHER_SECRET, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] });
    expect((await deliver(l.url, sign(payload('customers.updated', customer(1)), { secret: OTHER_SECRET }))).status).toBe(200);
    expect((await deliver(l.url, sign(payload('customers.updated', customer(2))))).status).toBe(200);
  });

  it('a stale or a future timestamp: 401', async () => {
    const l = await listener();
    const body = payload('customers.updated', customer(1));
    expect((await deliver(l.url, sign(body, { date: new Date(Date.now() - 10 * 60_000) }))).status).toBe(401);
    expect((await deliver(l.url, sign(body, { date: new Date(Date.now() + 10 * 60_000) }))).status).toBe(401);
    expect((await deliver(l.url, sign(body, { date: new Date(Date.now() - 60_000) }))).status).toBe(200);
    expect(journalRows(l.journal)).toHaveLength(1);
  });

  it('a replayed delivery id: 2xx, stored once', async () => {
    const l = await listener();
    const body = payload('customers.updated', customer(1));
    const first = sign(body);
    expect((await deliver(l.url, first)).text).toBe('stored\n');
    // A retry: same id, a new attempt time and signature.
    const again = await deliver(l.url, sign(body, { id: first.id, date: new Date(Date.now() + 2_000) }));
    expect(again.status).toBe(200);
    expect(again.text).toBe('duplicate\n');
    const concurrent = await Promise.all([1, 2, 3].map(() => deliver(l.url, sign(body, { id: first.id }))));
    expect(concurrent.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(journalRows(l.journal).map((r) => r.delivery_id)).toEqual([first.id]);
  });

  it('keeps every header as sent: repeated ones apart, and one named __proto__ as a plain header', async () => {
    const l = await listener();
    const d = sign(payload('customers.updated', customer(1)));
    const reply = await post(`${l.url}/webhooks/sample`, d.body, { ...d.headers, ['__proto__']: 'not a prototype', 'X-Trace': ['a', 'b'] });
    expect(reply.status).toBe(200);
    const db = new Database(l.journal, { readonly: true });
    const stored = JSON.parse((db.prepare('SELECT headers FROM deliveries').get() as { headers: string }).headers) as Record<string, unknown>;
    db.close();
    expect(Object.getOwnPropertyNames(stored)).toContain('__proto__');
    expect(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value).toEqual(['not a prototype']);
    expect(stored['x-trace']).toEqual(['a', 'b']);
    expect(stored['webhook-id']).toEqual([d.headers['webhook-id']]);
  });

  it('a duplicated signature header: 401', async () => {
    const l = await listener();
    const d = sign(payload('customers.updated', customer(1)));
    const signature = d.headers['webhook-signature'] as string;
    const reply = await post(`${l.url}/webhooks/sample`, d.body, { ...d.headers, 'webhook-signature': [signature, signature] });
    expect(reply.status).toBe(401);
    expect(journalRows(l.journal)).toEqual([]);
  });

  it('a body over the cap: 413 and the connection closed, whether declared or streamed', async () => {
    const l = await listener({ maxBodyBytes: 4_096 });
    const big = payload('customers.updated', { ...customer(1), name: 'x'.repeat(5_000) });
    const declared = sign(big);
    const reply = await deliver(l.url, declared);
    expect(reply.status).toBe(413);
    expect(reply.headers['connection']).toBe('close');

    const raw = await rawSocket(l.url);
    const head = Object.entries(sign(big).headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    raw.socket.write(`POST /webhooks/sample HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n${head}\r\n\r\n`);
    for (let i = 0; i < 8; i++) raw.socket.write(`400\r\n${'y'.repeat(1024)}\r\n`);
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(journalRows(l.journal)).toEqual([]);
    // A body just under the cap is fine.
    expect((await deliver(l.url, sign(payload('customers.updated', customer(1))))).status).toBe(200);
  });

  it('bodies held at once share a budget: past it, 503 and the connection closed', async () => {
    const l = await listener({ maxBodyBytes: 8_000, maxBodyBytesInFlight: 10_000 });
    const first = sign(payload('customers.updated', { ...customer(1), name: 'a'.repeat(5_000) }));
    const second = sign(payload('customers.updated', { ...customer(2), name: 'b'.repeat(5_000) }));
    const open = async (d: typeof first, bytes: number) => {
      const raw = await rawSocket(l.url);
      const body = Buffer.from(d.body);
      raw.socket.write(requestHead(d));
      raw.socket.write(body.subarray(0, bytes));
      return { raw, rest: body.subarray(bytes) };
    };
    const { stats } = l.service.listener;
    const a = await open(first, 5_000);
    await waitFor(() => (stats.bodyBytesHeld === 5_000 ? true : undefined), 'the first body read as far as it was sent');
    const b = await open(second, 5_500);
    await b.raw.closed;
    expect(b.raw.received()).toMatch(/^HTTP\/1\.1 503 [^]*retry-after: 5/i);
    a.raw.socket.write(a.rest);
    await a.raw.closed;
    expect(a.raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(journalRows(l.journal).map((r) => r.delivery_id)).toEqual([first.id]);
  });

  it('a body sent one byte a second is cut off by the request timeout', async () => {
    const l = await listener({ requestTimeoutMs: 2_000 });
    const d = sign(payload('customers.updated', customer(1)));
    const body = Buffer.from(d.body);
    // At a byte a second the body would take minutes, far past the test's own timeout: the
    // connection closing with bytes unsent can only be the listener's doing.
    expect(body.length).toBeGreaterThan(120);
    const raw = await rawSocket(l.url);
    raw.socket.write(requestHead(d));
    let sent = 0;
    const timer = setInterval(() => {
      if (raw.socket.writable && sent < body.length) raw.socket.write(body.subarray(sent, ++sent));
    }, 1_000);
    await raw.closed;
    clearInterval(timer);
    expect(sent).toBeLessThan(body.length);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(journalRows(l.journal)).toEqual([]);
  });

  it('multi-byte UTF-8 split across TCP writes verifies and arrives intact', async () => {
    const l = await listener();
    const name = 'Zoë Ñandú 😀 日本';
    const d = sign(payload('customers.updated', { ...customer(1), name }));
    const body = Buffer.from(d.body);
    const emoji = body.indexOf(Buffer.from('😀'));
    const cuts = [emoji + 1, emoji + 3, body.indexOf(Buffer.from('本')) + 1];
    const raw = await rawSocket(l.url);
    raw.socket.write(requestHead(d));
    const { stats } = l.service.listener;
    let at = 0;
    for (const cut of cuts) {
      raw.socket.write(body.subarray(at, cut));
      at = cut;
      // The listener has read up to the cut before the next bytes leave: they arrive apart.
      await waitFor(() => (stats.bodyBytesHeld === cut ? true : undefined), `the body read up to byte ${cut}`);
    }
    raw.socket.write(body.subarray(at));
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    const row = await waitFor(() => rows(l.target, 'customers')[0], 'the row');
    expect(row['name']).toBe(name);
  });

  it('unknown paths and connectors: 404, never 410; other methods: 405', async () => {
    const l = await listener();
    const d = sign(payload('customers.updated', customer(1)));
    for (const path of ['/', '/webhooks', '/webhooks/', '/webhooks/github', '/webhooks/sample/extra', '/hooks/sample']) {
      expect((await post(`${l.url}${path}`, d.body, d.headers)).status, path).toBe(404);
    }
    expect((await get(`${l.url}/webhooks/sample`)).status).toBe(405);
    expect(journalRows(l.journal)).toEqual([]);
  });
});

describe('sync listen: operating it', () => {
  it('answers /healthz and /readyz', async () => {
    const l = await listener();
    expect(await get(`${l.url}/healthz`)).toMatchObject({ status: 200, text: 'ok\n' });
    expect(await get(`${l.url}/readyz`)).toMatchObject({ status: 200, text: 'ok\n' });
  });

  it('without room on the disk: readyz and deliveries get 503 with Retry-After, nothing stored', async () => {
    const l = await listener({ minFreeBytes: Number.MAX_SAFE_INTEGER });
    const ready = await get(`${l.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.text).toMatch(/free on the journal's disk/);
    const reply = await deliver(l.url, sign(payload('customers.updated', customer(1))));
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('5');
    expect(journalRows(l.journal)).toEqual([]);
    expect((await get(`${l.url}/healthz`)).status).toBe(200);
  });

  it('holds at most maxInFlight requests: past it deliveries get 503, and /readyz answers the same', async () => {
    const l = await listener({ maxInFlight: 1 });
    const { stats } = l.service.listener;
    const held = sign(payload('customers.updated', customer(1)));
    const body = Buffer.from(held.body);
    const raw = await rawSocket(l.url);
    raw.socket.write(requestHead(held));
    raw.socket.write(body.subarray(0, 10));
    await waitFor(() => (stats.inFlight === 1 ? true : undefined), 'the held delivery admitted');

    const other = sign(payload('customers.updated', customer(2)));
    const refused = await deliver(l.url, other);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.text).toBe('unavailable: too many requests in flight; retry later\n');
    expect(await get(`${l.url}/readyz`)).toMatchObject({ status: 503, text: 'not ready: too many requests in flight\n' });
    expect((await get(`${l.url}/healthz`)).status).toBe(200);

    raw.socket.write(body.subarray(10));
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    await waitFor(() => (stats.inFlight === 0 ? true : undefined), 'the held delivery finished');
    expect((await get(`${l.url}/readyz`)).status).toBe(200);
    expect((await deliver(l.url, other)).status).toBe(200);
    expect(journalRows(l.journal).map((r) => r.delivery_id)).toEqual([held.id, other.id]);
  });

  it('stopping: 503 to new deliveries, stored ones drained before stop returns', async () => {
    const l = await listener();
    const sent = Array.from({ length: 20 }, (_, i) => sign(payload('customers.created', { ...customer(1), id: 2_000 + i })));
    const replies = await Promise.all(sent.map((d) => deliver(l.url, d)));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const report = await l.service.stop({ requestGraceMs: 1_000, drainDeadlineMs: 10_000 });
    expect(report.pending).toBe(0);
    expect(report.drained?.done).toBe(20);
    expect(rows(l.target, 'customers')).toHaveLength(20);
    await expect(deliver(l.url, sign(payload('customers.created', customer(1))))).rejects.toThrow(/ECONNREFUSED/);
    running = undefined;
  });

  it('retention: a retry inside the window is a duplicate; done deliveries past it are deleted, dead letters kept; a later copy is stored again', async () => {
    const dir = fresh();
    const body = payload('customers.updated', customer(1));
    const d = sign(body);
    // A window far longer than the test: sweeps run, but nothing is old enough for them.
    const first = await startInProcess(dir, { retention: { olderThanMs: 3_600_000, everyMs: 100 } });
    running = first;
    expect((await deliver(first.url, d)).text).toBe('stored\n');
    expect((await deliver(first.url, sign(payload('refunds.created', customer(2))))).text).toBe('stored\n');
    await waitFor(() => (journalRows(first.journal).map((r) => r.status).join() === 'done,dead' ? true : undefined), 'both settled');
    // A retry inside the retention: recognised, stored once.
    expect((await deliver(first.url, sign(body, { id: d.id }))).text).toBe('duplicate\n');
    await first.stop();

    // The same journal with a window every delivery is already past.
    const second = await startInProcess(dir, { retention: { olderThanMs: 1, everyMs: 100 } });
    running = second;
    await waitFor(() => (journalRows(second.journal).length === 1 ? true : undefined), 'the done delivery pruned');
    expect(journalRows(second.journal).map((r) => r.status)).toEqual(['dead']);
    expect(second.logs.some((line) => /journal retention: deleted 1 done delivery received before/.test(line))).toBe(true);
    // Past the retention the id is forgotten: a (very late) redelivery is stored and processed again.
    expect((await deliver(second.url, sign(body, { id: d.id }))).text).toBe('stored\n');
    const report = await second.service.stop({ requestGraceMs: 2_000, drainDeadlineMs: 10_000 });
    running = undefined;
    expect(report.drained?.done).toBe(1);
    expect(report.pending).toBe(0);
    expect(rows(second.target, 'customers').map((r) => r['id'])).toEqual([1]);
  });

  it('lets a connector answer handshakes: unsigned ones before verification, signed ones after, nothing stored', async () => {
    const pinger = defineConnector({
      name: 'pinger',
      version: '0',
      description: 'a sender that checks the URL with a GET and pings with a signed POST',
      config: { properties: {} },
      streams: sample.streams,
      webhooks: {
        scheme: { kind: 'standard-webhooks' },
        secretSettings: [],
        eventName: { header: 'x-event' },
        handshake: {
          unsigned: (request) => (request.method === 'GET' ? { status: 200, body: 'hello' } : undefined),
          signed: (_request, json) => (isJsonObject(json) && json['type'] === 'ping' ? { status: 200, headers: { 'x-pong': '1' }, body: 'pong' } : undefined),
        },
        map: () => [],
      },
    });
    const l = await listener({ connectors: new Map([['pinger', serveConnector(pinger, [SECRET], { maxBodyBytes: 1_000, toleranceSeconds: 300 })]]) });
    expect(await get(`${l.url}/webhooks/pinger`)).toMatchObject({ status: 200, text: 'hello' });
    const ping = sign(JSON.stringify({ type: 'ping' }));
    expect(await post(`${l.url}/webhooks/pinger`, ping.body, { ...ping.headers, 'webhook-signature': 'v1,AAAA' })).toMatchObject({ status: 401 });
    const pong = await post(`${l.url}/webhooks/pinger`, ping.body, ping.headers);
    expect(pong).toMatchObject({ status: 200, text: 'pong' });
    expect(pong.headers['x-pong']).toBe('1');
    expect(journalRows(l.journal)).toEqual([]);
    const other = sign(JSON.stringify({ type: 'other' }));
    expect((await post(`${l.url}/webhooks/pinger`, other.body, { ...other.headers, 'x-event': 'thing.happened' })).text).toBe('stored\n');
    await waitFor(() => (journalRows(l.journal)[0]?.status === 'done' ? true : undefined), 'the delivery settled');
    expect(l.logs.some((line) => line.includes('event=thing.happened') && line.includes('status=200'))).toBe(true);
  });
});
