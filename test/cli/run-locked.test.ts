import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { caseFolders, collect, runSync, startSync } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

/**
 * `sync run` into a SQLite file another connection locks in the middle of the run, for longer
 * than the run waits: it stops with exit 75, and the bookmark it leaves is never ahead of the
 * rows, so the next run reads what the first could not write.
 */

const fresh = caseFolders('sync-run-locked-');
const ORDERS = 600_000;
const env = { SYNC_SAMPLE_NOW: '2026-03-01T00:00:00Z', SYNC_SAMPLE_CUSTOMERS: '100', SYNC_SAMPLE_ORDERS: String(ORDERS) };

function count(db: string, sql: string): number {
  const d = new Database(db, { readonly: true });
  try {
    return Number((d.prepare(sql).pluck().get() as number | bigint | undefined) ?? 0);
  } catch {
    return 0;
  } finally {
    d.close();
  }
}

describe('sync run into a database locked mid-run', () => {
  it('exits 75 with no bookmark ahead of its rows, and the rerun ends with every order', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    const child = startSync(['run', 'sample', '--quiet'], { cwd: dir, env });
    const done = collect(child);
    // Once orders have been committed with their bookmark, another writer takes the file.
    await until(() => count(db, `SELECT count(*) FROM _sync_state`) > 0 && count(db, 'SELECT count(*) FROM orders') > 0, 'a first commit of orders');
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    const result = await done;
    holder.exec('ROLLBACK');
    holder.close();
    expect(result.code, result.stderr).toBe(75);
    expect(result.stderr).toMatch(/locked by another connection.*try again later/);
    const stored = count(db, 'SELECT count(*) FROM orders');
    expect(stored).toBeLessThan(ORDERS);
    const rerun = await runSync(['run', 'sample', '--quiet'], { cwd: dir, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(count(db, 'SELECT count(*) FROM orders')).toBe(ORDERS);
    expect(count(db, 'SELECT count(*) FROM customers')).toBe(100);
  }, 120_000);
});
