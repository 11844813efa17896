import { createHash } from 'node:crypto';
import pg from 'pg';
import { BusyError, TargetError } from '../errors.js';
import { scrubSecrets, type PostgresLocation } from './postgres-url.js';

/**
 * The run lock of a PostgreSQL target: one `sync run` per (state id, schema) at a time. It is
 * a session advisory lock held on a connection of its own for as long as the run lives; the
 * server drops it when that session ends in any way (the process killed, the network gone),
 * so there is never a stale lock to clean up. The holder names itself in `application_name`,
 * so a refused run can say who holds it.
 *
 * A server restart ends the session and with it the lock; a run that starts meanwhile is
 * still safe, because every commit carries its own state with its own records.
 */

export interface PostgresLock {
  release(): Promise<void>;
}

export async function acquirePostgresLock(spec: PostgresLocation, stateId: string, command: string): Promise<PostgresLock> {
  const key = advisoryKey('sync run', spec.schema, stateId);
  // Shown to whoever finds the lock taken: never with the password, however the caller spelt the target.
  const what = scrubSecrets(command, spec.secrets);
  const client = new pg.Client({
    connectionString: spec.url,
    application_name: holderName(what),
    keepAlive: true,
    connectionTimeoutMillis: 15_000,
  });
  // The lock lives and dies with this session; a failure on an idle connection is not an uncaught error.
  client.on('error', () => undefined);
  const explain = (err: unknown): string => scrubSecrets((err as Error).message || String(err), spec.secrets);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    // A refused login or a database that does not exist will not get better by waiting: the
    // settings are wrong. A server that cannot be reached (restarting, say) may: retry later.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^(28|3D)/.test(code)) throw new TargetError(`cannot connect to ${spec.description}: ${explain(err)}`);
    throw new BusyError(`${what}: cannot take the run lock on ${spec.description}: ${explain(err)}; try again later`);
  }
  let locked: boolean;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]);
    locked = rows[0]?.locked === true;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new TargetError(`${what}: cannot take the run lock on ${spec.description}: ${explain(err)}`);
  }
  if (!locked) {
    const holder = await holderOf(client, key).catch(() => undefined);
    await client.end().catch(() => undefined);
    const who = holder === undefined ? 'another sync' : `${holder.name} (connected since ${holder.since})`;
    throw new BusyError(
      `${what}: ${who} holds the run lock for state id ${JSON.stringify(stateId)} in schema ${JSON.stringify(spec.schema)} of ${spec.description}; ` +
        `try again when it has finished`,
    );
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // Ending the session releases the lock.
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * A 64-bit advisory lock key for these parts. Hashed so that any schema and state id (any
 * length, any characters) maps to a key; parts are separated by NUL, which neither holds.
 */
export function advisoryKey(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\0')).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0)).toString();
}

/** `application_name` is ASCII and at most 63 bytes: the pid first, so it survives the cut. */
function holderName(what: string): string {
  return `sync pid ${process.pid}: ${what.replace(/\s*→\s*/g, ' -> ').replace(/[^\x20-\x7e]/g, '?')}`.slice(0, 63);
}

async function holderOf(client: pg.Client, key: string): Promise<{ name: string; since: string } | undefined> {
  // A bigint advisory key shows in pg_locks as its high (classid) and low (objid) 32 bits.
  const { rows } = await client.query<{ name: string; since: string }>(
    `SELECT a.application_name AS name, to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.classid::bigint = (($1::bigint >> 32) & 4294967295) AND l.objid::bigint = ($1::bigint & 4294967295)`,
    [key],
  );
  const row = rows[0];
  return row && row.name !== '' ? row : undefined;
}
