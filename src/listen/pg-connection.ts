import { BusyError, SyncError } from '../errors.js';
import { PgConnection } from '../targets/postgres-connection.js';
import { scrubSecrets, type PostgresLocation } from '../targets/postgres-url.js';

/**
 * One connection of the journal's (a PgConnection, replaced after it broke), whose failure to
 * connect says whether to try again later.
 */
export function journalConnection(location: PostgresLocation, applicationName: string, setup: readonly string[] = []): PgConnection {
  return new PgConnection(location, applicationName, setup, (err) => connectError(location, err));
}

/** Connecting failed: wrong settings are an error, an unreachable server a temporary one (exit 75). */
export function connectError(location: PostgresLocation, err: unknown): SyncError {
  const code = (err as { code?: unknown }).code;
  const text = scrubSecrets((err as Error).message || String(code ?? err), location.secrets);
  if (typeof code === 'string' && /^(28|3D)/.test(code)) return new SyncError(`cannot connect to the journal at ${location.description}: ${text}`);
  return new BusyError(`cannot reach the journal at ${location.description} (${text}); try again when PostgreSQL is up`);
}
