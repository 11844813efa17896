import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Rows of a SQLite file, read on a connection of their own (read-only, closed after). */
export function readRows(path: string, sql: string): Array<Record<string, unknown>> {
  const conn = new Database(path, { readonly: true });
  try {
    return conn.prepare(sql).all() as Array<Record<string, unknown>>;
  } finally {
    conn.close();
  }
}

/** Writes settings as a JSON config file of a unique name in `dir`; returns its path. */
export function writeConfig(dir: string, prefix: string, settings: object): string {
  const path = join(dir, `${prefix}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(settings));
  return path;
}

/**
 * A row without `_sync_run_version`, the mark only `sync run` leaves (it tells a run's writes from
 * a webhook's, for webhook coverage): the rest is what the two paths must agree on.
 */
export function withoutRunMark<T extends Record<string, unknown> | undefined>(row: T): T {
  if (row === undefined) return row;
  const { _sync_run_version: _runMark, ...rest } = row;
  return rest as T;
}
