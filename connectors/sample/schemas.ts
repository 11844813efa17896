import type { JsonObject } from '../../src/protocol/json.js';

/** JSON Schemas of one record per stream. Extra properties stay allowed: sources grow fields. */

const dateTime: JsonObject = { type: 'string', format: 'date-time' };
const deletedAt: JsonObject = {
  type: ['null', 'string'],
  format: 'date-time',
  description: 'When the object was deleted at the source; null while it exists',
};

export const customerSchema: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    email: { type: 'string' },
    name: { type: 'string' },
    company: { type: ['null', 'string'] },
    country: { type: 'string', description: 'ISO 3166-1 alpha-2 code' },
    plan: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    address: {
      type: 'object',
      properties: {
        street: { type: 'string' },
        city: { type: 'string' },
        postal_code: { type: 'string' },
        country: { type: 'string' },
      },
      required: ['street', 'city', 'postal_code', 'country'],
    },
    lifetime_value: { type: 'number' },
    created_at: dateTime,
    updated_at: dateTime,
    _sdc_deleted_at: deletedAt,
  },
  required: ['id', 'updated_at'],
};

export const orderSchema: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    customer_id: { type: ['null', 'integer'], description: 'null for a guest order' },
    status: { type: 'string', enum: ['pending', 'paid', 'shipped', 'delivered', 'cancelled'] },
    currency: { type: 'string', description: 'ISO 4217 code' },
    line_items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string' },
          name: { type: 'string' },
          quantity: { type: 'integer', minimum: 1 },
          unit_price: { type: 'number' },
        },
        required: ['sku', 'name', 'quantity', 'unit_price'],
      },
    },
    total: { type: 'number', description: 'Sum of the line items, in currency units' },
    created_at: dateTime,
    updated_at: dateTime,
    _sdc_deleted_at: deletedAt,
  },
  required: ['id', 'updated_at'],
};
