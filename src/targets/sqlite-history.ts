import Database from 'better-sqlite3';
import { parseJson, type JsonValue } from '../protocol/json.js';
import {
  HISTORY_BUSY_MS,
  HISTORY_MAX_ROWS,
  pruneBefore,
  RUN_COLUMNS,
  runFromColumns,
  runValues,
  type HistoryStore,
  type RunColumns,
  type RunRecord,
  type StateSnapshot,
  type StoredRun,
} from './history.js';

/**
 * Run and state history in the SQLite target's own database: `_sync_runs` and
 * `_sync_state_history` beside `_sync_state`.
 *
 * Committed states are copied by triggers on `_sync_state`, so every writer of the state (a
 * run's commits on the writer thread, `sync target`, `sync state set`, a rewind) leaves its
 * snapshot in the same transaction, with no second statement to forget on any path.
 */

export const STATE_HISTORY_DDL = `
CREATE TABLE IF NOT EXISTS _sync_state_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  state_id TEXT NOT NULL,
  value TEXT NOT NULL,
  committed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _sync_state_history_by_id ON _sync_state_history (state_id, id);
CREATE TRIGGER IF NOT EXISTS _sync_state_history_insert AFTER INSERT ON _sync_state BEGIN
  INSERT INTO _sync_state_history (state_id, value, committed_at) VALUES (NEW.id, NEW.value, NEW.updated_at);
END;
CREATE TRIGGER IF NOT EXISTS _sync_state_history_update AFTER UPDATE ON _sync_state BEGIN
  INSERT INTO _sync_state_history (state_id, value, committed_at) VALUES (NEW.id, NEW.value, NEW.updated_at);
END;
`;

const RUNS_DDL = `
CREATE TABLE IF NOT EXISTS _sync_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  connector TEXT NOT NULL,
  state_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  records TEXT NOT NULL,
  error TEXT,
  bookmarks_before TEXT NOT NULL,
  bookmarks_after TEXT NOT NULL,
  changes TEXT
);
CREATE INDEX IF NOT EXISTS _sync_runs_by_id ON _sync_runs (state_id, id);
`;

/**
 * Columns added since the table was first made, each with what existing rows take: a table
 * written by an earlier version gains them (ALTER TABLE … ADD COLUMN rewrites nothing), and
 * its rows stay `sync run` rows.
 */
const RUNS_ADDED_COLUMNS: ReadonlyArray<[string, string]> = [
  ['kind', "TEXT NOT NULL DEFAULT 'run'"],
  ['deliveries', 'INTEGER'],
  ['dead', 'INTEGER'],
];
/** Pruning and `runs` look for one kind of one state id, newest first. */
const RUNS_KIND_INDEX = 'CREATE INDEX IF NOT EXISTS _sync_runs_by_kind ON _sync_runs (state_id, kind, id)';

/**
 * The statement that bounds the state history of a state id (newest HISTORY_MAX_ROWS, none
 * older than HISTORY_MAX_AGE_MS), run in the transaction of a state write or a recorded run;
 * the index on (state_id, id) makes it a short range scan.
 */
export function stateHistoryTrim(stateId: string, now: number): { sql: string; params: Array<string | number> } {
  return {
    sql: `DELETE FROM _sync_state_history WHERE state_id = ? AND (committed_at < ? OR id <= (SELECT id FROM _sync_state_history WHERE state_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?))`,
    params: [stateId, pruneBefore(now), stateId, HISTORY_MAX_ROWS],
  };
}

export class SqliteHistory implements HistoryStore {
  readonly description: string;

  /** Whether `_sync_runs` has its `kind` column: a table of an earlier version, opened read-only, holds runs only. */
  private readonly kinds: boolean;

  private constructor(
    private readonly db: Database.Database,
    path: string,
  ) {
    this.description = `sqlite:${path}`;
    this.kinds = this.columns('_sync_runs').has('kind');
  }

  /** `read` opens the file read-only (`sync status`); `write` adds the history tables, and their newer columns, if missing. */
  static open(path: string, mode: 'read' | 'write'): SqliteHistory {
    const db = new Database(path, { readonly: mode === 'read', fileMustExist: true });
    try {
      // A run, a listener or `sync target` may hold the write lock: wait a little, not 15 s.
      db.pragma(`busy_timeout = ${HISTORY_BUSY_MS}`);
      if (mode === 'write') {
        db.exec(`CREATE TABLE IF NOT EXISTS _sync_state (id TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);${STATE_HISTORY_DDL}${RUNS_DDL}`);
        addMissingColumns(db);
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteHistory(db, path);
  }

  async recordRun(run: RunRecord): Promise<void> {
    const now = Date.now();
    const kind = run.kind ?? 'run';
    this.db
      .transaction(() => {
        const values = runValues(run);
        this.db.prepare(`INSERT INTO _sync_runs (${RUN_COLUMNS}) VALUES (${values.map(() => '?').join(', ')})`).run(...values);
        // Bounded by count and by age, each kind on its own (a busy drain never pushes out the
        // scheduled runs); the index on (state_id, kind, id) makes both a short range scan.
        this.db
          .prepare(
            `DELETE FROM _sync_runs WHERE state_id = ? AND kind = ? AND (started_at < ? OR id <= (SELECT id FROM _sync_runs WHERE state_id = ? AND kind = ? ORDER BY id DESC LIMIT 1 OFFSET ?))`,
          )
          .run(run.stateId, kind, pruneBefore(now), run.stateId, kind, HISTORY_MAX_ROWS);
        const trim = stateHistoryTrim(run.stateId, now);
        this.db.prepare(trim.sql).run(...trim.params);
      })
      .immediate();
  }

  async runs(options: { stateId?: string; limit: number; succeeded?: boolean }): Promise<StoredRun[]> {
    if (!this.hasTable('_sync_runs')) return [];
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (options.stateId !== undefined) {
      where.push('state_id = ?');
      params.push(options.stateId);
    }
    if (this.kinds) where.push("kind = 'run'");
    if (options.succeeded === true) where.push('exit_code = 0');
    const sql = `SELECT * FROM _sync_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, options.limit) as RunColumns[];
    return rows.map(runFromColumns);
  }

  async lastDrains(): Promise<StoredRun[]> {
    if (!this.kinds) return [];
    const rows = this.db
      .prepare("SELECT * FROM _sync_runs WHERE id IN (SELECT max(id) FROM _sync_runs WHERE kind = 'drain' GROUP BY connector) ORDER BY connector")
      .all() as RunColumns[];
    return rows.map(runFromColumns);
  }

  async stateIds(): Promise<Array<{ stateId: string; connector: string | undefined }>> {
    const ids = new Map<string, string | undefined>();
    if (this.hasTable('_sync_state')) {
      for (const row of this.db.prepare('SELECT id FROM _sync_state ORDER BY id').all() as Array<{ id: string }>) ids.set(row.id, undefined);
    }
    if (this.hasTable('_sync_runs')) {
      const runs = this.kinds ? "WHERE kind = 'run' " : '';
      const rows = this.db
        .prepare(`SELECT state_id, connector FROM _sync_runs WHERE id IN (SELECT max(id) FROM _sync_runs ${runs}GROUP BY state_id) ORDER BY state_id`)
        .all() as Array<{ state_id: string; connector: string }>;
      for (const row of rows) ids.set(row.state_id, row.connector);
    }
    return [...ids].sort(([a], [b]) => a.localeCompare(b)).map(([stateId, connector]) => ({ stateId, connector }));
  }

  async states(stateId: string, limit: number): Promise<StateSnapshot[]> {
    if (!this.hasTable('_sync_state_history')) return [];
    const rows = this.db
      .prepare('SELECT id, state_id, value, committed_at FROM _sync_state_history WHERE state_id = ? ORDER BY id DESC LIMIT ?')
      .all(stateId, limit) as Array<{ id: number; state_id: string; value: string; committed_at: string }>;
    return rows.map((r) => ({ id: r.id, stateId: r.state_id, committedAt: r.committed_at, value: parseJson(r.value).value }));
  }

  async currentState(stateId: string): Promise<JsonValue | undefined> {
    if (!this.hasTable('_sync_state')) return undefined;
    const row = this.db.prepare('SELECT value FROM _sync_state WHERE id = ?').get(stateId) as { value: string } | undefined;
    return row === undefined ? undefined : parseJson(row.value).value;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  private columns(table: string): Set<string> {
    return columnsOf(this.db, table);
  }
}

function columnsOf(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as Array<{ name: string }>).map((c) => c.name));
}

/** An `_sync_runs` made by an earlier version gains the columns added since, in one transaction. */
function addMissingColumns(db: Database.Database): void {
  const have = columnsOf(db, '_sync_runs');
  const missing = RUNS_ADDED_COLUMNS.filter(([name]) => !have.has(name));
  const indexed = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = '_sync_runs_by_kind'").get() !== undefined;
  // Asked first: a write transaction would wait for a writer even when there is nothing to add.
  if (missing.length === 0 && indexed) return;
  db.transaction(() => {
    for (const [name, definition] of missing) db.exec(`ALTER TABLE _sync_runs ADD COLUMN ${name} ${definition}`);
    db.exec(RUNS_KIND_INDEX);
  }).immediate();
}
