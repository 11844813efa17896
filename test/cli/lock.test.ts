import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalLockPath } from '../../src/cli/lock.js';
import { collect, runSync, startListen, startSync, tempDir, type CliResult } from '../helpers/cli.js';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * The run lock belongs to the file, whatever path names it, and `sync state set|clear|rewind` take it.
 * The holder is a real `sync run` that has taken the lock and waits on its API's first answer,
 * which the test gives only when it is done: no sleeps, only conditions.
 */

const tmp = tempDir('sync-lock-');
afterAll(tmp.cleanup);
const STATE = { bookmarks: { orders: { replication_key: 'updated_at', replication_key_value: '2025-06-01T00:00:00Z' } } };

let api: TestServer;
let requested: () => void = () => {};
let answer: () => void = () => {};
beforeAll(async () => {
  api = await startServer((_req, res) => {
    requested();
    // Answered when the test releases the holder.
    return new Promise<void>((resolve) => {
      answer = () => {
        sendJson(res, 200, [{ id: 1 }]);
        resolve();
      };
    });
  });
});
afterAll(() => api.close());

/**
 * `sync run rest` under state id `sample` into `target`, held inside its run (and so inside
 * the lock) until `release` is called.
 */
async function holdLock(dir: string, target: string): Promise<{ release: () => Promise<CliResult> }> {
  writeFileSync(
    join(dir, 'api.json'),
    JSON.stringify({
      base_url: api.url,
      streams: [{ name: 'things', path: '/things', primary_key: 'id', schema: { type: 'object', properties: { id: { type: 'integer' } } } }],
    }),
  );
  const arrived = new Promise<void>((resolve) => {
    requested = resolve;
  });
  const child = startSync(['run', 'rest', '--config', 'api.json', '--state-id', 'sample', '--target', target], { cwd: dir });
  const done = collect(child);
  // The run asks its API only after it took the lock (the schema is given: nothing is inferred first).
  await Promise.race([arrived, done.then((r) => Promise.reject(new Error(`the holder ended early:\n${r.stderr}`)))]);
  return {
    release: () => {
      answer();
      return done;
    },
  };
}

function fresh(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  return dir;
}

describe('the run lock belongs to the file, not to its name', () => {
  it('a run through a symlink to a locked database exits 75 naming the holder, as does one through a symlinked folder', async () => {
    const dir = fresh('symlink');
    const holder = await holdLock(dir, 'sqlite:real.db');
    try {
      symlinkSync('real.db', join(dir, 'link.db'));
      symlinkSync('.', join(dir, 'same-folder'));
      for (const target of ['sqlite:link.db', 'sqlite:same-folder/real.db', `sqlite:${join(dir, 'link.db')}`]) {
        const second = await runSync(['run', 'sample', '--target', target], { cwd: dir, env: { SYNC_SAMPLE_NOW: '2026-01-15T00:00:00Z' } });
        expect(second.code, second.stderr).toBe(75);
        expect(second.stderr.trim().split('\n')).toHaveLength(1);
        expect(second.stderr).toMatch(/^sync: busy: sync run rest → sqlite:real\.db is already running \(pid \d+, since \d{4}-\d\d-\d\dT/);
      }
    } finally {
      const first = await holder.release();
      expect(first.code, first.stderr).toBe(0);
    }
    // Nothing but the holder's table was written, and the holder's note is gone with its lock.
    expect(readdirSync(dir).filter((f) => f.endsWith('.holder'))).toEqual([]);
  });

  it('one listener per journal, whatever path names the journal', async () => {
    const dir = fresh('journal');
    const env = { SYNC_SAMPLE_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    const first = await startListen(['sample', '--journal', 'inbox.db'], { cwd: dir, env });
    try {
      expect(existsSync(join(dir, 'inbox.db'))).toBe(true);
      symlinkSync('inbox.db', join(dir, 'inbox-link.db'));
      const child = startSync(['listen', 'sample', '--journal', 'inbox-link.db', '--port', '0'], { cwd: dir, env });
      // Had it taken no lock, it would serve the same journal: stopped once it says it listens.
      child.stderr?.on('data', (c: Buffer) => {
        if (c.toString().includes('listening on')) child.kill('SIGTERM');
      });
      const second = await collect(child);
      expect(second.code, second.stderr).toBe(75);
      expect(second.stderr).toMatch(/sync listen with journal inbox\.db is already running \(pid \d+/);
    } finally {
      first.child.kill('SIGTERM');
      expect((await first.done).code).toBe(0);
    }
  });

  it('names the real file for a symlink, a dangling one included, and for a path through a symlinked folder', () => {
    const dir = fresh('canonical');
    const real = join(dir, 'data');
    mkdirSync(real);
    writeFileSync(join(real, 'sync.db'), '');
    symlinkSync(join(real, 'sync.db'), join(dir, 'link.db'));
    symlinkSync(join(real, 'later.db'), join(dir, 'dangling.db'));
    symlinkSync(real, join(dir, 'folder'));
    expect(canonicalLockPath(join(dir, '.link.db.sample.lock'))).toBe(join(real, '.sync.db.sample.lock'));
    expect(canonicalLockPath(join(dir, 'folder', '.sync.db.sample.lock'))).toBe(join(real, '.sync.db.sample.lock'));
    expect(canonicalLockPath(join(dir, '.dangling.db.sample.lock'))).toBe(join(real, '.later.db.sample.lock'));
    expect(canonicalLockPath(join(dir, 'folder', 'new', '.sync-sample.lock'))).toBe(join(real, 'new', '.sync-sample.lock'));
    expect(canonicalLockPath(join(dir, 'link.db.lock'))).toBe(join(real, 'sync.db.lock'));
  });
});

describe('sync state set|clear|rewind take the run lock', () => {
  it('exit 75 while a run holds it, and leave the state as it was', async () => {
    const dir = fresh('state');
    const set = await runSync(['state', 'set', 'sample', JSON.stringify(STATE), '--target', 'sqlite:real.db'], { cwd: dir });
    expect(set.code, set.stderr).toBe(0);
    symlinkSync('real.db', join(dir, 'link.db'));
    const show = async () => (await runSync(['state', 'show', 'sample', '--target', 'sqlite:real.db'], { cwd: dir })).stdout;
    const holder = await holdLock(dir, 'sqlite:real.db');
    try {
      // The bookmarks, which the refused commands would change: the holder itself may commit a
      // `currently_syncing` meanwhile (its state commits on a 5 s clock).
      const bookmarks = async () => (JSON.parse(await show()) as typeof STATE).bookmarks;
      const before = await bookmarks();
      expect(before).toEqual(STATE.bookmarks);
      for (const args of [
        ['state', 'set', 'sample', '{"bookmarks": {}}', '--target', 'sqlite:real.db'],
        ['state', 'clear', 'sample', '--target', 'sqlite:real.db'],
        ['state', 'clear', 'sample', '--stream', 'orders', '--target', 'sqlite:link.db'],
      ]) {
        const refused = await runSync(args, { cwd: dir });
        expect(refused.code, `${args.join(' ')}: ${refused.stderr}`).toBe(75);
        // It is the run that is busy, and the state that was left alone.
        expect(refused.stderr).toMatch(/^sync: busy: the state of sample in sqlite:(real|link)\.db is in use, so it was not changed: sync run rest → sqlite:real\.db is already running \(pid \d+/);
        expect(await bookmarks()).toEqual(before);
      }
    } finally {
      const first = await holder.release();
      expect(first.code, first.stderr).toBe(0);
    }
    // Free again: the same change goes through.
    const cleared = await runSync(['state', 'clear', 'sample', '--target', 'sqlite:link.db'], { cwd: dir });
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(await show()).toBe('');
  });

  it('rewind exits 75 while a run holds it and leaves the bookmarks as they were; once free, it puts the old state back', async () => {
    const dir = fresh('rewind');
    const sync = (args: string[]) => runSync([...args, '--target', 'sqlite:real.db'], { cwd: dir });
    expect((await sync(['state', 'set', 'sample', JSON.stringify(STATE)])).code).toBe(0);
    expect((await sync(['state', 'set', 'sample', '--stream', 'orders', '--value', '2025-07-01T00:00:00Z'])).code).toBe(0);
    const snapshots = (await sync(['state', 'history', 'sample', '--format', 'json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; value: typeof STATE });
    const first = snapshots.find((s) => s.value.bookmarks.orders.replication_key_value === '2025-06-01T00:00:00Z');
    expect(first).toBeDefined();
    const orders = async () =>
      (JSON.parse((await sync(['state', 'show', 'sample'])).stdout) as typeof STATE).bookmarks.orders.replication_key_value;

    const holder = await holdLock(dir, 'sqlite:real.db');
    try {
      const refused = await sync(['state', 'rewind', 'sample', '--to', String(first?.id)]);
      expect(refused.code, refused.stderr).toBe(75);
      expect(refused.stderr).toMatch(/^sync: busy: the state of sample in sqlite:real\.db is in use, so it was not changed: sync run rest → sqlite:real\.db is already running \(pid \d+/);
      expect(await orders()).toBe('2025-07-01T00:00:00Z');
    } finally {
      const run = await holder.release();
      expect(run.code, run.stderr).toBe(0);
    }
    const rewound = await sync(['state', 'rewind', 'sample', '--to', String(first?.id)]);
    expect(rewound.code, rewound.stderr).toBe(0);
    expect(await orders()).toBe('2025-06-01T00:00:00Z');
  });
});
