import type { JsonObject } from '../../src/protocol/json.js';
import { chargeSchema, customerSchema, invoiceSchema, priceSchema, productSchema, subscriptionSchema } from './schemas.js';

/**
 * Stripe as data on the `rest` engine.
 *
 * - Secret (or restricted) key as a bearer token; `account` adds `Stripe-Account` (Connect).
 * - Lists page with `limit` (at most 100) and `starting_after=<last id>` until `has_more` is
 *   false. They filter on `created` only, so an incremental read by it finds new objects and
 *   never a change: the first run lists each stream in full, later runs read `/v1/events` since
 *   the bookmark, every event's `data.object` being the object after the change, its `created`
 *   the time of the change. Events are kept 30 days: an older bookmark means a full read again.
 * - `changed_at` holds that time (the event's, or the full read's start), so a webhook of the
 *   same event writes the same row, and the newest copy of an object wins whichever path wrote it.
 * - Wildcard types are broader than their stream (`customer.*` includes subscriptions,
 *   discounts, sources), so each stream takes the events it lists and drops the rest.
 */

export interface StripeSettings {
  api_key: string;
  base_url?: string;
  account?: string;
  webhook_secret?: string;
  requests_per_second?: number;
}

interface StreamSpec {
  name: string;
  description: string;
  path: string;
  schema: JsonObject;
  /** The `type` filter of the events feed (one wildcard). */
  feedType: string;
  /** Event types whose object is this stream's. */
  events: string[];
  /** Of those, the ones after which the object is gone. */
  deleted: string[];
  params?: Record<string, string>;
}

const lifecycle = (prefix: string, more: string[] = []): string[] => [`${prefix}.created`, `${prefix}.updated`, ...more];

export const STREAMS: readonly StreamSpec[] = [
  {
    name: 'customers', description: 'Customers; deleted ones are marked deleted', path: '/v1/customers', schema: customerSchema,
    feedType: 'customer.*', events: lifecycle('customer', ['customer.deleted']), deleted: ['customer.deleted'],
  },
  {
    name: 'products', description: 'Products; deleted ones are marked deleted', path: '/v1/products', schema: productSchema,
    feedType: 'product.*', events: lifecycle('product', ['product.deleted']), deleted: ['product.deleted'],
  },
  {
    name: 'prices', description: 'Prices of products; deleted ones are marked deleted', path: '/v1/prices', schema: priceSchema,
    feedType: 'price.*', events: lifecycle('price', ['price.deleted']), deleted: ['price.deleted'],
  },
  {
    // A canceled subscription stays an object (status canceled): `customer.subscription.deleted` is a change, not a deletion.
    name: 'subscriptions', description: 'Subscriptions, canceled ones included (status canceled)', path: '/v1/subscriptions', schema: subscriptionSchema,
    feedType: 'customer.subscription.*', params: { status: 'all' },
    events: lifecycle('customer.subscription', [
      'customer.subscription.deleted', 'customer.subscription.paused', 'customer.subscription.resumed',
      'customer.subscription.pending_update_applied', 'customer.subscription.pending_update_expired', 'customer.subscription.trial_will_end',
    ]),
    deleted: [],
  },
  {
    name: 'invoices', description: 'Invoices; deleted drafts are marked deleted', path: '/v1/invoices', schema: invoiceSchema,
    feedType: 'invoice.*',
    events: lifecycle('invoice', [
      'invoice.deleted', 'invoice.finalized', 'invoice.finalization_failed', 'invoice.marked_uncollectible', 'invoice.overdue', 'invoice.paid',
      'invoice.payment_action_required', 'invoice.payment_failed', 'invoice.payment_succeeded', 'invoice.sent', 'invoice.voided', 'invoice.will_be_due',
    ]),
    deleted: ['invoice.deleted'],
  },
  {
    name: 'charges', description: 'Charges (payments)', path: '/v1/charges', schema: chargeSchema,
    feedType: 'charge.*',
    events: ['charge.captured', 'charge.expired', 'charge.failed', 'charge.pending', 'charge.refunded', 'charge.succeeded', 'charge.updated'],
    deleted: [],
  },
];

const PAGE = 100;
const PAGING = { type: 'after_last', key_path: 'id', param: 'starting_after', has_more_path: 'has_more', limit_param: 'limit', page_size: PAGE };

/** The settings, read from a config already checked against the connector's spec. */
export function settingsOf(config: JsonObject): StripeSettings {
  const text = (key: string): string | undefined => (typeof config[key] === 'string' && config[key] !== '' ? config[key] : undefined);
  const rate = config['requests_per_second'];
  return {
    api_key: text('api_key') ?? '',
    ...(text('base_url') === undefined ? {} : { base_url: text('base_url') as string }),
    ...(text('account') === undefined ? {} : { account: text('account') as string }),
    ...(text('webhook_secret') === undefined ? {} : { webhook_secret: text('webhook_secret') as string }),
    ...(typeof rate === 'number' ? { requests_per_second: rate } : {}),
  };
}

/** The `rest` description of the account: auth, limits, the events feed, the streams and the webhook mapping. */
export function stripeDescription(settings: StripeSettings): JsonObject {
  const events: JsonObject = {};
  for (const stream of STREAMS) {
    for (const type of stream.events) {
      events[type] = { stream: stream.name, object_path: 'data.object', ...(stream.deleted.includes(type) ? { deleted: true } : {}) };
    }
  }
  return {
    base_url: (settings.base_url ?? 'https://api.stripe.com').replace(/\/+$/, ''),
    auth: { type: 'bearer' },
    token: settings.api_key,
    ...(settings.account === undefined ? {} : { headers: { 'Stripe-Account': settings.account } }),
    // Stripe allows 100 reads a second in live mode and 25 in test mode.
    rate_limit: { requests_per_second: settings.requests_per_second ?? 25 },
    change_feeds: {
      events: {
        path: '/v1/events', records_path: 'data', pagination: PAGING,
        // Inclusive: events of the bookmark's own second are read again rather than missed.
        incremental: { param: 'created[gte]', format: 'epoch_seconds' },
        type_path: 'type', time_path: 'created', object_path: 'data.object', newest_first: true, retention_days: 30,
      },
    },
    streams: STREAMS.map((s) => ({
      name: s.name,
      description: s.description,
      path: s.path,
      records_path: 'data',
      primary_key: 'id',
      replication_key: 'changed_at',
      pagination: PAGING,
      ...(s.params === undefined ? {} : { params: s.params }),
      change_feed: { feed: 'events', params: { type: s.feedType }, events: s.events, ...(s.deleted.length ? { deleted_events: s.deleted } : {}) },
      schema: s.schema,
    })),
    webhooks: {
      scheme: { kind: 'stripe' },
      event_path: 'type',
      time_path: 'created',
      delivery_id: { path: 'id' },
      events,
    },
    ...(settings.webhook_secret === undefined ? {} : { webhook_secret: settings.webhook_secret }),
  };
}
