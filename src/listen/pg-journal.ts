import pg from 'pg';
import { SyncError, UsageError } from '../errors.js';
import { advisoryKey } from '../targets/postgres-lock.js';
import { scrubSecrets, type PostgresLocation } from '../targets/postgres-url.js';
import type { PgConnection } from '../targets/postgres-connection.js';
import { connectError, journalConnection } from './pg-connection.js';
import { fromRow, type AppendOutcome, type DeliveryFilter, type DeliveryStatus, type NewDelivery, type Row, type StoredDelivery } from './journal.js';
import type { BacklogRow, DeadLetter, JournalStore, OpenOptions, PruneOptions } from './journal-store.js';

/**
 * The journal in PostgreSQL: table `_sync_journal` in the URL's schema (`_sync_*` names are
 * never a stream's table), shared by any number of listener replicas and drain workers.
 * Deduplication is the table's `UNIQUE (connector, delivery_id)`, so a delivery retried to
 * another replica is known there too. An append is one INSERT (a few for large bodies), each
 * committed on its own and answered only after it returned (synchronous_commit: on, the
 * server's default, means flushed to its WAL).
 *
 * Times are kept as the same fixed-width UTC text as in SQLite, so filters and retention
 * compare them alike. PostgreSQL text cannot hold NUL: a NUL in a text column (the event name,
 * a delivery id or an error taken from a payload) is stored as U+FFFD; bodies are bytes, kept
 * exactly.
 */

export const JOURNAL_TABLE = '_sync_journal';

/**
 * Group commits at once. A commit mostly waits for the server to flush its WAL; a second one
 * on another connection overlaps that wait (and the server may flush both at once).
 */
export const APPEND_CONNECTIONS = 2;

/** A claimed batch whose worker went silent is given up by the server after this long. */
export const CLAIM_IDLE_TIMEOUT = '60s';

/** The journal's table, schema-qualified and quoted. */
export function journalTable(location: PostgresLocation): string {
  return `${quoteIdent(location.schema)}.${quoteIdent(JOURNAL_TABLE)}`;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** PostgreSQL text cannot hold NUL. */
export function withoutNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

/** Marks deliveries done or dead, on a connection inside a transaction (the caller's). */
export async function markSettled(client: pg.ClientBase, table: string, done: readonly number[], dead: readonly DeadLetter[]): Promise<void> {
  const at = new Date().toISOString();
  if (done.length > 0) {
    await client.query(`UPDATE ${table} SET status = 'done', error = NULL, attempts = attempts + 1, processed_at = $2 WHERE seq = ANY($1::bigint[])`, [done, at]);
  }
  if (dead.length > 0) {
    await client.query(
      `UPDATE ${table} AS t SET status = 'dead', error = d.error, attempts = t.attempts + 1, processed_at = $3
         FROM unnest($1::bigint[], $2::text[]) AS d(seq, error) WHERE t.seq = d.seq`,
      [dead.map((d) => d.seq), dead.map((d) => withoutNul(d.error)), at],
    );
  }
}

function ddl(table: string, schema: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${schema};
CREATE TABLE IF NOT EXISTS ${table} (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connector text NOT NULL,
  delivery_id text NOT NULL,
  received_at text NOT NULL,
  event text,
  method text NOT NULL,
  url text NOT NULL,
  headers text NOT NULL,
  body bytea NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
  error text,
  attempts integer NOT NULL DEFAULT 0,
  processed_at text,
  UNIQUE (connector, delivery_id)
);
CREATE INDEX IF NOT EXISTS ${quoteIdent(`${JOURNAL_TABLE}_by_status`)} ON ${table} (status, seq);
CREATE INDEX IF NOT EXISTS ${quoteIdent(`${JOURNAL_TABLE}_by_time`)} ON ${table} (received_at);`;
}

/**
 * Bodies travel as hex inside one parameter, and a parameter holds at most 1 GB: a group
 * commit of many large bodies is written as several statements, each committed on its own. If
 * a later one fails, the batch is answered 503 and its senders' retries of the earlier ones
 * are duplicates (200), so nothing is lost or stored twice.
 */
const PART_BYTES = 32 * 1_048_576;

function* parts(entries: readonly NewDelivery[]): Generator<readonly NewDelivery[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const size = entries[i]?.body.length ?? 0;
    if (i > start && bytes + size > PART_BYTES) {
      yield entries.slice(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  yield entries.slice(start);
}

/** SQLSTATEs of a catalog race between creators that did not take our lock (the target creating the schema, say). */
const CREATE_RACE = new Set(['23505', '42P06', '42P07']);

export async function openPostgresJournal(location: { kind: 'postgres' } & PostgresLocation, options: OpenOptions): Promise<PostgresJournal> {
  const pool = new pg.Pool({ connectionString: location.url, max: 2, application_name: 'sync journal', connectionTimeoutMillis: 15_000, keepAlive: true });
  // An idle connection that breaks is dropped by the pool; without a listener it would be an uncaught error.
  pool.on('error', () => undefined);
  const journal = new PostgresJournal(location, pool);
  try {
    await journal.prepare(options.readonly === true);
  } catch (err) {
    await journal.close();
    throw err;
  }
  return journal;
}

export class PostgresJournal implements JournalStore {
  readonly table: string;
  readonly commitsInFlight = APPEND_CONNECTIONS;
  /** Group commits run on these, each on a connection of its own (the listener runs up to APPEND_CONNECTIONS at once). */
  private readonly appends: PgConnection[];
  private readonly appending = new Set<PgConnection>();

  constructor(
    readonly location: { kind: 'postgres' } & PostgresLocation,
    private readonly pool: pg.Pool,
  ) {
    this.table = journalTable(location);
    this.appends = Array.from({ length: APPEND_CONNECTIONS }, () => journalConnection(location, 'sync listen'));
  }

  /** Creates the journal, once among any number of replicas starting together; read-only: checks it exists. */
  async prepare(readonly: boolean): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw connectError(this.location, err);
    }
    try {
      if (readonly) {
        const { rows } = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [this.table]);
        if (rows[0]?.found == null) {
          throw new UsageError(`no journal in schema ${JSON.stringify(this.location.schema)} of ${this.location.description}: \`sync listen --journal\` creates it`);
        }
        return;
      }
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey('sync journal', this.location.schema)]);
          await client.query(ddl(this.table, quoteIdent(this.location.schema)));
          await client.query('COMMIT');
          return;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          const code = (err as { code?: unknown }).code;
          if (attempt < 3 && typeof code === 'string' && CREATE_RACE.has(code)) continue;
          throw new SyncError(`cannot create the journal in schema ${JSON.stringify(this.location.schema)} of ${this.location.description}: ${this.explain(err)}`);
        }
      }
    } finally {
      client.release();
    }
  }

  /**
   * One statement, committed on its own (one round trip), rows in arrival order. A delivery id
   * already stored, by this replica or another, is a duplicate; so is a repeat within the
   * batch. One attempt: a batch that fails is answered 503 and sent again by its senders; had
   * it committed after all (the answer lost with the connection), the resent deliveries are
   * duplicates, answered 2xx, so nothing needs to find out what happened. No entries: whether
   * a write would be taken now (the writer's recheck after a failure; an INSERT of no rows,
   * which a read-only server refuses too).
   */
  async append(entries: readonly NewDelivery[]): Promise<AppendOutcome[]> {
    const connection = this.appends.find((c) => !this.appending.has(c)) ?? this.appends[0];
    if (connection === undefined) throw new Error('the journal has no connection to append with');
    this.appending.add(connection);
    try {
      const client = await connection.get();
      if (entries.length === 0) {
        await client.query(`INSERT INTO ${this.table} (connector, delivery_id, received_at, method, url, headers, body) SELECT '', '', '', '', '', '', ''::bytea WHERE false`);
        return [];
      }
      const outcomes: AppendOutcome[] = [];
      for (const part of parts(entries)) outcomes.push(...(await this.insert(client, part)));
      return outcomes;
    } catch (err) {
      throw Object.assign(new Error(this.explain(err)), { code: (err as { code?: unknown }).code });
    } finally {
      this.appending.delete(connection);
    }
  }

  private async insert(client: pg.Client, entries: readonly NewDelivery[]): Promise<AppendOutcome[]> {
    const { rows } = await client.query<{ connector: string; delivery_id: string }>(
      `INSERT INTO ${this.table} (connector, delivery_id, received_at, event, method, url, headers, body)
       SELECT connector, delivery_id, received_at, event, method, url, headers, body
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[])
              WITH ORDINALITY AS d(connector, delivery_id, received_at, event, method, url, headers, body, n)
        ORDER BY n
       ON CONFLICT (connector, delivery_id) DO NOTHING
       RETURNING connector, delivery_id`,
      [
        entries.map((e) => withoutNul(e.connector)),
        entries.map((e) => withoutNul(e.deliveryId)),
        entries.map((e) => e.receivedAt),
        entries.map((e) => (e.event === null ? null : withoutNul(e.event))),
        entries.map((e) => e.method),
        entries.map((e) => withoutNul(e.url)),
        entries.map((e) => withoutNul(JSON.stringify(e.headers))),
        entries.map((e) => e.body),
      ],
    );
    const inserted = new Set(rows.map((r) => JSON.stringify([r.connector, r.delivery_id])));
    // The first of each inserted id is the stored one; any later one in the batch repeats it.
    return entries.map((e): AppendOutcome => (inserted.delete(JSON.stringify([withoutNul(e.connector), withoutNul(e.deliveryId)])) ? 'stored' : 'duplicate'));
  }

  async select(filter: DeliveryFilter): Promise<StoredDelivery[]> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (column: string, op: string, value: string): void => {
      args.push(value);
      where.push(`${column} ${op} $${args.length}`);
    };
    if (filter.connector !== undefined) add('connector', '=', withoutNul(filter.connector));
    if (filter.deliveryId !== undefined) add('delivery_id', '=', withoutNul(filter.deliveryId));
    if (filter.since !== undefined) add('received_at', '>=', filter.since);
    if (filter.status !== undefined) add('status', '=', filter.status);
    let sql = `SELECT * FROM ${this.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
    if (filter.limit !== undefined) {
      args.push(filter.limit);
      sql += ` LIMIT $${args.length}`;
    }
    return (await this.read<Row>(sql, args)).map(fromRow);
  }

  /** Rows other replicas are deleting are skipped, not waited for. */
  async prune(options: PruneOptions): Promise<number> {
    const args: Array<string | number> = [options.before, options.status];
    if (options.connector !== undefined) args.push(withoutNul(options.connector));
    args.push(Math.max(1, Math.floor(options.limit)));
    const byConnector = options.connector !== undefined ? ' AND connector = $3' : '';
    const result = await this.pool.query(
      `DELETE FROM ${this.table} WHERE seq IN (
         SELECT seq FROM ${this.table} WHERE received_at < $1 AND status = $2${byConnector}
          ORDER BY received_at LIMIT $${args.length} FOR UPDATE SKIP LOCKED)`,
      args,
    );
    return result.rowCount ?? 0;
  }

  async pendingCount(connectors: readonly string[]): Promise<number> {
    if (connectors.length === 0) return 0;
    const rows = await this.read<{ n: string }>(`SELECT count(*) AS n FROM ${this.table} WHERE status = 'pending' AND connector = ANY($1::text[])`, [connectors]);
    return Number(rows[0]?.n ?? 0);
  }

  async backlog(): Promise<BacklogRow[]> {
    const rows = await this.read<{ connector: string; status: 'pending' | 'dead'; n: string; oldest: string | null }>(
      `SELECT connector, status, count(*) AS n, min(received_at) AS oldest
         FROM ${this.table} WHERE status IN ('pending', 'dead') GROUP BY connector, status`,
    );
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }

  /** The last delivery and the number of deliveries per connector and event name (`sync status`). */
  async events(): Promise<Array<{ connector: string; event: string | null; lastReceivedAt: string; count: number }>> {
    const rows = await this.read<{ connector: string; event: string | null; last: string; n: string }>(
      `SELECT connector, event, max(received_at) AS last, count(*) AS n FROM ${this.table} GROUP BY connector, event ORDER BY connector, event`,
    );
    return rows.map((r) => ({ connector: r.connector, event: r.event, lastReceivedAt: r.last, count: Number(r.n) }));
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    const out: Record<DeliveryStatus, number> = { pending: 0, done: 0, dead: 0 };
    for (const r of await this.read<{ status: DeliveryStatus; n: string }>(`SELECT status, count(*) AS n FROM ${this.table} GROUP BY status`)) out[r.status] = Number(r.n);
    return out;
  }

  async close(): Promise<void> {
    for (const c of this.appends) c.discard();
    await this.pool.end().catch(() => undefined);
  }

  private async read<R extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, args)).rows;
    } catch (err) {
      throw new SyncError(`reading the journal at ${this.location.description}: ${this.explain(err)}`);
    }
  }

  /** An error's message with PostgreSQL's detail, without the password. */
  private explain(err: unknown): string {
    const extra = err as Error & { detail?: unknown };
    let text = extra.message || String(err);
    if (typeof extra.detail === 'string' && extra.detail !== '') text += ` (${extra.detail})`;
    return scrubSecrets(text, this.location.secrets);
  }
}
