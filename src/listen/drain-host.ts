import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { relayLog, type LogMessage } from '../worker-calls.js';
import { Drain, DrainLoop, type DrainCounts, type DrainOptions } from './drain.js';
import type { JournalLocation } from './journal-store.js';

/**
 * Where the drain runs. `sync listen` runs it on a worker thread: targets such as SQLite
 * block while they wait for a lock or fsync, and the HTTP side must keep answering (and
 * journaling) meanwhile. Tests and `sync inbox` may run it inline.
 */

export interface DrainHandle {
  /** A delivery was stored: look at the journal now instead of at the next poll. */
  wake(): void;
  /** Drains what is pending (giving up at the deadline), closes the target, reports the counts. */
  stop(deadlineMs: number): Promise<DrainCounts>;
}

export function startInlineDrain(options: DrainOptions, targetName: string, onFailure: (err: Error) => void): DrainHandle {
  const drain = new Drain(options);
  const loop = new DrainLoop(drain, options.log, targetName);
  const running = loop.run().catch((err: unknown) => onFailure(err as Error));
  return {
    wake: () => loop.wake(),
    async stop(deadlineMs) {
      loop.stop(deadlineMs);
      await running;
      await options.journal.close();
      return drain.counts;
    },
  };
}

/** What the worker needs to rebuild the drain on its thread (all plain data). */
export interface DrainWorkerData {
  journal: JournalLocation;
  connectors: string[];
  /** Each connector's config as JSON text (text keeps exact numbers through the thread boundary). */
  configs: Record<string, string>;
  target: string;
  batchSize: number;
  /** Scrubbed from the error lines kept in the run history. */
  secrets: string[];
}

export type WorkerToMain =
  | LogMessage
  /** Lines for target `-`; the main thread answers `written` with the same id once stdout took them. */
  | { type: 'stdout'; id: number; chunk: string }
  | { type: 'stopped'; done: number; dead: number; records: Array<[string, number]> };

export type MainToWorker =
  | { type: 'wake' }
  | { type: 'stop'; deadlineMs: number }
  | { type: 'written'; id: number; failure?: { code: string; message: string } };

export function startWorkerDrain(
  data: DrainWorkerData,
  log: Logger,
  stdout: NodeJS.WritableStream,
  onFailure: (err: Error) => void,
): DrainHandle {
  const worker = new Worker(new URL('./drain-worker.js', import.meta.url), { workerData: data });
  const post = (message: MainToWorker): void => worker.postMessage(message);
  let counts: DrainCounts | undefined;
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: WorkerToMain) => {
    switch (message.type) {
      case 'log':
        relayLog(log, message);
        break;
      case 'stdout': {
        const { id } = message;
        // Acknowledged from the write callback, i.e. once the OS took the bytes: until then the
        // drain's target waits, and no delivery behind these lines is marked done.
        stdout.write(message.chunk, (err?: Error | null) => {
          const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
          post(err ? { type: 'written', id, failure: { code: code ?? '', message: err.message } } : { type: 'written', id });
        });
        break;
      }
      case 'stopped':
        counts = { done: message.done, dead: message.dead, records: new Map(message.records) };
        break;
    }
  });
  worker.on('error', (err) => {
    failure = err;
    onFailure(err);
  });
  worker.once('exit', (code) => {
    if (counts === undefined && failure === undefined) {
      failure = new Error(`the drain stopped unexpectedly (exit code ${code})`);
      onFailure(failure);
    }
  });
  return {
    wake: () => post({ type: 'wake' }),
    async stop(deadlineMs) {
      if (counts === undefined && failure === undefined) post({ type: 'stop', deadlineMs });
      await exited;
      if (counts) return counts;
      throw failure ?? new Error('the drain stopped unexpectedly');
    },
  };
}
