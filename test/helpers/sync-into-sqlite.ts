import type { StreamDefinition } from '../../src/connector/contract.js';
import { silentLogger } from '../../src/log.js';
import { toSyncState, type SyncState } from '../../src/protocol/state.js';
import { selectAll } from '../../src/tap/catalog.js';
import { runTap } from '../../src/tap/runner.js';
import { Loader } from '../../src/targets/loader.js';
import { SqliteTarget } from '../../src/targets/sqlite.js';

export interface SyncIntoSqlite {
  db: string;
  stateId: string;
  streams: readonly StreamDefinition<object>[];
  config: object;
  startedAt?: Date;
  batchRecords?: number;
  stateEveryRecords?: number;
}

/**
 * One `sync run` in-process: the real runner, loader and SQLite target, starting from the
 * state the target keeps, as the CLI does. Any warning fails the run (tests expect none).
 */
export async function syncIntoSqlite(options: SyncIntoSqlite): Promise<SyncState> {
  const fail = (m: string): never => {
    throw new Error(m);
  };
  const target = new SqliteTarget(options.db, { stateId: options.stateId, warn: fail });
  try {
    const loader = new Loader(target, { validate: true, batchRecords: options.batchRecords ?? 100, maxBatchAgeMs: 60_000, warn: fail });
    const connector = { name: options.stateId, version: '0', description: '', config: { properties: {} }, streams: options.streams };
    const result = await runTap({
      config: options.config,
      streams: selectAll(connector),
      state: toSyncState(target.readState()),
      fullRefresh: false,
      emit: (m) => loader.handle(m),
      log: silentLogger,
      signal: new AbortController().signal,
      interruptedBy: () => undefined,
      startedAt: options.startedAt ?? new Date(),
      stateEveryRecords: options.stateEveryRecords ?? 2,
      stateEveryMs: 60_000,
    });
    await loader.finish();
    return result.state;
  } finally {
    await target.close();
  }
}
