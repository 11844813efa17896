import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';

/** `sync target --config FILE`, as Meltano runs every target: batch_size and validate are used, other keys ignored. */

const tmp = tempDir('sync-target-config-');
afterAll(tmp.cleanup);
let n = 0;

const SCHEMA = '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}';
const record = (id: number | string): string => `{"type":"RECORD","stream":"s","record":{"id":${JSON.stringify(id)}}}`;
const state = (i: number): string => `{"type":"STATE","value":{"n":${i}}}`;
/** Three records, each followed by a STATE: a commit per record prints every state, one commit only the last. */
const THREE = [SCHEMA, record(1), state(1), record(2), state(2), record(3), state(3)].join('\n') + '\n';

function config(value: unknown): string {
  const path = join(tmp.dir, `config-${++n}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}
const db = (): string => `sqlite:${join(tmp.dir, `t-${++n}.db`)}`;

describe('sync target --config', () => {
  it('uses batch_size; --batch-size on the command line wins', async () => {
    const file = config({ batch_size: 1, host: 'db.example.com', password: 'not-ours' });
    const fromFile = await runSync(['target', db(), '--config', file], { input: THREE });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    const flagWins = await runSync(['target', db(), '--config', file, '--batch-size', '100'], { input: THREE });
    expect(flagWins.stdout).toBe('{"n":3}\n');
    const none = await runSync(['target', db()], { input: THREE });
    expect(none.stdout).toBe('{"n":3}\n');
  });

  it('uses validate; --no-validate on the command line wins', async () => {
    const input = [SCHEMA, record('not a number'), state(1)].join('\n') + '\n';
    const off = await runSync(['target', db(), '--config', config({ validate: false })], { input });
    expect(off.code, off.stderr).toBe(0);
    const on = await runSync(['target', db(), '--config', config({ validate: true })], { input });
    expect(on.code).toBe(1);
    const flag = await runSync(['target', db(), '--config', config({ validate: true }), '--no-validate'], { input });
    expect(flag.code, flag.stderr).toBe(0);
  });

  it('ignores keys that are not its own with one debug line, and refuses a wrong value of its own', async () => {
    const file = config({ batch_size: 10, host: 'db.example.com', add_record_metadata: true });
    const quiet = await runSync(['target', db(), '--config', file], { input: THREE });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/ignored/);
    const debug = await runSync(['target', db(), '--config', file, '--debug'], { input: THREE });
    expect(debug.stderr.match(/^debug: --config .*: keys sync target does not use are ignored: host, add_record_metadata$/gm)).toHaveLength(1);
    const wrong = await runSync(['target', db(), '--config', config({ batch_size: 'many' })], { input: THREE });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--config .*: batch_size must be a positive integer \(got "many"\)/);
    const notObject = await runSync(['target', db(), '--config', config([1])], { input: THREE });
    expect(notObject.code).toBe(2);
  });
});

describe('sync target --batch-size', () => {
  it('refuses anything but a positive integer with exit 2, before reading input or creating anything', async () => {
    for (const value of ['0', '-1', 'abc', '1.5']) {
      const dir = join(tmp.dir, `refused-${++n}`);
      mkdirSync(dir);
      const result = await runSync(['target', `sqlite:${join(dir, 'target.db')}`, '--batch-size', value], { input: THREE });
      expect(result.code, value).toBe(2);
      expect(result.stderr).toBe(`sync: usage error: --batch-size must be a positive integer, got ${JSON.stringify(value)}\n`);
      expect(result.stdout).toBe('');
      expect(readdirSync(dir), value).toEqual([]);
    }
  });
});
