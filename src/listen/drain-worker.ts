import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { loadConnector } from '../connector/registry.js';
import type { Logger, LogFields, LogLevel } from '../log.js';
import { openTarget, parseTargetSpec, describeTarget } from '../targets/spec.js';
import { Drain, DrainLoop } from './drain.js';
import type { DrainWorkerData, MainToWorker, WorkerToMain } from './drain-host.js';
import { Journal } from './journal.js';
import { WebhookMapper } from './mapping.js';
import { resolveForListen } from './resolve.js';
import { isJsonObject, parseJson } from '../protocol/json.js';

/** The drain's thread (see drain-host.ts): its own journal connection, the target, the loop. */

const port = parentPort;
if (!port) throw new Error('drain-worker.js runs only as a worker thread');
const data = workerData as DrainWorkerData;
const send = (message: WorkerToMain): void => port.postMessage(message);

const emit = (level: LogLevel) => (message: string, fields?: LogFields): void =>
  send(fields ? { type: 'log', level, message, fields } : { type: 'log', level, message });
const log: Logger = { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };

// Target `-`: the main thread owns the process's stdout, so lines travel there.
const stdout = new Writable({
  write(chunk: Buffer | string, _encoding, callback) {
    send({ type: 'stdout', chunk: typeof chunk === 'string' ? chunk : chunk.toString('utf8') });
    callback();
  },
});

const mappers = new Map<string, WebhookMapper>();
const resolving = new AbortController();
for (const name of data.connectors) {
  const config = parseJson(data.configs[name] ?? '{}').value;
  const connector = await resolveForListen(await loadConnector(name), isJsonObject(config) ? config : {}, { log, signal: resolving.signal });
  mappers.set(name, new WebhookMapper(connector));
}
const spec = parseTargetSpec(data.target);
const journal = new Journal(data.journalPath);
const drain = new Drain({
  journal,
  mappers,
  openTarget: () => openTarget(spec, { stateId: 'listen', warn: (m) => log.warn(m), stdout }),
  log,
  batchSize: data.batchSize,
});
const loop = new DrainLoop(drain, log, describeTarget(spec));

port.on('message', (message: MainToWorker) => {
  if (message.type === 'wake') loop.wake();
  else loop.stop(message.deadlineMs);
});

await loop.run();
journal.close();
send({ type: 'stopped', done: drain.counts.done, dead: drain.counts.dead, records: [...drain.counts.records] });
port.close();
