/**
 * The error taxonomy, by what happens next. Only the top-level handler in src/cli turns
 * these into exit codes; nothing else ends the process.
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** sysexits EX_TEMPFAIL: busy or temporarily unavailable, retry later. */
  tempFail: 75,
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class SyncError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.failed;
  /** Lines printed after the message, e.g. one per configuration problem. */
  readonly details: string[];
  constructor(message: string, details: string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.details = details;
  }
}

/** Wrong command line, unknown connector, invalid config: fix the invocation. */
export class UsageError extends SyncError {
  override name = 'UsageError';
  override readonly exitCode = ExitCode.usage;
}

/** Another run holds the lock, or a resource is temporarily unavailable: try again later. */
export class BusyError extends SyncError {
  override name = 'BusyError';
  override readonly exitCode = ExitCode.tempFail;
}

/** The source failed or sent something unusable. */
export class SourceError extends SyncError {
  override name = 'SourceError';
  override readonly exitCode: ExitCodeValue;
  /** Keeps the exit code of a cause that knows better (a rate limit is 75: retry later). */
  constructor(message: string, cause?: unknown) {
    super(message, [], cause === undefined ? undefined : { cause });
    this.exitCode = cause instanceof SyncError ? cause.exitCode : ExitCode.failed;
  }
}

/** Input on stdin was not a valid Singer stream. */
export class InputError extends SyncError {
  override name = 'InputError';
}

/** The destination refused or failed a write. */
export class TargetError extends SyncError {
  override name = 'TargetError';
}

/**
 * The destination is locked by someone else for longer than we wait (a SQLite database held by
 * another writer): nothing after the last commit was written, so a later run carries on.
 */
export class TargetBusyError extends TargetError {
  override name = 'TargetBusyError';
  override readonly exitCode = ExitCode.tempFail;
}

/** Stopped by SIGINT or SIGTERM after committing what was written. */
export class InterruptedError extends SyncError {
  override name = 'InterruptedError';
  override readonly exitCode: ExitCodeValue;
  constructor(signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}; what was written is committed`);
    this.exitCode = signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
  }
}

/** What a caught value says: an Error's message, anything else as text. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
