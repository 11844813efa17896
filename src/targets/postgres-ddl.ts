import type pg from 'pg';
import { TargetError } from '../errors.js';
import type { ColumnKind } from '../protocol/schema.js';
import { RUN_VERSION_COLUMN } from './change-count.js';
import { advisoryKey } from './postgres-lock.js';
import { createNamesTable, derivedName, NAMES_TABLE, PostgresNames, qualified, quoteIdentifier } from './postgres-names.js';
import { createStateTable, STATE_TABLE } from './postgres-state.js';
import { conversionTo, pgTypeOf, widenedType, type PgType } from './postgres-types.js';

/**
 * Tables as the streams need them: created, given new columns, columns widened when a
 * schema changes a property's type (never narrowed, never dropped), and the unique index on
 * the key properties that upserts rely on.
 *
 * Everything here runs inside the caller's transaction after `lockSchemaDdl`: writers of one
 * schema (a run, a listener) change tables one at a time, and a table change commits with
 * the rows that needed it.
 */

export const VERSION_COLUMN = '_sync_version';
/** RECORD.version, for ACTIVATE_VERSION (the Singer name for it). */
export const TABLE_VERSION_COLUMN = '_sdc_table_version';
export const DELETED_COLUMN = '_sdc_deleted_at';

/** What one stream needs of its table. */
export interface StreamPlan {
  stream: string;
  /** Properties in the order of the COPY fields, with the kind their schema gives them. */
  columns: ReadonlyArray<{ property: string; kind: ColumnKind }>;
  keys: readonly string[];
  /** The kind of the version property, when rows carry `_sync_version` (keyed streams with a replication key). */
  version: ColumnKind | undefined;
  /** Rows carry `_sdc_table_version`. */
  tableVersion: boolean;
  /** A counting run's rows carry `_sync_run_version` (change-count.ts). */
  runVersion: boolean;
}

/** A table as it is after `ensureTable`. */
export interface TableShape {
  /** Schema-qualified and quoted. */
  table: string;
  /** Property → its column and the column's type. */
  columns: ReadonlyMap<string, { name: string; type: string }>;
  /** Column names of the key properties, in key order. */
  keyColumns: readonly string[];
  /** The type of `_sync_version` when the table has it. */
  versionType: string | undefined;
  /** The type of `_sdc_table_version` when the table has it. */
  tableVersionType: string | undefined;
  /** The type of `_sync_run_version` when the table has it. */
  runVersionType: string | undefined;
}

/** Serialises table changes in a schema among all its writers, until the transaction ends. */
export async function lockSchemaDdl(client: pg.Client, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey('sync ddl', schema)]);
}

/** The schema and this target's own tables, made when missing (by the first writer). */
export async function prepareSchema(client: pg.Client, schema: string): Promise<void> {
  const namespace = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
  // Asked first: CREATE SCHEMA IF NOT EXISTS needs the right to create schemas even when it exists.
  if (namespace.rows.length === 0) await client.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  if (!(await relationExists(client, schema, STATE_TABLE))) await client.query(createStateTable(schema));
  if (!(await relationExists(client, schema, NAMES_TABLE))) await client.query(createNamesTable(schema));
  await prepareHistoryTables(client, schema);
}

/** Run and state history (postgres-history.ts), kept beside the state. */
export const RUNS_TABLE = '_sync_runs';
export const STATES_TABLE = '_sync_state_history';

/**
 * The history tables and the trigger, made when missing; the caller holds the schema's DDL lock
 * in its transaction. The trigger's function names its table through `TG_TABLE_SCHEMA`, so no
 * schema name is ever spliced into a function body.
 */
export async function prepareHistoryTables(client: pg.Client, schema: string): Promise<void> {
  if (!(await relationExists(client, schema, STATES_TABLE))) {
    const states = qualified(schema, STATES_TABLE);
    await client.query(
      `CREATE TABLE ${states} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, state_id text NOT NULL, value text NOT NULL, committed_at timestamptz NOT NULL)`,
    );
    await client.query(`CREATE INDEX ${quoteIdentifier(`${STATES_TABLE}_by_id`)} ON ${states} (state_id, id)`);
    await client.query(`CREATE OR REPLACE FUNCTION ${qualified(schema, '_sync_state_history_add')}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  EXECUTE format('INSERT INTO %I._sync_state_history (state_id, value, committed_at) VALUES ($1, $2, $3)', TG_TABLE_SCHEMA)
    USING NEW.id, NEW.value, NEW.updated_at;
  RETURN NULL;
END
$body$`);
    await client.query(
      `CREATE TRIGGER _sync_state_history AFTER INSERT OR UPDATE ON ${qualified(schema, STATE_TABLE)} FOR EACH ROW EXECUTE FUNCTION ${qualified(schema, '_sync_state_history_add')}()`,
    );
  }
  const runs = qualified(schema, RUNS_TABLE);
  if (!(await relationExists(client, schema, RUNS_TABLE))) {
    await client.query(
      `CREATE TABLE ${runs} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, connector text NOT NULL, state_id text NOT NULL, ` +
        `started_at timestamptz NOT NULL, ended_at timestamptz NOT NULL, exit_code integer NOT NULL, records jsonb NOT NULL, error text, ` +
        `bookmarks_before jsonb NOT NULL, bookmarks_after jsonb NOT NULL, changes jsonb)`,
    );
    await client.query(`CREATE INDEX ${quoteIdentifier(`${RUNS_TABLE}_by_id`)} ON ${runs} (state_id, id)`);
  }
  // Added since the table was first made: an earlier version's table gains them (a column with a
  // constant default rewrites nothing), its rows staying `sync run` rows. Looked up first, so
  // that no ALTER (and its exclusive lock) is taken when they are there.
  const have = await readColumns(client, schema, RUNS_TABLE);
  const missing = RUNS_ADDED_COLUMNS.filter(([name]) => !have.has(name));
  if (missing.length > 0) await client.query(`ALTER TABLE ${runs} ${missing.map(([name, definition]) => `ADD COLUMN ${name} ${definition}`).join(', ')}`);
  if (!(await relationExists(client, schema, RUNS_KIND_INDEX))) await client.query(`CREATE INDEX ${quoteIdentifier(RUNS_KIND_INDEX)} ON ${runs} (state_id, kind, id)`);
}

/** Columns of `_sync_runs` added after its first shape: drains' rows (`kind`, their counts). */
const RUNS_ADDED_COLUMNS: ReadonlyArray<[string, string]> = [
  ['kind', "text NOT NULL DEFAULT 'run'"],
  ['deliveries', 'integer'],
  ['dead', 'integer'],
];
/** Pruning and reading look for one kind of one state id, newest first. */
const RUNS_KIND_INDEX = `${RUNS_TABLE}_by_kind`;

/** Whether `_sync_runs` has the column `kind` (a table of an earlier version read without migrating holds runs only). */
export async function runsHaveKinds(client: pg.Client, schema: string): Promise<boolean> {
  return (await readColumns(client, schema, RUNS_TABLE)).has('kind');
}

export async function ensureTable(client: pg.Client, schema: string, plan: StreamPlan): Promise<TableShape> {
  const names = new PostgresNames(client, schema);
  const tableName = await names.table(plan.stream);
  const table = qualified(schema, tableName);
  const exists = await relationExists(client, schema, tableName);
  const existing = exists ? await readColumns(client, schema, tableName) : new Map<string, string>();

  const wanted: Array<{ name: string; type: PgType; definition: string; property?: string }> = [];
  const chosen = new Set(existing.keys());
  for (const { property, kind } of plan.columns) {
    const name = await names.column(tableName, property, chosen);
    chosen.add(name);
    const type = pgTypeOf(kind);
    wanted.push({ name, type, definition: type, property });
  }
  if (plan.version !== undefined) {
    // "C": versions compare byte by byte (as in SQLite), whatever the database's collation.
    const numeric = plan.version === 'integer' || plan.version === 'number';
    wanted.push({ name: VERSION_COLUMN, type: numeric ? 'numeric' : 'text', definition: numeric ? 'numeric' : 'text COLLATE "C"' });
    if (plan.runVersion) wanted.push({ name: RUN_VERSION_COLUMN, type: numeric ? 'numeric' : 'text', definition: numeric ? 'numeric' : 'text COLLATE "C"' });
  }
  if (plan.tableVersion && !chosen.has(TABLE_VERSION_COLUMN)) wanted.push({ name: TABLE_VERSION_COLUMN, type: 'bigint', definition: 'bigint' });

  const types = new Map(existing);
  if (!exists) {
    const seen = new Set<string>();
    const definitions = wanted.filter((w) => !seen.has(w.name) && seen.add(w.name)).map((w) => `${quoteIdentifier(w.name)} ${w.definition}`);
    await client.query(`CREATE TABLE ${table} (${definitions.join(', ')})`);
    for (const w of wanted) if (!types.has(w.name)) types.set(w.name, w.type);
  } else {
    for (const w of wanted) {
      const current = types.get(w.name);
      if (current === undefined) {
        await client.query(`ALTER TABLE ${table} ADD COLUMN ${quoteIdentifier(w.name)} ${w.definition}`);
        types.set(w.name, w.type);
        continue;
      }
      const widened = widenedType(current, w.type);
      if (widened === undefined) continue;
      await widen(client, table, plan.stream, w.name, current, widened);
      types.set(w.name, widened);
    }
  }

  const columns = new Map<string, { name: string; type: string }>();
  for (const w of wanted) {
    if (w.property !== undefined) columns.set(w.property, { name: w.name, type: types.get(w.name) ?? w.type });
  }
  const keyColumns = plan.keys.map((k) => {
    const column = columns.get(k);
    if (!column) throw new TargetError(`stream "${plan.stream}": key property "${k}" has no column`);
    return column.name;
  });
  await ensureKeyIndex(client, schema, tableName, plan.stream, keyColumns);
  return {
    table,
    columns,
    keyColumns,
    versionType: types.get(VERSION_COLUMN),
    tableVersionType: types.get(TABLE_VERSION_COLUMN),
    runVersionType: types.get(RUN_VERSION_COLUMN),
  };
}

async function widen(client: pg.Client, table: string, stream: string, column: string, from: string, to: PgType): Promise<void> {
  const quoted = quoteIdentifier(column);
  const collation = (column === VERSION_COLUMN || column === RUN_VERSION_COLUMN) && to === 'text' ? ' COLLATE "C"' : '';
  try {
    await client.query(`ALTER TABLE ${table} ALTER COLUMN ${quoted} TYPE ${to}${collation} USING ${conversionTo(to, quoted)}`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // A lost connection is the caller's to retry; anything else is a change this table cannot take.
    if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) throw err;
    throw new TargetError(
      `stream "${stream}": its schema changed the type of column ${quoted} of ${table} from ${from}, and widening it to ${to} failed: ${(err as Error).message}`,
    );
  }
}

export async function relationExists(client: pg.Client, schema: string, name: string): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  return rows.length > 0;
}

/** Column name → type (as `format_type` spells it), in table order. */
async function readColumns(client: pg.Client, schema: string, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table],
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** The unique index ON CONFLICT needs, on exactly the key columns; replaced when the keys change. */
async function ensureKeyIndex(client: pg.Client, schema: string, table: string, stream: string, keys: readonly string[]): Promise<void> {
  const index = derivedName('_sync_key_', table);
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = ic.relnamespace
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE n.nspname = $1 AND ic.relname = $2
      ORDER BY k.position`,
    [schema, index],
  );
  const current = rows.map((r) => r.name);
  if (current.length === keys.length && current.every((c, i) => c === keys[i])) return;
  if (current.length > 0) await client.query(`DROP INDEX ${qualified(schema, index)}`);
  if (keys.length === 0) return;
  try {
    await client.query(`CREATE UNIQUE INDEX ${quoteIdentifier(index)} ON ${qualified(schema, table)} (${keys.map(quoteIdentifier).join(', ')})`);
  } catch (err) {
    if ((err as { code?: unknown }).code !== '23505') throw err;
    throw new TargetError(
      `stream "${stream}": cannot use key properties ${JSON.stringify(keys)}: rows already stored repeat that key (${(err as { detail?: string }).detail ?? (err as Error).message})`,
    );
  }
}
