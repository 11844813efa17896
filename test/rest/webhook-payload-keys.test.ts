import { describe, expect, it } from 'vitest';
import { parseDescription, restWebhookSpec, type RestWebhooks } from '../../connectors/rest/index.js';
import type { JsonObject } from '../../src/protocol/json.js';

/**
 * The description keys for webhook payloads that are not one JSON object per delivery:
 * `format: "form"`, `batch_path`, `action_path`, and per event `fields` and `required`.
 * Each wrong key gets one problem naming its path.
 */

const CONTACT_SCHEMA: JsonObject = {
  type: 'object',
  properties: { id: { type: 'string' }, email: { type: ['string', 'null'] }, updatedAt: { type: ['string', 'null'], format: 'date-time' } },
};

function description(webhooks: JsonObject): JsonObject {
  return {
    base_url: 'https://api.example.com',
    streams: [
      { name: 'contacts', path: '/contacts', primary_key: 'id', replication_key: 'updatedAt', schema: CONTACT_SCHEMA },
      { name: 'notes', path: '/notes', primary_key: 'id' },
    ],
    webhooks,
  };
}

const BASE: JsonObject = { scheme: { kind: 'hubspot-v3' }, event_path: 'subscriptionType', events: { 'contact.creation': { stream: 'contacts' } } };

/** BASE with the event name from a header instead of a body path. */
const BY_HEADER: JsonObject = { scheme: { kind: 'github' }, event_header: 'X-GitHub-Event', events: { issues: { stream: 'contacts' } } };

const problemsOf = (webhooks: JsonObject): string[] => parseDescription(description(webhooks)).problems;

function section(webhooks: JsonObject): RestWebhooks {
  const { description: d, problems } = parseDescription(description(webhooks));
  expect(problems).toEqual([]);
  if (d?.webhooks === undefined) throw new Error('no webhooks section');
  return d.webhooks;
}

describe('format', () => {
  it('is json by default, and may be form', () => {
    expect(section(BASE).format).toBe('json');
    expect(section({ ...BASE, format: 'form', scheme: { kind: 'token', query_param: 'key' } }).format).toBe('form');
    expect(problemsOf({ ...BASE, format: 'xml' })).toEqual(['webhooks.format: must be one of json, form, salesforce_outbound (got "xml")']);
  });

  it('form: a delivery id can come from a header, not from a body path the listener reads as JSON', () => {
    const form = { ...BASE, format: 'form', scheme: { kind: 'token', query_param: 'key' } };
    expect(section({ ...form, delivery_id: { header: 'x-request-id' } }).deliveryId).toEqual({ header: 'x-request-id' });
    expect(problemsOf({ ...form, delivery_id: { path: 'data.id' } })).toEqual([
      'webhooks.delivery_id.path: the listener reads a delivery id from a JSON body only; for a form body give a header, or leave delivery_id out (the body itself then identifies a delivery)',
    ]);
  });

  it('the listener logs the event name of a top-level JSON field only: not of a form body, nor of a batch element', () => {
    expect(restWebhookSpec(section(BASE)).eventName).toEqual({ field: 'subscriptionType' });
    expect(restWebhookSpec(section({ ...BASE, format: 'form' })).eventName).toBeUndefined();
    expect(restWebhookSpec(section({ ...BASE, batch_path: '.' })).eventName).toBeUndefined();
    expect(restWebhookSpec(section({ ...BY_HEADER, batch_path: '.' })).eventName).toEqual({ header: 'x-github-event' });
  });
});

describe('batch_path', () => {
  it('is "." for a body that is the list, or the dotted path of the list', () => {
    expect(section(BASE).batch).toBeUndefined();
    expect(section({ ...BASE, batch_path: '.' }).batch).toEqual({ path: undefined });
    expect(section({ ...BASE, batch_path: 'payload.events' }).batch).toEqual({ path: 'payload.events' });
  });

  it('is refused when empty, not text, "." of a form body, or with salesforce_outbound', () => {
    expect(problemsOf({ ...BASE, batch_path: '' })).toEqual(['webhooks.batch_path: must be a non-empty string']);
    expect(problemsOf({ ...BASE, batch_path: true })).toEqual(['webhooks.batch_path: must be a non-empty string']);
    expect(problemsOf({ ...BASE, format: 'form', batch_path: '.' })).toEqual([
      'webhooks.batch_path: a form body is named fields, never a list itself: give the name of the field holding the list (events for events[][type]=...)',
    ]);
    expect(section({ ...BASE, format: 'form', batch_path: 'events' }).batch).toEqual({ path: 'events' });
    expect(problemsOf({ ...BASE, event_path: 'x', format: 'salesforce_outbound', batch_path: '.' })).toEqual([
      'webhooks.batch_path: not for salesforce_outbound: each of its notifications is already an event',
    ]);
  });
});

describe('action_path', () => {
  it('goes with event_header or event_path', () => {
    expect(section({ ...BY_HEADER, action_path: 'action' })).toMatchObject({ eventFrom: { header: 'x-github-event' }, actionPath: 'action' });
    expect(section({ ...BASE, action_path: 'change.kind' }).actionPath).toBe('change.kind');
    expect(section(BASE).actionPath).toBeUndefined();
  });

  it('is refused when not text, or with salesforce_outbound', () => {
    expect(problemsOf({ ...BASE, action_path: ['action'] })).toEqual(['webhooks.action_path: must be a non-empty string']);
    expect(problemsOf({ ...BASE, format: 'salesforce_outbound', action_path: 'action' })).toEqual([
      'webhooks.action_path: not for salesforce_outbound: its events are named by the sObject type',
    ]);
  });
});

describe('events.<e>.fields and required', () => {
  const withEvent = (event: JsonObject, extra: JsonObject = {}): JsonObject => ({ ...BASE, ...extra, events: { 'contact.propertyChange': event } });
  const SALESFORCE: JsonObject = { scheme: { kind: 'token', query_param: 'key' }, format: 'salesforce_outbound' };

  it('reads fields as stream properties and their paths, and required as stream properties', () => {
    const w = section(withEvent({ stream: 'contacts', fields: { id: 'objectId', updatedAt: 'occurredAt' }, required: ['id'] }));
    expect(w.events.get('contact.propertyChange')).toEqual({
      stream: 'contacts',
      objectPath: undefined,
      deleted: false,
      fields: [
        { property: 'id', path: 'objectId' },
        { property: 'updatedAt', path: 'occurredAt' },
      ],
      required: ['id'],
    });
    // Without fields, required names properties of the object as it is.
    expect(section(withEvent({ stream: 'contacts', required: ['id', 'email'] })).events.get('contact.propertyChange')?.required).toEqual(['id', 'email']);
    // A stream without a schema takes any property.
    expect(section(withEvent({ stream: 'notes', fields: { anything: 'a.b' } })).events.get('contact.propertyChange')?.fields).toEqual([{ property: 'anything', path: 'a.b' }]);
  });

  it.each<[string, JsonObject, string]>([
    ['fields not an object', { stream: 'contacts', fields: ['id'] }, 'webhooks.events.contact.propertyChange.fields: must be an object'],
    ['fields empty', { stream: 'contacts', fields: {} }, 'webhooks.events.contact.propertyChange.fields: must map at least one stream property: {"<property>": "<dotted path in the object>"}'],
    ['a path that is not text', { stream: 'contacts', fields: { id: 7 } }, 'webhooks.events.contact.propertyChange.fields.id: must be a non-empty string'],
    ['an empty path', { stream: 'contacts', fields: { id: '' } }, 'webhooks.events.contact.propertyChange.fields.id: must be a non-empty string'],
    [
      'a property the schema lacks',
      { stream: 'contacts', fields: { id: 'objectId', emial: 'email' } },
      'webhooks.events.contact.propertyChange.fields.emial: the stream\'s schema has no property "emial" (properties: id, email, updatedAt)',
    ],
    ['__proto__ as a property', { stream: 'notes', fields: { ['__proto__']: 'x' } }, 'webhooks.events.contact.propertyChange.fields.__proto__: not a usable property name'],
    ['required not a list', { stream: 'contacts', required: 'id' }, 'webhooks.events.contact.propertyChange.required: must be a list of stream properties'],
    ['a required entry that is not text', { stream: 'contacts', required: ['id', 3] }, 'webhooks.events.contact.propertyChange.required[1]: must be a non-empty string'],
    [
      'a required property fields does not give',
      { stream: 'contacts', fields: { id: 'objectId' }, required: ['id', 'email'] },
      'webhooks.events.contact.propertyChange.required[1]: "email" is not one of fields (id): a record built from fields has no other property',
    ],
  ])('refuses %s, with one problem at its path', (_, event, problem) => {
    expect(problemsOf(withEvent(event))).toEqual([problem]);
  });

  it('names the broken fields, not every required property again', () => {
    expect(problemsOf(withEvent({ stream: 'contacts', fields: { id: 1 }, required: ['id'] }))).toEqual(['webhooks.events.contact.propertyChange.fields.id: must be a non-empty string']);
  });

  it('are refused with salesforce_outbound, whose records are the sObject fields', () => {
    expect(problemsOf({ ...SALESFORCE, events: { Contact: { stream: 'contacts', fields: { id: 'Id' }, required: ['id'] } } })).toEqual([
      'webhooks.events.Contact.fields: not for salesforce_outbound: its records are the fields of each sObject',
      'webhooks.events.Contact.required: not for salesforce_outbound: its records are the fields of each sObject',
    ]);
  });

  it('are known keys of an event, beside the others', () => {
    expect(problemsOf(withEvent({ stream: 'contacts', fields: { id: 'objectId' }, field: { id: 'x' } }))).toEqual([
      'webhooks.events.contact.propertyChange.field: unknown key (known: stream, object_path, deleted, parent_path, fields, required, fetch)',
    ]);
  });
});

describe('the section', () => {
  it('knows the new keys beside the others', () => {
    expect(problemsOf({ ...BASE, batch: '.' })).toEqual([
      'webhooks.batch: unknown key (known: scheme, secret_setting, format, event_path, event_header, action_path, batch_path, events, delivery_id, version_path, time_path, handshakes)',
    ]);
  });
});
