import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { TargetError } from '../errors.js';
import { addFinding, classify, delayOf, RUN_VERSION_COLUMN, type CommitChanges } from './change-count.js';
import { TABLE_VERSION_COLUMN, VERSION_COLUMN, type TableShape } from './postgres-ddl.js';
import { quoteIdentifier } from './postgres-names.js';
import type { Segment } from './postgres-rows.js';
import { castFor, pgTypeOf, type PgType } from './postgres-types.js';

/**
 * Loads one segment of a stream's lines, inside the commit's transaction, one of two ways:
 *
 * - **Straight in**: COPY into the stream's table, when no key repeats in the segment and its
 *   fields have the table's column types. That is what a bulk load of new rows costs and no
 *   more. A stored row with one of the keys makes COPY fail with a unique violation; it is
 *   rolled back to a savepoint and the segment goes the other way.
 * - **Staged**: COPY into a temporary table (no WAL, no index), then one INSERT … SELECT:
 *   keyed streams keep one row per key from the segment, the newest version
 *   (`_sync_version`), the last arrival among equals, and upsert it where it is at least as
 *   new as the stored row; streams without keys append in arrival order.
 */

/** How a segment went in; `conflict`: staged after stored rows stopped the straight COPY. */
export type LoadPath = 'straight' | 'staged' | 'conflict';

interface Field {
  /** The staging column: `c0`, `c1`…, `v`, `tv`. */
  staged: string;
  stagedType: PgType;
  /** The declaration of the staging column. */
  definition: string;
  /** The table's column, quoted, and its type. */
  column: string;
  columnType: string;
}

/**
 * Loads `segment`; `straight` allows the first way. Returns the way it went, so the caller can
 * stop trying the first way for a stream whose rows turn out to exist already.
 */
export async function loadSegment(
  client: pg.Client,
  shape: TableShape,
  segment: Segment,
  options: { stage: string; stream: string; straight: boolean; changes?: CommitChanges },
): Promise<LoadPath> {
  const fields = fieldsOf(shape, segment, options.stream);
  const columns = fields.map((f) => f.column).join(', ');
  const copyable = !segment.repeatsKey && fields.every((f) => f.stagedType === f.columnType);
  if (options.straight && copyable) {
    await client.query('SAVEPOINT sync_straight');
    try {
      await copyIn(client, `COPY ${shape.table} (${columns}) FROM STDIN`, segment.chunks);
      await client.query('RELEASE SAVEPOINT sync_straight');
      return 'straight';
    } catch (err) {
      if ((err as { code?: unknown }).code !== '23505') throw err;
      await client.query('ROLLBACK TO SAVEPOINT sync_straight');
      await stageAndMerge(client, shape, fields, segment, options);
      return 'conflict';
    }
  }
  // Straight in, every key was new: no change to count.
  await stageAndMerge(client, shape, fields, segment, options);
  return 'staged';
}

function fieldsOf(shape: TableShape, segment: Segment, stream: string): Field[] {
  const fields: Field[] = segment.columns.map(({ property, kind }, i) => {
    const target = shape.columns.get(property);
    if (!target) throw new TargetError(`stream "${stream}": property ${JSON.stringify(property)} has no column`);
    const type = pgTypeOf(kind);
    return { staged: `c${i}`, stagedType: type, definition: type, column: quoteIdentifier(target.name), columnType: target.type };
  });
  if (segment.version !== undefined) {
    if (shape.versionType === undefined) throw new TargetError(`stream "${stream}": its table has no ${VERSION_COLUMN} column`);
    const numeric = segment.version === 'integer' || segment.version === 'number';
    fields.push({
      staged: 'v',
      stagedType: numeric ? 'numeric' : 'text',
      // "C": versions compare byte by byte, as in the table.
      definition: numeric ? 'numeric' : 'text COLLATE "C"',
      column: quoteIdentifier(VERSION_COLUMN),
      columnType: shape.versionType,
    });
    if (segment.runVersion) {
      if (shape.runVersionType === undefined) throw new TargetError(`stream "${stream}": its table has no ${RUN_VERSION_COLUMN} column`);
      fields.push({ ...(fields[fields.length - 1] as Field), staged: 'rv', column: quoteIdentifier(RUN_VERSION_COLUMN), columnType: shape.runVersionType });
    }
  }
  if (segment.tableVersion) {
    if (shape.tableVersionType === undefined) throw new TargetError(`stream "${stream}": its table has no ${TABLE_VERSION_COLUMN} column`);
    fields.push({ staged: 'tv', stagedType: 'bigint', definition: 'bigint', column: quoteIdentifier(TABLE_VERSION_COLUMN), columnType: shape.tableVersionType });
  }
  return fields;
}

async function stageAndMerge(
  client: pg.Client,
  shape: TableShape,
  fields: readonly Field[],
  segment: Segment,
  { stage, stream, changes }: { stage: string; stream: string; changes?: CommitChanges },
): Promise<void> {
  // The identity numbers lines in the order COPY reads them: the arrival order.
  const definitions = [...fields.map((f) => `${f.staged} ${f.definition}`), 'arrival bigint GENERATED ALWAYS AS IDENTITY'];
  await client.query(`CREATE TEMPORARY TABLE ${stage} (${definitions.join(', ')}) ON COMMIT DROP`);
  await copyIn(client, `COPY ${stage} (${fields.map((f) => f.staged).join(', ')}) FROM STDIN`, segment.chunks);

  const expression = (f: Field): string => castFor(`s.${f.staged}`, f.stagedType, f.columnType);
  const into = `INSERT INTO ${shape.table} AS _sync_old (${fields.map((f) => f.column).join(', ')})`;
  // Named as the table's columns: a counting run reads them back by name (countedMerge).
  const values = fields.map((f) => `${expression(f)} AS ${f.column}`).join(', ');
  if (shape.keyColumns.length === 0) {
    await client.query(`${into} SELECT ${values} FROM ${stage} AS s ORDER BY s.arrival`);
    return;
  }
  const keyFields = shape.keyColumns.map((name) => {
    const field = fields.find((f) => f.column === quoteIdentifier(name));
    if (!field) throw new TargetError(`stream "${stream}": key column ${quoteIdentifier(name)} is missing from its rows`);
    return field;
  });
  const keys = keyFields.map(expression);
  const version = fields.find((f) => f.staged === 'v');
  // DESC puts NULL first: a row without a version wins, as it does against the stored row.
  const newest = version ? [`${expression(version)}${isText(version.columnType) ? ' COLLATE "C"' : ''} DESC`] : [];
  const select = `SELECT DISTINCT ON (${keys.join(', ')}) ${values} FROM ${stage} AS s ORDER BY ${[...keys, ...newest, 's.arrival DESC'].join(', ')}`;
  const keySet = new Set(keyFields);
  // A record without a table version (an incremental run, a webhook) keeps the row's: it says
  // which complete read last saw the row, and a later reconciling read retires by it.
  const updates = fields
    .filter((f) => !keySet.has(f))
    .map((f) => (f.staged === 'tv' ? `${f.column} = coalesce(excluded.${f.column}, _sync_old.${f.column})` : `${f.column} = excluded.${f.column}`));
  const conflict = `ON CONFLICT (${keyFields.map((f) => f.column).join(', ')})`;
  if (updates.length === 0) {
    await client.query(`${into} ${select} ${conflict} DO NOTHING`);
    return;
  }
  let onConflict = `${conflict} DO UPDATE SET ${updates.join(', ')}`;
  if (shape.versionType !== undefined) {
    const v = quoteIdentifier(VERSION_COLUMN);
    // The newest version wins whatever the arrival order; equal versions: the later write.
    onConflict += ` WHERE excluded.${v} IS NULL OR _sync_old.${v} IS NULL OR excluded.${v} >= _sync_old.${v}`;
  }
  if (changes === undefined || !segment.runVersion) {
    await client.query(`${into} ${select} ${onConflict}`);
    return;
  }
  await countedMerge(client, shape, { select, keys: keyFields.map((f) => f.column), upsert: `${into} SELECT * FROM incoming ${onConflict}` }, stream, changes);
}

/**
 * A counting run's upsert (change-count.ts): the same upsert, from `incoming` (the newest line of
 * each key), beside a read of the stored rows those keys meet. Both are parts of one statement,
 * so the read sees the rows as they were before it (PostgreSQL has no old values in RETURNING
 * before version 18). Only rows of stored keys come back, and not the run's own re-reads.
 */
async function countedMerge(
  client: pg.Client,
  shape: TableShape,
  parts: { select: string; keys: readonly string[]; upsert: string },
  stream: string,
  changes: CommitChanges,
): Promise<void> {
  const v = quoteIdentifier(VERSION_COLUMN);
  const rv = quoteIdentifier(RUN_VERSION_COLUMN);
  const on = parts.keys.map((k) => `o.${k} = i.${k}`).join(' AND ');
  const { rows } = await client.query<{ stored: string | null; run_version: string | null; version: string | null; replaces: boolean }>(
    `WITH incoming AS (${parts.select}),
          found AS (SELECT o.${v}::text AS stored, o.${rv}::text AS run_version, i.${v}::text AS version,
                           (i.${v} IS NULL OR o.${v} IS NULL OR i.${v} >= o.${v}) AS replaces
                      FROM incoming i JOIN ${shape.table} o ON ${on}),
          merged AS (${parts.upsert})
     SELECT * FROM found WHERE run_version IS DISTINCT FROM version`,
  );
  const now = Date.now();
  for (const row of rows) {
    const finding = classify(row.stored, row.run_version, row.version, row.replaces);
    addFinding(changes, stream, finding, finding === 'late' ? delayOf(row.version, now) : undefined);
  }
}

function copyIn(client: pg.Client, sql: string, chunks: readonly string[]): Promise<void> {
  return pipeline(Readable.from(chunks), client.query(copyStreams.from(sql)));
}

function isText(type: string): boolean {
  return type === 'text' || type.startsWith('character');
}
