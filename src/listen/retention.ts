import type { Logger } from '../log.js';
import { formatInstant } from '../protocol/instant.js';
import type { PruneOptions } from './journal-store.js';

/**
 * Journal retention: done deliveries older than the retention are deleted now and then, in
 * small batches with a turn of the event loop between them, so appends (on the same thread)
 * never wait for more than one short batch. Dead letters and pending deliveries are kept.
 *
 * The retention must outlast every sender's retry horizon (Stripe 3 d, Standard Webhooks
 * ~75.5 h, ...): deduplication is the journal's row, so a delivery id pruned and then sent
 * again is stored, and processed, again (harmless: records upsert, newest version wins).
 */

export interface RetentionOptions {
  /** Done deliveries received longer ago than this are deleted. */
  olderThanMs: number;
  /** How often to look. */
  everyMs: number;
  /** Deliveries per delete transaction. */
  batch: number;
  log: Logger;
}

export const DEFAULT_RETAIN = '7d';
/** The longest retry horizon among the senders we know (Standard Webhooks, about 75.5 h), rounded up. */
export const LONGEST_RETRY_HORIZON_MS = 76 * 3_600_000;

/**
 * The warning for a retention (`--retain`, `inbox prune --older-than`) shorter than senders
 * retry, or undefined: a redelivery after its entry is gone is stored and processed again.
 */
export function retryHorizonWarning(flag: string, text: string, ms: number): string | undefined {
  if (ms >= LONGEST_RETRY_HORIZON_MS) return undefined;
  return `${flag} ${text} is shorter than some senders retry (Stripe 3 days, Standard Webhooks ~76 hours): a retry arriving after its delivery was pruned is stored and processed again`;
}
export const RETENTION_EVERY_MS = 5 * 60_000;
export const RETENTION_BATCH = 500;

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private stopped = false;
  /** Deliveries deleted so far. */
  pruned = 0;

  constructor(
    /** The SQLite journal on its thread, or any journal store. */
    private readonly journal: { prune(options: PruneOptions): number | Promise<number> },
    private readonly options: RetentionOptions,
  ) {}

  /** Sweeps soon after start, then every `everyMs`; the timer never keeps the process alive. */
  start(firstAfterMs = Math.min(10_000, this.options.everyMs)): void {
    const schedule = (ms: number): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.sweep().finally(() => schedule(this.options.everyMs));
      }, ms);
      this.timer.unref();
    };
    schedule(firstAfterMs);
  }

  /** No more sweeps; resolves when a sweep under way has stopped (after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
  }

  /** Deletes every done delivery older than the retention, batch by batch; returns how many. */
  sweep(now = Date.now()): Promise<number> {
    this.sweeping ??= this.run(now).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async run(now: number): Promise<number> {
    const before = formatInstant((now - this.options.olderThanMs) * 1000);
    let total = 0;
    try {
      for (;;) {
        const n = await this.journal.prune({ before, status: 'done', limit: this.options.batch });
        total += n;
        if (n < this.options.batch || this.stopped) break;
        // Let appends waiting on this thread go first.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      // Busy or failing journal: the next sweep tries again; appends report their own failures.
      this.options.log.warn(`journal retention: pruning failed (${(err as Error).message}); trying again later`);
    }
    this.pruned += total;
    if (total > 0) this.options.log.info(`journal retention: deleted ${total} done ${total === 1 ? 'delivery' : 'deliveries'} received before ${before}`);
    return total;
  }
}

/** A duration such as 90s, 30m, 2h, 7d (or 1w), in milliseconds; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const ms = Number(m[1]) * unit * 1000;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
