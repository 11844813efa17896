import { setTimeout as delay } from 'node:timers/promises';

/**
 * Client-side request budget, declared by a connector: a rate (token bucket) and a
 * concurrency cap per host (semaphore). Staying under a vendor's limit is cheaper than
 * being told off with 429s, which cost a wait and count against the limit anyway.
 */

export interface BudgetOptions {
  /** Average request starts per second over the whole client (fractions allowed: 0.5 = one every 2 s). */
  requestsPerSecond?: number;
  /** How many starts may happen back to back before the rate applies. Default 1: evenly spaced. */
  burst?: number;
  /** Requests in flight at once per host. */
  maxConcurrentPerHost?: number;
  /**
   * Tighter limits of particular endpoints, kept besides the overall ones (a search endpoint
   * at 5/s under an account-wide 100 per 10 s): a request to a matching path waits for both.
   */
  endpoints?: readonly EndpointLimit[];
}

export interface EndpointLimit {
  /** Path segments, `*` standing for any one segment; matched against the end of the request's path. */
  path: string;
  requestsPerSecond?: number;
  maxConcurrent?: number;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Waits on a timer; rejects when the signal aborts. */
export const defaultSleep: Sleep = (ms, signal) => delay(ms, undefined, signal ? { signal } : {});

/**
 * Token bucket with reservations: a caller takes a token even when none is left and is told
 * how long to wait for it, so concurrent callers queue in arrival order without polling.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    if (!(perSecond > 0)) throw new RangeError('requestsPerSecond must be greater than 0');
    if (!(burst >= 1)) throw new RangeError('burst must be at least 1');
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; returns how many ms to wait before using it (0: go now). */
  reserve(now: number): number {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
      this.last = now;
    }
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }

  /** Gives back a reservation that was not used (its waiter was aborted). */
  refund(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A counting semaphore with a FIFO queue; aborted waiters leave the queue. */
export class Semaphore {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('maxConcurrentPerHost must be at least 1');
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i !== -1) this.queue.splice(i, 1);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
    });
  }

  /** Hands the slot straight to the next waiter, so a newcomer cannot overtake the queue. */
  release(): void {
    const next = this.queue.shift();
    if (next) {
      if (next.signal && next.onAbort) next.signal.removeEventListener('abort', next.onAbort);
      next.resolve();
      return;
    }
    if (this.active > 0) this.active--;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

/** One limit: a rate and a concurrency cap, either optional. */
class Limit {
  readonly bucket: TokenBucket | undefined;
  readonly semaphore: Semaphore | undefined;

  constructor(perSecond: number | undefined, burst: number, concurrent: number | undefined, now: number) {
    this.bucket = perSecond === undefined ? undefined : new TokenBucket(perSecond, burst, now);
    this.semaphore = concurrent === undefined ? undefined : new Semaphore(concurrent);
  }
}

/**
 * The budget a client enforces: call `acquire` before an attempt, `release` after its body is
 * read. One budget may be shared by every client of a run (`createHttpClient({budget})` with an
 * instance), so that streams read one after another or side by side draw on one allowance.
 */
export class RequestBudget {
  private readonly overall: TokenBucket | undefined;
  private readonly hosts = new Map<string, Semaphore>();
  private readonly endpoints: Array<{ segments: string[]; limit: Limit }>;

  constructor(
    private readonly options: BudgetOptions,
    private readonly now: () => number,
    private readonly sleep: Sleep,
  ) {
    this.overall =
      options.requestsPerSecond === undefined ? undefined : new TokenBucket(options.requestsPerSecond, options.burst ?? 1, now());
    const limit = options.maxConcurrentPerHost;
    // Checked here so a bad declaration fails when the client is built, not on the first request.
    if (limit !== undefined && !(limit >= 1)) throw new RangeError('maxConcurrentPerHost must be at least 1');
    this.endpoints = (options.endpoints ?? []).map((e) => ({
      segments: pathSegments(e.path),
      limit: new Limit(e.requestsPerSecond, 1, e.maxConcurrent, now()),
    }));
  }

  /**
   * Waits for the concurrency slots first (the host's, then the endpoint's), then for the rate
   * tokens while holding them: taking a token first would let queued callers start together
   * once slots free up, a burst. `path` is the request's path without its query.
   */
  async acquire(host: string, signal?: AbortSignal, path = ''): Promise<void> {
    const semaphores: Semaphore[] = [];
    const buckets: TokenBucket[] = [];
    const hostSemaphore = this.semaphoreFor(host);
    if (hostSemaphore) semaphores.push(hostSemaphore);
    if (this.overall) buckets.push(this.overall);
    for (const endpoint of this.matching(path)) {
      if (endpoint.semaphore) semaphores.push(endpoint.semaphore);
      if (endpoint.bucket) buckets.push(endpoint.bucket);
    }
    const held: Semaphore[] = [];
    try {
      for (const semaphore of semaphores) {
        await semaphore.acquire(signal);
        held.push(semaphore);
      }
    } catch (err) {
      for (const semaphore of held) semaphore.release();
      throw err;
    }
    if (buckets.length === 0) return;
    const now = this.now();
    // Every bucket is reserved at once: the request waits for the slowest of them.
    const wait = Math.max(...buckets.map((b) => b.reserve(now)));
    if (wait === 0) return;
    try {
      await this.sleep(wait, signal);
    } catch (err) {
      for (const bucket of buckets) bucket.refund();
      for (const semaphore of held) semaphore.release();
      throw err;
    }
  }

  release(host: string, path = ''): void {
    this.hosts.get(host)?.release();
    for (const endpoint of this.matching(path)) endpoint.semaphore?.release();
  }

  /** In-flight requests for a host (for tests and progress). */
  inFlight(host: string): number {
    return this.hosts.get(host)?.inUse ?? 0;
  }

  private matching(path: string): Limit[] {
    if (this.endpoints.length === 0) return [];
    const segments = pathSegments(path);
    return this.endpoints.filter((e) => endsWith(segments, e.segments)).map((e) => e.limit);
  }

  private semaphoreFor(host: string): Semaphore | undefined {
    const limit = this.options.maxConcurrentPerHost;
    if (limit === undefined) return undefined;
    let semaphore = this.hosts.get(host);
    if (!semaphore) {
      semaphore = new Semaphore(limit);
      this.hosts.set(host, semaphore);
    }
    return semaphore;
  }
}

function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Whether a path ends with a pattern's segments, `*` matching any one. */
function endsWith(segments: readonly string[], pattern: readonly string[]): boolean {
  if (pattern.length > segments.length) return false;
  const offset = segments.length - pattern.length;
  return pattern.every((p, i) => p === '*' || p === segments[offset + i]);
}
