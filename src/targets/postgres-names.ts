import { createHash } from 'node:crypto';
import type pg from 'pg';
import { TargetError } from '../errors.js';
import { MAX_IDENTIFIER_BYTES } from './postgres-url.js';

/**
 * Stream and property names → PostgreSQL table and column names, one to one.
 *
 * Quoted identifiers keep their case, so `orders` and `Orders` are two tables as they are two
 * streams. What PostgreSQL cannot keep is length (it cuts at 63 bytes, so two long names
 * would become one) and NUL (and UTF-8 cannot carry a lone surrogate). Such a name gets a
 * prefix of itself plus a hash of the exact name; a name that would land on one already
 * taken gets `<name>_2`, `<name>_3`… The choice is kept in `_sync_names` (the name as JSON,
 * which keeps NUL and lone surrogates apart), so it never changes once made and every writer
 * of the schema (`sync run`, a listener) agrees on it.
 *
 * Callers hold the schema's DDL lock in the transaction that creates what is named.
 */

export const NAMES_TABLE = '_sync_names';

/** Columns this target adds itself; a property of the same name gets another column. */
const OWN_COLUMNS = new Set(['_sync_version', '_sync_run_version']);

/** Quotes an identifier: `a"b` becomes `"a""b"`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

/** Stream names that are this target's own tables (`_sync_state`, `_sync_names`…), refused in any case. */
export function isReservedStream(stream: string): boolean {
  return stream.toLowerCase().startsWith('_sync_');
}

export function createNamesTable(schema: string): string {
  return (
    `CREATE TABLE ${qualified(schema, NAMES_TABLE)} (kind text NOT NULL, scope text NOT NULL, name text NOT NULL, ` +
    `sql_name text NOT NULL, PRIMARY KEY (kind, scope, name), UNIQUE (kind, scope, sql_name))`
  );
}

/** The name of an index or staging object derived from `base`, kept within 63 bytes and unique per base. */
export function derivedName(prefix: string, base: string): string {
  const name = `${prefix}${base}`;
  return Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES ? name : shortened(name, `_${hash(base)}`);
}

export class PostgresNames {
  constructor(
    private readonly client: pg.Client,
    private readonly schema: string,
  ) {}

  /** The table of a stream, chosen (and recorded) on first use. */
  async table(stream: string): Promise<string> {
    if (isReservedStream(stream)) {
      throw new TargetError(`stream "${stream}" cannot be a table: names starting with "_sync_" (in any case) are reserved for this target's own tables`);
    }
    return this.choose('table', '', stream, async (candidate) => {
      const { rows } = await this.client.query<{ found: number }>(
        `SELECT 1 AS found FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [this.schema, candidate],
      );
      // A table made before under this very spelling (by hand, or before the registry) is the stream's own.
      return rows.length > 0 && candidate !== stream;
    });
  }

  /** The column of a property in `table`, given the table's current columns. */
  async column(table: string, property: string, existing: ReadonlySet<string>): Promise<string> {
    return this.choose('column', table, property, async (candidate) =>
      OWN_COLUMNS.has(candidate) || (existing.has(candidate) && candidate !== property),
    );
  }

  private async choose(kind: string, scope: string, name: string, takenOutside: (candidate: string) => Promise<boolean>): Promise<string> {
    const key = JSON.stringify(name);
    const names = qualified(this.schema, NAMES_TABLE);
    const known = await this.client.query<{ sql_name: string }>(`SELECT sql_name FROM ${names} WHERE kind = $1 AND scope = $2 AND name = $3`, [
      kind,
      scope,
      key,
    ]);
    const found = known.rows[0]?.sql_name;
    if (found !== undefined) return found;
    for (let n = 1; ; n++) {
      const candidate = candidateName(name, n);
      const holder = await this.client.query(`SELECT 1 FROM ${names} WHERE kind = $1 AND scope = $2 AND sql_name = $3`, [kind, scope, candidate]);
      if (holder.rows.length > 0 || (await takenOutside(candidate))) continue;
      await this.client.query(`INSERT INTO ${names} (kind, scope, name, sql_name) VALUES ($1, $2, $3, $4)`, [kind, scope, key, candidate]);
      return candidate;
    }
  }
}

const UNSTORABLE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\0/g;

/**
 * The n-th spelling tried for `name`: the name itself (then `<name>_2`…) when PostgreSQL can
 * keep it as it is; otherwise a prefix with NUL and lone surrogates replaced, plus a hash of
 * the exact name (and n), within 63 bytes.
 */
export function candidateName(name: string, n: number): string {
  const storable = name.replace(UNSTORABLE, '\ufffd');
  const suffix = n === 1 ? '' : `_${n}`;
  if (storable === name && name !== '' && Buffer.byteLength(name + suffix) <= MAX_IDENTIFIER_BYTES) return name + suffix;
  return shortened(storable, `_${hash(JSON.stringify(name))}${suffix}`);
}

function shortened(text: string, tag: string): string {
  const room = MAX_IDENTIFIER_BYTES - Buffer.byteLength(tag);
  let prefix = '';
  let bytes = 0;
  // By code point, so a character is never cut in half.
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > room) break;
    prefix += char;
    bytes += size;
  }
  return prefix + tag;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}
