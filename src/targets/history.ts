import { statSync } from 'node:fs';
import { isJsonObject, parseJson, stringifyJson, type JsonValue } from '../protocol/json.js';
import type { TargetSpec } from './spec.js';

/**
 * What a target keeps about the runs into it, beside its state: one row per `sync run`, rows of
 * the webhook drain's batches, and every state it ever committed. All live in the target's own
 * store (where an operator already looks, and where they survive with the data), bounded so
 * they never grow without end.
 */

/** Per stream: changes a batch run found, and how many of them webhooks had already delivered (change-count.ts). */
export interface StreamChanges {
  /** Records the run wrote whose key was already stored, in a version no earlier run had written (a change to a known object). */
  found: number;
  /** Of those, the stored row already held this version or a newer one: a webhook had delivered it. */
  delivered: number;
  /** The others: webhooks missed them or had not delivered them yet. How long after the change the run found them. */
  lateDelays?: LateDelays;
}

export interface LateDelays {
  /** Late changes whose version is an instant, so their delay is known. */
  count: number;
  /** Their delays in milliseconds, sorted: all of them, or when more than 100, 100 spread evenly over them. */
  sampleMs: number[];
}

/**
 * `run`: one `sync run`. `drain`: the webhook drain's batches of one connector over an interval
 * (listen/drain-history.ts), told apart so that a drain never passes for a scheduled run.
 */
export type HistoryKind = 'run' | 'drain';

export interface RunRecord {
  /** Absent: `run`. */
  kind?: HistoryKind;
  connector: string;
  stateId: string;
  /** RFC 3339, UTC. */
  startedAt: string;
  endedAt: string;
  exitCode: number;
  /** Records read and handed to the target, per stream. */
  records: Record<string, number>;
  /** The error line, scrubbed of secrets; null on success. */
  error: string | null;
  /** Bookmark value per stream, at the start and after the last commit. */
  bookmarksBefore: Record<string, JsonValue>;
  bookmarksAfter: Record<string, JsonValue>;
  /** Webhook coverage, per stream, where the target counts it (a `sync run` into SQLite or PostgreSQL). */
  changes?: Record<string, StreamChanges>;
  /** A drain's row: deliveries whose records were committed, and deliveries that became dead letters. */
  deliveries?: number;
  dead?: number;
}

export interface StoredRun extends RunRecord {
  id: number;
  kind: HistoryKind;
}

export interface StateSnapshot {
  id: number;
  stateId: string;
  committedAt: string;
  value: JsonValue;
}

/** Asynchronous, since a database server (PostgreSQL) answers over the network. */
export interface HistoryStore {
  readonly description: string;
  /** Adds a run (or a drain's row) and prunes the rows of its kind and state id, and the states of that state id, past their bounds. */
  recordRun(run: RunRecord): Promise<void>;
  /** The newest `sync run`s first (never a drain's rows), at most `limit`; of one state id when given. */
  runs(options: { stateId?: string; limit: number; succeeded?: boolean }): Promise<StoredRun[]>;
  /** The newest drain row of each connector, by connector name. */
  lastDrains(): Promise<StoredRun[]>;
  /** State ids with runs or a stored state, with the connector of their newest run. */
  stateIds(): Promise<Array<{ stateId: string; connector: string | undefined }>>;
  /** The committed states of a state id, newest first. */
  states(stateId: string, limit: number): Promise<StateSnapshot[]>;
  /** The state stored now for a state id. */
  currentState(stateId: string): Promise<JsonValue | undefined>;
  close(): Promise<void>;
}

/** Runs and states older than this are pruned when a run is recorded. */
export const HISTORY_MAX_AGE_MS = 90 * 86_400_000;
/** At most this many runs, and as many states, per state id. */
export const HISTORY_MAX_ROWS = 10_000;
/** A recording waits this long for a database locked by another writer, then gives up with a warning. */
export const HISTORY_BUSY_MS = 2_000;

/** The oldest instant kept when pruning at `now`. */
export function pruneBefore(now: number): string {
  return new Date(now - HISTORY_MAX_AGE_MS).toISOString();
}

/** A writer of state trims the state history at its first state write, then at most this often. */
export const STATE_TRIM_EVERY_MS = 60_000;

/**
 * When a writer of state also trims the state history, in the transaction that writes the
 * state: every path that adds snapshots (a run, `sync target`, `sync state set`, a rewind)
 * keeps them bounded, and a long-lived writer pays for the trim once a minute, not per commit.
 */
export class StateTrimSchedule {
  private next = Number.NEGATIVE_INFINITY;

  /** True when a trim is due now; it then counts as done. */
  due(now = Date.now()): boolean {
    if (now < this.next) return false;
    this.next = now + STATE_TRIM_EVERY_MS;
    return true;
  }
}

/**
 * The history of a target, or undefined when it keeps none (stdout) or does not exist yet:
 * opening it never creates a database, a folder or a schema, so `sync status` and a run that
 * failed before it reached its target leave nothing behind. A path of the wrong kind (a folder
 * given as the database, a file as the folder) holds no history either: the run was refused
 * for it with a usage error, which says all there is to say.
 */
export async function openHistory(spec: TargetSpec, mode: 'read' | 'write'): Promise<HistoryStore | undefined> {
  switch (spec.kind) {
    case 'sqlite': {
      if (!holds(spec.path, 'file')) return undefined;
      const { SqliteHistory } = await import('./sqlite-history.js');
      return SqliteHistory.open(spec.path, mode);
    }
    case 'jsonl':
    case 'csv': {
      if (!holds(spec.dir, 'folder')) return undefined;
      const { FileHistory } = await import('./file-history.js');
      return new FileHistory(spec.dir, `${spec.kind}:${spec.dir}`);
    }
    case 'postgres': {
      // Loaded only here: commands that never touch PostgreSQL never load `pg`.
      const { PostgresHistory } = await import('./postgres-history.js');
      return PostgresHistory.open(spec, mode);
    }
    default:
      // stdout keeps nothing.
      return undefined;
  }
}

/** Whether `path` is a file (or a folder): false when missing, or when a file stands on the way to it. */
function holds(path: string, kind: 'file' | 'folder'): boolean {
  try {
    const stats = statSync(path);
    return kind === 'file' ? stats.isFile() : stats.isDirectory();
  } catch {
    return false;
  }
}

/** The bookmark value of each stream of a Singer state: what an operator compares between runs. */
export function bookmarkValues(state: JsonValue | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  const bookmarks = isJsonObject(state) ? state['bookmarks'] : undefined;
  if (!isJsonObject(bookmarks)) return out;
  for (const stream of Object.keys(bookmarks)) {
    const entry = bookmarks[stream];
    if (!isJsonObject(entry)) continue;
    // A partitioned stream (one bookmark per parent) or the classic shape: kept whole.
    const value = entry['replication_key_value'] ?? entry;
    // defineProperty: a stream named `__proto__` stays an ordinary key.
    Object.defineProperty(out, stream, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A run as a database row keeps it: JSON as text (SQLite's columns, PostgreSQL's jsonb read as text). */
export interface RunColumns {
  id: number | string;
  /** Absent in a table made before drains were recorded (read-only, not yet migrated). */
  kind?: string | null;
  connector: string;
  state_id: string;
  started_at: string;
  ended_at: string;
  exit_code: number;
  records: string;
  error: string | null;
  bookmarks_before: string;
  bookmarks_after: string;
  changes: string | null;
  deliveries?: number | null;
  dead?: number | null;
}

/** The columns a run is written to, in the order of `runValues`. */
export const RUN_COLUMNS = 'kind, connector, state_id, started_at, ended_at, exit_code, records, error, bookmarks_before, bookmarks_after, changes, deliveries, dead';

/** A run's values for RUN_COLUMNS, as bound to an INSERT: JSON as text (read back by `runFromColumns`). */
export function runValues(run: RunRecord): Array<string | number | null> {
  return [
    run.kind ?? 'run',
    run.connector,
    run.stateId,
    run.startedAt,
    run.endedAt,
    run.exitCode,
    JSON.stringify(run.records),
    run.error,
    stringifyJson(run.bookmarksBefore),
    stringifyJson(run.bookmarksAfter),
    run.changes === undefined ? null : JSON.stringify(run.changes),
    run.deliveries ?? null,
    run.dead ?? null,
  ];
}

export function runFromColumns(row: RunColumns): StoredRun {
  return {
    id: Number(row.id),
    kind: row.kind === 'drain' ? 'drain' : 'run',
    connector: row.connector,
    stateId: row.state_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    records: JSON.parse(row.records) as Record<string, number>,
    error: row.error,
    bookmarksBefore: objectOf(parseJson(row.bookmarks_before).value),
    bookmarksAfter: objectOf(parseJson(row.bookmarks_after).value),
    ...(row.changes === null ? {} : { changes: JSON.parse(row.changes) as Record<string, StreamChanges> }),
    ...(row.deliveries === null || row.deliveries === undefined ? {} : { deliveries: Number(row.deliveries) }),
    ...(row.dead === null || row.dead === undefined ? {} : { dead: Number(row.dead) }),
  };
}

function objectOf(value: JsonValue): Record<string, JsonValue> {
  return isJsonObject(value) ? value : {};
}
