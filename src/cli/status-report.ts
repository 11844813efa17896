import type { JsonValue } from '../protocol/json.js';
import { parseInstant } from '../protocol/instant.js';
import type { JournalSummary } from '../listen/journal-status.js';
import { medianDelayMs } from '../targets/change-count.js';
import type { HistoryStore, StoredRun } from '../targets/history.js';
import { bookmarkValues } from '../targets/history.js';

/**
 * The facts `sync status` shows, gathered once from a target's history and a journal, as
 * plain data: printed as a table or JSON, and checked against the limits of `--check`.
 */

export interface RunFacts {
  id: number;
  startedAt: string;
  endedAt: string;
  /** Milliseconds between the end of the run and now. */
  ageMs: number;
  durationMs: number;
  exitCode: number;
  records: number;
  error: string | null;
}

export interface StreamFacts {
  stream: string;
  bookmark: JsonValue;
  /** When the bookmark is a time: how long ago that was. */
  bookmarkAgeMs: number | null;
  /** Over the recent runs that counted it: changes found by batch runs and the share webhooks had delivered first. */
  coverage: CoverageFacts | null;
}

export interface CoverageFacts {
  /** Changes to stored objects that the runs found. */
  found: number;
  /** Of those, how many webhooks had delivered before the run found them. */
  delivered: number;
  runs: number;
  /** delivered / found; null when no change was found. */
  share: number | null;
  /** The median time from a change to the run that found it, over the changes webhooks had not delivered. */
  lateMedianMs: number | null;
}

export interface ConnectorFacts {
  connector: string | null;
  stateId: string;
  lastRun: RunFacts | null;
  lastSuccess: RunFacts | null;
  streams: StreamFacts[];
}

/** The newest row the webhook drain recorded for a connector: its batches over up to a minute (listen/drain-history.ts). */
export interface DrainFacts {
  connector: string;
  stateId: string;
  /** The first and the last batch the row covers. */
  startedAt: string;
  endedAt: string;
  /** Milliseconds between the end of the row's last batch and now. */
  ageMs: number;
  durationMs: number;
  /** Of the row's last batch: 0 when it was written, else why not (75: the target was busy). */
  exitCode: number;
  deliveries: number;
  records: number;
  dead: number;
  error: string | null;
}

export interface StatusReport {
  target: string;
  /** False when the target does not exist: nothing was ever synced into it. */
  exists: boolean;
  now: string;
  connectors: ConnectorFacts[];
  journal: (JournalSummary & { exists: true }) | { path: string; exists: false } | null;
  /** Per connector, the newest row of the webhook drain (`sync listen`, `sync drain`) into this target. */
  drains: DrainFacts[];
}

/** How many recent runs the webhook coverage is computed over. */
export const COVERAGE_RUNS = 10;

export async function gatherStatus(
  target: string,
  history: HistoryStore | undefined,
  journal: { path: string; summary: JournalSummary | undefined } | undefined,
  now: number,
): Promise<StatusReport> {
  const connectors: ConnectorFacts[] = [];
  for (const { stateId, connector } of (await history?.stateIds()) ?? []) {
    const recent = (await history?.runs({ stateId, limit: COVERAGE_RUNS })) ?? [];
    const last = recent[0];
    const success = last?.exitCode === 0 ? last : (await history?.runs({ stateId, limit: 1, succeeded: true }))?.[0];
    const state = await history?.currentState(stateId);
    const bookmarks = bookmarkValues(state);
    connectors.push({
      connector: connector ?? null,
      stateId,
      lastRun: last ? runFacts(last, now) : null,
      lastSuccess: success ? runFacts(success, now) : null,
      streams: Object.keys(bookmarks).map((stream) => {
        const bookmark = bookmarks[stream] as JsonValue;
        const micros = typeof bookmark === 'string' ? parseInstant(bookmark) : undefined;
        return { stream, bookmark, bookmarkAgeMs: micros === undefined ? null : now - micros / 1000, coverage: coverageOf(recent, stream) };
      }),
    });
  }
  const drains = ((await history?.lastDrains()) ?? []).map((row) => drainFacts(row, now));
  return {
    target,
    exists: history !== undefined,
    now: new Date(now).toISOString(),
    connectors,
    journal: journal === undefined ? null : journal.summary ? { ...journal.summary, exists: true } : { path: journal.path, exists: false },
    drains,
  };
}

function runFacts(run: StoredRun, now: number): RunFacts {
  const ended = Date.parse(run.endedAt);
  return {
    id: run.id,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    ageMs: now - ended,
    durationMs: ended - Date.parse(run.startedAt),
    exitCode: run.exitCode,
    records: Object.values(run.records).reduce((a, b) => a + b, 0),
    error: run.error,
  };
}

function drainFacts(row: StoredRun, now: number): DrainFacts {
  const run = runFacts(row, now);
  return {
    connector: row.connector,
    stateId: row.stateId,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    ageMs: run.ageMs,
    durationMs: run.durationMs,
    exitCode: run.exitCode,
    deliveries: row.deliveries ?? 0,
    records: run.records,
    dead: row.dead ?? 0,
    error: run.error,
  };
}

/** Summed over the recent runs that measured it; null when none did. */
function coverageOf(runs: readonly StoredRun[], stream: string): StreamFacts['coverage'] {
  let found = 0;
  let delivered = 0;
  let counted = 0;
  const late = [];
  for (const run of runs) {
    const changes = run.changes === undefined || !Object.hasOwn(run.changes, stream) ? undefined : run.changes[stream];
    if (changes === undefined) continue;
    counted++;
    found += changes.found;
    delivered += changes.delivered;
    late.push(changes.lateDelays);
  }
  if (counted === 0) return null;
  return { found, delivered, runs: counted, share: found === 0 ? null : delivered / found, lateMedianMs: medianDelayMs(late) ?? null };
}
