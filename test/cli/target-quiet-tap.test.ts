import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSync, tempDir } from '../helpers/cli.js';

/**
 * A tap that goes quiet (a slow API between pages) must not hold its records and state
 * uncommitted: `sync target` commits a batch once its oldest record is 5 s old, input or not.
 */

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir('sync-quiet-')));
afterEach(() => tmp.cleanup());

it('commits a buffered batch on its age while the input pauses', async () => {
  const db = join(tmp.dir, 'q.db');
  const child = startSync(['target', `sqlite:${db}`, '--quiet'], { cwd: tmp.dir });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const committed = new Promise<void>((resolve) =>
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('\n')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin?.write(
    [
      '{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"t","record":{"id":1}}',
      '{"type":"STATE","value":{"n":1}}',
    ].join('\n') + '\n',
  );
  // stdin stays open: only the batch's age can commit it.
  await Promise.race([committed, exited.then(() => Promise.reject(new Error(`sync target exited early: ${stderr}`)))]);
  expect(stdout).toBe('{"n":1}\n');
  const conn = new Database(db, { readonly: true });
  expect(conn.prepare('SELECT id FROM t').all()).toEqual([{ id: 1 }]);
  conn.close();
  child.stdin?.end();
  expect(await exited).toBe(0);
}, 30_000);

it('commits a state that arrives alone, while the input pauses', async () => {
  const db = join(tmp.dir, 's.db');
  const child = startSync(['target', `sqlite:${db}`, '--quiet'], { cwd: tmp.dir });
  let stdout = '';
  const committed = new Promise<void>((resolve) =>
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('"n":2')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin?.write(
    [
      '{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"t","record":{"id":1}}',
      '{"type":"STATE","value":{"n":1}}',
    ].join('\n') + '\n',
  );
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  // A tap that checkpoints with nothing new to send: its state still reaches disk on the clock.
  child.stdin?.write('{"type":"STATE","value":{"n":2}}\n');
  await committed;
  expect(stdout).toBe('{"n":1}\n{"n":2}\n');
  child.stdin?.end();
  expect(await exited).toBe(0);
}, 30_000);
