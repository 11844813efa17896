import { defineConnector } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { resolveRestStreams } from '../rest/streams.js';
import { resolveRestWebhooks } from '../rest/webhooks.js';
import { githubDescription, settingsOf } from './description.js';

/**
 * GitHub repositories, issues, pull requests, issue comments and releases, batch and trigger:
 * a description on the `rest` engine (description.ts), webhooks of the same objects into the
 * same rows.
 */

export default defineConnector<JsonObject>({
  name: 'github',
  version: '0.1.0',
  description: 'GitHub repositories and, per repository, issues, pull requests, issue comments and releases, incremental; webhooks for the same objects, deletions included',
  config: {
    properties: {
      access_token: { type: 'string', secret: true, description: 'A fine-grained or classic personal access token (read access to the repositories, their issues, pull requests and contents)', examples: ['github_pat_…'] },
      repositories: { type: 'array', description: 'Only these repositories (owner/name); default every repository the token can read', examples: [['acme/api', 'acme/web']] },
      start_date: { type: 'string', format: 'date-time', description: 'Issues and comments updated before this are not read on the first run' },
      base_url: { type: 'string', format: 'uri', description: 'Replaces https://api.github.com (GitHub Enterprise Server: https://HOST/api/v3; proxies, tests)' },
      webhook_secret: { type: 'string', secret: true, description: 'The secret of the repository or organisation webhook (X-Hub-Signature-256)' },
    },
    required: ['access_token'],
  },
  streams: [],
  // The streams are the same for every account: --about builds them from the defaults, sending nothing.
  aboutConfig: {},
  resolveStreams: (config, ctx) => resolveRestStreams(githubDescription(settingsOf(config)), ctx),
  resolveWebhooks: (config) => resolveRestWebhooks(githubDescription(settingsOf(config))),
});
