import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * An API that lists only what exists, so a deletion shows only as an object no longer listed.
 * A complete full read (`reconcile_deletes`) marks rows it did not see as deleted, within a
 * share of the table; a read that comes back short of more than that changes nothing.
 */

let tmp: ReturnType<typeof tempDir>;
let api: TestServer;
let items: Array<{ id: number; name: string }>;
beforeEach(async () => {
  tmp = tempDir('sync-reconcile-');
  items = Array.from({ length: 20 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}` }));
  api = await startServer((_req, res) => sendJson(res, 200, { data: items }));
});
afterEach(async () => {
  await api.close();
  tmp.cleanup();
});

function run(stream: object = {}) {
  const config = join(tmp.dir, 'api.json');
  writeFileSync(
    config,
    JSON.stringify({
      base_url: api.url,
      streams: [{ name: 'items', path: '/items', records_path: 'data', primary_key: 'id', reconcile_deletes: true, schema: { properties: { id: { type: 'integer' }, name: { type: 'string' } } }, ...stream }],
    }),
  );
  return runSync(['run', 'rest', '--config', config, '--target', `sqlite:${join(tmp.dir, 'out.db')}`], { cwd: tmp.dir });
}

function deleted(): number[] {
  const db = new Database(join(tmp.dir, 'out.db'), { readonly: true });
  try {
    return (db.prepare('SELECT id FROM items WHERE _sdc_deleted_at IS NOT NULL ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
  } finally {
    db.close();
  }
}

describe('reconcile_deletes', () => {
  it('marks the rows a complete read no longer sees as deleted, and brings back one that reappears', async () => {
    expect((await run()).code).toBe(0);
    items = items.filter((i) => i.id !== 3 && i.id !== 7);
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(deleted()).toEqual([3, 7]);
    items.push({ id: 3, name: 'item 3 restored' });
    expect((await run()).code).toBe(0);
    expect(deleted()).toEqual([7]);
  });

  it('a read that comes back short of more than the limit marks nothing, and says why', async () => {
    expect((await run()).code).toBe(0);
    items = items.slice(0, 10);
    const short = await run();
    expect(short.code, short.stderr).toBe(0);
    expect(short.stderr).toMatch(/did not see 10 of 20 rows, more than 10% of the table; nothing is marked deleted/);
    expect(deleted()).toEqual([]);
    // A limit that allows it: the deletions are real.
    expect((await run({ reconcile_deletes: { max_share: 0.5 } })).code).toBe(0);
    expect(deleted()).toHaveLength(10);
  });

  it('is refused where a read cannot be complete', async () => {
    const result = await run({ start_date: '2026-01-01T00:00:00Z' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/streams\[0\]\.reconcile_deletes: a read bounded by start_date does not see every object/);
  });
});
