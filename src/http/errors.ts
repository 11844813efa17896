import { ExitCode, SyncError } from '../errors.js';

/**
 * Errors of the shared HTTP client. They live here rather than in src/errors.ts so the
 * client stays self-contained; the CLI maps them to exit codes through `exitCode`.
 *
 * Messages name the method, the path and the status only: never query values, headers
 * or request bodies, which is where credentials travel.
 */

export interface HttpErrorInit {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** HTTP status, or 0 when no usable response arrived (network, timeout, cut-off body). */
  status: number;
  retriable: boolean;
  attempts: number;
  retryAfterMs?: number | undefined;
  /** Sanitized start of the response body (fatal 4xx only). */
  bodySnippet?: string | undefined;
  cause?: unknown;
}

export class HttpError extends SyncError {
  override name = 'HttpError';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** True when the same request may succeed later: the run can be retried as a whole. */
  readonly retriable: boolean;
  readonly attempts: number;
  readonly retryAfterMs: number | undefined;
  readonly bodySnippet: string | undefined;
  /** What the top-level handler should exit with: EX_TEMPFAIL (75) when a later run may succeed. */
  override readonly exitCode: typeof ExitCode.failed | typeof ExitCode.tempFail;

  constructor(message: string, init: HttpErrorInit) {
    super(message, [], init.cause === undefined ? undefined : { cause: init.cause });
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.retriable = init.retriable;
    this.attempts = init.attempts;
    this.retryAfterMs = init.retryAfterMs;
    this.bodySnippet = init.bodySnippet;
    this.exitCode = init.retriable ? ExitCode.tempFail : ExitCode.failed;
  }
}

/** The server answered with a status that is not success (fatal at once, or still failing after retries). */
export class HttpStatusError extends HttpError {
  override name = 'HttpStatusError';
}

/** The server keeps rate limiting us, or asks for a wait longer than we accept: try the run later. */
export class RateLimitedError extends HttpError {
  override name = 'RateLimitedError';
}

/** No usable response: connection refused or reset, timeout, cut-off or undecodable body, invalid JSON. */
export class HttpTransportError extends HttpError {
  override name = 'HttpTransportError';
}

/** Credentials could not be obtained or kept: token endpoint answer unusable, rotated token not persisted. */
export class HttpAuthError extends HttpError {
  override name = 'HttpAuthError';
}

/** The client's signal was aborted (SIGINT/SIGTERM): the name matches DOM AbortError on purpose. */
export class HttpAbortError extends Error {
  override name = 'AbortError';
  constructor(
    readonly method: string,
    readonly path: string,
    cause?: unknown,
  ) {
    super(`${method} ${path} aborted`, cause === undefined ? undefined : { cause });
  }
}

/** Replay mode found no recording for a request. */
export class ReplayMissError extends Error {
  override name = 'ReplayMissError';
}
