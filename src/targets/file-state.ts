import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { TargetError } from '../errors.js';
import { notAFolderError } from '../folders.js';
import { fsyncDir, writeFileAtomic } from '../fs-atomic.js';
import { isJsonObject, parseJson, stringifyJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import { fileInside, streamFileName } from './file-names.js';
import { HISTORY_MAX_ROWS, pruneBefore, StateTrimSchedule } from './history.js';
import { appendWithId, boundedEntries, pruneEntries } from './history-lines.js';
import type { TargetOptions } from './target.js';

/**
 * What the file targets (jsonl, csv) share: the folder they write into, its state file and
 * a folder-wide commit lock.
 *
 * `.sync-state.json` maps state ids to state values, so several connectors can write into
 * one folder. The run lock is per state id, so two of them may commit at the same time:
 * every commit (stream files, then the state file) runs under one folder lock, so a
 * read-modify-write of the state file never loses another run's entry and two runs never
 * interleave writes to the same stream file.
 */

export const STATE_FILE = '.sync-state.json';
/** Every state committed, one JSON line each (history-lines.ts), for `sync state history|rewind`. */
export const STATE_HISTORY_FILE = '.sync-state-history.jsonl';
/** One line per `sync run` into this folder (file-history.ts). */
export const RUNS_FILE = '.sync-runs.jsonl';
// Run locks are `.sync-<id>.lock` with `.` never in <id> (spec.ts), so this name cannot clash.
const LOCK_FILE = '.sync-state.json.lock';
// An operating-system lock taken through SQLite, as in cli/lock.ts, but waited for: it is held
// only while one commit writes, and the kernel releases it at once if its holder is killed.
const LOCK_WAIT_MS = 5 * 60_000;
/** What `tempPath` names: only files of this shape are ever removed as leftovers. */
const TEMP_FILE = /^\.sync-\d+-[0-9a-f]{12}\.tmp$/;

export class TargetFolder {
  readonly dir: string;
  readonly statePath: string;
  private lockDb: Database.Database | undefined;
  /** Set when a commit failed part-way: nothing more is written, so no state can pass the data. */
  private failure: string | undefined;
  /** Temporary files left by an interrupted run are removed under the lock, once. */
  private swept = false;
  /** The state history is bounded by the writers of state, under the folder lock. */
  private readonly trims = new StateTrimSchedule();

  /** `description` names the target in messages (`jsonl:out`). */
  constructor(
    dir: string,
    description: string,
    private readonly options: TargetOptions,
  ) {
    this.dir = resolve(dir);
    makeFolder(dir, description);
    this.statePath = fileInside(this.dir, STATE_FILE);
  }

  /** The file of a stream; names come from data, so they are encoded and kept inside the folder. */
  streamPath(stream: string, extension: string): string {
    try {
      return fileInside(this.dir, streamFileName(stream, extension));
    } catch (err) {
      throw new TargetError(`stream ${JSON.stringify(stream)} cannot be written to ${this.dir}: ${(err as Error).message}`);
    }
  }

  /**
   * Runs `writeData` (which makes the buffered records durable) and then, when given, stores
   * the state that covers them; all under the folder lock.
   */
  commit(writeData: () => void, state: JsonValue | undefined): void {
    if (this.failure !== undefined) throw new TargetError(`an earlier write failed (${this.failure}); nothing more is written`);
    try {
      this.locked(() => {
        writeData();
        if (state !== undefined) this.updateState(state);
      });
    } catch (err) {
      this.failure = (err as Error).message;
      if (err instanceof TargetError) throw err;
      throw new TargetError(`writing to ${this.dir} failed: ${(err as Error).message}`);
    }
  }

  /** A fresh name for a temporary file in the folder; stream files never start with a dot. */
  tempPath(): string {
    return fileInside(this.dir, `.sync-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  }

  readState(): JsonValue | undefined {
    const all = this.readAll();
    return Object.hasOwn(all, this.options.stateId) ? all[this.options.stateId] : undefined;
  }

  writeState(value: JsonValue | undefined): void {
    this.locked(() => this.updateState(value));
  }

  close(): void {
    if (this.lockDb?.open) this.lockDb.close();
    this.lockDb = undefined;
  }

  private updateState(value: JsonValue | undefined): void {
    const all = this.readAll();
    if (value === undefined) {
      if (!Object.hasOwn(all, this.options.stateId)) return;
      Reflect.deleteProperty(all, this.options.stateId);
    } else {
      // defineProperty: a state id of `__proto__` must stay an ordinary key.
      Object.defineProperty(all, this.options.stateId, { value, enumerable: true, writable: true, configurable: true });
    }
    const entries = Object.keys(all).map((id) => `  ${JSON.stringify(id)}: ${stringifyJson(all[id])}`);
    const text = entries.length ? `{\n${entries.join(',\n')}\n}\n` : '{}\n';
    try {
      writeFileAtomic(this.statePath, text);
    } catch (err) {
      throw new TargetError(`cannot write the state file ${this.statePath}: ${(err as Error).message}`);
    }
    if (value !== undefined) this.keepSnapshot(value);
  }

  /**
   * The state just committed, appended to the history. After the state file: a crash in
   * between loses one snapshot, never a commit; a failure here is a warning for the same reason.
   */
  private keepSnapshot(value: JsonValue): void {
    const path = fileInside(this.dir, STATE_HISTORY_FILE);
    const now = Date.now();
    const stateId = this.options.stateId;
    try {
      appendWithId(path, { state_id: stateId, committed_at: new Date(now).toISOString(), value });
      // At the first state write, then once a minute: the file is read whole to be trimmed.
      if (this.trims.due(now)) {
        pruneEntries(path, (entries) => boundedEntries(entries, (e) => e['state_id'] === stateId, 'committed_at', pruneBefore(now), HISTORY_MAX_ROWS));
      }
    } catch (err) {
      this.options.warn(`cannot add to the state history ${path}: ${(err as Error).message}`);
    }
  }

  private readAll(): JsonObject {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.statePath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new TargetError(`cannot read the state file ${this.statePath}: ${(err as Error).message}`);
    }
    // It holds the bookmarks of every connector writing here: never reset it silently.
    const corrupt = (problem: string): TargetError =>
      new TargetError(`the state file ${this.statePath} is corrupt: ${problem}; repair it or move it aside`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw corrupt('it is not valid UTF-8');
    }
    let value: JsonValue;
    try {
      value = parseJson(text).value;
    } catch (err) {
      throw corrupt((err as Error).message);
    }
    if (!isJsonObject(value)) throw corrupt('it must hold a JSON object of state ids');
    return value;
  }

  /** Runs `work` holding the folder lock that every commit takes. */
  locked(work: () => void): void {
    let db = this.lockDb;
    try {
      db ??= this.lockDb = new Database(fileInside(this.dir, LOCK_FILE), { timeout: LOCK_WAIT_MS });
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      throw new TargetError(`cannot lock ${this.dir} for writing (another run may be committing): ${(err as Error).message}`);
    }
    try {
      if (!this.swept) this.removeStaleTempFiles();
      work();
    } finally {
      db.exec('ROLLBACK');
    }
  }

  /**
   * A run killed while it widened a CSV header leaves its temporary file. Temporary files are
   * only made while the folder lock is held, so under the lock every one found is stale.
   */
  private removeStaleTempFiles(): void {
    this.swept = true;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // nothing to tidy that we can see; the write that follows will say what is wrong
    }
    for (const name of names) {
      if (!TEMP_FILE.test(name)) continue;
      const path = fileInside(this.dir, name);
      try {
        unlinkSync(path);
        this.options.warn(`${path}: removed a temporary file left by an interrupted run`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.options.warn(`${path}: cannot remove this leftover temporary file: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * Creates a target's folder and its parents. A path that runs into something other than a
 * folder is a mistake in the target given, said as such (a usage error, exit code 2).
 */
export function makeFolder(dir: string, description: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw notAFolderError(dir, description, err) ?? new TargetError(`${description}: cannot create the folder ${resolve(dir)}: ${(err as Error).message}`);
  }
}

/**
 * Opens a stream file for appending ('a+': appends, and may read what is there) and calls
 * `write` with its descriptor and status; then fsyncs it, and the folder when the file
 * is new so that it survives a crash together with the state that will point past it.
 */
export function appendToFile(path: string, write: (fd: number, stats: Stats) => void): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a+');
    const stats = fstatSync(fd);
    write(fd, stats);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (stats.size === 0) fsyncDir(dirname(path));
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (err instanceof TargetError) throw err;
    throw new TargetError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

/** Writes all of `data` (writeSync may write less than asked). */
export function writeAll(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}

/** Reads up to `length` bytes at `position` into `buffer`; fewer only at the end of the file. */
export function readAt(fd: number, buffer: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
