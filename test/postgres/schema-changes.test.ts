import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync } from '../helpers/cli.js';
import { postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * Schemas change between runs and within one: new properties add columns, a property whose
 * type changes widens its column (never narrower, nothing dropped), keys can change, and a
 * table made by hand or by another writer is used as it is.
 */

const available = await postgresAvailable('test/postgres/schema-changes.test.ts');

const line = (m: object): string => JSON.stringify(m);
const schemaLine = (properties: object, keys: string[] = ['id']): string => line({ type: 'SCHEMA', stream: 's', schema: { properties }, key_properties: keys });
const rec = (record: object): string => line({ type: 'RECORD', stream: 's', record });

describe.skipIf(!available)('PostgreSQL target: schema changes', () => {
  let schema: TestSchema;
  beforeEach(async () => {
    schema = await testSchema();
  });
  afterEach(async () => schema.drop());
  const load = (lines: string[], ...flags: string[]) => runSync(['target', schema.url, ...flags], { input: lines.join('\n') + '\n' });
  const types = async (): Promise<Record<string, string>> => {
    const rows = await schema.query<{ name: string; type: string }>(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 's' ORDER BY ordinal_position`,
      [schema.name],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.type]));
  };
  const values = async (column: string): Promise<unknown[]> =>
    (await schema.query<{ v: unknown }>(`SELECT ${quote(column)} AS v FROM ${quote(schema.name)}.s ORDER BY id`)).map((r) => r.v);

  it('widens a column whose property changes type, keeping every stored value', async () => {
    expect((await load([schemaLine({ id: { type: 'integer' }, a: { type: 'integer' }, b: { type: 'string' }, c: { type: 'boolean' } }), rec({ id: 1, a: 10, b: 'text', c: true })])).code).toBe(0);
    expect(await types()).toMatchObject({ a: 'numeric', b: 'text', c: 'boolean' });
    const changed = schemaLine({ id: { type: 'integer' }, a: { type: 'string' }, b: { type: 'object' }, c: { type: 'integer' } });
    const result = await load([changed, rec({ id: 2, a: 'ten', b: { nested: true }, c: 5 })]);
    expect(result.stderr).not.toMatch(/error|warning/i);
    expect(result.code).toBe(0);
    expect(await types()).toMatchObject({ a: 'text', b: 'jsonb', c: 'text' });
    expect(await values('a')).toEqual(['10', 'ten']);
    expect(await values('b')).toEqual(['text', { nested: true }]);
    expect(await values('c')).toEqual(['true', '5']);
  });

  it('keeps a wider column wider when the schema goes back, converting the staged values', async () => {
    expect((await load([schemaLine({ id: { type: 'integer' }, a: { type: 'string' } }), rec({ id: 1, a: 'one' })])).code).toBe(0);
    expect((await load([schemaLine({ id: { type: 'integer' }, a: { type: 'integer' } }), rec({ id: 2, a: 2 }), rec({ id: 1, a: 1 })])).code).toBe(0);
    expect(await types()).toMatchObject({ a: 'text' });
    expect(await values('a')).toEqual(['1', '2']);
  });

  it('adds columns for new properties mid-stream and drops none', async () => {
    const result = await load([
      schemaLine({ id: { type: 'integer' }, a: { type: 'string' } }),
      rec({ id: 1, a: 'x' }),
      schemaLine({ id: { type: 'integer' }, b: { type: 'number' } }),
      rec({ id: 2, b: 1.5 }),
    ]);
    expect(result.code).toBe(0);
    expect(Object.keys(await types())).toEqual(['id', 'a', 'b']);
    expect(await values('a')).toEqual(['x', null]);
  });

  it('adds a jsonb column, with a warning, for a property its schema does not declare', async () => {
    const result = await load([schemaLine({ id: { type: 'integer' } }), rec({ id: 1 }), rec({ id: 2, extra: { any: ['json', 1] } }), rec({ id: 3, extra: 'text' })]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: stream "s": property "extra" is not in its schema; adding a column for it/);
    expect(await types()).toMatchObject({ extra: 'jsonb' });
    expect(await values('extra')).toEqual([null, { any: ['json', 1] }, 'text']);
  });

  it('refuses new key properties that stored rows repeat, saying so', async () => {
    expect((await load([schemaLine({ id: { type: 'integer' }, g: { type: 'string' } }, []), rec({ id: 1, g: 'same' }), rec({ id: 2, g: 'same' })])).code).toBe(0);
    const result = await load([schemaLine({ id: { type: 'integer' }, g: { type: 'string' } }, ['g']), rec({ id: 3, g: 'other' })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stream "s": cannot use key properties \["g"\]: rows already stored repeat that key/);
    expect(await values('id')).toEqual(['1', '2']);
  });

  it('writes into a table made by hand, using its own column types', async () => {
    await schema.query(`CREATE SCHEMA ${quote(schema.name)}`);
    await schema.query(`CREATE TABLE ${quote(schema.name)}.s (id bigint PRIMARY KEY, a varchar(20), made_by text DEFAULT 'hand')`);
    const result = await load([schemaLine({ id: { type: 'integer' }, a: { type: 'string' } }), rec({ id: 1, a: 'first' }), rec({ id: 1, a: 'second' }), rec({ id: 2, a: 'x' })]);
    expect(result.stderr).not.toMatch(/error|warning/i);
    expect(result.code).toBe(0);
    expect(await types()).toMatchObject({ id: 'bigint', a: 'character varying', made_by: 'text' });
    expect(await schema.query(`SELECT id::text, a, made_by FROM ${quote(schema.name)}.s ORDER BY id`)).toEqual([
      { id: '1', a: 'second', made_by: 'hand' },
      { id: '2', a: 'x', made_by: 'hand' },
    ]);
  });
});
