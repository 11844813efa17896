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
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

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

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

/** The budget one client enforces: call `acquire` before an attempt, `release` after its body is read. */
export class RequestBudget {
  private readonly bucket: TokenBucket | undefined;
  private readonly hosts = new Map<string, Semaphore>();

  constructor(
    private readonly options: BudgetOptions,
    private readonly now: () => number,
    private readonly sleep: Sleep,
  ) {
    this.bucket =
      options.requestsPerSecond === undefined ? undefined : new TokenBucket(options.requestsPerSecond, options.burst ?? 1, now());
    const limit = options.maxConcurrentPerHost;
    // Checked here so a bad declaration fails when the client is built, not on the first request.
    if (limit !== undefined && !(limit >= 1)) throw new RangeError('maxConcurrentPerHost must be at least 1');
  }

  /**
   * Waits for a concurrency slot first, then for a rate token while holding it: taking the
   * token first would let queued callers start together once slots free up, a burst.
   */
  async acquire(host: string, signal?: AbortSignal): Promise<void> {
    const semaphore = this.semaphoreFor(host);
    if (semaphore) await semaphore.acquire(signal);
    if (!this.bucket) return;
    const wait = this.bucket.reserve(this.now());
    if (wait === 0) return;
    try {
      await this.sleep(wait, signal);
    } catch (err) {
      this.bucket.refund();
      semaphore?.release();
      throw err;
    }
  }

  release(host: string): void {
    this.hosts.get(host)?.release();
  }

  /** In-flight requests for a host (for tests and progress). */
  inFlight(host: string): number {
    return this.hosts.get(host)?.inUse ?? 0;
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
