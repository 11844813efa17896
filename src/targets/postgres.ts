import type pg from 'pg';
import { TargetError } from '../errors.js';
import type { JsonValue } from '../protocol/json.js';
import type { RecordMessage } from '../protocol/messages.js';
import type { StreamSchema } from '../protocol/schema.js';
import { PostgresSession } from './postgres-connection.js';
import { loadSegment } from './postgres-copy.js';
import { DELETED_COLUMN, ensureTable, lockSchemaDdl, prepareSchema, TABLE_VERSION_COLUMN, type TableShape } from './postgres-ddl.js';
import { isReservedStream, quoteIdentifier } from './postgres-names.js';
import { StreamRows, type StreamBatch } from './postgres-rows.js';
import { readStateRow, writeStateRow } from './postgres-state.js';
import { castFor } from './postgres-types.js';
import type { PostgresLocation } from './postgres-url.js';
import type { Target, TargetOptions } from './target.js';

/**
 * PostgreSQL: one table per stream in the spec's schema, a column per top-level property
 * (types in postgres-types.ts), rows upserted on the key properties where the newest version
 * wins, state in `_sync_state`. Each commit is one transaction: the tables brought up to date
 * for the batch, its rows (COPY into staging, then INSERT … ON CONFLICT), and the state that
 * covers them.
 *
 * The Target interface is synchronous where the driver is not: operations are queued on one
 * connection in the order the loader makes them, so an ACTIVATE_VERSION or a table change
 * lands between the commits it came between. After a failure nothing more is written; the
 * failure is reported by the next commit (or by close). The stored state is read when the
 * target opens and then kept here, since only this target's commits change it during a run
 * (the run lock keeps other runs of the same state id away).
 */

export interface PostgresTargetOptions extends TargetOptions {
  /** Waits between attempts of a transaction that failed with the connection (tests shorten them). */
  retryDelaysMs?: readonly number[];
}

export async function openPostgresTarget(location: PostgresLocation, options: PostgresTargetOptions): Promise<PostgresTarget> {
  const session = new PostgresSession({
    location,
    applicationName: 'sync',
    warn: options.warn,
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
  });
  try {
    const state = await session.transaction(`opening ${location.description}`, async (client) => {
      await lockSchemaDdl(client, location.schema);
      await prepareSchema(client, location.schema);
      return readStateRow(client, location.schema, options.stateId);
    });
    return new PostgresTarget(location, session, state, options);
  } catch (err) {
    await session.close();
    throw err;
  }
}

export class PostgresTarget implements Target {
  readonly streaming = false;
  readonly description: string;
  private readonly streams = new Map<string, StreamRows>();
  /** Tables as last brought up to date, with the plan revision they were made for. */
  private readonly shapes = new Map<string, { revision: number; shape: TableShape }>();
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;
  /**
   * Streams whose stored rows stopped a straight COPY: their segments are staged from then on
   * rather than tried twice (an incremental run mostly updates rows that exist).
   */
  private readonly updating = new Set<string>();
  /** Characters stored as U+FFFD, by stream, in committed rows. */
  private readonly substituted = new Map<string, number>();

  constructor(
    private readonly location: PostgresLocation,
    private readonly session: PostgresSession,
    private state: JsonValue | undefined,
    private readonly options: PostgresTargetOptions,
  ) {
    this.description = location.description;
  }

  openStream(stream: StreamSchema): void {
    if (isReservedStream(stream.stream)) {
      throw new TargetError(`stream "${stream.stream}" cannot be a table: names starting with "_sync_" (in any case) are reserved for this target's own tables`);
    }
    this.streams.set(stream.stream, new StreamRows(stream, this.streams.get(stream.stream), this.options.warn));
  }

  writeRecord(stream: StreamSchema, message: RecordMessage): void {
    const rows = this.streams.get(stream.stream);
    if (!rows) throw new TargetError(`stream "${stream.stream}" was not opened`);
    rows.add(message);
  }

  bufferedBytes(): number {
    let bytes = 0;
    for (const rows of this.streams.values()) bytes += rows.bytes;
    return bytes;
  }

  commit(state: JsonValue | undefined): Promise<void> {
    const batches = this.pendingBatches();
    return this.enqueue(() => this.write(batches, state));
  }

  /**
   * Queued behind the commits before it (the loader has committed the rows of this version
   * first), as a transaction of its own: rows of older table versions get `_sdc_deleted_at`.
   */
  activateVersion(stream: StreamSchema, version: number): void {
    const rows = this.streams.get(stream.stream);
    if (!rows) return;
    rows.needDeletedAt();
    // Nothing of this stream is buffered (the loader committed first): only its table matters.
    const batch: StreamBatch = { plan: rows.plan(), revision: rows.revision, segments: [] };
    this.enqueue(() => this.retire(batch, version)).catch(() => {
      // Kept as `failure`: the next commit or close reports it.
    });
  }

  readState(): JsonValue | undefined {
    return this.state;
  }

  writeState(value: JsonValue | undefined): Promise<void> {
    return this.enqueue(async () => {
      await this.session.transaction(`writing the state of ${this.options.stateId} to ${this.description}`, (client) =>
        writeStateRow(client, this.location.schema, this.options.stateId, value),
      );
      this.state = value;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // Streams that never got a row still get their table, as a SCHEMA promises.
      const unmade = [...this.streams.values()].filter((rows) => this.shapes.get(rows.stream)?.revision !== rows.revision);
      if (unmade.length > 0 && this.failure === undefined) {
        const batches = unmade.map((rows) => ({ plan: rows.plan(), revision: rows.revision, segments: [] }));
        await this.enqueue(() => this.write(batches, undefined)).catch(() => undefined);
      }
      await this.queue;
      if (this.failure !== undefined) throw this.failure;
    } finally {
      await this.session.close();
      for (const [stream, count] of this.substituted) {
        this.options.warn(
          `stream "${stream}": ${count} ${count === 1 ? 'character' : 'characters'} PostgreSQL cannot store ` +
            `(NUL, or half of a UTF-16 surrogate pair) ${count === 1 ? 'was' : 'were'} stored as U+FFFD`,
        );
      }
    }
  }

  /** What the next commit writes: every stream with rows or with a table to bring up to date. */
  private pendingBatches(): StreamBatch[] {
    const batches: StreamBatch[] = [];
    for (const rows of this.streams.values()) {
      const stale = this.shapes.get(rows.stream)?.revision !== rows.revision;
      if (rows.bytes > 0 || stale) batches.push(rows.take());
    }
    return batches;
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => {
      if (this.failure !== undefined) throw this.failure;
      return operation();
    });
    this.queue = run.catch((err: unknown) => {
      this.failure ??= err;
    });
    return run;
  }

  private async write(batches: readonly StreamBatch[], state: JsonValue | undefined): Promise<void> {
    const made = await this.session.transaction(`writing to ${this.description}`, async (client) => {
      const shapes = await this.shapesFor(client, batches);
      let staged = 0;
      for (const batch of batches) {
        const shape = shapes.get(batch.plan.stream) as TableShape;
        const stream = batch.plan.stream;
        for (const segment of batch.segments) {
          const options = { stage: `_sync_stage_${++staged}`, stream, straight: !this.updating.has(stream) };
          if ((await loadSegment(client, shape, segment, options)) === 'conflict') this.updating.add(stream);
        }
      }
      if (state !== undefined) await writeStateRow(client, this.location.schema, this.options.stateId, state);
      return shapes;
    });
    // Only now: a transaction that failed has changed nothing, here or in the database.
    for (const batch of batches) {
      const shape = made.get(batch.plan.stream);
      if (shape) this.shapes.set(batch.plan.stream, { revision: batch.revision, shape });
      const count = batch.segments.reduce((n, s) => n + s.substitutions, 0);
      if (count > 0) this.substituted.set(batch.plan.stream, (this.substituted.get(batch.plan.stream) ?? 0) + count);
    }
    if (state !== undefined) this.state = state;
  }

  private async retire(batch: StreamBatch, version: number): Promise<void> {
    const stream = batch.plan.stream;
    const made = await this.session.transaction(`retiring old versions of stream "${stream}" in ${this.description}`, async (client) => {
      const shapes = await this.shapesFor(client, [batch]);
      const shape = shapes.get(stream) as TableShape;
      const deletedAt = shape.columns.get(DELETED_COLUMN);
      if (shape.tableVersionType === undefined || deletedAt === undefined) return shapes;
      const deleted = quoteIdentifier(deletedAt.name);
      await client.query(
        `UPDATE ${shape.table} SET ${deleted} = ${castFor('$2::text', 'text', deletedAt.type)} ` +
          `WHERE ${quoteIdentifier(TABLE_VERSION_COLUMN)} < $1 AND ${deleted} IS NULL`,
        [version, new Date().toISOString()],
      );
      return shapes;
    });
    const shape = made.get(stream);
    if (shape) this.shapes.set(stream, { revision: batch.revision, shape });
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
        await lockSchemaDdl(client, this.location.schema);
        locked = true;
      }
      shapes.set(batch.plan.stream, await ensureTable(client, this.location.schema, batch.plan));
    }
    return shapes;
  }
}
