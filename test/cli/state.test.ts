import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { caseFolders, runSync, tempDir, type CliResult } from '../helpers/cli.js';

const tmp = tempDir('sync-state-');
afterAll(tmp.cleanup);
const env = { SYNC_SAMPLE_NOW: '2026-01-15T00:00:00Z' };

describe('sync state', () => {
  type Shown = { bookmarks: Record<string, { replication_key_value: unknown }> };
  const folder = caseFolders('sync-state-work-');

  /** `sync` in a fresh, empty folder of the test's own. */
  function workspace(): { dir: string; sync: (args: string[]) => Promise<CliResult>; shown: (args?: string[]) => Promise<Shown> } {
    const dir = folder();
    const sync = (args: string[]) => runSync(args, { cwd: dir, env });
    const shown = async (args: string[] = []): Promise<Shown> => JSON.parse((await sync(['state', 'show', 'sample', ...args])).stdout) as Shown;
    return { dir, sync, shown };
  }

  /** A fresh folder whose ./sync.db holds one full run of sample, and its state. */
  async function afterOneRun(): Promise<ReturnType<typeof workspace>> {
    const work = workspace();
    const run = await work.sync(['run', 'sample']);
    expect(run.code, run.stderr).toBe(0);
    return work;
  }

  it('show and clear on a target that does not exist say so and create nothing', async () => {
    const { dir, sync } = workspace();
    const show = await sync(['state', 'show', 'sample']);
    expect(show.code).toBe(0);
    expect(show.stdout).toBe('');
    expect(show.stderr).toBe('no state: sqlite:sync.db does not exist\n');
    const files = await sync(['state', 'show', 'sample', '--target', 'jsonl:out']);
    expect(files.stderr).toBe('no state: jsonl:out does not exist\n');
    const clear = await sync(['state', 'clear', 'sample', '--target', 'csv:csv']);
    expect(clear.code).toBe(0);
    expect(clear.stderr).toBe('nothing to clear: csv:csv does not exist\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('set --stream --value sets one bookmark and keeps the others; the next run starts from it', async () => {
    const { sync, shown } = await afterOneRun();
    const before = await shown();
    const set = await sync(['state', 'set', 'sample', '--stream', 'orders', '--value', '2025-12-01T00:00:00Z']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toBe('bookmark of orders set to 2025-12-01T00:00:00Z for sample in sqlite:sync.db; customers kept\n');
    const after = await shown();
    expect(after.bookmarks['customers']).toEqual(before.bookmarks['customers']);
    expect(after.bookmarks['orders']).toEqual({ replication_key: 'updated_at', replication_key_value: '2025-12-01T00:00:00Z' });
    const run = await sync(['run', 'sample', '--streams', 'orders']);
    expect(run.code).toBe(0);
    // Only orders changed since the bookmark are read (none of the 500 created in early 2025).
    const read = Number(/orders (\d+) /.exec(run.stderr)?.[1]);
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(100);
  });

  it('set with a JSON state changes the streams it names and keeps the others; --replace replaces all', async () => {
    const { sync, shown } = await afterOneRun();
    const customers = (await shown()).bookmarks['customers'];
    const orders = { bookmarks: { orders: { replication_key: 'updated_at', replication_key_value: '2025-06-01T00:00:00Z' } } };
    const merged = await sync(['state', 'set', 'sample', JSON.stringify(orders)]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stderr).toBe('bookmarks of orders set for sample in sqlite:sync.db; customers kept (--replace replaces the whole state)\n');
    expect((await shown()).bookmarks).toEqual({ customers, orders: orders.bookmarks.orders });
    const replaced = await sync(['state', 'set', 'sample', JSON.stringify(orders), '--replace']);
    expect(replaced.stderr).toBe('state of sample in sqlite:sync.db replaced\n');
    expect(JSON.parse((await sync(['state', 'show', 'sample'])).stdout)).toEqual(orders);
  });

  it('set --stream checks the stream and types the value as the stream declares its key', async () => {
    const { sync } = await afterOneRun();
    const unknown = await sync(['state', 'set', 'sample', '--stream', 'refunds', '--value', '2025-01-01T00:00:00Z']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown stream "refunds" for sample; streams: customers, orders/);
    const notTime = await sync(['state', 'set', 'sample', '--stream', 'orders', '--value', 'last week']);
    expect(notTime.code).toBe(2);
    expect(notTime.stderr).toMatch(/--value: the bookmark of orders is its updated_at, a date-time/);
    const noValue = await sync(['state', 'set', 'sample', '--stream', 'orders']);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toMatch(/needs the new bookmark: --value/);
  });

  it('clear --stream drops one bookmark and keeps the others', async () => {
    const { sync, shown } = await afterOneRun();
    const cleared = await sync(['state', 'clear', 'sample', '--stream', 'orders']);
    expect(cleared.code).toBe(0);
    const state = await shown();
    expect(Object.keys(state.bookmarks)).toEqual(['customers']);
    const rerun = await sync(['run', 'sample']);
    expect(rerun.stderr).toMatch(/customers 1, orders 500 /);
  });

  it('clear removes everything', async () => {
    const { sync } = await afterOneRun();
    expect((await sync(['state', 'clear', 'sample'])).code).toBe(0);
    const show = await sync(['state', 'show', 'sample']);
    expect(show.stdout).toBe('');
    expect(show.stderr).toBe('no state stored for sample in sqlite:sync.db\n');
  });

  it('shows what `sync target` stored, and points to it when the connector has none', async () => {
    const { dir, sync } = workspace();
    const loaded = await runSync(['target', 'sqlite:sync.db'], { cwd: dir, input: '{"type":"STATE","value":{"bookmarks":{"items":{"updated_at":"2025-01-01"}}}}\n' });
    expect(loaded.code, loaded.stderr).toBe(0);
    const hint = await sync(['state', 'show', 'sample']);
    expect(hint.stderr).toBe(
      'no state stored for sample in sqlite:sync.db\n' +
        '(state that `sync target` received is stored there: sync state show --state-id singer --target sqlite:sync.db)\n',
    );
    const show = await sync(['state', 'show', '--state-id', 'singer']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual({ bookmarks: { items: { updated_at: '2025-01-01' } } });
    // Without a connector, the one argument of set is the state.
    const set = await sync(['state', 'set', '--state-id', 'singer', '{"bookmarks": {"users": {"id": 7}}}']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse((await sync(['state', 'show', '--state-id', 'singer'])).stdout)).toEqual({ bookmarks: { items: { updated_at: '2025-01-01' }, users: { id: 7 } } });
    const neither = await sync(['state', 'show']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/sync state show needs a connector \(sync state show sample\) or the id of a state \(--state-id ID\)/);
  });

  it('set --file reads the state from a file; broken input is refused with exit 2', async () => {
    const { dir, sync } = workspace();
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"bookmarks": {}}');
    expect((await sync(['state', 'set', 'sample', '--file', file])).code).toBe(0);
    const notJson = await sync(['state', 'set', 'sample', '{bookmarks']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/the state given is not valid JSON/);
    const notObject = await sync(['state', 'set', 'sample', '[1,2]']);
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toMatch(/state must be a JSON object/);
    const noAction = await sync(['state', 'wipe', 'sample']);
    expect(noAction.code).toBe(2);
    expect(noAction.stderr).toMatch(/unknown state action "wipe"; use show, set, clear, history or rewind/);
    const typo = await sync(['state', 'show', 'sampel']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown connector "sampel"/);
  });
});

describe('sync target: bad input', () => {
  it('names the line of malformed JSON and keeps what came before', async () => {
    const db = join(tmp.dir, 'bad.db');
    const input = [
      '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"s","record":{"id":1}}',
      '{"type":"STATE","value":{"ok":1}}',
      '{"type":"RECORD","stream":"s","record":{"id":2}',
    ].join('\n');
    const result = await runSync(['target', `sqlite:${db}`], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/sync: error: stdin line 4: malformed JSON \(expected ',' or '}' at position \d+\)/);
    expect(result.stdout).toBe('{"ok":1}\n');
  });

  it('stops at a message type it does not know, after committing what came before; skips blank lines', async () => {
    const input = [
      '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '',
      '{"type":"record","stream":"s","record":{"id":1}}',
      '{"type":"STATE","value":{"n":1}}',
      '{"type":"SOMETHING","stream":"s"}',
      '{"type":"STATE","value":{"n":2}}',
    ].join('\n');
    const result = await runSync(['target', `sqlite:${join(tmp.dir, 'unknown.db')}`], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stdin line 5: message type "SOMETHING" is not supported/);
    expect(result.stdout).toBe('{"n":1}\n');
  });

  it('passes lossless numbers through `sync target -` byte for byte', async () => {
    const record = '{"type":"RECORD","stream":"s","record":{"id":123456789012345678901234567890,"x":0.1234567890123456789012345678901234567890}}';
    const input = ['{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"},"x":{"type":"number"}}},"key_properties":["id"]}', record].join('\n');
    const result = await runSync(['target', '-'], { input });
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toContain(record);
  });

  it('logs as JSON lines with --log-format json', async () => {
    const result = await runSync(['target', `sqlite:${join(tmp.dir, 'json.db')}`, '--log-format', 'json'], {
      input: '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{}}},"key_properties":[]}\n{"type":"RECORD","stream":"s","record":{"id":1,"extra":2}}\n',
    });
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'stream "s": property "extra" is not in its schema; adding a column for it' });
  });
});

describe('sync target: ACTIVATE_VERSION on a file target', () => {
  it('is ignored with one warning, and the load goes on', async () => {
    const dir = join(tmp.dir, 'files');
    const input = [
      '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"s","record":{"id":1},"version":1}',
      '{"type":"ACTIVATE_VERSION","stream":"s","version":1}',
      '{"type":"ACTIVATE_VERSION","stream":"s","version":2}',
      '{"type":"STATE","value":{"v":2}}',
    ].join('\n');
    const result = await runSync(['target', `jsonl:${dir}`], { input });
    expect(result.code).toBe(0);
    expect(result.stderr.match(/warning: jsonl:.* keeps every version: ACTIVATE_VERSION is ignored/g)).toHaveLength(1);
    expect(result.stdout).toBe('{"v":2}\n');
  });
});
