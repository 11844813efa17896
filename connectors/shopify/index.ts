import { defineConnector } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { DEFAULT_API_VERSION } from './description.js';
import { resolveShopifyStreams } from './streams.js';
import { shopifyWebhooks } from './webhooks.js';

/**
 * A Shopify store's orders, customers and products, batch and trigger. The streams are the
 * `rest` engine's GraphQL reads of the Admin API (description.ts), a bulk operation for a read
 * from scratch (bulk.ts), both converted into one record shape (records.ts); the webhooks are
 * Shopify's REST-shaped payloads converted into the same records (webhooks.ts).
 */

export default defineConnector<JsonObject>({
  name: 'shopify',
  version: '0.1.0',
  description: 'Shopify orders (with line items), customers and products (with variants) from the GraphQL Admin API, incremental by updated_at; the first run as a bulk operation; webhooks for create, update and delete',
  config: {
    properties: {
      shop: { type: 'string', description: "The shop's domain", examples: ['acme.myshopify.com'] },
      access_token: { type: 'string', secret: true, description: 'Admin API access token of the app installed on the shop (shpat_…)' },
      api_version: { type: 'string', default: DEFAULT_API_VERSION, description: 'Admin API version (YYYY-MM)', examples: [DEFAULT_API_VERSION] },
      client_secret: { type: 'string', secret: true, description: "The app's client secret, which signs its webhooks (for sync listen); space-separated old and new during a rotation" },
      start_date: { type: 'string', format: 'date-time', description: 'Objects updated before this are not read on the first run' },
      base_url: { type: 'string', format: 'uri', description: 'Replaces https://<shop> (proxies, tests)' },
    },
    required: ['shop', 'access_token'],
  },
  streams: [],
  // The streams are the same for every shop: --about builds them for this one, sending nothing.
  aboutConfig: { shop: 'example.myshopify.com' },
  resolveStreams: (config, ctx) => resolveShopifyStreams(config, ctx),
  webhooks: shopifyWebhooks,
});
