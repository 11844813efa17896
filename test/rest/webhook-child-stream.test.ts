import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDescription } from '../../connectors/rest/index.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { sendJson, startServer } from '../http/server.js';
import { journalRows, rows } from '../listen/helpers.js';

/**
 * A webhook record of a child stream carries its parent's key under `as`, taken from the
 * payload where the event's `parent_path` says, so it equals the batch record and the upsert
 * does not leave the column NULL.
 */

const tmp = tempDir('sync-webhook-child-');
afterAll(tmp.cleanup);
const SECRET = 'child-hook-secret-2718';

const ISSUE_SCHEMA = {
  type: 'object',
  properties: { id: { type: 'integer' }, title: { type: ['string', 'null'] }, updated_at: { type: ['string', 'null'], format: 'date-time' } },
};

const description = (baseUrl: string): JsonObject => ({
  base_url: baseUrl,
  streams: [
    { name: 'repositories', path: '/repositories', primary_key: 'id', schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } } },
    {
      name: 'issues',
      path: '/repositories/{parent}/issues',
      primary_key: 'id',
      replication_key: 'updated_at',
      parent: { stream: 'repositories', key: 'id', as: 'repository_id' },
      schema: ISSUE_SCHEMA,
    },
  ],
  webhooks: {
    scheme: { kind: 'github' },
    event_header: 'x-github-event',
    events: { issues: { stream: 'issues', object_path: 'issue', parent_path: 'repository.id' } },
  },
});

describe('parent_path in the webhook section', () => {
  it('is checked: only for events of a child stream', () => {
    const d = description('http://127.0.0.1:9');
    const webhooks = d['webhooks'] as JsonObject;
    const wrong = { ...d, webhooks: { ...webhooks, events: { repo: { stream: 'repositories', parent_path: 'repository.id' } } } };
    expect(parseDescription(wrong).problems).toEqual(['webhooks.events.repo.parent_path: stream "repositories" has no parent; parent_path is for child streams']);
    expect(parseDescription(d).description?.webhooks?.events.get('issues')).toEqual({
      stream: 'issues',
      objectPath: 'issue',
      deleted: false,
      parentKey: { as: 'repository_id', path: 'repository.id' },
    });
  });
});

describe('sync run, then sync listen rest, into one table', () => {
  it('gives a child record from a webhook the same parent key a batch read gave it', async () => {
    const api = await startServer((req, res) => {
      if (req.url === '/repositories') return sendJson(res, 200, [{ id: 42, name: 'sync' }]);
      if (req.url === '/repositories/42/issues') return sendJson(res, 200, [{ id: 7, title: 'first', updated_at: '2026-01-01T00:00:00Z' }]);
      return sendJson(res, 404, { error: req.url });
    });
    try {
      const config = join(tmp.dir, 'github.json');
      writeFileSync(config, JSON.stringify(description(api.url)));
      const batch = await runSync(['run', 'rest', '--config', config], { cwd: tmp.dir });
      expect(batch.code, batch.stderr).toBe(0);
      const db = join(tmp.dir, 'sync.db');
      expect(rows(db, 'issues')).toEqual([expect.objectContaining({ id: 7, title: 'first', repository_id: 42 })]);

      const { child, url, done } = await startListen(['rest', '--config', config], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: SECRET } });
      const send = async (body: JsonObject, id: string) => {
        const text = JSON.stringify(body);
        const signature = `sha256=${createHmac('sha256', SECRET).update(text).digest('hex')}`;
        const r = await fetch(`${url}/webhooks/rest`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-event': 'issues', 'x-github-delivery': id },
          body: text,
        });
        await r.arrayBuffer();
        return r.status;
      };
      const edited = { action: 'edited', issue: { id: 7, title: 'renamed', updated_at: '2026-01-02T00:00:00Z' }, repository: { id: 42, name: 'sync' } };
      const orphan = { action: 'opened', issue: { id: 8, title: 'no repository', updated_at: '2026-01-02T00:00:00Z' } };
      expect(await send(edited, 'gh-1')).toBe(200);
      expect(await send(orphan, 'gh-2')).toBe(200);
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expect(rows(db, 'issues')).toEqual([expect.objectContaining({ id: 7, title: 'renamed', repository_id: 42 })]);
      // Without the parent key the record would wipe the column: a dead letter that says why.
      const journal = journalRows(join(tmp.dir, 'sync-inbox.db'));
      expect(journal.map((r) => [r.delivery_id, r.status])).toEqual([
        ['gh-1', 'done'],
        ['gh-2', 'dead'],
      ]);
      expect(journal[1]?.error).toContain('no parent key at parent_path "repository.id"');
    } finally {
      await api.close();
    }
  });
});
