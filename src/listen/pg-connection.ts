import pg from 'pg';
import { BusyError, SyncError } from '../errors.js';
import { scrubSecrets, type PostgresLocation } from '../targets/postgres-url.js';

/**
 * One connection of the journal's, opened when first needed and replaced after it broke (the
 * server restarted, the network went): the next use connects again instead of failing forever.
 */
export class PgConnection {
  private client: pg.Client | undefined;
  private broken = false;

  constructor(
    private readonly location: PostgresLocation,
    private readonly applicationName: string,
    /** Session settings, run after each connect. */
    private readonly setup: readonly string[] = [],
  ) {}

  /** The current connection, if it is still usable. */
  get current(): pg.Client | undefined {
    return this.broken ? undefined : this.client;
  }

  async get(): Promise<pg.Client> {
    if (this.client && !this.broken) return this.client;
    this.discard();
    const client = new pg.Client({ connectionString: this.location.url, application_name: this.applicationName, keepAlive: true, connectionTimeoutMillis: 15_000 });
    // Without listeners a failure of an idle connection would be an uncaught error.
    client.on('error', () => {
      if (this.client === client) this.broken = true;
    });
    client.on('end', () => {
      if (this.client === client) this.broken = true;
    });
    this.client = client;
    this.broken = false;
    try {
      await client.connect();
      for (const sql of this.setup) await client.query(sql);
    } catch (err) {
      this.discard();
      throw connectError(this.location, err);
    }
    return client;
  }

  discard(): void {
    const client = this.client;
    this.client = undefined;
    this.broken = false;
    if (client) client.end().catch(() => undefined);
  }
}

/** Connecting failed: wrong settings are an error, an unreachable server a temporary one (exit 75). */
export function connectError(location: PostgresLocation, err: unknown): SyncError {
  const code = (err as { code?: unknown }).code;
  const text = scrubSecrets((err as Error).message || String(code ?? err), location.secrets);
  if (typeof code === 'string' && /^(28|3D)/.test(code)) return new SyncError(`cannot connect to the journal at ${location.description}: ${text}`);
  return new BusyError(`cannot reach the journal at ${location.description} (${text}); try again when PostgreSQL is up`);
}
