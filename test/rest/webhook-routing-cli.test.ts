import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhooks } from '@octokit/webhooks';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { startListen, tempDir } from '../helpers/cli.js';
import { journalRows, post, rows } from '../listen/helpers.js';

/**
 * `action_path` and an `object_path` that leads to an array, through the real binary with
 * GitHub's deliveries (signed by @octokit/webhooks): `X-GitHub-Event: issues` plus
 * `"action": "deleted"` routes to `issues.deleted`, every other action to `issues`; a push
 * makes one record per commit, each with the repository's id, or none when one is unusable.
 */

const tmp = tempDir('sync-webhook-routing-');
afterAll(tmp.cleanup);
const SECRET = 'github-hook-secret-1414';
const signer = new Webhooks({ secret: SECRET });

const description: JsonObject = {
  base_url: 'http://127.0.0.1:9',
  streams: [
    { name: 'repositories', path: '/repositories', primary_key: 'id', schema: { type: 'object', properties: { id: { type: 'integer' } } } },
    {
      name: 'issues',
      path: '/repositories/{parent}/issues',
      primary_key: 'id',
      replication_key: 'updated_at',
      parent: { stream: 'repositories', key: 'id', as: 'repository_id' },
      schema: {
        type: 'object',
        properties: { id: { type: 'integer' }, title: { type: ['string', 'null'] }, state: { type: ['string', 'null'] }, updated_at: { type: ['string', 'null'], format: 'date-time' } },
      },
    },
    {
      name: 'commits',
      path: '/repositories/{parent}/commits',
      primary_key: 'sha',
      parent: { stream: 'repositories', key: 'id', as: 'repository_id' },
      schema: { type: 'object', properties: { sha: { type: 'string' }, message: { type: ['string', 'null'] }, committed_at: { type: ['string', 'null'], format: 'date-time' } } },
    },
  ],
  webhooks: {
    scheme: { kind: 'github' },
    event_header: 'X-GitHub-Event',
    action_path: 'action',
    events: {
      'issues.deleted': { stream: 'issues', object_path: 'issue', parent_path: 'repository.id', deleted: true },
      issues: { stream: 'issues', object_path: 'issue', parent_path: 'repository.id' },
      push: { stream: 'commits', object_path: 'commits', parent_path: 'repository.id', fields: { sha: 'id', message: 'message', committed_at: 'timestamp' }, required: ['sha'] },
    },
    handshakes: ['github_ping'],
  },
};

const repository = { id: 42, name: 'sync', full_name: 'octo/sync' };
const issue = (id: number, title: string, updatedAt: string): JsonObject => ({ id, number: id, title, state: 'open', updated_at: updatedAt });
const commit = (id: string | undefined, message: string, timestamp: string): JsonObject => ({ ...(id === undefined ? {} : { id }), tree_id: 't', message, timestamp, author: { name: 'Ann' } });

describe('sync listen rest with action_path and arrays of objects', () => {
  it('routes GitHub issues by header and action, and makes each commit of a push a record', async () => {
    const config = join(tmp.dir, 'github.json');
    writeFileSync(config, JSON.stringify(description));
    const { child, url, done } = await startListen(['rest', '--config', config], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: SECRET } });
    let n = 0;
    const send = async (event: string, payload: JsonObject, signWith: Webhooks = signer) => {
      const body = JSON.stringify(payload);
      const reply = await post(`${url}/webhooks/rest`, body, {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': `gh-${++n}`,
        'x-hub-signature-256': await signWith.sign(body),
      });
      return reply.status;
    };

    expect(await send('issues', { action: 'opened', issue: issue(7, 'first', '2026-02-01T00:00:00Z'), repository })).toBe(200);
    expect(await send('issues', { action: 'edited', issue: issue(7, 'renamed', '2026-02-02T00:00:00Z'), repository })).toBe(200);
    expect(await send('issues', { action: 'opened', issue: issue(8, 'doomed', '2026-02-01T00:00:00Z'), repository })).toBe(200);
    expect(await send('issues', { action: 'deleted', issue: issue(8, 'doomed', '2026-02-01T00:00:00Z'), repository })).toBe(200);
    expect(await send('pull_request', { action: 'opened', pull_request: { id: 9 }, repository })).toBe(200);
    const pushed = [commit('a1b2', 'one', '2026-02-03T10:00:00+01:00'), commit('c3d4', 'two', '2026-02-03T10:05:00+01:00')];
    expect(await send('push', { ref: 'refs/heads/main', commits: pushed, repository })).toBe(200);
    expect(await send('push', { ref: 'refs/heads/main', commits: [commit('e5f6', 'three', '2026-02-04T00:00:00Z'), commit(undefined, 'no id', '2026-02-04T00:00:00Z')], repository })).toBe(200);
    expect(await send('issues', { action: 'opened', issue: issue(10, 'forged', '2026-02-05T00:00:00Z'), repository }, new Webhooks({ secret: 'other' }))).toBe(401);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);

    const db = join(tmp.dir, 'sync.db');
    const issues = rows(db, 'issues').map(({ id, title, repository_id, _sdc_deleted_at }) => ({ id, title, repository_id, deleted: _sdc_deleted_at !== null }));
    expect(issues).toEqual([
      { id: 7, title: 'renamed', repository_id: 42, deleted: false },
      { id: 8, title: 'doomed', repository_id: 42, deleted: true },
    ]);
    const d = new Database(db, { readonly: true });
    try {
      expect(d.prepare('SELECT sha, message, committed_at, repository_id FROM commits ORDER BY sha').all()).toEqual([
        { sha: 'a1b2', message: 'one', committed_at: '2026-02-03T10:00:00+01:00', repository_id: 42 },
        { sha: 'c3d4', message: 'two', committed_at: '2026-02-03T10:05:00+01:00', repository_id: 42 },
      ]);
    } finally {
      d.close();
    }
    const journal = journalRows(join(tmp.dir, 'sync-inbox.db'));
    expect(journal.map((r) => [r.delivery_id, r.status, r.error])).toEqual([
      ['gh-1', 'done', null],
      ['gh-2', 'done', null],
      ['gh-3', 'done', null],
      ['gh-4', 'done', null],
      ['gh-5', 'done', null],
      ['gh-6', 'done', null],
      ['gh-7', 'dead', expect.stringContaining('event push ("commits"[1]): required "sha" is missing (nothing at "id")')],
    ]);
  });
});
