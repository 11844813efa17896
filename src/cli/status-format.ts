import { stringifyJson } from '../protocol/json.js';
import { fitToWidth, formatCount } from './progress.js';
import type { ConnectorFacts, DrainFacts, RunFacts, StatusReport, StreamFacts } from './status-report.js';
import { formatAge, formatDuration } from './when.js';

/**
 * `sync status` for people: a block per connector and one for the journal, columns aligned.
 * `columns` (a terminal's width) breaks long lines where `fitToWidth` may, continuing a table
 * row under the start of its last column.
 */
export function formatStatus(report: StatusReport, columns?: number): string {
  const out: string[] = [];
  const line = (text: string): void => void out.push(fitToWidth(text, columns));
  const table = (rows: readonly string[][], indent = '  '): void => void out.push(...fitted(rows, indent, columns));
  if (!report.exists) line(`${report.target} does not exist: nothing was synced into it yet`);
  else if (report.connectors.length === 0 && report.drains.length === 0) line(`${report.target}: no run is recorded and no state is stored`);
  else line(report.target);
  const drains = new Map(report.drains.map((d) => [d.connector, d]));
  const listened = listenedConnectors(report);
  for (const c of report.connectors) {
    out.push('');
    connectorBlock(c, c.connector === null ? undefined : drains.get(c.connector), listened, line, table);
  }
  // Connectors only a listener writes: no run, no state, just the drain.
  const shown = new Set(report.connectors.map((c) => c.connector));
  for (const d of report.drains) {
    if (shown.has(d.connector)) continue;
    out.push('');
    line(d.connector);
    table([drainRow(d)]);
  }
  const journal = report.journal;
  if (journal !== null) {
    out.push('');
    if (!journal.exists) line(`journal ${journal.path} does not exist`);
    else {
      line(`journal ${journal.path}`);
      const rows = [['connector', 'event', 'last delivery', 'deliveries']];
      for (const j of journal.connectors) {
        for (const e of j.events) rows.push([j.connector, e.event ?? '(none)', formatAge(Date.parse(report.now) - Date.parse(e.lastReceivedAt)), String(e.count)]);
      }
      if (rows.length === 1) out.push('  no deliveries');
      else table(rows);
      for (const j of journal.connectors) {
        const lag = j.oldestPending === null ? '' : `, the oldest received ${formatAge(Date.parse(report.now) - Date.parse(j.oldestPending))}`;
        line(`  ${j.connector}: ${j.pending} pending${lag}, ${j.dead} dead`);
      }
    }
  }
  return out.join('\n') + '\n';
}

/**
 * Connectors known to receive webhooks here: a drain wrote into this target, the journal given
 * holds their deliveries, or a run found changes webhooks had delivered. For the others the
 * coverage column would only ever say that no webhook came, so it is left out.
 */
function listenedConnectors(report: StatusReport): Set<string> {
  const names = new Set(report.drains.map((d) => d.connector));
  if (report.journal?.exists) for (const j of report.journal.connectors) names.add(j.connector);
  for (const c of report.connectors) {
    if (c.connector !== null && c.streams.some((s) => (s.coverage?.delivered ?? 0) > 0)) names.add(c.connector);
  }
  return names;
}

function connectorBlock(
  c: ConnectorFacts,
  drain: DrainFacts | undefined,
  listened: ReadonlySet<string>,
  line: (text: string) => void,
  table: (rows: readonly string[][]) => void,
): void {
  line(c.connector === null ? `state ${c.stateId} (no run recorded)` : c.connector === c.stateId ? c.connector : `${c.connector} (state ${c.stateId})`);
  const runs: string[][] = [];
  if (c.lastRun !== null) runs.push(['last run', formatAge(c.lastRun.ageMs), describeRun(c.lastRun)]);
  if (c.lastRun !== null && c.lastRun.exitCode !== 0) {
    runs.push(['last success', c.lastSuccess === null ? 'none recorded' : formatAge(c.lastSuccess.ageMs), c.lastSuccess === null ? '' : describeRun(c.lastSuccess)]);
  }
  if (drain !== undefined) runs.push(drainRow(drain));
  table(runs);
  if (c.streams.length) {
    const coverage = c.connector !== null && listened.has(c.connector);
    const rows = [['stream', 'bookmark', 'age', ...(coverage ? ['already delivered by webhooks'] : [])]];
    for (const s of c.streams) {
      rows.push([s.stream, bookmarkText(s), s.bookmarkAgeMs === null ? '-' : formatAge(s.bookmarkAgeMs), ...(coverage ? [coverageText(s)] : [])]);
    }
    table(rows);
  }
}

function describeRun(run: RunFacts): string {
  const records = `${run.records.toLocaleString('en-US')} ${run.records === 1 ? 'record' : 'records'}`;
  if (run.exitCode === 0) return `ok in ${formatDuration(run.durationMs)}, ${records}`;
  return `failed (exit ${run.exitCode}) after ${formatDuration(run.durationMs)}, ${records}${run.error ? `: ${run.error}` : ''}`;
}

/** `last drain  12 s ago  ok, 40 deliveries, 40 records, 1 dead in 0.8 s`: the newest row of the drain's batches. */
function drainRow(d: DrainFacts): string[] {
  const counts = `${formatCount(d.deliveries)} ${d.deliveries === 1 ? 'delivery' : 'deliveries'}, ${formatCount(d.records)} ${d.records === 1 ? 'record' : 'records'}, ${formatCount(d.dead)} dead`;
  const outcome = d.exitCode === 0 ? 'ok' : `failing (exit ${d.exitCode})`;
  return ['last drain', formatAge(d.ageMs), `${outcome}, ${counts} in ${formatDuration(d.durationMs)}${d.error ? `: ${d.error}` : ''}`];
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
function columnsOf(rows: readonly string[][]): { lines: string[]; widths: number[] } {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const lines = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
  return { lines, widths };
}

/** Aligned rows, each broken to `columns` when too long, continued under the start of its last column. */
function fitted(rows: readonly string[][], indent: string, columns: number | undefined): string[] {
  const { lines, widths } = columnsOf(rows);
  return lines.map((l, i) => {
    const cells = (rows[i] as string[]).length;
    const lastColumn = indent.length + widths.slice(0, cells - 1).reduce((sum, w) => sum + w + 2, 0);
    return fitToWidth(indent + l, columns, lastColumn);
  });
}
