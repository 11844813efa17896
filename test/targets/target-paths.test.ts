import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';

/** Where a target writes: missing folders are made; a path that cannot work is a usage error (exit 2). */

const tmp = tempDir('sync-target-paths-');
afterAll(tmp.cleanup);

const input = [
  '{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
  '{"type":"RECORD","stream":"s","record":{"id":1}}',
  '{"type":"STATE","value":{"n":1}}',
].join('\n');

let cases = 0;
/** A fresh folder to run in, holding a regular file `out.txt` and a folder `folder`. */
function workdir(): string {
  const dir = join(tmp.dir, `case-${++cases}`);
  mkdirSync(join(dir, 'folder'), { recursive: true });
  writeFileSync(join(dir, 'out.txt'), 'keep me\n');
  return dir;
}

describe('target paths', () => {
  it('sqlite: creates the folders of a database path that do not exist yet', async () => {
    const cwd = workdir();
    const result = await runSync(['target', 'sqlite:newdir/deeper/x.db'], { cwd, input });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"n":1}\n');
    const db = new Database(join(cwd, 'newdir/deeper/x.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT id FROM s').all()).toEqual([{ id: 1 }]);
    } finally {
      db.close();
    }
  });

  for (const kind of ['jsonl', 'csv']) {
    it(`${kind}: a file where the folder should be is a usage error that names it, and the file is left alone`, async () => {
      const cwd = workdir();
      const result = await runSync(['target', `${kind}:out.txt`], { cwd, input });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^sync: usage error: ${kind}:out\\.txt: out\\.txt is a file, not a folder\\n`));
      expect(result.stderr).not.toMatch(/internal error|EEXIST/);
      expect(readFileSync(join(cwd, 'out.txt'), 'utf8')).toBe('keep me\n');
    });

    it(`${kind}: a file on the way to the folder is named too`, async () => {
      const cwd = workdir();
      const result = await runSync(['target', `${kind}:out.txt/sub`], { cwd, input });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`usage error: ${kind}:out\\.txt/sub: out\\.txt is a file, not a folder`));
    });
  }

  it('sqlite: a folder where the database file should be is a usage error', async () => {
    const cwd = workdir();
    const result = await runSync(['target', 'sqlite:folder'], { cwd, input });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^sync: usage error: sqlite:folder: folder is a folder, not a database file\n/);
  });

  it('sqlite: a file on the way to the database is a usage error', async () => {
    const cwd = workdir();
    const result = await runSync(['target', 'sqlite:out.txt/x.db'], { cwd, input });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/usage error: sqlite:out\.txt\/x\.db: out\.txt is a file, not a folder/);
  });
});

describe('sync run: a target path that cannot work', () => {
  const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  // The run lock is taken beside the target before it opens, so these come from the lock.
  for (const target of ['jsonl:out.txt/sub', 'csv:out.txt/sub/deeper', 'sqlite:out.txt/x.db']) {
    it(`${target}: the usage error names out.txt, the file on the way, not the path after it`, async () => {
      const result = await runSync(['run', 'sample', '--target', target], { cwd: workdir() });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^sync: usage error: sync run sample → ${escaped(target)}: /\\S*/out\\.txt is a file, not a folder\\n$`));
    });
  }

  for (const [target, why] of [
    ['jsonl:out.txt', 'out\\.txt is a file, not a folder'],
    ['csv:out.txt/sub', 'out\\.txt is a file, not a folder'],
    ['sqlite:folder', 'folder is a folder, not a database file'],
  ] as const) {
    it(`${target}: the usage error is the only line, with no warning about the run history`, async () => {
      const result = await runSync(['run', 'sample', '--target', target], { cwd: workdir() });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^sync: usage error: [^\\n]*${why}\\n$`));
    });
  }
});
