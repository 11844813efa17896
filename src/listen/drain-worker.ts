import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { loadConnector } from '../connector/registry.js';
import { PendingCalls, workerLogger } from '../worker-calls.js';
import { openTarget, parseTargetSpec, describeTarget } from '../targets/spec.js';
import { Drain, DrainLoop } from './drain.js';
import { DRAIN_STATE_ID, DrainHistory } from './drain-history.js';
import type { DrainWorkerData, MainToWorker, WorkerToMain } from './drain-host.js';
import { openDrainJournal } from './journal-store.js';
import { WebhookMapper } from './mapping.js';
import { resolveForListen } from './resolve.js';
import { isJsonObject, parseJson } from '../protocol/json.js';

/** The drain's thread (see drain-host.ts): its own journal connection, the target, the loop. */

const port = parentPort;
if (!port) throw new Error('drain-worker.js runs only as a worker thread');
const data = workerData as DrainWorkerData;
const send = (message: WorkerToMain): void => port.postMessage(message);

const log = workerLogger(send);

/** Chunks for target `-` the main thread has not yet reported written. */
const unwritten = new PendingCalls<void>();

/**
 * Target `-`: the main thread owns the process's stdout, so lines travel there. A chunk counts
 * as written only when the main thread says stdout took it; meanwhile the next one waits here
 * and the target sees backpressure, so a slow reader slows the drain instead of filling memory,
 * and a delivery is marked done only after its lines left the process.
 */
function mainThreadStdout(): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, callback) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      unwritten.call((id) => send({ type: 'stdout', id, chunk: text })).then(() => callback(), (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    },
  });
}

function written(id: number, failure: { code: string; message: string } | undefined): void {
  if (failure) unwritten.reject(id, Object.assign(new Error(failure.message), { code: failure.code }));
  else unwritten.resolve(id, undefined);
}

const mappers = new Map<string, WebhookMapper>();
const resolving = new AbortController();
for (const name of data.connectors) {
  const config = parseJson(data.configs[name] ?? '{}').value;
  const connector = await resolveForListen(await loadConnector(name), isJsonObject(config) ? config : {}, { log, signal: resolving.signal });
  mappers.set(name, new WebhookMapper(connector));
}
const spec = parseTargetSpec(data.target);
const journal = await openDrainJournal(data.journal);
const drain = new Drain({
  journal,
  mappers,
  // A stream of its own per target: one that failed stays destroyed, and the next attempt needs a fresh one.
  openTarget: () => openTarget(spec, { stateId: DRAIN_STATE_ID, warn: (m) => log.warn(m), stdout: mainThreadStdout() }),
  log,
  batchSize: data.batchSize,
  history: new DrainHistory({ spec, log, secrets: data.secrets }),
});
const loop = new DrainLoop(drain, log, describeTarget(spec));

port.on('message', (message: MainToWorker) => {
  switch (message.type) {
    case 'wake':
      loop.wake();
      break;
    case 'stop':
      loop.stop(message.deadlineMs);
      break;
    case 'written':
      written(message.id, message.failure);
      break;
  }
});

await loop.run();
await journal.close();
send({ type: 'stopped', done: drain.counts.done, dead: drain.counts.dead, records: [...drain.counts.records] });
port.close();
