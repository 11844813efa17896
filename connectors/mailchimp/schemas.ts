import type { JsonObject } from '../../src/protocol/json.js';

/**
 * What `lists` and `list_members` hold. A member carries the fields a webhook can also give
 * (Mailchimp's webhooks send only these), so a record is the same whether `sync run` or
 * `sync listen` produced it; the batch read asks for exactly these (`fields`).
 */

const text = { type: ['null', 'string'] };

export const listSchema: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    web_id: { type: ['null', 'integer'] },
    name: text,
    date_created: { type: ['null', 'string'], format: 'date-time' },
    list_rating: { type: ['null', 'integer'] },
    email_type_option: { type: ['null', 'boolean'] },
    visibility: text,
    double_optin: { type: ['null', 'boolean'] },
    contact: { type: ['null', 'object'] },
    campaign_defaults: { type: ['null', 'object'] },
    stats: { type: ['null', 'object'] },
  },
};

/** The member fields both paths give; `list_id` and `id` are its key. */
export const MEMBER_FIELDS = ['id', 'email_address', 'unique_email_id', 'web_id', 'email_type', 'status', 'merge_fields', 'ip_signup', 'ip_opt', 'last_changed', 'list_id'] as const;

export const memberSchema: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    list_id: { type: 'string' },
    email_address: text,
    unique_email_id: text,
    web_id: { type: ['null', 'integer'] },
    email_type: text,
    status: { type: ['null', 'string'], enum: [null, 'subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived'] },
    merge_fields: { type: ['null', 'object'] },
    ip_signup: text,
    ip_opt: text,
    last_changed: { type: 'string', format: 'date-time' },
    _sdc_deleted_at: { type: ['null', 'string'], format: 'date-time' },
  },
};
