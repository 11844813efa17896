import type pg from 'pg';
import { PostgresSession } from './postgres-connection.js';
import type { CommitChanges } from './change-count.js';
import { loadSegment } from './postgres-copy.js';
import { DELETED_COLUMN, ensureTable, lockSchemaDdl, prepareSchema, TABLE_VERSION_COLUMN, VERSION_COLUMN, type TableShape } from './postgres-ddl.js';
import { quoteIdentifier } from './postgres-names.js';
import type { StreamBatch } from './postgres-rows.js';
import { trimStateHistory } from './postgres-history.js';
import { readStateText, writeStateText } from './postgres-state.js';
import { StateTrimSchedule } from './history.js';
import { castFor, utcInstant } from './postgres-types.js';
import type { PostgresLocation } from './postgres-url.js';

/**
 * The database side of the PostgreSQL target: every operation one transaction, in the order
 * called. It takes and gives plain data (batches of COPY text, state as JSON text), so it can
 * run on the target's thread or on a writer thread of its own (postgres-worker.ts).
 */

/**
 * The bounds of a reconciling full read (the loader's ActivationGuard): rows it did not see are
 * retired only when they are at most `maxShare` of the live rows, and never a row whose version
 * is at or after `since` (changed during the read, by a webhook say).
 */
export interface RetireGuard {
  maxShare: number;
  since: string;
}

export interface StoreOptions {
  location: PostgresLocation;
  stateId: string;
  /** Waits between attempts of a transaction that failed with the connection. */
  retryDelaysMs?: readonly number[];
  /** A counting run (change-count.ts): `write` returns what its upserts found. */
  countChanges?: boolean;
}

/** What the target asks of its store, on this thread or another. */
export interface PostgresStoreHandle {
  /** Prepares the schema; returns the stored state of the state id, as JSON text. */
  open(): Promise<string | undefined>;
  /**
   * One commit: tables brought up to date, the batches' rows, and the state (JSON text) covering
   * them. A counting store returns what the commit found over stored rows, by stream.
   */
  write(batches: readonly StreamBatch[], state: string | undefined): Promise<CommitChanges | undefined>;
  /** ACTIVATE_VERSION: rows of older table versions get `_sdc_deleted_at` (within the guard's bounds). */
  retire(batch: StreamBatch, version: number, guard: RetireGuard | undefined): Promise<void>;
  writeState(state: string | undefined): Promise<void>;
  close(): Promise<void>;
}

export class PostgresStore implements PostgresStoreHandle {
  private readonly session: PostgresSession;
  /** Tables as last brought up to date, with the plan revision they were made for. */
  private readonly shapes = new Map<string, { revision: number; shape: TableShape }>();
  /**
   * Streams whose stored rows stopped a straight COPY: their segments are staged from then on
   * rather than tried twice (an incremental run mostly updates rows that exist).
   */
  private readonly updating = new Set<string>();
  private readonly schema: string;
  /** The state history is bounded by the writers of state, in the transaction that writes it. */
  private readonly trims = new StateTrimSchedule();

  constructor(
    private readonly options: StoreOptions,
    private readonly warn: (message: string) => void,
  ) {
    this.schema = options.location.schema;
    this.session = new PostgresSession({
      location: options.location,
      applicationName: 'sync',
      warn,
      ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
    });
  }

  private get description(): string {
    return this.options.location.description;
  }

  open(): Promise<string | undefined> {
    return this.session.transaction(`opening ${this.description}`, async (client) => {
      await lockSchemaDdl(client, this.schema);
      await prepareSchema(client, this.schema);
      return readStateText(client, this.schema, this.options.stateId);
    });
  }

  async write(batches: readonly StreamBatch[], state: string | undefined): Promise<CommitChanges | undefined> {
    const { shapes: made, changes } = await this.session.transaction(`writing to ${this.description}`, async (client) => {
      const shapes = await this.shapesFor(client, batches);
      // Made afresh by each attempt: a transaction tried again counts its rows once.
      const changes: CommitChanges | undefined = this.options.countChanges ? {} : undefined;
      let staged = 0;
      for (const batch of batches) {
        const shape = shapes.get(batch.plan.stream) as TableShape;
        const stream = batch.plan.stream;
        for (const segment of batch.segments) {
          const options = { stage: `_sync_stage_${++staged}`, stream, straight: !this.updating.has(stream), ...(changes ? { changes } : {}) };
          if ((await loadSegment(client, shape, segment, options)) === 'conflict') this.updating.add(stream);
        }
      }
      if (state !== undefined) await this.storeState(client, state);
      return { shapes, changes };
    });
    // Only now: a transaction that failed has changed nothing, here or in the database.
    this.remember(batches, made);
    return changes;
  }

  async retire(batch: StreamBatch, version: number, guard: RetireGuard | undefined): Promise<void> {
    const stream = batch.plan.stream;
    const made = await this.session.transaction(`retiring old versions of stream "${stream}" in ${this.description}`, async (client) => {
      const shapes = await this.shapesFor(client, [batch]);
      const shape = shapes.get(stream) as TableShape;
      const deletedAt = shape.columns.get(DELETED_COLUMN);
      if (shape.tableVersionType === undefined || deletedAt === undefined) return shapes;
      const deleted = quoteIdentifier(deletedAt.name);
      let where = `${quoteIdentifier(TABLE_VERSION_COLUMN)} < $1 AND ${deleted} IS NULL`;
      const params: Array<string | number> = [version];
      if (guard !== undefined && shape.versionType === 'text') {
        // A row whose version is at or after the read's start changed during the read (a webhook
        // wrote or created it): it exists, whatever the read saw.
        const v = quoteIdentifier(VERSION_COLUMN);
        where += ` AND (${v} IS NULL OR ${v} < $2)`;
        params.push(utcInstant(guard.since) ?? guard.since);
      }
      if (guard !== undefined) {
        const { rows } = await client.query<{ retire: string; live: string }>(
          `SELECT count(*) FILTER (WHERE ${where})::text AS retire, count(*) FILTER (WHERE ${deleted} IS NULL)::text AS live FROM ${shape.table}`,
          params,
        );
        const retire = Number(rows[0]?.retire ?? 0);
        const live = Number(rows[0]?.live ?? 0);
        if (retire > 0 && retire > guard.maxShare * live) {
          this.warn(
            `stream "${stream}": the full read did not see ${retire} of ${live} rows, more than ${Math.round(guard.maxShare * 100)}% of the table; ` +
              "nothing is marked deleted (a partial answer from the source must not wipe the table). If the deletions are real, raise the stream's limit or run --full-refresh again",
          );
          return shapes;
        }
      }
      const now = `$${params.length + 1}::text`;
      await client.query(`UPDATE ${shape.table} SET ${deleted} = ${castFor(now, 'text', deletedAt.type)} WHERE ${where}`, [...params, new Date().toISOString()]);
      return shapes;
    });
    this.remember([batch], made);
  }

  writeState(state: string | undefined): Promise<void> {
    return this.session.transaction(`writing the state of ${this.options.stateId} to ${this.description}`, (client) =>
      state === undefined ? writeStateText(client, this.schema, this.options.stateId, undefined) : this.storeState(client, state),
    );
  }

  /** The state row (its snapshot added by the trigger), and at the first state write, then once a minute, the history trimmed. */
  private async storeState(client: pg.Client, state: string): Promise<void> {
    await writeStateText(client, this.schema, this.options.stateId, state);
    const now = Date.now();
    if (this.trims.due(now)) await trimStateHistory(client, this.schema, this.options.stateId, now);
  }

  close(): Promise<void> {
    return this.session.close();
  }

  private remember(batches: readonly StreamBatch[], made: ReadonlyMap<string, TableShape>): void {
    for (const batch of batches) {
      const shape = made.get(batch.plan.stream);
      if (shape) this.shapes.set(batch.plan.stream, { revision: batch.revision, shape });
    }
  }

  /** The tables of these batches, brought up to date where their plan changed (under the schema's DDL lock). */
  private async shapesFor(client: pg.Client, batches: readonly StreamBatch[]): Promise<Map<string, TableShape>> {
    const shapes = new Map<string, TableShape>();
    let locked = false;
    for (const batch of batches) {
      const known = this.shapes.get(batch.plan.stream);
      if (known && known.revision === batch.revision) {
        shapes.set(batch.plan.stream, known.shape);
        continue;
      }
      if (!locked) {
        await lockSchemaDdl(client, this.schema);
        locked = true;
      }
      shapes.set(batch.plan.stream, await ensureTable(client, this.schema, batch.plan));
    }
    return shapes;
  }
}
