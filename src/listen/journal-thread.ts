import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { PendingCalls, relayLog, type LogMessage } from '../worker-calls.js';
import type { AppendOutcome, NewDelivery } from './journal.js';
import { JournalUnavailable, classify, type JournalSink } from './journal-writer.js';

/**
 * The journal's own thread. A group commit is an SQLite transaction with synchronous=FULL, so
 * it waits for fsync (and for a lock, up to busy_timeout); on the HTTP thread that was a fifth
 * of its time under load with no request parsed or verified meanwhile. Here the HTTP thread
 * posts each batch and answers its deliveries only from the ack that the batch is durable;
 * the JournalWriter in front keeps its queue, group commit and backpressure. Retention sweeps
 * run on this thread too, between commits.
 */

export interface JournalThreadData {
  journalPath: string;
  busyTimeoutMs: number;
  /** Done deliveries older than this are deleted periodically; undefined keeps them. */
  retention?: { olderThanMs: number; everyMs: number; batch: number } | undefined;
}

export type MainToJournal = { type: 'append'; id: number; entries: NewDelivery[] } | { type: 'close' };

export type JournalToMain =
  | { type: 'ready' }
  | { type: 'appended'; id: number; outcomes: AppendOutcome[] }
  | { type: 'failed'; id: number; code: string; message: string }
  | LogMessage
  | { type: 'closed' };

export interface JournalThread extends JournalSink {
  /** Finishes the commit under way, stops retention, closes the journal and the thread. */
  close(): Promise<void>;
}

/**
 * Starts the thread; resolves once its journal connection is open. `onFailure`: the thread
 * died (every delivery gets 503 from then on; the caller should stop the service).
 */
export async function startJournalThread(data: JournalThreadData, log: Logger, onFailure: (err: Error) => void): Promise<JournalThread> {
  const worker = new Worker(new URL('./journal-worker.js', import.meta.url), { workerData: data });
  const calls = new PendingCalls<AppendOutcome[]>();
  let dead: JournalUnavailable | undefined;
  let closing = false;
  let markReady: (() => void) | undefined;
  let failStart: ((err: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failStart = reject;
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const die = (err: Error): void => {
    if (dead) return;
    dead = new JournalUnavailable(`the journal thread stopped (${err.message})`, false);
    calls.failAll(dead);
    failStart?.(err);
    if (!closing) onFailure(err);
  };

  worker.on('message', (message: JournalToMain) => {
    switch (message.type) {
      case 'ready':
        markReady?.();
        break;
      case 'appended':
        calls.resolve(message.id, message.outcomes);
        break;
      case 'failed':
        calls.reject(message.id, classify(Object.assign(new Error(message.message), { code: message.code })));
        break;
      case 'log':
        relayLog(log, message);
        break;
      case 'closed':
        break;
    }
  });
  worker.on('error', (err) => die(err));
  worker.once('exit', (code) => die(new Error(`exit code ${code}`)));

  await ready;
  return {
    append(entries) {
      if (dead) return Promise.reject(dead);
      return calls.call((id) => worker.postMessage({ type: 'append', id, entries: [...entries] } satisfies MainToJournal));
    },
    async close() {
      closing = true;
      if (!dead) worker.postMessage({ type: 'close' } satisfies MainToJournal);
      await exited;
    },
  };
}
