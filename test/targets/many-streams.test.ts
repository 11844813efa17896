import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { caseFolders, runSync } from '../helpers/cli.js';

/** One SQLite target, thousands of streams: a table each, all committed, the state with them. */

const fresh = caseFolders('sync-many-streams-');

describe('sync target sqlite: with 2,100 streams', () => {
  it('creates a table per stream and commits every record with the state (past 2,048 tables)', async () => {
    const dir = fresh();
    const db = join(dir, 'many.db');
    const lines: string[] = [];
    for (let i = 0; i < 2_100; i++) {
      lines.push(JSON.stringify({ type: 'SCHEMA', stream: `t${i}`, schema: { properties: { id: { type: 'integer' } } }, key_properties: ['id'] }));
      lines.push(JSON.stringify({ type: 'RECORD', stream: `t${i}`, record: { id: i } }));
    }
    lines.push('{"type":"STATE","value":{"n":2100}}');
    const result = await runSync(['target', `sqlite:${db}`, '--quiet'], { input: lines.join('\n') + '\n', cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('{"n":2100}\n');
    const d = new Database(db, { readonly: true });
    try {
      expect(d.prepare(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name GLOB 't[0-9]*'`).pluck().get()).toBe(2_100);
      expect(d.prepare('SELECT id FROM t2099').pluck().all()).toEqual([2_099]);
      expect(d.prepare('SELECT id FROM t0').pluck().all()).toEqual([0]);
    } finally {
      d.close();
    }
  }, 120_000);
});
