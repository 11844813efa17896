import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePostgresUrl } from '../../src/targets/postgres-url.js';
import { checkCoverageMix } from '../cli/status-coverage-mix.js';
import { runSync, tempDir } from '../helpers/cli.js';
import { postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';

/** Run history, state history and rewind, webhook coverage and `sync status`, kept in a PostgreSQL schema. */

const available = await postgresAvailable('test/postgres/history.test.ts');

const shop = (now: string, extra: Record<string, string> = {}) => ({ SYNC_SAMPLE_NOW: now, SYNC_SAMPLE_CUSTOMERS: '20', SYNC_SAMPLE_ORDERS: '50', ...extra });

interface Report {
  target: string;
  exists: boolean;
  connectors: Array<{
    connector: string;
    lastRun: { exitCode: number; records: number; error: string | null } | null;
    lastSuccess: { exitCode: number; records: number } | null;
    streams: Array<{ stream: string; bookmark: string }>;
  }>;
}

describe.skipIf(!available)('history and webhook coverage in a PostgreSQL target', () => {
  let schema: TestSchema;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    schema = await testSchema('sync_history');
    tmp = tempDir('sync-postgres-history-');
  });
  afterEach(async () => {
    tmp.cleanup();
    await schema.drop();
  });
  const sync = (args: string[], env: Record<string, string> = {}) => runSync(args, { cwd: tmp.dir, env });
  const table = (name: string) => `${quote(schema.name)}.${quote(name)}`;

  it('records every run beside _sync_state, and sync status reads it (and creates nothing before)', async () => {
    const before = await sync(['status', '--target', schema.url]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(/^postgres:\/\/.* does not exist: nothing was synced into it yet\n$/);
    expect((await sync(['state', 'history', 'sample', '--target', schema.url])).stderr).toMatch(/^no history: postgres:\/\/.* does not exist/);
    expect(await schema.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema.name])).toEqual([]);

    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-15T00:00:00Z'))).code).toBe(0);
    const failed = await sync(['run', 'sample', '--target', schema.url], shop('2026-01-15T00:00:00Z', { SYNC_SAMPLE_ORDERS: '-5' }));
    expect(failed.code).toBe(2);

    const runs = await schema.query<{ exit_code: number; records: Record<string, number>; error: string | null }>(
      `SELECT exit_code, records, error FROM ${table('_sync_runs')} ORDER BY id`,
    );
    expect(runs.map((r) => [r.exit_code, r.records])).toEqual([
      [0, { customers: 20, orders: 50 }],
      [2, {}],
    ]);
    expect(runs[1]?.error).toMatch(/orders \(SYNC_SAMPLE_ORDERS\): must be >= 0 \(got -5\)/);

    const status = await sync(['status', '--target', schema.url, '--format', 'json']);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as Report;
    expect(report.exists).toBe(true);
    expect(report.target).toMatch(new RegExp(`^postgres://postgres@127\\.0\\.0\\.1:5432/test\\?schema=${schema.name}$`));
    const sample = report.connectors[0];
    expect(sample?.connector).toBe('sample');
    expect(sample?.lastRun).toMatchObject({ exitCode: 2, records: 0 });
    expect(sample?.lastSuccess).toMatchObject({ exitCode: 0, records: 70 });
    expect(sample?.streams.map((s) => s.stream)).toEqual(['customers', 'orders']);

    const text = await sync(['status', '--target', schema.url]);
    expect(text.stdout).toMatch(/last run {6}\d+ s ago {2}failed \(exit 2\)/);
    const check = await sync(['status', '--check', '--target', schema.url]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^sample: the last run failed \d+ s ago \(exit 2\)/);
  });

  it('keeps every committed state; a rewind puts one back under the run lock and the next run reads from there', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-15T00:00:00Z'))).code).toBe(0);
    const firstState = (await sync(['state', 'show', 'sample', '--target', schema.url])).stdout;
    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-03-01T00:00:00Z'))).code).toBe(0);

    const history = await sync(['state', 'history', 'sample', '--target', schema.url, '--format', 'json', '--limit', '1000']);
    expect(history.code, history.stderr).toBe(0);
    const snapshots = history.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; committed_at: string; value: unknown });
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    // Newest first, ids falling; the newest is the state stored now.
    expect(snapshots.map((s) => s.id)).toEqual([...snapshots.map((s) => s.id)].sort((a, b) => b - a));
    expect(snapshots[0]?.value).toEqual(JSON.parse((await sync(['state', 'show', 'sample', '--target', schema.url])).stdout));
    const first = snapshots.find((s) => JSON.stringify(s.value) === JSON.stringify(JSON.parse(firstState)));
    expect(first).toBeDefined();
    expect(first?.committed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // Not while a run holds the lock.
    const { acquirePostgresLock } = await import('../../src/targets/postgres-lock.js');
    const held = await acquirePostgresLock(parsePostgresUrl(schema.url), 'sample', 'sync run sample (busy)');
    try {
      const busy = await sync(['state', 'rewind', 'sample', '--target', schema.url, '--to', String(first?.id)]);
      expect(busy.code, busy.stderr).toBe(75);
      expect(busy.stderr).toMatch(/the state of sample in postgres:.* is in use, so it was not changed: .*sync run sample \(busy\)/);
    } finally {
      await held.release();
    }
    const rewound = await sync(['state', 'rewind', 'sample', '--target', schema.url, '--to', String(first?.id)]);
    expect(rewound.code, rewound.stderr).toBe(0);
    expect(rewound.stderr).toMatch(new RegExp(`rewound to #${first?.id} `));
    expect(JSON.parse((await sync(['state', 'show', 'sample', '--target', schema.url])).stdout)).toEqual(JSON.parse(firstState));
    // The rewind is a commit of its own: at the top of the history now.
    const top = JSON.parse((await sync(['state', 'history', 'sample', '--target', schema.url, '--format', 'json', '--limit', '1'])).stdout) as { id: number; value: unknown };
    expect(top.id).toBeGreaterThan(snapshots[0]?.id ?? Infinity);
    expect(top.value).toEqual(JSON.parse(firstState));

    // From the January bookmarks again: the changes up to March are read a second time.
    const again = await sync(['run', 'sample', '--target', schema.url], shop('2026-03-01T00:00:00Z'));
    expect(again.code).toBe(0);
    const runs = await schema.query<{ records: Record<string, number> }>(`SELECT records FROM ${table('_sync_runs')} ORDER BY id`);
    expect(runs[2]?.records).toEqual(runs[1]?.records);

    const unknown = await sync(['state', 'rewind', 'sample', '--target', schema.url, '--to', '999999999']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--to 999999999: no state of sample has that id/);
  });

  it('prunes runs and states older than 90 days when it records a run', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-15T00:00:00Z'))).code).toBe(0);
    await schema.query(`UPDATE ${table('_sync_runs')} SET started_at = now() - interval '91 days', ended_at = now() - interval '91 days'`);
    await schema.query(`UPDATE ${table('_sync_state_history')} SET committed_at = now() - interval '91 days'`);
    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-15T00:00:00Z'))).code).toBe(0);
    const runs = await schema.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table('_sync_runs')}`);
    expect(runs[0]?.n).toBe('1');
    const old = await schema.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table('_sync_state_history')} WHERE committed_at < now() - interval '90 days'`);
    expect(old[0]?.n).toBe('0');
  });

  it('keeps the newest 10,000 runs and states of a state id, bounded by a run and by sync target alike; other state ids untouched', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-15T00:00:00Z'))).code).toBe(0);
    const addRuns = (stateId: string, n: number) =>
      schema.query(
        `INSERT INTO ${table('_sync_runs')} (connector, state_id, started_at, ended_at, exit_code, records, bookmarks_before, bookmarks_after)
         SELECT 'sample', $1, now(), now(), 0, '{}', '{}', '{}' FROM generate_series(1, $2)`,
        [stateId, n],
      );
    const addStates = (stateId: string, n: number) =>
      schema.query(`INSERT INTO ${table('_sync_state_history')} (state_id, value, committed_at) SELECT $1, '{}', now() FROM generate_series(1, $2)`, [stateId, n]);
    const count = async (name: string, stateId: string) =>
      Number((await schema.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table(name)} WHERE state_id = $1`, [stateId]))[0]?.n);
    await addRuns('sample', 10_005);
    await addStates('sample', 10_005);
    await addRuns('other', 3);
    await addStates('other', 3);

    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-16T00:00:00Z'))).code).toBe(0);
    expect(await count('_sync_runs', 'sample')).toBe(10_000);
    expect(await count('_sync_state_history', 'sample')).toBe(10_000);
    expect(await count('_sync_runs', 'other')).toBe(3);
    expect(await count('_sync_state_history', 'other')).toBe(3);

    // `sync target` writes state only: its first state write trims that state id's history.
    const state = '{"type": "STATE", "value": {"bookmarks": {}}}\n';
    expect((await runSync(['target', schema.url], { cwd: tmp.dir, input: state })).code).toBe(0);
    await addStates('singer', 10_005);
    const target = await runSync(['target', schema.url], { cwd: tmp.dir, input: state });
    expect(target.code, target.stderr).toBe(0);
    expect(await count('_sync_state_history', 'singer')).toBe(10_000);
    expect(await count('_sync_state_history', 'other')).toBe(3);
  });

  it('an _sync_runs of an earlier version (no kind) is read as runs, and gains its columns when a run is recorded', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-15T00:00:00Z'))).code).toBe(0);
    await schema.query(`DROP INDEX ${quote(schema.name)}."_sync_runs_by_kind"`);
    await schema.query(`ALTER TABLE ${table('_sync_runs')} DROP COLUMN kind, DROP COLUMN deliveries, DROP COLUMN dead`);
    const before = await sync(['status', '--target', schema.url, '--format', 'json']);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ connectors: [{ connector: 'sample', lastRun: { exitCode: 0, records: 70 } }], drains: [] });

    expect((await sync(['run', 'sample', '--target', schema.url], shop('2026-01-16T00:00:00Z'))).code).toBe(0);
    const runs = await schema.query<{ kind: string; deliveries: number | null }>(`SELECT kind, deliveries FROM ${table('_sync_runs')} ORDER BY id`);
    expect(runs).toEqual([
      { kind: 'run', deliveries: null },
      { kind: 'run', deliveries: null },
    ]);
  });

  it('counts the changes a run found that webhooks had delivered, in sync status and the metrics file', async () => {
    await checkCoverageMix({
      dir: tmp.dir,
      target: schema.url,
      versions: async (stream) =>
        (await schema.query<{ id: string; version: string }>(`SELECT id::text, _sync_version AS version FROM ${table(stream)}`)).map((r) => ({
          id: Number(r.id),
          version: r.version,
        })),
      lastChanges: async () => (await schema.query<{ changes: unknown }>(`SELECT changes FROM ${table('_sync_runs')} ORDER BY id DESC LIMIT 1`))[0]?.changes,
    });
  });
});
