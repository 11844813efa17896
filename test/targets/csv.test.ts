import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import { stringifyJson } from '../../src/protocol/json.js';
import { parseMessage } from '../../src/protocol/messages.js';
import { CsvTarget } from '../../src/targets/csv.js';
import { Loader } from '../../src/targets/loader.js';

let root: string;
let dir: string;
let warnings: string[];
const open: CsvTarget[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sync-csv-'));
  dir = join(root, 'out');
  warnings = [];
});

afterEach(() => {
  for (const target of open.splice(0)) target.close();
  rmSync(root, { recursive: true, force: true });
});

function loader(stateId = 'shopify'): { target: CsvTarget; loader: Loader } {
  const target = new CsvTarget(dir, { stateId, warn: (m) => warnings.push(m) });
  open.push(target);
  return { target, loader: new Loader(target, { validate: true, batchRecords: 2, maxBatchAgeMs: 60_000, warn: (m) => warnings.push(m) }) };
}

let lineNumber = 0;
async function feed(l: Loader, ...lines: string[]): Promise<void> {
  for (const line of lines) await l.handle(parseMessage(line, ++lineNumber));
}

async function run(...lines: string[]): Promise<void> {
  const l = loader().loader;
  await feed(l, ...lines);
  await l.finish();
}

const schema = (stream: string, properties: object): string =>
  JSON.stringify({ type: 'SCHEMA', stream, schema: { type: 'object', properties }, key_properties: [] });
const record = (stream: string, rec: object): string => JSON.stringify({ type: 'RECORD', stream, record: rec });
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
const ID_NAME = { id: { type: 'integer' }, name: { type: 'string' } };

/**
 * A small RFC 4180 reader, written from the RFC for these tests: rows end with LF (CRLF too),
 * an unquoted empty field is null, a quoted one is the empty string.
 */
function readCsv(text: string): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let field = '';
  let quotedField = false;
  let i = 0;
  const endField = (): void => {
    row.push(field === '' && !quotedField ? null : field);
    field = '';
    quotedField = false;
  };
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"' && field === '' && !quotedField) {
      quotedField = true;
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw new Error(`text after a closing quote at ${i}`);
    } else if (c === ',') {
      endField();
      i++;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      endField();
      rows.push(row);
      row = [];
      i += c === '\r' ? 2 : 1;
    } else if (c === '"') {
      throw new Error(`quote inside an unquoted field at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || quotedField || row.length) throw new Error('the last row has no line end');
  return rows;
}

describe('CsvTarget', () => {
  it('writes a header and RFC 4180 rows in which every character survives', async () => {
    const props = {
      id: { type: 'integer' },
      name: { type: ['string', 'null'] },
      score: { type: 'number' },
      ok: { type: 'boolean' },
      tags: { type: 'array' },
      meta: { type: 'object' },
      note: { type: ['string', 'null'] },
    };
    const nasty = 'a,b "q"\r\nline2\u0000\u0001\t\u007f é 😀 ';
    await run(
      schema('users', props),
      '{"type":"RECORD","stream":"users","record":{"id":1,"name":"plain","score":123456789012345678901234567890,"ok":true,"tags":["a","b"],"meta":{"k":"v,w"},"note":null}}',
      `{"type":"RECORD","stream":"users","record":{"id":2,"name":${JSON.stringify(nasty)},"score":0.1234567890123456789012345678901234567890,"ok":false,"tags":[],"meta":{"n":1e400},"note":""}}`,
      record('users', { id: 3 }),
    );
    expect(read('users.csv')).toBe(
      'id,name,score,ok,tags,meta,note\n' +
        '1,plain,123456789012345678901234567890,true,"[""a"",""b""]","{""k"":""v,w""}",\n' +
        '2,"a,b ""q""\r\nline2\u0000\u0001\t\u007f é 😀 ",0.1234567890123456789012345678901234567890,false,[],"{""n"":1e400}",""\n' +
        '3,,,,,,\n',
    );
    expect(readCsv(read('users.csv'))).toEqual([
      ['id', 'name', 'score', 'ok', 'tags', 'meta', 'note'],
      ['1', 'plain', '123456789012345678901234567890', 'true', '["a","b"]', '{"k":"v,w"}', null],
      ['2', nasty, '0.1234567890123456789012345678901234567890', 'false', '[]', '{"n":1e400}', ''],
      ['3', null, null, null, null, null, null],
    ]);
  });

  it('commits when the buffered rows grow large, counting nested values as the JSON they become', async () => {
    const target = new CsvTarget(dir, { stateId: 's', warn: (m) => warnings.push(m) });
    open.push(target);
    const published: string[] = [];
    const l = new Loader(target, { validate: true, batchRecords: 1_000, maxBatchAgeMs: 60_000, maxBatchBytes: 500_000, warn: (m) => warnings.push(m), onCommit: (v) => void published.push(stringifyJson(v)) });
    await feed(l, schema('docs', { id: { type: 'integer' }, parts: { type: 'array' } }));
    const message = parseMessage(record('docs', { id: 1, parts: ['z'.repeat(200_000)] }), ++lineNumber);
    await l.handle(message);
    // The caller's record keeps its array; the buffered copy holds the JSON text.
    expect(message.type === 'RECORD' && Array.isArray(message.record['parts'])).toBe(true);
    for (let id = 2; id <= 5; id++) await feed(l, `{"type":"STATE","value":{"n":${id - 1}}}`, record('docs', { id, parts: ['z'.repeat(200_000)] }));
    // The third record passes 500 kB: three rows are on disk before the fourth arrives.
    expect(readCsv(read('docs.csv'))).toHaveLength(1 + 3);
    await l.finish();
    expect(published).toEqual(['{"n":2}', '{"n":4}']);
    const rows = readCsv(read('docs.csv'));
    expect(rows).toHaveLength(1 + 5);
    expect(rows[5]).toEqual(['5', JSON.stringify(['z'.repeat(200_000)])]);
  });

  it('quotes a header cell exactly as the same text in a row', async () => {
    const names = ['a,b', 'say "hi"', 'line\nbreak', '', 'nul\u0000', 'plain'];
    const props = Object.fromEntries(names.map((n) => [n, { type: 'string' }]));
    await run(schema('t', props), record('t', Object.fromEntries(names.map((n) => [n, n]))));
    const line = '"a,b","say ""hi""","line\nbreak","","nul\u0000",plain\n';
    expect(read('t.csv')).toBe(line + line);
    expect(readCsv(read('t.csv'))).toEqual([names, names]);
  });

  it('widens the header when a later SCHEMA adds a column, padding old rows', async () => {
    const { loader: l } = loader();
    await feed(l, schema('users', ID_NAME), record('users', { id: 1, name: 'x\ny' }), record('users', { id: 2, name: 'a,"b"' }));
    expect(read('users.csv')).toBe('id,name\n1,"x\ny"\n2,"a,""b"""\n');
    await feed(l, schema('users', { ...ID_NAME, email: { type: 'string' } }), record('users', { id: 3, name: 'c', email: 'c@x' }));
    await l.finish();
    expect(read('users.csv')).toBe('id,name,email\n1,"x\ny",\n2,"a,""b""",\n3,c,c@x\n');
    // No temporary file is left behind.
    expect(readdirSync(dir).sort()).toEqual(['.sync-state.json.lock', 'users.csv']);
  });

  it('widens a file of several megabytes whose quoted newlines cross read boundaries', async () => {
    mkdirSync(dir, { recursive: true });
    const rows: string[] = [];
    for (let i = 0, size = 0; size < 3_000_000; i++) {
      const row = `${i},"a\n""${'x'.repeat((i * 7919) % 500)}""\n,b"\n`;
      rows.push(row);
      size += row.length;
    }
    writeFileSync(join(dir, 'big.csv'), 'id,name\n' + rows.join(''));
    await run(schema('big', { ...ID_NAME, more: { type: 'string' } }), record('big', { id: -1, more: 'm' }));
    expect(read('big.csv')).toBe('id,name,more\n' + rows.map((r) => r.slice(0, -1) + ',\n').join('') + '-1,,m\n');
    expect(warnings).toEqual([]);
  });

  it('adds a column for a property missing from the schema, warning once', async () => {
    const { loader: l } = loader();
    await feed(
      l,
      schema('users', { id: { type: 'integer' } }),
      record('users', { id: 1, extra: 'x' }),
      record('users', { id: 2, extra: 'y', more: 1 }),
    );
    expect(read('users.csv')).toBe('id,extra,more\n1,x,\n2,y,1\n');
    await feed(l, record('users', { id: 3, extra: 'z', later: true }));
    await l.finish();
    expect(read('users.csv')).toBe('id,extra,more,later\n1,x,,\n2,y,1,\n3,z,,true\n');
    expect(warnings).toEqual([
      'stream "users": property "extra" is not in its schema; adding a column for it',
      'stream "users": property "more" is not in its schema; adding a column for it',
      'stream "users": property "later" is not in its schema; adding a column for it',
    ]);
  });

  it('appends a later run under the one header, in the order of the columns in the file', async () => {
    await run(schema('users', ID_NAME), record('users', { id: 1, name: 'a' }), record('users', { id: 2, name: 'b' }));
    await run(schema('users', { name: { type: 'string' }, id: { type: 'integer' } }), record('users', { id: 3, name: 'c' }));
    expect(read('users.csv')).toBe('id,name\n1,a\n2,b\n3,c\n');
    // A later run whose schema has a new column widens the existing file.
    await run(schema('users', { ...ID_NAME, tag: { type: 'string' } }), record('users', { id: 4, tag: 'new' }));
    expect(read('users.csv')).toBe('id,name,tag\n1,a,\n2,b,\n3,c,\n4,,new\n');
  });

  it('cuts off part of a row left by an interrupted run, even one ending inside quotes', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'users.csv'), 'id,name\n1,"a\nb"\n2,"torn\n');
    await run(schema('users', ID_NAME), record('users', { id: 3, name: 'c' }));
    expect(read('users.csv')).toBe('id,name\n1,"a\nb"\n3,c\n');
    expect(warnings).toEqual([`${join(dir, 'users.csv')}: removed 8 bytes of an incomplete row left by an interrupted write`]);
  });

  it('refuses text that UTF-8 cannot hold instead of changing it', async () => {
    const { loader: l } = loader();
    await feed(l, schema('users', ID_NAME));
    await expect(feed(l, '{"type":"RECORD","stream":"users","record":{"id":1,"name":"half \\ud800 pair"}}')).rejects.toThrow(TargetError);
    await expect(feed(l, '{"type":"RECORD","stream":"users","record":{"id":1,"name":"half \\ud800 pair"}}')).rejects.toThrow(
      'stream "users", property "name": the text holds an unpaired UTF-16 surrogate, which a UTF-8 CSV file cannot store',
    );
  });

  it('keeps hostile stream names inside the folder', async () => {
    const names = ['../../x', 'a/b', '..', '.', 'test:SpecialChars!in?attributes', 'nul\u0000name'];
    const { loader: l } = loader();
    for (const name of names) await feed(l, schema(name, ID_NAME), record(name, { id: 1, name }));
    await l.finish();
    expect(readdirSync(root)).toEqual(['out']);
    expect(readdirSync(dir).sort()).toEqual(
      [
        '.sync-state.json.lock',
        '%2E%2E%2F%2E%2E%2Fx.csv',
        'a%2Fb.csv',
        '%2E%2E.csv',
        '%2E.csv',
        'test%3ASpecialChars%21in%3Fattributes.csv',
        'nul%00name.csv',
      ].sort(),
    );
    expect(read('nul%00name.csv')).toBe('id,name\n1,"nul\u0000name"\n');
    await expect(feed(l, schema('y'.repeat(300), ID_NAME))).rejects.toThrow(/^stream "y{300}" cannot be written to .*too long for a file name/);
  });

  it('writes the state after the rows it covers, beside the state of other ids', async () => {
    const other = loader('github').target;
    other.writeState({ bookmarks: { issues: { replication_key_value: '2025-01-01' } } });
    const { target, loader: l } = loader('shopify');
    await feed(l, schema('users', ID_NAME), record('users', { id: 1, name: 'a' }), '{"type":"STATE","value":{"n":123456789012345678901234567890}}');
    expect(existsSync(join(dir, 'users.csv'))).toBe(false);
    expect(target.readState()).toBeUndefined();
    await feed(l, record('users', { id: 2, name: 'b' }));
    expect(read('users.csv')).toBe('id,name\n1,a\n2,b\n');
    expect(read('.sync-state.json')).toBe(
      '{\n  "github": {"bookmarks":{"issues":{"replication_key_value":"2025-01-01"}}},\n  "shopify": {"n":123456789012345678901234567890}\n}\n',
    );
    expect(stringifyJson(target.readState())).toBe('{"n":123456789012345678901234567890}');
    expect(other.readState()).toEqual({ bookmarks: { issues: { replication_key_value: '2025-01-01' } } });
  });
});
