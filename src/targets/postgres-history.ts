import pg from 'pg';
import { TargetError } from '../errors.js';
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
import { lockSchemaDdl, prepareHistoryTables, relationExists, runsHaveKinds, RUNS_TABLE, STATES_TABLE } from './postgres-ddl.js';
import { qualified } from './postgres-names.js';
import { STATE_TABLE } from './postgres-state.js';
import { scrubSecrets, type PostgresLocation } from './postgres-url.js';

/**
 * Run and state history of a PostgreSQL target, in its schema beside `_sync_state`: `_sync_runs`
 * and `_sync_state_history`. As in SQLite, committed states are copied by a trigger on
 * `_sync_state`, so every writer of the state (a run's commits, `sync state set`, a rewind)
 * leaves its snapshot in its own transaction. JSON is kept as jsonb (queryable) and read back as
 * its text, so exact numbers stay exact.
 */

/** RFC 3339 in UTC with milliseconds, as `Date#toISOString` writes it. */
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

export class PostgresHistory implements HistoryStore {
  readonly description: string;
  private readonly runsTable: string;
  private readonly statesTable: string;
  private readonly stateTable: string;

  private constructor(
    private readonly client: pg.Client,
    private readonly location: PostgresLocation,
    /** Whether `_sync_runs` has its `kind` column: a table of an earlier version, read without migrating, holds runs only. */
    private readonly kinds: boolean,
  ) {
    this.description = location.description;
    this.runsTable = qualified(location.schema, RUNS_TABLE);
    this.statesTable = qualified(location.schema, STATES_TABLE);
    this.stateTable = qualified(location.schema, STATE_TABLE);
  }

  /**
   * Undefined when the schema holds no target yet (no `_sync_state`): nothing is created then.
   * `read` runs read-only; `write` adds the history tables if missing. Either waits at most
   * HISTORY_BUSY_MS for a lock another session holds.
   */
  static async open(location: PostgresLocation, mode: 'read' | 'write'): Promise<PostgresHistory | undefined> {
    const client = new pg.Client({ connectionString: location.url, application_name: 'sync history', connectionTimeoutMillis: 15_000 });
    // A failure on an idle connection is not an uncaught error; the next query reports it.
    client.on('error', () => undefined);
    const fail = (err: unknown): never => {
      throw new TargetError(`cannot read the history of ${location.description}: ${scrubSecrets((err as Error).message || String(err), location.secrets)}`);
    };
    try {
      await client.connect();
      await client.query(`SET lock_timeout = ${HISTORY_BUSY_MS}`);
      if (mode === 'read') await client.query('SET default_transaction_read_only = on');
      if (!(await relationExists(client, location.schema, STATE_TABLE))) {
        await client.end();
        return undefined;
      }
      if (mode === 'write') {
        await client.query('BEGIN');
        await lockSchemaDdl(client, location.schema);
        await prepareHistoryTables(client, location.schema);
        await client.query('COMMIT');
      }
      return new PostgresHistory(client, location, await runsHaveKinds(client, location.schema));
    } catch (err) {
      await client.end().catch(() => undefined);
      return fail(err);
    }
  }

  async recordRun(run: RunRecord): Promise<void> {
    const now = Date.now();
    const kind = run.kind ?? 'run';
    await this.inTransaction(async () => {
      const values = runValues(run);
      await this.client.query(`INSERT INTO ${this.runsTable} (${RUN_COLUMNS}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
      // Bounded by count and by age, each kind on its own, as in SQLite; the index on (state_id, kind, id) serves both.
      await this.client.query(
        `DELETE FROM ${this.runsTable} WHERE state_id = $1 AND kind = $2 AND (started_at < $3 OR id <= (SELECT id FROM ${this.runsTable} WHERE state_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1 OFFSET $4))`,
        [run.stateId, kind, pruneBefore(now), HISTORY_MAX_ROWS],
      );
      await trimStateHistory(this.client, this.location.schema, run.stateId, now);
    });
  }

  async runs(options: { stateId?: string; limit: number; succeeded?: boolean }): Promise<StoredRun[]> {
    if (!(await this.has(RUNS_TABLE))) return [];
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (options.stateId !== undefined) {
      params.push(options.stateId);
      where.push(`state_id = $${params.length}`);
    }
    if (this.kinds) where.push("kind = 'run'");
    if (options.succeeded === true) where.push('exit_code = 0');
    params.push(options.limit);
    const { rows } = await this.client.query<RunColumns>(
      `SELECT ${this.runColumns()} FROM ${this.runsTable}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(runFromColumns);
  }

  async lastDrains(): Promise<StoredRun[]> {
    if (!this.kinds) return [];
    const { rows } = await this.client.query<RunColumns>(
      `SELECT DISTINCT ON (connector) ${this.runColumns()} FROM ${this.runsTable} WHERE kind = 'drain' ORDER BY connector, id DESC`,
    );
    return rows.map(runFromColumns);
  }

  async stateIds(): Promise<Array<{ stateId: string; connector: string | undefined }>> {
    const ids = new Map<string, string | undefined>();
    for (const row of (await this.client.query<{ id: string }>(`SELECT id FROM ${this.stateTable}`)).rows) ids.set(row.id, undefined);
    if (await this.has(RUNS_TABLE)) {
      const { rows } = await this.client.query<{ state_id: string; connector: string }>(
        `SELECT DISTINCT ON (state_id) state_id, connector FROM ${this.runsTable}${this.kinds ? " WHERE kind = 'run'" : ''} ORDER BY state_id, id DESC`,
      );
      for (const row of rows) ids.set(row.state_id, row.connector);
    }
    return [...ids].sort(([a], [b]) => a.localeCompare(b)).map(([stateId, connector]) => ({ stateId, connector }));
  }

  async states(stateId: string, limit: number): Promise<StateSnapshot[]> {
    if (!(await this.has(STATES_TABLE))) return [];
    const { rows } = await this.client.query<{ id: string; value: string; committed_at: string }>(
      `SELECT id::text, value, to_char(committed_at AT TIME ZONE 'UTC', ${ISO}) AS committed_at FROM ${this.statesTable} WHERE state_id = $1 ORDER BY id DESC LIMIT $2`,
      [stateId, limit],
    );
    return rows.map((r) => ({ id: Number(r.id), stateId, committedAt: r.committed_at, value: parseJson(r.value).value }));
  }

  async currentState(stateId: string): Promise<JsonValue | undefined> {
    const { rows } = await this.client.query<{ value: string }>(`SELECT value FROM ${this.stateTable} WHERE id = $1`, [stateId]);
    return rows[0] === undefined ? undefined : parseJson(rows[0].value).value;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /** A row as `runFromColumns` reads it: times as RFC 3339 text, JSON as its text. */
  private runColumns(): string {
    return `id::text, ${this.kinds ? 'kind, deliveries, dead, ' : ''}connector, state_id, to_char(started_at AT TIME ZONE 'UTC', ${ISO}) AS started_at, to_char(ended_at AT TIME ZONE 'UTC', ${ISO}) AS ended_at,
              exit_code, records::text, error, bookmarks_before::text, bookmarks_after::text, changes::text`;
  }

  private has(table: string): Promise<boolean> {
    return relationExists(this.client, this.location.schema, table);
  }

  private async inTransaction(work: () => Promise<void>): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await work();
      await this.client.query('COMMIT');
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw new TargetError(scrubSecrets((err as Error).message || String(err), this.location.secrets));
    }
  }
}

/**
 * Bounds the state history of a state id (newest HISTORY_MAX_ROWS, none older than
 * HISTORY_MAX_AGE_MS), in the caller's transaction: a recorded run, or a writer of state
 * (postgres-store.ts) at its first state write and then once a minute.
 */
export async function trimStateHistory(client: pg.Client, schema: string, stateId: string, now: number): Promise<void> {
  const table = qualified(schema, STATES_TABLE);
  await client.query(
    `DELETE FROM ${table} WHERE state_id = $1 AND (committed_at < $2 OR id <= (SELECT id FROM ${table} WHERE state_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $3))`,
    [stateId, pruneBefore(now), HISTORY_MAX_ROWS],
  );
}
