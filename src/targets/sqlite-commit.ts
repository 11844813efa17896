import type Database from 'better-sqlite3';

/**
 * One commit of the SQLite target as plain data, so it can run on the target's own thread
 * or on a worker thread: upserts, in order, and the state row, in one transaction.
 */

export type SqlValue = string | number | bigint | null;

export interface CommitRequest {
  /** Runs of rows, each with the statement for their table shape, in the order written. */
  segments: Array<{ sql: string; rows: SqlValue[][] }>;
  /** The state covering these rows: written in the same transaction. */
  state?: { sql: string; params: SqlValue[] };
}

export function applyCommit(db: Database.Database, statements: Map<string, Database.Statement>, request: CommitRequest): void {
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
  db.transaction(() => {
    for (const segment of request.segments) {
      const insert = prepare(segment.sql);
      for (const row of segment.rows) insert.run(row);
    }
    if (request.state) prepare(request.state.sql).run(request.state.params);
  })();
}

/** Opens a connection with the settings every writer of a target database uses. */
export function configureConnection(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the state it carries is reported to anyone.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 15000');
  // 4 MiB of page cache instead of the build's 16: upserts touch the right edge of the key
  // index and the pages just written, so loads run as fast, and memory stays lower (the
  // operating system caches the file anyway).
  db.pragma('cache_size = -4096');
}
