import { TargetError } from '../errors.js';
import { stringifyJson, type JsonValue } from '../protocol/json.js';
import type { RecordMessage } from '../protocol/messages.js';
import type { StreamSchema } from '../protocol/schema.js';
import { RunChanges } from './change-count.js';
import type { StreamChanges } from './history.js';
import { isReservedStream } from './postgres-names.js';
import { StreamRows, type StreamBatch } from './postgres-rows.js';
import { parseState } from './postgres-state.js';
import { StoreThread } from './postgres-store-thread.js';
import { PostgresStore, type PostgresStoreHandle, type RetireGuard } from './postgres-store.js';
import type { PostgresLocation } from './postgres-url.js';
import type { Target, TargetOptions } from './target.js';

/**
 * PostgreSQL: one table per stream in the spec's schema, a column per top-level property
 * (types in postgres-types.ts), rows upserted on the key properties where the newest version
 * wins, state in `_sync_state`. Each commit is one transaction: the tables brought up to date
 * for the batch, its rows, and the state that covers them (postgres-store.ts).
 *
 * Records become COPY text here, as they arrive (postgres-rows.ts); the store sends it, on this
 * thread or, with `writer: 'thread'`, on a writer thread of its own. The Target interface is
 * synchronous where the database is not: operations are queued in the order the loader makes
 * them, so an ACTIVATE_VERSION or a table change lands between the commits it came between.
 * After a failure nothing more is written; the failure is reported by the next commit (or by
 * close). The stored state is read when the target opens and then kept here, since only this
 * target's commits change it during a run (the run lock keeps other runs of the state id away).
 */

export interface PostgresTargetOptions extends TargetOptions {
  /** Waits between attempts of a transaction that failed with the connection (tests shorten them). */
  retryDelaysMs?: readonly number[];
  /** Where the connection is served: a writer thread for long loads, or this thread. */
  writer?: 'inline' | 'thread';
}

export async function openPostgresTarget(location: PostgresLocation, options: PostgresTargetOptions): Promise<PostgresTarget> {
  const storeOptions = {
    location,
    stateId: options.stateId,
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
    ...(options.countChanges ? { countChanges: true } : {}),
  };
  const store: PostgresStoreHandle = options.writer === 'thread' ? new StoreThread(storeOptions, options.warn) : new PostgresStore(storeOptions, options.warn);
  try {
    const text = await store.open();
    const state = text === undefined ? undefined : parseState(text, options.stateId, location.description);
    return new PostgresTarget(location, store, state, options);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

export class PostgresTarget implements Target {
  readonly streaming = false;
  readonly description: string;
  private readonly streams = new Map<string, StreamRows>();
  /** The plan revision each stream's table was last brought up to date for. */
  private readonly made = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;
  /** Characters stored as U+FFFD, by stream, in committed rows. */
  private readonly substituted = new Map<string, number>();
  /** With `countChanges`: what the committed upserts found (change-count.ts). */
  private readonly changes: RunChanges | undefined;

  constructor(
    location: PostgresLocation,
    private readonly store: PostgresStoreHandle,
    private state: JsonValue | undefined,
    private readonly options: PostgresTargetOptions,
  ) {
    this.description = location.description;
    this.changes = options.countChanges ? new RunChanges() : undefined;
  }

  openStream(stream: StreamSchema): void {
    if (isReservedStream(stream.stream)) {
      throw new TargetError(`stream "${stream.stream}" cannot be a table: names starting with "_sync_" (in any case) are reserved for this target's own tables`);
    }
    const rows = new StreamRows(stream, this.streams.get(stream.stream), this.options.warn, this.changes !== undefined);
    if (this.changes !== undefined && rows.plan().runVersion) this.changes.counting(stream.stream);
    this.streams.set(stream.stream, rows);
  }

  writeRecord(stream: StreamSchema, message: RecordMessage): void {
    const rows = this.streams.get(stream.stream);
    if (!rows) throw new TargetError(`stream "${stream.stream}" was not opened`);
    rows.add(message);
  }

  bufferedBytes(): number {
    let bytes = 0;
    for (const rows of this.streams.values()) bytes += rows.bytes;
    return bytes;
  }

  commit(state: JsonValue | undefined): Promise<void> {
    const batches = this.pendingBatches();
    // As text: the writer thread would lose exact numbers (LosslessNumber) in a structured clone.
    const text = state === undefined ? undefined : stringifyJson(state);
    return this.enqueue(async () => {
      const changes = await this.store.write(batches, text);
      this.changes?.add(changes);
      this.remember(batches);
      if (state !== undefined) this.state = state;
    });
  }

  changesFound(): Record<string, StreamChanges> {
    return this.changes?.result() ?? {};
  }

  replacedCharacters(): number {
    let total = 0;
    for (const count of this.substituted.values()) total += count;
    return total;
  }

  /**
   * Queued behind the commits before it (the loader has committed the rows of this version
   * first), as a transaction of its own: rows of older table versions get `_sdc_deleted_at`;
   * with a guard (a reconciling full read), only within its bounds.
   */
  activateVersion(stream: StreamSchema, version: number, guard?: RetireGuard): void {
    const rows = this.streams.get(stream.stream);
    if (!rows) return;
    rows.needDeletedAt();
    // Nothing of this stream is buffered (the loader committed first): only its table matters.
    const batch: StreamBatch = { plan: rows.plan(), revision: rows.revision, segments: [] };
    this.enqueue(async () => {
      await this.store.retire(batch, version, guard);
      this.remember([batch]);
    }).catch(() => {
      // Kept as `failure`: the next commit or close reports it.
    });
  }

  readState(): JsonValue | undefined {
    return this.state;
  }

  writeState(value: JsonValue | undefined): Promise<void> {
    return this.enqueue(async () => {
      await this.store.writeState(value === undefined ? undefined : stringifyJson(value));
      this.state = value;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // Streams that never got a row still get their table, as a SCHEMA promises.
      const unmade = [...this.streams.values()].filter((rows) => this.made.get(rows.stream) !== rows.revision);
      if (unmade.length > 0 && this.failure === undefined) {
        const batches = unmade.map((rows) => ({ plan: rows.plan(), revision: rows.revision, segments: [] }));
        await this.enqueue(async () => {
          await this.store.write(batches, undefined);
          this.remember(batches);
        }).catch(() => undefined);
      }
      await this.queue;
      if (this.failure !== undefined) throw this.failure;
    } finally {
      await this.store.close();
      for (const [stream, count] of this.substituted) {
        this.options.warn(
          `stream "${stream}": ${count} ${count === 1 ? 'character' : 'characters'} PostgreSQL cannot store ` +
            `(NUL, or half of a UTF-16 surrogate pair) ${count === 1 ? 'was' : 'were'} stored as U+FFFD`,
        );
      }
    }
  }

  /** What the next commit writes: every stream with rows or with a table to bring up to date. */
  private pendingBatches(): StreamBatch[] {
    const batches: StreamBatch[] = [];
    for (const rows of this.streams.values()) {
      if (rows.bytes > 0 || this.made.get(rows.stream) !== rows.revision) batches.push(rows.take());
    }
    return batches;
  }

  /** After a commit: which tables are up to date, and what was substituted in the rows it stored. */
  private remember(batches: readonly StreamBatch[]): void {
    for (const batch of batches) {
      this.made.set(batch.plan.stream, batch.revision);
      const count = batch.segments.reduce((n, s) => n + s.substitutions, 0);
      if (count > 0) this.substituted.set(batch.plan.stream, (this.substituted.get(batch.plan.stream) ?? 0) + count);
    }
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => {
      if (this.failure !== undefined) throw this.failure;
      return operation();
    });
    this.queue = run.catch((err: unknown) => {
      this.failure ??= err;
    });
    return run;
  }
}
