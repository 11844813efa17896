import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, startSync, tempDir } from '../helpers/cli.js';

/** What `sync target` does with input that is huge, deep or odd: through the real binary. */

const tmp = tempDir('sync-target-input-');
afterAll(tmp.cleanup);

let dbs = 0;
const freshDb = (): string => join(tmp.dir, `target-${++dbs}.db`);

const SCHEMA = '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"},"v":{}}},"key_properties":["id"]}';
/** Two records and the state between them, as the lines before the one under test. */
const BEFORE = [SCHEMA, '{"type":"RECORD","stream":"s","record":{"id":1}}', '{"type":"STATE","value":{"n":1}}', '{"type":"RECORD","stream":"s","record":{"id":2}}'];

function query<T>(db: string, sql: string): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}
const ids = (db: string): number[] => query<{ id: number }>(db, 'SELECT id FROM s ORDER BY id').map((r) => r.id);

describe('sync target: long lines', () => {
  it('loads a 30 MB line', async () => {
    const db = freshDb();
    const value = 'x'.repeat(30_000_000);
    const input = [SCHEMA, `{"type":"RECORD","stream":"s","record":{"id":7,"v":"${value}"}}`, '{"type":"STATE","value":{"n":30}}', ''].join('\n');
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"n":30}\n');
    expect(query(db, 'SELECT id, length(v) AS length FROM s')).toEqual([{ id: 7, length: 30_000_000 }]);
  });

  it('refuses a line past 128 MiB, naming it, after committing the lines before it', async () => {
    const db = freshDb();
    const head = Buffer.from([...BEFORE, '{"type":"RECORD","stream":"s","record":{"id":3,"v":"'].join('\n'));
    const input = Buffer.concat([head, Buffer.alloc(128 * 1_048_576, 'x'), Buffer.from('"}}\n{"type":"STATE","value":{"n":2}}\n')]);
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('sync: error: stdin line 5: line longer than 128 MiB, the most a line may hold\n');
    expect(result.stdout).toBe('{"n":1}\n');
    expect(ids(db)).toEqual([1, 2]);
  });

  it('stops on SIGTERM while a long line is still arriving, keeping what was committed', async () => {
    const db = freshDb();
    // One record per commit, so the state is printed (committed) before the long line starts.
    const child = startSync(['target', `sqlite:${db}`, '--batch-size', '1']);
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    // Not the helper's collect: it would close stdin at once.
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const committed = new Promise<void>((resolve) =>
      child.stdout?.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('\n')) resolve();
      }),
    );
    child.stdin?.write(BEFORE.join('\n') + '\n');
    await committed;
    // Half a line, and the input stays open: the target must not wait for the rest.
    await new Promise<void>((resolve, reject) =>
      child.stdin?.write(`{"type":"RECORD","stream":"s","record":{"id":3,"v":"${'x'.repeat(8_000_000)}`, (err) => (err ? reject(err) : resolve())),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain('sync: stopped: interrupted by SIGTERM; what was written is committed');
    expect(stdout).toBe('{"n":1}\n');
    expect(ids(db)).toEqual([1, 2]);
  }, 20_000);
});

describe('sync target: deep nesting', () => {
  const deep = (depth: number, inner = '1'): string => '['.repeat(depth) + inner + ']'.repeat(depth);
  const schemaOf = (levels: number): string =>
    `{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":${'{"type":"object","properties":{"a":'.repeat(levels)}{}${'}}'.repeat(levels)}}},"key_properties":["id"]}`;
  const itemsSchemaOf = (levels: number): string =>
    `{"type":"SCHEMA","stream":"t","schema":{"type":"object","properties":{"id":${'{"type":"array","items":'.repeat(levels)}{}${'}'.repeat(levels)}}},"key_properties":["id"]}`;

  it.each([
    ['a 100,000-deep STATE', `{"type":"STATE","value":${deep(100_000)}}`, 'refused: nesting deeper than 1000 levels of arrays and objects at position 1024'],
    ['a 100,000-deep RECORD', `{"type":"RECORD","stream":"s","record":{"id":3,"v":${deep(100_000)}}}`, 'refused: nesting deeper than 1000 levels'],
    ['a deep RECORD with long numbers', `{"type":"RECORD","stream":"s","record":{"id":3,"v":${deep(5_000, '12345678901234567890')}}}`, 'refused: nesting deeper than 1000 levels'],
    ['a deep message', deep(100_000), 'refused: nesting deeper than 1000 levels'],
    ['a 5,000-level schema', schemaOf(5_000), 'refused: nesting deeper than 1000 levels'],
    ['a 300-level schema of items', itemsSchemaOf(300), 'SCHEMA: "schema" is nested deeper than 100 levels of arrays and objects'],
    ['a 60-level schema of properties', schemaOf(60), 'SCHEMA: "schema" is nested deeper than 100 levels of arrays and objects'],
  ])('refuses %s with the line number, after committing the lines before it', async (_name, line, problem) => {
    const db = freshDb();
    const result = await runSync(['target', `sqlite:${db}`], { input: [...BEFORE, line, '{"type":"STATE","value":{"n":2}}', ''].join('\n') });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.stderr).toContain(`sync: error: stdin line 5: ${problem}`);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('{"n":1}\n');
    expect(ids(db)).toEqual([1, 2]);
  });

  it('loads values and schemas at the maximum depths', async () => {
    const db = freshDb();
    // The message is level 1, the record 2, then 997 arrays and the innermost object: 1,000.
    const record = `{"type":"RECORD","stream":"s","record":{"id":3,"v":${deep(997, '{"big":12345678901234567890}')}}}`;
    const state = `{"type":"STATE","value":${deep(999)}}`;
    // The items schema nests exactly 100 levels: schema, properties, 97 arrays' schemas, {}.
    const input = [SCHEMA, record, itemsSchemaOf(97), schemaOf(48), '{"type":"RECORD","stream":"t","record":{"id":{"a":{}}}}', state, ''].join('\n');
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${deep(999)}\n`);
    expect(query<{ v: string }>(db, 'SELECT v FROM s')[0]?.v).toBe(deep(997, '{"big":12345678901234567890}'));
  });
});

describe('sync target: numbers as written', () => {
  it('keeps -0 as -0', async () => {
    const out = join(tmp.dir, 'negative-zero');
    const input = [SCHEMA, '{"type":"RECORD","stream":"s","record":{"id":1,"v":-0}}', '{"type":"RECORD","stream":"s","record":{"id":2,"v":[-0.0,-0e3,0,-0.5]}}'].join('\n');
    const result = await runSync(['target', `jsonl:${out}`], { input });
    expect(result.code).toBe(0);
    expect(readFileSync(join(out, 's.jsonl'), 'utf8')).toBe('{"id":1,"v":-0}\n{"id":2,"v":[-0.0,-0e3,0,-0.5]}\n');
    const stdout = await runSync(['target', '-'], { input });
    expect(stdout.stdout.split('\n')).toContain('{"type":"RECORD","stream":"s","record":{"id":1,"v":-0}}');
  });
});
