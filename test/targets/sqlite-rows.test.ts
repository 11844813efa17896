import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferPool, forEachRow, RowEncoder, transferables, type EncodedRows, type SqlValue } from '../../src/targets/sqlite-rows.js';

/** What binding `value` directly would store, as the encoded path must too. */
function expected(value: SqlValue): SqlValue {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint') return value;
  return value;
}

function decoded(rows: EncodedRows): SqlValue[][] {
  const out: SqlValue[][] = [];
  forEachRow(rows, (row) => out.push([...row]));
  return out;
}

const HOSTILE: SqlValue[] = [
  '',
  'a',
  'plain ASCII that is longer than the short-string path of the encoder, to take the native one',
  'café',
  'Zürich 北京 🚀',
  '\u0000nul\u0000',
  'x'.repeat(47) + 'é',
  'é' + 'x'.repeat(60),
  '\n\r\t"\\',
  '9007199254740993',
  0,
  -0,
  1,
  -1,
  2.5,
  -1e-300,
  1e300,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  12n,
  null,
];

describe('rows encoded for the writer thread', () => {
  it('decode to the values given, integers as bigint, in order, across buffer growth', () => {
    const encoder = new RowEncoder('INSERT', 4);
    const rows: SqlValue[][] = [];
    // Enough rows to outgrow every first buffer several times.
    for (let i = 0; i < 5_000; i++) {
      const row = [HOSTILE[i % HOSTILE.length] ?? null, HOSTILE[(i * 7) % HOSTILE.length] ?? null, i, `row ${i} ${'é'.repeat(i % 50)}`];
      rows.push(row);
      encoder.add(row);
    }
    const encoded = encoder.finish();
    expect(encoded.count).toBe(5_000);
    expect(decoded(encoded)).toEqual(rows.map((row) => row.map(expected)));
  });

  it('reads a row shorter than the statement as nulls at the end', () => {
    const encoder = new RowEncoder('INSERT', 3);
    encoder.add(['a']);
    expect(decoded(encoder.finish())).toEqual([['a', null, null]]);
  });

  it('reuses buffers given back without leaking an earlier batch into a later one', () => {
    const pool = new BufferPool();
    const first = new RowEncoder('INSERT', 2, pool);
    for (let i = 0; i < 2_000; i++) first.add([`long text that fills the buffer ${i}`.repeat(3), i]);
    const done = first.finish();
    pool.giveBack([done]);
    const second = new RowEncoder('INSERT', 2, pool);
    second.add(['b', null]);
    second.add([null, 7]);
    const again = second.finish();
    // The same memory, now holding only the second batch.
    expect(again.text.buffer).toBe(done.text.buffer);
    expect(decoded(again)).toEqual([
      ['b', null],
      [null, 7n],
    ]);
  });

  it('take a value of many megabytes whole, and do not keep its buffer for later batches', () => {
    const pool = new BufferPool();
    const encoder = new RowEncoder('INSERT', 3, pool);
    const huge = 'é€'.repeat(6 * 1_048_576);
    encoder.add(['before', huge, 'after']);
    const done = encoder.finish();
    expect(done.text.byteLength).toBe('before'.length + 5 * 6 * 1_048_576 + 'after'.length);
    // Measured, not given room for the worst case (3 bytes per UTF-16 unit): 5 bytes for each "é€".
    expect(done.text.buffer.byteLength).toBeLessThan(3 * huge.length);
    expect(decoded(done)).toEqual([['before', huge, 'after']]);
    pool.giveBack([done]);
    const next = new RowEncoder('INSERT', 1, pool);
    next.add(['small']);
    expect(next.finish().text.buffer.byteLength).toBeLessThan(1_048_576);
  });

  it('store in SQLite exactly what binding the values directly stores', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-rows-'));
    try {
      const db = new Database(join(dir, 'rows.db'));
      db.defaultSafeIntegers(true);
      db.exec('CREATE TABLE direct (n, v); CREATE TABLE encoded (n, v)');
      const direct = db.prepare('INSERT INTO direct VALUES (?, ?)');
      const encoder = new RowEncoder('INSERT INTO encoded VALUES (?, ?)', 2);
      HOSTILE.forEach((value, n) => {
        direct.run(BigInt(n), expected(value));
        encoder.add([n, value]);
      });
      const insert = db.prepare(encoder.sql);
      forEachRow(encoder.finish(), (row) => insert.run(row));
      const read = (table: string): unknown[] => db.prepare(`SELECT n, v, typeof(v) AS t FROM ${table} ORDER BY n`).all();
      expect(read('encoded')).toEqual(read('direct'));
      expect(read('encoded')).toHaveLength(HOSTILE.length);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('store a lone surrogate as U+FFFD, so the column holds valid UTF-8', () => {
    // Bound directly, better-sqlite3 writes a lone surrogate's three bytes as they are
    // (ED A0 80), which is not UTF-8: other readers of the file would fail on it.
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (n, v)');
    const encoder = new RowEncoder('INSERT INTO t VALUES (?, ?)', 2);
    encoder.add([1, '\uD800 lone']);
    encoder.add([2, 'é\uD83D']);
    encoder.add([3, 'x\uDFFFy'.repeat(20)]);
    const insert = db.prepare(encoder.sql);
    forEachRow(encoder.finish(), (row) => insert.run(row));
    expect(db.prepare('SELECT hex(v) AS h FROM t ORDER BY n').pluck().all()).toEqual([
      'EFBFBD206C6F6E65',
      'C3A9EFBFBD',
      '78EFBFBD79'.repeat(20),
    ]);
    db.close();
  });
});

describe('rows handed to another thread', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
  });

  it('arrive whole when their buffers are transferred, and leave nothing behind in the sender', async () => {
    // The decoder runs in the worker as the SQLite writer's does: from a module, on transferred memory.
    worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', async ({ url, rows }) => {
         const { forEachRow } = await import(url);
         const out = [];
         forEachRow(rows, (row) => out.push(row.map((v) => (typeof v === 'bigint' ? 'n:' + v : v))));
         parentPort.postMessage(out);
       });`,
      { eval: true },
    );
    const encoder = new RowEncoder('INSERT', 3);
    const rows = HOSTILE.map((value, i) => [value, i, 'é'.repeat(i)] as SqlValue[]);
    for (const row of rows) encoder.add(row);
    const encoded = encoder.finish();
    const answer = new Promise<unknown>((resolve) => worker?.once('message', resolve));
    const url = new URL('../../dist/src/targets/sqlite-rows.js', import.meta.url).href;
    worker.postMessage({ url, rows: encoded }, transferables([encoded]));
    // Moved, not copied: the sender's views are empty now.
    expect(encoded.text.byteLength).toBe(0);
    expect(await answer).toEqual(rows.map((row) => row.map((v) => {
      const e = expected(v);
      return typeof e === 'bigint' ? `n:${e}` : e;
    })));
  });
});
