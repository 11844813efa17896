import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { Scheme } from '../../../src/listen/verify/index.js';
import { BODY, NOW_MS, NOW_S, check, hmacOf, refused, request, timestampedCases } from './helpers.js';

const scheme: Scheme = { kind: 'stripe' };
const SECRET = 'whsec_test';
const OTHER = 'whsec_other';

/** Signed by stripe-node's own test helper. */
function header(body: Buffer, seconds: number, secret = SECRET): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body.toString('utf8'), secret, timestamp: seconds });
}

describe('stripe', () => {
  it('verifies the vector produced by stripe-node', () => {
    const value = 't=1700000000,v1=44c9dd80efa3c579bfb7c777fee77829e3836c7e124b683182d0b98206a1a50a';
    expect(header(BODY, NOW_S)).toBe(value);
    expect(check(scheme, request({ 'stripe-signature': value }), [SECRET])).toEqual({ ok: true, timestamp: NOW_MS });
  });

  timestampedCases({
    scheme,
    secret: SECRET,
    otherSecret: OTHER,
    unit: 'seconds',
    sign: async (body, seconds, secret) => ({ 'stripe-signature': header(body, seconds, secret) }),
    signatureHeader: 'stripe-signature',
    // During a secret roll Stripe sends one t= and a v1= per secret.
    combine: (first, second) => `${first},${second.split(',').filter((p) => !p.startsWith('t=')).join(',')}`,
    malformed: [
      ['garbage', 'malformed signature header'],
      ['', 'malformed signature header'],
      [`v1=${'ab'.repeat(32)}`, 'malformed signature header'],
      [`t=,v1=${'ab'.repeat(32)}`, 'malformed timestamp'],
      [`t=abc,v1=${'ab'.repeat(32)}`, 'malformed timestamp'],
      [`t=${NOW_S}.5,v1=${'ab'.repeat(32)}`, 'malformed timestamp'],
      [`t=${NOW_S}`, 'no supported signature'],
      [`t=${NOW_S},v0=${'ab'.repeat(32)}`, 'no supported signature'],
      [`t=${NOW_S},v1=`, 'malformed signature header'],
      [`t=${NOW_S},v1=${'ab'.repeat(31)}a`, 'malformed signature header'],
      [`t=${NOW_S},v1=${'zz'.repeat(32)}`, 'malformed signature header'],
      [`t=${NOW_S},v1=${Buffer.alloc(32).toString('base64')}`, 'malformed signature header'],
      [`t=${NOW_S},v1=${'ab'.repeat(32)}`, 'signature mismatch'],
      [`t=${NOW_S},t=${NOW_S},v1=${'ab'.repeat(32)}`, 'duplicate signature header'],
    ],
  });

  it('ignores v0 and unknown schemes beside a valid v1, and a broken v1 beside a valid one', () => {
    const value = header(BODY, NOW_S);
    expect(check(scheme, request({ 'stripe-signature': `${value},v0=${'cd'.repeat(32)},x=1` }), [SECRET]).ok).toBe(true);
    const [t, v1] = value.split(',');
    expect(check(scheme, request({ 'stripe-signature': `${t},v1=nothex,${v1}` }), [SECRET]).ok).toBe(true);
  });

  it('uses the whsec_ string as the key, not its base64 decoding', () => {
    const secret = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
    const decodedKey = Buffer.alloc(24, 9);
    const content = Buffer.concat([Buffer.from(`${NOW_S}.`), BODY]);
    const wrongWay = `t=${NOW_S},v1=${hmacOf('sha256', decodedKey, content, 'hex')}`;
    expect(refused(check(scheme, request({ 'stripe-signature': wrongWay }), [secret]))).toBe('signature mismatch');
    expect(check(scheme, request({ 'stripe-signature': header(BODY, NOW_S, secret) }), [secret]).ok).toBe(true);
  });

  it('gives no delivery id: the event id is in the body', () => {
    const result = check(scheme, request({ 'stripe-signature': header(BODY, NOW_S) }), [SECRET]);
    expect(result).toEqual({ ok: true, timestamp: NOW_MS });
  });

  it('agrees with Stripe.webhooks.constructEvent, which checks only the past side', () => {
    const value = header(BODY, NOW_S);
    expect(Stripe.webhooks.constructEvent(BODY, value, SECRET, 300, undefined, NOW_MS)).toMatchObject({ id: 'evt_1' });
    expect(() => Stripe.webhooks.constructEvent(BODY, value, OTHER, 300, undefined, NOW_MS)).toThrow();
    const future = header(BODY, NOW_S + 3600);
    expect(() => Stripe.webhooks.constructEvent(BODY, future, SECRET, 300, undefined, NOW_MS)).not.toThrow();
    expect(refused(check(scheme, request({ 'stripe-signature': future }), [SECRET]))).toBe('timestamp in the future');
  });
});
