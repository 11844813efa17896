import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import { stringifyJson, type JsonValue } from '../../src/protocol/json.js';
import { parseMessage } from '../../src/protocol/messages.js';
import { JsonlTarget } from '../../src/targets/jsonl.js';
import { Loader } from '../../src/targets/loader.js';

let root: string;
let dir: string;
let warnings: string[];
let published: string[];
const open: JsonlTarget[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sync-jsonl-'));
  dir = join(root, 'nested', 'out');
  warnings = [];
  published = [];
});

afterEach(() => {
  for (const target of open.splice(0)) target.close();
  rmSync(root, { recursive: true, force: true });
});

function target(stateId = 'shopify'): JsonlTarget {
  const t = new JsonlTarget(dir, { stateId, warn: (m) => warnings.push(m) });
  open.push(t);
  return t;
}

function loaderFor(t: JsonlTarget): Loader {
  return new Loader(t, {
    validate: true,
    batchRecords: 2,
    maxBatchAgeMs: 60_000,
    warn: (m) => warnings.push(m),
    onCommit: (state) => {
      published.push(stringifyJson(state));
    },
  });
}

let lineNumber = 0;
async function feed(loader: Loader, ...lines: string[]): Promise<void> {
  for (const line of lines) await loader.handle(parseMessage(line, ++lineNumber));
}

const schema = (stream: string, properties: object = { id: { type: 'integer' } }): string =>
  JSON.stringify({ type: 'SCHEMA', stream, schema: { type: 'object', properties }, key_properties: ['id'] });
const record = (stream: string, rec: object): string => JSON.stringify({ type: 'RECORD', stream, record: rec });
const stateLine = (value: JsonValue): string => `{"type":"STATE","value":${stringifyJson(value)}}`;
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
const stateFile = (): string => read('.sync-state.json');

describe('JsonlTarget', () => {
  it('commits when the buffered lines grow large, not only after so many records', async () => {
    const t = target();
    const loader = new Loader(t, { validate: true, batchRecords: 1_000, maxBatchAgeMs: 60_000, maxBatchBytes: 500_000, warn: (m) => warnings.push(m), onCommit: (state) => void published.push(stringifyJson(state)) });
    await feed(loader, schema('docs', { id: { type: 'integer' }, text: { type: 'string' } }));
    for (let id = 1; id <= 5; id++) await feed(loader, record('docs', { id, text: 'y'.repeat(200_000) }), stateLine({ n: id }));
    // The third record passes 500 kB: the first three are on disk before the fourth arrives.
    expect(read('docs.jsonl').split('\n').filter(Boolean)).toHaveLength(3);
    await loader.finish();
    expect(published).toEqual(['{"n":2}', '{"n":5}']);
    expect(read('docs.jsonl').split('\n').filter(Boolean)).toHaveLength(5);
  });

  it('writes each record as one line of JSON, long numbers byte for byte, appending across runs', async () => {
    const loader = loaderFor(target());
    await feed(
      loader,
      schema('users', { id: { type: 'integer' }, big: { type: 'number' }, dec: { type: 'number' }, name: { type: 'string' }, tags: { type: 'array' } }),
      '{"type":"RECORD","stream":"users","record":{"id":1,"big":123456789012345678901234567890,"dec":0.1234567890123456789012345678901234567890}}',
      '{"type":"RECORD","stream":"users","record":{"id":2,"name":"a\\"b\\n\\u0000é","tags":[1.5,-2e+400]}}',
      record('users', { id: 3 }),
    );
    await loader.finish();
    const first =
      '{"id":1,"big":123456789012345678901234567890,"dec":0.1234567890123456789012345678901234567890}\n' +
      '{"id":2,"name":"a\\"b\\n\\u0000é","tags":[1.5,-2e+400]}\n' +
      '{"id":3}\n';
    expect(read('users.jsonl')).toBe(first);

    const again = loaderFor(target());
    await feed(again, schema('users', { id: { type: 'integer' } }), record('users', { id: 4 }));
    await again.finish();
    expect(read('users.jsonl')).toBe(first + '{"id":4}\n');
  });

  it('keeps every stream file inside the folder whatever the stream name', async () => {
    const loader = loaderFor(target());
    const names = ['../../x', 'a/b', '..', '.', 'test:SpecialChars!in?attributes', 'nul\u0000name', 'ünï'];
    for (const name of names) await feed(loader, schema(name), record(name, { id: 1 }));
    await loader.finish();
    expect(readdirSync(root)).toEqual(['nested']);
    expect(readdirSync(join(root, 'nested'))).toEqual(['out']);
    expect(readdirSync(dir).sort()).toEqual(
      [
        '.sync-state.json.lock',
        '%2E%2E%2F%2E%2E%2Fx.jsonl',
        'a%2Fb.jsonl',
        '%2E%2E.jsonl',
        '%2E.jsonl',
        'test%3ASpecialChars%21in%3Fattributes.jsonl',
        'nul%00name.jsonl',
        '%C3%BCn%C3%AF.jsonl',
      ].sort(),
    );
    expect(read('%2E%2E%2F%2E%2E%2Fx.jsonl')).toBe('{"id":1}\n');
  });

  it('refuses a stream name too long for a file name, with a clear error', async () => {
    const loader = loaderFor(target());
    const long = 'x'.repeat(300);
    let error: unknown;
    try {
      await feed(loader, schema(long));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toMatch(/^stream "x{300}" cannot be written to .*too long for a file name/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes the state only once the records it covers are in the files', async () => {
    const t = target();
    const loader = loaderFor(t);
    const s1 = '{"bookmarks":{"users":{"replication_key_value":123456789012345678901234567890}}}';
    const s2 = '{"bookmarks":{"users":{"replication_key_value":"2025-01-02"}}}';
    await feed(loader, schema('users'), record('users', { id: 1 }), `{"type":"STATE","value":${s1}}`);
    expect(existsSync(join(dir, 'users.jsonl'))).toBe(false);
    expect(existsSync(join(dir, '.sync-state.json'))).toBe(false);
    expect(t.readState()).toBeUndefined();

    await feed(loader, record('users', { id: 2 }));
    expect(read('users.jsonl')).toBe('{"id":1}\n{"id":2}\n');
    expect(stateFile()).toBe(`{\n  "shopify": ${s1}\n}\n`);
    expect(stringifyJson(t.readState())).toBe(s1);

    await feed(loader, record('users', { id: 3 }), `{"type":"STATE","value":${s2}}`);
    expect(read('users.jsonl')).toBe('{"id":1}\n{"id":2}\n');
    expect(stateFile()).toBe(`{\n  "shopify": ${s1}\n}\n`);

    await loader.finish();
    expect(read('users.jsonl')).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
    expect(stateFile()).toBe(`{\n  "shopify": ${s2}\n}\n`);
    expect(published).toEqual([s1, s2]);
  });

  it('keeps the state of several state ids in one folder', async () => {
    const shop = target('shopify');
    const hub = target('hubspot');
    const proto = target('__proto__');
    shop.writeState({ a: 1 });
    const loader = loaderFor(hub);
    await feed(loader, schema('deals'), record('deals', { id: 1 }), stateLine({ b: 2 }));
    await loader.finish();
    proto.writeState([3]);
    expect(stateFile()).toBe('{\n  "shopify": {"a":1},\n  "hubspot": {"b":2},\n  "__proto__": [3]\n}\n');
    expect(shop.readState()).toEqual({ a: 1 });
    expect(hub.readState()).toEqual({ b: 2 });
    expect(proto.readState()).toEqual([3]);
    expect(target('stripe').readState()).toBeUndefined();

    shop.writeState(undefined);
    proto.writeState(undefined);
    expect(stateFile()).toBe('{\n  "hubspot": {"b":2}\n}\n');
    expect(shop.readState()).toBeUndefined();
    expect(hub.readState()).toEqual({ b: 2 });
    hub.writeState(undefined);
    expect(stateFile()).toBe('{}\n');
  });

  it('reports a corrupt state file instead of resetting it', async () => {
    const t = target();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, '.sync-state.json');
    writeFileSync(path, '{"shopify": {"a": 1}');
    expect(() => t.readState()).toThrow(TargetError);
    expect(() => t.readState()).toThrow(`the state file ${path} is corrupt: expected ',' or '}' at position 21; repair it or move it aside`);

    const loader = loaderFor(t);
    await feed(loader, schema('users'), record('users', { id: 1 }), stateLine({ b: 2 }));
    await expect(loader.finish()).rejects.toThrow(`the state file ${path} is corrupt`);
    expect(readFileSync(path, 'utf8')).toBe('{"shopify": {"a": 1}');
    // The records went in first; the state never passes them.
    expect(read('users.jsonl')).toBe('{"id":1}\n');

    writeFileSync(path, '[1, 2]\n');
    expect(() => target('other').readState()).toThrow(`the state file ${path} is corrupt: it must hold a JSON object of state ids`);
    writeFileSync(path, Buffer.from([0x7b, 0xff, 0x7d]));
    expect(() => target('other').readState()).toThrow(`the state file ${path} is corrupt: it is not valid UTF-8; repair it or move it aside`);
  });

  it('names the file when a write fails, writes no state, and refuses later commits', async () => {
    mkdirSync(join(dir, 'users.jsonl'), { recursive: true });
    const t = target();
    const loader = loaderFor(t);
    await feed(loader, schema('users'), record('users', { id: 1 }), stateLine({ b: 1 }));
    let error: unknown;
    try {
      await loader.finish();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toContain(`cannot write ${join(dir, 'users.jsonl')}: EISDIR`);
    expect(existsSync(join(dir, '.sync-state.json'))).toBe(false);
    // The loader refuses to commit again (its buffered records are gone)...
    await expect(loader.finish()).rejects.toBe(error);
    // ...and so does the target itself, whoever drives it.
    await expect(Promise.resolve().then(() => t.commit({ b: 2 }))).rejects.toThrow(/an earlier write failed/);
    expect(existsSync(join(dir, '.sync-state.json'))).toBe(false);
  });

  it('cuts off half a line left by an interrupted run before appending', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'users.jsonl'), '{"id":1}\n{"id":2,"na');
    const loader = loaderFor(target());
    await feed(loader, schema('users'), record('users', { id: 3 }));
    await loader.finish();
    expect(read('users.jsonl')).toBe('{"id":1}\n{"id":3}\n');
    expect(warnings).toEqual([`${join(dir, 'users.jsonl')}: removed 11 bytes of an incomplete line left by an interrupted write`]);
  });
});
