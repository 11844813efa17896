import { describe, expect, it } from 'vitest';
import { mapRestDelivery, parseDescription, type RestWebhooks } from '../../connectors/rest/index.js';
import type { WebhookDelivery } from '../../src/connector/contract.js';
import { parseJson, type JsonObject } from '../../src/protocol/json.js';

/**
 * From one delivery to its records, for payloads that are not one JSON object per change:
 * form bodies, batches of events, arrays of objects, routing on a header plus an action, and
 * records built from field paths. Through the real binary: webhook-*-cli.test.ts.
 */

const SCHEMAS: Record<string, JsonObject> = {
  contacts: {
    type: 'object',
    properties: { id: { type: 'string' }, email: { type: ['string', 'null'] }, score: { type: ['integer', 'null'] }, vip: { type: ['boolean', 'null'] }, updatedAt: { type: ['string', 'null'], format: 'date-time' } },
  },
  members: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      email_address: { type: 'string' },
      list_id: { type: 'string' },
      merge_fields: { type: 'object' },
      rating: { type: ['integer', 'null'] },
      last_changed: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  repositories: { type: 'object', properties: { id: { type: 'integer' } } },
  issues: { type: 'object', properties: { id: { type: 'integer' }, title: { type: ['string', 'null'] }, repository_id: { type: 'integer' } } },
  commits: { type: 'object', properties: { sha: { type: 'string' }, message: { type: ['string', 'null'] }, repository_id: { type: 'integer' } } },
};

function section(webhooks: JsonObject): RestWebhooks {
  const { description, problems } = parseDescription({
    base_url: 'https://api.example.com',
    streams: [
      { name: 'contacts', path: '/contacts', primary_key: 'id', replication_key: 'updatedAt', schema: SCHEMAS['contacts'] as JsonObject },
      { name: 'members', path: '/members', primary_key: 'id', replication_key: 'last_changed', schema: SCHEMAS['members'] as JsonObject },
      { name: 'repositories', path: '/repositories', primary_key: 'id', schema: SCHEMAS['repositories'] as JsonObject },
      { name: 'issues', path: '/repositories/{parent}/issues', primary_key: 'id', parent: { stream: 'repositories', key: 'id', as: 'repository_id' }, schema: SCHEMAS['issues'] as JsonObject },
      { name: 'commits', path: '/repositories/{parent}/commits', primary_key: 'sha', parent: { stream: 'repositories', key: 'id', as: 'repository_id' }, schema: SCHEMAS['commits'] as JsonObject },
    ],
    webhooks,
  });
  expect(problems).toEqual([]);
  if (description?.webhooks === undefined) throw new Error('no webhooks section');
  return description.webhooks;
}

function delivery(text: string, headers: Record<string, string> = {}): WebhookDelivery {
  let json;
  try {
    json = parseJson(text).value;
  } catch {
    json = undefined;
  }
  return { id: 'd-1', receivedAt: '2026-05-01T00:00:00.000000Z', headers, text, json };
}

const schemaOf = (stream: string): JsonObject | undefined => SCHEMAS[stream];
const map = (w: RestWebhooks, text: string, headers: Record<string, string> = {}) => mapRestDelivery(w, delivery(text, headers), schemaOf);
const failure = (w: RestWebhooks, text: string, headers: Record<string, string> = {}): string => {
  try {
    map(w, text, headers);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the delivery mapped');
};

describe('format: form (Mailchimp)', () => {
  const w = section({
    scheme: { kind: 'token', query_param: 'key' },
    format: 'form',
    event_path: 'type',
    time_path: 'fired_at',
    events: {
      subscribe: { stream: 'members', fields: { id: 'data.id', email_address: 'data.email', list_id: 'data.list_id', merge_fields: 'data.merges', rating: 'data.member_rating' }, required: ['id'] },
      profile: { stream: 'members', object_path: 'data' },
    },
  });
  const subscribe =
    'type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=api%40mailchimp.com' +
    '&data%5Bmember_rating%5D=4&data%5Bmerges%5D%5BFNAME%5D=Mailchimp&data%5Bmerges%5D%5BINTERESTS%5D=Group1%2CGroup2';

  it('reads the body as a form and maps it as JSON is, typed by the stream schema', () => {
    expect(map(w, subscribe, { 'content-type': 'application/x-www-form-urlencoded' })).toEqual([
      {
        stream: 'members',
        record: { id: '8a25ff1d98', email_address: 'api@mailchimp.com', list_id: 'a6b5da1054', merge_fields: { FNAME: 'Mailchimp', INTERESTS: 'Group1,Group2' }, rating: 4 },
        partial: true,
        time: '2009-03-26 21:35:57',
      },
    ]);
  });

  it('takes the object at object_path as it is, its text typed by the schema', () => {
    expect(map(w, 'type=profile&data[id]=x1&data[email_address]=a%40b.c&data[rating]=2&data[other]=7')).toEqual([
      { stream: 'members', record: { id: 'x1', email_address: 'a@b.c', rating: 2, other: '7' } },
    ]);
  });

  it('makes a broken or hostile form body a dead letter that says what is wrong', () => {
    expect(failure(w, 'type=profile&data[__proto__][x]=1')).toBe('the form body: field 2: the name "data[__proto__][x]" uses "__proto__", which is refused');
    expect(failure(w, `type=profile&data${'[a]'.repeat(40)}=1`)).toMatch(/^the form body: field 2: .* nests deeper than 32 levels$/);
    expect(failure(w, 'type=profile&data=%E0%A4%A')).toBe('the form body: field 2: the value of "data" has broken percent-encoding ("%E0%A4%A")');
    expect(failure(w, 'fired_at=2009-03-26')).toBe('no event name at "type" (got nothing)');
    expect(failure(w, 'type=subscribe&data[email]=a%40b.c')).toBe('event subscribe: required "id" is missing (nothing at "data.id")');
    expect(failure(w, '{"type": "subscribe"}', { 'content-type': 'application/json' })).toBe('the body is application/json, but webhooks.format is "form"');
  });

  it('points a JSON section at format form when a form body arrives', () => {
    const json = section({ scheme: { kind: 'token', query_param: 'key' }, event_path: 'type', events: { profile: { stream: 'members', object_path: 'data' } } });
    expect(failure(json, 'type=profile', { 'content-type': 'application/x-www-form-urlencoded' })).toBe(
      'the body is not JSON (it is application/x-www-form-urlencoded: set webhooks.format to "form")',
    );
  });
});

describe('batch_path (HubSpot)', () => {
  const w = section({
    scheme: { kind: 'hubspot-v3' },
    batch_path: '.',
    event_path: 'subscriptionType',
    time_path: 'occurredAt',
    events: {
      'contact.propertyChange': { stream: 'contacts', fields: { id: 'objectId', updatedAt: 'occurredAt' }, required: ['id'] },
      'contact.deletion': { stream: 'contacts', fields: { id: 'objectId' }, deleted: true },
    },
  });
  const event = (subscriptionType: string, objectId: unknown, occurredAt = 1714557600000): JsonObject =>
    ({ eventId: 1, subscriptionId: 2, portalId: 3, occurredAt, subscriptionType, attemptNumber: 0, objectId, propertyName: 'email', propertyValue: 'x@y.z' }) as JsonObject;

  it('maps each element on its own, with paths read inside it', () => {
    const body = JSON.stringify([event('contact.propertyChange', 101), event('contact.merge', 102), event('contact.deletion', 103, 1714557660000)]);
    expect(map(w, body)).toEqual([
      // objectId 101 (a number) is the list's id "101"; occurredAt (epoch ms) is its date-time.
      { stream: 'contacts', record: { id: '101', updatedAt: '2024-05-01T10:00:00.000Z' }, partial: true, time: 1714557600000 },
      { stream: 'contacts', record: { id: '103' }, partial: true, deleted: true, time: 1714557660000 },
    ]);
  });

  it('reads the list at a dotted path', () => {
    const nested = section({ scheme: { kind: 'hubspot-v3' }, batch_path: 'payload.events', event_path: 'type', version_path: 'v', events: { c: { stream: 'contacts', object_path: 'object' } } });
    const body = { v: 'not this one', payload: { events: [{ type: 'c', v: '2026-01-01T00:00:00Z', object: { id: 'a' } }, { type: 'c', object: { id: 'b' } }] } };
    expect(map(nested, JSON.stringify(body))).toEqual([
      { stream: 'contacts', record: { id: 'a' }, version: '2026-01-01T00:00:00Z' },
      { stream: 'contacts', record: { id: 'b' } },
    ]);
    expect(map(nested, JSON.stringify({ payload: { events: [] } }))).toEqual([]);
    expect(failure(nested, JSON.stringify({ payload: { events: { type: 'c' } } }))).toBe('batch_path "payload.events" is not a list of events (got an object)');
  });

  it('makes the whole delivery a dead letter for one bad element, naming its index', () => {
    expect(failure(w, JSON.stringify([event('contact.propertyChange', 101), event('contact.propertyChange', undefined)]))).toBe(
      'batch element 1: event contact.propertyChange: required "id" is missing (nothing at "objectId")',
    );
    expect(failure(w, JSON.stringify([event('contact.propertyChange', 101), 'oops']))).toBe('batch element 1: not an object (got a string)');
    expect(failure(w, JSON.stringify([{ objectId: 1 }]))).toBe('batch element 0: no event name at "subscriptionType" (got nothing)');
    expect(failure(w, JSON.stringify(event('contact.propertyChange', 101)))).toBe('the body is not a list of events (got an object)');
  });

  it(`refuses more than 10000 records in one delivery`, () => {
    const many = JSON.stringify(Array.from({ length: 10_001 }, (_, i) => event('contact.propertyChange', i)));
    expect(failure(w, many)).toBe('more than 10000 records in one delivery');
    expect(map(w, JSON.stringify(Array.from({ length: 10_000 }, (_, i) => event('contact.propertyChange', i))))).toHaveLength(10_000);
  });
});

describe('object_path at an array (GitHub push)', () => {
  const w = section({
    scheme: { kind: 'github' },
    event_header: 'X-GitHub-Event',
    events: { push: { stream: 'commits', object_path: 'commits', parent_path: 'repository.id', fields: { sha: 'id', message: 'message' }, required: ['sha'] } },
  });
  const push = (commits: unknown[]) => JSON.stringify({ ref: 'refs/heads/main', commits, repository: { id: 42 } });

  it('makes each element a record, each with the parent key of the event', () => {
    expect(map(w, push([{ id: 'a1', message: 'one', author: { name: 'A' } }, { id: 'b2', message: 'two' }]), { 'x-github-event': 'push' })).toEqual([
      { stream: 'commits', record: { sha: 'a1', message: 'one', repository_id: 42 }, partial: true },
      { stream: 'commits', record: { sha: 'b2', message: 'two', repository_id: 42 }, partial: true },
    ]);
    expect(map(w, push([]), { 'x-github-event': 'push' })).toEqual([]);
  });

  it('names the element that is not usable', () => {
    expect(failure(w, push([{ id: 'a1' }, 7]), { 'x-github-event': 'push' })).toBe('event push ("commits"[1]): not an object (got a number)');
    expect(failure(w, push([{ id: 'a1' }, { message: 'no id' }]), { 'x-github-event': 'push' })).toBe('event push ("commits"[1]): required "sha" is missing (nothing at "id")');
  });

  it('keeps refusing what is neither an object nor an array, and hints at batch_path for a body that is a list', () => {
    expect(failure(w, JSON.stringify({ commits: 'none' }), { 'x-github-event': 'push' })).toBe('event push: "commits" is not an object (got a string)');
    const whole = section({ scheme: { kind: 'github' }, event_header: 'X-GitHub-Event', events: { push: { stream: 'commits' } } });
    expect(failure(whole, JSON.stringify([{ sha: 'a' }]), { 'x-github-event': 'push' })).toBe(
      'event push: the body is not an object (got an array); a body that lists events needs webhooks.batch_path',
    );
  });
});

describe('action_path (GitHub issues)', () => {
  const w = section({
    scheme: { kind: 'github' },
    event_header: 'X-GitHub-Event',
    action_path: 'action',
    events: {
      'issues.deleted': { stream: 'issues', object_path: 'issue', parent_path: 'repository.id', deleted: true },
      issues: { stream: 'issues', object_path: 'issue', parent_path: 'repository.id' },
      'pull_request.closed': { stream: 'issues', object_path: 'pull_request', parent_path: 'repository.id' },
    },
  });
  const body = (action: unknown) => JSON.stringify({ ...(action === undefined ? {} : { action }), issue: { id: 7, title: 't' }, pull_request: { id: 8, title: 'p' }, repository: { id: 42 } });
  const issue = { id: 7, title: 't', repository_id: 42 };

  it('looks up <event>.<action> first, then <event> for every other action', () => {
    expect(map(w, body('deleted'), { 'x-github-event': 'issues' })).toEqual([{ stream: 'issues', record: issue, deleted: true }]);
    expect(map(w, body('edited'), { 'x-github-event': 'issues' })).toEqual([{ stream: 'issues', record: issue }]);
    expect(map(w, body(undefined), { 'x-github-event': 'issues' })).toEqual([{ stream: 'issues', record: issue }]);
  });

  it('ignores an action of an event listed only with other actions', () => {
    expect(map(w, body('closed'), { 'x-github-event': 'pull_request' })).toEqual([{ stream: 'issues', record: { id: 8, title: 'p', repository_id: 42 } }]);
    expect(map(w, body('opened'), { 'x-github-event': 'pull_request' })).toEqual([]);
    expect(map(w, body('created'), { 'x-github-event': 'star' })).toEqual([]);
  });

  it('refuses an action that is not text', () => {
    expect(failure(w, body({ kind: 'deleted' }), { 'x-github-event': 'issues' })).toBe('the action at "action" is not text (got an object)');
  });

  it('names the refined event in messages', () => {
    expect(failure(w, JSON.stringify({ action: 'deleted', repository: { id: 42 } }), { 'x-github-event': 'issues' })).toBe('event issues.deleted: "issue" is not an object (got nothing)');
    expect(failure(w, JSON.stringify({ action: 'edited', repository: { id: 42 } }), { 'x-github-event': 'issues' })).toBe('event issues.edited: "issue" is not an object (got nothing)');
  });
});

describe('fields', () => {
  const w = section({
    scheme: { kind: 'github' },
    event_path: 'kind',
    events: {
      changed: { stream: 'contacts', object_path: 'data', fields: { id: 'ref.id', email: 'contact.email', score: 'stats.score', vip: 'flags.vip' } },
      whole: { stream: 'contacts', object_path: 'data', required: ['id', 'email'] },
    },
  });

  it('builds a partial record from the paths alone: a missing path gives no property, a null gives null', () => {
    expect(map(w, JSON.stringify({ kind: 'changed', data: { ref: { id: 'c1' }, contact: { email: null }, extra: 1 } }))).toEqual([
      { stream: 'contacts', record: { id: 'c1', email: null }, partial: true },
    ]);
  });

  it('types values by the stream property they land in, and leaves what does not fit for the schema check', () => {
    // An id beyond 2^53 keeps its digits as text.
    expect(map(w, '{"kind": "changed", "data": {"ref": {"id": 12345678901234567890}, "stats": {"score": "12"}, "flags": {"vip": "true"}}}')).toEqual([
      { stream: 'contacts', record: { id: '12345678901234567890', score: 12, vip: true }, partial: true },
    ]);
    expect(map(w, JSON.stringify({ kind: 'changed', data: { ref: { id: 'c2' }, stats: { score: 'high' } } }))).toEqual([{ stream: 'contacts', record: { id: 'c2', score: 'high' }, partial: true }]);
  });

  it('without fields, required names properties of the object, null counting as missing', () => {
    expect(map(w, JSON.stringify({ kind: 'whole', data: { id: 'c3', email: 'a@b.c', more: true } }))).toEqual([
      { stream: 'contacts', record: { id: 'c3', email: 'a@b.c', more: true } },
    ]);
    expect(failure(w, JSON.stringify({ kind: 'whole', data: { id: 'c3', email: null } }))).toBe('event whole: required "email" is missing (null in the object)');
  });

  it('keeps a payload key named __proto__ as data, never as the record prototype', () => {
    const text = '{"kind": "changed", "data": {"ref": {"id": "c4"}, "contact": {"email": {"__proto__": {"polluted": true}}}}}';
    const [event] = map(w, text);
    expect(Object.getPrototypeOf(event?.record)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
