import { stringifyJson } from '../protocol/json.js';
import type { ConnectorFacts, RunFacts, StatusReport, StreamFacts } from './status-report.js';
import { formatAge, formatDuration } from './when.js';

/** `sync status` for people: a block per connector and one for the journal, columns aligned. */
export function formatStatus(report: StatusReport): string {
  const out: string[] = [];
  if (!report.exists) out.push(`${report.target} does not exist: nothing was synced into it yet`);
  else if (report.connectors.length === 0) out.push(`${report.target}: no run is recorded and no state is stored`);
  else out.push(report.target);
  for (const c of report.connectors) out.push('', ...connectorBlock(c));
  const journal = report.journal;
  if (journal !== null) {
    out.push('');
    if (!journal.exists) out.push(`journal ${journal.path} does not exist`);
    else {
      out.push(`journal ${journal.path}`);
      const rows = [['connector', 'event', 'last delivery', 'deliveries']];
      for (const j of journal.connectors) {
        for (const e of j.events) rows.push([j.connector, e.event ?? '(none)', formatAge(Date.parse(report.now) - Date.parse(e.lastReceivedAt)), String(e.count)]);
      }
      if (rows.length === 1) out.push('  no deliveries');
      else out.push(...align(rows).map((l) => `  ${l}`));
      for (const j of journal.connectors) {
        const lag = j.oldestPending === null ? '' : `, the oldest received ${formatAge(Date.parse(report.now) - Date.parse(j.oldestPending))}`;
        out.push(`  ${j.connector}: ${j.pending} pending${lag}, ${j.dead} dead`);
      }
    }
  }
  return out.join('\n') + '\n';
}

function connectorBlock(c: ConnectorFacts): string[] {
  const title = c.connector === null ? `state ${c.stateId} (no run recorded)` : c.connector === c.stateId ? c.connector : `${c.connector} (state ${c.stateId})`;
  const lines = [title];
  const runs: string[][] = [];
  if (c.lastRun !== null) runs.push(['last run', formatAge(c.lastRun.ageMs), describeRun(c.lastRun)]);
  if (c.lastRun !== null && c.lastRun.exitCode !== 0) {
    runs.push(['last success', c.lastSuccess === null ? 'none recorded' : formatAge(c.lastSuccess.ageMs), c.lastSuccess === null ? '' : describeRun(c.lastSuccess)]);
  }
  lines.push(...align(runs).map((l) => `  ${l}`));
  if (c.streams.length) {
    const rows = [['stream', 'bookmark', 'age', 'already delivered by webhooks']];
    for (const s of c.streams) rows.push([s.stream, bookmarkText(s), s.bookmarkAgeMs === null ? '-' : formatAge(s.bookmarkAgeMs), coverageText(s)]);
    lines.push(...align(rows).map((l) => `  ${l}`));
  }
  return lines;
}

function describeRun(run: RunFacts): string {
  const records = `${run.records.toLocaleString('en-US')} ${run.records === 1 ? 'record' : 'records'}`;
  if (run.exitCode === 0) return `ok in ${formatDuration(run.durationMs)}, ${records}`;
  return `failed (exit ${run.exitCode}) after ${formatDuration(run.durationMs)}, ${records}${run.error ? `: ${run.error}` : ''}`;
}

function bookmarkText(s: StreamFacts): string {
  return typeof s.bookmark === 'string' ? s.bookmark : stringifyJson(s.bookmark);
}

function coverageText(s: StreamFacts): string {
  const c = s.coverage;
  if (c === null) return '-';
  const runs = `${c.runs} ${c.runs === 1 ? 'run' : 'runs'}`;
  if (c.share === null) return `no changes found (${runs})`;
  const share = `${Math.round(c.share * 100)}% of ${c.found.toLocaleString('en-US')} ${c.found === 1 ? 'change' : 'changes'} (${runs})`;
  // The others reached the table only through the run: how long after the change, typically.
  return c.lateMedianMs === null ? share : `${share}, the others found ${formatLag(c.lateMedianMs)} after the change (median)`;
}

/** `40 s`, `12 min`, `3 h`, `2 days`: a delay, in the units of an age. */
function formatLag(ms: number): string {
  return formatAge(ms).replace(/ ago$/, '');
}

/** Pads each column to its widest cell; the last column is left as it is. */
export function align(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}
