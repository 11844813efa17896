import type { JsonObject } from '../../src/protocol/json.js';
import type { ShopifyStream } from './records.js';

/**
 * The JSON Schemas of the records records.ts builds. Ids are integers (exact: they pass 2^53),
 * amounts are decimal text (never floats), times are UTC date-times. A deletion from a webhook
 * carries only the id, so every other property may be null.
 */

const text = { type: ['null', 'string'] };
const time = { type: ['null', 'string'], format: 'date-time' };
const id = { type: 'integer' };
const ref = { type: ['null', 'integer'] };
const amount = { type: ['null', 'string'], pattern: '^-?\\d+\\.\\d{2,}$' };
const tagList = { type: ['null', 'array'], items: { type: 'string' } };
const deletedAt = { type: ['null', 'string'], format: 'date-time' };

const lineItem: JsonObject = {
  type: 'object',
  properties: {
    id: ref,
    admin_graphql_api_id: text,
    name: text,
    title: text,
    quantity: { type: ['null', 'integer'] },
    sku: text,
    variant_title: text,
    vendor: text,
    price: amount,
    product_id: ref,
    variant_id: ref,
  },
};

const variant: JsonObject = {
  type: 'object',
  properties: {
    id: ref,
    admin_graphql_api_id: text,
    title: text,
    sku: text,
    price: amount,
    compare_at_price: amount,
    barcode: text,
    position: { type: ['null', 'integer'] },
    inventory_quantity: { type: ['null', 'integer'] },
    taxable: { type: ['null', 'boolean'] },
    created_at: time,
    updated_at: time,
  },
};

export const SCHEMAS: Record<ShopifyStream, JsonObject> = {
  orders: {
    type: 'object',
    properties: {
      id,
      admin_graphql_api_id: text,
      name: text,
      email: text,
      created_at: time,
      updated_at: time,
      processed_at: time,
      cancelled_at: time,
      closed_at: time,
      currency: text,
      total_price: amount,
      subtotal_price: amount,
      total_tax: amount,
      total_discounts: amount,
      financial_status: text,
      fulfillment_status: { type: ['null', 'string'], enum: [null, 'fulfilled', 'partial', 'restocked'] },
      customer_id: ref,
      tags: tagList,
      note: text,
      test: { type: ['null', 'boolean'] },
      line_items: { type: ['null', 'array'], items: lineItem },
      _sdc_deleted_at: deletedAt,
    },
  },
  customers: {
    type: 'object',
    properties: {
      id,
      admin_graphql_api_id: text,
      email: text,
      first_name: text,
      last_name: text,
      phone: text,
      state: { type: ['null', 'string'], enum: [null, 'disabled', 'invited', 'enabled', 'declined'] },
      verified_email: { type: ['null', 'boolean'] },
      tags: tagList,
      note: text,
      created_at: time,
      updated_at: time,
      _sdc_deleted_at: deletedAt,
    },
  },
  products: {
    type: 'object',
    properties: {
      id,
      admin_graphql_api_id: text,
      title: text,
      handle: text,
      vendor: text,
      product_type: text,
      status: { type: ['null', 'string'], enum: [null, 'active', 'archived', 'draft', 'unlisted'] },
      tags: tagList,
      body_html: text,
      created_at: time,
      updated_at: time,
      published_at: time,
      variants: { type: ['null', 'array'], items: variant },
      _sdc_deleted_at: deletedAt,
    },
  },
};
