import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect, runSync, startListen, startSync, tempDir } from '../helpers/cli.js';
import { POSTGRES_URL, postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';
import { deliver, NOW, payload, SECRET, sign } from '../listen/helpers.js';
import { until } from '../helpers/wait.js';

/** `sync run`, `sync state` and `sync listen` with `--target postgres://…`, as a user runs them. */

const available = await postgresAvailable('test/postgres/cli.test.ts');

const sampleEnv = { SYNC_SAMPLE_NOW: NOW, SYNC_SAMPLE_CUSTOMERS: '20', SYNC_SAMPLE_ORDERS: '50', SYNC_SAMPLE_WEBHOOK_SECRET: SECRET };

describe.skipIf(!available)('sync with a PostgreSQL target', () => {
  let schema: TestSchema;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    schema = await testSchema();
    tmp = tempDir('sync-postgres-cli-');
  });
  afterEach(async () => {
    tmp.cleanup();
    await schema.drop();
  });
  const sync = (args: string[], env: Record<string, string> = sampleEnv) => runSync(args, { cwd: tmp.dir, env });
  const count = async (table: string): Promise<number> =>
    Number((await schema.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quote(schema.name)}.${quote(table)}`))[0]?.n);

  it('sync run loads the sample shop, then only what changed; its state lives in _sync_state', async () => {
    const first = await sync(['run', 'sample', '--target', schema.url]);
    expect(first.stderr).toMatch(/sample → postgres:\/\/.*: customers 20, orders 50/);
    expect(first.code).toBe(0);
    expect(await count('customers')).toBe(20);
    expect(await count('orders')).toBe(50);
    const lineItems = await schema.query<{ type: string }>(`SELECT jsonb_typeof(line_items) AS type FROM ${quote(schema.name)}.orders LIMIT 1`);
    expect(lineItems).toEqual([{ type: 'array' }]);

    const shown = await sync(['state', 'show', 'sample', '--target', schema.url]);
    expect(shown.code).toBe(0);
    const stored = JSON.parse(shown.stdout) as { bookmarks: Record<string, { replication_key_value: string }> };
    expect(Object.keys(stored.bookmarks).sort()).toEqual(['customers', 'orders']);

    const again = await sync(['run', 'sample', '--target', schema.url]);
    expect(again.code).toBe(0);
    // Inclusive bookmarks: only the rows at the bookmark come again, upserted.
    expect(again.stderr).not.toMatch(/customers 20|orders 50/);
    expect(await count('customers')).toBe(20);
  });

  it('a second run, or a state change, while the lock is held exits 75 naming the holder', async () => {
    const { acquirePostgresLock } = await import('../../src/targets/postgres-lock.js');
    const { parseTargetSpec } = await import('../../src/targets/spec.js');
    const spec = parseTargetSpec(schema.url);
    if (spec.kind !== 'postgres') throw new Error('not a postgres spec');
    const held = await acquirePostgresLock(spec, 'sample', 'sync run sample (another host)');
    try {
      const second = await sync(['run', 'sample', '--target', schema.url]);
      expect(second.code, second.stderr).toBe(75);
      expect(second.stderr).toMatch(/sync run sample \(another host\).*holds the run lock for state id "sample"/);
      const clear = await sync(['state', 'clear', 'sample', '--target', schema.url]);
      expect(clear.code, clear.stderr).toBe(75);
    } finally {
      await held.release();
    }
    const after = await sync(['run', 'sample', '--target', schema.url]);
    expect(after.code, after.stderr).toBe(0);
  });

  it('two sync runs at once on one target: the second exits 75 naming the first, which then finishes with exit 0', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url, '--streams', 'customers'])).code).toBe(0);
    // The test holds the stored state's row, so the first run, once it holds the run lock, waits at
    // its first commit for as long as the test needs: no race with how fast it would have finished.
    const blocker = new pg.Client({ connectionString: POSTGRES_URL });
    blocker.on('error', () => undefined);
    await blocker.connect();
    let first: ReturnType<typeof startSync> | undefined;
    try {
      const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${quote(schema.name)}._sync_state WHERE id = 'sample' FOR UPDATE`);
      first = startSync(['run', 'sample', '--target', schema.url, '--full-refresh'], { cwd: tmp.dir, env: sampleEnv });
      const firstDone = collect(first);
      const holder = `sync pid ${first.pid ?? ''}: %`;
      // Observably holding the run lock (its session names itself), and held up by the row.
      await until(async () => {
        const [locked] = await schema.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE $1`,
          [holder],
        );
        const [waiting] = await schema.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))`, [blockerPid]);
        return locked?.n === '1' && waiting?.n === '1';
      }, 'the first run holding the run lock and waiting for the row');
      const second = await sync(['run', 'sample', '--target', schema.url]);
      expect(second.code, second.stderr).toBe(75);
      expect(second.stderr).toMatch(new RegExp(`sync pid ${first.pid ?? ''}: sync run sample -> postgres://\\S* \\(connected since [^)]+\\) holds the run lock for state id "sample"`));
      await blocker.query('ROLLBACK');
      const result = await firstDone;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/customers 20, orders 50/);
      expect(await count('orders')).toBe(50);
    } finally {
      await blocker.end().catch(() => undefined);
      if (first?.exitCode === null) first.kill('SIGKILL');
    }
  });

  it('a second account of the connector into the same schema is warned once that the rows mix', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url, '--state-id', 'acme'])).code).toBe(0);
    const second = await sync(['run', 'sample', '--target', schema.url, '--state-id', 'globex'], { ...sampleEnv, SYNC_SAMPLE_SEED: '2' });
    expect(second.code, second.stderr).toBe(0);
    const warnings = second.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/: customers, orders already hold rows of sample synced under state id "acme"; this run \(state id "globex"\) writes into the same tables/);
  });

  it('sync state clear and set change the state kept in the database', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url, '--streams', 'customers'])).code).toBe(0);
    const cleared = await sync(['state', 'clear', 'sample', '--target', schema.url, '--stream', 'customers']);
    expect(cleared.code).toBe(0);
    const after = JSON.parse((await sync(['state', 'show', 'sample', '--target', schema.url])).stdout) as { bookmarks?: Record<string, unknown> };
    expect(after.bookmarks?.['customers']).toBeUndefined();
    const value = '{"bookmarks":{"orders":{"replication_key":"updated_at","replication_key_value":"2025-06-01T00:00:00Z"}}}';
    expect((await sync(['state', 'set', 'sample', value, '--target', schema.url])).code).toBe(0);
    const stored = await schema.query<{ value: string }>(`SELECT value FROM ${quote(schema.name)}._sync_state WHERE id = 'sample'`);
    expect(JSON.parse(stored[0]?.value ?? 'null')).toMatchObject(JSON.parse(value) as object);
  });

  it('sync listen writes a signed webhook into the same table, the newer version winning over the batch', async () => {
    expect((await sync(['run', 'sample', '--target', schema.url, '--streams', 'customers'])).code).toBe(0);
    const [customer] = await schema.query<{ id: string; email: string; updated_at: string }>(
      `SELECT id::text, email, to_char(updated_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at FROM ${quote(schema.name)}.customers ORDER BY id LIMIT 1`,
    );
    const listener = await startListen(['sample', '--target', schema.url, '--journal', 'inbox.db'], { cwd: tmp.dir, env: sampleEnv });
    const newer = (await sync(['run', 'sample', '--target', '-', '--streams', 'customers'])).stdout
      .split('\n')
      .filter((l) => l.includes('"RECORD"'))
      .map((l) => (JSON.parse(l) as { record: Record<string, unknown> }).record)
      .find((r) => String(r['id']) === customer?.id);
    const changed = { ...newer, plan: 'from-webhook', updated_at: '2026-03-05T00:00:00.000Z' };
    const reply = await deliver(listener.url, sign(payload('customers.updated', changed)));
    expect(reply.status).toBe(200);
    // SIGTERM: the drain writes everything stored into the target before the listener exits.
    listener.child.kill('SIGTERM');
    expect((await listener.done).code).toBe(0);
    const rows = await schema.query<{ plan: string }>(`SELECT plan FROM ${quote(schema.name)}.customers WHERE id = $1`, [customer?.id]);
    expect(rows).toEqual([{ plan: 'from-webhook' }]);
    // The batch's copy of that customer is older: it must not win.
    expect((await sync(['run', 'sample', '--target', schema.url, '--streams', 'customers', '--full-refresh'])).code).toBe(0);
    expect(await schema.query(`SELECT plan FROM ${quote(schema.name)}.customers WHERE id = $1`, [customer?.id])).toEqual([{ plan: 'from-webhook' }]);
  });

  it('never prints the password of the connection string, in errors or summaries', async () => {
    const url = new URL(POSTGRES_URL);
    url.password = 'hunter2-secret';
    url.pathname = '/sync_no_such_database';
    const run = await sync(['run', 'sample', '--target', url.href]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/database "sync_no_such_database" does not exist/);
    const target = await runSync(['target', url.href], { input: '' });
    expect(target.code).toBe(1);
    for (const output of [run.stderr, run.stdout, target.stderr, target.stdout]) expect(output).not.toContain('hunter2');
    const working = new URL(schema.url);
    working.password = 'hunter2-secret';
    const ok = await sync(['run', 'sample', '--target', working.href, '--streams', 'customers']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/sample → postgres:\/\/postgres@127\.0\.0\.1:5432\/test\?schema=sync_test_\w+: customers 20/);
    expect(ok.stderr).not.toContain('hunter2');
  });
});
