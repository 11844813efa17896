import { parentPort, workerData } from 'node:worker_threads';
import type { StoreReply, StoreRequest } from './postgres-store-thread.js';
import { PostgresStore, type StoreOptions } from './postgres-store.js';

/** The writer thread of a PostgreSQL target (postgres-store-thread.ts): runs its store's operations in order. */

const port = parentPort;
if (!port) throw new Error('postgres-worker.ts runs as a worker thread');
const send = (reply: StoreReply): void => port.postMessage(reply);
const store = new PostgresStore(workerData as StoreOptions, (warning) => send({ warning }));

async function run(request: StoreRequest): Promise<string | undefined> {
  switch (request.op) {
    case 'open':
      return store.open();
    case 'write':
      return store.write(request.batches, request.state).then(() => undefined);
    case 'retire':
      return store.retire(request.batch, request.version, request.guard).then(() => undefined);
    case 'writeState':
      return store.writeState(request.state).then(() => undefined);
    case 'close':
      return store.close().then(() => undefined);
  }
}

port.on('message', (request: StoreRequest) => {
  run(request).then(
    (state) => send(state === undefined ? { id: request.id, ok: true } : { id: request.id, ok: true, state }),
    (err: unknown) => {
      const error = err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
      send({ id: request.id, ok: false, error });
    },
  );
});
