import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSync, tempDir } from '../helpers/cli.js';

/**
 * A tap that goes quiet (a slow API between pages) must not hold its records and state
 * uncommitted: `sync target` commits a batch once its oldest record is 5 s old, input or not,
 * and a state that arrives with nothing buffered on the same clock.
 */

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir('sync-quiet-')));
afterEach(() => tmp.cleanup());

const FIRST = [
  '{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
  '{"type":"RECORD","stream":"t","record":{"id":1}}',
  '{"type":"STATE","value":{"n":1}}',
].join('\n') + '\n';

/** `sync target` into a new database, its stdin left open; `printed(text)` waits for stdout to hold it. */
function quietTarget(db: string) {
  const child = startSync(['target', `sqlite:${db}`, '--quiet'], { cwd: tmp.dir });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const printed = async (text: string): Promise<void> => {
    while (!stdout.includes(text)) {
      await Promise.race([
        new Promise<void>((resolve) => waiters.push(resolve)),
        exited.then(() => Promise.reject(new Error(`sync target exited early: ${stderr}`))),
      ]);
    }
  };
  return { child, exited, printed, stdout: () => stdout };
}

it('commits a buffered batch on its age while the input pauses', async () => {
  const db = join(tmp.dir, 'q.db');
  const target = quietTarget(db);
  target.child.stdin?.write(FIRST);
  // stdin stays open: only the batch's age can commit it.
  await target.printed('\n');
  expect(target.stdout()).toBe('{"n":1}\n');
  const conn = new Database(db, { readonly: true });
  expect(conn.prepare('SELECT id FROM t').all()).toEqual([{ id: 1 }]);
  conn.close();
  target.child.stdin?.end();
  expect(await target.exited).toBe(0);
}, 30_000);

it('commits a state that arrives alone, while the input pauses', async () => {
  const target = quietTarget(join(tmp.dir, 's.db'));
  target.child.stdin?.write(FIRST);
  await target.printed('"n":1');
  // A tap that checkpoints with nothing new to send: its state still reaches disk on the clock.
  target.child.stdin?.write('{"type":"STATE","value":{"n":2}}\n');
  await target.printed('"n":2');
  expect(target.stdout()).toBe('{"n":1}\n{"n":2}\n');
  target.child.stdin?.end();
  expect(await target.exited).toBe(0);
}, 30_000);
