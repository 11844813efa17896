import { defineConnector } from '../../src/connector/contract.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { DEFAULT_API_VERSION, DEFAULT_LOGIN_URL, DEFAULT_OBJECTS } from './settings.js';
import { resolveSalesforceStreams } from './streams.js';
import { resolveSalesforceWebhooks } from './webhooks.js';

/**
 * Salesforce sObjects, batch and trigger. The streams are the `rest` engine's, from a
 * description built from the settings and each object's describe call (description.ts,
 * schema.ts), after the token response said where the org's data is (streams.ts); the
 * webhooks are Outbound Messages through the engine's SOAP format (webhooks.ts).
 */

export default defineConnector<JsonObject>({
  name: 'salesforce',
  version: '0.1.0',
  description: 'Salesforce sObjects (Contact, Account, Lead, Opportunity, custom objects) by SOQL through queryAll, incremental by SystemModstamp, deletions marked; Outbound Messages for real time',
  config: {
    properties: {
      login_url: { type: 'string', format: 'uri', default: DEFAULT_LOGIN_URL, description: 'Where the token is asked for: https://login.salesforce.com, https://test.salesforce.com for a sandbox, or the org\'s My Domain URL' },
      client_id: { type: 'string', description: 'The connected app\'s consumer key' },
      client_secret: { type: 'string', secret: true, description: 'The connected app\'s consumer secret' },
      refresh_token: { type: 'string', secret: true, description: 'A refresh token of the connected app for the user whose access the sync has' },
      instance_url: { type: 'string', format: 'uri', description: 'Replaces the instance URL the token response names (a proxy, a test server)' },
      api_version: { type: 'string', default: DEFAULT_API_VERSION, description: 'REST API version, e.g. 62.0', examples: [DEFAULT_API_VERSION] },
      organization_id: { type: 'string', description: 'The org\'s id (00D…, 15 or 18 characters): outbound messages from any other org are refused (dead letters)' },
      webhook_secret: { type: 'string', secret: true, description: 'The token in the endpoint URL given to Salesforce (/webhooks/salesforce?token=…): Salesforce signs nothing' },
      start_date: { type: 'string', format: 'date-time', description: 'Records last changed (SystemModstamp) before this are not read on the first run' },
      objects: { type: 'array', default: [...DEFAULT_OBJECTS], description: 'sObject API names, one stream each (a JSON list): Contact → contacts, Invoice__c → invoice__c' },
    },
    required: ['client_id', 'refresh_token'],
  },
  streams: [],
  resolveStreams: (config, ctx) => resolveSalesforceStreams(config, ctx),
  resolveWebhooks: (config) => resolveSalesforceWebhooks(config),
});
