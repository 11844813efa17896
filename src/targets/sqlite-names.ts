import type Database from 'better-sqlite3';
import { TargetError } from '../errors.js';

/**
 * Stream and property names → SQLite table and column names, one to one.
 *
 * SQLite folds identifiers to lower case (ASCII only), cannot store a lone UTF-16 surrogate
 * and cuts a statement at NUL, while Singer names are arbitrary strings: `orders` and `Orders`
 * are two streams, and `"\ud800"` a valid property name. Each name keeps its own spelling
 * when no other name already holds it (as SQLite compares names); otherwise it gets the first
 * free `<name>_2`, `<name>_3`… The choice is kept in `_sync_names`, so it never changes once
 * made and every writer of the database (`sync run`, the listener's drain) agrees on it.
 *
 * Callers hold a write transaction: a choice and the table or column it names are created
 * together.
 */

export const NAMES_TABLE = '_sync_names';

/** Columns this target adds itself; a property of the same name gets another column. */
const OWN_COLUMNS = new Set(['_sync_version', '_sync_run_version']);

export class SqliteNames {
  private readonly find: Database.Statement;
  private readonly findTaken: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly scoped: Database.Statement;
  private readonly schemaObject: Database.Statement;

  constructor(private readonly db: Database.Database) {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${NAMES_TABLE} (kind TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, sql_name TEXT NOT NULL, PRIMARY KEY (kind, scope, name))` +
        `; CREATE UNIQUE INDEX IF NOT EXISTS ${NAMES_TABLE}_sql ON ${NAMES_TABLE} (kind, scope, sql_name COLLATE NOCASE)`,
    );
    this.find = db.prepare(`SELECT sql_name FROM ${NAMES_TABLE} WHERE kind = ? AND scope = ? AND name = ?`).pluck();
    this.findTaken = db.prepare(`SELECT name FROM ${NAMES_TABLE} WHERE kind = ? AND scope = ? AND sql_name = ? COLLATE NOCASE`).pluck();
    this.insert = db.prepare(`INSERT INTO ${NAMES_TABLE} (kind, scope, name, sql_name) VALUES (?, ?, ?, ?)`);
    this.scoped = db.prepare(`SELECT name, sql_name FROM ${NAMES_TABLE} WHERE kind = ? AND scope = ?`);
    this.schemaObject = db.prepare(`SELECT name FROM sqlite_schema WHERE name = ? COLLATE NOCASE`).pluck();
  }

  /** The table of a stream, chosen (and recorded) on first use. */
  table(stream: string): string {
    const fold = stream.toLowerCase();
    if (fold.startsWith('sqlite_') || fold.startsWith('_sync_')) {
      throw new TargetError(`stream "${stream}" cannot be a SQLite table: names starting with "sqlite_" or "_sync_" (in any case) are reserved`);
    }
    return this.choose('table', '', stream, (candidate) => {
      const existing = this.schemaObject.get(candidate) as string | undefined;
      // A table an earlier version created for this very stream (same spelling) is its own.
      return existing !== undefined && existing !== stream;
    });
  }

  /**
   * The column of a property in `table`, given the table's columns so far by their case-folded
   * name (the caller adds each chosen column, so a wide schema costs one lookup per property).
   */
  column(table: string, property: string, folded: ReadonlyMap<string, string>): string {
    return this.choose('column', table, property, (candidate) => {
      const fold = candidate.toLowerCase();
      if (OWN_COLUMNS.has(fold)) return true;
      const column = folded.get(fold);
      return column !== undefined && column !== property;
    });
  }

  /** Property → column for every property of `table` given a column of another name. */
  columnsOf(table: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const row of this.scoped.all('column', table) as Array<{ name: string; sql_name: string }>) {
      out.set(decodeName(row.name), row.sql_name);
    }
    return out;
  }

  private choose(kind: string, scope: string, name: string, takenOutside: (candidate: string) => boolean): string {
    const key = encodeName(name);
    const known = this.find.get(kind, scope, key) as string | undefined;
    if (known !== undefined) return known;
    const natural = storable(name);
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? natural : `${natural}_${n}`;
      const holder = this.findTaken.get(kind, scope, candidate) as string | undefined;
      if (holder !== undefined || takenOutside(candidate)) continue;
      if (candidate === name && kind === 'column') return candidate;
      this.insert.run(kind, scope, key, candidate);
      return candidate;
    }
  }
}

/** Registry key: JSON keeps lone surrogates and NUL apart, which SQLite text cannot. */
function encodeName(name: string): string {
  return JSON.stringify(name);
}

function decodeName(key: string): string {
  return JSON.parse(key) as string;
}

const UNSTORABLE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\0/g;

/** A spelling SQLite stores as written: lone surrogates and NUL become U+FFFD. */
function storable(name: string): string {
  const text = name.replace(UNSTORABLE, '\ufffd');
  return text === '' ? '_' : text;
}
