import { Worker } from 'node:worker_threads';
import { TargetBusyError, TargetError } from '../errors.js';
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

export type StoreReply =
  | { id: number; ok: true; state?: string; changes?: CommitChanges }
  | { id: number; ok: false; error: { name: string; message: string } }
  /** A warning to log on the target's thread (a connection lost and the transaction tried again). */
  | { warning: string };

export class StoreThread implements PostgresStoreHandle {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (reply: StoreReply) => void; reject: (err: Error) => void }>();
  private readonly exited: Promise<void>;
  private failure: Error | undefined;
  private nextId = 1;

  constructor(options: StoreOptions, warn: (message: string) => void) {
    // The thread holds a batch or two of COPY text at a time: a small young generation keeps its memory low.
    this.worker = new Worker(new URL('./postgres-worker.js', import.meta.url), {
      workerData: options,
      resourceLimits: { maxYoungGenerationSizeMb: 16 },
    });
    this.worker.on('message', (reply: StoreReply) => {
      if ('warning' in reply) return warn(reply.warning);
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      waiter?.resolve(reply);
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.failAll(new TargetError('the PostgreSQL writer thread stopped'));
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
      if (!this.failure) await this.call({ op: 'close' });
    } finally {
      await this.worker.terminate();
      await this.exited;
    }
  }

  private async call(request: DistributiveOmit<StoreRequest, 'id'>): Promise<{ state?: string; changes?: CommitChanges }> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const reply = await new Promise<StoreReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
    if ('warning' in reply) return {};
    if (!reply.ok) throw revive(reply.error);
    return { ...(reply.state === undefined ? {} : { state: reply.state }), ...(reply.changes === undefined ? {} : { changes: reply.changes }) };
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The store's errors keep their class across the thread: it decides the exit code (75 or 1). */
function revive(error: { name: string; message: string }): Error {
  return error.name === 'TargetBusyError' ? new TargetBusyError(error.message) : new TargetError(error.message);
}
