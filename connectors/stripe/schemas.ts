import type { JsonObject } from '../../src/protocol/json.js';

/**
 * The objects' top-level fields as the API reference documents them, typed loosely where the
 * API varies (an id or, when expanded, the object). `changed_at` is written by sync: the time
 * of the change that produced the row (see description.ts).
 */

const text = { type: ['null', 'string'] };
const integer = { type: ['null', 'integer'] };
const flag = { type: ['null', 'boolean'] };
const object = { type: ['null', 'object'] };
const list = { type: ['null', 'array'] };
/** An id, or the object itself when the request expanded it. */
const ref = { type: ['null', 'string', 'object'] };

function schema(fields: Record<string, JsonObject>): JsonObject {
  return {
    type: 'object',
    properties: {
      id: { type: 'string' },
      object: { type: 'string' },
      created: { type: 'integer' },
      livemode: { type: 'boolean' },
      metadata: object,
      ...fields,
      changed_at: { type: ['null', 'string'], format: 'date-time' },
    },
  };
}

export const customerSchema = schema({
  address: object, balance: integer, currency: text, default_source: ref, delinquent: flag, description: text, discount: object,
  email: text, invoice_prefix: text, invoice_settings: object, name: text, next_invoice_sequence: integer, phone: text,
  preferred_locales: list, shipping: object, tax_exempt: text, test_clock: ref,
});

export const productSchema = schema({
  active: flag, default_price: ref, description: text, images: list, marketing_features: list, name: text, package_dimensions: object,
  shippable: flag, statement_descriptor: text, tax_code: ref, type: text, unit_label: text, updated: integer, url: text,
});

export const priceSchema = schema({
  active: flag, billing_scheme: text, currency: text, custom_unit_amount: object, lookup_key: text, nickname: text, product: ref,
  recurring: object, tax_behavior: text, tiers_mode: text, transform_quantity: object, type: text, unit_amount: integer, unit_amount_decimal: text,
});

export const subscriptionSchema = schema({
  application: ref, application_fee_percent: { type: ['null', 'number'] }, automatic_tax: object, billing_cycle_anchor: integer,
  cancel_at: integer, cancel_at_period_end: flag, canceled_at: integer, cancellation_details: object, collection_method: text,
  currency: text, customer: ref, days_until_due: integer, default_payment_method: ref, description: text, discounts: list,
  ended_at: integer, items: object, latest_invoice: ref, pause_collection: object, pending_update: object, schedule: ref,
  start_date: integer, status: text, test_clock: ref, trial_end: integer, trial_start: integer,
});

export const invoiceSchema = schema({
  account_country: text, account_name: text, amount_due: integer, amount_paid: integer, amount_remaining: integer,
  attempt_count: integer, attempted: flag, auto_advance: flag, billing_reason: text, collection_method: text, currency: text,
  customer: ref, customer_email: text, customer_name: text, description: text, due_date: integer, ending_balance: integer,
  hosted_invoice_url: text, invoice_pdf: text, lines: object, number: text, period_end: integer, period_start: integer,
  status: text, status_transitions: object, subscription: ref, subtotal: integer, total: integer,
});

export const chargeSchema = schema({
  amount: integer, amount_captured: integer, amount_refunded: integer, balance_transaction: ref, billing_details: object,
  captured: flag, currency: text, customer: ref, description: text, disputed: flag, failure_code: text, failure_message: text,
  outcome: object, paid: flag, payment_intent: ref, payment_method: text, receipt_email: text, receipt_url: text,
  refunded: flag, statement_descriptor: text, status: text,
});
