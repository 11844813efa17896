import { UsageError } from '../errors.js';
import { ExitCode } from '../errors.js';
import type { StatusReport } from './status-report.js';
import { durationFlag, formatAge } from './when.js';

/**
 * `sync status --check`: what is not fresh, one line per problem. Pure, so each rule is
 * tested on plain reports.
 */

interface Limit {
  ms: number;
  /** As given, for the message. */
  text: string;
}

export interface CheckLimits {
  /** The last successful run of every connector ended at most this long ago. */
  maxAge?: Limit;
  /** A stream's bookmark is at most this old. */
  streams: Map<string, Limit>;
  /** A connector's last webhook delivery arrived at most this long ago (`webhooks:<connector>=6h`). */
  webhooks: Map<string, Limit>;
  /** At most this many dead letters per connector in the journal. */
  maxDead?: number;
}

const WEBHOOKS = 'webhooks:';

/** `30m`, `orders=2h`, `webhooks:sample=6h`, or several of them separated by commas. */
export function parseCheckLimits(maxAge: string | undefined, maxDead: string | undefined): CheckLimits {
  const limits: CheckLimits = { streams: new Map(), webhooks: new Map() };
  for (const part of (maxAge ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.lastIndexOf('=');
    if (eq < 0) {
      limits.maxAge = { ms: durationFlag(part, '--max-age'), text: part };
      continue;
    }
    const name = part.slice(0, eq).trim();
    const text = part.slice(eq + 1).trim();
    if (name === '') throw new UsageError(`--max-age ${part}: name a stream before "=" (orders=2h), or give one age (30m)`);
    const limit = { ms: durationFlag(text, `--max-age ${name}`), text };
    if (name.startsWith(WEBHOOKS)) limits.webhooks.set(name.slice(WEBHOOKS.length), limit);
    else limits.streams.set(name, limit);
  }
  if (maxDead !== undefined) {
    const n = Number(maxDead);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--max-dead must be a whole number, 0 or more (got ${JSON.stringify(maxDead)})`);
    limits.maxDead = n;
  }
  return limits;
}

export function findProblems(report: StatusReport, limits: CheckLimits): string[] {
  const problems: string[] = [];
  if (!report.exists) problems.push(`${report.target} does not exist: nothing was synced into it yet`);
  const ran = report.connectors.filter((c) => c.lastRun !== null);
  // A target only a listener writes has drain rows and no run: a problem only when runs are expected (--max-age).
  if (report.exists && ran.length === 0 && (report.drains.length === 0 || limits.maxAge !== undefined)) problems.push(`${report.target}: no run is recorded`);
  for (const c of ran) {
    const name = c.connector === c.stateId || c.connector === null ? c.stateId : `${c.connector} (state ${c.stateId})`;
    const last = c.lastRun;
    // 75 is "busy, retry later": the next run usually passes; when it does not, the age check tells.
    if (last !== null && last.exitCode !== ExitCode.ok && last.exitCode !== ExitCode.tempFail) {
      problems.push(`${name}: the last run failed ${formatAge(last.ageMs)} (exit ${last.exitCode})${last.error ? `: ${last.error}` : ''}`);
    }
    if (limits.maxAge !== undefined) {
      if (c.lastSuccess === null) problems.push(`${name}: no successful run is recorded`);
      else if (c.lastSuccess.ageMs > limits.maxAge.ms) {
        problems.push(`${name}: the last successful run ended ${formatAge(c.lastSuccess.ageMs)}, more than ${limits.maxAge.text}`);
      }
    }
  }
  // The drain's rows are never runs: they count neither as a last run nor as a success above.
  for (const d of report.drains) {
    if (d.exitCode !== ExitCode.ok && d.exitCode !== ExitCode.tempFail) {
      problems.push(`${d.connector}: the webhook drain's last batch failed ${formatAge(d.ageMs)} (exit ${d.exitCode})${d.error ? `: ${d.error}` : ''}`);
    }
  }
  for (const [stream, limit] of limits.streams) {
    const found = report.connectors.flatMap((c) => c.streams.filter((s) => s.stream === stream).map((s) => ({ c, s })));
    if (found.length === 0) problems.push(`stream ${stream}: no bookmark of it is stored in ${report.target}`);
    for (const { c, s } of found) {
      if (s.bookmarkAgeMs === null) problems.push(`${c.stateId}: stream ${stream}: its bookmark is not a time, so it has no age`);
      else if (s.bookmarkAgeMs > limit.ms) {
        problems.push(`${c.stateId}: stream ${stream}: the newest data is from ${formatAge(s.bookmarkAgeMs)} (bookmark ${typeof s.bookmark === 'string' ? s.bookmark : JSON.stringify(s.bookmark)}), more than ${limit.text}`);
      }
    }
  }
  const journal = report.journal;
  if (journal !== null && !journal.exists) problems.push(`journal ${journal.path} does not exist`);
  if (journal !== null && journal.exists) {
    for (const j of journal.connectors) {
      if (limits.maxDead !== undefined && j.dead > limits.maxDead) {
        problems.push(`${j.connector}: ${j.dead} dead ${j.dead === 1 ? 'delivery' : 'deliveries'} in ${journal.path}, more than ${limits.maxDead} (sync inbox list --status dead)`);
      }
    }
    const now = Date.parse(report.now);
    for (const [connector, limit] of limits.webhooks) {
      const times = journal.connectors.find((j) => j.connector === connector)?.events.map((e) => Date.parse(e.lastReceivedAt)) ?? [];
      if (times.length === 0) problems.push(`${connector}: no webhook delivery in ${journal.path}`);
      else {
        const age = now - Math.max(...times);
        if (age > limit.ms) problems.push(`${connector}: the last webhook delivery arrived ${formatAge(age)}, more than ${limit.text}`);
      }
    }
  }
  return problems;
}
