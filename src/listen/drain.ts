import type { Logger } from '../log.js';
import { Loader } from '../targets/loader.js';
import type { Target } from '../targets/target.js';
import type { ConnectorBatch, DrainHistory } from './drain-history.js';
import type { StoredDelivery } from './journal.js';
import type { DrainJournal } from './journal-store.js';
import { FetchBackError, mapDeliveries, type MappingResult, type WebhookMapper } from './mapping.js';

/**
 * The drain: takes deliveries from the journal, maps them into records, writes them to the
 * target in batches, and marks them done only after the target committed (at-least-once;
 * keyed targets upsert, newest version wins, so a repeat changes nothing). A delivery whose
 * mapping fails becomes a dead letter with its error and the drain goes on. When the target
 * fails nothing is marked: the same deliveries are tried again, from the journal.
 */

export interface DrainOptions {
  /** Where deliveries are claimed and settled; several drains may share a PostgreSQL journal. */
  journal: DrainJournal;
  /** By connector name. */
  mappers: ReadonlyMap<string, WebhookMapper>;
  openTarget: () => Promise<Target>;
  log: Logger;
  /** Deliveries per target commit. */
  batchSize: number;
  /** Where batches are recorded in the target's run history (none for `sync inbox replay`). */
  history?: DrainHistory | undefined;
}

export interface DrainCounts {
  /** Deliveries whose records were committed. */
  done: number;
  dead: number;
  /** Records committed, by stream. */
  records: Map<string, number>;
}

export class Drain {
  readonly counts: DrainCounts = { done: 0, dead: 0, records: new Map() };
  private target: Target | undefined;
  private loader: Loader | undefined;
  private opened = new Set<string>();
  /** Ends requests that fetch objects back when the drain closes. */
  private readonly abort = new AbortController();

  constructor(private readonly options: DrainOptions) {}

  /** Deliveries per step at most. */
  get batchSize(): number {
    return this.options.batchSize;
  }

  /** Handles the next batch of pending deliveries; returns how many were settled (0: none waiting). */
  async step(): Promise<number> {
    const entries = await this.options.journal.claim([...this.options.mappers.keys()], this.options.batchSize);
    if (entries.length === 0) return 0;
    try {
      await this.process(entries);
    } catch (err) {
      // Pending again, for this drain's next attempt or another drain.
      await this.options.journal.release().catch(() => undefined);
      throw err;
    }
    return entries.length;
  }

  /** Maps, writes and commits these deliveries, then settles them. Throws (settling nothing) when the target fails. */
  async process(entries: readonly StoredDelivery[]): Promise<void> {
    const started = Date.now();
    const { history } = this.options;
    try {
      const batches = await this.write(entries);
      history?.settled(started, batches);
    } catch (err) {
      history?.failed(started, new Set(entries.map((e) => e.connector)), err);
      throw err;
    }
  }

  /** Writes the history rows that are due; never throws. */
  async recordHistory(): Promise<void> {
    await this.options.history?.flush();
  }

  /** `process` without the history: what each connector's deliveries became. */
  private async write(entries: readonly StoredDelivery[]): Promise<Map<string, ConnectorBatch>> {
    const done: number[] = [];
    const dead: Array<{ seq: number; error: string; entry: StoredDelivery }> = [];
    const counted = new Map<string, number>();
    const batches = new Map<string, ConnectorBatch>();
    const batchOf = (connector: string): ConnectorBatch => {
      let batch = batches.get(connector);
      if (batch === undefined) batches.set(connector, (batch = { deliveries: 0, dead: 0, records: new Map() }));
      return batch;
    };
    let loader: Loader | undefined;
    try {
      // Objects that thin events name are fetched first; when the source cannot answer, nothing is settled.
      const results = await mapDeliveries(entries, this.options.mappers, { log: this.options.log, signal: this.abort.signal });
      for (const entry of entries) {
        const mapper = this.options.mappers.get(entry.connector);
        const result = results.get(entry.seq) as MappingResult;
        const batch = batchOf(entry.connector);
        if (!result.ok) {
          dead.push({ seq: entry.seq, error: result.error, entry });
          batch.dead++;
          continue;
        }
        loader ??= await this.ensureLoader();
        for (const record of result.records) {
          if (!this.opened.has(record.stream)) {
            const schema = mapper?.schemaFor(record.stream);
            if (schema) await loader.handle(schema);
            this.opened.add(record.stream);
          }
          const pending = loader.handle(record);
          if (pending) await pending;
          counted.set(record.stream, (counted.get(record.stream) ?? 0) + 1);
          batch.records.set(record.stream, (batch.records.get(record.stream) ?? 0) + 1);
        }
        batch.deliveries++;
        done.push(entry.seq);
      }
      if (loader) await loader.commit();
    } catch (err) {
      // A failed commit leaves the loader unusable; the next attempt starts with a fresh target.
      await this.reset();
      throw err;
    }
    await this.options.journal.settle(
      done,
      dead.map(({ seq, error }) => ({ seq, error })),
    );
    this.counts.done += done.length;
    this.counts.dead += dead.length;
    for (const [stream, n] of counted) this.counts.records.set(stream, (this.counts.records.get(stream) ?? 0) + n);
    for (const d of dead) {
      this.options.log.warn(`${d.entry.connector} delivery ${d.entry.deliveryId} is a dead letter: ${d.error}`, {
        connector: d.entry.connector,
        event: d.entry.event ?? undefined,
        id: d.entry.deliveryId,
      });
    }
    return batches;
  }

  /** Commits nothing more; closes the target, then records what the history has not yet been told. */
  async close(): Promise<void> {
    this.abort.abort();
    const target = this.target;
    this.target = undefined;
    this.loader = undefined;
    try {
      if (target) await target.close();
    } finally {
      await this.options.history?.flush(true);
    }
  }

  private async ensureLoader(): Promise<Loader> {
    if (this.loader) return this.loader;
    const target = await this.options.openTarget();
    this.target = target;
    this.opened = new Set();
    this.loader = new Loader(target, {
      // Records were checked against their schema by the mapper, all of a delivery or none.
      validate: false,
      batchRecords: 50_000,
      maxBatchAgeMs: 5_000,
      warn: (m) => this.options.log.warn(m),
    });
    return this.loader;
  }

  private async reset(): Promise<void> {
    const target = this.target;
    this.target = undefined;
    this.loader = undefined;
    if (target) await Promise.resolve(target.close()).catch(() => undefined);
  }
}

/**
 * Runs a drain until stopped: waits for a wake-up (a new delivery) or a poll interval when
 * idle, backs off while the target fails, and on stop drains what is pending (up to a
 * deadline) before closing the target. Under a steady stream of deliveries it lets the next
 * batch gather for `gatherMs` after a partial one: a lone delivery is written at once, but
 * under load a few larger commits cost the target (and the CPU the listener shares) far
 * less than one small commit per wake-up.
 */
export class DrainLoop {
  private wakeUp: (() => void) | undefined;
  private stopAt: number | undefined;
  private failing = false;

  constructor(
    private readonly drain: Drain,
    private readonly log: Logger,
    private readonly targetName: string,
    private readonly pollMs = 1_000,
    private readonly gatherMs = 25,
  ) {}

  wake(): void {
    this.wakeUp?.();
  }

  /** Asks the loop to finish: drain what is pending, but give up at the deadline. */
  stop(deadlineMs: number): void {
    this.stopAt = Date.now() + deadlineMs;
    this.wake();
  }

  async run(): Promise<void> {
    let backoff = 50;
    try {
      for (;;) {
        if (this.stopAt !== undefined && Date.now() >= this.stopAt) return;
        // Cheap unless a connector's history row is due (at most once a minute each).
        await this.drain.recordHistory();
        let settled: number;
        try {
          settled = await this.drain.step();
        } catch (err) {
          if (!this.failing) {
            this.failing = true;
            const what = err instanceof FetchBackError ? 'the source' : this.targetName;
            this.log.warn(`${what} is unavailable (${(err as Error).message}); deliveries wait in the journal, retrying`);
          }
          backoff = Math.min(backoff * 2, 2_000);
          // New deliveries do not cut the back-off short: the target sets the pace now.
          await this.sleep(backoff, false);
          continue;
        }
        if (this.failing) {
          this.failing = false;
          this.log.info('deliveries are being written again');
        }
        backoff = 50;
        if (settled > 0) {
          if (settled < this.drain.batchSize && this.stopAt === undefined) await this.sleep(this.gatherMs, false);
          continue;
        }
        if (this.stopAt !== undefined) return;
        await this.sleep(this.pollMs, true);
      }
    } finally {
      await this.drain.close().catch((err: unknown) => this.log.warn(`closing ${this.targetName} failed: ${(err as Error).message}`));
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (wakeable) this.wakeUp = done;
    });
  }
}
