import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, startListen, tempDir } from '../helpers/cli.js';

/** `sync listen rest --config api.json`: webhooks from any sender, described in the file. */

const tmp = tempDir('sync-rest-listen-');
afterAll(tmp.cleanup);
const SECRET = 'rest-hook-secret-4711';

const description = {
  base_url: 'http://127.0.0.1:9',
  streams: [
    {
      name: 'orders',
      path: '/orders',
      primary_key: 'id',
      replication_key: 'updated_at',
      schema: { type: 'object', properties: { id: { type: 'integer' }, status: { type: ['null', 'string'] }, updated_at: { type: 'string', format: 'date-time' } } },
    },
  ],
  webhooks: {
    scheme: { kind: 'hmac', header: 'x-signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' },
    event_path: 'type',
    events: {
      'order.updated': { stream: 'orders', object_path: 'data' },
      'order.deleted': { stream: 'orders', object_path: 'data', deleted: true },
    },
    delivery_id: { path: 'id' },
    version_path: 'data.updated_at',
    time_path: 'time',
    handshakes: ['get_check', 'slack_url_verification'],
  },
};

async function post(url: string, body: string, signature?: string): Promise<number> {
  const response = await fetch(`${url}/webhooks/rest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signature ?? `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

describe('sync listen rest', () => {
  it('verifies with the described scheme, dedupes by the described id, maps events into the described stream', async () => {
    const config = join(tmp.dir, 'api.json');
    writeFileSync(config, JSON.stringify(description));
    const { child, url, done } = await startListen(['rest', '--config', config], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: SECRET } });
    const updated = JSON.stringify({ id: 'evt_1', type: 'order.updated', time: '2026-01-02T00:00:00Z', data: { id: 7, status: 'paid', updated_at: '2026-01-02T00:00:00Z' } });
    const deleted = JSON.stringify({ id: 'evt_2', type: 'order.deleted', time: '2026-01-03T00:00:00Z', data: { id: 8, status: 'paid', updated_at: '2026-01-01T00:00:00Z' } });
    const ignored = JSON.stringify({ id: 'evt_3', type: 'order.viewed', time: '2026-01-03T00:00:00Z', data: { id: 9 } });
    expect(await post(url, updated)).toBe(200);
    expect(await post(url, updated)).toBe(200); // duplicate delivery id: stored once
    expect(await post(url, deleted)).toBe(200);
    expect(await post(url, ignored)).toBe(200);
    const signedForOriginal = `sha256=${createHmac('sha256', SECRET).update(updated).digest('hex')}`;
    expect(await post(url, updated.replace('paid', 'PAID'), signedForOriginal)).toBe(401); // tampered body
    expect(await post(url, updated, 'sha256=00')).toBe(401);
    // Handshakes: a GET check of the URL, and a challenge answered only when signed.
    const check = await fetch(`${url}/webhooks/rest`);
    expect([check.status, await check.text()]).toEqual([200, 'ok\n']);
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'c-8472' });
    const answered = await fetch(`${url}/webhooks/rest`, {
      method: 'POST',
      headers: { 'x-signature': `sha256=${createHmac('sha256', SECRET).update(challenge).digest('hex')}` },
      body: challenge,
    });
    expect([answered.status, await answered.text()]).toEqual([200, 'c-8472']);
    expect(await post(url, challenge, 'sha256=00')).toBe(401);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const db = new Database(join(tmp.dir, 'sync.db'), { readonly: true });
    const rows = db.prepare('SELECT id, status, _sdc_deleted_at FROM orders ORDER BY id').all();
    const journal = new Database(join(tmp.dir, 'sync-inbox.db'), { readonly: true });
    const tables = journal.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    const deliveries = journal.prepare(`SELECT * FROM "${tables[0]?.name ?? 'deliveries'}"`).all() as Array<Record<string, unknown>>;
    db.close();
    journal.close();
    expect(rows).toEqual([
      { id: 7, status: 'paid', _sdc_deleted_at: null },
      { id: 8, status: 'paid', _sdc_deleted_at: '2026-01-03T00:00:00Z' },
    ]);
    expect(deliveries.map((d) => d['delivery_id'] ?? d['id']).sort()).toEqual(['evt_1', 'evt_2', 'evt_3']);
    expect(result.stderr).not.toContain(SECRET);

    // The inbox replays rest deliveries through the mapping its config describes.
    const replayed = await runSync(['inbox', 'replay', '--config', config, '--target', 'sqlite:copy.db'], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: SECRET } });
    expect(replayed.code, replayed.stderr).toBe(0);
    const copy = new Database(join(tmp.dir, 'copy.db'), { readonly: true });
    expect(copy.prepare('SELECT id, status, _sdc_deleted_at FROM orders ORDER BY id').all()).toEqual(rows);
    copy.close();
  });
});
