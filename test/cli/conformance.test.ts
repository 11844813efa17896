import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';

/** The Singer target conformance streams, fed to the real binary: `sync target sqlite:…`. */
const STREAMS = resolve(import.meta.dirname, '../fixtures/target-streams');
// The suite also expects invalid_schema (a SCHEMA without properties) to fail; sync accepts
// such a schema and takes its records as they come, so here it loads.
const MUST_FAIL: Record<string, RegExp> = {
  record_before_schema: /line 1: RECORD for stream "test_record_before_schema" before its SCHEMA/,
  record_missing_key_property: /line 2: .*key property "id" is missing/,
  record_missing_required_property: /line 2: .*must have required property 'id'/,
};

const tmp = tempDir('sync-conformance-');
afterAll(tmp.cleanup);

function lastStateValue(text: string): unknown {
  const states = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; value?: unknown }).filter((m) => m.type === 'STATE');
  return states.at(-1)?.value;
}

function rows(db: string, table: string): Array<Record<string, unknown>> {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`).all() as Array<Record<string, unknown>>;
  } finally {
    d.close();
  }
}

describe('sync target sqlite: conformance streams', () => {
  const files = readdirSync(STREAMS).filter((f) => f.endsWith('.singer')).sort();

  it('has every stream of the conformance suite', () => {
    expect(files.length).toBe(20);
  });

  for (const file of files) {
    const name = file.replace(/\.singer$/, '');
    it(`${name} ${MUST_FAIL[name] ? 'fails with the line and the problem' : 'loads'}`, async () => {
      const input = readFileSync(join(STREAMS, file));
      const db = join(tmp.dir, `${name}.db`);
      const result = await runSync(['target', `sqlite:${db}`], { input });
      const expected = MUST_FAIL[name];
      if (expected) {
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(expected);
        expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
        return;
      }
      expect(result.stderr).not.toMatch(/error|warning/i);
      expect(result.code).toBe(0);
      const printed = result.stdout.split('\n').filter((l) => l !== '');
      const last = lastStateValue(input.toString('utf8'));
      if (last === undefined) expect(printed).toEqual([]);
      else expect(JSON.parse(printed.at(-1) as string)).toEqual(last);
    });
  }

  it('duplicate_records keeps one row per key, the last', async () => {
    const db = join(tmp.dir, 'duplicate_records.db');
    expect(rows(db, 'test_duplicate_records')).toEqual([
      { id: 1, metric: 100 },
      { id: 2, metric: 20 },
    ]);
  });

  it('encoded_string_data keeps every character, NUL and control characters included', async () => {
    const db = join(tmp.dir, 'encoded_string_data.db');
    const info = rows(db, 'test_strings').map((r) => r['info']);
    expect(info).toContain('απλή συμβολοσειρά');
    expect(info).toContain('简单的字串');
    expect(info).toContain('various " \\ / \n escape sequences');
    expect(info).toContain('Control Characters in string: \u0000 A \u0001');
    expect(info).toContain('Double quoting: \\u0000 \\u0041 \\u0001');
  });

  it('special_chars_in_attributes creates the table and columns with their exact names', async () => {
    const db = join(tmp.dir, 'special_chars_in_attributes.db');
    const [row] = rows(db, 'test:SpecialChars!in?attributes');
    expect(row?.['_id']).toBe('a2e98886');
    expect(JSON.parse(String(row?.['d']))).toEqual({ env: 'prod', 'agent:type': 'desktop', 'agent:os:version': '10.13.1' });
  });

  it('pk_updates switches the key mid-stream', async () => {
    const db = join(tmp.dir, 'pk_updates.db');
    expect(rows(db, 'example_stream').map((r) => r['email'])).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('schema_updates adds columns, objects and arrays as JSON', async () => {
    const db = join(tmp.dir, 'schema_updates.db');
    const all = rows(db, 'test_schema_updates');
    const third = all.find((r) => r['id'] === 3);
    expect(third?.['a3']).toBe(0);
    expect(JSON.parse(String(third?.['a4']))).toEqual({ id: 1, value: 1 });
    expect(JSON.parse(String(third?.['a5']))).toEqual(['banana', 'apple']);
  });

  it('no_primary_keys appends', async () => {
    const db = join(tmp.dir, 'no_primary_keys.db');
    expect(rows(db, 'test_no_pk')).toHaveLength(3);
  });

  it('a failing stream keeps what was committed before the bad line, with its state', async () => {
    const db = join(tmp.dir, 'partial.db');
    const input = [
      '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"s","record":{"id":1}}',
      '{"type":"STATE","value":{"n":1}}',
      '{"type":"RECORD","stream":"s","record":{"id":2}}',
      '{"type":"RECORD","stream":"s","record":{"id":"three"}}',
    ].join('\n');
    const result = await runSync(['target', `sqlite:${db}`, '--batch-size', '1'], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 5: .*id must be integer/);
    expect(result.stdout.trim().split('\n').map((l) => JSON.parse(l))).toContainEqual({ n: 1 });
    expect(rows(db, 's').map((r) => r['id'])).toEqual([1, 2]);
  });
});
