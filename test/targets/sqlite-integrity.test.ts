import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/protocol/messages.js';
import { Loader } from '../../src/targets/loader.js';
import type { ChildProcess } from 'node:child_process';
import { runSync, startSync, tempDir } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

/**
 * What the SQLite target must never do, whatever the input or the neighbours: state ahead of
 * its data, two streams in one table, a rounded number, a stream writing another's state.
 * Most cases run the real binary, as a user's pipe would.
 */

const BUILT_SQLITE = new URL('../../dist/src/targets/sqlite.js', import.meta.url).href;

let tmp: ReturnType<typeof tempDir>;
let db: string;
beforeEach(() => {
  tmp = tempDir('sync-sqlite-integrity-');
  db = join(tmp.dir, 'k.db');
});
afterEach(() => tmp.cleanup());

function query(sql: string, ...params: unknown[]): Array<Record<string, unknown>> {
  const conn = new Database(db, { readonly: true });
  conn.defaultSafeIntegers(true);
  try {
    return conn.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    conn.close();
  }
}

const line = (m: object): string => JSON.stringify(m);
const schema = (stream: string, properties: object = { id: { type: 'integer' } }, keys = ['id'], extra: object = {}): string =>
  line({ type: 'SCHEMA', stream, schema: { properties }, key_properties: keys, ...extra });
const record = (stream: string, r: object, extra: object = {}): string => line({ type: 'RECORD', stream, record: r, ...extra });
const state = (value: unknown): string => line({ type: 'STATE', value });
const target = (input: string[], ...flags: string[]) =>
  runSync(['target', `sqlite:${db}`, '--quiet', ...flags], { input: input.join('\n') + '\n', cwd: tmp.dir });

/** The stored state of `id`, parsed. */
function storedState(id = 'singer'): unknown {
  const row = query('SELECT value FROM _sync_state WHERE id = ?', id)[0];
  return row ? JSON.parse(row.value as string) : undefined;
}

describe('SQLite target: state never ahead of data', () => {
  it('a commit that fails for a lock cancels the commits queued behind it', async () => {
    // In process, to hold the lock exactly while the first batch is being written; the built
    // module, because the writer thread runs compiled JavaScript.
    const { SqliteTarget } = (await import(BUILT_SQLITE)) as typeof import('../../src/targets/sqlite.js');
    const sqlite = new SqliteTarget(db, { stateId: 't', warn: () => {}, writer: 'thread', busyTimeoutMs: 1_000 });
    const loader = new Loader(sqlite, { validate: true, batchRecords: 2, maxBatchAgeMs: 60_000, warn: () => {} });
    const feed = (text: string, n: number) => loader.handle(parseMessage(text, n));
    await feed(schema('t'), 1);
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    let failure: unknown;
    try {
      for (let i = 1; i <= 6 && failure === undefined; i++) {
        try {
          await feed(record('t', { id: i }), 2 * i);
          await feed(state({ i }), 2 * i + 1);
        } catch (err) {
          failure = err;
          // Free the database at once: a commit queued behind the failed one would now succeed.
          holder.exec('ROLLBACK');
        }
      }
      await loader.finish().catch((err: unknown) => (failure ??= err));
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
      await sqlite.close();
    }
    expect(String(failure)).toMatch(/locked/);
    const saved = storedState('t') as { i: number } | undefined;
    const ids = query('SELECT id FROM t ORDER BY id').map((r) => Number(r.id));
    // Whatever was saved, every record it covers is in the table.
    if (saved !== undefined) for (let i = 1; i <= saved.i; i++) expect(ids).toContain(i);
  });

  it('sync target waits for a locked database, then exits 75 with no state ahead of its rows', async () => {
    const lines = [schema('t')];
    for (let i = 1; i <= 6; i++) lines.push(record('t', { id: i }), state({ i }));
    const child = startSync(['target', `sqlite:${db}`, '--quiet', '--batch-size', '2'], { cwd: tmp.dir });
    const done = outputOf(child);
    // The table exists before the lock is taken, so what waits is a batch, not the schema.
    child.stdin?.write(`${lines[0] ?? ''}\n`);
    await until(() => query(`SELECT name FROM sqlite_schema WHERE name = 't'`).length === 1);
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    child.stdin?.end(lines.slice(1).join('\n') + '\n');
    const result = await done;
    holder.exec('ROLLBACK');
    holder.close();
    expect(result.code, result.stderr).toBe(75);
    expect(result.stderr).toMatch(/locked by another connection.*try again later/);
    expect(storedState()).toBeUndefined();
    expect(result.stdout).toBe('');
  }, 60_000);

  it('sync run locked out past the busy timeout exits 75, and the records its summary calls committed are the rows stored', async () => {
    // Big enough that the run is far from done when its first commit shows.
    const env = { SYNC_SAMPLE_CUSTOMERS: '50000', SYNC_SAMPLE_ORDERS: '500000', SYNC_SAMPLE_NOW: '2026-01-01T00:00:00Z' };
    const child = startSync(['run', 'sample', '--target', `sqlite:${db}`], { env, cwd: tmp.dir });
    const done = outputOf(child);
    // Some batches are committed, with their state, before another connection takes the write lock.
    await until(() => query(`SELECT count(*) AS n FROM _sync_state WHERE id = 'sample'`)[0]?.['n'] === 1n, 'the first commit');
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    const result = await done;
    holder.exec('ROLLBACK');
    holder.close();
    expect(result.code, result.stderr).toBe(75);
    const said = /stopped: sample → sqlite:.*; ([\d,]+) records? committed\n/.exec(result.stderr);
    expect(said, result.stderr).not.toBeNull();
    const committed = Number((said?.[1] ?? '').replaceAll(',', ''));
    // Orders come after customers: their table exists only if the run got that far.
    let stored = 0;
    for (const { name } of query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('customers', 'orders')`)) {
      stored += Number(query(`SELECT count(*) AS n FROM "${String(name)}"`)[0]?.['n']);
    }
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBe(stored);
    // No bookmark was left ahead of its rows: the next run reads what this one could not write.
    const rerun = await runSync(['run', 'sample', '--target', `sqlite:${db}`, '--quiet'], { env, cwd: tmp.dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(query('SELECT count(*) AS n FROM customers')).toEqual([{ n: 50_000n }]);
    expect(query('SELECT count(*) AS n FROM orders')).toEqual([{ n: 500_000n }]);
  }, 120_000);

  it('300 streams committed one record at a time never lock the target out', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(schema(`t${i}`), record(`t${i}`, { id: i }), state({ i }));
    const result = await target(lines, '--batch-size', '1');
    expect(result.code, result.stderr).toBe(0);
    expect(storedState()).toEqual({ i: 299 });
    expect(query(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name LIKE 't%'`)).toEqual([{ n: 300n }]);
    expect(query('SELECT id FROM t299')).toEqual([{ id: 299n }]);
  }, 60_000);

  it('two loads into one file at the same time both finish, each with all its rows', async () => {
    const input = (stream: string) => {
      const lines = [schema(stream)];
      for (let i = 0; i < 20_000; i++) {
        lines.push(record(stream, { id: i }));
        if (i % 100 === 99) lines.push(state({ stream, i }));
      }
      return lines.join('\n') + '\n';
    };
    const [a, b] = await Promise.all([
      runSync(['target', `sqlite:${db}`, '--quiet', '--batch-size', '100', '--state-id', 'a'], { input: input('a'), cwd: tmp.dir }),
      runSync(['target', `sqlite:${db}`, '--quiet', '--batch-size', '100', '--state-id', 'b'], { input: input('b'), cwd: tmp.dir }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(query('SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b')).toEqual([{ a: 20_000n, b: 20_000n }]);
  }, 120_000);

  it('two sync runs with different state ids into one file at the same time both succeed', async () => {
    const env = { SYNC_SAMPLE_ORDERS: '20000', SYNC_SAMPLE_CUSTOMERS: '2000', SYNC_SAMPLE_NOW: '2026-01-01T00:00:00Z' };
    const run = (id: string) => runSync(['run', 'sample', '--target', `sqlite:${db}`, '--state-id', id], { env, cwd: tmp.dir });
    const [a, b] = await Promise.all([run('one'), run('two')]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(query('SELECT count(*) AS n FROM orders')).toEqual([{ n: 20_000n }]);
    expect(query(`SELECT count(*) AS n FROM _sync_state WHERE id IN ('one', 'two')`)).toEqual([{ n: 2n }]);
  }, 120_000);

  it('ACTIVATE_VERSION retires only older versions, even while the batch before it is being written', async () => {
    const s = schema('full');
    const rec = (id: number, version: number) => record('full', { id }, { version });
    expect((await target([s, rec(1, 100), rec(2, 100)], '--batch-size', '2')).code).toBe(0);
    const result = await target([s, rec(1, 200), rec(2, 200), line({ type: 'ACTIVATE_VERSION', stream: 'full', version: 200 })], '--batch-size', '2');
    expect(result.code, result.stderr).toBe(0);
    expect(query('SELECT id, _sdc_table_version AS v, _sdc_deleted_at AS gone FROM "full" ORDER BY id')).toEqual([
      { id: 1n, v: 200n, gone: null },
      { id: 2n, v: 200n, gone: null },
    ]);
  });

  it('a message type it does not understand stops the load before the state after it', async () => {
    const result = await target([schema('t'), record('t', { id: 1 }), state({ n: 1 }), line({ type: 'SOMETHING', stream: 't' }), state({ n: 2 })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 4: .*"SOMETHING" is not supported/);
    expect(result.stdout.trim().split('\n')).toEqual(['{"n":1}']);
    expect(storedState()).toEqual({ n: 1 });
  });
});

describe('SQLite target: names', () => {
  it('streams whose names differ only in case get tables of their own', async () => {
    const result = await target([schema('orders'), schema('Orders', { id: { type: 'string' } }), record('orders', { id: 1 }), record('Orders', { id: 'A' })]);
    expect(result.code, result.stderr).toBe(0);
    expect(query('SELECT id FROM orders')).toEqual([{ id: 1n }]);
    expect(query('SELECT id FROM Orders_2')).toEqual([{ id: 'A' }]);
    // The choice holds on the next load, whichever stream comes first.
    expect((await target([schema('Orders', { id: { type: 'string' } }), record('Orders', { id: 'B' })])).code).toBe(0);
    expect(query('SELECT id FROM Orders_2 ORDER BY id')).toEqual([{ id: 'A' }, { id: 'B' }]);
    expect(query('SELECT count(*) AS n FROM orders')).toEqual([{ n: 1n }]);
  });

  it('a stream named like the index of another table is refused as reserved, leaving that table whole', async () => {
    const result = await target([schema('orders'), record('orders', { id: 1 }), schema('_sync_key_orders'), record('_sync_key_orders', { id: 2 })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"_sync_key_orders" cannot be a SQLite table: .*reserved/);
    expect(query('SELECT id FROM orders')).toEqual([{ id: 1n }]);
  });

  it('no stream can write the state table, in any case', async () => {
    expect((await target([schema('t'), record('t', { id: 1 }), state({ bookmark: '2024-01-01' })], '--state-id', 'sample')).code).toBe(0);
    for (const name of ['_Sync_State', '_SYNC_STATE', 'SQLITE_master']) {
      const hostile = await target([
        schema(name, { id: { type: 'string' }, value: { type: 'string' }, updated_at: { type: 'string' } }),
        record(name, { id: 'sample', value: '{"bookmark":"2099-01-01"}', updated_at: 'x' }),
      ]);
      expect(hostile.code, name).toBe(1);
      expect(hostile.stderr).toMatch(/reserved/);
    }
    expect(storedState('sample')).toEqual({ bookmark: '2024-01-01' });
  });

  const surrogates = [
    schema('u', { id: { type: 'integer' }, '\ud800': { type: 'string' }, '\udc00': { type: 'string' }, ID: { type: 'string' } }),
    line({ type: 'RECORD', stream: 'u', record: { id: 1, '\ud800': 'high', '\udc00': 'low', ID: 'upper' } }),
  ];

  it('property names SQLite cannot store apart (lone surrogates, case) keep their values apart', async () => {
    const result = await target(surrogates, '--no-validate');
    expect(result.code, result.stderr).toBe(0);
    const row = query('SELECT * FROM u')[0] as Record<string, unknown>;
    expect(Object.values(row).map(String).sort()).toEqual(['1', 'high', 'low', 'upper']);
  });

  it('a property name that is not valid Unicode cannot be validated: a clear error, not an internal one', async () => {
    const result = await target(surrogates);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 1: .*"\\ud800" that is not valid Unicode .*--no-validate/);
    expect(result.stderr).not.toMatch(/internal error/);
  });
});

describe('SQLite target: odd shapes', () => {
  it('a keyed stream whose schema lists no properties gets its key column and upserts on it', async () => {
    const bare = line({ type: 'SCHEMA', stream: 'bare', schema: { type: 'object' }, key_properties: ['id'] });
    const result = await target([bare, record('bare', { id: 1, v: 'a' }), record('bare', { id: 1, v: 'b' })], '--no-validate');
    expect(result.code, result.stderr).toBe(0);
    expect(query('SELECT id, v FROM bare')).toEqual([{ id: 1n, v: 'b' }]);
  });

  it('sync run into jsonl:FILE where FILE is a file is a usage error naming it', async () => {
    const file = join(tmp.dir, 'out.txt');
    (await import('node:fs')).writeFileSync(file, 'x');
    const result = await runSync(['run', 'sample', '--target', `jsonl:${file}`], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/out\.txt is a file, not a folder/);
    expect(result.stderr).not.toMatch(/internal error/);
  });
});

describe('SQLite target: numbers and versions', () => {
  it('keeps integers beyond 64 bits exact, so distinct ids stay distinct rows', async () => {
    const input = [schema('big'), '{"type":"RECORD","stream":"big","record":{"id":12345678901234567890123}}', '{"type":"RECORD","stream":"big","record":{"id":18446744073709551616}}', '{"type":"RECORD","stream":"big","record":{"id":18446744073709551617}}'];
    const result = await target(input);
    expect(result.code, result.stderr).toBe(0);
    expect(query('SELECT CAST(id AS TEXT) AS id FROM big ORDER BY rowid')).toEqual([
      { id: '12345678901234567890123' },
      { id: '18446744073709551616' },
      { id: '18446744073709551617' },
    ]);
  });

  it('stores whole numbers as integers in columns of no single type', async () => {
    const result = await target([
      schema('t', { id: { type: 'integer' }, p: {}, q: { type: ['integer', 'string'] } }),
      record('t', { id: 1, p: 202, q: 7 }),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(query('SELECT p, typeof(p) AS tp, q, typeof(q) AS tq FROM t')).toEqual([{ p: 202n, tp: 'integer', q: 7n, tq: 'integer' }]);
  });

  it('refuses to round a huge integer into a numeric column made by an older version', async () => {
    const old = new Database(db);
    old.exec('CREATE TABLE legacy (id INTEGER, n INTEGER); CREATE UNIQUE INDEX _sync_key_legacy ON legacy (id)');
    old.close();
    const result = await target([schema('legacy', { id: { type: 'integer' }, n: { type: 'integer' } }), '{"type":"RECORD","stream":"legacy","record":{"id":1,"n":18446744073709551616}}']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/18446744073709551616 does not fit the numeric column "n"/);
    expect(query('SELECT count(*) AS n FROM legacy')).toEqual([{ n: 0n }]);
  });

  const versioned = schema('v', { id: { type: 'integer' }, s: { type: 'string' }, updated_at: { type: 'string', format: 'date-time' } }, ['id'], {
    bookmark_properties: ['updated_at'],
  });

  it('refuses a date-time that is not one, naming the line', async () => {
    const result = await target([versioned, record('v', { id: 1, s: 'bad', updated_at: '2024-13-45T99:00:00Z' })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 2: .*updated_at must match format "date-time"/);
  });

  it('refuses a date that is no day of the calendar, and takes other formats as written', async () => {
    const dated = JSON.stringify({ type: 'SCHEMA', stream: 'd', schema: { properties: { id: { type: 'integer' }, day: { type: 'string', format: 'date' }, mail: { type: 'string', format: 'email' } } }, key_properties: ['id'] });
    const good = await target([dated, record('d', { id: 1, day: '2024-02-29', mail: 'not quite an address' })]);
    expect(good.code, good.stderr).toBe(0);
    const bad = await target([dated, record('d', { id: 2, day: '2023-02-29', mail: 'a@b.c' })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/line 2: .*day must match format "date"/);
  });

  it('without validation, a version that is not an instant never outranks one that is', async () => {
    const result = await target(
      [
        versioned,
        record('v', { id: 1, s: 'garbage', updated_at: '2024-13-45T99:00:00Z' }),
        record('v', { id: 1, s: 'valid', updated_at: '2024-01-01T00:00:00Z' }),
        record('v', { id: 2, s: 'valid', updated_at: '2024-01-01T00:00:00Z' }),
        record('v', { id: 2, s: 'garbage', updated_at: 'not a date' }),
      ],
      '--no-validate',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(query('SELECT id, s FROM v ORDER BY id')).toEqual([
      { id: 1n, s: 'valid' },
      { id: 2n, s: 'valid' },
    ]);
  });
});

/** Exit code and output of a child whose stdin the test writes itself. */
function outputOf(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
