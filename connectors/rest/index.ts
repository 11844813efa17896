import { defineConnector, type ConfigProperty } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { SECRET_SETTINGS } from './description/index.js';
import { resolveRestStreams } from './streams.js';
import { resolveRestWebhooks } from './webhooks.js';

export { openRestSession, resolveRestStreams, type ResolveContext, type RestSession } from './streams.js';
export { parseDescription, type RestDescription, type RestStream, type RestWebhooks, type RestWebhookEvent } from './description/index.js';
export { mapRestDelivery, resolveRestWebhooks, restDeliveryId, restWebhookSpec } from './webhooks.js';

/**
 * Any JSON REST API, described in the config file: base URL, auth, and per stream the
 * path, where the records are, keys, replication key, pagination. The streams come from
 * that description, so `streams` here is empty and `resolveStreams` builds them per run.
 * The optional `webhooks` section describes pushed changes; `resolveRestWebhooks` turns it
 * into the listener's WebhookSpec (see webhooks.ts).
 */

const SECRET_DESCRIPTIONS: Record<(typeof SECRET_SETTINGS)[number], string> = {
  api_key: 'API key, for auth.type "api_key"',
  token: 'Bearer token, for auth.type "bearer"',
  username: 'User name, for auth.type "basic"',
  password: 'Password, for auth.type "basic"',
  client_id: 'OAuth2 client id',
  client_secret: 'OAuth2 client secret',
  refresh_token: 'OAuth2 refresh token, for auth.type "oauth2_refresh_token"',
};

const secrets: Record<string, ConfigProperty> = Object.fromEntries(
  SECRET_SETTINGS.map((name) => [name, { type: 'string', secret: name !== 'username' && name !== 'client_id', description: SECRET_DESCRIPTIONS[name] }]),
);

export default defineConnector<JsonObject>({
  name: 'rest',
  version: '0.1.0',
  description: 'Any JSON REST API described in the config file: auth, streams, pagination, incremental parameters',
  config: {
    properties: {
      base_url: { type: 'string', format: 'uri', description: 'Prefix of every stream path, e.g. https://api.example.com/v1', examples: ['https://api.example.com/v1'] },
      headers: { type: 'object', description: 'Headers sent with every request' },
      auth: { type: 'object', description: 'How requests authenticate: {"type": "none" | "api_key" | "bearer" | "basic" | "oauth2_client_credentials" | "oauth2_refresh_token", ...}; the secrets come from the settings below' },
      start_date: { type: 'string', format: 'date-time', description: 'Where incremental streams start on their first run' },
      streams: { type: 'array', description: 'The streams: name, path, records_path, primary_key, replication_key, incremental, pagination, params, schema' },
      webhooks: {
        type: 'object',
        description:
          'Optional, for `sync listen rest`: {"scheme": {"kind": ...}, "secret_setting", "event_path" | "event_header", "events": {"<event>": {"stream", "object_path", "deleted", "parent_path"}}, "delivery_id": {"header"} | {"path"}, "version_path", "time_path"}',
      },
      webhook_secret: { type: 'string', secret: true, description: 'Secret(s) webhook deliveries are verified with, space-separated during a rotation (the webhooks section\'s secret_setting)' },
      change_feeds: { type: 'object', description: 'Events endpoints, by name, that streams read their changes from (a stream\'s change_feed names one): {"events": {"path", "records_path", "type_path", "time_path", "object_path", "retention_days", ...}}' },
      errors: { type: 'array', description: 'Error answers whose body says what they mean: [{"status": 403, "path": "0.errorCode", "equals": "REQUEST_LIMIT_EXCEEDED", "then": "retry" | "later", "reason": "…"}], the first match deciding' },
      rate_limit: { type: 'object', description: 'Stay under the API\'s limits: {"requests_per_second": 5, "max_concurrent": 2, "reset_header": "X-Quota-Reset"}' },
      refresh_token_file: { type: 'string', description: 'JSON file whose "refresh_token" key receives a rotated OAuth2 refresh token (usually the config file itself)' },
      ...secrets,
    },
    required: ['base_url', 'streams'],
  },
  streams: [],
  describedInConfig: true,
  resolveStreams: (config, ctx) => resolveRestStreams(config, ctx),
  resolveWebhooks: (config) => resolveRestWebhooks(config),
});
