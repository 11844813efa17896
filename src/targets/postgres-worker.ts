import { parentPort, workerData } from 'node:worker_threads';
import { workerLogger } from '../worker-calls.js';
import type { StoreAnswer, StoreReply, StoreRequest } from './postgres-store-thread.js';
import { PostgresStore, type StoreOptions } from './postgres-store.js';

/** The writer thread of a PostgreSQL target (postgres-store-thread.ts): runs its store's operations in order. */

const port = parentPort;
if (!port) throw new Error('postgres-worker.ts runs as a worker thread');
const send = (reply: StoreReply): void => port.postMessage(reply);
const log = workerLogger(send);
const store = new PostgresStore(workerData as StoreOptions, (warning) => log.warn(warning));

/** What an operation answers besides success: the stored state (open), a commit's counts (write). */
async function run(request: StoreRequest): Promise<StoreAnswer> {
  switch (request.op) {
    case 'open': {
      const state = await store.open();
      return state === undefined ? {} : { state };
    }
    case 'write': {
      const changes = await store.write(request.batches, request.state);
      return changes === undefined ? {} : { changes };
    }
    case 'retire':
      return store.retire(request.batch, request.version, request.guard).then(() => ({}));
    case 'writeState':
      return store.writeState(request.state).then(() => ({}));
    case 'close':
      return store.close().then(() => ({}));
  }
}

port.on('message', (request: StoreRequest) => {
  run(request).then(
    (answer) => send({ type: 'done', id: request.id, answer }),
    (err: unknown) => {
      const error = err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
      send({ type: 'failed', id: request.id, error });
    },
  );
});
