import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, TargetBusyError } from '../../src/errors.js';
import { parseMessage } from '../../src/protocol/messages.js';
import { Loader } from '../../src/targets/loader.js';
import { openPostgresTarget } from '../../src/targets/postgres.js';
import { parsePostgresUrl } from '../../src/targets/postgres-url.js';
import { startSync, type CliResult } from '../helpers/cli.js';
import { POSTGRES_URL, postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * A commit whose connection is killed in the middle (pg_terminate_backend, what a server
 * shutdown does to its sessions) is run again on a new connection when that is safe, or the
 * load stops; either way the state stored is never ahead of the rows stored.
 *
 * To kill a commit while it runs, and not before or after it, the test holds an exclusive
 * lock on the stream's table: the commit blocks on it, the test sees its backend waiting
 * behind its own (pg_blocking_pids) and terminates exactly that backend.
 */

const available = await postgresAvailable('test/postgres/interrupted.test.ts');

const line = (m: object): string => JSON.stringify(m);
const SCHEMA = line({ type: 'SCHEMA', stream: 'items', schema: { properties: { id: { type: 'integer' }, note: { type: 'string' } } }, key_properties: ['id'] });
const records = (from: number, to: number): string[] => {
  const out: string[] = [];
  for (let id = from; id <= to; id++) out.push(line({ type: 'RECORD', stream: 'items', record: { id, note: `record ${id}` } }));
  return out;
};
const state = (n: number): string => line({ type: 'STATE', value: { n } });

/** A connection of the test's own holding ACCESS EXCLUSIVE on a table until released. */
async function holdTable(table: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    pid: rows[0]?.pid as number,
    release: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** The backend waiting behind `holder`, once there is one (asked until it shows). */
async function waitingBehind(schema: TestSchema, holder: number, not?: number): Promise<number> {
  for (;;) {
    const rows = await schema.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND pid <> $2`, [holder, not ?? 0]);
    if (rows[0]) return rows[0].pid;
  }
}

/** The output and exit of a child whose stdin the test writes itself (`collect` would close it). */
function outcome(child: ChildProcess): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

async function storedState(schema: TestSchema, id: string): Promise<unknown> {
  const rows = await schema.query<{ value: string }>(`SELECT value FROM ${quote(schema.name)}._sync_state WHERE id = $1`, [id]);
  return rows[0] ? JSON.parse(rows[0].value) : undefined;
}

/** Every id up to the stored state's `n` is stored: the state covers nothing that is missing. */
async function expectStateCovered(schema: TestSchema, id: string): Promise<number> {
  const n = ((await storedState(schema, id)) as { n: number } | undefined)?.n ?? 0;
  const [row] = await schema.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${quote(schema.name)}.items WHERE id <= $1`, [n]);
  expect(Number(row?.count)).toBe(n);
  return n;
}

describe.skipIf(!available)('PostgreSQL target: a commit killed in the middle', () => {
  let schema: TestSchema;
  beforeEach(async () => {
    schema = await testSchema();
  });
  afterEach(async () => schema.drop());

  /** A target and loader in this process, with the retry waits given. */
  async function open(retryDelaysMs: number[], warnings: string[] = []) {
    const target = await openPostgresTarget(parsePostgresUrl(schema.url), { stateId: 'crash', warn: (m) => warnings.push(m), retryDelaysMs });
    const loader = new Loader(target, { validate: true, batchRecords: 1_000_000, maxBatchAgeMs: 600_000, warn: () => undefined });
    const feed = async (lines: string[]): Promise<void> => {
      for (const [i, text] of lines.entries()) await loader.handle(parseMessage(text, i + 1));
    };
    return { target, loader, feed };
  }

  it('without retries: the commit fails as temporary (75), and neither its rows nor its state are stored', async () => {
    const { target, loader, feed } = await open([]);
    await feed([SCHEMA, ...records(1, 100), state(100)]);
    await loader.commit();
    const holder = await holdTable(`${quote(schema.name)}.items`);
    try {
      await feed([...records(101, 200), state(200)]);
      const committing = loader.commit();
      committing.catch(() => undefined);
      await schema.query('SELECT pg_terminate_backend($1)', [await waitingBehind(schema, holder.pid)]);
      const err = await committing.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TargetBusyError);
      expect((err as TargetBusyError).exitCode).toBe(ExitCode.tempFail);
      expect((err as Error).message).toMatch(/is unavailable \(terminating connection due to administrator command\) after 1 attempts; nothing after the last commit was written/);
    } finally {
      await holder.release();
    }
    await expect(target.close()).rejects.toBeInstanceOf(TargetBusyError);
    expect(await storedState(schema, 'crash')).toEqual({ n: 100 });
    expect(await expectStateCovered(schema, 'crash')).toBe(100);
    expect(await schema.query(`SELECT count(*)::int AS n FROM ${quote(schema.name)}.items`)).toEqual([{ n: 100 }]);
  });

  it('with retries: the commit runs again on a new connection and lands whole, with its state', async () => {
    const warnings: string[] = [];
    const { target, loader, feed } = await open([0, 0], warnings);
    await feed([SCHEMA, ...records(1, 100), state(100)]);
    await loader.commit();
    const holder = await holdTable(`${quote(schema.name)}.items`);
    let released = false;
    try {
      await feed([...records(101, 200), state(200)]);
      const committing = loader.commit();
      committing.catch(() => undefined);
      const first = await waitingBehind(schema, holder.pid);
      await schema.query('SELECT pg_terminate_backend($1)', [first]);
      // The second attempt queues behind the lock too, on a new connection; then the lock goes.
      await waitingBehind(schema, holder.pid, first);
      await holder.release();
      released = true;
      await committing;
    } finally {
      if (!released) await holder.release();
    }
    await target.close();
    expect(warnings).toEqual([expect.stringMatching(/terminating connection due to administrator command; trying writing to postgres:\/\/.* again \(attempt 2 of 3\)/)]);
    expect(await storedState(schema, 'crash')).toEqual({ n: 200 });
    expect(await expectStateCovered(schema, 'crash')).toBe(200);
  });

  it('an unreachable server is temporary (75), named without its password', async () => {
    const url = new URL(POSTGRES_URL);
    url.port = '1';
    url.password = 'hunter2-secret';
    const err = await openPostgresTarget(parsePostgresUrl(url.href), { stateId: 's', warn: () => undefined, retryDelaysMs: [] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TargetBusyError);
    expect((err as Error).message).toMatch(/^opening postgres:\/\/postgres@127\.0\.0\.1:1\/test: .* is unavailable \(connect ECONNREFUSED/);
    expect((err as Error).message).not.toContain('hunter2');
  });

  describe('sync target, killed while it loads', () => {
    it('carries on after the commit is run again, and ends with every row and the last state', async () => {
      const child = startSync(['target', schema.url, '--batch-size', '1000']);
      const done = outcome(child);
      const printed: string[] = [];
      const nextState = () =>
        new Promise<string>((resolve) => {
          const onData = (chunk: Buffer) => {
            printed.push(...chunk.toString().split('\n').filter((l) => l !== ''));
            child.stdout?.off('data', onData);
            resolve(printed.at(-1) as string);
          };
          child.stdout?.on('data', onData);
        });
      // The 1,000th record fills the first batch, which commits the state before it.
      child.stdin?.write([SCHEMA, ...records(1, 999), state(999), ...records(1_000, 1_000)].join('\n') + '\n');
      expect(await nextState()).toBe('{"n":999}');
      const holder = await holdTable(`${quote(schema.name)}.items`);
      let released = false;
      try {
        child.stdin?.write([...records(11, 5_000), state(5_000)].join('\n') + '\n');
        const first = await waitingBehind(schema, holder.pid);
        await schema.query('SELECT pg_terminate_backend($1)', [first]);
        await waitingBehind(schema, holder.pid, first);
        await holder.release();
        released = true;
      } finally {
        if (!released) await holder.release();
      }
      child.stdin?.end([...records(5_001, 6_000), state(6_000)].join('\n') + '\n');
      const result = await done;
      expect(result.stderr).toMatch(/warning: .*terminating connection due to administrator command; trying writing to postgres:\/\/.* again \(attempt 2 of 7\)/);
      expect(result.code).toBe(0);
      expect(result.stdout.trim().split('\n').at(-1)).toBe('{"n":6000}');
      expect(await expectStateCovered(schema, 'singer')).toBe(6_000);
    });

    it('stops when the database cannot be reached again, its state still covered by its rows', async () => {
      // A database of its own, so that it can refuse new connections without disturbing anyone.
      const database = `sync_test_db_${randomBytes(6).toString('hex')}`;
      await schema.query(`CREATE DATABASE ${database}`);
      const url = new URL(POSTGRES_URL);
      url.pathname = `/${database}`;
      const own = new URL(POSTGRES_URL);
      own.pathname = `/${database}`;
      const db = new pg.Client({ connectionString: own.href });
      try {
        const child = startSync(['target', url.href, '--batch-size', '100']);
        const done = outcome(child);
        const firstState = new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
        child.stdin?.write([SCHEMA, ...records(1, 199), state(199), ...records(200, 200)].join('\n') + '\n');
        await firstState;
        await schema.query(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS false`);
        await schema.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [database]);
        child.stdin?.end([...records(251, 1_000), state(1_000)].join('\n') + '\n');
        const result = await done;
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/error: writing to postgres:\/\/.*: database "sync_test_db_\w+" is not currently accepting connections/);
        expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
        await schema.query(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS true`);
        await db.connect();
        const stored = await db.query<{ value: string }>(`SELECT value FROM public._sync_state WHERE id = 'singer'`);
        const n = (JSON.parse(stored.rows[0]?.value ?? '{"n":0}') as { n: number }).n;
        const covered = await db.query<{ count: string }>('SELECT count(*)::text AS count FROM public.items WHERE id <= $1', [n]);
        expect(Number(covered.rows[0]?.count)).toBe(n);
        expect(n).toBeGreaterThanOrEqual(199);
        for (const printedState of result.stdout.trim().split('\n')) expect((JSON.parse(printedState) as { n: number }).n).toBeLessThanOrEqual(n);
      } finally {
        await db.end().catch(() => undefined);
        await schema.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      }
    });
  });
});
