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
import { connectBenchPostgres } from './postgres-figure.mjs';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * `loadListener(journal, db)` runs figure 5's load against `sync listen` with that journal
 * (bench.mjs); `bare()` is the bare server's result, measured once for both figures. Returns
 * the row's cells, or `{ skipped }`.
 */
export async function listenPostgresFigure({ dir, loadListener, bare, url = process.env.SYNC_BENCH_POSTGRES_URL ?? DEFAULT_URL }) {
  const { admin, skipped } = await connectBenchPostgres(url);
  if (skipped) return { skipped };
  const schema = `sync_bench_journal_${randomBytes(4).toString('hex')}`;
  const journal = new URL(url);
  journal.searchParams.set('schema', schema);
  try {
    const baseline = await bare();
    const { ours } = await loadListener(journal.href, join(dir, 'listen-postgres.db'));
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
