import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseInstant } from '../../src/protocol/instant.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { runSync, startListen } from '../helpers/cli.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { deliver, payload, SECRET, sign } from '../listen/helpers.js';
import { config, readAll, type StreamName } from '../sample/helpers.js';

/**
 * Webhook coverage on a known mix, for any keyed target: the sample shop changes between two
 * runs, some of the changes are delivered through `sync listen` and the others withheld, and
 * the second run must count exactly which of the changes it found webhooks had delivered.
 */

const FIRST = '2025-09-01T00:00:00Z';
const SECOND = '2025-09-15T00:00:00Z';
const SHOP = { customers: 30, orders: 300 };
const env = (now: string) => ({
  SYNC_SAMPLE_NOW: now,
  SYNC_SAMPLE_CUSTOMERS: String(SHOP.customers),
  SYNC_SAMPLE_ORDERS: String(SHOP.orders),
  SYNC_SAMPLE_WEBHOOK_SECRET: SECRET,
});

interface Coverage {
  found: number;
  delivered: number;
  runs: number;
  share: number | null;
  lateMedianMs: number | null;
}
interface Report {
  connectors: Array<{ stateId: string; streams: Array<{ stream: string; coverage: Coverage | null }> }>;
  drains: Array<{ connector: string; stateId: string; exitCode: number; deliveries: number; records: number; dead: number }>;
}

export interface CoverageTarget {
  dir: string;
  /** The --target of every command. */
  target: string;
  /** Each stored row's `_sync_version`, by id. */
  versions(stream: StreamName): Promise<Array<{ id: number; version: string }>>;
  /** The `changes` of the last run recorded, as stored. */
  lastChanges(): Promise<unknown>;
}

export function micros(value: unknown): number {
  const parsed = typeof value === 'string' ? parseInstant(value) : undefined;
  if (parsed === undefined) throw new Error(`not an instant: ${String(value)}`);
  return parsed;
}

/** The objects of a stream the second run finds changed since the first stored them, in the order it reads them. */
async function changesBetween(t: CoverageTarget, stream: StreamName, bookmark: string): Promise<JsonObject[]> {
  const stored = new Map((await t.versions(stream)).map((r) => [r.id, micros(r.version)]));
  const read = await readAll(stream, config({ ...SHOP, now: SECOND }), bookmark);
  return read.filter((r) => {
    const before = stored.get(r['id'] as number);
    return before !== undefined && micros(r['updated_at']) > before;
  });
}

/** Bounds of the median delay the run measures: from each change's version to the moment the run found it. */
function medianBounds(withheld: readonly JsonObject[], before: number, after: number): [number, number] {
  const versions = withheld.map((r) => micros(r['updated_at']) / 1000).sort((a, b) => a - b);
  const mid = versions.length / 2;
  const middle = versions.length % 2 === 1 ? (versions[Math.floor(mid)] as number) : ((versions[mid - 1] as number) + (versions[mid] as number)) / 2;
  return [before - middle - 1, after - middle + 1];
}

export async function checkCoverageMix(t: CoverageTarget): Promise<void> {
  const sync = (args: string[], now = SECOND) => runSync([...args, '--target', t.target], { cwd: t.dir, env: env(now) });
  const first = await sync(['run', 'sample'], FIRST);
  expect(first.code, first.stderr).toBe(0);
  const state = JSON.parse((await sync(['state', 'show', 'sample'])).stdout) as { bookmarks: Record<StreamName, { replication_key_value: string }> };

  const customers = await changesBetween(t, 'customers', state.bookmarks.customers.replication_key_value);
  const orders = await changesBetween(t, 'orders', state.bookmarks.orders.replication_key_value);
  // The mix: every third customer change and the first three order changes are delivered, the rest withheld.
  expect(customers.length).toBeGreaterThanOrEqual(4);
  expect(orders.length).toBeGreaterThanOrEqual(6);
  const sent = { customers: customers.filter((_, i) => i % 3 === 0), orders: orders.slice(0, 3) };
  const withheld = { customers: customers.filter((_, i) => i % 3 !== 0), orders: orders.slice(3) };

  const listener = await startListen(['sample', '--journal', 'inbox.db', '--target', t.target], { cwd: t.dir, env: env(SECOND) });
  for (const stream of ['customers', 'orders'] as const) {
    for (const record of sent[stream]) expect((await deliver(listener.url, sign(payload(`${stream}.updated`, record)))).status).toBe(200);
  }
  // SIGTERM: the drain writes every stored delivery into the table before the listener exits.
  listener.child.kill('SIGTERM');
  expect((await listener.done).code).toBe(0);

  const before = Date.now();
  const second = await sync(['run', 'sample', '--metrics-file', 'sync.prom']);
  const after = Date.now();
  expect(second.code, second.stderr).toBe(0);

  const report = JSON.parse((await sync(['status', '--format', 'json'])).stdout) as Report;
  // The drain's newest row, kept where the state is: a record per delivery (its first batch may
  // have had a row of its own, so at most every delivery sent).
  const [drain, ...others] = report.drains;
  expect(others).toEqual([]);
  expect(drain).toMatchObject({ connector: 'sample', stateId: 'listen', exitCode: 0, dead: 0, records: drain?.deliveries });
  expect(drain?.deliveries).toBeGreaterThan(0);
  expect(drain?.deliveries).toBeLessThanOrEqual(sent.customers.length + sent.orders.length);
  expect(report.connectors.map((c) => c.stateId)).toEqual(['sample']);
  const coverage = (stream: string) => report.connectors[0]?.streams.find((s) => s.stream === stream)?.coverage;
  for (const stream of ['customers', 'orders'] as const) {
    const found = sent[stream].length + withheld[stream].length;
    // The first run found nothing to compare (every object was new) and counts as a run.
    expect(coverage(stream)).toMatchObject({ found, delivered: sent[stream].length, runs: 2, share: sent[stream].length / found });
    const [low, high] = medianBounds(withheld[stream], before, after);
    expect(coverage(stream)?.lateMedianMs).toBeGreaterThanOrEqual(low);
    expect(coverage(stream)?.lateMedianMs).toBeLessThanOrEqual(high);
  }

  const metrics = parsePrometheusText(readFileSync(join(t.dir, 'sync.prom'), 'utf8'));
  const metric = (name: string, stream: string) => metrics.get(name)?.samples.find((s) => s.labels['stream'] === stream)?.value;
  expect(metric('sync_webhook_coverage_ratio', 'customers')).toBeCloseTo(sent.customers.length / customers.length, 9);
  expect(metric('sync_webhook_changes_found', 'orders')).toBe(orders.length);
  const [low, high] = medianBounds(withheld.orders, before, after);
  expect(metric('sync_webhook_late_median_seconds', 'orders')).toBeGreaterThanOrEqual(low / 1000);
  expect(metric('sync_webhook_late_median_seconds', 'orders')).toBeLessThanOrEqual(high / 1000);

  // The table says it in words.
  const text = (await sync(['status'])).stdout;
  const share = Math.round((sent.customers.length / customers.length) * 100);
  expect(text).toMatch(new RegExp(`customers .* ${share}% of ${customers.length} changes \\(2 runs\\), the others found \\d+ days after the change \\(median\\)`));

  // Run again at the same moment: what it re-reads at its inclusive bookmarks it wrote itself, so it finds no change.
  expect((await sync(['run', 'sample'])).code).toBe(0);
  expect(await t.lastChanges()).toEqual({ customers: { found: 0, delivered: 0 }, orders: { found: 0, delivered: 0 } });
}
