import type { JsonObject } from '../../src/protocol/json.js';

/**
 * The fields of the objects as GitHub's REST reference documents them (list representations:
 * a webhook carries more, and only these are kept, so both paths fill the same columns).
 */

const text = { type: ['null', 'string'] };
const time = { type: ['null', 'string'], format: 'date-time' };
const integer = { type: ['null', 'integer'] };
const flag = { type: ['null', 'boolean'] };
const object = { type: ['null', 'object'] };
const list = { type: ['null', 'array'] };

function schema(properties: Record<string, JsonObject>): JsonObject {
  return { type: 'object', properties: { id: { type: 'integer' }, node_id: text, ...properties } };
}

export const repositorySchema = schema({
  name: text, full_name: text, owner: object, private: flag, html_url: text, description: text, fork: flag, url: text,
  created_at: time, updated_at: time, pushed_at: time, homepage: text, size: integer, stargazers_count: integer,
  watchers_count: integer, language: text, forks_count: integer, archived: flag, disabled: flag, open_issues_count: integer,
  license: object, topics: list, visibility: text, default_branch: text,
});

/** Issues and pull requests alike (GitHub lists pull requests as issues too: `pull_request` tells them apart). */
export const issueSchema = schema({
  number: integer, title: text, body: text, state: text, state_reason: text, locked: flag, user: object, labels: list,
  assignee: object, assignees: list, milestone: object, comments: integer, author_association: text, pull_request: object,
  draft: flag, html_url: text, url: text, repository_url: text, created_at: time, updated_at: time, closed_at: time,
});

export const pullRequestSchema = schema({
  number: integer, title: text, body: text, state: text, locked: flag, draft: flag, user: object, labels: list,
  assignee: object, assignees: list, requested_reviewers: list, milestone: object, head: object, base: object,
  merge_commit_sha: text, author_association: text, html_url: text, url: text, created_at: time, updated_at: time,
  closed_at: time, merged_at: time,
});

export const issueCommentSchema = schema({
  body: text, user: object, author_association: text, html_url: text, url: text, issue_url: text, created_at: time, updated_at: time,
});

export const releaseSchema = schema({
  tag_name: text, target_commitish: text, name: text, body: text, draft: flag, prerelease: flag, author: object,
  html_url: text, url: text, assets: list, created_at: time, published_at: time,
});
