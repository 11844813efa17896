import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSync } from '../helpers/cli.js';
import { postgresAvailable, testSchema, type TestSchema } from '../helpers/postgres.js';

/** The Singer target conformance streams, fed to the real binary: `sync target postgres://…`. */

const STREAMS = resolve(import.meta.dirname, '../fixtures/target-streams');
const MUST_FAIL: Record<string, RegExp> = {
  record_before_schema: /line 1: RECORD for stream "test_record_before_schema" before its SCHEMA/,
  record_missing_key_property: /line 2: .*key property "id" is missing/,
  record_missing_required_property: /line 2: .*must have required property 'id'/,
};
/** Streams whose data PostgreSQL cannot hold as is: the substitution is announced. */
const WARNS: Record<string, RegExp> = {
  encoded_string_data: /stream "test_strings": 1 character PostgreSQL cannot store .* was stored as U\+FFFD/,
};

const available = await postgresAvailable('test/postgres/conformance.test.ts');

function lastStateValue(text: string): unknown {
  const states = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; value?: unknown }).filter((m) => m.type === 'STATE');
  return states.at(-1)?.value;
}

describe.skipIf(!available)('sync target postgres: conformance streams', () => {
  const files = readdirSync(STREAMS).filter((f) => f.endsWith('.singer')).sort();
  let schema: TestSchema | undefined;
  afterEach(async () => {
    await schema?.drop();
    schema = undefined;
  });
  /** Loads one conformance stream into a fresh schema. */
  async function load(name: string, ...flags: string[]) {
    schema = await testSchema();
    const input = readFileSync(join(STREAMS, `${name}.singer`));
    return { schema, input, result: await runSync(['target', schema.url, ...flags], { input }) };
  }

  it('has every stream of the conformance suite', () => {
    expect(files.length).toBe(20);
  });

  it('invalid_schema ends as it does with the SQLite target (what a SCHEMA without properties means is not the target\'s to decide)', async () => {
    const { result, input } = await load('invalid_schema');
    const sqlite = await runSync(['target', 'sqlite::memory:'], { input });
    const errorLine = (stderr: string): string | undefined => stderr.split('\n').find((l) => /error/i.test(l));
    expect(result.code).toBe(sqlite.code);
    expect(errorLine(result.stderr)).toBe(errorLine(sqlite.stderr));
    expect(result.stdout).toBe(sqlite.stdout);
  });

  for (const file of files.filter((f) => f !== 'invalid_schema.singer')) {
    const name = file.replace(/\.singer$/, '');
    it(`${name} ${MUST_FAIL[name] ? 'fails with the line and the problem' : 'loads'}`, async () => {
      const { input, result } = await load(name);
      const expected = MUST_FAIL[name];
      if (expected) {
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(expected);
        expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
        return;
      }
      const warning = WARNS[name];
      if (warning) expect(result.stderr).toMatch(warning);
      else expect(result.stderr).not.toMatch(/error|warning/i);
      expect(result.code).toBe(0);
      const printed = result.stdout.split('\n').filter((l) => l !== '');
      const last = lastStateValue(input.toString('utf8'));
      if (last === undefined) expect(printed).toEqual([]);
      else expect(JSON.parse(printed.at(-1) as string)).toEqual(last);
    });
  }

  it('duplicate_records keeps one row per key, the last', async () => {
    const { schema: s } = await load('duplicate_records');
    expect(await s.rows('test_duplicate_records')).toEqual([
      { id: '1', metric: '100' },
      { id: '2', metric: '20' },
    ]);
  });

  it('duplicate_records keeps the last row per key also when each record is its own commit', async () => {
    const { schema: s } = await load('duplicate_records', '--batch-size', '1');
    expect(await s.rows('test_duplicate_records')).toEqual([
      { id: '1', metric: '100' },
      { id: '2', metric: '20' },
    ]);
  });

  it('encoded_string_data keeps every character PostgreSQL can hold, and NUL as U+FFFD', async () => {
    const { schema: s } = await load('encoded_string_data');
    const info = (await s.rows('test_strings')).map((r) => r['info']);
    expect(info).toContain('απλή συμβολοσειρά');
    expect(info).toContain('简单的字串');
    expect(info).toContain('various " \\ / \n escape sequences');
    expect(info).toContain('Control Characters in string: \ufffd A \u0001');
    expect(info).toContain('Double quoting: \\u0000 \\u0041 \\u0001');
  });

  it('special_chars_in_attributes creates the table and columns with their exact names', async () => {
    const { schema: s } = await load('special_chars_in_attributes');
    const [row] = await s.rows('test:SpecialChars!in?attributes');
    expect(row?.['_id']).toBe('a2e98886');
    expect(row?.['d']).toEqual({ env: 'prod', 'agent:type': 'desktop', 'agent:os:version': '10.13.1' });
    expect(row?.['_sdc_table_version']).toBe('1541199424491');
  });

  it('pk_updates switches the key mid-stream', async () => {
    const { schema: s } = await load('pk_updates');
    expect((await s.rows('example_stream', 'email')).map((r) => r['email'])).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('schema_updates adds columns, with objects and arrays as jsonb', async () => {
    const { schema: s } = await load('schema_updates');
    const third = (await s.rows('test_schema_updates')).find((r) => r['id'] === '3');
    expect(third?.['a3']).toBe(false);
    expect(third?.['a4']).toEqual({ id: 1, value: 1 });
    expect(third?.['a5']).toEqual(['banana', 'apple']);
    const types = await s.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'test_schema_updates' ORDER BY ordinal_position`,
      [s.name],
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.data_type]))).toMatchObject({ id: 'numeric', a1: 'numeric', a2: 'text', a3: 'boolean', a4: 'jsonb', a5: 'jsonb' });
  });

  it('no_primary_keys appends', async () => {
    const { schema: s } = await load('no_primary_keys');
    expect(await s.rows('test_no_pk')).toHaveLength(3);
  });

  it('schema_no_properties still makes its table', async () => {
    const { schema: s } = await load('schema_no_properties');
    const tables = await s.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name NOT LIKE '\\_sync\\_%' ORDER BY 1`, [s.name]);
    expect(tables.length).toBeGreaterThan(0);
  });

  it('a failing stream keeps what was committed before the bad line, with its state', async () => {
    schema = await testSchema();
    const input = [
      '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"s","record":{"id":1}}',
      '{"type":"STATE","value":{"n":1}}',
      '{"type":"RECORD","stream":"s","record":{"id":2}}',
      '{"type":"RECORD","stream":"s","record":{"id":"three"}}',
    ].join('\n');
    const result = await runSync(['target', schema.url, '--batch-size', '1'], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 5: .*id must be integer/);
    expect(result.stdout.trim().split('\n').map((l) => JSON.parse(l))).toContainEqual({ n: 1 });
    expect((await schema.rows('s')).map((r) => r['id'])).toEqual(['1', '2']);
    expect(await schema.query(`SELECT value FROM "${schema.name}"._sync_state WHERE id = 'singer'`)).toEqual([{ value: '{"n":1}' }]);
  });
});
