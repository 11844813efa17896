import { inspect } from 'node:util';
import { ExitCode, SyncError } from '../errors.js';
import type { JsonValue } from '../protocol/json.js';
import type { RunRecord, StreamChanges } from '../targets/history.js';
import { scrub } from './io.js';
import { READER_GONE_EXIT_CODE, ReaderGoneError } from './reader-gone.js';

/**
 * What one `sync run` did, gathered while it runs and closed with its outcome: the row of the
 * run history, the body of a failure ping, the figures of the metrics file.
 */

/** Filled in by the sync as it goes; read once the run has ended. */
export interface RunTally {
  records: ReadonlyMap<string, number>;
  bookmarksBefore: Record<string, JsonValue>;
  bookmarksAfter: Record<string, JsonValue>;
  changes?: Record<string, StreamChanges>;
  /** The run got as far as reading its state: `bookmarksAfter` holds it (or what it committed since). */
  stateRead?: boolean;
}

export function emptyTally(): RunTally {
  return { records: new Map(), bookmarksBefore: {}, bookmarksAfter: {} };
}

/** The exit code `main.ts` will give this outcome (undefined: success). */
export function exitCodeOf(err: unknown): number {
  if (err === undefined) return ExitCode.ok;
  if (err instanceof ReaderGoneError) return READER_GONE_EXIT_CODE;
  if (err instanceof SyncError) return err.exitCode;
  return ExitCode.failed;
}

/** Longest error line kept: the first line of a message is what an operator needs. */
const MAX_ERROR_CHARS = 1_000;

/** The error as one line, scrubbed of every secret known to the run; null on success. */
export function errorLine(err: unknown, secrets: readonly string[]): string | null {
  if (err === undefined) return null;
  const details = err instanceof SyncError && err.details.length ? `: ${err.details.join('; ')}` : '';
  const message = `${err instanceof Error ? err.message : inspect(err)}${details}`;
  const kind = err instanceof SyncError || err instanceof ReaderGoneError ? '' : 'internal error: ';
  const line = scrub(`${kind}${message}`, secrets).replace(/\s*\n\s*/g, ' ').trim();
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
}

export function runRecord(
  run: { connector: string; stateId: string; startedAt: Date; endedAt: Date },
  tally: RunTally,
  err: unknown,
  secrets: readonly string[],
): RunRecord {
  return {
    connector: run.connector,
    stateId: run.stateId,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    exitCode: exitCodeOf(err),
    records: Object.fromEntries(tally.records),
    error: errorLine(err, secrets),
    bookmarksBefore: tally.bookmarksBefore,
    bookmarksAfter: tally.bookmarksAfter,
    ...(tally.changes === undefined ? {} : { changes: tally.changes }),
  };
}
