import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CommitChanges } from './change-count.js';
import { applyCommit, configureConnection, countChangesOn, type CommitRequest } from './sqlite-commit.js';
import { transferables, type RowBuffers } from './sqlite-rows.js';

/**
 * The SQLite target's writing thread: while it inserts one batch, the main thread parses,
 * validates and builds the rows of the next (the two take about as long as each other).
 */

interface Request extends CommitRequest {
  id: number;
}

export interface WriterReply {
  id: number;
  ok: boolean;
  message?: string;
  /** SQLite's error code (e.g. SQLITE_BUSY), so the caller can tell "retry later" from a failure. */
  code?: string;
  /** A counting run's: what the commit's upserts found over stored rows. */
  changes?: CommitChanges;
  /** The request's row buffers, handed back for the next batches (transferred, not copied). */
  buffers: RowBuffers[];
}

const port = parentPort;
if (!port) throw new Error('sqlite-worker must run as a worker thread');
const data = workerData as { path: string; busyTimeoutMs: number; countChanges: boolean };
const db = new Database(data.path);
configureConnection(db, data.busyTimeoutMs);
const counter = data.countChanges ? countChangesOn(db) : undefined;
const statements = new Map<string, Database.Statement>();
/**
 * The first failure, kept: commits are queued behind each other (the next batch, carrying a
 * newer state, is already on its way), so after one fails none may run, or the state would
 * land ahead of the rows that failed.
 */
let failed: { message: string; code?: string } | undefined;
port.on('message', (request: Request | 'close') => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  const buffers = request.segments.map(({ tags, numbers, text }) => ({ tags, numbers, text }));
  const reply = (answer: Omit<WriterReply, 'buffers'>): void => port.postMessage({ ...answer, buffers } satisfies WriterReply, transferables(buffers));
  if (failed) {
    reply({ id: request.id, ok: false, message: `not written: an earlier commit failed (${failed.message})`, ...(failed.code ? { code: failed.code } : {}) });
    return;
  }
  try {
    const changes = applyCommit(db, statements, request, counter);
    reply({ id: request.id, ok: true, ...(changes ? { changes } : {}) });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    failed = { message: (err as Error).message, ...(typeof code === 'string' ? { code } : {}) };
    reply({ id: request.id, ok: false, ...failed });
  }
});
