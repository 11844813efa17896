import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import sample from '../../connectors/sample/index.js';
import { toSyncState, type SyncState } from '../../src/protocol/state.js';
import { SqliteTarget } from '../../src/targets/sqlite.js';
import { tempDir } from '../helpers/cli.js';
import { INCREMENTAL_COUNTS, incrementalCases } from '../helpers/incremental-cases.js';
import { syncIntoSqlite } from '../helpers/sync-into-sqlite.js';

/**
 * The property of the foundation: a run at t1 followed by an incremental run at t2 leaves
 * the target with exactly the rows of one full run at t2 — through the real runner, loader
 * and SQLite target, with the state the target itself kept between the runs. The cases are
 * shared with the PostgreSQL test (test/postgres/incremental.test.ts).
 */

const tmp = tempDir('sync-property-');
afterAll(tmp.cleanup);

async function syncRun(db: string, config: { seed: number; customers: number; orders: number; now: string }, batch: number): Promise<SyncState> {
  return syncIntoSqlite({ db, stateId: 'sample', streams: sample.streams, config, startedAt: new Date(config.now), batchRecords: batch, stateEveryRecords: 97 });
}

function dump(db: string): Record<string, unknown[]> {
  const d = new Database(db, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of ['customers', 'orders']) out[t] = d.prepare(`SELECT * FROM ${t} ORDER BY id`).all();
    return out;
  } finally {
    d.close();
  }
}

let n = 0;

describe('run at t1, then incremental at t2 == one full run at t2 (SQLite)', () => {
  for (const { seed, t1, t2, title } of incrementalCases()) {
    it(title, async () => {
      const counts = { seed, ...INCREMENTAL_COUNTS };
      const incremental = join(tmp.dir, `inc-${++n}.db`);
      const full = join(tmp.dir, `full-${n}.db`);
      const first = await syncRun(incremental, { ...counts, now: t1 }, 50);
      expect(first.currently_syncing).toBeNull();
      const second = await syncRun(incremental, { ...counts, now: t2 }, 50);
      await syncRun(full, { ...counts, now: t2 }, 100_000);
      const a = dump(incremental);
      const b = dump(full);
      expect(a['orders']?.length).toBe(b['orders']?.length);
      expect(a).toEqual(b);
      // Both runs end with the same bookmarks too.
      const fresh = new SqliteTarget(full, { stateId: 'sample', warn: () => {} });
      expect(toSyncState(fresh.readState()).bookmarks).toEqual(second.bookmarks);
      await fresh.close();
    });
  }
});
