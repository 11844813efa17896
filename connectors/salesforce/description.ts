import type { JsonObject } from '../../src/protocol/json.js';
import { streamName } from './names.js';
import { REPLICATION_KEY, type DescribedObject } from './schema.js';
import type { SalesforceSettings } from './settings.js';

/**
 * Salesforce as data on the `rest` engine: one stream per sObject, read with SOQL through
 * `queryAll` (deleted records too, `IsDeleted` true, in the recycle bin for 15 days),
 * incremental by `SystemModstamp`, which every change moves, system ones included, unlike
 * `LastModifiedDate`. Results come in ascending `SystemModstamp`, so the bookmark advances as
 * pages arrive; `nextRecordsUrl` names the next page. Outbound Messages (SOAP) feed the same
 * streams, keyed by sObject type.
 */

/** An object to describe as a stream: with its describe result, or only its name (webhooks, the first session). */
export type ObjectPlan = DescribedObject | { name: string };

export function dataPath(settings: SalesforceSettings, rest: string): string {
  return `/services/data/v${settings.apiVersion}/${rest}`;
}

export function tokenUrl(settings: SalesforceSettings): string {
  return `${settings.loginUrl}/services/oauth2/token`;
}

export function salesforceDescription(settings: SalesforceSettings, baseUrl: string, objects: readonly ObjectPlan[]): JsonObject {
  return {
    base_url: baseUrl,
    // Token requests go through the provider the connector makes (it reads instance_url); this
    // says the same, so that the description is whole and its secrets are scrubbed.
    auth: { type: 'oauth2_refresh_token', token_url: tokenUrl(settings) },
    client_id: settings.clientId,
    refresh_token: settings.refreshToken,
    ...(settings.clientSecret === undefined ? {} : { client_secret: settings.clientSecret }),
    ...(settings.startDate === undefined ? {} : { start_date: settings.startDate }),
    streams: objects.map((object) => objectStream(settings, object)),
    errors: LIMIT_ERRORS,
    webhooks: {
      format: 'salesforce_outbound',
      // Salesforce signs nothing: the endpoint URL given to it carries the secret.
      scheme: { kind: 'token', query_param: 'token' },
      events: Object.fromEntries(objects.map((o) => [o.name, { stream: streamName(o.name) }])),
    },
  };
}

/**
 * Salesforce refuses past a limit with 403 REQUEST_LIMIT_EXCEEDED, the message naming which.
 * `TotalRequests`: the org's API requests of the last 24 hours reached its allowance, which
 * frees up only as the day's calls age out, so the run stops (exit 75: a later run may
 * succeed) with what it committed kept. Any other (`ConcurrentPerOrgLongTxn`,
 * `ConcurrentRequests`: too many long requests at once in the org) passes within seconds, and
 * the request is retried with backoff.
 */
const LIMIT_ERRORS: JsonObject[] = [
  {
    status: 403,
    path: '0.message',
    in: ['TotalRequests Limit exceeded.', 'TotalRequests Limit exceeded'],
    then: 'later',
    reason: "the org's daily API request limit is used up; it frees up as the calls of the last 24 hours age out",
  },
  {
    status: 403,
    path: '0.errorCode',
    equals: 'REQUEST_LIMIT_EXCEEDED',
    then: 'retry',
    reason: 'too many long-running requests at once in the org',
  },
];

function objectStream(settings: SalesforceSettings, object: ObjectPlan): JsonObject {
  const described = 'fields' in object ? object : undefined;
  const fields = described?.fields ?? ['Id', REPLICATION_KEY];
  return {
    name: streamName(object.name),
    description: `${object.name} records; deleted ones (queryAll, IsDeleted) are marked deleted`,
    path: dataPath(settings, 'queryAll'),
    params: { q: `SELECT ${fields.join(', ')} FROM ${object.name}[[ WHERE ${REPLICATION_KEY} >= {bookmark}]] ORDER BY ${REPLICATION_KEY}` },
    records_path: 'records',
    primary_key: 'Id',
    replication_key: REPLICATION_KEY,
    sorted: true,
    // SOQL takes a date-time literal bare (quoted, it is a MALFORMED_QUERY).
    incremental: { quoting: 'soql' },
    pagination: { type: 'next_url', next_url_path: 'nextRecordsUrl' },
    ...(described === undefined || described.hasIsDeleted ? { deleted_when: { path: 'IsDeleted', equals: true } } : {}),
    ...(described === undefined ? {} : { schema: described.schema }),
  };
}
