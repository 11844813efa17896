import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The inbox: every verified delivery, raw (headers, body bytes, receive time), appended
 * before the sender gets its 2xx and kept after it is processed, so it can be looked at and
 * replayed. SQLite in WAL mode with synchronous=FULL: a commit is on disk when it returns.
 * One row per (connector, sender's delivery id): a redelivery is recognised, never stored twice.
 */

export type DeliveryStatus = 'pending' | 'done' | 'dead';

export interface NewDelivery {
  connector: string;
  deliveryId: string;
  /** ISO 8601, when the last byte of the body arrived. */
  receivedAt: string;
  /** Event name for people (log lines, `sync inbox list`); null when the connector does not name one. */
  event: string | null;
  method: string;
  url: string;
  /** Lower-case names; every value the request carried, in order. */
  headers: Record<string, string[]>;
  body: Buffer;
}

export interface StoredDelivery extends NewDelivery {
  /** Order of arrival in this journal. */
  seq: number;
  status: DeliveryStatus;
  /** Why the mapping failed (dead letters), or null. */
  error: string | null;
  /** How many times the drain handled it (replays count). */
  attempts: number;
  processedAt: string | null;
}

export type AppendOutcome = 'stored' | 'duplicate';

export interface DeliveryFilter {
  connector?: string | undefined;
  /** Sender's delivery id. */
  deliveryId?: string | undefined;
  /** Received at or after this instant (ISO 8601, compared as UTC text). */
  since?: string | undefined;
  status?: DeliveryStatus | undefined;
  limit?: number | undefined;
}

/** A row of the journal's table as a driver returns it (PostgreSQL gives a bigint as text). */
export interface Row {
  seq: number | string;
  connector: string;
  delivery_id: string;
  received_at: string;
  event: string | null;
  method: string;
  url: string;
  headers: string;
  body: Buffer;
  status: DeliveryStatus;
  error: string | null;
  attempts: number;
  processed_at: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  connector TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  received_at TEXT NOT NULL,
  event TEXT,
  method TEXT NOT NULL,
  url TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  processed_at TEXT,
  UNIQUE (connector, delivery_id)
);
CREATE INDEX IF NOT EXISTS deliveries_by_status ON deliveries (status, seq);
CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries (received_at);
`;

export class Journal {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly pendingStatements = new Map<number, Database.Statement>();
  private backlogStatement: Database.Statement | undefined;
  private readonly appendAll: (entries: readonly NewDelivery[]) => AppendOutcome[];
  private readonly settleAll: (done: readonly number[], dead: ReadonlyArray<{ seq: number; error: string }>, at: string) => void;

  constructor(
    readonly path: string,
    options: { readonly?: boolean; busyTimeoutMs?: number } = {},
  ) {
    if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    // A writer waits for the other writer (listener and drain, or `sync inbox`) instead of failing.
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      // FULL: the WAL is fsynced at every commit, so a delivery is on disk before it is acknowledged.
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    }
    this.insert = this.db.prepare(
      `INSERT INTO deliveries (connector, delivery_id, received_at, event, method, url, headers, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (connector, delivery_id) DO NOTHING`,
    );
    const markDone = this.db.prepare(
      `UPDATE deliveries SET status = 'done', error = NULL, attempts = attempts + 1, processed_at = ? WHERE seq = ?`,
    );
    const markDead = this.db.prepare(
      `UPDATE deliveries SET status = 'dead', error = ?, attempts = attempts + 1, processed_at = ? WHERE seq = ?`,
    );
    const append = this.db.transaction((entries: readonly NewDelivery[]) =>
      entries.map((e): AppendOutcome => {
        const info = this.insert.run(e.connector, e.deliveryId, e.receivedAt, e.event, e.method, e.url, JSON.stringify(e.headers), e.body);
        return info.changes === 1 ? 'stored' : 'duplicate';
      }),
    );
    // IMMEDIATE: take the write lock at BEGIN, so a busy database is waited for, not an error.
    this.appendAll = (entries) => append.immediate(entries);
    const settle = this.db.transaction((done: readonly number[], dead: ReadonlyArray<{ seq: number; error: string }>, at: string) => {
      for (const seq of done) markDone.run(at, seq);
      for (const d of dead) markDead.run(d.error, at, d.seq);
    });
    this.settleAll = (done, dead, at) => settle.immediate(done, dead, at);
  }

  /** Appends deliveries in one transaction (one fsync), in order; a known delivery id is a duplicate. */
  append(entries: readonly NewDelivery[]): AppendOutcome[] {
    return this.appendAll(entries);
  }

  /**
   * Deletes up to `limit` deliveries with this status received before `before` (ISO 8601,
   * compared as UTC text), oldest first (by the received_at index, so a sweep reads only
   * what is old enough), in one short transaction; returns how many. Pending
   * deliveries are never pruned. A pruned delivery id is forgotten: the same id arriving
   * again is stored (and processed) again.
   */
  prune(options: { before: string; status: 'done' | 'dead'; limit: number; connector?: string | undefined }): number {
    const byConnector = options.connector !== undefined ? ' AND connector = ?' : '';
    const args: Array<string | number> = [options.before, options.status];
    if (options.connector !== undefined) args.push(options.connector);
    args.push(Math.max(1, Math.floor(options.limit)));
    const run = this.db.transaction(
      () =>
        this.db
          .prepare(
            `DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE received_at < ? AND status = ?${byConnector} ORDER BY received_at LIMIT ?)`,
          )
          .run(...args).changes,
    );
    return run.immediate();
  }

  /** Pending deliveries of these connectors after `afterSeq`, oldest first. */
  pending(connectors: readonly string[], afterSeq: number, limit: number): StoredDelivery[] {
    if (connectors.length === 0) return [];
    // The drain asks many times a second: one statement per number of connectors.
    let statement = this.pendingStatements.get(connectors.length);
    if (statement === undefined) {
      const marks = connectors.map(() => '?').join(', ');
      statement = this.db.prepare(`SELECT * FROM deliveries WHERE status = 'pending' AND seq > ? AND connector IN (${marks}) ORDER BY seq LIMIT ?`);
      this.pendingStatements.set(connectors.length, statement);
    }
    return (statement.all(afterSeq, ...connectors, limit) as Row[]).map(fromRow);
  }

  /** Marks deliveries processed: done after their records were committed, dead with the mapping error. */
  settle(done: readonly number[], dead: ReadonlyArray<{ seq: number; error: string }>): void {
    if (done.length === 0 && dead.length === 0) return;
    this.settleAll(done, dead, new Date().toISOString());
  }

  select(filter: DeliveryFilter): StoredDelivery[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (filter.connector !== undefined) {
      where.push('connector = ?');
      args.push(filter.connector);
    }
    if (filter.deliveryId !== undefined) {
      where.push('delivery_id = ?');
      args.push(filter.deliveryId);
    }
    if (filter.since !== undefined) {
      where.push('received_at >= ?');
      args.push(filter.since);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      args.push(filter.status);
    }
    const sql = `SELECT * FROM deliveries${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${filter.limit !== undefined ? ' LIMIT ?' : ''}`;
    if (filter.limit !== undefined) args.push(filter.limit);
    return (this.db.prepare(sql).all(...args) as Row[]).map(fromRow);
  }

  counts(): Record<DeliveryStatus, number> {
    const out: Record<DeliveryStatus, number> = { pending: 0, done: 0, dead: 0 };
    for (const r of this.db.prepare('SELECT status, count(*) AS n FROM deliveries GROUP BY status').all() as Array<{ status: DeliveryStatus; n: number }>) {
      out[r.status] = r.n;
    }
    return out;
  }

  /**
   * Pending and dead deliveries per connector, with the oldest receive time: the status index
   * is walked over those two only, never the done ones (most of the journal).
   */
  backlog(): Array<{ connector: string; status: 'pending' | 'dead'; n: number; oldest: string | null }> {
    this.backlogStatement ??= this.db.prepare(
      `SELECT connector, status, count(*) AS n, min(received_at) AS oldest
       FROM deliveries WHERE status IN ('pending', 'dead') GROUP BY connector, status`,
    );
    return this.backlogStatement.all() as Array<{ connector: string; status: 'pending' | 'dead'; n: number; oldest: string | null }>;
  }

  /** Pending deliveries of these connectors (for the shutdown summary). */
  pendingCount(connectors: readonly string[]): number {
    if (connectors.length === 0) return 0;
    const marks = connectors.map(() => '?').join(', ');
    const row = this.db.prepare(`SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND connector IN (${marks})`).get(...connectors) as { n: number };
    return row.n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function fromRow(row: Row): StoredDelivery {
  let headers: Record<string, string[]> | undefined;
  return {
    seq: Number(row.seq),
    connector: row.connector,
    deliveryId: row.delivery_id,
    receivedAt: row.received_at,
    event: row.event,
    method: row.method,
    url: row.url,
    // Read when asked for: most mappings read only the body, and the drain takes every delivery through here.
    get headers() {
      return (headers ??= JSON.parse(row.headers) as Record<string, string[]>);
    },
    body: row.body,
    status: row.status,
    error: row.error,
    attempts: row.attempts,
    processedAt: row.processed_at,
  };
}
