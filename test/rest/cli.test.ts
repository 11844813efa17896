import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';
import { sendJson, startServer } from '../http/server.js';
import { startFakeApi, type FakeApi } from './fake-api.js';

/** `sync run rest --config api.json` through the real binary, twice, against a local API. */

const tmp = tempDir('sync-rest-cli-');
let api: FakeApi;
beforeAll(async () => {
  api = await startFakeApi(Date.parse('2025-03-01T00:00:00Z'));
  for (let id = 1; id <= 250; id++) api.put(id, `item ${id}`);
});
afterAll(async () => {
  await api.close();
  tmp.cleanup();
});

const description = () => ({
  base_url: api.server.url,
  auth: { type: 'bearer' },
  start_date: '2025-01-01T00:00:00Z',
  streams: [
    {
      name: 'items',
      path: '/items',
      records_path: 'data',
      primary_key: 'id',
      replication_key: 'updated_at',
      sorted: true,
      incremental: { param: 'updated_since', format: 'iso8601' },
      pagination: { type: 'keyset', offset_param: 'offset', limit_param: 'limit', page_size: 100 },
    },
  ],
});

describe('sync run rest', () => {
  it('syncs a described API incrementally over two runs: nothing lost, nothing duplicated', async () => {
    const config = join(tmp.dir, 'api.json');
    writeFileSync(config, JSON.stringify(description(), null, 2));
    const env = { SYNC_REST_TOKEN: 'tok-123456' };
    const first = await runSync(['run', 'rest', '--config', config], { cwd: tmp.dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/rest → sqlite:sync\.db: items 250 \(250 records/);
    api.put(7, 'renamed');
    api.put(300, 'new');
    const second = await runSync(['run', 'rest', '--config', config], { cwd: tmp.dir, env });
    expect(second.code, second.stderr).toBe(0);
    // The boundary record again (inclusive bookmark), the changed one and the new one.
    expect(second.stderr).toMatch(/items 3 \(3 records/);
    const db = new Database(join(tmp.dir, 'sync.db'), { readonly: true });
    const rows = db.prepare('SELECT id, name, updated_at FROM items ORDER BY id').all() as Array<{ id: number; name: string; updated_at: string }>;
    db.close();
    expect(rows).toHaveLength(251);
    expect(rows).toEqual([...api.items.values()].sort((a, b) => a.id - b.id));
    expect(second.stderr).not.toContain('tok-123456');
  });

  it('reports a wrong description with one line per problem and exit 2', async () => {
    const config = join(tmp.dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ base_url: api.server.url, streams: [{ name: 'x', pagination: { type: 'cursor' } }] }));
    const result = await runSync(['run', 'rest', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/streams\[0\]\.path: /);
    expect(result.stderr).toMatch(/streams\[0\]\.pagination\.cursor_path: /);
  });

  it('--debug logs each request with its URL, status and time, never the token', async () => {
    const config = join(tmp.dir, 'debug.json');
    writeFileSync(config, JSON.stringify(description()));
    const token = 'tok-123456';
    const result = await runSync(['run', 'rest', '--config', config, '--target', '-', '--debug'], { env: { SYNC_REST_TOKEN: token }, cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n').filter((l) => / GET http:\/\/127\.0\.0\.1:\d+\/items\?/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(l).toMatch(/→ 200 in \d+ ms/);
    expect(result.stderr).not.toContain(token);
  });

  it('a rejected token fails with status, method and path, never the token (exit 1)', async () => {
    const config = join(tmp.dir, 'api2.json');
    writeFileSync(config, JSON.stringify(description()));
    const result = await runSync(['run', 'rest', '--config', config, '--target', '-'], { env: { SYNC_REST_TOKEN: 'wrong-token-value' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/401/);
    expect(result.stderr).toMatch(/GET \/items/);
    expect(result.stderr).not.toContain('wrong-token-value');
  });

  it('an API that asks to wait an hour ends the run with exit 75 (retry later), naming the host', async () => {
    const limited = await startServer((_q, res) => sendJson(res, 429, { error: 'slow down' }, { 'retry-after': '3600' }));
    try {
      const config = join(tmp.dir, 'limited.json');
      writeFileSync(config, JSON.stringify({ ...description(), base_url: limited.url }));
      const result = await runSync(['run', 'rest', '--config', config, '--target', '-'], { env: { SYNC_REST_TOKEN: 'tok-123456' } });
      expect(result.code, result.stderr).toBe(75);
      expect(result.stderr).toMatch(/429/);
      expect(result.stdout).not.toMatch(/"RECORD"/);
    } finally {
      await limited.close();
    }
  });

  it('--record saves the exchanges with secrets redacted; --replay runs the same sync offline', async () => {
    const own = await startFakeApi(Date.parse('2025-04-01T00:00:00Z'), 1000, 'tok-record-me-98765');
    const cassettes = join(tmp.dir, 'cassettes');
    const config = join(tmp.dir, 'record.json');
    try {
      for (let id = 1; id <= 120; id++) own.put(id, `thing ${id}`);
      writeFileSync(config, JSON.stringify({ ...description(), base_url: own.server.url }));
      const env = { SYNC_REST_TOKEN: 'tok-record-me-98765' };
      const recorded = await runSync(['run', 'rest', '--config', config, '--target', '-', '--record', cassettes], { env });
      expect(recorded.code, recorded.stderr).toBe(0);
      const files = readdirSync(cassettes);
      expect(files.length).toBeGreaterThan(1);
      for (const f of files) expect(readFileSync(join(cassettes, f), 'utf8')).not.toContain('tok-record-me-98765');
      await own.close();
      // Offline, and without the token: a replay sends nothing, so it needs no credential.
      const replayed = await runSync(['run', 'rest', '--config', config, '--target', '-', '--replay', cassettes]);
      expect(replayed.code, replayed.stderr).toBe(0);
      const records = (out: string) => out.split('\n').filter((l) => l.includes('"RECORD"'));
      expect(records(replayed.stdout)).toEqual(records(recorded.stdout));
      expect(records(replayed.stdout)).toHaveLength(120);
    } finally {
      await own.close().catch(() => undefined);
    }
  });

  it('--record and --replay together are a usage error', async () => {
    // Its own config: the test must not depend on one written by another.
    const config = join(tmp.dir, 'both.json');
    writeFileSync(config, JSON.stringify(description()));
    const result = await runSync(['run', 'rest', '--config', config, '--record', 'a', '--replay', 'b'], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--record and --replay exclude each other/);
  });
});
