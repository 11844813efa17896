// Figure 10 of `npm run bench`: `sync listen` with its journal in PostgreSQL (`--journal
// postgres://…`, the set-up of several replicas sharing one journal), under the same load as
// figure 5 and against the same bare node:http server. Every 2xx is a delivery committed in
// PostgreSQL; the drain writes into SQLite, as in figure 5, so the two figures differ only in
// the journal.
//
// The server comes from SYNC_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
// without one the figure is skipped with one line. The journal is a schema of its own, dropped
// at the end.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * `load(url)` runs load-listen.mjs against a server and returns its JSON line; `bare()` the
 * bare server's result (measured by figure 5, or now); `startServer`/`stopServer` are
 * bench.mjs's. Returns the row's cells, or `{ skipped }`.
 */
export async function listenPostgresFigure({ sync, dir, env, load, bare, startServer, stopServer, url = process.env.SYNC_BENCH_POSTGRES_URL ?? DEFAULT_URL }) {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
  } catch (err) {
    return { skipped: `no PostgreSQL at ${withoutPassword(url)} (${err.message}); set SYNC_BENCH_POSTGRES_URL` };
  }
  const schema = `sync_bench_journal_${randomBytes(4).toString('hex')}`;
  const journal = new URL(url);
  journal.searchParams.set('schema', schema);
  const db = join(dir, 'listen-postgres.db');
  try {
    const baseline = await bare();
    const listener = await startServer(
      process.execPath,
      [sync, 'listen', 'sample', '--port', '0', '--journal', journal.href, '--target', `sqlite:${db}`],
      /listening on (http:\/\/[^\s:]+:\d+)/,
      'stderr',
      env,
    );
    let ours;
    let stopped;
    try {
      ours = await load(listener.match[1]);
    } finally {
      stopped = await stopServer(listener, 60_000);
    }
    if (stopped.code !== 0) throw new Error(`sync listen --journal postgres exited ${stopped.code}:\n${stopped.tail.join('\n')}`);
    const { rows } = await admin.query(`SELECT count(*) AS n FROM ${schema}._sync_journal`);
    const stored = Number(rows[0].n);
    // Every 2xx is a row; deliveries in flight when the load stopped may be stored but not counted.
    if (stored < ours.ok || stored > ours.sent) throw new Error(`${ours.ok} deliveries answered 2xx (${ours.sent} sent) but the journal holds ${stored}`);
    const latency = (r) => `${count(r.okPerSecond)} 2xx/s, p50 ${count(r.p50)} ms, p99 ${count(r.p99)} ms`;
    const ratio = ours.okPerSecond / baseline.okPerSecond;
    return {
      what: `sync listen --journal postgres://…: durable deliveries/s, same load as figure 5 (${count(stored)} in the journal)`,
      sync: latency(ours),
      baseline: `${latency(baseline)} (bare node:http)`,
      ratio,
      goal: '≥ 0.2',
      met: ratio >= 0.2,
    };
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

function count(n) {
  return Math.round(n).toLocaleString('en-US');
}

function withoutPassword(text) {
  const url = new URL(text);
  url.password = '';
  return url.href;
}
