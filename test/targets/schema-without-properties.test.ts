import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';

/**
 * A SCHEMA without `properties` (`{"type": "object"}`: any record) is accepted: the file
 * targets write records as they are, SQLite makes a column of each property a record brings.
 */

const tmp = tempDir('sync-no-properties-');
afterAll(tmp.cleanup);

const input = [
  '{"type":"SCHEMA","stream":"events","schema":{"type":"object"},"key_properties":[]}',
  '{"type":"RECORD","stream":"events","record":{"id":1,"kind":"click","at":{"x":3,"y":4}}}',
  '{"type":"RECORD","stream":"events","record":{"id":2,"note":"a, \\"quoted\\" text"}}',
  '{"type":"STATE","value":{"events":2}}',
].join('\n');

describe('a SCHEMA without properties', () => {
  it('jsonl: writes the records as they are', async () => {
    const dir = join(tmp.dir, 'jsonl');
    const result = await runSync(['target', `jsonl:${dir}`], { input });
    expect(result.stderr).not.toMatch(/error|warning/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"events":2}\n');
    expect(readFileSync(join(dir, 'events.jsonl'), 'utf8')).toBe('{"id":1,"kind":"click","at":{"x":3,"y":4}}\n{"id":2,"note":"a, \\"quoted\\" text"}\n');
  });

  it('csv: takes the columns from the records', async () => {
    const dir = join(tmp.dir, 'csv');
    const result = await runSync(['target', `csv:${dir}`], { input });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"events":2}\n');
    expect(readFileSync(join(dir, 'events.csv'), 'utf8')).toBe('id,kind,at,note\n1,click,"{""x"":3,""y"":4}",\n2,,,"a, ""quoted"" text"\n');
  });

  it('sqlite: creates the table with the properties the records bring', async () => {
    const db = join(tmp.dir, 'no-properties.db');
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"events":2}\n');
    const sqlite = new Database(db, { readonly: true });
    try {
      expect(sqlite.prepare('SELECT id, kind, at, note FROM events ORDER BY id').all()).toEqual([
        { id: 1, kind: 'click', at: '{"x":3,"y":4}', note: null },
        { id: 2, kind: null, at: null, note: 'a, "quoted" text' },
      ]);
    } finally {
      sqlite.close();
    }
  });
});
