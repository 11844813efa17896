import { describe, expect, it } from 'vitest';
import type { StoredDelivery } from '../../src/listen/journal.js';
import { toWebhookDelivery } from '../../src/listen/mapping.js';
import { LosslessNumber } from '../../src/protocol/json.js';

const stored = (headers: Record<string, string[]>, body: string): StoredDelivery => ({
  seq: 1,
  connector: 'sample',
  deliveryId: 'msg_1',
  receivedAt: '2026-03-01T12:00:00.000000Z',
  event: 'customers.updated',
  method: 'POST',
  url: '/webhooks/sample',
  // As the journal gives it back: parsed from its JSON text, where __proto__ is an own key.
  headers: JSON.parse(JSON.stringify(headers)) as Record<string, string[]>,
  body: Buffer.from(body, 'utf8'),
  status: 'pending',
  error: null,
  attempts: 0,
  processedAt: null,
});

describe('a stored delivery as the connector mapping sees it', () => {
  it('joins repeated headers and keeps one named __proto__ as a header', () => {
    const headers = JSON.parse('{"x-trace":["a","b"],"__proto__":["not a prototype"],"content-type":["application/json"]}') as Record<string, string[]>;
    const delivery = toWebhookDelivery(stored(headers, '{}'));
    expect(delivery.headers['x-trace']).toBe('a, b');
    expect(Object.getOwnPropertyDescriptor(delivery.headers, '__proto__')?.value).toBe('not a prototype');
    expect(Object.keys(delivery.headers).sort()).toEqual(['__proto__', 'content-type', 'x-trace']);
  });

  it('parses a JSON body with numbers kept exact, and leaves a body that is not JSON as text', () => {
    const exact = toWebhookDelivery(stored({}, '{"id":12345678901234567890}'));
    expect(exact.json).toEqual({ id: new LosslessNumber('12345678901234567890') });
    const broken = toWebhookDelivery(stored({}, '{"id": '));
    expect(broken.json).toBeUndefined();
    expect(broken.text).toBe('{"id": ');
    expect(toWebhookDelivery(stored({}, '  ')).json).toBeUndefined();
  });

  it('says why a body meant as JSON could not be read; a form or XML body says nothing', () => {
    const deep = toWebhookDelivery(stored({}, '{"a":' + '['.repeat(5_000) + ']'.repeat(5_000) + '}'));
    expect(deep.json).toBeUndefined();
    expect(deep.jsonError).toMatch(/nesting deeper than 1000 levels/);
    expect(toWebhookDelivery(stored({}, 'type=subscribe&data[id]=1')).jsonError).toBeUndefined();
    expect(toWebhookDelivery(stored({}, '<?xml version="1.0"?><a/>')).jsonError).toBeUndefined();
  });
});
