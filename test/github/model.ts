import type { ServerResponse } from 'node:http';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * GitHub's REST API as its reference documents it, for what the connector reads:
 *
 * - A token as `Authorization: Bearer …` (or `token …`); a wrong one is 401 `Bad credentials`.
 * - Lists page with `per_page` (at most 100, default 30) and `page`, and say where the next
 *   page is in `Link: <…>; rel="next"` (absent on the last page).
 * - `GET /user/repos`: the repositories the token can read (`sort`, `direction`).
 * - `GET /repos/{owner}/{repo}/issues`: issues and pull requests (a pull request is an issue
 *   with a `pull_request` object); `state` open (default), closed or all; `since` (updated at or
 *   after); `sort` created (default), updated or comments; `direction` desc (default) or asc.
 * - `GET /repos/{owner}/{repo}/pulls`: `state`, `sort` created (default) or updated, `direction`
 *   (desc by default); no `since`.
 * - `GET /repos/{owner}/{repo}/issues/comments`: `since`, `sort` created (default) or updated,
 *   `direction` (asc by default).
 * - `GET /repos/{owner}/{repo}/releases`: newest first.
 * - An unknown repository is 404 `Not Found`. Every answer carries `x-ratelimit-limit`,
 *   `-remaining`, `-used`, `-reset` (epoch seconds); past the limit, 403 `API rate limit
 *   exceeded` with `x-ratelimit-remaining: 0` until the window resets (`windowSeconds`).
 */

type Row = Record<string, unknown> & { id: number; updated_at: string; created_at: string };

interface Repo {
  row: Row;
  issues: Row[];
  pulls: Row[];
  comments: Row[];
  releases: Row[];
}

export interface GithubModel {
  server: TestServer;
  url: string;
  repos: Map<string, Repo>;
  /** Requests per window before 403 (default: unlimited). */
  limit: number;
  windowSeconds: number;
  limited: number;
  addRepo(fullName: string): Row;
  /** An issue, or with `pull: true` a pull request (which is also an issue). */
  addIssue(repo: string, title: string, options?: { pull?: boolean }): Row;
  /** Edits an issue (and its pull request): a new `updated_at`. */
  edit(repo: string, number: number, fields: Record<string, unknown>): Row;
  addComment(repo: string, issueNumber: number, body: string): Row;
  addRelease(repo: string, tag: string): Row;
  /** Deletes an issue: it is no longer listed. */
  deleteIssue(repo: string, number: number): Row;
  close(): Promise<void>;
}

export async function startGithub(token: string): Promise<GithubModel> {
  let ids = 1000;
  let clock = Date.parse('2026-03-01T00:00:00Z');
  // Each change one second after the last: updated_at orders changes, as on GitHub.
  const tick = (): string => new Date((clock += 1000)).toISOString().replace('.000Z', 'Z');
  let windowStart = Date.now();
  let used = 0;
  const model: GithubModel = {
    server: undefined as unknown as TestServer,
    url: '',
    repos: new Map(),
    limit: Number.POSITIVE_INFINITY,
    windowSeconds: 1,
    limited: 0,
    addRepo(fullName) {
      const at = tick();
      const [owner] = fullName.split('/');
      const row: Row = { id: ++ids, node_id: `R_${ids}`, name: fullName.split('/')[1], full_name: fullName, owner: { login: owner, id: 1, type: 'Organization' }, private: false, html_url: `https://github.com/${fullName}`, description: null, fork: false, url: `${model.url}/repos/${fullName}`, created_at: at, updated_at: at, pushed_at: at, default_branch: 'main', archived: false, visibility: 'public', open_issues_count: 0, topics: [] };
      model.repos.set(fullName, { row, issues: [], pulls: [], comments: [], releases: [] });
      return row;
    },
    addIssue(repo, title, options = {}) {
      const r = repoOf(repo);
      const at = tick();
      const number = r.issues.length + 1;
      const base = { number, title, body: null, state: 'open', locked: false, user: { login: 'octocat', id: 1 }, labels: [], assignee: null, assignees: [], milestone: null, author_association: 'OWNER', html_url: `https://github.com/${repo}/issues/${number}`, created_at: at, updated_at: at, closed_at: null };
      const issue: Row = { id: ++ids, node_id: `I_${ids}`, ...base, state_reason: null, comments: 0, url: `${model.url}/repos/${repo}/issues/${number}`, repository_url: `${model.url}/repos/${repo}` };
      if (options.pull === true) {
        issue['pull_request'] = { url: `${model.url}/repos/${repo}/pulls/${number}`, merged_at: null };
        r.pulls.push({ id: ++ids, node_id: `PR_${ids}`, ...base, draft: false, requested_reviewers: [], head: { ref: `feature-${number}`, sha: 'a'.repeat(40) }, base: { ref: 'main', sha: 'b'.repeat(40) }, merge_commit_sha: null, merged_at: null, url: `${model.url}/repos/${repo}/pulls/${number}` });
      }
      r.issues.push(issue);
      return issue;
    },
    edit(repo, number, fields) {
      const r = repoOf(repo);
      const at = tick();
      const issue = r.issues.find((i) => i['number'] === number);
      if (issue === undefined) throw new Error(`no issue ${repo}#${number}`);
      Object.assign(issue, fields, { updated_at: at });
      const pull = r.pulls.find((p) => p['number'] === number);
      if (pull !== undefined) Object.assign(pull, fields, { updated_at: at });
      return pull ?? issue;
    },
    addComment(repo, issueNumber, body) {
      const r = repoOf(repo);
      const at = tick();
      const comment: Row = { id: ++ids, node_id: `IC_${ids}`, body, user: { login: 'octocat', id: 1 }, author_association: 'OWNER', html_url: `https://github.com/${repo}/issues/${issueNumber}#issuecomment-${ids}`, url: `${model.url}/repos/${repo}/issues/comments/${ids}`, issue_url: `${model.url}/repos/${repo}/issues/${issueNumber}`, created_at: at, updated_at: at };
      r.comments.push(comment);
      return comment;
    },
    addRelease(repo, tag) {
      const r = repoOf(repo);
      const at = tick();
      const release: Row = { id: ++ids, node_id: `RE_${ids}`, tag_name: tag, target_commitish: 'main', name: tag, body: null, draft: false, prerelease: false, author: { login: 'octocat', id: 1 }, html_url: `https://github.com/${repo}/releases/tag/${tag}`, url: `${model.url}/repos/${repo}/releases/${ids}`, assets: [], created_at: at, updated_at: at, published_at: at };
      r.releases.push(release);
      return release;
    },
    deleteIssue(repo, number) {
      const r = repoOf(repo);
      const issue = r.issues.find((i) => i['number'] === number);
      if (issue === undefined) throw new Error(`no issue ${repo}#${number}`);
      r.issues = r.issues.filter((i) => i !== issue);
      return issue;
    },
    close: () => model.server.close(),
  };

  function repoOf(name: string): Repo {
    const repo = model.repos.get(name);
    if (repo === undefined) throw new Error(`no repository ${name}`);
    return repo;
  }

  model.server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://model');
    const now = Date.now();
    if (now - windowStart >= model.windowSeconds * 1000) {
      windowStart = now;
      used = 0;
    }
    const reset = String(Math.ceil((windowStart + model.windowSeconds * 1000) / 1000));
    const limits = (remaining: number): Record<string, string> => ({
      'x-ratelimit-limit': String(Number.isFinite(model.limit) ? model.limit : 5000),
      'x-ratelimit-remaining': String(Math.max(0, remaining)),
      'x-ratelimit-used': String(used),
      'x-ratelimit-reset': reset,
      'x-ratelimit-resource': 'core',
    });
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${token}` && auth !== `token ${token}`) {
      return sendJson(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    }
    if (++used > model.limit) {
      model.limited++;
      return sendJson(res, 403, { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' }, limits(0));
    }
    const remaining = Number.isFinite(model.limit) ? model.limit - used : 5000 - used;
    const headers = limits(remaining);
    const perPageText = url.searchParams.get('per_page');
    const perPage = perPageText === null ? 30 : Number(perPageText);
    if (!Number.isInteger(perPage) || perPage < 1) return sendJson(res, 422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest' }, headers);
    if (url.pathname === '/user/repos') {
      const sort = url.searchParams.get('sort') ?? 'full_name';
      const rows = [...model.repos.values()].map((r) => r.row).sort((a, b) => String(a[sort] ?? '').localeCompare(String(b[sort] ?? '')));
      if ((url.searchParams.get('direction') ?? (sort === 'full_name' ? 'asc' : 'desc')) === 'desc') rows.reverse();
      return page(res, url, rows, Math.min(perPage, 100), headers);
    }
    const match = /^\/repos\/([^/]+)\/([^/]+)\/(issues|pulls|issues\/comments|releases)$/.exec(url.pathname);
    const repo = match ? model.repos.get(`${decodeURIComponent(match[1] ?? '')}/${decodeURIComponent(match[2] ?? '')}`) : undefined;
    if (match === null || repo === undefined) return sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }, headers);
    const since = url.searchParams.get('since');
    const state = url.searchParams.get('state') ?? 'open';
    const sort = url.searchParams.get('sort') ?? 'created';
    const sortKey = sort === 'updated' ? 'updated_at' : 'created_at';
    let rows: Row[];
    let direction: string;
    switch (match[3]) {
      case 'issues':
        rows = repo.issues.filter((i) => state === 'all' || i['state'] === state);
        direction = url.searchParams.get('direction') ?? 'desc';
        break;
      case 'pulls':
        if (since !== null) return sendJson(res, 422, { message: 'Validation Failed: since is not a parameter of this endpoint' }, headers);
        rows = repo.pulls.filter((p) => state === 'all' || p['state'] === state);
        direction = url.searchParams.get('direction') ?? 'desc';
        break;
      case 'issues/comments':
        rows = [...repo.comments];
        direction = url.searchParams.get('direction') ?? 'asc';
        break;
      default:
        rows = [...repo.releases];
        direction = 'desc';
    }
    if (since !== null) rows = rows.filter((r) => Date.parse(r.updated_at) >= Date.parse(since));
    rows.sort((a, b) => Date.parse(a[sortKey]) - Date.parse(b[sortKey]) || a.id - b.id);
    if (direction === 'desc') rows.reverse();
    return page(res, url, rows, Math.min(perPage, 100), headers);
  });
  model.url = model.server.url;
  return model;
}

/** One page of a list, with a Link header to the next when there is one. */
function page(res: ServerResponse, url: URL, rows: readonly unknown[], perPage: number, headers: Record<string, string>): void {
  const n = Number(url.searchParams.get('page') ?? 1);
  const slice = rows.slice((n - 1) * perPage, n * perPage);
  const links: string[] = [];
  const at = (p: number): string => {
    const next = new URL(url.href);
    next.searchParams.set('page', String(p));
    return `<http://${(res.req.headers.host ?? '')}${next.pathname}${next.search}>`;
  };
  const last = Math.max(1, Math.ceil(rows.length / perPage));
  if (n < last) links.push(`${at(n + 1)}; rel="next"`, `${at(last)}; rel="last"`);
  if (n > 1) links.push(`${at(1)}; rel="first"`, `${at(n - 1)}; rel="prev"`);
  sendJson(res, 200, slice, { ...headers, ...(links.length ? { link: links.join(', ') } : {}) });
}
