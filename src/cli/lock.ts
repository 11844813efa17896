import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { BusyError } from '../errors.js';

/**
 * One run at a time per (state id, target), so overlapping cron runs never interleave
 * state. The lock is an operating-system file lock, held through an SQLite database in
 * exclusive locking mode for as long as the run lives. The kernel releases it when the
 * process ends in any way, `kill -9` included, so a killed run never leaves a stale lock
 * and no pid guessing is needed.
 */

export interface Lock {
  release(): void;
}

// Loaded on first use: a run into stdout takes no lock and need not load SQLite.
const require = createRequire(import.meta.url);

export function acquireLock(path: string, what: string): Lock {
  mkdirSync(dirname(path), { recursive: true });
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  let db: BetterSqlite3.Database;
  try {
    db = new Database(path, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // A write transaction takes the exclusive lock; in EXCLUSIVE mode it is kept after COMMIT.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (x); COMMIT;');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new BusyError(`${what} is already running (lock ${path}); try again when it has finished`);
    }
    throw new BusyError(`${what}: cannot take the lock ${path}: ${(err as Error).message}`);
  }
  return {
    // The file stays: removing it would let a waiting run lock the old inode while a new
    // run locks a fresh file at the same path.
    release() {
      if (db.open) db.close();
    },
  };
}
