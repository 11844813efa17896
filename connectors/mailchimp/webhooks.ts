import { createHash } from 'node:crypto';
import type { WebhookDelivery, WebhookEvent, WebhookSpec } from '../../src/connector/contract.js';
import { parseFormBody } from '../../src/listen/form-body.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/protocol/json.js';

/**
 * Mailchimp's webhooks, as the audience settings (or `POST /lists/{id}/webhooks`) register
 * them: form-encoded POSTs of `type`, `fired_at` and `data[...]` fields, signed by nothing, so
 * the URL carries a secret (`?token=<webhook_secret>`); a GET of the URL checks it exists.
 *
 * Each event becomes the member as `list_members` holds it, with the properties the event
 * knows (a partial record: the row keeps the rest). The member's id is Mailchimp's subscriber
 * hash, the MD5 of the lower-cased address, which the payload does not carry; its version is
 * `fired_at`, written the way the API writes `last_changed`.
 */

export const mailchimpWebhooks: WebhookSpec = {
  scheme: { kind: 'token', queryParam: 'token' },
  secretSettings: ['webhook_secret'],
  handshake: {
    // Mailchimp's validator GETs the URL before it saves a webhook: answering reveals nothing.
    unsigned: (request) => (request.method === 'GET' || request.method === 'HEAD' ? { status: 200, body: 'ok\n' } : undefined),
  },
  map: mapMailchimpDelivery,
};

export function mapMailchimpDelivery(delivery: WebhookDelivery): WebhookEvent[] {
  const form = parseFormBody(delivery.text);
  const type = form['type'];
  const data = form['data'];
  if (typeof type !== 'string') throw new Error('the body has no "type"');
  if (type === 'campaign') return [];
  if (!isJsonObject(data)) throw new Error(`a ${type} event without data[...] fields`);
  const listId = text(data, 'list_id');
  if (listId === undefined) throw new Error(`a ${type} event without data[list_id]`);
  const firedAt = apiTime(form['fired_at']);
  const time = firedAt ?? delivery.receivedAt;
  const member = (email: string, extra: JsonObject): WebhookEvent['record'] => ({
    id: subscriberHash(email),
    list_id: listId,
    email_address: email,
    ...extra,
    ...(firedAt === undefined ? {} : { last_changed: firedAt }),
  });
  switch (type) {
    case 'subscribe':
    case 'profile':
    case 'unsubscribe':
    case 'cleaned': {
      const email = text(data, 'email');
      if (email === undefined) throw new Error(`a ${type} event without data[email]`);
      const deleted = type === 'unsubscribe' && data['action'] === 'delete';
      const status = type === 'subscribe' ? 'subscribed' : type === 'cleaned' ? 'cleaned' : type === 'unsubscribe' ? (deleted ? 'archived' : 'unsubscribed') : undefined;
      return [{ stream: 'list_members', partial: true, time, ...(deleted ? { deleted: true } : {}), record: member(email, { ...profileOf(data), ...(status === undefined ? {} : { status }) }) }];
    }
    case 'upemail': {
      // A new address is a new subscriber hash: the old member is gone, the new one appears.
      const oldEmail = text(data, 'old_email');
      const newEmail = text(data, 'new_email');
      if (oldEmail === undefined || newEmail === undefined) throw new Error('an upemail event without data[old_email] and data[new_email]');
      return [
        { stream: 'list_members', partial: true, time, deleted: true, record: member(oldEmail, { status: 'archived' }) },
        { stream: 'list_members', partial: true, time, record: member(newEmail, {}) },
      ];
    }
    default:
      throw new Error(`unknown event type ${JSON.stringify(type)}`);
  }
}

/** Mailchimp's id of a member: the MD5 of the lower-cased address, in hex. */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.toLowerCase()).digest('hex');
}

/** The member fields a subscribe, profile or unsubscribe event carries. */
function profileOf(data: JsonObject): JsonObject {
  const out: JsonObject = {};
  const uniqueId = text(data, 'id');
  if (uniqueId !== undefined) out['unique_email_id'] = uniqueId;
  const webId = text(data, 'web_id');
  if (webId !== undefined && /^\d+$/.test(webId)) out['web_id'] = Number(webId);
  for (const key of ['email_type', 'ip_signup', 'ip_opt'] as const) {
    const value = text(data, key);
    if (value !== undefined) out[key] = value;
  }
  const merges = data['merges'];
  if (isJsonObject(merges)) {
    // The API lists merge fields without EMAIL (the address is its own field) and INTERESTS
    // (groups are their own object): the webhook repeats both.
    const fields: JsonObject = {};
    for (const [k, v] of Object.entries(merges)) if (k !== 'EMAIL' && k !== 'INTERESTS') fields[k] = v;
    out['merge_fields'] = fields;
  }
  return out;
}

function text(data: JsonObject, key: string): string | undefined {
  const value: JsonValue | undefined = data[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `2026-03-26 21:35:57` (UTC, as Mailchimp sends it) → `2026-03-26T21:35:57+00:00`, the API's own form. */
function apiTime(value: JsonValue | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(value.trim());
  return m ? `${m[1]}T${m[2]}+00:00` : undefined;
}
