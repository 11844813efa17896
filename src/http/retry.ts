/**
 * What to do after a failed attempt: pure functions, no I/O, so every rule is unit-tested.
 * One place decides retriable versus fatal (the Singer SDK lesson: scattered checks drift).
 */

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Backoff ceiling for the first retry; doubles each retry. */
  baseDelayMs: number;
  /** The longest single backoff wait (server-requested waits have their own limit). */
  maxDelayMs: number;
  /** A server asking for a longer wait fails the request with RateLimitedError instead. */
  maxRetryAfterMs: number;
  /** Extra statuses a connector declares retriable (for example 408 or a vendor's 409). */
  retryStatuses: readonly number[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 15 * 60_000,
  retryStatuses: [],
};

/** Why an attempt did not produce a usable response. */
export type Failure =
  | { kind: 'status'; status: number; rateLimited: boolean }
  | { kind: 'network'; code: string }
  | { kind: 'timeout'; phase: 'connect' | 'headers' | 'body' }
  | { kind: 'truncated'; detail: string }
  | { kind: 'not-json'; detail: string }
  | { kind: 'encoding'; detail: string }
  /**
   * A body that reports a failure, as a check judged it: a 2xx (GraphQL `errors`, a vendor's
   * error envelope) by the request's `check`, or an error answer whose body says more than its
   * `status` (a vendor's error code) by the client's `errorCheck`. Retriable, not, or `later`
   * (not within this run), with the wait the body or a Retry-After asks for.
   */
  | { kind: 'body'; detail: string; retriable: boolean | 'later'; waitMs?: number | undefined; status?: number | undefined };

/** Network error codes worth another attempt: the peer or the path failed, not our request. */
const RETRIABLE_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

export function isRetriable(failure: Failure, policy: Pick<RetryPolicy, 'retryStatuses'>): boolean {
  switch (failure.kind) {
    case 'status': {
      const s = failure.status;
      if (failure.rateLimited || s === 429) return true;
      if (s >= 500) return s !== 501;
      return policy.retryStatuses.includes(s);
    }
    case 'network':
      return RETRIABLE_NETWORK.has(failure.code);
    case 'timeout':
    case 'truncated':
    case 'not-json':
      return true;
    case 'encoding':
      return false;
    case 'body':
      return failure.retriable === true;
  }
}

/**
 * A 429, or a 403 that is really a rate limit (GitHub answers 403 with
 * `x-ratelimit-remaining: 0` or a Retry-After), or a 503 that says when to come back.
 */
export function isRateLimited(status: number, headers: Readonly<Record<string, string>>): boolean {
  if (status === 429) return true;
  if (status === 403) return headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0';
  if (status === 503) return headers['retry-after'] !== undefined;
  return false;
}

interface CodedError {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** Maps an error thrown by undici or the socket layer to a Failure; undefined means "not ours, rethrow". */
export function failureFromError(err: unknown): Failure | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const e = current as CodedError;
    const code = typeof e.code === 'string' ? e.code : undefined;
    switch (code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return { kind: 'timeout', phase: 'connect' };
      case 'UND_ERR_HEADERS_TIMEOUT':
        return { kind: 'timeout', phase: 'headers' };
      case 'UND_ERR_BODY_TIMEOUT':
        return { kind: 'timeout', phase: 'body' };
      case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
        return { kind: 'truncated', detail: 'body shorter than its content-length' };
      case 'HPE_INVALID_CHUNK_SIZE':
      case 'HPE_INVALID_EOF_STATE':
        return { kind: 'truncated', detail: 'body cut off' };
      case undefined:
        break;
      default:
        // System errno codes (ENOTFOUND, EACCES...) are network outcomes, retriable or not;
        // Node's ERR_* codes are programming errors and propagate untouched.
        if (RETRIABLE_NETWORK.has(code) || /^E[A-Z]+$/.test(code) || code.startsWith('EAI_')) return { kind: 'network', code };
    }
    current = e.cause;
  }
  return undefined;
}

/** Human words for a failure, for logs and error messages (no URLs, no bodies). */
export function describeFailure(failure: Failure, statusText = ''): string {
  switch (failure.kind) {
    case 'status':
      return statusText ? `${failure.status} ${statusText}` : String(failure.status);
    case 'network':
      return NETWORK_WORDS[failure.code] ? `${NETWORK_WORDS[failure.code]} (${failure.code})` : failure.code;
    case 'timeout':
      return failure.phase === 'connect' ? 'connect timeout' : `timed out waiting for the response ${failure.phase}`;
    case 'truncated':
      return `truncated body: ${failure.detail}`;
    case 'not-json':
      return `body is not valid JSON: ${failure.detail}`;
    case 'encoding':
      return failure.detail;
    case 'body':
      if (failure.status === undefined) return `the body reports an error: ${failure.detail}`;
      return `${statusText ? `${failure.status} ${statusText}` : String(failure.status)}: ${failure.detail}`;
  }
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNRESET: 'connection reset',
  ECONNREFUSED: 'connection refused',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by the server',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name resolution failed temporarily',
};

/** Exponential backoff with full jitter: a uniform wait in [0, min(max, base * 2^(retry-1))]. */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The wait the server asked for, in ms, or undefined. Hints in order of authority:
 * Retry-After (delta seconds or HTTP date), the connector's own header, RateLimit-Reset
 * (delta seconds), X-RateLimit-Reset (epoch seconds, or epoch ms, or delta seconds).
 */
export function waitHint(
  headers: Readonly<Record<string, string>>,
  nowMs: number,
  resetHeader?: string,
  rateLimited = true,
): number | undefined {
  // Reset headers describe the rate window and some APIs send them on every response:
  // they mean "wait until then" only when the answer was a rate limit.
  const names = rateLimited ? ['retry-after', resetHeader?.toLowerCase(), 'ratelimit-reset', 'x-ratelimit-reset'] : ['retry-after'];
  for (const name of names) {
    if (name === undefined) continue;
    const value = headers[name];
    if (value === undefined) continue;
    const ms = parseResetValue(value, nowMs);
    if (ms !== undefined) return ms;
  }
  return undefined;
}

/** Epoch thresholds: no delta of 30 years is meant, no epoch second value exceeds 10^12 before year 33658. */
const EPOCH_SECONDS = 1e9;
const EPOCH_MS = 1e12;

/** Reads one reset value: delta seconds, epoch seconds, epoch ms or an HTTP date; never negative. */
export function parseResetValue(value: string, nowMs: number): number | undefined {
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    const n = Number(text);
    if (n >= EPOCH_MS) return Math.max(0, Math.ceil(n - nowMs));
    if (n >= EPOCH_SECONDS) return Math.max(0, Math.ceil(n * 1000 - nowMs));
    return Math.ceil(n * 1000);
  }
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
