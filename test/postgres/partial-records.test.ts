import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemaRegistry } from '../../src/protocol/schema.js';
import { StreamRows } from '../../src/targets/postgres-rows.js';
import { runSync, tempDir } from '../helpers/cli.js';
import { writeConfig } from '../helpers/files.js';
import { postgresAvailable, testSchema, type TestSchema } from '../helpers/postgres.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * Partial records (a webhook that knows a few properties, a tombstone that knows only the key)
 * set only what they carry: the stored row keeps its other columns, in PostgreSQL as in SQLite.
 */

const available = await postgresAvailable('test/postgres/partial-records.test.ts');

describe.skipIf(!available)('PostgreSQL target: partial records', () => {
  let schema: TestSchema;
  let api: TestServer;
  let tmp: ReturnType<typeof tempDir>;
  let tombstones: object[];
  beforeEach(async () => {
    schema = await testSchema();
    tmp = tempDir('sync-pg-partial-');
    tombstones = [];
    const items = [1, 2, 3].map((id) => ({ id, name: `item ${id}`, price: id * 10, updated_at: `2026-01-0${id}T00:00:00Z` }));
    api = await startServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      sendJson(res, 200, { data: path === '/items' ? items : tombstones });
    });
  });
  afterEach(async () => {
    await api.close();
    await schema.drop();
    tmp.cleanup();
  });

  const run = () =>
    runSync(
      [
        'run', 'rest', '--target', schema.url, '--config',
        writeConfig(tmp.dir, 'api', {
          base_url: api.url,
          streams: [
            {
              name: 'items', path: '/items', records_path: 'data', primary_key: 'id', replication_key: 'updated_at',
              schema: { properties: { id: { type: 'integer' }, name: { type: 'string' }, price: { type: 'integer' }, updated_at: { type: 'string', format: 'date-time' } } },
            },
            { name: 'deleted_items', path: '/deleted_items', records_path: 'data', replication_key: 'deleted_at', tombstones_for: { stream: 'items', keys: { id: 'item_id' } } },
          ],
        }),
      ],
      { cwd: tmp.dir },
    );

  it('a tombstone marks the row deleted and keeps its other columns, whether the row is new to the batch or stored', async () => {
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    tombstones.push({ item_id: 2, deleted_at: '2026-02-01T00:00:00Z' }, { item_id: 9, deleted_at: '2026-02-02T00:00:00Z' });
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    const rows = await schema.query(`SELECT id, name, price, _sdc_deleted_at::text AS deleted FROM "${schema.name}".items ORDER BY id`);
    // Integers are numeric columns, read back as their exact text.
    expect(rows).toEqual([
      { id: '1', name: 'item 1', price: '10', deleted: null },
      { id: '2', name: 'item 2', price: '20', deleted: '2026-02-01 00:00:00+00' },
      { id: '3', name: 'item 3', price: '30', deleted: null },
      // A deletion of a row never stored: a row of the key and the deletion alone.
      { id: '9', name: null, price: null, deleted: '2026-02-02 00:00:00+00' },
    ]);
  });

  it('a partial record without its key is refused, naming the stream and the key', () => {
    const stream = new SchemaRegistry().open({ type: 'SCHEMA', stream: 't', schema: { properties: { id: { type: 'integer' }, a: { type: 'string' } } }, key_properties: ['id'] });
    const rows = new StreamRows(stream, undefined, () => undefined);
    expect(() => rows.add({ type: 'RECORD', stream: 't', record: { a: 'x' }, partial: true })).toThrow('stream "t": a partial record lacks its key property "id"; its row cannot be found');
    rows.add({ type: 'RECORD', stream: 't', record: { id: 1, a: 'x' }, partial: true });
    // Only the columns the record carries: the key and a.
    expect(rows.take().segments.map((seg) => seg.columns.map((c) => c.property))).toEqual([['id', 'a']]);
  });
});
