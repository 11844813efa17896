import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync } from '../helpers/cli.js';
import { postgresAvailable, testSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * The newest version of a row wins, whatever order versions arrive in: within one batch
 * (staged, one row per key), across commits (straight COPY for new keys, upsert once stored
 * rows are in the way), and across runs.
 */

const available = await postgresAvailable('test/postgres/versions.test.ts');

const line = (m: object): string => JSON.stringify(m);
const SCHEMA = line({
  type: 'SCHEMA',
  stream: 'items',
  schema: { properties: { id: { type: 'integer' }, label: { type: 'string' }, updated_at: { type: 'string', format: 'date-time' } } },
  key_properties: ['id'],
  bookmark_properties: ['updated_at'],
});
const item = (id: number, updatedAt: string, label = updatedAt): string => line({ type: 'RECORD', stream: 'items', record: { id, label, updated_at: updatedAt } });

/** Five versions of one row; the newest is not the longest or the last in text order. */
const VERSIONS = ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00.5Z', '2024-01-03T00:00:00+05:00', '2024-01-02T23:00:00-02:00', '2023-12-31T23:59:59.999999Z'];
/** 2024-01-03T01:00:00Z, written with an offset. */
const NEWEST = '2024-01-02T23:00:00-02:00';

/** Every rotation and the reverse: each version arrives first and last in some order. */
function orders(): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < VERSIONS.length; i++) out.push([...VERSIONS.slice(i), ...VERSIONS.slice(0, i)]);
  out.push([...VERSIONS].reverse());
  return out;
}

describe.skipIf(!available)('PostgreSQL target: the newest version wins', () => {
  let schema: TestSchema;
  beforeEach(async () => {
    schema = await testSchema();
  });
  afterEach(async () => schema.drop());
  const load = (lines: string[], ...flags: string[]) => runSync(['target', schema.url, '--quiet', ...flags], { input: lines.join('\n') + '\n' });
  const labels = async (): Promise<Array<[string, unknown]>> => (await schema.rows('items', 'id')).map((r) => [r['id'] as string, r['label']]);

  it('in one batch, in any order: one row per key, the newest', async () => {
    const sent = orders();
    // Key k gets the k-th order of the same versions; all keys travel in one batch.
    const input = [SCHEMA, ...sent.flatMap((order, k) => order.map((v) => item(k + 1, v)))];
    const result = await load(input);
    expect(result.code).toBe(0);
    expect(await labels()).toEqual(sent.map((_, k) => [String(k + 1), NEWEST]));
    const versions = await schema.query<{ v: string }>(`SELECT DISTINCT _sync_version AS v FROM "${schema.name}".items`);
    expect(versions).toEqual([{ v: '2024-01-03T01:00:00.000000Z' }]);
  });

  it('one commit per record, in any order: a stored newer row is never overwritten by an older one', async () => {
    const sent = orders();
    const input = [SCHEMA, ...sent.flatMap((order, k) => order.map((v) => item(k + 1, v)))];
    const result = await load(input, '--batch-size', '1');
    expect(result.code).toBe(0);
    expect(await labels()).toEqual(sent.map((_, k) => [String(k + 1), NEWEST]));
  });

  it('across runs: a second load with older and newer versions of stored rows keeps the newest of each', async () => {
    expect((await load([SCHEMA, item(1, '2024-06-01T00:00:00Z', 'first run'), item(2, '2024-06-01T00:00:00Z', 'first run')])).code).toBe(0);
    const second = await load([SCHEMA, item(1, '2024-05-01T00:00:00Z', 'older'), item(2, '2024-07-01T00:00:00Z', 'newer'), item(3, '2024-01-01T00:00:00Z', 'new row')]);
    expect(second.code).toBe(0);
    expect(await labels()).toEqual([
      ['1', 'first run'],
      ['2', 'newer'],
      ['3', 'new row'],
    ]);
  });

  it('equal versions: the later arrival wins, in a batch and across commits', async () => {
    const same = '2024-01-01T00:00:00Z';
    const input = [SCHEMA, item(1, same, 'a'), item(1, '2024-01-01T00:00:00.000Z', 'b'), item(1, same, 'c')];
    expect((await load(input)).code).toBe(0);
    expect(await labels()).toEqual([['1', 'c']]);
    expect((await load([SCHEMA, item(1, '2024-01-01T01:00:00+01:00', 'd')], '--batch-size', '1')).code).toBe(0);
    expect(await labels()).toEqual([['1', 'd']]);
  });

  it('numeric versions compare as numbers, not as text', async () => {
    const numbered = line({
      type: 'SCHEMA',
      stream: 'items',
      schema: { properties: { id: { type: 'integer' }, label: { type: 'string' }, seq: { type: 'integer' } } },
      key_properties: ['id'],
      bookmark_properties: ['seq'],
    });
    const rec = (seq: number | string, label: string): string => `{"type":"RECORD","stream":"items","record":{"id":1,"label":"${label}","seq":${seq}}}`;
    expect((await load([numbered, rec(10, 'ten'), rec(9, 'nine'), rec('100000000000000000000001', 'huge'), rec(99, 'ninety-nine')])).code).toBe(0);
    expect(await labels()).toEqual([['1', 'huge']]);
  });

  it('keys equal only as numbers (1 and 1.0) are one row, the newest', async () => {
    const decimalKeys = line({
      type: 'SCHEMA',
      stream: 'items',
      schema: { properties: { id: { type: 'number' }, label: { type: 'string' }, updated_at: { type: 'string', format: 'date-time' } } },
      key_properties: ['id'],
      bookmark_properties: ['updated_at'],
    });
    const input = [
      decimalKeys,
      '{"type":"RECORD","stream":"items","record":{"id":1.0,"label":"newer","updated_at":"2024-02-01T00:00:00Z"}}',
      '{"type":"RECORD","stream":"items","record":{"id":1,"label":"older","updated_at":"2024-01-01T00:00:00Z"}}',
    ];
    const result = await load(input);
    expect(result.code).toBe(0);
    expect((await schema.rows('items')).map((r) => r['label'])).toEqual(['newer']);
  });

  it('streams without key properties append every record, in order', async () => {
    const append = line({ type: 'SCHEMA', stream: 'log', schema: { properties: { n: { type: 'integer' } } }, key_properties: [] });
    const rec = (n: number): string => line({ type: 'RECORD', stream: 'log', record: { n } });
    expect((await load([append, rec(1), rec(1), rec(2)])).code).toBe(0);
    expect((await load([append, rec(3)], '--batch-size', '1')).code).toBe(0);
    expect((await schema.rows('log', 'n')).map((r) => r['n'])).toEqual(['1', '1', '2', '3']);
  });

  it('ACTIVATE_VERSION retires rows of older table versions only, after the rows before it are written', async () => {
    const full = line({ type: 'SCHEMA', stream: 'items', schema: { properties: { id: { type: 'integer' } } }, key_properties: ['id'] });
    const rec = (id: number, version: number): string => line({ type: 'RECORD', stream: 'items', record: { id }, version });
    const activate = (version: number): string => line({ type: 'ACTIVATE_VERSION', stream: 'items', version });
    expect((await load([full, activate(1), rec(1, 1), rec(2, 1), rec(3, 1), activate(1)])).code).toBe(0);
    expect((await load([full, activate(2), rec(1, 2), rec(3, 2), activate(2)])).code).toBe(0);
    const rows = await schema.query<{ id: string; deleted: boolean; tv: string }>(
      `SELECT id, _sdc_deleted_at IS NOT NULL AS deleted, _sdc_table_version::text AS tv FROM "${schema.name}".items ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: '1', deleted: false, tv: '2' },
      { id: '2', deleted: true, tv: '1' },
      { id: '3', deleted: false, tv: '2' },
    ]);
  });
});
