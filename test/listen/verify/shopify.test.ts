import { getHmac } from '@shopify/shopify-api/test-helpers';
import { describe, expect, it } from 'vitest';
import type { Scheme } from '../../../src/listen/verify/index.js';
import {
  BODY,
  INSIDE_EMOJI,
  check,
  decodedChunkByChunk,
  flipOneByte,
  refused,
  request,
} from './helpers.js';

const scheme: Scheme = { kind: 'shopify' };
const SECRET = 'shpss_test';
const OTHER = 'shpss_other';

/** Signed by the @shopify/shopify-api test helper. */
function signed(body: Buffer, secret = SECRET): Record<string, string> {
  return {
    'x-shopify-hmac-sha256': getHmac(body.toString('utf8'), secret),
    'x-shopify-topic': 'orders/create',
    'x-shopify-shop-domain': 'example.myshopify.com',
    'x-shopify-api-version': '2025-01',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
    'x-shopify-triggered-at': '2023-11-14T22:13:20.000Z',
  };
}

describe('shopify', () => {
  it('verifies the vector produced by the Shopify SDK', () => {
    expect(getHmac(BODY.toString('utf8'), SECRET)).toBe('jcio2aCZOOGmdMQKARF5Sm6hU0xiP/2Z2RgUrRsLocY=');
    const headers = { 'x-shopify-hmac-sha256': 'jcio2aCZOOGmdMQKARF5Sm6hU0xiP/2Z2RgUrRsLocY=' };
    expect(check(scheme, request(headers), [SECRET])).toEqual({ ok: true });
  });

  it('accepts a signed delivery and reports X-Shopify-Webhook-Id', () => {
    expect(check(scheme, request(signed(BODY)), [SECRET])).toEqual({
      ok: true,
      deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    });
  });

  it('accepts the unprefixed "Events" header family, which wins when both are present', () => {
    const events = {
      'shopify-hmac-sha256': getHmac(BODY.toString('utf8'), SECRET),
      'shopify-webhook-id': 'evt-delivery-1',
      'shopify-event-id': 'e-1',
    };
    expect(check(scheme, request(events), [SECRET])).toEqual({ ok: true, deliveryId: 'evt-delivery-1' });
    const both = { ...signed(BODY), ...events };
    expect(check(scheme, request(both), [SECRET])).toEqual({ ok: true, deliveryId: 'evt-delivery-1' });
    const forgedEvents = { ...signed(BODY), 'shopify-hmac-sha256': getHmac('x', SECRET) };
    expect(refused(check(scheme, request(forgedEvents), [SECRET]))).toBe('signature mismatch');
  });

  it('refuses a changed body, the wrong secret; accepts a rotated one', () => {
    const headers = signed(BODY);
    expect(refused(check(scheme, request(headers, flipOneByte(BODY)), [SECRET]))).toBe('signature mismatch');
    expect(refused(check(scheme, request(headers), [OTHER]))).toBe('signature mismatch');
    expect(check(scheme, request(headers), [OTHER, SECRET]).ok).toBe(true);
  });

  it('refuses missing, repeated and malformed signature headers', () => {
    const headers = signed(BODY);
    const sig = headers['x-shopify-hmac-sha256'] ?? '';
    const other = signed(BODY, OTHER)['x-shopify-hmac-sha256'] ?? '';
    const run = (value: string | string[] | undefined) =>
      refused(check(scheme, request({ ...headers, 'x-shopify-hmac-sha256': value }), [SECRET]));
    expect(run(undefined)).toBe('missing signature header');
    expect(run([sig, other])).toBe('duplicate signature header');
    expect(run(`${other}, ${sig}`)).toBe('duplicate signature header');
    const hex = Buffer.from(sig, 'base64').toString('hex');
    for (const value of ['', 'garbage', hex, `sha256=${sig}`, sig.slice(1), `${sig}=`, `${sig.slice(0, -2)}!=`,
      sig.replace(/\+/g, '-').replace(/\//g, '_'), Buffer.alloc(20).toString('base64'), `${sig.slice(0, -2)}F=`]) {
      expect([value, run(value)]).toEqual([value, 'malformed signature header']);
    }
    expect(run(sig.replace(/=+$/, ''))).toBe('accepted');
  });

  it('verifies raw bytes of a multi-byte body', () => {
    const headers = signed(BODY);
    expect(refused(check(scheme, request(headers, decodedChunkByChunk(BODY, INSIDE_EMOJI)), [SECRET]))).toBe('signature mismatch');
    expect(check(scheme, request(headers, BODY), [SECRET]).ok).toBe(true);
  });

  it('survives huge header values', () => {
    const headers = signed(BODY);
    expect(refused(check(scheme, request({ ...headers, 'x-shopify-hmac-sha256': 'A'.repeat(1_000_000) }), [SECRET]))).toBe(
      'malformed signature header',
    );
  });
});
