import { defineConnector } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { resolveRestStreams } from '../rest/streams.js';
import { resolveRestWebhooks } from '../rest/webhooks.js';
import { hubspotDescription, settingsOf } from './description.js';

/**
 * HubSpot CRM contacts, companies, deals, tickets and owners, batch and trigger: a description
 * on the `rest` engine (description.ts). Runs read what changed through search, deletions
 * through the archived listings; app webhooks (signature v3) write the same rows.
 */

const properties = (object: string) => ({ type: 'array' as const, description: `Extra ${object} properties to read, besides the default ones (internal names)`, examples: [['favorite_color']] });

export default defineConnector<JsonObject>({
  name: 'hubspot',
  version: '0.1.0',
  description: 'HubSpot CRM contacts, companies, deals, tickets and owners, incremental by last modification; archived objects marked deleted; app webhooks (v3) for creations, property changes and deletions',
  config: {
    properties: {
      access_token: { type: 'string', secret: true, description: "A private app's access token (pat-…) with the CRM read scopes", examples: ['pat-na1-…'] },
      base_url: { type: 'string', format: 'uri', description: 'Replaces https://api.hubapi.com (proxies, tests)' },
      start_date: { type: 'string', format: 'date-time', description: 'Objects last changed before this are not read on the first run' },
      contact_properties: properties('contact'),
      company_properties: properties('company'),
      deal_properties: properties('deal'),
      ticket_properties: properties('ticket'),
      requests_per_second: { type: 'number', description: 'Request rate to stay under (default 10: 100 per 10 s, a private app\'s limit on most tiers)' },
      search_requests_per_second: { type: 'number', description: 'Search request rate to stay under (default 5, the per-account search limit)' },
      client_secret: { type: 'string', secret: true, description: "The app's client secret, which signs its webhooks (v3)" },
      target_url: { type: 'string', format: 'uri', description: "The webhook target URL as registered in the app (it is signed); default https://<Host header><path>" },
    },
    required: ['access_token'],
  },
  streams: [],
  // The streams are the same for every account: --about builds them from the defaults, sending nothing.
  aboutConfig: {},
  resolveStreams: (config, ctx) => resolveRestStreams(hubspotDescription(settingsOf(config)), ctx),
  resolveWebhooks: (config) => {
    const spec = resolveRestWebhooks(hubspotDescription(settingsOf(config)));
    // HubSpot calls the signing key the app's client secret.
    return spec === undefined ? undefined : { ...spec, secretSettings: ['client_secret'] };
  },
});
