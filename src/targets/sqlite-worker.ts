import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { applyCommit, configureConnection, type CommitRequest } from './sqlite-commit.js';

/**
 * The SQLite target's writing thread: while it inserts one batch, the main thread parses,
 * validates and builds the rows of the next (the two take about as long as each other).
 */

interface Request extends CommitRequest {
  id: number;
}

const port = parentPort;
if (!port) throw new Error('sqlite-worker must run as a worker thread');
const db = new Database((workerData as { path: string }).path);
configureConnection(db);
const statements = new Map<string, Database.Statement>();
port.on('message', (request: Request | 'close') => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    applyCommit(db, statements, request);
    port.postMessage({ id: request.id, ok: true });
  } catch (err) {
    port.postMessage({ id: request.id, ok: false, message: (err as Error).message });
  }
});
