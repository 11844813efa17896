import { mkdirSync, readFileSync, readlinkSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { BusyError } from '../errors.js';
import { notAFolderError } from '../folders.js';

/**
 * One run at a time per (state id, target), so overlapping cron runs never interleave
 * state. The lock is an operating-system file lock, held through an SQLite database in
 * exclusive locking mode for as long as the run lives. The kernel releases it when the
 * process ends in any way, `kill -9` included, so a killed run never leaves a stale lock
 * and no pid guessing is needed.
 *
 * The lock belongs to the file it guards, not to how that file was named: a symlink to the
 * database, or a path through a symlinked folder, takes the same lock as the real path.
 */

export interface Lock {
  release(): void;
}

// Loaded on first use: a run into stdout takes no lock and need not load SQLite.
const require = createRequire(import.meta.url);

export function acquireLock(path: string, what: string): Lock {
  const lockPath = canonicalLockPath(path);
  try {
    mkdirSync(dirname(lockPath), { recursive: true });
  } catch (err) {
    // The target's folder, or a folder on the way to it, is a file (`jsonl:out.txt/sub`): the
    // user's path, not a bug, and the message names the part that is the file.
    throw notAFolderError(dirname(lockPath), what, err) ?? err;
  }
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new Database(lockPath, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // A write transaction takes the exclusive lock; in EXCLUSIVE mode it is kept after COMMIT.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (x); COMMIT;');
  } catch (err) {
    db?.close();
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw busy(lockPath, what);
    throw new BusyError(`${what}: cannot take the lock ${lockPath}: ${(err as Error).message}`);
  }
  const held = db;
  const holderPath = holderFile(lockPath);
  writeHolder(holderPath, what);
  return {
    // The lock file stays: removing it would let a waiting run lock the old inode while a new
    // run locks a fresh file at the same path. The holder's note goes first, while the lock
    // is still held, so it can never remove the note of the next holder.
    release() {
      if (!held.open) return;
      try {
        unlinkSync(holderPath);
      } catch {
        // Already gone: nothing to tidy.
      }
      held.close();
    },
  };
}

/**
 * Where the lock for `path` really lives. Lock files are named after the file they guard and
 * sit beside it (`targets/spec.ts#lockPathFor`): `<file>.lock`, or `.<file>.<id>.lock` for
 * one state id of a database. The guarded file's symlinks are resolved and the lock is named
 * after the real file; any other lock path gets its folder resolved.
 */
export function canonicalLockPath(path: string): string {
  const absolute = resolve(path);
  const dir = dirname(absolute);
  const name = basename(absolute);
  const perState = /^\.(.+)\.([A-Za-z0-9_-]+)\.lock$/.exec(name);
  if (perState) {
    const real = realPathOf(join(dir, perState[1] ?? ''));
    return join(dirname(real), `.${basename(real)}.${perState[2] ?? ''}.lock`);
  }
  if (name.endsWith('.lock') && name.length > '.lock'.length) {
    const real = realPathOf(join(dir, name.slice(0, -'.lock'.length)));
    return `${real}.lock`;
  }
  return join(realPathOf(dir), name);
}

/** The real path of `path`, which need not exist: symlinks followed as far as they lead (a
 * dangling one too, so a link made before its database still names that database), then the
 * nearest existing folder resolved. */
function realPathOf(path: string, depth = 0): string {
  try {
    return realpathSync(path);
  } catch {
    // Missing, or a link to something missing.
  }
  let at = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let target: string;
    try {
      target = readlinkSync(at);
    } catch {
      break;
    }
    at = resolve(dirname(at), target);
  }
  const parent = dirname(at);
  if (parent === at || depth > 64) return at;
  return join(realPathOf(parent, depth + 1), basename(at));
}

/**
 * Who holds a lock, for the message of whoever finds it taken. Advisory: written by the
 * holder right after it took the lock, so in the moment between a killed holder's successor
 * taking the lock and writing this, a waiter may read the killed holder's note.
 */
interface Holder {
  what: string;
  pid: number;
  since: string;
}

function holderFile(lockPath: string): string {
  return `${lockPath}.holder`;
}

function writeHolder(path: string, what: string): void {
  const holder: Holder = { what, pid: process.pid, since: new Date().toISOString() };
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    // Renamed into place, so a waiter never reads half a note.
    writeFileSync(temporary, JSON.stringify(holder));
    renameSync(temporary, path);
  } catch {
    // Only the busy message of another run is poorer for it; the lock itself is held.
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    if (typeof value.what === 'string' && typeof value.pid === 'number' && typeof value.since === 'string') {
      return { what: value.what, pid: value.pid, since: value.since };
    }
  } catch {
    // No note (the holder is about to write it, or could not): the message says less.
  }
  return undefined;
}

function busy(lockPath: string, what: string): BusyError {
  const holder = readHolder(holderFile(lockPath));
  if (holder === undefined) {
    return new BusyError(`${what}: another sync holds the lock ${lockPath}; try again when it has finished`);
  }
  // Named as the holder named itself: the waiter may have spelled the target differently.
  return new BusyError(`${holder.what} is already running (pid ${holder.pid}, since ${holder.since}; lock ${lockPath}); try again when it has finished`);
}
