import { join } from 'node:path';
import { Webhooks } from '@octokit/webhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { readRows, writeConfig } from '../helpers/files.js';
import { startGithub, type GithubModel } from './model.js';

/** `sync run github` and `sync listen github` against the local model of GitHub's REST API. */

const TOKEN = 'github_pat_11AAAAAAA0modelTokenForTests';
const SECRET = 'hook-secret-for-the-model';

let tmp: ReturnType<typeof tempDir>;
let model: GithubModel;
beforeEach(async () => {
  tmp = tempDir('sync-github-');
  model = await startGithub(TOKEN);
  model.addRepo('acme/api');
  model.addRepo('acme/web');
  model.addRepo('other/fork');
  model.addIssue('acme/api', 'Crash on start');
  model.addIssue('acme/api', 'Faster start-up', { pull: true });
  model.addComment('acme/api', 1, 'Seen it too');
  model.addRelease('acme/api', 'v1.0.0');
  model.addIssue('acme/web', 'Broken link');
  model.addIssue('other/fork', 'Not ours');
});
afterEach(async () => {
  await model.close();
  tmp.cleanup();
});

const config = (extra: object = {}): string =>
  writeConfig(tmp.dir, 'github', { access_token: TOKEN, base_url: model.url, repositories: ['acme/api', 'acme/web'], webhook_secret: SECRET, ...extra });
const run = (db = 'gh.db', extra: object = {}) => runSync(['run', 'github', '--config', config(extra), '--target', `sqlite:${join(tmp.dir, db)}`], { cwd: tmp.dir });
const rows = (sql: string, db = 'gh.db'): Array<Record<string, unknown>> => readRows(join(tmp.dir, db), sql);
const urls = (): string[] => model.server.seen.map((r) => decodeURIComponent(r.url));

describe('sync run github', () => {
  it('reads the chosen repositories and, per repository, issues, pull requests, comments and releases; then only what changed', async () => {
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain(TOKEN);
    expect(rows('SELECT full_name FROM repositories ORDER BY full_name')).toEqual([{ full_name: 'acme/api' }, { full_name: 'acme/web' }]);
    expect(rows('SELECT repository, number, title, pull_request IS NOT NULL AS is_pull FROM issues ORDER BY repository, number')).toEqual([
      { repository: 'acme/api', number: 1, title: 'Crash on start', is_pull: 0 },
      { repository: 'acme/api', number: 2, title: 'Faster start-up', is_pull: 1 },
      { repository: 'acme/web', number: 1, title: 'Broken link', is_pull: 0 },
    ]);
    expect(rows('SELECT repository, number, head FROM pull_requests')).toEqual([{ repository: 'acme/api', number: 2, head: expect.stringContaining('"ref":"feature-2"') }]);
    expect(rows('SELECT repository, body FROM issue_comments')).toEqual([{ repository: 'acme/api', body: 'Seen it too' }]);
    expect(rows('SELECT repository, tag_name FROM releases')).toEqual([{ repository: 'acme/api', tag_name: 'v1.0.0' }]);
    expect(urls().some((u) => u.includes('other/fork'))).toBe(false);

    const newest = (repository: string): unknown => rows(`SELECT max(updated_at) AS at FROM issues WHERE repository = '${repository}'`)[0]?.['at'];
    const marks = { api: newest('acme/api'), web: newest('acme/web') };
    expect(marks.api).not.toEqual(marks.web);
    const edited = model.edit('acme/api', 1, { state: 'closed', state_reason: 'completed' });
    model.server.seen.length = 0;
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    // Issues since each repository's own bookmark.
    expect(urls().filter((u) => u.startsWith('/repos/acme/api/issues?'))).toEqual([expect.stringContaining(`since=${String(marks.api)}`)]);
    expect(urls().filter((u) => u.startsWith('/repos/acme/web/issues?'))).toEqual([expect.stringContaining(`since=${String(marks.web)}`)]);
    expect(rows("SELECT state, updated_at FROM issues WHERE repository = 'acme/api' AND number = 1")).toEqual([{ state: 'closed', updated_at: edited.updated_at }]);
  });

  it('reads pull requests newest change first and stops at the bookmark instead of listing them all', async () => {
    for (let i = 0; i < 230; i++) model.addIssue('acme/web', `Change ${i}`, { pull: true });
    expect((await run()).code).toBe(0);
    expect(rows("SELECT count(*) AS n FROM pull_requests WHERE repository = 'acme/web'")).toEqual([{ n: 230 }]);
    expect(urls().filter((u) => u.startsWith('/repos/acme/web/pulls'))).toHaveLength(3);
    model.edit('acme/web', 5, { title: 'Change 3, renamed' });
    model.server.seen.length = 0;
    expect((await run()).code).toBe(0);
    // One page: its records run below the bookmark, so the next is not asked for.
    expect(urls().filter((u) => u.startsWith('/repos/acme/web/pulls'))).toHaveLength(1);
    expect(rows("SELECT title FROM pull_requests WHERE repository = 'acme/web' AND number = 5")).toEqual([{ title: 'Change 3, renamed' }]);
    expect(rows("SELECT count(*) AS n FROM pull_requests WHERE repository = 'acme/web'")).toEqual([{ n: 230 }]);
  });

  it('waits out the rate limit (403 with x-ratelimit-remaining: 0) and loses nothing', async () => {
    model.limit = 3;
    const result = await run();
    expect(result.code, result.stderr).toBe(0);
    expect(model.limited).toBeGreaterThan(0);
    expect(rows('SELECT count(*) AS n FROM issues')).toEqual([{ n: 3 }]);
  });

  it('a wrong token stops the run with GitHub\'s message and without the token', async () => {
    const result = await run('bad.db', { access_token: 'github_pat_wrongwrongwrong' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('401');
    expect(result.stderr).not.toContain('github_pat_wrongwrongwrong');
  });
});

describe('sync listen github', () => {
  it('writes the fields a batch read writes, marks deletions, answers the ping, refuses a bad signature', async () => {
    expect((await run()).code).toBe(0);
    const { child, url, done } = await startListen(['github', '--config', config(), '--target', `sqlite:${join(tmp.dir, 'gh.db')}`], { cwd: tmp.dir });
    let delivery = 0;
    const send = async (event: string, payload: object, secret = SECRET): Promise<Response> => {
      const body = JSON.stringify(payload);
      const signature = await new Webhooks({ secret }).sign(body);
      return fetch(`${url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': `d-${++delivery}`, 'x-hub-signature-256': signature },
        body,
      });
    };
    const repository = { id: 1, full_name: 'acme/api', name: 'api' };
    const renamed = model.edit('acme/api', 2, { title: 'Faster start-up, take two' });
    // The webhook's pull request carries more than the list's: those are left out.
    const pull = { ...renamed, merged: false, mergeable: true, additions: 10, deletions: 2, commits: 1 };
    const ping = await send('ping', { zen: 'Keep it logically awesome.', hook_id: 1 });
    expect([ping.status, await ping.text()]).toEqual([200, 'pong\n']);
    expect((await send('pull_request', { action: 'edited', pull_request: pull, repository })).status).toBe(200);
    const issue = model.deleteIssue('acme/api', 1);
    expect((await send('issues', { action: 'deleted', issue, repository })).status).toBe(200);
    expect((await send('issues', { action: 'edited', issue: { id: 1 }, repository }, 'not-the-secret')).status).toBe(401);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('not in its schema');
    expect(rows("SELECT title FROM pull_requests WHERE repository = 'acme/api' AND number = 2")).toEqual([{ title: 'Faster start-up, take two' }]);
    expect(rows("SELECT name FROM pragma_table_info('pull_requests') WHERE name IN ('merged', 'additions')")).toEqual([]);
    expect(rows("SELECT title, _sdc_deleted_at IS NOT NULL AS deleted FROM issues WHERE repository = 'acme/api' AND number = 1")).toEqual([{ title: 'Crash on start', deleted: 1 }]);

    // The next run reads the same pull request and leaves the row as the webhook wrote it.
    const before = rows("SELECT * FROM pull_requests WHERE number = 2 AND repository = 'acme/api'")[0];
    expect((await run()).code).toBe(0);
    const after = rows("SELECT * FROM pull_requests WHERE number = 2 AND repository = 'acme/api'")[0];
    const comparable = (row: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(row ?? {}).filter(([k]) => !k.startsWith('_sync_run')));
    expect(comparable(after)).toEqual(comparable(before));
  });
});
