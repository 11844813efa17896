import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDescription } from '../../connectors/rest/index.js';
import { runSync, tempDir } from '../helpers/cli.js';
import { readRows, writeConfig } from '../helpers/files.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * A tombstone listing: the API lists deletions at an endpoint of their own (`/deleted_items`,
 * `{item_id, deleted_at}`), filtered by `since`. `tombstones_for` applies them to the stream
 * they name: the row keeps its last values and gets `_sdc_deleted_at`, its version raised to
 * the deletion time, and the listing keeps a bookmark of its own.
 */

interface Item {
  id: number;
  name: string;
  updated_at: string;
}

let tmp: ReturnType<typeof tempDir>;
let api: TestServer;
let items: Item[];
let tombstones: Array<{ item_id: number; deleted_at: string }>;

beforeEach(async () => {
  tmp = tempDir('sync-tombstones-');
  items = [1, 2, 3, 4].map((id) => ({ id, name: `item ${id}`, updated_at: `2026-01-0${id}T00:00:00Z` }));
  tombstones = [];
  api = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const since = url.searchParams.get('since');
    const after = (t: string): boolean => since === null || Date.parse(t) >= Date.parse(since);
    if (url.pathname === '/items') return sendJson(res, 200, { data: items.filter((i) => after(i.updated_at)) });
    if (url.pathname === '/deleted_items') return sendJson(res, 200, { data: tombstones.filter((t) => after(t.deleted_at)) });
    return sendJson(res, 404, { error: 'not found' });
  });
});
afterEach(async () => {
  await api.close();
  tmp.cleanup();
});

function description(tombstoneStream: object = {}): object {
  return {
    base_url: api.url,
    streams: [
      {
        name: 'items', path: '/items', records_path: 'data', primary_key: 'id', replication_key: 'updated_at', incremental: { param: 'since' },
        schema: { properties: { id: { type: 'integer' }, name: { type: 'string' }, updated_at: { type: 'string', format: 'date-time' } } },
      },
      {
        name: 'deleted_items', path: '/deleted_items', records_path: 'data', primary_key: 'item_id', replication_key: 'deleted_at', incremental: { param: 'since' },
        tombstones_for: { stream: 'items', keys: { id: 'item_id' } },
        ...tombstoneStream,
      },
    ],
  };
}

function run(target = `sqlite:${join(tmp.dir, 'out.db')}`) {
  return runSync(['run', 'rest', '--config', writeConfig(tmp.dir, 'api', description()), '--target', target], { cwd: tmp.dir });
}

function rows() {
  return readRows(join(tmp.dir, 'out.db'), 'SELECT id, name, updated_at, _sdc_deleted_at FROM items ORDER BY id');
}

describe('tombstones_for', () => {
  it('marks the named rows deleted, keeps their last values, and reads only new tombstones next time', async () => {
    expect((await run()).code).toBe(0);
    items = items.filter((i) => i.id !== 2);
    tombstones.push({ item_id: 2, deleted_at: '2026-02-01T10:00:00Z' });
    (items[1] as Item).name = 'item 3 renamed';
    (items[1] as Item).updated_at = '2026-02-01T11:00:00Z';
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(rows()).toEqual([
      { id: 1, name: 'item 1', updated_at: '2026-01-01T00:00:00Z', _sdc_deleted_at: null },
      // Partial: only the key, the deletion time and the version (raised to it) were written.
      { id: 2, name: 'item 2', updated_at: '2026-02-01T10:00:00Z', _sdc_deleted_at: '2026-02-01T10:00:00Z' },
      { id: 3, name: 'item 3 renamed', updated_at: '2026-02-01T11:00:00Z', _sdc_deleted_at: null },
      { id: 4, name: 'item 4', updated_at: '2026-01-04T00:00:00Z', _sdc_deleted_at: null },
    ]);
    // The listing has a bookmark of its own: the deletion time.
    api.seen.length = 0;
    // A lagging list that still shows the deleted item, older than its deletion, does not revive it.
    items.push({ id: 2, name: 'item 2 (stale copy)', updated_at: '2026-02-01T09:00:00Z' });
    expect((await run()).code).toBe(0);
    expect(api.seen.map((r) => r.url)).toContain(`/deleted_items?since=${encodeURIComponent('2026-02-01T10:00:00Z')}`);
    expect(rows()[1]).toEqual({ id: 2, name: 'item 2', updated_at: '2026-02-01T10:00:00Z', _sdc_deleted_at: '2026-02-01T10:00:00Z' });
  });

  it('sends the tombstones as records of the stream they name, after its schema', async () => {
    tombstones.push({ item_id: 4, deleted_at: '2026-02-01T10:00:00Z' });
    const result = await runSync(['run', 'rest', '--config', writeConfig(tmp.dir, 'api', description()), '--target', '-', '--streams', 'deleted_items'], { cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    const messages = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; stream?: string; record?: object; value?: { bookmarks?: object } });
    expect(messages.filter((m) => m.type === 'SCHEMA').map((m) => m.stream)).toEqual(['items']);
    expect(messages.filter((m) => m.type === 'RECORD')).toEqual([
      { type: 'RECORD', stream: 'items', record: { id: 4, _sdc_deleted_at: '2026-02-01T10:00:00Z', updated_at: '2026-02-01T10:00:00Z' } },
    ]);
    expect(messages.at(-1)?.value?.bookmarks).toEqual({ deleted_items: { replication_key: '_sdc_deleted_at', replication_key_value: '2026-02-01T10:00:00Z' } });
  });

  it('a tombstone without the key is an error naming the listing, and nothing after it is committed', async () => {
    tombstones.push({ item_id: 1, deleted_at: '2026-02-01T10:00:00Z' }, { deleted_at: '2026-02-01T10:00:00Z' } as never);
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stream deleted_items: tombstone 2 of a page has no item_id to find the items row by');
    expect(rows().every((r) => r['_sdc_deleted_at'] === null)).toBe(true);
  });

  it('says what is wrong with a tombstone listing, each problem with its path', () => {
    const bad = description({ tombstones_for: { stream: 'items', keys: { item_id: 'id' } }, variants: [{ a: 1 }] }) as { streams: object[] };
    const first = bad.streams[0] as Record<string, unknown>;
    bad.streams.push({ name: 'ghosts', path: '/g', tombstones_for: 'nothing' }, { name: 'keyless', path: '/k' }, { name: 'gone', path: '/x', tombstones_for: 'keyless' });
    expect(first['name']).toBe('items');
    expect(parseDescription(bad as never).problems).toEqual([
      'streams[1].variants: a tombstone listing marks rows of another stream: not with tombstones_for',
      'streams[1].tombstones_for.keys.item_id: is not a primary_key property of items (id)',
      'streams[2].tombstones_for: must name an earlier stream (items, deleted_items), got "nothing"',
      'streams[4].tombstones_for: stream keyless has no primary_key: its rows cannot be told apart',
    ]);
  });
});
