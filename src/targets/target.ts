import type { JsonValue } from '../protocol/json.js';
import type { ActivationGuard, RecordMessage } from '../protocol/messages.js';
import type { StreamSchema } from '../protocol/schema.js';
import type { StreamChanges } from './history.js';

/**
 * A destination for one Singer stream of messages. The loader (loader.ts) validates,
 * batches and decides when to commit; a target only stores. A target must make a commit
 * atomic where it can: records and the state that covers them land together, so a crash
 * never leaves the state ahead of the data.
 */
export interface Target {
  /** Names the destination in messages, e.g. `sqlite:sync.db`. */
  readonly description: string;
  /**
   * True for pass-through targets (stdout): every message is written as it comes and each
   * STATE is committed at once. False for stores that batch records between commits.
   */
  readonly streaming: boolean;
  /** A stream's schema, the first time or changed. The loader commits rows of the old schema first. */
  openStream(stream: StreamSchema): void;
  /** Buffers one record that the loader has already checked. */
  writeRecord(stream: StreamSchema, message: RecordMessage): void;
  /** About how many bytes of records are buffered since the last commit (the loader commits past a cap). */
  bufferedBytes?(): number;
  /**
   * All records of this stream with an older table version are retired (soft-deleted); with a
   * guard, only within its bounds (see ActivationGuard).
   */
  activateVersion?(stream: StreamSchema, version: number, guard?: ActivationGuard): void;
  /**
   * For streaming targets: a promise when the destination is full (a slow pipe), so the
   * loader waits instead of buffering without bound; undefined otherwise.
   */
  backpressure?(): Promise<void> | undefined;
  /** Writes what is buffered and, when given, the state covering it; durable when it returns. */
  commit(state: JsonValue | undefined): void | Promise<void>;
  /** The state this target keeps for the run's state id, if any. */
  readState(): JsonValue | undefined;
  /** Replaces (or with undefined, removes) the stored state, for `sync state set|clear`. */
  writeState(value: JsonValue | undefined): void | Promise<void>;
  close(): void | Promise<void>;
  /** With `countChanges`: per stream, the changes the committed records found (see change-count.ts). */
  changesFound?(): Record<string, StreamChanges>;
  /**
   * Characters the destination cannot hold (PostgreSQL: NUL, half of a surrogate pair), stored
   * as U+FFFD in the rows committed so far, over all streams; for the run's summary line.
   */
  replacedCharacters?(): number;
}

/** Options every target is opened with. */
export interface TargetOptions {
  /** Key under which the target keeps state (usually the connector name). */
  stateId: string;
  /** Non-fatal problems (e.g. a property missing from the schema). */
  warn: (message: string) => void;
  /**
   * Count webhook coverage while writing (`sync run` asks; the listener's drain and `sync target`
   * do not): keyed targets then keep `_sync_run_version` and report `changesFound`.
   */
  countChanges?: boolean;
}

/** The one wording for a record property its stream's schema does not list (each keyed target adds a column). */
export function notInSchemaWarning(stream: string, property: string): string {
  return `stream "${stream}": property ${JSON.stringify(property)} is not in its schema; adding a column for it`;
}
