import { SyncError } from '../errors.js';
import { scrubSecrets } from '../http/redact.js';
import type { Logger } from '../log.js';
import { openHistory, type RunRecord } from '../targets/history.js';
import { isBusy } from '../targets/sqlite-commit.js';
import { describeTarget, type TargetSpec } from '../targets/spec.js';

/**
 * The drain's rows in the target's run history (`kind` drain, beside `sync run`'s rows):
 * deliveries written, records per stream, dead letters, start and end, outcome. Under load the
 * drain commits many small batches a second, so batches are not one row each: a connector's
 * batches are summed into one row, written at once after a quiet spell and then at most once
 * per DRAIN_RECORD_EVERY_MS, and whatever is left when the drain stops. Recording never stands
 * in the way of the drain: a failure is a warning, and the counts wait for the next attempt.
 */

/** The state id the drain's target is opened with; its history rows carry it too. */
export const DRAIN_STATE_ID = 'listen';
/** At most one history row per connector this often. */
export const DRAIN_RECORD_EVERY_MS = 60_000;

/** What one batch did for one connector. */
export interface ConnectorBatch {
  /** Deliveries whose records were committed. */
  deliveries: number;
  dead: number;
  records: Map<string, number>;
}

/** One connector's batches since its last row. */
interface OpenRow {
  startedAt: number;
  endedAt: number;
  deliveries: number;
  dead: number;
  records: Map<string, number>;
  /** Of the last batch: 0 when it was committed. */
  exitCode: number;
  error: string | null;
}

export interface DrainHistoryOptions {
  spec: TargetSpec;
  log: Logger;
  /** Scrubbed from the error lines kept. */
  secrets: readonly string[];
  everyMs?: number;
}

/** Longest error line kept, as for runs. */
const MAX_ERROR_CHARS = 1_000;

export class DrainHistory {
  private readonly open = new Map<string, OpenRow>();
  private readonly recordedAt = new Map<string, number>();
  /** Set after a failed recording: one warning until recording works again. */
  private failing = false;

  constructor(private readonly options: DrainHistoryOptions) {}

  /** A batch was committed and settled: its counts join each connector's open row, whose outcome is now success. */
  settled(startedAt: number, batches: ReadonlyMap<string, ConnectorBatch>): void {
    const endedAt = Date.now();
    for (const [connector, batch] of batches) {
      const row = this.rowOf(connector, startedAt, endedAt);
      row.deliveries += batch.deliveries;
      row.dead += batch.dead;
      for (const [stream, n] of batch.records) row.records.set(stream, (row.records.get(stream) ?? 0) + n);
      row.exitCode = 0;
      row.error = null;
    }
  }

  /** A batch failed and settled nothing: each connector's open row now says so, with the error. */
  failed(startedAt: number, connectors: Iterable<string>, err: unknown): void {
    const endedAt = Date.now();
    const error = this.errorLine(err);
    for (const connector of connectors) {
      const row = this.rowOf(connector, startedAt, endedAt);
      row.exitCode = err instanceof SyncError ? err.exitCode : 1;
      row.error = error;
    }
  }

  /** Writes the rows that are due (`all`: every open one, when the drain stops). Never throws. */
  async flush(all = false): Promise<void> {
    const now = Date.now();
    const every = this.options.everyMs ?? DRAIN_RECORD_EVERY_MS;
    const due = [...this.open.keys()].filter((c) => all || now - (this.recordedAt.get(c) ?? Number.NEGATIVE_INFINITY) >= every);
    if (due.length === 0) return;
    for (const connector of due) this.recordedAt.set(connector, now);
    try {
      const history = await openHistory(this.options.spec, 'write');
      try {
        for (const connector of due) {
          const row = this.open.get(connector) as OpenRow;
          // A target that keeps no history (stdout) or does not exist yet: nowhere to record it.
          if (history !== undefined) await history.recordRun(this.recordOf(connector, row));
          this.open.delete(connector);
        }
      } finally {
        await history?.close();
      }
      if (this.failing) this.options.log.info(`the drain's batches are added to the run history of ${describeTarget(this.options.spec)} again`);
      this.failing = false;
    } catch (err) {
      // The counts stay open and are written with the next row.
      if (this.failing) return;
      this.failing = true;
      const why = isBusy(err) ? 'the database stayed locked by another writer' : (err as Error).message;
      this.options.log.warn(`the drain's batches were not added to the run history of ${describeTarget(this.options.spec)}: ${why}; the deliveries are written all the same`);
    }
  }

  private rowOf(connector: string, startedAt: number, endedAt: number): OpenRow {
    let row = this.open.get(connector);
    if (row === undefined) this.open.set(connector, (row = { startedAt, endedAt, deliveries: 0, dead: 0, records: new Map(), exitCode: 0, error: null }));
    row.endedAt = endedAt;
    return row;
  }

  private recordOf(connector: string, row: OpenRow): RunRecord {
    return {
      kind: 'drain',
      connector,
      stateId: DRAIN_STATE_ID,
      startedAt: new Date(row.startedAt).toISOString(),
      endedAt: new Date(row.endedAt).toISOString(),
      exitCode: row.exitCode,
      records: Object.fromEntries(row.records),
      error: row.error,
      bookmarksBefore: {},
      bookmarksAfter: {},
      deliveries: row.deliveries,
      dead: row.dead,
    };
  }

  /** The error as one line, scrubbed of every secret the listener knows. */
  private errorLine(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    const line = scrubSecrets(message, this.options.secrets, '********').replace(/\s*\n\s*/g, ' ').trim();
    return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
  }
}
