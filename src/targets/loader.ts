import { hasLosslessNumber, type JsonValue } from '../protocol/json.js';
import type { Message } from '../protocol/messages.js';
import { SchemaError, SchemaRegistry, recordProblem, type StreamSchema } from '../protocol/schema.js';
import type { Target } from './target.js';

/**
 * Drives a target with Singer messages: checks them, batches records, and commits each
 * batch together with the latest STATE received before it. Because every buffered record
 * is written by the same commit, that STATE is fully covered when the commit returns
 * (state is never ahead of data), and `onCommit` may publish it.
 */

export interface LoaderOptions {
  /** Validate records against their stream's schema (key properties are always checked). */
  validate: boolean;
  /** Commit when this many records are buffered. */
  batchRecords: number;
  /** Commit when the oldest buffered record has waited this long (long, slow runs still checkpoint). */
  maxBatchAgeMs: number;
  /**
   * Commit when the target holds this many bytes of buffered records (default 4 MiB), so
   * memory stays flat whatever the size of a record: 5,000 records of 1 MB would be 5 GB.
   */
  maxBatchBytes?: number;
  /** Called after a commit that carried a new state. */
  onCommit?: (state: JsonValue) => void | Promise<void>;
  /** Called once per record written (progress). */
  onRecord?: (stream: string) => void;
  /** Warnings (unknown message types, ...). */
  warn: (message: string) => void;
}

/** A message the loader refused; `line` is set when reading numbered input. */
const DEFAULT_MAX_BATCH_BYTES = 4 * 1_048_576;

export class LoadError extends Error {
  override name = 'LoadError';
}

export class Loader {
  private readonly registry = new SchemaRegistry();
  private readonly streams = new Map<string, StreamSchema>();
  private readonly schemaText = new Map<string, string>();
  private pending = 0;
  /** Commits a batch whose oldest record has waited maxBatchAgeMs, even while no input comes. */
  private ageTimer: NodeJS.Timeout | undefined;
  private latestState: JsonValue | undefined;
  private stateDirty = false;
  private warnedUnknown = new Set<string>();
  /** Set when a commit failed: buffered records are gone, so no later commit may carry the state. */
  private broken: unknown;
  /** The last commit handed to the target, resolved when it (and all before it) is durable. */
  private inflight: Promise<void> | undefined;
  recordsWritten = 0;
  /** Records whose commit has returned: what a summary may call written. */
  recordsCommitted = 0;
  private readonly maxBatchBytes: number;

  constructor(
    private readonly target: Target,
    private readonly options: LoaderOptions,
  ) {
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  /** Handles one message; returns a promise only when it had to commit (await it then). */
  handle(message: Message | { type: 'UNKNOWN'; originalType: string }): Promise<void> | undefined {
    switch (message.type) {
      case 'RECORD': {
        const stream = this.streams.get(message.stream);
        if (!stream) throw new LoadError(`RECORD for stream "${message.stream}" before its SCHEMA`);
        let problem = recordProblem(stream, message, this.options.validate);
        // A tap's record is not scanned for exact numbers up front (that would cost every
        // record); one that fails is checked again with them read as numbers, so a decimal
        // beyond a double (kept exact as text) passes as the number it is.
        if (problem !== undefined && message.lossless !== true && hasLosslessNumber(message.record)) {
          problem = recordProblem(stream, { ...message, lossless: true }, this.options.validate);
        }
        if (problem !== undefined) throw new LoadError(`RECORD of stream "${message.stream}" is invalid: ${problem}`);
        this.target.writeRecord(stream, message);
        this.recordsWritten++;
        this.options.onRecord?.(message.stream);
        if (this.pending++ === 0) this.startAgeTimer();
        if (this.target.streaming) return this.target.backpressure?.();
        if (this.pending >= this.options.batchRecords) return this.commitPipelined();
        if (this.target.bufferedBytes !== undefined && this.target.bufferedBytes() >= this.maxBatchBytes) return this.commitPipelined();
        return undefined;
      }
      case 'SCHEMA': {
        const text = JSON.stringify([message.schema, message.key_properties, message.bookmark_properties]);
        if (this.schemaText.get(message.stream) === text) return undefined;
        let stream: StreamSchema;
        try {
          stream = this.registry.open(message, this.options.validate);
        } catch (err) {
          if (err instanceof SchemaError) throw new LoadError(err.message);
          throw err;
        }
        const changed = this.streams.has(message.stream);
        const apply = (): void => {
          this.target.openStream(stream);
          this.streams.set(message.stream, stream);
          this.schemaText.set(message.stream, text);
        };
        // A changed table (new key index, new columns) must not race rows of the old shape
        // still being written: those are committed first, and that commit awaited.
        if (changed && this.busy()) return this.commit().then(apply);
        apply();
        return undefined;
      }
      case 'STATE': {
        this.latestState = message.value;
        this.stateDirty = true;
        if (this.target.streaming) return this.commit();
        // A state with nothing buffered is committed on the same clock as records are.
        if (this.ageTimer === undefined) this.startAgeTimer();
        return undefined;
      }
      case 'ACTIVATE_VERSION': {
        const stream = this.streams.get(message.stream);
        if (!stream) throw new LoadError(`ACTIVATE_VERSION for stream "${message.stream}" before its SCHEMA`);
        const activate = (): void => {
          if (this.target.activateVersion) this.target.activateVersion(stream, message.version, message.guard);
          else if (!this.warnedUnknown.has('ACTIVATE_VERSION')) {
            // Files are logs: there are no older rows to retire. Say so once instead of silently.
            this.warnedUnknown.add('ACTIVATE_VERSION');
            this.options.warn(`${this.target.description} keeps every version: ACTIVATE_VERSION is ignored`);
          }
        };
        // Retiring older versions while this version's rows are still on their way would
        // retire those rows too: everything before the activation is durable first.
        if (this.busy()) return this.commit().then(activate);
        activate();
        return undefined;
      }
      default:
        // Skipping it would let the STATE after it claim data that was never loaded (a tap's
        // BATCH of records, say): stop here, with what came before committed.
        throw new LoadError(`message type "${message.originalType}" is not supported; stopping so that no state after it is saved`);
    }
  }

  /**
   * A tap that goes quiet (a slow API, a listener between deliveries) must not keep its records
   * and state uncommitted: the first buffered record starts a timer, and when it fires whatever is
   * buffered is committed, as if the batch were full. Nobody awaits that commit; a failure is
   * kept (`broken`) and reported by the next commit or `finish`.
   */
  private startAgeTimer(): void {
    clearTimeout(this.ageTimer);
    this.ageTimer = setTimeout(() => {
      this.ageTimer = undefined;
      if ((this.pending === 0 && !this.stateDirty) || this.broken !== undefined) return;
      try {
        this.startCommit();
      } catch {
        // Kept in `broken`.
      }
    }, this.options.maxBatchAgeMs);
    // The input keeps the process alive; a timer alone must not.
    this.ageTimer.unref();
  }

  /** Records buffered or a commit still being written. */
  private busy(): boolean {
    return this.pending > 0 || this.inflight !== undefined;
  }

  /** Commits buffered records and the latest state; resolves when all is durable and published. */
  async commit(): Promise<void> {
    this.startCommit();
    await this.inflight;
  }

  /**
   * Hands the batch to the target and returns the *previous* commit (undefined when none is
   * in flight): the caller waits for that one only, so a target writing on another thread
   * stores one batch while the next is being built, and no more than two are in the air.
   */
  private commitPipelined(): Promise<void> | undefined {
    const previous = this.inflight;
    this.startCommit();
    return previous;
  }

  private startCommit(): void {
    if (this.broken !== undefined) throw this.broken;
    if (this.pending === 0 && !this.stateDirty) return;
    clearTimeout(this.ageTimer);
    this.ageTimer = undefined;
    const state = this.stateDirty ? this.latestState : undefined;
    const carriesState = this.stateDirty;
    const records = this.pending;
    this.pending = 0;
    this.stateDirty = false;
    let written: void | Promise<void>;
    try {
      written = this.target.commit(state);
    } catch (err) {
      this.broken = err;
      throw err;
    }
    const previous = this.inflight;
    // Handled from now on: when an earlier commit fails, this one is never awaited below.
    const settled = Promise.resolve(written);
    settled.catch(() => undefined);
    const done = (async () => {
      try {
        await previous;
        await settled;
      } catch (err) {
        this.broken ??= err;
        throw err;
      }
      this.recordsCommitted += records;
      // Published only once this commit and every one before it are durable, in order.
      if (carriesState && this.options.onCommit) await this.options.onCommit(state as JsonValue);
    })();
    // Whoever awaits `inflight` next sees a failure; this only keeps it from being unhandled.
    done.then(
      () => {
        if (this.inflight === done) this.inflight = undefined;
      },
      () => undefined,
    );
    this.inflight = done;
  }

  /** Commits whatever is left; call at the end of input and on interruption. */
  async finish(): Promise<void> {
    clearTimeout(this.ageTimer);
    await this.commit();
  }
}
