import { UsageError } from '../../src/errors.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { crmObjectSchema, ownerSchema } from './schemas.js';

/**
 * HubSpot's CRM as data on the `rest` engine.
 *
 * - A private app's access token as a bearer token.
 * - Contacts, companies, deals and tickets are read through the search endpoint, filtered on
 *   the object's last-modified property (`>=` the bookmark, in epoch milliseconds) and sorted
 *   by it. A search query pages through 10,000 results at most, so the read pages keyset-style:
 *   each page asks again from the last modification time seen, skipping (`after`) the objects
 *   already read at exactly that time. No query ever goes deep, however many objects changed.
 * - Records keep HubSpot's fixed fields (`id`, `createdAt`, `updatedAt`, `archived`) and each
 *   property as a column (`unnest: properties`). `updatedAt` is the version.
 * - Search never finds archived (deleted) objects: they are listed with `archived=true`, and
 *   that listing marks the rows deleted at `archivedAt` (a tombstone listing per object type).
 * - Owners are few: listed in full every run, archived ones marked deleted.
 * - App webhooks come in batches, signed with v3. A creation or property change names the object
 *   (and at most one property): the listener reads the object back, so the row is the one a
 *   batch read gives. A deletion needs no request.
 */

export interface HubspotSettings {
  access_token: string;
  base_url?: string;
  start_date?: string;
  /** Extra properties per object type, besides the ones read by default. */
  properties: Record<ObjectType, string[]>;
  requests_per_second?: number;
  search_requests_per_second?: number;
  client_secret?: string;
  target_url?: string;
}

export type ObjectType = 'contacts' | 'companies' | 'deals' | 'tickets';

interface ObjectSpec {
  type: ObjectType;
  /** The setting with extra properties. */
  setting: string;
  /** The event names' object part (`contact.creation`). */
  singular: string;
  /** The property HubSpot keeps the last modification time in, which search filters and sorts on. */
  lastModified: string;
  /** Read by default: the ones HubSpot's search returns by default, and the commonly used ones. */
  properties: string[];
  description: string;
}

export const OBJECTS: readonly ObjectSpec[] = [
  {
    type: 'contacts', setting: 'contact_properties', singular: 'contact', lastModified: 'lastmodifieddate', description: 'Contacts; archived ones are marked deleted',
    properties: ['email', 'firstname', 'lastname', 'phone', 'company', 'jobtitle', 'website', 'lifecyclestage', 'hs_lead_status', 'hubspot_owner_id', 'createdate', 'lastmodifieddate', 'hs_object_id'],
  },
  {
    type: 'companies', setting: 'company_properties', singular: 'company', lastModified: 'hs_lastmodifieddate', description: 'Companies; archived ones are marked deleted',
    properties: ['name', 'domain', 'industry', 'phone', 'city', 'country', 'numberofemployees', 'annualrevenue', 'lifecyclestage', 'hubspot_owner_id', 'createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  },
  {
    type: 'deals', setting: 'deal_properties', singular: 'deal', lastModified: 'hs_lastmodifieddate', description: 'Deals; archived ones are marked deleted',
    properties: ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate', 'dealtype', 'hubspot_owner_id', 'createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  },
  {
    type: 'tickets', setting: 'ticket_properties', singular: 'ticket', lastModified: 'hs_lastmodifieddate', description: 'Tickets; archived ones are marked deleted',
    properties: ['subject', 'content', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_priority', 'hs_ticket_category', 'hubspot_owner_id', 'createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  },
];

/** HubSpot's search pages hold 200 results at most; lists 100. */
const SEARCH_PAGE = 200;
const LIST_PAGE = 100;
/** The search index trails writes by a few seconds: each run reads the last minute again. */
const LOOKBACK_MINUTES = 1;
/** Before every change HubSpot could hold: the first run reads everything. */
const EVERYTHING = '1970-01-01T00:00:00Z';
/** A property name as HubSpot makes them; the record's own fields are not available as names. */
const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;
const TAKEN = new Set(['id', 'archived']);
const LIST_PAGING = { type: 'cursor', cursor_path: 'paging.next.after', cursor_param: 'after', limit_param: 'limit', page_size: LIST_PAGE };

/** The settings, read from a config already checked against the connector's spec; a property name HubSpot cannot have is a UsageError. */
export function settingsOf(config: JsonObject): HubspotSettings {
  const text = (key: string): string | undefined => (typeof config[key] === 'string' && config[key] !== '' ? config[key] : undefined);
  const number = (key: string): number | undefined => (typeof config[key] === 'number' ? config[key] : undefined);
  const problems: string[] = [];
  const properties = {} as Record<ObjectType, string[]>;
  for (const spec of OBJECTS) {
    const raw = config[spec.setting];
    const names = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string').map((x) => x.trim()).filter((x) => x !== '') : [];
    for (const name of names) {
      if (!PROPERTY_NAME.test(name) || TAKEN.has(name)) {
        problems.push(`${spec.setting}: ${JSON.stringify(name)} is not a property name HubSpot gives (lower-case letters, digits and _, not id or archived)`);
      }
    }
    properties[spec.type] = names;
  }
  if (problems.length > 0) throw new UsageError(`invalid hubspot settings (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  const settings: HubspotSettings = { access_token: text('access_token') ?? '', properties };
  for (const key of ['base_url', 'start_date', 'client_secret', 'target_url'] as const) {
    const value = text(key);
    if (value !== undefined) settings[key] = value;
  }
  for (const key of ['requests_per_second', 'search_requests_per_second'] as const) {
    const value = number(key);
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

/** The properties a stream reads: the defaults, then the extra ones of the settings. */
export function propertiesOf(spec: ObjectSpec, settings: HubspotSettings): string[] {
  return [...new Set([...spec.properties, ...settings.properties[spec.type]])];
}

/** The `rest` description of the account: auth, limits, the streams and the webhook mapping. */
export function hubspotDescription(settings: HubspotSettings): JsonObject {
  const streams: JsonObject[] = [];
  for (const spec of OBJECTS) {
    const properties = propertiesOf(spec, settings);
    streams.push({
      name: spec.type,
      description: spec.description,
      method: 'POST',
      path: `/crm/v3/objects/${spec.type}/search`,
      body: {
        filterGroups: [{ filters: [{ propertyName: spec.lastModified, operator: 'GTE' }] }],
        sorts: [{ propertyName: spec.lastModified, direction: 'ASCENDING' }],
        properties,
      },
      records_path: 'results',
      primary_key: 'id',
      replication_key: 'updatedAt',
      sorted: true,
      start_date: settings.start_date ?? EVERYTHING,
      // The bound is the filter's value; the keyset pages move it, and `after` skips what was read at it.
      incremental: { param: 'filterGroups.0.filters.0.value', in: 'body', format: 'epoch_ms', lookback_minutes: LOOKBACK_MINUTES },
      pagination: { type: 'keyset', offset_param: 'after', limit_param: 'limit', page_size: SEARCH_PAGE },
      unnest: 'properties',
      item_path: `/crm/v3/objects/${spec.type}/{id}?properties=${properties.join(',')}`,
      schema: crmObjectSchema(properties),
    });
    streams.push({
      name: `${spec.type}_archived`,
      description: `Archived ${spec.type}: their rows in ${spec.type} are marked deleted at archivedAt`,
      path: `/crm/v3/objects/${spec.type}`,
      params: { archived: true },
      records_path: 'results',
      primary_key: 'id',
      replication_key: 'archivedAt',
      pagination: LIST_PAGING,
      tombstones_for: spec.type,
    });
  }
  streams.push({
    name: 'owners',
    description: 'Owners (users who can own records); archived ones are marked deleted',
    path: '/crm/v3/owners',
    records_path: 'results',
    primary_key: 'id',
    replication_key: 'updatedAt',
    pagination: LIST_PAGING,
    variants: [{ archived: true }],
    deleted_when: { path: 'archived', equals: true },
    schema: ownerSchema,
  });
  return {
    base_url: (settings.base_url ?? 'https://api.hubapi.com').replace(/\/+$/, ''),
    auth: { type: 'bearer' },
    token: settings.access_token,
    // A private app may send 100 requests per 10 s (more on some tiers); search 5 a second per account.
    rate_limit: {
      requests_per_second: settings.requests_per_second ?? 10,
      endpoints: [{ path: '/crm/v3/objects/*/search', requests_per_second: settings.search_requests_per_second ?? 5 }],
    },
    streams,
    webhooks: {
      scheme: { kind: 'hubspot-v3', ...(settings.target_url === undefined ? {} : { url: settings.target_url }) },
      batch_path: '.',
      event_path: 'subscriptionType',
      time_path: 'occurredAt',
      events: webhookEvents(),
    },
    ...(settings.client_secret === undefined ? {} : { webhook_secret: settings.client_secret }),
  };
}

/**
 * Creations, property changes and restores name the object: it is read back (`fetch`), once
 * per batch however many events name it. Deletions (a GDPR deletion too) mark the row deleted
 * at the event's time. Other events (merges, association changes) are acknowledged and ignored.
 */
function webhookEvents(): JsonObject {
  const events: JsonObject = {};
  for (const spec of OBJECTS) {
    const named = { stream: spec.type, fields: { id: 'objectId' }, required: ['id'] };
    for (const kind of ['creation', 'propertyChange', 'restore']) events[`${spec.singular}.${kind}`] = { ...named, fetch: true };
    events[`${spec.singular}.deletion`] = { ...named, deleted: true };
  }
  events['contact.privacyDeletion'] = { stream: 'contacts', fields: { id: 'objectId' }, required: ['id'], deleted: true };
  return events;
}
