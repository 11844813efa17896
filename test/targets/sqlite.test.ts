import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/protocol/messages.js';
import { Loader } from '../../src/targets/loader.js';
import { SqliteTarget } from '../../src/targets/sqlite.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
let path: string;
const warnings: string[] = [];
beforeEach(() => {
  tmp = tempDir('sync-sqlite-');
  path = join(tmp.dir, 't.db');
  warnings.length = 0;
});
afterEach(() => tmp.cleanup());

async function load(lines: string[], options: { batch?: number; stateId?: string; maxBatchBytes?: number } = {}): Promise<unknown[]> {
  const target = new SqliteTarget(path, { stateId: options.stateId ?? 'test', warn: (m) => warnings.push(m) });
  const committed: unknown[] = [];
  const loader = new Loader(target, {
    validate: true,
    batchRecords: options.batch ?? 1000,
    maxBatchAgeMs: 60_000,
    ...(options.maxBatchBytes === undefined ? {} : { maxBatchBytes: options.maxBatchBytes }),
    warn: (m) => warnings.push(m),
    onCommit: (s) => void committed.push(s),
  });
  try {
    for (const [i, line] of lines.entries()) {
      const pending = loader.handle(parseMessage(line, i + 1));
      if (pending) await pending;
    }
    await loader.finish();
  } finally {
    await target.close();
  }
  return committed;
}

function query(sql: string): Array<Record<string, unknown>> {
  const db = new Database(path, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    return db.prepare(sql).all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

const schema = (stream: string, extra = '') =>
  `{"type":"SCHEMA","stream":${JSON.stringify(stream)},"schema":{"properties":{"id":{"type":"integer"},"name":{"type":["null","string"]},"amount":{"type":["null","number"]},"updated_at":{"type":"string","format":"date-time"}${extra}}},"key_properties":["id"],"bookmark_properties":["updated_at"]}`;
const record = (stream: string, r: object) => JSON.stringify({ type: 'RECORD', stream, record: r });

describe('SQLite target', () => {
  it('keeps the newest version whatever the arrival order, comparing instants not strings', async () => {
    await load([
      schema('orders'),
      record('orders', { id: 1, name: 'newer', updated_at: '2024-05-01T14:00:00+02:00' }),
      // Older instant although the string sorts after the one above.
      record('orders', { id: 1, name: 'older', updated_at: '2024-05-01T11:59:59.999999Z' }),
      record('orders', { id: 2, name: 'first', updated_at: '2024-05-01T12:00:00Z' }),
      record('orders', { id: 2, name: 'same instant, later arrival', updated_at: '2024-05-01T12:00:00.000000+00:00' }),
    ]);
    expect(query('SELECT id, name, _sync_version FROM orders ORDER BY id')).toEqual([
      { id: 1n, name: 'newer', _sync_version: '2024-05-01T12:00:00.000000Z' },
      { id: 2n, name: 'same instant, later arrival', _sync_version: '2024-05-01T12:00:00.000000Z' },
    ]);
  });

  it('keeps the newest version across separate writers (batch then an older replay)', async () => {
    await load([schema('orders'), record('orders', { id: 1, name: 'webhook', updated_at: '2024-06-01T00:00:00Z' })]);
    await load([schema('orders'), record('orders', { id: 1, name: 'stale batch', updated_at: '2024-05-01T00:00:00Z' })]);
    expect(query('SELECT name FROM orders')).toEqual([{ name: 'webhook' }]);
  });

  it('stores numbers SQLite cannot hold as exact text, and 64-bit integers exactly', async () => {
    await load([
      schema('n'),
      '{"type":"RECORD","stream":"n","record":{"id":9007199254740993,"amount":1234567890.123456789012345678901234567890,"updated_at":"2024-01-01T00:00:00Z"}}',
      '{"type":"RECORD","stream":"n","record":{"id":2,"amount":123456789012345678901234567890,"updated_at":"2024-01-01T00:00:00Z"}}',
      '{"type":"RECORD","stream":"n","record":{"id":3,"amount":0.25,"updated_at":"2024-01-01T00:00:00Z"}}',
    ]);
    expect(query('SELECT id, amount, typeof(amount) AS t FROM n ORDER BY id')).toEqual([
      { id: 2n, amount: '123456789012345678901234567890', t: 'text' },
      { id: 3n, amount: 0.25, t: 'real' },
      { id: 9007199254740993n, amount: '1234567890.123456789012345678901234567890', t: 'text' },
    ]);
  });

  it('stores text as valid UTF-8: an unpaired surrogate in a string column becomes U+FFFD, inside JSON text it stays an escape', async () => {
    await load([
      schema('u', ',"doc":{"type":"object"}'),
      '{"type":"RECORD","stream":"u","record":{"id":1,"name":"a\\ud800b","doc":{"k":"\\udfff","é":"€"},"updated_at":"2024-01-01T00:00:00Z"}}',
      '{"type":"RECORD","stream":"u","record":{"id":2,"name":"Zürich 北京 🚀","updated_at":"2024-01-01T00:00:00Z"}}',
    ]);
    expect(query('SELECT id, hex(name) AS name, doc FROM u ORDER BY id')).toEqual([
      { id: 1n, name: '61EFBFBD62', doc: '{"k":"\\udfff","é":"€"}' },
      { id: 2n, name: Buffer.from('Zürich 北京 🚀').toString('hex').toUpperCase(), doc: null },
    ]);
  });

  it('treats hostile stream and property names as plain names', async () => {
    const evil = 'x"; DROP TABLE y; --';
    await load([
      '{"type":"SCHEMA","stream":"y","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"y","record":{"id":1}}',
      `{"type":"SCHEMA","stream":${JSON.stringify(evil)},"schema":{"properties":{"id":{"type":"integer"},"a\\"b":{"type":"string"}}},"key_properties":["id"]}`,
      `{"type":"RECORD","stream":${JSON.stringify(evil)},"record":{"id":1,"a\\"b":"ok"}}`,
    ]);
    expect(query('SELECT * FROM y')).toEqual([{ id: 1n }]);
    expect(query(`SELECT * FROM "x""; DROP TABLE y; --"`)).toEqual([{ id: 1n, 'a"b': 'ok' }]);
  });

  it('refuses reserved table names with a clear error', async () => {
    await expect(load(['{"type":"SCHEMA","stream":"sqlite_master","schema":{"properties":{}},"key_properties":[]}'])).rejects.toThrow(
      /reserved/,
    );
  });

  it('adds columns for new properties, from a new SCHEMA or from records, and warns once', async () => {
    await load([
      schema('c'),
      record('c', { id: 1, name: 'a', updated_at: '2024-01-01T00:00:00Z' }),
      record('c', { id: 2, name: 'b', surprise: { deep: [1] }, updated_at: '2024-01-01T00:00:00Z' }),
      record('c', { id: 3, surprise: true, updated_at: '2024-01-01T00:00:00Z' }),
      schema('c', ',"flag":{"type":"boolean"}'),
      record('c', { id: 4, flag: true, updated_at: '2024-01-01T00:00:00Z' }),
    ]);
    expect(query('SELECT id, name, surprise, flag FROM c ORDER BY id')).toEqual([
      { id: 1n, name: 'a', surprise: null, flag: null },
      { id: 2n, name: 'b', surprise: '{"deep":[1]}', flag: null },
      { id: 3n, name: null, surprise: 1n, flag: null },
      { id: 4n, name: null, surprise: null, flag: 1n },
    ]);
    expect(warnings.filter((w) => w.includes('"surprise"'))).toHaveLength(1);
  });

  it('commits state with the records it covers, and keeps it per state id', async () => {
    const committed = await load(
      [schema('s'), record('s', { id: 1, updated_at: '2024-01-01T00:00:00Z' }), '{"type":"STATE","value":{"at":1}}', record('s', { id: 2, updated_at: '2024-01-01T00:00:00Z' })],
      { batch: 1, stateId: 'a' },
    );
    expect(committed).toEqual([{ at: 1 }]);
    await load(['{"type":"STATE","value":{"other":true}}'], { stateId: 'b' });
    expect(query('SELECT id, value FROM _sync_state ORDER BY id')).toEqual([
      { id: 'a', value: '{"at":1}' },
      { id: 'b', value: '{"other":true}' },
    ]);
    const target = new SqliteTarget(path, { stateId: 'a', warn: () => {} });
    expect(target.readState()).toEqual({ at: 1 });
    target.writeState(undefined);
    expect(target.readState()).toBeUndefined();
    await target.close();
  });

  it('commits when the buffered records grow large, not only after so many records', async () => {
    // Twelve records of 300 kB with a 1 MB cap: a commit every fourth record, not one at the end.
    const big = (id: number) => record('s', { id, name: 'x'.repeat(300_000), updated_at: '2024-01-01T00:00:00Z' });
    const lines = [schema('s')];
    for (let id = 1; id <= 12; id++) lines.push(big(id), `{"type":"STATE","value":{"n":${id}}}`);
    const committed = await load(lines, { batch: 1_000, maxBatchBytes: 1_000_000 });
    expect(committed).toEqual([{ n: 3 }, { n: 7 }, { n: 11 }, { n: 12 }]);
    expect(query('SELECT count(*) AS n FROM s')).toEqual([{ n: 12n }]);
    // Without the cap the same load commits once, at the end.
    expect(await load(lines, { batch: 1_000 })).toEqual([{ n: 12 }]);
  });

  it('appends when a stream has no key properties', async () => {
    const s = '{"type":"SCHEMA","stream":"log","schema":{"properties":{"m":{"type":"string"}}},"key_properties":[]}';
    await load([s, '{"type":"RECORD","stream":"log","record":{"m":"a"}}', '{"type":"RECORD","stream":"log","record":{"m":"a"}}']);
    await load([s, '{"type":"RECORD","stream":"log","record":{"m":"a"}}']);
    expect(query('SELECT count(*) AS n FROM log')).toEqual([{ n: 3n }]);
  });

  it('keeps properties that differ only in case in columns of their own', async () => {
    await load([
      '{"type":"SCHEMA","stream":"k","schema":{"properties":{"Id":{"type":"string"},"id":{"type":"string"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"k","record":{"Id":"upper","id":"lower"}}',
    ]);
    expect(query('SELECT "Id" AS a, "id_2" AS b FROM k')).toEqual([{ a: 'upper', b: 'lower' }]);
    expect(query(`SELECT name, sql_name FROM _sync_names WHERE kind = 'column'`)).toEqual([{ name: '"id"', sql_name: 'id_2' }]);
  });

  it('creates the table of a schema without properties when a record brings the first one', async () => {
    const s = '{"type":"SCHEMA","stream":"bare","schema":{"properties":{}},"key_properties":[]}';
    await load([s, '{"type":"RECORD","stream":"bare","record":{}}', '{"type":"RECORD","stream":"bare","record":{"x":1}}']);
    expect(query('SELECT x, typeof(x) AS t FROM bare')).toEqual([{ x: 1n, t: 'integer' }]);
  });

  it('ACTIVATE_VERSION soft-deletes rows of strictly older table versions only', async () => {
    const s = '{"type":"SCHEMA","stream":"full","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}';
    const rec = (id: number, version: number) => `{"type":"RECORD","stream":"full","record":{"id":${id}},"version":${version}}`;
    await load([s, rec(1, 100), rec(2, 100), rec(3, 100), '{"type":"ACTIVATE_VERSION","stream":"full","version":100}']);
    await load([s, rec(1, 200), rec(3, 200), '{"type":"ACTIVATE_VERSION","stream":"full","version":200}']);
    const rows = query('SELECT id, _sdc_table_version AS v, _sdc_deleted_at IS NOT NULL AS gone FROM "full" ORDER BY id');
    expect(rows).toEqual([
      { id: 1n, v: 200n, gone: 0n },
      { id: 2n, v: 100n, gone: 1n },
      { id: 3n, v: 200n, gone: 0n },
    ]);
  });
});
