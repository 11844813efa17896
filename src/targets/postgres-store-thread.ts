import { Worker } from 'node:worker_threads';
import { TargetBusyError, TargetError } from '../errors.js';
import type { Logger } from '../log.js';
import { PendingCalls, relayLog, type LogMessage } from '../worker-calls.js';
import type { CommitChanges } from './change-count.js';
import type { StreamBatch } from './postgres-rows.js';
import type { PostgresStoreHandle, RetireGuard, StoreOptions } from './postgres-store.js';

/**
 * A PostgreSQL store on a writer thread of its own. The target's thread parses and validates
 * records and builds COPY text in long synchronous stretches; a connection served from there
 * would wait for each of them, at every statement and every refill of the socket during COPY.
 * On its own thread the connection is always served at once, and the database works on one
 * batch while the next is built.
 */

export type StoreRequest =
  | { id: number; op: 'open' }
  | { id: number; op: 'write'; batches: readonly StreamBatch[]; state: string | undefined }
  | { id: number; op: 'retire'; batch: StreamBatch; version: number; guard: RetireGuard | undefined }
  | { id: number; op: 'writeState'; state: string | undefined }
  | { id: number; op: 'close' };

/** What an operation answers besides success: the stored state (open), a commit's counts (write). */
export interface StoreAnswer {
  state?: string;
  changes?: CommitChanges;
}

export type StoreReply =
  | { type: 'done'; id: number; answer: StoreAnswer }
  | { type: 'failed'; id: number; error: { name: string; message: string } }
  /** A warning from the store (a connection lost and the transaction tried again). */
  | LogMessage;

export class StoreThread implements PostgresStoreHandle {
  private readonly worker: Worker;
  private readonly calls = new PendingCalls<StoreAnswer>();
  private readonly exited: Promise<void>;

  constructor(options: StoreOptions, warn: (message: string) => void) {
    // The thread holds a batch or two of COPY text at a time: a small young generation keeps its memory low.
    this.worker = new Worker(new URL('./postgres-worker.js', import.meta.url), {
      workerData: options,
      resourceLimits: { maxYoungGenerationSizeMb: 16 },
    });
    // The store reports through `warn` alone (as every target does), so every line it sends is a warning.
    const log: Logger = { debug: warn, info: warn, warn, error: warn };
    this.worker.on('message', (reply: StoreReply) => {
      switch (reply.type) {
        case 'log':
          relayLog(log, reply);
          break;
        case 'done':
          this.calls.resolve(reply.id, reply.answer);
          break;
        case 'failed':
          this.calls.reject(reply.id, revive(reply.error));
          break;
      }
    });
    this.worker.on('error', (err) => this.calls.failAll(err));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.calls.failAll(new TargetError('the PostgreSQL writer thread stopped'));
        resolve();
      }),
    );
  }

  async open(): Promise<string | undefined> {
    return (await this.call({ op: 'open' })).state;
  }

  async write(batches: readonly StreamBatch[], state: string | undefined): Promise<CommitChanges | undefined> {
    return (await this.call({ op: 'write', batches, state })).changes;
  }

  async retire(batch: StreamBatch, version: number, guard: RetireGuard | undefined): Promise<void> {
    await this.call({ op: 'retire', batch, version, guard });
  }

  async writeState(state: string | undefined): Promise<void> {
    await this.call({ op: 'writeState', state });
  }

  async close(): Promise<void> {
    try {
      if (!this.calls.failed) await this.call({ op: 'close' });
    } finally {
      await this.worker.terminate();
      await this.exited;
    }
  }

  private call(request: DistributiveOmit<StoreRequest, 'id'>): Promise<StoreAnswer> {
    return this.calls.call((id) => this.worker.postMessage({ ...request, id } satisfies StoreRequest));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The store's errors keep their class across the thread: it decides the exit code (75 or 1). */
function revive(error: { name: string; message: string }): Error {
  return error.name === 'TargetBusyError' ? new TargetBusyError(error.message) : new TargetError(error.message);
}
