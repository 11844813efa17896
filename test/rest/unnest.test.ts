import { describe, expect, it } from 'vitest';
import { parseDescription } from '../../connectors/rest/index.js';
import { unnester } from '../../connectors/rest/unnest.js';
import { restWebhookSpec } from '../../connectors/rest/webhooks.js';
import { withParam } from '../../src/http/params.js';
import type { JsonObject } from '../../src/protocol/json.js';

/**
 * `unnest`: a nested object's keys become the record's properties (HubSpot's `properties`), the
 * same in listings, fetched objects and webhook objects; and body paths that step into lists,
 * where a search endpoint keeps its filter's value.
 */

const contact: JsonObject = { id: '7', properties: { email: 'ann@example.com', id: 'not-the-id', lastmodifieddate: '2026-05-01T10:00:00Z' }, updatedAt: '2026-05-01T10:00:00Z', archived: false };

describe('unnest', () => {
  it('lifts the nested object into the record, the record\'s own keys winning a clash', () => {
    expect(unnester('properties')(contact)).toEqual({ id: '7', email: 'ann@example.com', lastmodifieddate: '2026-05-01T10:00:00Z', updatedAt: '2026-05-01T10:00:00Z', archived: false });
    expect(unnester('data.fields')({ id: 1, data: { fields: { a: 1 }, kept: true } })).toEqual({ id: 1, a: 1, data: { kept: true } });
    // Nothing to lift: the record as it is.
    expect(unnester('properties')({ id: '8', properties: null })).toEqual({ id: '8', properties: null });
  });

  it('shapes whole objects webhooks carry as a listing of the stream shapes them; fields paths read the payload', () => {
    const { description, problems } = parseDescription({
      base_url: 'https://api.example.com',
      streams: [{ name: 'contacts', path: '/contacts', primary_key: 'id', unnest: 'properties' }],
      webhooks: {
        scheme: { kind: 'token', header: 'x-token' }, event_path: 'type',
        events: { updated: { stream: 'contacts', object_path: 'object' }, touched: { stream: 'contacts', fields: { id: 'object.id', email: 'object.properties.email' } } },
      },
    });
    expect(problems).toEqual([]);
    if (description?.webhooks === undefined) throw new Error('the description has no webhooks');
    const spec = restWebhookSpec(description.webhooks, description.streams);
    const deliver = (body: object) => spec.map({ id: 'd1', headers: {}, text: JSON.stringify(body), json: body as JsonObject, receivedAt: '2026-05-01T10:00:00Z' });
    expect(deliver({ type: 'updated', object: contact })[0]?.record).toEqual(unnester('properties')(contact));
    expect(deliver({ type: 'touched', object: contact })[0]?.record).toEqual({ id: '7', email: 'ann@example.com' });
  });
});

describe('a body path into a list', () => {
  it('sets the element the index names, copying the lists and objects on the way', () => {
    const body = { filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE' }] }], limit: 200 };
    const next = withParam({ path: '/search', method: 'POST', body }, 'body', 'filterGroups.0.filters.0.value', 1777629600000);
    expect(next.body).toEqual({ filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: 1777629600000 }] }], limit: 200 });
    expect(body.filterGroups[0]?.filters[0]).not.toHaveProperty('value');
    // An index the list does not have makes no element up: the step is an object key, as before.
    expect(withParam({ path: '/s', body: { a: [] } }, 'body', 'a.3', 1).body).toEqual({ a: { 3: 1 } });
  });
});
