import { isJsonObject, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { bool, gidOf, idFromGid, integer, linkedId, lowerEnum, money, nodesOf, restId, shopMoney, tags, text, utc } from './values.js';

/**
 * The record of each stream, from either shape Shopify writes an object in: a GraphQL Admin
 * node (the paged read and the bulk export) or a REST-shaped webhook payload. Records are
 * snake_case with numeric ids, the gid kept as `admin_graphql_api_id`, amounts as exact
 * decimal text in the shop's currency, times in UTC. The two functions of a stream produce the
 * same record for the same object, property by property; a property one shape lacks is not
 * made up by the other.
 */

/** Nested lists are cut where the paged query cuts them, so every path holds the same items. */
export const LINE_ITEMS_PER_ORDER = 50;
export const VARIANTS_PER_PRODUCT = 100;

/**
 * REST writes `fulfillment_status` as null (nothing shipped), `partial`, `fulfilled` or
 * `restocked`; GraphQL's displayFulfillmentStatus knows more states, which REST shows as null.
 */
function fulfillmentFromGraphql(value: JsonValue | undefined): string | null {
  switch (value) {
    case 'FULFILLED':
      return 'fulfilled';
    case 'PARTIALLY_FULFILLED':
      return 'partial';
    case 'RESTOCKED':
      return 'restocked';
    default:
      return null;
  }
}

function fulfillmentFromRest(value: JsonValue | undefined): string | null {
  return value === 'fulfilled' || value === 'partial' || value === 'restocked' ? value : null;
}

export function orderFromGraphql(node: JsonObject): JsonObject {
  return {
    id: idFromGid(node['id']),
    admin_graphql_api_id: text(node['id']),
    name: text(node['name']),
    email: text(node['email']),
    created_at: utc(node['createdAt']),
    updated_at: utc(node['updatedAt']),
    processed_at: utc(node['processedAt']),
    cancelled_at: utc(node['cancelledAt']),
    closed_at: utc(node['closedAt']),
    currency: text(node['currencyCode']),
    total_price: shopMoney(node['totalPriceSet']),
    subtotal_price: shopMoney(node['subtotalPriceSet']),
    total_tax: shopMoney(node['totalTaxSet']),
    total_discounts: shopMoney(node['totalDiscountsSet']),
    financial_status: lowerEnum(node['displayFinancialStatus']),
    fulfillment_status: fulfillmentFromGraphql(node['displayFulfillmentStatus']),
    customer_id: linkedId(node['customer']),
    tags: tags(node['tags']),
    note: text(node['note']),
    test: bool(node['test']),
    line_items: nodesOf(node['lineItems']).slice(0, LINE_ITEMS_PER_ORDER).map(lineItemFromGraphql),
  };
}

function lineItemFromGraphql(node: JsonObject): JsonObject {
  return {
    id: idFromGid(node['id']),
    admin_graphql_api_id: text(node['id']),
    name: text(node['name']),
    title: text(node['title']),
    quantity: integer(node['quantity']),
    sku: text(node['sku']),
    variant_title: text(node['variantTitle']),
    vendor: text(node['vendor']),
    price: shopMoney(node['originalUnitPriceSet']),
    product_id: linkedId(node['product']),
    variant_id: linkedId(node['variant']),
  };
}

export function orderFromRest(payload: JsonObject): JsonObject {
  const id = restId(payload['id']);
  const customer = payload['customer'];
  const items = Array.isArray(payload['line_items']) ? payload['line_items'].filter(isJsonObject) : [];
  return {
    id,
    admin_graphql_api_id: text(payload['admin_graphql_api_id']) ?? gidOf('Order', id),
    name: text(payload['name']),
    email: text(payload['email']),
    created_at: utc(payload['created_at']),
    updated_at: utc(payload['updated_at']),
    processed_at: utc(payload['processed_at']),
    cancelled_at: utc(payload['cancelled_at']),
    closed_at: utc(payload['closed_at']),
    currency: text(payload['currency']),
    total_price: money(payload['total_price']),
    subtotal_price: money(payload['subtotal_price']),
    total_tax: money(payload['total_tax']),
    total_discounts: money(payload['total_discounts']),
    financial_status: text(payload['financial_status']),
    fulfillment_status: fulfillmentFromRest(payload['fulfillment_status']),
    customer_id: isJsonObject(customer) ? restId(customer['id']) : null,
    tags: tags(payload['tags']),
    note: text(payload['note']),
    test: bool(payload['test']),
    line_items: items.slice(0, LINE_ITEMS_PER_ORDER).map(lineItemFromRest),
  };
}

function lineItemFromRest(item: JsonObject): JsonObject {
  const id = restId(item['id']);
  return {
    id,
    admin_graphql_api_id: text(item['admin_graphql_api_id']) ?? gidOf('LineItem', id),
    name: text(item['name']),
    title: text(item['title']),
    quantity: integer(item['quantity']),
    sku: text(item['sku']),
    variant_title: text(item['variant_title']),
    vendor: text(item['vendor']),
    price: money(item['price']),
    product_id: restId(item['product_id']),
    variant_id: restId(item['variant_id']),
  };
}

export function customerFromGraphql(node: JsonObject): JsonObject {
  const email = node['defaultEmailAddress'];
  const phone = node['defaultPhoneNumber'];
  return {
    id: idFromGid(node['id']),
    admin_graphql_api_id: text(node['id']),
    email: isJsonObject(email) ? text(email['emailAddress']) : null,
    first_name: text(node['firstName']),
    last_name: text(node['lastName']),
    phone: isJsonObject(phone) ? text(phone['phoneNumber']) : null,
    state: lowerEnum(node['state']),
    verified_email: bool(node['verifiedEmail']),
    tags: tags(node['tags']),
    note: text(node['note']),
    created_at: utc(node['createdAt']),
    updated_at: utc(node['updatedAt']),
  };
}

export function customerFromRest(payload: JsonObject): JsonObject {
  const id = restId(payload['id']);
  return {
    id,
    admin_graphql_api_id: text(payload['admin_graphql_api_id']) ?? gidOf('Customer', id),
    email: text(payload['email']),
    first_name: text(payload['first_name']),
    last_name: text(payload['last_name']),
    phone: text(payload['phone']),
    state: text(payload['state']),
    verified_email: bool(payload['verified_email']),
    tags: tags(payload['tags']),
    note: text(payload['note']),
    created_at: utc(payload['created_at']),
    updated_at: utc(payload['updated_at']),
  };
}

export function productFromGraphql(node: JsonObject): JsonObject {
  return {
    id: idFromGid(node['id']),
    admin_graphql_api_id: text(node['id']),
    title: text(node['title']),
    handle: text(node['handle']),
    vendor: text(node['vendor']),
    product_type: text(node['productType']),
    status: lowerEnum(node['status']),
    tags: tags(node['tags']),
    body_html: text(node['descriptionHtml']),
    created_at: utc(node['createdAt']),
    updated_at: utc(node['updatedAt']),
    published_at: utc(node['publishedAt']),
    variants: nodesOf(node['variants']).slice(0, VARIANTS_PER_PRODUCT).map(variantFromGraphql),
  };
}

function variantFromGraphql(node: JsonObject): JsonObject {
  return {
    id: idFromGid(node['id']),
    admin_graphql_api_id: text(node['id']),
    title: text(node['title']),
    sku: text(node['sku']),
    price: money(node['price']),
    compare_at_price: money(node['compareAtPrice']),
    barcode: text(node['barcode']),
    position: integer(node['position']),
    inventory_quantity: integer(node['inventoryQuantity']),
    taxable: bool(node['taxable']),
    created_at: utc(node['createdAt']),
    updated_at: utc(node['updatedAt']),
  };
}

export function productFromRest(payload: JsonObject): JsonObject {
  const id = restId(payload['id']);
  const variants = Array.isArray(payload['variants']) ? payload['variants'].filter(isJsonObject) : [];
  return {
    id,
    admin_graphql_api_id: text(payload['admin_graphql_api_id']) ?? gidOf('Product', id),
    title: text(payload['title']),
    handle: text(payload['handle']),
    vendor: text(payload['vendor']),
    product_type: text(payload['product_type']),
    status: text(payload['status']),
    tags: tags(payload['tags']),
    body_html: text(payload['body_html']),
    created_at: utc(payload['created_at']),
    updated_at: utc(payload['updated_at']),
    published_at: utc(payload['published_at']),
    variants: variants.slice(0, VARIANTS_PER_PRODUCT).map(variantFromRest),
  };
}

function variantFromRest(variant: JsonObject): JsonObject {
  const id = restId(variant['id']);
  return {
    id,
    admin_graphql_api_id: text(variant['admin_graphql_api_id']) ?? gidOf('ProductVariant', id),
    title: text(variant['title']),
    sku: text(variant['sku']),
    price: money(variant['price']),
    compare_at_price: money(variant['compare_at_price']),
    barcode: text(variant['barcode']),
    position: integer(variant['position']),
    inventory_quantity: integer(variant['inventory_quantity']),
    taxable: bool(variant['taxable']),
    created_at: utc(variant['created_at']),
    updated_at: utc(variant['updated_at']),
  };
}

/** Per stream: its GraphQL object type (for gids) and its two conversions. */
export const STREAM_SHAPES = {
  orders: { type: 'Order', fromGraphql: orderFromGraphql, fromRest: orderFromRest },
  customers: { type: 'Customer', fromGraphql: customerFromGraphql, fromRest: customerFromRest },
  products: { type: 'Product', fromGraphql: productFromGraphql, fromRest: productFromRest },
} as const;

export type ShopifyStream = keyof typeof STREAM_SHAPES;
