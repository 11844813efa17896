import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSync, tempDir } from '../helpers/cli.js';
import { sendJson, startServer } from '../http/server.js';
import { postgresAvailable, testSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * What goes in comes out: numbers of any size, text of any kind, nested JSON, and tables and
 * columns named exactly as their streams and properties, whatever those are. Through the
 * real binary, as a tap's pipe would feed it.
 */

const available = await postgresAvailable('test/postgres/round-trip.test.ts');

const line = (m: object): string => JSON.stringify(m);
const schemaLine = (stream: string, properties: object, keys: string[] = ['id'], extra: object = {}): string =>
  line({ type: 'SCHEMA', stream, schema: { properties }, key_properties: keys, ...extra });
const recordLine = (stream: string, record: object): string => line({ type: 'RECORD', stream, record });

describe.skipIf(!available)('PostgreSQL target: round trips', () => {
  let schema: TestSchema;
  beforeEach(async () => {
    schema = await testSchema();
  });
  afterEach(async () => schema.drop());
  const load = (lines: string[], ...flags: string[]) => runSync(['target', schema.url, ...flags], { input: lines.join('\n') + '\n' });

  it('keeps integers beyond 64 bits and decimals beyond a double exactly, in columns and in jsonb', async () => {
    // Written as raw JSON: JSON.stringify of a JavaScript number would round them before the test began.
    const input = [
      schemaLine('n', { id: { type: 'integer' }, amount: { type: 'number' }, doc: { type: 'object' } }),
      '{"type":"RECORD","stream":"n","record":{"id":18446744073709551616123,"amount":3.14159265358979323846264338327950288419716939937510,"doc":{"big":-9223372036854775809,"x":0.1000000000000000055511151231257827}}}',
      '{"type":"RECORD","stream":"n","record":{"id":9007199254740993,"amount":-0.000000000000000000000000000001,"doc":{"big":1}}}',
      '{"type":"RECORD","stream":"n","record":{"id":1,"amount":1.5,"doc":{}}}',
    ];
    const result = await load(input, '--quiet');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = await schema.query<{ id: string; amount: string; big: string; x: string }>(
      `SELECT id, amount, (doc->'big')::text AS big, (doc->'x')::text AS x FROM "${schema.name}".n ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: '1', amount: '1.5', big: null, x: null },
      { id: '9007199254740993', amount: '-0.000000000000000000000000000001', big: '1', x: null },
      {
        id: '18446744073709551616123',
        amount: '3.14159265358979323846264338327950288419716939937510',
        big: '-9223372036854775809',
        x: '0.1000000000000000055511151231257827',
      },
    ]);
  });

  it('keeps emoji and every other character, and stores NUL as U+FFFD (also inside jsonb, keys included), counted', async () => {
    const result = await load([
      schemaLine('t', { id: { type: 'integer' }, text: { type: 'string' }, doc: { type: ['object', 'null'] } }),
      recordLine('t', { id: 1, text: 'emoji 🙂👩‍👩‍👧, tab\t, newline\n, backslash \\, \\N, quote "', doc: { nested: { list: [1, 'two', { three: '🙂' }] } } }),
      recordLine('t', { id: 2, text: 'nul: \u0000 end', doc: { 'key\u0000': 'value\u0000', escaped: '\\u0000' } }),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/stream "t": 3 characters PostgreSQL cannot store \(NUL, or half of a UTF-16 surrogate pair\) were stored as U\+FFFD/);
    // The summary line says it too, so a log that keeps only summaries keeps the count.
    expect(result.stderr).toMatch(/: t 2 \(2 records in \d+\.\d s, [\d,]+\/s; 3 characters stored as U\+FFFD\)\n/);
    const rows = await schema.rows('t', 'id');
    expect(rows[0]).toEqual({ id: '1', text: 'emoji 🙂👩‍👩‍👧, tab\t, newline\n, backslash \\, \\N, quote "', doc: { nested: { list: [1, 'two', { three: '🙂' }] } } });
    expect(rows[1]).toEqual({ id: '2', text: 'nul: \ufffd end', doc: { 'key\ufffd': 'value\ufffd', escaped: '\\u0000' } });
  });

  it('sync run counts a NUL stored as U+FFFD in its summary line, and warns of it', async () => {
    const api = await startServer((_req, res) => sendJson(res, 200, { data: [{ id: 1, name: 'nul \u0000 here' }, { id: 2, name: 'none' }] }));
    const dir = tempDir('sync-postgres-nul-');
    try {
      const config = join(dir.dir, 'api.json');
      writeFileSync(config, JSON.stringify({ base_url: api.url, auth: { type: 'none' }, streams: [{ name: 'items', path: '/items', records_path: 'data', primary_key: 'id' }] }));
      const result = await runSync(['run', 'rest', '--config', config, '--target', schema.url], { cwd: dir.dir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/stream "items": 1 character PostgreSQL cannot store .* was stored as U\+FFFD/);
      expect(result.stderr).toMatch(/rest → postgres:.*: items 2 \(2 records in \d+\.\d s, [\d,]+\/s; 1 character stored as U\+FFFD\)\n/);
      expect(await schema.query(`SELECT name FROM "${schema.name}".items ORDER BY id`)).toEqual([{ name: 'nul \ufffd here' }, { name: 'none' }]);
    } finally {
      dir.cleanup();
      await api.close();
    }
  });

  it('stores date-times as timestamptz instants, whatever offset they were written with', async () => {
    const result = await load([
      schemaLine('d', { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } }),
      recordLine('d', { id: 1, at: '2024-05-01T12:00:00+02:00' }),
      recordLine('d', { id: 2, at: '2024-05-01' }),
      recordLine('d', { id: 3, at: '2024-05-01T10:00:00.1234567Z' }),
    ]);
    expect(result.code).toBe(0);
    const rows = await schema.query<{ at: string }>(`SELECT at::text AS at FROM "${schema.name}".d ORDER BY id`);
    expect(rows.map((r) => r.at)).toEqual(['2024-05-01 10:00:00+00', '2024-05-01 00:00:00+00', '2024-05-01 10:00:00.123456+00']);
  });

  it('refuses a date-time that is no instant (loaded without validation) with the stream and property, keeping what came before', async () => {
    const result = await load(
      [
        schemaLine('d', { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } }),
        recordLine('d', { id: 1, at: '2024-05-01T00:00:00Z' }),
        line({ type: 'STATE', value: { n: 1 } }),
        recordLine('d', { id: 2, at: '2024-13-45T99:00:00Z' }),
      ],
      '--no-validate',
      '--batch-size',
      '1',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stream "d": property "at": "2024-13-45T99:00:00Z" is not a date-time/);
    expect(result.stdout.trim()).toBe('{"n":1}');
    expect((await schema.rows('d')).map((r) => r['id'])).toEqual(['1']);
  });

  it('names tables and columns exactly as their streams and properties: odd characters, case, length', async () => {
    const long = 'l'.repeat(70);
    const properties = {
      id: { type: 'integer' },
      ID: { type: 'string' },
      'a"b': { type: 'string' },
      'prix €': { type: 'number' },
      [long]: { type: 'string' },
      [`${long}x`]: { type: 'string' },
      _sync_version: { type: 'string' },
    };
    const record = { id: 1, ID: 'upper', 'a"b': 'quote', 'prix €': 9.5, [long]: 'long', [`${long}x`]: 'longer', _sync_version: 'mine' };
    const streams = ['x"; DROP TABLE y; --', 'Orders', 'orders', `🙂${'s'.repeat(80)}`, 's'.repeat(80)];
    const input = streams.flatMap((s) => [schemaLine(s, properties), recordLine(s, record)]);
    const result = await load(input);
    expect(result.stderr).not.toMatch(/error|warning/i);
    expect(result.code).toBe(0);

    const names = await schema.query<{ kind: string; scope: string; name: string; sql_name: string }>(
      `SELECT kind, scope, name, sql_name FROM "${schema.name}"._sync_names ORDER BY kind, scope, name`,
    );
    const tables = names.filter((n) => n.kind === 'table');
    expect(tables.map((t) => JSON.parse(t.name)).sort()).toEqual([...streams].sort());
    expect(new Set(tables.map((t) => t.sql_name)).size).toBe(streams.length);
    expect(tables.find((t) => JSON.parse(t.name) === 'Orders')?.sql_name).toBe('Orders');
    expect(tables.find((t) => JSON.parse(t.name) === 'x"; DROP TABLE y; --')?.sql_name).toBe('x"; DROP TABLE y; --');
    for (const t of tables) expect(Buffer.byteLength(t.sql_name)).toBeLessThanOrEqual(63);

    for (const table of tables) {
      const [row] = await schema.rows(table.sql_name);
      const columnOf = new Map(names.filter((n) => n.kind === 'column' && n.scope === table.sql_name).map((n) => [JSON.parse(n.name) as string, n.sql_name]));
      expect(columnOf.get('ID')).toBe('ID');
      expect(columnOf.get('a"b')).toBe('a"b');
      expect(columnOf.get('_sync_version')).toBe('_sync_version_2');
      expect(columnOf.get(long)).not.toBe(columnOf.get(`${long}x`));
      for (const [property, value] of Object.entries(record)) {
        const stored = row?.[columnOf.get(property) as string];
        expect(typeof value === 'number' ? Number(stored) : stored).toEqual(value);
      }
    }
  });

  it('gives properties with NUL or a lone surrogate columns of their own, apart from the name spelt with U+FFFD', async () => {
    const result = await load(
      [
        schemaLine('odd', { id: { type: 'integer' }, 'a\u0000b': { type: 'string' }, 'a\ufffdb': { type: 'string' }, 'c\ud800': { type: 'string' } }),
        recordLine('odd', { id: 1, 'a\u0000b': 'nul', 'a\ufffdb': 'replacement', 'c\ud800': 'surrogate' }),
      ],
      '--no-validate',
    );
    expect(result.code).toBe(0);
    const columns = await schema.query<{ name: string; sql_name: string }>(
      `SELECT name, sql_name FROM "${schema.name}"._sync_names WHERE kind = 'column' AND scope = 'odd'`,
    );
    const columnOf = new Map(columns.map((c) => [JSON.parse(c.name) as string, c.sql_name]));
    expect(columnOf.get('a\ufffdb')).toBe('a\ufffdb');
    const [row] = await schema.rows('odd');
    expect(row?.[columnOf.get('a\u0000b') as string]).toBe('nul');
    expect(row?.[columnOf.get('a\ufffdb') as string]).toBe('replacement');
    expect(row?.[columnOf.get('c\ud800') as string]).toBe('surrogate');
  });

  it('refuses streams named like its own tables', async () => {
    const result = await load([schemaLine('_SYNC_state', { id: { type: 'integer' } }), recordLine('_SYNC_state', { id: 1 })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stream "_SYNC_state" cannot be a table: names starting with "_sync_" \(in any case\) are reserved/);
  });
});
