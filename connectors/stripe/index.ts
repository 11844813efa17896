import { defineConnector } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { resolveRestStreams } from '../rest/streams.js';
import { resolveRestWebhooks } from '../rest/webhooks.js';
import { settingsOf, stripeDescription } from './description.js';

/**
 * Stripe customers, products, prices, subscriptions, invoices and charges, batch and trigger:
 * a description on the `rest` engine (description.ts). Changes come from the events feed
 * between full reads, and the same events pushed as webhooks write the same rows.
 */

export default defineConnector<JsonObject>({
  name: 'stripe',
  version: '0.1.0',
  description: 'Stripe customers, products, prices, subscriptions, invoices and charges; changes from the events feed, deletions included; webhooks for the same events',
  config: {
    properties: {
      api_key: { type: 'string', secret: true, description: 'Secret or restricted key (sk_live_…, rk_live_…; read access is enough)', examples: ['sk_test_…'] },
      base_url: { type: 'string', format: 'uri', description: 'Replaces https://api.stripe.com (proxies, tests)' },
      account: { type: 'string', description: 'A connected account to read (Stripe-Account header), for Connect platforms', examples: ['acct_1032D82eZvKYlo2C'] },
      requests_per_second: { type: 'number', description: 'Request rate to stay under (default 25, the test-mode limit; live mode allows 100)' },
      webhook_secret: { type: 'string', secret: true, description: "The endpoint's signing secret (whsec_…)" },
    },
    required: ['api_key'],
  },
  streams: [],
  // The streams are the same for every account: --about builds them from the defaults, sending nothing.
  aboutConfig: {},
  resolveStreams: (config, ctx) => resolveRestStreams(stripeDescription(settingsOf(config)), ctx),
  resolveWebhooks: (config) => resolveRestWebhooks(stripeDescription(settingsOf(config))),
});
