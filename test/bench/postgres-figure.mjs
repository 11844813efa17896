// The PostgreSQL figure of `npm run bench`: `sync target postgres://…` loading the bench's
// RECORD lines into a fresh schema, against `psql \copy` of the very same rows (exported from
// the table sync made) into an empty table of the same shape (same columns, same unique key
// index). The baseline is the floor of any loader: the server parsing COPY text, nothing else.
//
// The server comes from SYNC_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
// without a server or psql the figure is skipped with one line. Everything is made in a schema
// of its own, dropped at the end.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Runs the figure. `measure(command, args, { stdin })` and `best(times, run)` are bench.mjs's
 * (wall seconds of a child process; the best of several runs). Returns the row's cells, or
 * `{ skipped }` with the reason when there is no server to measure against.
 */
export async function postgresFigure({ sync, file, records, dir, measure, best, url = process.env.SYNC_BENCH_POSTGRES_URL ?? DEFAULT_URL }) {
  if (spawnSync('psql', ['--version'], { stdio: 'ignore' }).status !== 0) return { skipped: 'no psql on PATH' };
  const { admin, skipped } = await connectBenchPostgres(url);
  if (skipped) return { skipped };
  const schema = `sync_bench_${randomBytes(4).toString('hex')}`;
  const target = new URL(url);
  target.searchParams.set('schema', schema);
  const copyFile = join(dir, 'postgres-baseline.copy');
  const fresh = async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  };
  try {
    const ours = await best(2, async () => {
      await fresh();
      return measure(process.execPath, [sync, 'target', target.href, '--quiet'], { stdin: file });
    });
    // The rows exactly as sync stored them, and an empty table of the table's shape for psql.
    const { rows } = await admin.query(
      `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS columns FROM pg_attribute
        WHERE attrelid = '${schema}.orders'::regclass AND attnum > 0 AND NOT attisdropped`,
    );
    const columns = rows[0].columns;
    psql(url, `\\copy (SELECT ${columns} FROM ${schema}.orders) TO '${copyFile}'`);
    const base = await best(2, async () => {
      await admin.query(`DROP TABLE IF EXISTS ${schema}.baseline; CREATE TABLE ${schema}.baseline (LIKE ${schema}.orders INCLUDING ALL)`);
      return measure('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${schema}.baseline (${columns}) FROM '${copyFile}'`]);
    });
    // Loading the same lines again: every row an update, through the staged upsert.
    const again = await measure(process.execPath, [sync, 'target', target.href, '--quiet'], { stdin: file });
    const ratio = base.seconds / ours.seconds;
    return {
      what: `sync target postgres, ${count(records)} RECORD lines into an empty schema (again, all updates: ${count(records / again.seconds)} rec/s)`,
      sync: `${count(records / ours.seconds)} rec/s`,
      baseline: `${count(records / base.seconds)} rec/s (psql \\copy of the same rows, same table shape)`,
      ratio,
      goal: '≥ 0.5',
      met: ratio >= 0.5,
    };
  } finally {
    await fresh().catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

/** A connection to the bench's server, or why there is none (the figure's one line when skipped). */
export async function connectBenchPostgres(url) {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    return { admin };
  } catch (err) {
    return { skipped: `no PostgreSQL at ${withoutPassword(url)} (${err.message}); set SYNC_BENCH_POSTGRES_URL` };
  }
}

function psql(url, command) {
  const result = spawnSync('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', command], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql ${command} failed: ${result.stderr}`);
}

function count(n) {
  return Math.round(n).toLocaleString('en-US');
}

function withoutPassword(text) {
  const url = new URL(text);
  url.password = '';
  return url.href;
}
