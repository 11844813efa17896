import type { WebhookDelivery, WebhookEvent, WebhookSpec } from '../../src/connector/contract.js';
import { isJsonObject } from '../../src/protocol/json.js';
import { STREAM_SHAPES, type ShopifyStream } from './records.js';
import { gidOf, restId } from './values.js';

/**
 * Shopify's webhooks: a JSON body in the REST shape of the object (snake_case, numeric ids,
 * `admin_graphql_api_id`), the topic in `X-Shopify-Topic`, signed with HMAC-SHA256 of the raw
 * body under the app's client secret (`X-Shopify-Hmac-Sha256`, base64). Newer "Events"
 * deliveries use the same names without `X-` (`Shopify-Hmac-Sha256`, `Shopify-Event-Id`…). A
 * delivery carries one family; as Shopify's SDK does, the unprefixed one wins wherever both
 * could be read, for the signature (src/listen/verify), the event id, the topic and the time
 * alike, so every part of one delivery is read from the same family.
 *
 * A create or update carries the whole object: it becomes the record a batch read gives
 * (records.ts), versioned by its own `updated_at`. A delete carries only the id: a partial
 * record marked deleted at `X-Shopify-Triggered-At`. Other topics are acknowledged and ignored.
 */

const UPSERTS: Record<string, ShopifyStream> = {
  'orders/create': 'orders',
  'orders/updated': 'orders',
  'orders/cancelled': 'orders',
  'orders/fulfilled': 'orders',
  'orders/partially_fulfilled': 'orders',
  'orders/paid': 'orders',
  'customers/create': 'customers',
  'customers/update': 'customers',
  'customers/enable': 'customers',
  'customers/disable': 'customers',
  'products/create': 'products',
  'products/update': 'products',
};

const DELETES: Record<string, ShopifyStream> = {
  'orders/delete': 'orders',
  'customers/delete': 'customers',
  'products/delete': 'products',
};

export const shopifyWebhooks: WebhookSpec = {
  scheme: { kind: 'shopify' },
  secretSettings: ['client_secret'],
  // Retries and the same event sent to several subscriptions share the event id.
  deliveryId: { header: ['shopify-event-id', 'x-shopify-event-id'] },
  eventName: { header: ['shopify-topic', 'x-shopify-topic'] },
  map: mapShopifyDelivery,
};

export function mapShopifyDelivery(delivery: WebhookDelivery): WebhookEvent[] {
  const header = (name: string): string | undefined => nonEmpty(delivery.headers[`shopify-${name}`]) ?? nonEmpty(delivery.headers[`x-shopify-${name}`]);
  const topic = header('topic');
  if (topic === undefined) throw new Error('no X-Shopify-Topic (or Shopify-Topic) header');
  const upsert = Object.hasOwn(UPSERTS, topic) ? UPSERTS[topic] : undefined;
  const deletion = Object.hasOwn(DELETES, topic) ? DELETES[topic] : undefined;
  if (upsert === undefined && deletion === undefined) return [];
  const body = delivery.json;
  if (!isJsonObject(body)) throw new Error(`a ${topic} delivery whose body is not a JSON object`);
  const triggeredAt = header('triggered-at');
  const time = triggeredAt === undefined ? {} : { time: triggeredAt };
  if (upsert !== undefined) {
    const record = STREAM_SHAPES[upsert].fromRest(body);
    if (record['id'] === null) throw new Error(`a ${topic} delivery without a numeric "id"`);
    return [{ stream: upsert, record, ...time }];
  }
  const stream = deletion as ShopifyStream;
  const id = restId(body['id']);
  if (id === null) throw new Error(`a ${topic} delivery without a numeric "id"`);
  return [{ stream, partial: true, deleted: true, record: { id, admin_graphql_api_id: gidOf(STREAM_SHAPES[stream].type, id) }, ...time }];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
