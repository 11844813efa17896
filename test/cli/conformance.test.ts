import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir, type CliResult } from '../helpers/cli.js';

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

let loads = 0;
/**
 * One conformance stream loaded by `sync target` into a SQLite file of its own: every test
 * that reads a table builds it itself, so each holds alone and in any order.
 */
async function load(name: string): Promise<{ db: string; input: Buffer; result: CliResult }> {
  const input = readFileSync(join(STREAMS, `${name}.singer`));
  const dir = join(tmp.dir, `load-${++loads}`);
  mkdirSync(dir);
  const db = join(dir, `${name}.db`);
  return { db, input, result: await runSync(['target', `sqlite:${db}`], { input }) };
}

/** A stream that must load: the file it loaded into. */
async function loaded(name: string): Promise<string> {
  const { db, result } = await load(name);
  expect(result.code, result.stderr).toBe(0);
  return db;
}

describe('sync target sqlite: conformance streams', () => {
  const files = readdirSync(STREAMS).filter((f) => f.endsWith('.singer')).sort();

  it('has every stream of the conformance suite', () => {
    expect(files.length).toBe(20);
  });

  for (const file of files) {
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
      expect(result.stderr).not.toMatch(/error|warning/i);
      expect(result.code).toBe(0);
      const printed = result.stdout.split('\n').filter((l) => l !== '');
      const last = lastStateValue(input.toString('utf8'));
      if (last === undefined) expect(printed).toEqual([]);
      else expect(JSON.parse(printed.at(-1) as string)).toEqual(last);
    });
  }

  it('duplicate_records keeps one row per key, the last', async () => {
    const db = await loaded('duplicate_records');
    expect(rows(db, 'test_duplicate_records')).toEqual([
      { id: 1, metric: 100 },
      { id: 2, metric: 20 },
    ]);
  });

  it('encoded_string_data keeps every character, NUL and control characters included', async () => {
    const db = await loaded('encoded_string_data');
    const info = rows(db, 'test_strings').map((r) => r['info']);
    expect(info).toContain('απλή συμβολοσειρά');
    expect(info).toContain('简单的字串');
    expect(info).toContain('various " \\ / \n escape sequences');
    expect(info).toContain('Control Characters in string: \u0000 A \u0001');
    expect(info).toContain('Double quoting: \\u0000 \\u0041 \\u0001');
  });

  it('special_chars_in_attributes creates the table and columns with their exact names', async () => {
    const db = await loaded('special_chars_in_attributes');
    const [row] = rows(db, 'test:SpecialChars!in?attributes');
    expect(row?.['_id']).toBe('a2e98886');
    expect(JSON.parse(String(row?.['d']))).toEqual({ env: 'prod', 'agent:type': 'desktop', 'agent:os:version': '10.13.1' });
  });

  it('pk_updates switches the key mid-stream', async () => {
    const db = await loaded('pk_updates');
    expect(rows(db, 'example_stream').map((r) => r['email'])).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('schema_updates adds columns, objects and arrays as JSON', async () => {
    const db = await loaded('schema_updates');
    const all = rows(db, 'test_schema_updates');
    const third = all.find((r) => r['id'] === 3);
    expect(third?.['a3']).toBe(0);
    expect(JSON.parse(String(third?.['a4']))).toEqual({ id: 1, value: 1 });
    expect(JSON.parse(String(third?.['a5']))).toEqual(['banana', 'apple']);
  });

  it('no_primary_keys appends', async () => {
    const db = await loaded('no_primary_keys');
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

/**
 * A tap in batch mode (the Meltano SDK's BATCH message, records in gzipped JSON Lines files),
 * into every kind of target: the records of the files are loaded, and the STATE after the
 * BATCH is stored only once they are.
 */
describe('sync target: a BATCH stream into every kind of target', () => {
  const FIXTURE = resolve(import.meta.dirname, '../fixtures/conformance-batch');
  const [SCHEMA, STATE_BEFORE, , STATE_AFTER] = readFileSync(join(FIXTURE, 'batch_orders.singer'), 'utf8').trim().split('\n') as [string, string, string, string];
  const BEFORE = (JSON.parse(STATE_BEFORE) as { value: unknown }).value;
  const AFTER = (JSON.parse(STATE_AFTER) as { value: unknown }).value;

  let folders = 0;
  /** The tap's output, its manifest naming gzipped copies of `files` in a fresh folder. */
  function tapOutput(files: string[]): string {
    const dir = join(tmp.dir, `batch-files-${++folders}`);
    mkdirSync(dir);
    const manifest = files.map((file, i) => {
      const path = join(dir, `batch_orders-${i + 1}.jsonl.gz`);
      writeFileSync(path, gzipSync(readFileSync(join(FIXTURE, file))));
      return pathToFileURL(path).href;
    });
    const batch = JSON.stringify({ type: 'BATCH', stream: 'batch_orders', encoding: { format: 'jsonl', compression: 'gzip' }, manifest });
    return [SCHEMA, STATE_BEFORE, batch, STATE_AFTER].join('\n') + '\n';
  }

  interface Outcome {
    ids: unknown[];
    state: unknown;
  }

  /** One kind of target: its spec in `dir`, and how to read back the ids it holds and its stored state. */
  const kinds: Record<string, { spec: (dir: string) => string; read: (dir: string, stdout: string) => Outcome }> = {
    sqlite: {
      spec: (dir) => `sqlite:${join(dir, 'target.db')}`,
      read: (dir) => {
        const db = new Database(join(dir, 'target.db'), { readonly: true });
        try {
          const ids = (db.prepare('SELECT id FROM batch_orders ORDER BY id').all() as Array<{ id: unknown }>).map((r) => r.id);
          const stored = db.prepare(`SELECT value FROM _sync_state WHERE id = 'singer'`).get() as { value: string } | undefined;
          return { ids, state: stored && (JSON.parse(stored.value) as unknown) };
        } finally {
          db.close();
        }
      },
    },
    jsonl: {
      spec: (dir) => `jsonl:${dir}`,
      read: (dir) => ({
        ids: lines(readFileSync(join(dir, 'batch_orders.jsonl'), 'utf8')).map((l) => (JSON.parse(l) as { id: unknown }).id),
        state: storedFileState(dir),
      }),
    },
    csv: {
      spec: (dir) => `csv:${dir}`,
      read: (dir) => {
        const [header, ...rows] = lines(readFileSync(join(dir, 'batch_orders.csv'), 'utf8'));
        expect(header?.startsWith('id,')).toBe(true);
        return { ids: rows.map((row) => Number(row.split(',')[0])), state: storedFileState(dir) };
      },
    },
    stdout: {
      spec: () => '-',
      // Singer messages in order: what a downstream target stores, and when.
      read: (_dir, stdout) => {
        const messages = lines(stdout).map((l) => JSON.parse(l) as { type: string; record?: { id: unknown }; value?: unknown });
        const lastRecord = messages.findLastIndex((m) => m.type === 'RECORD');
        const statesAfterRecords = messages.slice(lastRecord + 1).filter((m) => m.type === 'STATE');
        return { ids: messages.filter((m) => m.type === 'RECORD').map((m) => m.record?.id), state: statesAfterRecords.at(-1)?.value };
      },
    },
  };

  function lines(text: string): string[] {
    return text.split('\n').filter((l) => l !== '');
  }

  function storedFileState(dir: string): unknown {
    return (JSON.parse(readFileSync(join(dir, '.sync-state.json'), 'utf8')) as Record<string, unknown>)['singer'];
  }

  for (const [kind, { spec, read }] of Object.entries(kinds)) {
    it(`${kind}: loads the records of every batch file, then stores the state after them`, async () => {
      const dir = join(tmp.dir, `batch-${kind}`);
      const result = await runSync(['target', spec(dir), '--batch-size', '2'], { input: tapOutput(['batch_orders-0001.jsonl', 'batch_orders-0002.jsonl']) });
      expect(result.stderr).not.toMatch(/error|warning/i);
      expect(result.code).toBe(0);
      const { ids, state } = read(dir, result.stdout);
      expect(ids).toEqual([1, 2, 3, 4, 5]);
      expect(state).toEqual(AFTER);
      if (kind !== 'stdout') expect(lines(result.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([BEFORE, AFTER]);
    });

    it(`${kind}: stores no state after a batch whose records did not all load`, async () => {
      const dir = join(tmp.dir, `batch-broken-${kind}`);
      const result = await runSync(['target', spec(dir), '--batch-size', '2'], { input: tapOutput(['batch_orders-0001.jsonl', 'batch_orders-broken.jsonl']) });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/line 3: BATCH file \S+batch_orders-2\.jsonl\.gz line 2: RECORD of stream "batch_orders" is invalid: id must be integer/);
      const { ids, state } = read(dir, result.stdout);
      // What came before the bad record is kept, under the state from before the batch.
      expect(ids).toEqual([1, 2, 3, 4]);
      expect(state).toEqual(kind === 'stdout' ? undefined : BEFORE);
      expect(result.stdout).not.toContain('2025-03-05T16:45:00');
    });
  }
});
