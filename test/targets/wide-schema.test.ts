import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { record as sdkRecord, schemaLine as sdkSchemaLine } from '../fixtures/sdk-shaped-schema/schema.js';

/** `sync target` takes the SCHEMAs of wide sources (HubSpot, Salesforce, SDK taps) in its stride. */

const tmp = tempDir('sync-wide-');
afterAll(tmp.cleanup);
let runs = 0;
const out = (): string => join(tmp.dir, `out-${++runs}`);

const name = (i: number): string => `property_${String(i).padStart(4, '0')}`;

function wideSchemaLine(count: number): string {
  const properties: Record<string, object> = { id: { type: 'integer' } };
  for (let i = 0; i < count; i++) properties[name(i)] = i % 2 === 0 ? { type: ['string', 'null'] } : { type: ['integer', 'null'] };
  return JSON.stringify({ type: 'SCHEMA', stream: 'wide', schema: { type: 'object', properties }, key_properties: ['id'] });
}
const recordLine = (stream: string, record: object): string => JSON.stringify({ type: 'RECORD', stream, record });
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('sync target with a 10,000-property SCHEMA', () => {
  const schema = wideSchemaLine(10_000);
  const good = [recordLine('wide', { id: 1, [name(0)]: 'a', [name(9_999)]: 9_999 }), recordLine('wide', { id: 2, [name(5_000)]: null })];
  const state = '{"type":"STATE","value":{"n":2}}';

  for (const flags of [[], ['--no-validate']]) {
    it(`loads its records ${flags.length ? 'without validation' : 'validated'}`, async () => {
      const dir = out();
      const result = await runSync(['target', `jsonl:${dir}`, ...flags], { input: [schema, ...good, state].join('\n') });
      expect(result.stderr).not.toMatch(/error|warning/i);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('{"n":2}\n');
      expect(lines(readFileSync(join(dir, 'wide.jsonl'), 'utf8')).map((l) => JSON.parse(l) as unknown)).toEqual([
        { id: 1, [name(0)]: 'a', [name(9_999)]: 9_999 },
        { id: 2, [name(5_000)]: null },
      ]);
    });
  }

  it('stops at a record whose property 9,999 breaks the schema, naming the line and the property', async () => {
    const dir = out();
    const bad = recordLine('wide', { id: 3, [name(9_998)]: 'fine', [name(9_999)]: 'not a number' });
    const result = await runSync(['target', `jsonl:${dir}`, '--batch-size', '1'], { input: [schema, ...good, state, bad].join('\n') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 5: RECORD of stream "wide" is invalid: property_9999 must be integer,null/);
    expect(result.stdout).toBe('{"n":2}\n');
    expect(lines(readFileSync(join(dir, 'wide.jsonl'), 'utf8'))).toHaveLength(2);
  });
});

describe('sync target sqlite: with a SCHEMA wider than a SQLite table', () => {
  it('refuses it at its SCHEMA line, saying where to send it, after committing what came before', async () => {
    const db = join(tmp.dir, `wide-${++runs}.db`);
    const narrow = JSON.stringify({ type: 'SCHEMA', stream: 'narrow', schema: { properties: { id: { type: 'integer' } } }, key_properties: ['id'] });
    const input = [narrow, recordLine('narrow', { id: 1 }), '{"type":"STATE","value":{"n":1}}', wideSchemaLine(10_000), recordLine('wide', { id: 1 })].join('\n');
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stream "wide" has 10001 properties; a SQLite table holds at most 2,000 columns: send it to jsonl: or csv:');
    expect(result.stdout).toBe('{"n":1}\n');
  });
});

describe('sync target with a SCHEMA shaped like the Meltano SDK fundamentals tap', () => {
  it('loads valid records and names the nested place of an invalid one', async () => {
    const dir = out();
    const records = Array.from({ length: 10 }, (_, n) => recordLine('fundamentals', sdkRecord(n)));
    const broken = sdkRecord(10);
    broken['custom_properties'] = { custom_0001: { nested: true } };
    const input = [sdkSchemaLine('fundamentals'), ...records, '{"type":"STATE","value":{"n":10}}', recordLine('fundamentals', broken)].join('\n');
    const result = await runSync(['target', `jsonl:${dir}`], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 13: RECORD of stream "fundamentals" is invalid: custom_properties\.custom_0001 must be /);
    expect(result.stdout).toBe('{"n":10}\n');
    expect(lines(readFileSync(join(dir, 'fundamentals.jsonl'), 'utf8'))).toHaveLength(10);
  });
});
