import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BusyError, ExitCode } from '../../src/errors.js';
import { acquirePostgresLock, advisoryKey, type PostgresLock } from '../../src/targets/postgres-lock.js';
import { parsePostgresUrl } from '../../src/targets/postgres-url.js';
import { POSTGRES_URL, postgresAvailable, testSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * The run lock of a PostgreSQL target: one holder per (state id, schema), a second one told
 * who holds it (exit 75), and nothing left behind when the holder dies.
 */

const available = await postgresAvailable('test/postgres/lock.test.ts');
const BUILT_LOCK = new URL('../../dist/src/targets/postgres-lock.js', import.meta.url).href;

describe.skipIf(!available)('PostgreSQL run lock', () => {
  let schema: TestSchema;
  const held: PostgresLock[] = [];
  beforeEach(async () => {
    schema = await testSchema();
  });
  afterEach(async () => {
    for (const lock of held.splice(0)) await lock.release();
    await schema.drop();
  });
  const take = async (url: string, stateId: string, what = `sync run ${stateId} → ${url}`): Promise<PostgresLock> => {
    const lock = await acquirePostgresLock(parsePostgresUrl(url), stateId, what);
    held.push(lock);
    return lock;
  };
  const refusal = async (url: string, stateId: string): Promise<BusyError> => {
    const err = await take(url, stateId).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BusyError);
    return err as BusyError;
  };

  it('refuses a second holder of the same state id and schema with exit code 75, naming the holder', async () => {
    await take(schema.url, 'sample', `sync run sample → ${schema.url}`);
    const err = await refusal(schema.url, 'sample');
    expect(err.exitCode).toBe(ExitCode.tempFail);
    expect(err.message).toContain(`sync pid ${process.pid}: sync run sample -> postgres://`);
    expect(err.message).toMatch(/holds the run lock for state id "sample" in schema "sync_test_\w+" of postgres:\/\/.*; try again when it has finished/);
  });

  it('is free again once released', async () => {
    const first = await take(schema.url, 'sample');
    await first.release();
    await take(schema.url, 'sample');
  });

  it('keeps other state ids and other schemas apart', async () => {
    await take(schema.url, 'sample');
    await take(schema.url, 'github');
    const other = await testSchema();
    try {
      await take(other.url, 'sample');
    } finally {
      for (const lock of held.splice(1)) await lock.release();
      await other.drop();
    }
  });

  it('never shows the password of the connection string', async () => {
    const url = new URL(schema.url);
    url.password = 'hunter2-secret';
    await take(url.href, 'sample');
    const err = await refusal(url.href, 'sample');
    expect(err.message).not.toContain('hunter2');
    const names = await schema.query<{ name: string }>(`SELECT application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'sync pid%'`);
    for (const { name } of names) expect(name).not.toContain('hunter2');
  });

  it('is released by the server when its holder is killed (kill -9)', async () => {
    // The holder runs the built module in a process of its own, which is then killed outright.
    const script = `const { acquirePostgresLock } = await import(${JSON.stringify(BUILT_LOCK)});
      const { parsePostgresUrl } = await import(${JSON.stringify(new URL('../../dist/src/targets/postgres-url.js', import.meta.url).href)});
      await acquirePostgresLock(parsePostgresUrl(${JSON.stringify(schema.url)}), 'sample', 'sync run sample (child)');
      process.stdout.write('locked\\n');
      setInterval(() => undefined, 60_000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before locking`)));
    });
    await refusal(schema.url, 'sample');
    child.kill('SIGKILL');
    await exited;
    // Waits (no longer than lock_timeout) until the server has ended the dead session and its lock.
    const waiter = new pg.Client({ connectionString: POSTGRES_URL });
    await waiter.connect();
    try {
      await waiter.query(`SET lock_timeout = '30s'`);
      const key = advisoryKey('sync run', schema.name, 'sample');
      await waiter.query('SELECT pg_advisory_lock($1::bigint)', [key]);
      await waiter.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    } finally {
      await waiter.end();
    }
    await take(schema.url, 'sample');
  });
});
