import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { TargetBusyError, TargetError } from '../errors.js';
import { scrubSecrets, type PostgresLocation } from './postgres-url.js';

/**
 * One connection to PostgreSQL and the rule for running a transaction on it through
 * connection failures and server restarts.
 *
 * A transaction that failed before COMMIT was sent did not commit: it is run again from the
 * start on a new connection (the caller's `work` must rebuild everything it writes). When
 * the connection breaks while COMMIT is on its way, the outcome is unknown to us but not to
 * the server: the transaction's id (`txid_current()`, taken first) is looked up with
 * `txid_status` on a new connection; committed means done, aborted means run it again, and
 * anything else fails without retrying, so a batch is never written twice and a state is
 * never reported for data that may be missing.
 */

/**
 * One connection, opened when first needed and replaced after it broke (the server restarted,
 * the network went): the next use connects again instead of failing forever. The target's
 * session and the journal's connections are each one of these.
 */
export class PgConnection {
  private client: pg.Client | undefined;
  /** The current client's connection failed; it is replaced before its next use. */
  private lost = false;

  constructor(
    private readonly location: PostgresLocation,
    /** Shown in pg_stat_activity. */
    private readonly applicationName: string,
    /** Session settings, run after each connect. */
    private readonly setup: readonly string[] = [],
    /** What a failure to connect is thrown as (the driver's error as it is, unless given). */
    private readonly connectFailure: (err: unknown) => unknown = (err) => err,
  ) {}

  /** The current connection, if it is still usable. */
  get current(): pg.Client | undefined {
    return this.lost ? undefined : this.client;
  }

  /** Whether the connection in hand failed (the next `get` replaces it). */
  get broken(): boolean {
    return this.lost;
  }

  async get(): Promise<pg.Client> {
    if (this.client && !this.lost) return this.client;
    this.discard();
    const client = new pg.Client({ connectionString: this.location.url, application_name: this.applicationName, keepAlive: true, connectionTimeoutMillis: 15_000 });
    // Without a listener an idle connection's failure would be an uncaught 'error' event.
    client.on('error', () => {
      if (this.client === client) this.lost = true;
    });
    client.on('end', () => {
      if (this.client === client) this.lost = true;
    });
    this.client = client;
    this.lost = false;
    try {
      await client.connect();
      for (const sql of this.setup) await client.query(sql);
    } catch (err) {
      this.discard();
      throw this.connectFailure(err);
    }
    return client;
  }

  /** Lets the connection go without waiting; the next `get` opens a new one. */
  discard(): void {
    const client = this.client;
    this.client = undefined;
    this.lost = false;
    // A broken connection has nothing left to say; ending it only frees the socket.
    if (client) client.end().catch(() => undefined);
  }

  /** Ends the connection and waits until it has. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.lost = false;
    if (client) await client.end().catch(() => undefined);
  }
}

export interface SessionOptions {
  location: PostgresLocation;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  /** Waits between attempts; their number + 1 is how often a transaction is tried. */
  retryDelaysMs?: readonly number[];
  warn: (message: string) => void;
}

/** About 16 s in all: long enough for a server restart or a fail-over, short enough for a cron run. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1_000, 2_000, 4_000, 8_000];

/** SQLSTATEs after which the same transaction, run again, may well succeed. */
const TRANSIENT_STATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);
/** Of those, the ones that leave the connection usable (the server rolled back, nothing more). */
const CONNECTION_KEPT_STATES = new Set(['40001', '40P01']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** node-postgres reports a vanished server with plain errors: no code, only these messages. */
const LOST_MESSAGE = /Connection terminated|not queryable|connection timeout|Connection ended/i;

type Outcome = 'committed' | 'aborted' | 'unknown';

export class PostgresSession {
  private readonly connection: PgConnection;
  private readonly delays: readonly number[];

  constructor(private readonly options: SessionOptions) {
    this.delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    // Date-times reach jsonb or text columns through casts, which format in the session zone.
    this.connection = new PgConnection(options.location, options.applicationName, [`SET TIME ZONE 'UTC'`]);
  }

  get description(): string {
    return this.options.location.description;
  }

  /**
   * Runs `work` in one transaction and commits it, trying again on a new connection while
   * that is safe (see above). `what` names the operation in messages ("writing to …").
   */
  async transaction<T>(what: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let xid: string | undefined;
      let committing = false;
      let result: T | undefined;
      try {
        const client = await this.connection.get();
        await client.query('BEGIN');
        const ids = await client.query<{ xid: string }>('SELECT txid_current()::text AS xid');
        xid = ids.rows[0]?.xid;
        result = await work(client);
        committing = true;
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (!this.isTransient(err)) {
          await this.rollbackQuietly();
          throw new TargetError(`${what}: ${this.explain(err)}`, [], { cause: err });
        }
        if (this.connection.broken || !CONNECTION_KEPT_STATES.has(codeOf(err))) this.connection.discard();
        else await this.rollbackQuietly();
        if (committing && xid !== undefined) {
          const outcome = await this.outcomeOf(xid);
          if (outcome === 'committed') return result as T;
          if (outcome === 'unknown') {
            throw new TargetError(
              `${what}: the connection to ${this.description} failed while committing (${this.explain(err)}) and whether that commit ` +
                `happened cannot be found out; its state was not reported, and the state stored with the data is consistent with it`,
            );
          }
        }
        if (attempt >= this.delays.length) {
          throw new TargetBusyError(
            `${what}: ${this.description} is unavailable (${this.explain(err)}) after ${attempt + 1} attempts; ` +
              `nothing after the last commit was written, try again later`,
          );
        }
        this.options.warn(`${this.description}: ${this.explain(err)}; trying ${what} again (attempt ${attempt + 2} of ${this.delays.length + 1})`);
        await delay(this.delays[attempt] ?? 0);
      }
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** An error's message with PostgreSQL's detail and hint, scrubbed of the password. */
  explain(err: unknown): string {
    if (!(err instanceof Error)) return scrubSecrets(String(err), this.options.location.secrets);
    const extra = err as Error & { detail?: unknown; hint?: unknown };
    let text = err.message || (err as { code?: string }).code || err.name;
    if (typeof extra.detail === 'string' && extra.detail !== '') text += ` (${extra.detail})`;
    if (typeof extra.hint === 'string' && extra.hint !== '') text += `; hint: ${extra.hint}`;
    return scrubSecrets(text, this.options.location.secrets);
  }

  private async rollbackQuietly(): Promise<void> {
    const client = this.connection.current;
    if (!client) return;
    try {
      await client.query('ROLLBACK');
    } catch {
      this.connection.discard();
    }
  }

  /** Whether the transaction `xid` committed, asked on a new connection. */
  private async outcomeOf(xid: string): Promise<Outcome> {
    for (const wait of [0, ...this.delays]) {
      if (wait > 0) await delay(wait);
      try {
        const client = await this.connection.get();
        const { rows } = await client.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [xid]);
        const status = rows[0]?.status ?? null;
        if (status === 'committed') return 'committed';
        if (status === 'aborted') return 'aborted';
        // null: too old to know (never for a transaction of a moment ago). 'in progress': the
        // old connection's backend has not finished yet; asked again after the next wait.
        if (status === null) return 'unknown';
      } catch (err) {
        if (!this.isTransient(err)) return 'unknown';
        this.connection.discard();
      }
    }
    return 'unknown';
  }

  private isTransient(err: unknown): boolean {
    if (this.connection.broken) return true;
    const code = codeOf(err);
    if (TRANSIENT_STATES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code)) return true;
    return err instanceof Error && code === '' && LOST_MESSAGE.test(err.message);
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
