import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';

const tmp = tempDir('sync-metrics-');
afterAll(tmp.cleanup);

const value = (families: ReturnType<typeof parsePrometheusText>, name: string, labels: Record<string, string> = {}): number | undefined =>
  families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('sync run --metrics-file', () => {
  it('writes the figures of each run in Prometheus text format; a failed run keeps the last success time', async () => {
    const dir = join(tmp.dir, 'a');
    mkdirSync(join(dir, 'textfile'), { recursive: true });
    const before = Date.now() / 1000;
    const ok = await runSync(['run', 'sample', '--metrics-file', 'textfile/sync.prom'], { cwd: dir, env: { SYNC_SAMPLE_NOW: '2026-01-15T00:00:00Z' } });
    expect(ok.code, ok.stderr).toBe(0);
    const first = parsePrometheusText(readFileSync(join(dir, 'textfile/sync.prom'), 'utf8'));
    const labels = { connector: 'sample', state_id: 'sample' };
    expect([...first.values()].every((f) => f.type === 'gauge')).toBe(true);
    expect(value(first, 'sync_last_run_exit_code', labels)).toBe(0);
    expect(value(first, 'sync_last_run_records', { ...labels, stream: 'customers' })).toBe(100);
    expect(value(first, 'sync_last_run_records', { ...labels, stream: 'orders' })).toBe(500);
    const success = value(first, 'sync_last_success_timestamp_seconds', labels) ?? 0;
    expect(success).toBeGreaterThanOrEqual(before);
    expect(value(first, 'sync_last_run_duration_seconds', labels)).toBeGreaterThan(0);
    // The newest order dates from the simulated January 2026.
    expect(value(first, 'sync_bookmark_age_seconds', { ...labels, stream: 'orders' })).toBeGreaterThan(Date.now() / 1000 - Date.parse('2026-01-15T00:00:00Z') / 1000 - 60);

    const failed = await runSync(['run', 'sample', '--metrics-file', 'textfile/sync.prom'], { cwd: dir, env: { SYNC_SAMPLE_ORDERS: '-1' } });
    expect(failed.code).toBe(2);
    const second = parsePrometheusText(readFileSync(join(dir, 'textfile/sync.prom'), 'utf8'));
    expect(value(second, 'sync_last_run_exit_code', labels)).toBe(2);
    expect(value(second, 'sync_last_success_timestamp_seconds', labels)).toBe(success);
    expect(value(second, 'sync_last_run_timestamp_seconds', labels)).toBeGreaterThan(success);
    // Failed before it read its state (a setting out of range): the run's families are all still
    // there (only the webhook coverage, which it did not measure, is not). The bookmark ages are
    // read from the stored state; the records say 0 for this run.
    expect([...second.keys()].sort()).toEqual([...first.keys()].filter((name) => !name.startsWith('sync_webhook_')).sort());
    expect(second.size).toBe(6);
    const age = value(first, 'sync_bookmark_age_seconds', { ...labels, stream: 'orders' }) ?? 0;
    expect(value(second, 'sync_bookmark_age_seconds', { ...labels, stream: 'orders' })).toBeGreaterThanOrEqual(age);
    expect(value(second, 'sync_bookmark_age_seconds', { ...labels, stream: 'customers' })).toBeGreaterThan(0);
    expect(value(second, 'sync_last_run_records', { ...labels, stream: 'customers' })).toBe(0);
    expect(value(second, 'sync_last_run_records', { ...labels, stream: 'orders' })).toBe(0);
    // Replaced atomically: only the .prom file is left in the collector's folder.
    expect(readdirSync(join(dir, 'textfile'))).toEqual(['sync.prom']);
  });

  it('a metrics file that cannot be written is a warning, not a failed run', async () => {
    const dir = join(tmp.dir, 'b');
    mkdirSync(dir);
    const run = await runSync(['run', 'sample', '--metrics-file', 'missing/folder/sync.prom'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^warning: the metrics file missing\/folder\/sync\.prom was not written: ENOENT/m);
  });
});
