import type Database from 'better-sqlite3';
import { addFinding, classify, delayOf, type CommitChanges } from './change-count.js';
import { forEachRow, type EncodedRows, type SqlValue } from './sqlite-rows.js';

/**
 * One commit of the SQLite target as plain data, so it can run on the target's own thread
 * or on a worker thread: upserts, in order, and the state row, in one transaction.
 */

export type { SqlValue } from './sqlite-rows.js';

export interface CommitRequest {
  /** Runs of rows, each with the statement for their table shape, in the order written. */
  segments: EncodedRows[];
  /** The state covering these rows: written in the same transaction. */
  state?: { sql: string; params: SqlValue[] };
  /** Bounds the state history, after the state's snapshot was added (sqlite-history.ts#stateHistoryTrim). */
  trimHistory?: { sql: string; params: SqlValue[] };
}

/**
 * Runs one commit; with `counter` (a counting run's connection), returns what its upserts found
 * over stored rows. Counts of a commit that failed are dropped with it.
 */
export function applyCommit(
  db: Database.Database,
  statements: Map<string, Database.Statement>,
  request: CommitRequest,
  counter?: ChangeCounter,
): CommitChanges | undefined {
  const prepare = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      // Another connection (the target's own) may have changed the schema; preparing against
      // a stale copy fails (e.g. an ON CONFLICT naming a new unique index). Reading the
      // schema table makes SQLite reload it first.
      db.prepare('SELECT count(*) FROM sqlite_schema').get();
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  // IMMEDIATE: take the write lock first, waiting for it (busy_timeout). A deferred
  // transaction starts as a read and its upgrade fails at once, without waiting, when another
  // connection wrote meanwhile: with several streams (or `sync listen` beside `sync run`) that
  // turned every concurrent write into "database is locked".
  if (counter) counter.changes = {};
  db.transaction(() => {
    for (const segment of request.segments) {
      const insert = prepare(segment.sql);
      forEachRow(segment, (row) => insert.run(row));
    }
    if (request.state) prepare(request.state.sql).run(request.state.params);
    if (request.trimHistory) prepare(request.trimHistory.sql).run(request.trimHistory.params);
  }).immediate();
  return counter?.changes;
}

/** The SQL function a counting upsert calls for each row whose key is already stored. */
export const FOUND_FUNCTION = 'sync_found';

export interface ChangeCounter {
  /** What the current commit's upserts found so far. */
  changes: CommitChanges;
}

/**
 * Gives a connection the function counting upserts call from their `DO UPDATE … WHERE`:
 * `sync_found(stream, stored version, stored run version, record's version, replaces)`. It
 * returns `replaces` unchanged, so the upsert decides exactly as without counting; SQLite calls
 * it only for a key already stored, so a load of new rows never enters it.
 */
export function countChangesOn(db: Database.Database): ChangeCounter {
  const counter: ChangeCounter = { changes: {} };
  db.function(FOUND_FUNCTION, { safeIntegers: true, deterministic: false }, (stream: unknown, stored: unknown, runVersion: unknown, version: unknown, replaces: unknown) => {
    const finding = classify(sqlValue(stored), sqlValue(runVersion), sqlValue(version), replaces === 1n);
    addFinding(counter.changes, String(stream), finding, finding === 'late' ? delayOf(sqlValue(version), Date.now()) : undefined);
    return replaces;
  });
  return counter;
}

function sqlValue(value: unknown): string | number | bigint | null | Uint8Array {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || value instanceof Uint8Array ? value : null;
}

/** How long a writer waits for a lock held by another connection before giving up (exit 75). */
export const BUSY_TIMEOUT_MS = 15_000;

/** SQLite's result codes for "another connection holds the lock": retry later, not a failure of the data. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Opens a connection with the settings every writer of a target database uses. */
export function configureConnection(db: Database.Database, busyTimeoutMs = BUSY_TIMEOUT_MS): void {
  // First: switching to WAL takes a lock, and without a busy timeout a writer that holds one
  // (another run, a listener) would fail the open at once instead of being waited for.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the state it carries is reported to anyone.
  db.pragma('synchronous = FULL');
  // 4 MiB of page cache instead of the build's 16: upserts touch the right edge of the key
  // index and the pages just written, so loads run as fast, and memory stays lower (the
  // operating system caches the file anyway).
  db.pragma('cache_size = -4096');
}
