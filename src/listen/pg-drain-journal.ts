import pg from 'pg';
import { messageOf } from '../errors.js';
import { scrubSecrets, type PostgresLocation } from '../targets/postgres-url.js';
import type { DeadLetter, DrainJournal } from './journal-store.js';
import type { PgConnection } from '../targets/postgres-connection.js';
import { journalConnection } from './pg-connection.js';
import { fromRow, type Row, type StoredDelivery } from './journal.js';
import { CLAIM_IDLE_TIMEOUT, journalTable, markSettled } from './pg-journal.js';

/**
 * One drain's hold on a PostgreSQL journal. A claim is a transaction on the drain's own
 * connection: the pending rows it takes are locked (`FOR UPDATE SKIP LOCKED`), so any number
 * of drains, in any number of processes, each take different deliveries without waiting for
 * one another; settling marks them in the same transaction and commits it.
 *
 * A drain that dies lets go by itself: its session ends and the server rolls the claim back,
 * at once when the process is killed on a host that stays up, within about a minute (the
 * idle-in-transaction timeout and TCP keepalives set below) when the host or the network is
 * gone. Those deliveries are pending again and the next claim by any drain takes them. A drain
 * killed after its target committed but before this transaction did leaves them pending too:
 * they are written once more, which keyed targets absorb (upsert, newest version wins).
 */
export class PostgresDrainJournal implements DrainJournal {
  private readonly connection: PgConnection;
  /** The connection whose transaction holds the current claim. */
  private claimedOn: pg.Client | undefined;
  private readonly table: string;

  constructor(private readonly location: PostgresLocation) {
    this.table = journalTable(location);
    this.connection = journalConnection(location, 'sync drain', [
      // A claim held by a silent drain (its host gone) is rolled back by the server after this long...
      `SET idle_in_transaction_session_timeout = '${CLAIM_IDLE_TIMEOUT}'`,
      // ...and a vanished peer is noticed in about as long, not after the system's two hours.
      'SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3',
    ]);
  }

  async claim(connectors: readonly string[], limit: number): Promise<StoredDelivery[]> {
    await this.release();
    if (connectors.length === 0) return [];
    const client = await this.connection.get();
    try {
      await client.query('BEGIN');
      this.claimedOn = client;
      const { rows } = await client.query<Row>(
        `SELECT * FROM ${this.table} WHERE status = 'pending' AND connector = ANY($1::text[]) ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [connectors, limit],
      );
      if (rows.length === 0) await this.release();
      return rows.map(fromRow);
    } catch (err) {
      await this.release();
      throw this.failure('claiming deliveries', err);
    }
  }

  async settle(done: readonly number[], dead: readonly DeadLetter[]): Promise<void> {
    const claimedOn = this.claimedOn;
    this.claimedOn = undefined;
    if (claimedOn !== undefined && claimedOn !== this.connection.current) {
      // The session that held the claim ended: its deliveries are pending again, and another
      // drain may hold them now. Marking them here would settle what this drain no longer owns.
      throw this.failure('settling deliveries', new Error('the connection holding the claim was lost; the deliveries are pending again'));
    }
    const client = claimedOn ?? (await this.connection.get());
    try {
      // Without a claim (a replay by `sync inbox`): a transaction of its own.
      if (claimedOn === undefined) await client.query('BEGIN');
      await markSettled(client, this.table, done, dead);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => this.connection.discard());
      throw this.failure('settling deliveries', err);
    }
  }

  async release(): Promise<void> {
    const claimedOn = this.claimedOn;
    this.claimedOn = undefined;
    // A broken connection has rolled back already.
    if (claimedOn === undefined || claimedOn !== this.connection.current) return;
    await claimedOn.query('ROLLBACK').catch(() => this.connection.discard());
  }

  async close(): Promise<void> {
    await this.release();
    this.connection.discard();
  }

  private failure(what: string, err: unknown): Error {
    return new Error(`${what} in the journal at ${this.location.description}: ${scrubSecrets(messageOf(err), this.location.secrets)}`, { cause: err });
  }
}
