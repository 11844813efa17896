import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';

/**
 * `sync target` fed by a tap in the Meltano SDK's batch mode: the records are in files named
 * by a BATCH message's manifest, and must be loaded before the STATE that follows is committed.
 */

const FIXTURES = resolve(import.meta.dirname, '../fixtures/singer-batch');
const tmp = tempDir('sync-batch-');
afterAll(tmp.cleanup);

let folders = 0;
/** A fresh folder holding the fixture's batch files, gzipped or not; returns it and its URL. */
function batchFolder(gzip: boolean): { dir: string; url: (name: string) => string } {
  const dir = join(tmp.dir, `batch-${++folders}`);
  mkdirSync(dir);
  for (const [source, target] of [
    ['users-0001.jsonl', 'users-6f1d2c4e-0001.json'],
    ['users-0002.jsonl', 'users-6f1d2c4e-0002.json'],
  ] as const) {
    const bytes = readFileSync(join(FIXTURES, source));
    if (gzip) writeFileSync(join(dir, `${target}.gz`), gzipSync(bytes));
    else writeFileSync(join(dir, target), bytes);
  }
  return { dir, url: (name) => pathToFileURL(join(dir, name)).href };
}

/** The fixture's tap output, its manifest pointing into `dir`. */
function tapOutput(dir: string): string {
  return readFileSync(join(FIXTURES, 'users.singer'), 'utf8').replaceAll('file:///BATCH_DIR/', `${pathToFileURL(dir).href}/`);
}

const SCHEMA = readFileSync(join(FIXTURES, 'users.singer'), 'utf8').split('\n')[0] as string;
const STATE = (value: unknown): string => JSON.stringify({ type: 'STATE', value });
const BATCH = (manifest: string[], encoding: unknown = { format: 'jsonl', compression: 'gzip' }): string =>
  JSON.stringify({ type: 'BATCH', stream: 'users', encoding, manifest });

function rows(db: string): Array<Record<string, unknown>> {
  const d = new Database(db, { readonly: true });
  d.defaultSafeIntegers(true);
  try {
    return d.prepare('SELECT id, name, balance, tags FROM users ORDER BY id').all() as Array<Record<string, unknown>>;
  } finally {
    d.close();
  }
}

let dbs = 0;
const freshDb = (): string => join(tmp.dir, `target-${++dbs}.db`);

describe('sync target: BATCH messages', () => {
  it('loads the records of gzipped batch files, then commits the STATE after them', async () => {
    const { dir } = batchFolder(true);
    const db = freshDb();
    const result = await runSync(['target', `sqlite:${db}`], { input: tapOutput(dir) });
    expect(result.stderr).not.toMatch(/warning|error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"bookmarks":{"users":{"replication_key":"updated_at","replication_key_value":"2024-02-03T10:00:00+00:00"}}}\n');
    expect(result.stderr).toMatch(/users 5 \(5 records/);
    expect(rows(db)).toEqual([
      { id: 1n, name: 'Ada', balance: 10.5, tags: '["admin"]' },
      // The newer version from the second file won.
      { id: 2n, name: 'Grace H.', balance: 7n, tags: '["x"]' },
      { id: 3n, name: 'Linus', balance: null, tags: null },
      // Numbers stay exact: an integer beyond 2^53, a decimal no double holds (kept as text).
      { id: 9007199254740993n, name: 'Ken é☃', balance: '12345678901234567890.25', tags: '["a","b"]' },
    ]);
  });

  it('reads uncompressed JSON Lines files, in manifest order, with their records as written', async () => {
    const { url } = batchFolder(false);
    const out = join(tmp.dir, 'jsonl-out');
    const input = [SCHEMA, BATCH([url('users-6f1d2c4e-0001.json'), url('users-6f1d2c4e-0002.json')], { format: 'jsonl' }), STATE({ n: 1 })].join('\n');
    const result = await runSync(['target', `jsonl:${out}`], { input });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"n":1}\n');
    const written = readFileSync(join(out, 'users.jsonl'), 'utf8').trim().split('\n');
    expect(written.map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([1, 2, 3, 9007199254740992, 2]);
    // -0 and the long numbers are written as the tap wrote them.
    expect(written[1]).toContain('"balance":-0,');
    expect(written[3]).toContain('"id":9007199254740993,');
    expect(written[3]).toContain('"balance":12345678901234567890.25,');
  });

  it('stops at a missing file, naming it; records before it are kept, the STATE after it is not committed', async () => {
    const { url } = batchFolder(true);
    const db = freshDb();
    const missing = url('users-6f1d2c4e-0003.json.gz');
    const input = [
      SCHEMA,
      '{"type":"RECORD","stream":"users","record":{"id":100,"name":"before"}}',
      STATE({ n: 1 }),
      BATCH([url('users-6f1d2c4e-0001.json.gz'), missing]),
      STATE({ n: 2 }),
    ].join('\n');
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.code).toBe(1);
    const path = new URL(missing).pathname;
    expect(result.stderr).toContain(`sync: error: stdin line 4: BATCH file ${path}: cannot be read (ENOENT: no such file or directory`);
    expect(result.stdout).toBe('{"n":1}\n');
    expect(rows(db).map((r) => r['id'])).toEqual([1n, 2n, 3n, 100n]);
  });

  it('names the file and its line for a line that is not JSON, and for a record its schema refuses', async () => {
    const { dir, url } = batchFolder(false);
    writeFileSync(join(dir, 'broken.json'), '{"id": 5, "name": "ok"}\n\n{"id": 6, "name": \n');
    writeFileSync(join(dir, 'invalid.json'), '{"id": 7, "name": "ok"}\n{"id": 8, "name": 42}\n');
    writeFileSync(join(dir, 'array.json'), '[1, 2]\n');
    const cases = [
      ['broken.json', 'line 3: malformed JSON (unexpected end of JSON at position 19)'],
      ['invalid.json', 'line 2: RECORD of stream "users" is invalid: name must be string,null'],
      ['array.json', 'line 1: a record must be a JSON object'],
    ] as const;
    for (const [name, problem] of cases) {
      const db = freshDb();
      const input = [SCHEMA, STATE({ n: 1 }), BATCH([url('users-6f1d2c4e-0001.json'), url(name)], { format: 'jsonl', compression: 'none' }), STATE({ n: 2 })].join('\n');
      const result = await runSync(['target', `sqlite:${db}`], { input });
      expect(result.code, name).toBe(1);
      expect(result.stderr).toContain(`sync: error: stdin line 3: BATCH file ${join(dir, name)} ${problem}\n`);
      expect(result.stdout, name).toBe('{"n":1}\n');
    }
  });

  it('names a file that is not gzip although the encoding says so', async () => {
    const { dir, url } = batchFolder(false);
    const db = freshDb();
    const input = [SCHEMA, BATCH([url('users-6f1d2c4e-0001.json')]), STATE({ n: 2 })].join('\n');
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`sync: error: stdin line 2: BATCH file ${join(dir, 'users-6f1d2c4e-0001.json')}: cannot be read (incorrect header check)`);
    expect(result.stdout).toBe('');
  });

  it('refuses a format it cannot read and a manifest that is not local files, before reading anything', async () => {
    const { url } = batchFolder(true);
    const parquet = await runSync(['target', `sqlite:${freshDb()}`], {
      input: [SCHEMA, STATE({ n: 1 }), BATCH([url('users-6f1d2c4e-0001.json.gz')], { format: 'parquet', compression: 'gzip' }), STATE({ n: 2 })].join('\n'),
    });
    expect(parquet.code).toBe(1);
    expect(parquet.stderr).toContain('sync: error: stdin line 3: BATCH: unsupported encoding format "parquet" (only "jsonl" can be read)');
    expect(parquet.stdout).toBe('{"n":1}\n');
    const s3 = await runSync(['target', `sqlite:${freshDb()}`], { input: [SCHEMA, BATCH(['s3://bucket/users-1.json.gz']), STATE({ n: 2 })].join('\n') });
    expect(s3.code).toBe(1);
    expect(s3.stderr).toContain('sync: error: stdin line 2: BATCH: manifest entry 1 is not a file:// URL: "s3://bucket/users-1.json.gz" (only local files can be read)');
    expect(s3.stdout).toBe('');
  });
});
