import { messageOf } from '../errors.js';
import type { AppendOutcome, NewDelivery } from './journal.js';

/**
 * Group commit in front of the journal. Deliveries whose bodies complete while a commit is
 * running wait in a queue and are written together by the next one, so one fsync covers
 * many deliveries and durability does not cap throughput. The queue is bounded: past it the
 * listener answers 503 rather than buffering without limit. One commit runs at a time, on the
 * journal's own thread in `sync listen` (journal-thread.ts) or on this one (tests): a delivery's
 * promise resolves only after the commit holding it returned, i.e. after its fsync.
 */

export interface WriterLimits {
  /** Deliveries waiting for a commit. */
  maxQueued: number;
  /** Body bytes waiting for a commit. */
  maxQueuedBytes: number;
  /**
   * After a failed commit the journal counts as unavailable until it takes a write again:
   * deliveries are refused at once (the HTTP thread must not queue them behind a locked or
   * broken journal) and readiness says so. Meanwhile the journal is tried every `recheckMs`
   * (its write lock taken and released), so it becomes available again without a delivery
   * having to risk it: a sender told "not ready" may never send one.
   */
  recheckMs: number;
  /**
   * Commits running at once (default 1). A journal on a server (PostgreSQL) waits mostly for
   * the server's flush: a second commit on another connection overlaps that wait.
   */
  commitsInFlight?: number;
}

/** The journal cannot take a delivery now (full queue, full disk, I/O error): answer 503. */
export class JournalUnavailable extends Error {
  override name = 'JournalUnavailable';
  constructor(
    message: string,
    /** True when the disk is full. */
    readonly diskFull: boolean,
  ) {
    super(message);
  }
}

interface Waiting {
  entry: NewDelivery;
  resolve: (outcome: AppendOutcome) => void;
  reject: (err: Error) => void;
}

/**
 * Where a batch is committed: the journal itself on this thread (tests, `inline`), or the
 * journal thread (journal-thread.ts), whose promise resolves once the batch is durable.
 */
export interface JournalSink {
  /**
   * Commits the entries in one transaction; one outcome each, in order. Throws or rejects when
   * nothing was stored. With no entries it only takes the write lock and lets it go: whether
   * a write would succeed now.
   */
  append(entries: readonly NewDelivery[]): AppendOutcome[] | Promise<AppendOutcome[]>;
}

export class JournalWriter {
  private queue: Waiting[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  /** Commits running (on the journal thread, or the server); the queue gathers the next batch meanwhile. */
  private committing = 0;
  private idleWaiters: Array<() => void> = [];
  /** Set by a failed commit, cleared by the next write that succeeds (a commit or a recheck). */
  private failure: JournalUnavailable | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private closed = false;
  commits = 0;

  constructor(
    private readonly sink: JournalSink,
    private readonly limits: WriterLimits,
    /** Called after each successful commit that stored something new. */
    private readonly onStored: () => void = () => {},
    /** Called when a recheck finds the journal still unwritable (a debug line: the listener is not stuck, it keeps trying). */
    private readonly onStillUnavailable: (failure: JournalUnavailable) => void = () => {},
  ) {}

  /** Resolves once the delivery is on disk (or known); rejects with JournalUnavailable. */
  append(entry: NewDelivery): Promise<AppendOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length >= this.limits.maxQueued || this.queuedBytes + entry.body.length > this.limits.maxQueuedBytes) {
      return Promise.reject(new JournalUnavailable(QUEUE_FULL, false));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.queuedBytes += entry.body.length;
      if (!this.scheduled && this.committing < this.maxCommitting) {
        this.scheduled = true;
        // After the current I/O phase: every body completed meanwhile joins this commit.
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Why a delivery appended now would be refused, or undefined when it would be taken: the
   * journal failed and has not taken a write since, or the queue is full. Readiness asks this
   * too, so /readyz and deliveries never disagree.
   */
  unavailable(): string | undefined {
    if (this.failure) return this.failure.message;
    if (this.queue.length >= this.limits.maxQueued || this.queuedBytes >= this.limits.maxQueuedBytes) return QUEUE_FULL;
    return undefined;
  }

  /** Resolves when nothing is waiting for a commit (in-flight writes finished). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.scheduled && this.committing === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** No more rechecks: the journal is about to close. */
  close(): void {
    this.closed = true;
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
  }

  get queued(): number {
    return this.queue.length;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.committing >= this.maxCommitting) return;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (batch.length === 0) return this.notifyIdle();
    let result: AppendOutcome[] | Promise<AppendOutcome[]>;
    try {
      result = this.sink.append(batch.map((w) => w.entry));
    } catch (err) {
      this.failed(batch, err);
      return this.next();
    }
    if (Array.isArray(result)) {
      this.succeeded(batch, result);
      return this.next();
    }
    // Answered only from the ack: a delivery is 2xx only once the journal thread says it is durable.
    this.committing++;
    result.then(
      (outcomes) => {
        this.committing--;
        this.succeeded(batch, outcomes);
        this.next();
      },
      (err: unknown) => {
        this.committing--;
        this.failed(batch, err);
        this.next();
      },
    );
  }

  /** After a commit: what gathered meanwhile is the next batch (at once: it has waited a commit already). */
  private next(): void {
    if (this.queue.length > 0) {
      if (!this.scheduled) this.flush();
    } else if (!this.scheduled && this.committing === 0) {
      this.notifyIdle();
    }
  }

  private get maxCommitting(): number {
    return this.limits.commitsInFlight ?? 1;
  }

  private succeeded(batch: Waiting[], outcomes: AppendOutcome[]): void {
    this.failure = undefined;
    this.commits++;
    batch.forEach((w, i) => w.resolve(outcomes[i] ?? 'stored'));
    if (outcomes.includes('stored')) this.onStored();
  }

  private failed(batch: Waiting[], err: unknown): void {
    const failure = classify(err);
    this.failure = failure;
    for (const w of batch) w.reject(failure);
    // What gathered during the failed commit is refused too, not tried again.
    const waiting = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const w of waiting) w.reject(failure);
    this.scheduleRecheck();
  }

  private scheduleRecheck(): void {
    if (this.closed || this.recheckTimer !== undefined) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      void this.recheck();
    }, this.limits.recheckMs);
    // Nothing to wait for once everything else has stopped.
    this.recheckTimer.unref();
  }

  /** Tries the journal's write lock while deliveries are refused: available again once it is taken. */
  private async recheck(): Promise<void> {
    if (this.closed || !this.failure) return;
    try {
      await this.sink.append([]);
      this.failure = undefined;
    } catch (err) {
      this.failure = classify(err);
      this.onStillUnavailable(this.failure);
      this.scheduleRecheck();
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

const QUEUE_FULL = 'the journal is not keeping up (write queue full)';

/** A commit failure as the listener reports it; `code` is SQLite's or the system's error code. */
export function classify(err: unknown): JournalUnavailable {
  if (err instanceof JournalUnavailable) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = messageOf(err);
  const diskFull = code === 'SQLITE_FULL' || code === 'ENOSPC' || /disk.*full|no space/i.test(message);
  return new JournalUnavailable(diskFull ? `the disk is full (${message})` : `the journal cannot be written (${code || message})`, diskFull);
}
