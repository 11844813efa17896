import type { JsonObject } from '../../src/protocol/json.js';
import { issueCommentSchema, issueSchema, pullRequestSchema, releaseSchema, repositorySchema } from './schemas.js';

/**
 * GitHub's REST API as data on the `rest` engine.
 *
 * - A token (fine-grained or classic) as a bearer token, the API version header GitHub asks
 *   for; pages follow the `Link: rel="next"` header, 100 at a time.
 * - `repositories`: every repository the token can read (`/user/repos`), or those named in
 *   `repositories`. The other streams are read per repository (`/repos/{owner}/{repo}/…`),
 *   each record carrying `repository` (`owner/name`), its bookmark kept per repository.
 * - `issues` and `issue_comments` filter on `since` (updated at or after) in ascending order
 *   of `updated_at`; `pull_requests` cannot be filtered, but lists newest change first, so a
 *   read stops at the first one older than the bookmark; `releases` are read in full (few).
 * - Deletions reach a table only through webhooks (GitHub's lists just stop showing an object):
 *   `issues` deleted or transferred, `issue_comment` and `release` deleted.
 * - A webhook's object is richer than the list's: only the listed fields are taken (`fields`),
 *   so both paths fill the same columns and never blank one another's.
 */

export interface GithubSettings {
  access_token: string;
  base_url?: string;
  repositories?: string[];
  start_date?: string;
  webhook_secret?: string;
}

const PAGE = 100;
const LINKS = { type: 'link_header', limit_param: 'per_page', page_size: PAGE, stop_on_short_page: false };
const PARENT = { stream: 'repositories', key: 'full_name', as: 'repository' };

/** The settings, read from a config already checked against the connector's spec. */
export function settingsOf(config: JsonObject): GithubSettings {
  const text = (key: string): string | undefined => (typeof config[key] === 'string' && config[key] !== '' ? config[key] : undefined);
  const repositories = config['repositories'];
  return {
    access_token: text('access_token') ?? '',
    ...(text('base_url') === undefined ? {} : { base_url: text('base_url') as string }),
    ...(text('start_date') === undefined ? {} : { start_date: text('start_date') as string }),
    ...(text('webhook_secret') === undefined ? {} : { webhook_secret: text('webhook_secret') as string }),
    ...(Array.isArray(repositories) ? { repositories: repositories.filter((x): x is string => typeof x === 'string') } : {}),
  };
}

/** Every property of a schema taken from the same path of the webhook's object. */
function sameFields(schema: JsonObject): Record<string, string> {
  const properties = schema['properties'] as JsonObject;
  return Object.fromEntries(Object.keys(properties).map((p) => [p, p]));
}

/** The `rest` description of the account: auth, the streams and the webhook mapping. */
export function githubDescription(settings: GithubSettings): JsonObject {
  const child = (name: string, description: string, path: string, schema: JsonObject, more: JsonObject): JsonObject => ({
    name, description, path, primary_key: 'id', parent: PARENT, pagination: LINKS, schema, ...more,
  });
  const streams = [
    {
      name: 'repositories', description: 'Repositories the token can read', path: '/user/repos', primary_key: 'id',
      params: { sort: 'full_name', direction: 'asc' }, pagination: LINKS, schema: repositorySchema,
      ...(settings.repositories !== undefined && settings.repositories.length > 0 ? { keep_when: { path: 'full_name', in: settings.repositories } } : {}),
    },
    child('issues', 'Issues and pull requests (as issues: pull_request tells them apart) of each repository', '/repos/{parent}/issues', issueSchema, {
      replication_key: 'updated_at', sorted: true, params: { state: 'all', sort: 'updated', direction: 'asc' }, incremental: { param: 'since', format: 'iso8601' },
    }),
    child('pull_requests', 'Pull requests of each repository', '/repos/{parent}/pulls', pullRequestSchema, {
      replication_key: 'updated_at', params: { state: 'all', sort: 'updated', direction: 'desc' }, incremental: { newest_first: true },
    }),
    child('issue_comments', 'Comments on the issues and pull requests of each repository', '/repos/{parent}/issues/comments', issueCommentSchema, {
      replication_key: 'updated_at', sorted: true, params: { sort: 'updated', direction: 'asc' }, incremental: { param: 'since', format: 'iso8601' },
    }),
    child('releases', 'Releases of each repository, read in full', '/repos/{parent}/releases', releaseSchema, {}),
  ];
  const event = (stream: string, objectPath: string, schema: JsonObject, deleted = false): JsonObject => ({
    stream, object_path: objectPath, parent_path: 'repository.full_name', fields: sameFields(schema), required: ['id'], ...(deleted ? { deleted: true } : {}),
  });
  return {
    base_url: (settings.base_url ?? 'https://api.github.com').replace(/\/+$/, ''),
    auth: { type: 'bearer' },
    token: settings.access_token,
    headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
    ...(settings.start_date === undefined ? {} : { start_date: settings.start_date }),
    // GitHub allows 5,000 requests an hour per token, and asks for requests one at a time.
    rate_limit: { max_concurrent: 1 },
    streams,
    webhooks: {
      scheme: { kind: 'github' },
      event_header: 'x-github-event',
      action_path: 'action',
      delivery_id: { header: 'x-github-delivery' },
      handshakes: ['github_ping'],
      events: {
        'issues.deleted': event('issues', 'issue', issueSchema, true),
        // Moved to another repository: gone from this one.
        'issues.transferred': event('issues', 'issue', issueSchema, true),
        issues: event('issues', 'issue', issueSchema),
        pull_request: event('pull_requests', 'pull_request', pullRequestSchema),
        'issue_comment.deleted': event('issue_comments', 'comment', issueCommentSchema, true),
        issue_comment: event('issue_comments', 'comment', issueCommentSchema),
        'release.deleted': event('releases', 'release', releaseSchema, true),
        release: event('releases', 'release', releaseSchema),
      },
    },
    ...(settings.webhook_secret === undefined ? {} : { webhook_secret: settings.webhook_secret }),
  };
}
