import { lockPathFor, type TargetSpec } from '../targets/spec.js';
import { acquireLock } from './lock.js';

/**
 * The run lock of (state id, target), whatever the target: a file lock beside a file target or
 * a `--state` file, an advisory lock in the database for PostgreSQL (so runs on several hosts
 * exclude each other too), none for stdout. Refusal is a BusyError (exit 75) naming the holder.
 */

export interface RunLock {
  release(): void | Promise<void>;
}

export async function acquireRunLock(spec: TargetSpec, stateId: string, stateFile: string | undefined, what: string): Promise<RunLock | undefined> {
  const path = lockPathFor(spec, stateId, stateFile);
  if (path !== undefined) return acquireLock(path, what);
  if (spec.kind === 'postgres') {
    // Loaded only here: commands that never touch PostgreSQL never load `pg`.
    const { acquirePostgresLock } = await import('../targets/postgres-lock.js');
    return acquirePostgresLock(spec, stateId, what);
  }
  return undefined;
}
