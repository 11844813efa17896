import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { histogramSeries, parsePrometheusText, type Family } from '../helpers/prometheus-text.js';
import { config, readAll } from '../sample/helpers.js';
import { NOW, OTHER_SECRET, SECRET, deliver, get, journalRows, payload, post, sign, spawnListener, waitFor, type Delivery, type Spawned, stoppedAfterEach } from './helpers.js';
import { caseFolders, runSync } from '../helpers/cli.js';

/** `GET /metrics` of the real binary, scraped while signed deliveries arrive, read with the strict exposition parser. */

const fresh = caseFolders('sync-listen-metrics-');
const children = stoppedAfterEach();
async function listen(dir: string, args: string[] = []): Promise<Spawned> {
  const spawned = await spawnListener(dir, args, env);
  children.push(spawned);
  return spawned;
}

const env = { SYNC_SAMPLE_NOW: NOW, SYNC_SAMPLE_CUSTOMERS: '5', SYNC_SAMPLE_ORDERS: '5' };
const [template] = await readAll('customers', config({ customers: 5, orders: 5, now: NOW }));
if (!template) throw new Error('the sample shop has no customer');
const customer = (id: number, extra: JsonObject = {}): JsonObject => ({ ...template, id, email: `c${id}@example.com`, updated_at: '2026-03-01T12:00:00.000Z', ...extra });
const created = (id: number): Delivery => sign(payload('customers.created', customer(id)));
/** Signed correctly, stored, but the mapping refuses it (plan must be a string): a dead letter. */
const unusable = (id: number): Delivery => sign(payload('customers.created', customer(id, { plan: 42 })));

interface Scrape {
  text: string;
  families: Map<string, Family>;
}

async function scrape(url: string): Promise<Scrape> {
  const reply = await get(`${url}/metrics`);
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return { text: reply.text, families: parsePrometheusText(reply.text) };
}

function family(s: Scrape, name: string, type: string): Family {
  const found = s.families.get(name);
  if (!found) throw new Error(`no family ${name} in:\n${s.text}`);
  expect(found.type).toBe(type);
  return found;
}

/** The value of the one series with exactly these labels; 0 when the series is absent (a counter not yet touched). */
function value(s: Scrape, name: string, labels: Record<string, string>, type = 'counter'): number {
  const matches = family(s, name, type).samples.filter(
    (sample) => sample.name === name && Object.keys(sample.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
  );
  if (matches.length > 1) throw new Error(`${matches.length} series of ${name} with ${JSON.stringify(labels)}`);
  return matches[0]?.value ?? 0;
}

const deliveries = (s: Scrape, labels: Record<string, string>): number => value(s, 'sync_listen_deliveries_total', { connector: 'sample', ...labels });
const gauge = (s: Scrape, name: string): number => value(s, name, { connector: 'sample' }, 'gauge');

describe('sync listen: GET /metrics', () => {
  it('counts deliveries by outcome while they arrive (stored, duplicate, refused with its reason, unknown path); the latency histogram holds every one', async () => {
    const l = await listen(fresh());
    const before = await scrape(l.url);
    expect(deliveries(before, { status: '200', outcome: 'stored' })).toBe(0);
    expect(deliveries(before, { status: '200', outcome: 'duplicate' })).toBe(0);
    // Process series come from prom-client's defaults.
    expect(family(before, 'process_cpu_seconds_total', 'counter').samples[0]?.value).toBeGreaterThan(0);

    const sent = Array.from({ length: 40 }, (_, i) => created(10_000 + i));
    // Scrapes interleaved with the deliveries: every one parses, and the count only grows.
    let answered = 0;
    const seen: number[] = [];
    const sending = Promise.all(
      sent.map(async (d) => {
        const reply = await deliver(l.url, d);
        answered++;
        return reply.status;
      }),
    );
    while (answered < sent.length) seen.push(deliveries(await scrape(l.url), { status: '200', outcome: 'stored' }));
    expect(await sending).toEqual(sent.map(() => 200));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.every((v) => v <= sent.length)).toBe(true);

    const again = sent.slice(0, 3);
    for (const d of again) expect((await deliver(l.url, d)).text).toBe('duplicate\n');
    const forged = [sign(payload('customers.created', customer(20_000)), { secret: OTHER_SECRET }), sign(payload('customers.created', customer(20_001)), { secret: OTHER_SECRET })];
    for (const d of forged) expect((await deliver(l.url, d)).status).toBe(401);
    const stale = sign(payload('customers.created', customer(20_002)), { date: new Date(Date.now() - 3_600_000) });
    expect((await deliver(l.url, stale)).status).toBe(401);
    expect((await post(`${l.url}/webhooks/nope`, '{}', {})).status).toBe(404);

    const after = await scrape(l.url);
    expect(deliveries(after, { status: '200', outcome: 'stored' })).toBe(sent.length);
    expect(deliveries(after, { status: '200', outcome: 'duplicate' })).toBe(again.length);
    expect(deliveries(after, { status: '401', outcome: 'refused', reason: 'signature mismatch' })).toBe(forged.length);
    expect(deliveries(after, { status: '401', outcome: 'refused', reason: 'timestamp too old' })).toBe(1);
    // The unknown path is counted without a connector: the path is the sender's text, not a label.
    expect(value(after, 'sync_listen_deliveries_total', { status: '404', outcome: 'not_found' })).toBe(1);

    const requests = sent.length + again.length + forged.length + 1;
    const total = family(after, 'sync_listen_deliveries_total', 'counter')
      .samples.filter((s) => s.labels['connector'] === 'sample')
      .reduce((sum, s) => sum + s.value, 0);
    expect(total).toBe(requests);
    const [latency, ...others] = histogramSeries(family(after, 'sync_listen_request_duration_seconds', 'histogram'), { connector: 'sample' });
    expect(others).toEqual([]);
    expect(latency?.count).toBe(requests);
    expect(latency?.sum).toBeGreaterThan(0);
    expect(latency?.buckets.map((b) => b.le)).toEqual([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity]);

    // Low-cardinality labels only: no delivery id, no path, no body.
    for (const d of [...sent, ...forged, stale]) expect(after.text).not.toContain(d.id);
    expect(after.text).not.toContain('/webhooks');
    expect(after.text).not.toContain('c10000@example.com');
  });

  it('shows the journal: pending with the drain lag while the target is locked, then a dead letter and nothing pending once drained', async () => {
    const dir = fresh();
    // The target is held locked: the drain cannot commit, so every stored delivery stays pending.
    const holder = new Database(join(dir, 'sync.db'));
    holder.exec('BEGIN EXCLUSIVE');
    let held = true;
    try {
      const l = await listen(dir);
      const idle = await scrape(l.url);
      expect(gauge(idle, 'sync_listen_journal_pending')).toBe(0);
      expect(gauge(idle, 'sync_listen_journal_dead')).toBe(0);
      expect(gauge(idle, 'sync_listen_drain_lag_seconds')).toBe(0);

      const sent = [created(30_000), unusable(30_001), created(30_002)];
      for (const d of sent) expect((await deliver(l.url, d)).status).toBe(200);
      const waiting = await waitFor(async () => {
        const s = await scrape(l.url);
        return gauge(s, 'sync_listen_journal_pending') === sent.length && gauge(s, 'sync_listen_drain_lag_seconds') > 0 ? s : undefined;
      }, 'three pending deliveries and a drain lag');
      expect(gauge(waiting, 'sync_listen_journal_dead')).toBe(0);
      expect(journalRows(join(dir, 'sync-inbox.db')).map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);

      holder.exec('COMMIT');
      holder.close();
      held = false;
      const drained = await waitFor(async () => {
        const s = await scrape(l.url);
        return gauge(s, 'sync_listen_journal_pending') === 0 ? s : undefined;
      }, 'the journal to drain');
      expect(gauge(drained, 'sync_listen_journal_dead')).toBe(1);
      expect(gauge(drained, 'sync_listen_drain_lag_seconds')).toBe(0);
      expect(journalRows(join(dir, 'sync-inbox.db')).map((r) => r.status)).toEqual(['done', 'dead', 'done']);
      expect(value(drained, 'sync_listen_journal_read_errors_total', {})).toBe(0);
    } finally {
      if (held) {
        holder.exec('ROLLBACK');
        holder.close();
      }
    }
  });

  it('--metrics-port serves it on a port of its own, on the same host (0: the chosen port is printed, with --quiet too); the webhook port then answers 404 for it', async () => {
    const l = await listen(fresh(), ['--metrics-port', '0', '--quiet']);
    const printed = /^listening on http:\/\/\S+: .*; metrics at (http:\/\/(\S+):(\d+)\/metrics)$/m.exec(l.stderr());
    expect(printed, l.stderr()).not.toBeNull();
    const [, metricsUrl = '', host, port] = printed ?? [];
    const webhooks = new URL(l.url);
    expect(host).toBe(webhooks.hostname);
    expect(Number(port)).toBeGreaterThan(0);
    expect(port).not.toBe(webhooks.port);
    const base = metricsUrl.replace(/\/metrics$/, '');

    expect((await deliver(l.url, created(40_000))).status).toBe(200);
    const scraped = await scrape(base);
    expect(deliveries(scraped, { status: '200', outcome: 'stored' })).toBe(1);
    expect(gauge(scraped, 'sync_listen_journal_dead')).toBe(0);
    // Only /metrics there; and no /metrics where senders deliver.
    expect((await get(`${l.url}/metrics`)).status).toBe(404);
    expect((await deliver(base, created(40_001))).status).toBe(404);
    expect((await get(`${base}/healthz`)).status).toBe(404);
    // The webhook port's 404 for /metrics is counted like any unknown path.
    expect(value(await scrape(base), 'sync_listen_deliveries_total', { status: '404', outcome: 'not_found' })).toBe(1);
  });

  it('a --metrics-port in use stops the start with exit 75, naming that flag', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await runSync(['listen', 'sample', '--port', '0', '--metrics-port', String(port)], { cwd: fresh(), env: { ...env, SYNC_SAMPLE_WEBHOOK_SECRET: SECRET } });
      expect(result.code, result.stderr).toBe(75);
      expect(result.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is already in use; choose another --metrics-port`));
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
