import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { normalizeInstant } from '../protocol/instant.js';
import { LosslessNumber, parseJson, stringifyJson, type JsonValue } from '../protocol/json.js';
import type { ActivationGuard, RecordMessage } from '../protocol/messages.js';
import { columnKind, type StreamSchema } from '../protocol/schema.js';
import { TargetBusyError, TargetError, UsageError } from '../errors.js';
import { makeFolder } from './file-state.js';
import { notInSchemaWarning, type Target, type TargetOptions } from './target.js';
import { SqliteNames } from './sqlite-names.js';
import { applyCommit, BUSY_TIMEOUT_MS, configureConnection, countChangesOn, FOUND_FUNCTION, isBusy, type ChangeCounter, type CommitRequest, type SqlValue } from './sqlite-commit.js';
import { RUN_VERSION_COLUMN, RunChanges, type CommitChanges } from './change-count.js';
import { StateTrimSchedule, type StreamChanges } from './history.js';
import type { WriterReply } from './sqlite-worker.js';
import { STATE_HISTORY_DDL, stateHistoryTrim } from './sqlite-history.js';
import { PendingCalls } from '../worker-calls.js';
import { BufferPool, RowEncoder, transferables } from './sqlite-rows.js';

/**
 * SQLite, the default target. One table per stream, named as the stream; one column per
 * top-level property (objects and arrays as JSON text, integers INTEGER, other numbers
 * untyped so long decimals stay exact, booleans 0/1); upsert on the key properties where
 * the newest version wins (`_sync_version`, from the replication key, never goes back);
 * state in `_sync_state`, written in the same transaction as the records it covers.
 *
 * Rows are built here; with `writer: 'thread'` (the CLI) they are inserted on a worker
 * thread, so building the next batch overlaps with writing this one. Schema changes and
 * state reads stay on this thread's own connection.
 */

const STATE_TABLE = '_sync_state';
const VERSION_COLUMN = '_sync_version';
/** RECORD.version, for ACTIVATE_VERSION (the Singer name for it). */
const TABLE_VERSION_COLUMN = '_sdc_table_version';
const DELETED_COLUMN = '_sdc_deleted_at';
/** SQLite's limit on the columns of a table (SQLITE_MAX_COLUMN as built). */
const MAX_COLUMNS = 2000;

/** Quotes an identifier taken from data: `a"b` becomes `"a""b"`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

interface TableWriter {
  stream: StreamSchema;
  /** The table's name, quoted. */
  table: string;
  /** The table's name as SQLite has it (see sqlite-names.ts). */
  tableName: string;
  columns: string[];
  /** The record property each column holds, aligned with `columns`. */
  props: string[];
  /** Property → its position in `columns`. */
  propIndex: Map<string, number>;
  /** Properties named like Object.prototype members (`constructor`...): read only as own properties. */
  inherited: boolean[];
  /** Some column has numeric affinity (tables made by older versions): it would round a huge integer. */
  numericAffinity: boolean[];
  hasVersion: boolean;
  /** A counting run's number for this stream in the SQL that counts (see change-count.ts); undefined when not counting. */
  countId: number | undefined;
  /** Position of `_sync_run_version` in `columns`, -1 when the table has none. */
  runVersionIndex: number;
  /** The version property is declared a date-time: text that is not an instant ranks lowest. */
  versionIsDateTime: boolean;
  /** Undefined while the table has no column yet (a schema without properties). */
  insertSql: string | undefined;
  /** Rows built for the current shape of the table, encoded for the writer (see sqlite-rows.ts). */
  rows: RowEncoder | undefined;
  /** Rows built for earlier shapes (before a column was added), with their statements, in order. */
  segments: RowEncoder[];
  /** The row being built, reused for every record (the encoder copies its values). */
  scratch: SqlValue[];
  warned: Set<string>;
}

export class SqliteTarget implements Target {
  readonly streaming = false;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly tables = new Map<string, TableWriter>();
  private readonly readStateStmt: Database.Statement;
  private readonly deleteStateStmt: Database.Statement;
  private readonly writer: RowWriter;
  private readonly names: SqliteNames;
  /** Text of the rows buffered since the last commit, roughly in bytes. */
  private buffered = 0;
  /** With `countChanges`: what the committed upserts found, and the streams by their number in the counting SQL. */
  private readonly changes: RunChanges | undefined;
  private readonly countedStreams: string[] = [];
  /** Row buffers come back from the writer after each commit and are reused (sqlite-rows.ts). */
  private readonly pool = new BufferPool();
  /** The state history is bounded by the writers of state, in their own transactions. */
  private readonly trims = new StateTrimSchedule();

  constructor(
    readonly path: string,
    private readonly options: TargetOptions & { writer?: 'inline' | 'thread'; busyTimeoutMs?: number },
  ) {
    this.description = `sqlite:${path}`;
    const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    // As the file targets do: a missing folder is made, and a path that cannot be a database
    // file is a mistake in the target given (exit code 2), not a failed write.
    makeFolder(dirname(path), this.description);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${this.description}: ${path} is a folder, not a database file`);
    let names: SqliteNames | undefined;
    try {
      this.db = new Database(path);
      // Two writers opening a new file at once (a run beside a listener, two runs) race to set it
      // up: the statements below take the write lock first, and a lock lost in that race (which
      // SQLite reports at once rather than waiting) is tried again within the busy timeout.
      retryWhileBusy(busyTimeoutMs, () => {
        configureConnection(this.db, busyTimeoutMs);
        this.db.defaultSafeIntegers(true);
        this.db
          .transaction(() => {
            // Every state committed is also kept, by triggers, for `sync state history|rewind`.
            this.db.exec(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (id TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);${STATE_HISTORY_DDL}`);
            names = new SqliteNames(this.db);
          })
          .immediate();
      });
    } catch (err) {
      throw targetError(`cannot open SQLite database ${path}`, err);
    }
    this.names = names as SqliteNames;
    this.readStateStmt = this.db.prepare(`SELECT value FROM ${STATE_TABLE} WHERE id = ?`);
    this.deleteStateStmt = this.db.prepare(`DELETE FROM ${STATE_TABLE} WHERE id = ?`);
    const counting = options.countChanges === true;
    this.changes = counting ? new RunChanges() : undefined;
    this.writer = options.writer === 'thread' ? new ThreadWriter(path, busyTimeoutMs, counting, this.pool) : new InlineWriter(this.db, counting, this.pool);
  }

  openStream(stream: StreamSchema): void {
    const name = stream.stream;
    const previous = this.tables.get(name);
    const hasVersion = stream.keyProperties.length > 0 && stream.versionProperty !== undefined;
    const counted = hasVersion && this.changes !== undefined;
    let tableName = '';
    let keyColumns: string[] = [];
    try {
      // IMMEDIATE: take the write lock first (waiting for the writer thread if it holds it); a
      // read that later upgrades would fail at once if the writer committed in between.
      this.db.transaction(() => {
        tableName = this.names.table(name);
        const table = quoteIdentifier(tableName);
        const existing = this.existingColumns(tableName);
        const properties = Object.keys(stream.properties);
        if (properties.length > MAX_COLUMNS) {
          throw new TargetError(
            `stream ${JSON.stringify(name)} has ${properties.length} properties; a SQLite table holds at most 2,000 columns: send it to jsonl: or csv:`,
          );
        }
        const wanted: Array<[string, string]> = [];
        const chosen = new Map<string, string>();
        const folded = new Map(existing.map((c) => [c.toLowerCase(), c]));
        const choose = (property: string, type: string): void => {
          const column = this.names.column(tableName, property, folded);
          chosen.set(property, column);
          folded.set(column.toLowerCase(), column);
          wanted.push([column, type]);
        };
        for (const p of properties) choose(p, sqlType(stream.properties[p]));
        // A key the schema does not list (a schema without properties) still needs its column.
        for (const k of stream.keyProperties) if (!chosen.has(k)) choose(k, '');
        keyColumns = stream.keyProperties.map((k) => chosen.get(k) as string);
        if (hasVersion) wanted.push([VERSION_COLUMN, '']);
        if (counted) wanted.push([RUN_VERSION_COLUMN, '']);
        if (existing.length === 0 && wanted.length === 0) {
          // SQLite has no zero-column tables: created with the first property a record brings.
        } else if (existing.length === 0) {
          const defs = wanted.map(([c, type]) => `${quoteIdentifier(c)}${type ? ' ' + type : ''}`);
          this.db.exec(`CREATE TABLE ${table} (${defs.join(', ')})`);
        } else {
          const have = new Set(existing.map((c) => c.toLowerCase()));
          for (const [c, type] of wanted) {
            if (have.has(c.toLowerCase())) continue;
            this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${quoteIdentifier(c)}${type ? ' ' + type : ''}`);
            have.add(c.toLowerCase());
          }
        }
        this.ensureKeyIndex(tableName, keyColumns);
      }).immediate();
    } catch (err) {
      if (err instanceof TargetError) throw err;
      throw targetError(`cannot prepare the table of stream ${JSON.stringify(name)} in ${this.path}`, err);
    }
    const writer: TableWriter = {
      stream,
      table: quoteIdentifier(tableName),
      tableName,
      columns: [],
      props: [],
      propIndex: new Map(),
      inherited: [],
      numericAffinity: [],
      hasVersion: false,
      countId: counted ? this.countId(name) : undefined,
      runVersionIndex: -1,
      versionIsDateTime: stream.versionProperty !== undefined && columnKind(stream.properties[stream.versionProperty]) === 'date-time',
      insertSql: undefined,
      rows: undefined,
      scratch: [],
      // Rows of the old schema not yet committed keep their own statement.
      segments: previous ? closedSegments(previous) : [],
      warned: previous?.warned ?? new Set(),
    };
    this.describeColumns(writer);
    writer.hasVersion = hasVersion || writer.columns.includes(VERSION_COLUMN);
    this.tables.set(name, writer);
  }

  /** Reads the table's columns and which property each holds; prepares the insert. */
  private describeColumns(writer: TableWriter): void {
    const info = this.db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(writer.tableName) as Array<{ name: string; type: string }>;
    const propertyOf = new Map<string, string>();
    for (const [property, column] of this.names.columnsOf(writer.tableName)) propertyOf.set(column, property);
    writer.columns = info.map((c) => c.name);
    writer.scratch = new Array<SqlValue>(writer.columns.length).fill(null);
    writer.props = writer.columns.map((c) => propertyOf.get(c) ?? c);
    writer.propIndex = new Map(writer.props.map((p, i) => [p, i]));
    writer.inherited = writer.props.map(isInheritedName);
    writer.runVersionIndex = writer.columns.indexOf(RUN_VERSION_COLUMN);
    writer.numericAffinity = info.map((c) => /INT|REAL|FLOA|DOUB|NUM|DEC|BOOL/i.test(c.type) && !/CHAR|CLOB|TEXT|BLOB/i.test(c.type));
    const keyColumns = writer.stream.keyProperties.map((k) => writer.columns[writer.propIndex.get(k) ?? -1] ?? k);
    writer.insertSql = writer.columns.length ? insertSql(writer.table, writer.columns, keyColumns, writer.countId) : undefined;
  }

  writeRecord(stream: StreamSchema, message: RecordMessage): void {
    const writer = this.tables.get(stream.stream);
    if (!writer) throw new TargetError(`stream "${stream.stream}" was not opened`);
    if (message.partial === true && writer.stream.keyProperties.length > 0) return this.writePartial(writer, message);
    const record = message.record;
    const props = writer.props;
    // Every position is written below (props are aligned with columns), so the array is reused.
    const row = writer.scratch;
    let matched = 0;
    const inherited = writer.inherited;
    let bytes = 8 * props.length;
    for (let i = 0; i < props.length; i++) {
      const name = props[i] as string;
      const value = inherited[i] && !Object.hasOwn(record, name) ? undefined : record[name];
      if (value !== undefined) matched++;
      const sql = toSqlValue(value);
      if (typeof sql === 'string') {
        bytes += sql.length;
        if (writer.numericAffinity[i] && value instanceof LosslessNumber) this.refuseRounding(writer, i, value);
      }
      row[i] = sql;
    }
    this.buffered += bytes;
    let keys = 0;
    for (const _ in record) keys++;
    if (keys !== matched) this.addUnknownColumns(writer, row, record);
    if (writer.hasVersion) {
      const property = writer.stream.versionProperty;
      row[writer.columns.indexOf(VERSION_COLUMN)] = property === undefined ? null : versionValue(record[property], writer.versionIsDateTime);
    }
    // A counting run marks the version it wrote; any other writer leaves the column alone (insertSql).
    if (writer.runVersionIndex >= 0) row[writer.runVersionIndex] = writer.countId === undefined ? null : (row[writer.columns.indexOf(VERSION_COLUMN)] ?? null);
    if (message.version !== undefined) {
      if (!writer.columns.includes(TABLE_VERSION_COLUMN)) this.addColumn(writer, TABLE_VERSION_COLUMN, 'INTEGER', true);
      while (row.length < writer.columns.length) row.push(null);
      row[writer.columns.indexOf(TABLE_VERSION_COLUMN)] = message.version;
    }
    if (writer.insertSql === undefined) return;
    writer.rows ??= new RowEncoder(writer.insertSql, writer.columns.length, this.pool);
    writer.rows.add(row);
  }

  /**
   * A record holding only some properties: its own statement, which sets just those columns
   * (and the version), so the row keeps what the event does not know. Kept in order with the
   * full rows around it, as a segment of its own.
   */
  private writePartial(writer: TableWriter, message: RecordMessage): void {
    const record = message.record;
    for (const key of Object.keys(record)) if (!writer.propIndex.has(key)) this.addColumn(writer, key);
    const columns: string[] = [];
    const row: SqlValue[] = [];
    for (const key of Object.keys(record)) {
      const i = writer.propIndex.get(key) as number;
      const value = record[key];
      if (writer.numericAffinity[i] && value instanceof LosslessNumber) this.refuseRounding(writer, i, value);
      columns.push(writer.columns[i] as string);
      row.push(toSqlValue(value));
    }
    if (writer.hasVersion) {
      const property = writer.stream.versionProperty;
      columns.push(VERSION_COLUMN);
      row.push(property === undefined ? null : versionValue(record[property], writer.versionIsDateTime));
    }
    const keyColumns = writer.stream.keyProperties.map((k) => writer.columns[writer.propIndex.get(k) ?? -1] ?? k);
    const sql = insertSql(writer.table, columns, keyColumns);
    writer.segments = closedSegments(writer);
    let last = writer.segments[writer.segments.length - 1];
    if (last === undefined || last.sql !== sql) writer.segments.push((last = new RowEncoder(sql, row.length, this.pool)));
    last.add(row);
    for (const v of row) this.buffered += typeof v === 'string' ? v.length + 8 : 8;
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  commit(state: JsonValue | undefined): void | Promise<void> {
    this.buffered = 0;
    const request: CommitRequest = { segments: [] };
    for (const writer of this.tables.values()) for (const rows of closedSegments(writer)) request.segments.push(rows.finish());
    if (state !== undefined) Object.assign(request, this.stateWrite(state));
    const fail = (err: unknown): never => {
      throw targetError(`writing to ${this.path} failed`, err);
    };
    const counted = (changes: CommitChanges | undefined): void => this.changes?.add(changes, (key) => this.countedStreams[Number(key)] ?? key);
    try {
      const written = this.writer.write(request);
      if (written instanceof Promise) return written.then(counted, fail);
      counted(written);
      return undefined;
    } catch (err) {
      return fail(err);
    }
  }

  changesFound(): Record<string, StreamChanges> {
    return this.changes?.result() ?? {};
  }

  /** A stream's number in the counting SQL (a literal there: no stream name ever enters a statement's text). */
  private countId(stream: string): number {
    this.changes?.counting(stream);
    const known = this.countedStreams.indexOf(stream);
    return known >= 0 ? known : this.countedStreams.push(stream) - 1;
  }

  readState(): JsonValue | undefined {
    const row = this.readStateStmt.get(this.options.stateId) as { value: string } | undefined;
    if (!row) return undefined;
    try {
      return parseJson(row.value).value;
    } catch (err) {
      throw new TargetError(`the state of ${this.options.stateId} in ${this.path} is not valid JSON: ${(err as Error).message}`);
    }
  }

  writeState(value: JsonValue | undefined): void {
    try {
      if (value === undefined) this.deleteStateStmt.run(this.options.stateId);
      else applyCommit(this.db, new Map(), { segments: [], ...this.stateWrite(value) });
    } catch (err) {
      throw targetError(`cannot write the state of ${this.options.stateId} to ${this.path}`, err);
    }
  }

  async close(): Promise<void> {
    try {
      await this.writer.close();
    } finally {
      if (this.db.open) this.db.close();
    }
  }

  /** The state row, and (at the first state write, then once a minute) the trim of its history, for one commit. */
  private stateWrite(value: JsonValue): Pick<CommitRequest, 'state' | 'trimHistory'> {
    const now = Date.now();
    const state = { sql: STATE_UPSERT, params: [this.options.stateId, stringifyJson(value), new Date(now).toISOString()] };
    return this.trims.due(now) ? { state, trimHistory: stateHistoryTrim(this.options.stateId, now) } : { state };
  }

  private addUnknownColumns(writer: TableWriter, row: SqlValue[], record: RecordMessage['record']): void {
    for (const key of Object.keys(record)) {
      if (writer.propIndex.has(key)) continue;
      if (!writer.warned.has(key)) {
        writer.warned.add(key);
        this.options.warn(notInSchemaWarning(writer.stream.stream, key));
      }
      this.addColumn(writer, key);
    }
    row.length = 0;
    for (let i = 0; i < writer.props.length; i++) {
      const p = writer.props[i] as string;
      const value = Object.hasOwn(record, p) ? record[p] : undefined;
      if (writer.numericAffinity[i] && value instanceof LosslessNumber) this.refuseRounding(writer, i, value);
      row.push(toSqlValue(value));
    }
  }

  /** Adds a column for a property (or, with `own`, one of this target's columns by its own name). */
  private addColumn(writer: TableWriter, property: string, type = '', own = false): void {
    // Rows already built keep the old statement, whose width they have.
    writer.segments = closedSegments(writer);
    try {
      this.db.transaction(() => {
        const existing = this.existingColumns(writer.tableName);
        const folded = new Map(existing.map((c) => [c.toLowerCase(), c]));
        const column = own ? property : this.names.column(writer.tableName, property, folded);
        const definition = quoteIdentifier(column) + (type ? ` ${type}` : '');
        if (folded.has(column.toLowerCase())) return;
        this.db.exec(existing.length ? `ALTER TABLE ${writer.table} ADD COLUMN ${definition}` : `CREATE TABLE ${writer.table} (${definition})`);
      }).immediate();
    } catch (err) {
      throw targetError(`cannot add a column for ${JSON.stringify(property)} to the table of stream ${JSON.stringify(writer.stream.stream)}`, err);
    }
    this.describeColumns(writer);
  }

  /** Tables made before integer columns were untyped round integers beyond 64 bits: refuse instead. */
  private refuseRounding(writer: TableWriter, column: number, value: LosslessNumber): void {
    if (!/^-?\d+$/.test(value.text)) return;
    const n = BigInt(value.text);
    if (n >= INT64_MIN && n <= INT64_MAX) return;
    throw new TargetError(
      `stream "${writer.stream.stream}": ${value.text} does not fit the numeric column ${quoteIdentifier(writer.columns[column] as string)} of ${this.path} ` +
        `(SQLite would round it); tables created by this version keep such integers exact: load into a new table or database`,
    );
  }

  /**
   * ACTIVATE_VERSION: the records of `version` are all written, so rows of older table
   * versions are retired. Soft delete (`_sdc_deleted_at`), strictly older versions only.
   */
  activateVersion(stream: StreamSchema, version: number, guard?: ActivationGuard): void {
    const writer = this.tables.get(stream.stream);
    if (!writer || !writer.columns.includes(TABLE_VERSION_COLUMN)) return;
    if (!writer.columns.includes(DELETED_COLUMN)) this.addColumn(writer, DELETED_COLUMN, 'TEXT', true);
    const deleted = quoteIdentifier(DELETED_COLUMN);
    let where = `${quoteIdentifier(TABLE_VERSION_COLUMN)} < ? AND ${deleted} IS NULL`;
    const params: SqlValue[] = [version];
    if (guard !== undefined && writer.columns.includes(VERSION_COLUMN)) {
      // A row whose version is at or after the read's start changed during the read (a webhook
      // wrote it, or created it): it exists, whatever the read saw.
      where += ` AND (${quoteIdentifier(VERSION_COLUMN)} IS NULL OR ${quoteIdentifier(VERSION_COLUMN)} < ?)`;
      params.push(normalizeInstant(guard.since) ?? guard.since);
    }
    try {
      this.db
        .transaction(() => {
          if (guard !== undefined) {
            const retire = Number(this.db.prepare(`SELECT count(*) FROM ${writer.table} WHERE ${where}`).pluck().get(...params));
            const live = Number(this.db.prepare(`SELECT count(*) FROM ${writer.table} WHERE ${deleted} IS NULL`).pluck().get());
            if (retire > 0 && retire > guard.maxShare * live) {
              this.options.warn(
                `stream "${stream.stream}": the full read did not see ${retire} of ${live} rows, more than ${Math.round(guard.maxShare * 100)}% of the table; ` +
                  'nothing is marked deleted (a partial answer from the source must not wipe the table). If the deletions are real, raise the stream\'s limit or run --full-refresh again',
              );
              return;
            }
          }
          this.db.prepare(`UPDATE ${writer.table} SET ${deleted} = ? WHERE ${where}`).run(new Date().toISOString(), ...params);
        })
        .immediate();
    } catch (err) {
      throw targetError(`cannot retire old versions of stream ${JSON.stringify(stream.stream)} in ${this.path}`, err);
    }
  }

  private existingColumns(table: string): string[] {
    const rows = this.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>;
    return rows.map((r) => r.name);
  }

  private ensureKeyIndex(table: string, keys: readonly string[]): void {
    const index = `_sync_key_${table}`;
    const current = (this.db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(index) as Array<{ name: string }>).map(
      (r) => r.name,
    );
    if (current.length === keys.length && current.every((c, i) => c === keys[i])) return;
    if (current.length) this.db.exec(`DROP INDEX ${quoteIdentifier(index)}`);
    if (keys.length === 0) return;
    try {
      this.db.exec(`CREATE UNIQUE INDEX ${quoteIdentifier(index)} ON ${quoteIdentifier(table)} (${keys.map(quoteIdentifier).join(', ')})`);
    } catch (err) {
      throw new TargetError(
        `stream "${table}": cannot use key properties ${JSON.stringify(keys)}: ${(err as Error).message} (rows already stored repeat that key)`,
      );
    }
  }


}

/** The upsert of a table shape; with `countId`, a counting run's (see change-count.ts). */
function insertSql(table: string, columns: string[], keys: readonly string[], countId?: number): string {
  const names = columns.map(quoteIdentifier);
  let sql = `INSERT INTO ${table} (${names.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  if (keys.length) {
    const keySet = new Set(keys);
    // A record without a table version (an incremental run, a webhook) keeps the row's: it says
    // which complete read last saw the row, and a later reconciling read retires by it.
    const updates = columns
      // Only a counting run says which version it wrote; a webhook's write keeps the run's mark.
      .filter((c) => !keySet.has(c) && (c !== RUN_VERSION_COLUMN || countId !== undefined))
      .map((c) =>
        c === TABLE_VERSION_COLUMN
          ? `${quoteIdentifier(c)} = coalesce(excluded.${quoteIdentifier(c)}, ${table}.${quoteIdentifier(c)})`
          : `${quoteIdentifier(c)} = excluded.${quoteIdentifier(c)}`,
      );
    const conflict = `ON CONFLICT (${keys.map(quoteIdentifier).join(', ')})`;
    if (updates.length === 0) {
      sql += ` ${conflict} DO NOTHING`;
    } else {
      sql += ` ${conflict} DO UPDATE SET ${updates.join(', ')}`;
      if (columns.includes(VERSION_COLUMN)) {
        const v = quoteIdentifier(VERSION_COLUMN);
        // The newest version wins whatever the arrival order; equal versions: the later write.
        const newest = `excluded.${v} IS NULL OR ${table}.${v} IS NULL OR excluded.${v} >= ${table}.${v}`;
        // Counting hands the same condition through the function, which returns it unchanged.
        sql +=
          countId === undefined
            ? ` WHERE ${newest}`
            : ` WHERE ${FOUND_FUNCTION}(${countId}, ${table}.${v}, ${table}.${quoteIdentifier(RUN_VERSION_COLUMN)}, excluded.${v}, ${newest})`;
      }
    }
  }
  return sql;
}
/** Everything built so far for a table, as segments, leaving it with no rows. */
function closedSegments(writer: TableWriter): RowEncoder[] {
  const segments = writer.segments;
  if (writer.rows !== undefined) segments.push(writer.rows);
  writer.rows = undefined;
  writer.segments = [];
  return segments;
}

const STATE_UPSERT = `INSERT INTO ${STATE_TABLE} (id, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

/** Runs commits: on this thread, or on a worker thread so the caller can go on meanwhile. */
interface RowWriter {
  /** A counting writer returns what the commit found over stored rows. */
  write(request: CommitRequest): CommitChanges | undefined | Promise<CommitChanges | undefined>;
  close(): void | Promise<void>;
}

class InlineWriter implements RowWriter {
  private readonly statements = new Map<string, Database.Statement>();
  /** After a failed commit nothing more is written (see the worker thread's note). */
  private failure: unknown;
  private readonly counter: ChangeCounter | undefined;
  constructor(
    private readonly db: Database.Database,
    counting: boolean,
    private readonly pool: BufferPool,
  ) {
    this.counter = counting ? countChangesOn(db) : undefined;
  }
  write(request: CommitRequest): CommitChanges | undefined {
    if (this.failure !== undefined) throw this.failure;
    try {
      return applyCommit(this.db, this.statements, request, this.counter);
    } catch (err) {
      this.failure = err;
      throw err;
    } finally {
      this.pool.giveBack(request.segments);
    }
  }
  close(): void {}
}

class ThreadWriter implements RowWriter {
  private readonly worker: Worker;
  private readonly commits = new PendingCalls<CommitChanges | undefined>();
  private readonly exited: Promise<void>;

  constructor(path: string, busyTimeoutMs: number, countChanges: boolean, pool: BufferPool) {
    // The writer only holds a batch or two of rows: a small young generation keeps its memory low.
    this.worker = new Worker(new URL('./sqlite-worker.js', import.meta.url), {
      workerData: { path, busyTimeoutMs, countChanges },
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.worker.on('message', (reply: WriterReply) => {
      pool.giveBack(reply.buffers);
      if (reply.ok) this.commits.resolve(reply.id, reply.changes);
      else this.commits.reject(reply.id, Object.assign(new Error(reply.message ?? 'commit failed'), reply.code ? { code: reply.code } : {}));
    });
    this.worker.on('error', (err) => this.commits.failAll(err));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.commits.failAll(new Error('the writer thread stopped'));
        resolve();
      }),
    );
  }

  write(request: CommitRequest): Promise<CommitChanges | undefined> {
    // The rows' buffers are moved to the writer, not copied: the encoders that filled them are done.
    return this.commits.call((id) => this.worker.postMessage({ ...request, id }, transferables(request.segments)));
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await this.exited;
  }

}

/** Runs `work` again while SQLite answers "busy" at once, for at most `budgetMs`. */
function retryWhileBusy(budgetMs: number, work: () => void): void {
  const deadline = Date.now() + budgetMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      work();
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      // A synchronous pause: the constructor cannot await.
      Atomics.wait(pause, 0, 0, Math.min(10 * attempt, 200));
    }
  }
}

/** A SQLite failure as the error class that says what happens next: locked means retry later. */
function targetError(what: string, err: unknown): TargetError {
  const message = (err as Error).message;
  if (isBusy(err)) {
    return new TargetBusyError(
      `${what}: the database is locked by another connection (${message}); nothing after the last commit was written, try again later`,
    );
  }
  return new TargetError(`${what}: ${message}`);
}

function sqlType(property: JsonValue | undefined): string {
  switch (columnKind(property)) {
    case 'boolean':
      return 'INTEGER';
    case 'string':
    case 'date-time':
    case 'object':
    case 'array':
      return 'TEXT';
    default:
      // Integers and other numbers get no declared type (BLOB affinity): SQLite keeps each
      // value as bound, so an integer beyond 64 bits or a decimal beyond 15 digits stays exact
      // text, where an INTEGER or NUMERIC column would round it to a REAL.
      return '';
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function toSqlValue(value: JsonValue | undefined): SqlValue {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      // A safe integer is bound as an integer (sqlite-rows.ts): bound as a double, an untyped
      // column would keep `202` as the REAL `202.0`.
      return value;
    case 'boolean':
      // As integers: a column of no declared type would keep the number 1 as the REAL 1.0.
      return value ? 1 : 0;
  }
  if (value instanceof LosslessNumber) {
    // `-0.0` is kept as written in JSON output; a database column holds the number zero.
    if (Number(value.text) === 0) return 0;
    if (/^-?\d+$/.test(value.text)) {
      const n = BigInt(value.text);
      if (n >= INT64_MIN && n <= INT64_MAX) return n;
    }
    return value.text;
  }
  return stringifyJson(value);
}

/**
 * The sortable form of a version: date-times as fixed-width UTC text. A string that is not an
 * instant in a date-time property becomes '', which ranks below every instant: a garbage
 * `2024-13-45T99:00:00Z` would otherwise sort above every real date and block every update.
 */
function versionValue(value: JsonValue | undefined, dateTime: boolean): SqlValue {
  if (typeof value === 'string') return normalizeInstant(value) ?? (dateTime ? '' : value);
  if (typeof value === 'number' || value instanceof LosslessNumber) return toSqlValue(value);
  return null;
}

function isInheritedName(name: string): boolean {
  return name in Object.prototype;
}
