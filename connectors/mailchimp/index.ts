import { defineConnector } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { resolveRestStreams } from '../rest/streams.js';
import { mailchimpDescription, settingsOf } from './description.js';
import { mailchimpWebhooks } from './webhooks.js';

/**
 * Mailchimp audiences and their members, batch and trigger. The streams are the `rest`
 * engine's, from a description built from the settings (description.ts); the webhooks are
 * Mailchimp's own form events (webhooks.ts).
 */

export default defineConnector<JsonObject>({
  name: 'mailchimp',
  version: '0.1.0',
  description: 'Mailchimp audiences (lists) and their members, incremental by last change; archived members deleted; webhooks for subscribe, unsubscribe, profile, email and cleaned events',
  config: {
    properties: {
      api_key: { type: 'string', secret: true, description: 'Marketing API key; its suffix is the data centre (…-us6)', examples: ['0123456789abcdef0123456789abcdef-us6'] },
      base_url: { type: 'string', format: 'uri', description: 'Replaces https://<dc>.api.mailchimp.com/3.0 (proxies, tests)' },
      list_ids: { type: 'array', description: 'Only these audiences (list ids); default every audience' },
      start_date: { type: 'string', format: 'date-time', description: 'Members changed before this are not read on the first run' },
      webhook_secret: { type: 'string', secret: true, description: 'The token in the webhook URL registered with Mailchimp (?token=…): Mailchimp signs nothing' },
    },
    required: ['api_key'],
  },
  streams: [],
  // The streams are the same for every account: --about builds them for this one, sending nothing.
  aboutConfig: { base_url: 'https://us1.api.mailchimp.com/3.0' },
  resolveStreams: (config, ctx) => resolveRestStreams(mailchimpDescription(settingsOf(config)), ctx),
  webhooks: mailchimpWebhooks,
});
