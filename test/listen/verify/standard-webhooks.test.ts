import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verify } from '../../../src/listen/verify/index.js';
import type { Scheme } from '../../../src/listen/verify/index.js';
import { BODY, NOW_MS, NOW_S, check, hmacOf, refused, request, timestampedCases } from './helpers.js';

const scheme: Scheme = { kind: 'standard-webhooks' };
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** Signed by the `standardwebhooks` package itself. */
function signed(body: Buffer, seconds: number, secret = SECRET, id = 'msg_1'): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': new Webhook(secret).sign(id, new Date(seconds * 1000), body),
  };
}

describe('standard webhooks', () => {
  it('verifies the specification test vector', () => {
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    const body = Buffer.from('{"test": 2432232314}');
    expect(check(scheme, request(headers, body), [SECRET], 1614265330_000)).toEqual({
      ok: true,
      deliveryId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330_000,
    });
    expect(refused(check(scheme, request(headers, body), [SECRET], 1614265330_000 + 301_000))).toBe('timestamp too old');
  });

  timestampedCases({
    scheme,
    secret: SECRET,
    otherSecret: OTHER,
    unit: 'seconds',
    sign: async (body, seconds, secret) => signed(body, seconds, secret),
    signatureHeader: 'webhook-signature',
    timestampHeader: 'webhook-timestamp',
    combine: (first, second) => `${first} ${second}`,
    deliveryId: 'msg_1',
    malformed: [
      ['garbage', 'malformed signature header'],
      ['', 'malformed signature header'],
      ['   ', 'malformed signature header'],
      ['v1,', 'malformed signature header'],
      [',abc', 'malformed signature header'],
      ['v1,!!!notbase64!!!', 'malformed signature header'],
      [`v1,${Buffer.alloc(31).toString('base64')}`, 'malformed signature header'],
      [`v1,${'ab'.repeat(32)}`, 'malformed signature header'],
      ['v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE', 'signature mismatch'],
      [`v1,${Buffer.alloc(32).toString('base64')}`, 'signature mismatch'],
      [`v1a,${Buffer.alloc(64).toString('base64')}`, 'no supported signature'],
      [`v2,${Buffer.alloc(32).toString('base64')}`, 'no supported signature'],
      [`sha256=${'ab'.repeat(32)}`, 'malformed signature header'],
    ],
  });

  it('skips v1a (ed25519) and unknown versions but accepts a valid v1 beside them', () => {
    const headers = signed(BODY, NOW_S);
    const withOthers = {
      ...headers,
      'webhook-signature': `v1a,${Buffer.alloc(64, 1).toString('base64')}  v9,xyz ${headers['webhook-signature']}`,
    };
    expect(check(scheme, request(withOthers), [SECRET]).ok).toBe(true);
  });

  it('uses the base64-decoded secret as the key, with or without the whsec_ prefix', () => {
    const headers = signed(BODY, NOW_S);
    expect(check(scheme, request(headers), ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']).ok).toBe(true);
    // The Stripe way (the whsec_ string as the key) must not verify.
    const content = Buffer.concat([Buffer.from(`msg_1.${NOW_S}.`), BODY]);
    const stripeStyle = { ...headers, 'webhook-signature': `v1,${hmacOf('sha256', SECRET, content, 'base64')}` };
    expect(refused(check(scheme, request(stripeStyle), [SECRET]))).toBe('signature mismatch');
    expect(refused(check(scheme, request(headers), ['whsec_not base64!']))).toBe('no usable secret');
    expect(refused(check(scheme, request(headers), ['whsec_']))).toBe('no usable secret');
    expect(check(scheme, request(headers), ['whsec_not base64!', SECRET]).ok).toBe(true);
  });

  it('signs the id: missing, repeated, dotted or changed ids are refused', () => {
    const headers = signed(BODY, NOW_S);
    const { 'webhook-id': _id, ...noId } = headers;
    expect(refused(check(scheme, request(noId), [SECRET]))).toBe('missing id header');
    expect(refused(check(scheme, request({ ...headers, 'webhook-id': '' }), [SECRET]))).toBe('malformed id header');
    expect(refused(check(scheme, request({ ...headers, 'webhook-id': ['msg_1', 'msg_2'] }), [SECRET]))).toBe('duplicate id header');
    expect(refused(check(scheme, request({ ...headers, 'webhook-id': 'msg_2' }), [SECRET]))).toBe('signature mismatch');
    const dotted = signed(BODY, NOW_S, SECRET, 'msg.1');
    expect(refused(check(scheme, request(dotted), [SECRET]))).toBe('malformed id header');
  });

  it('accepts the svix-* header family; webhook-* wins when both are sent', () => {
    const headers = signed(BODY, NOW_S);
    const svix = {
      'svix-id': headers['webhook-id'],
      'svix-timestamp': headers['webhook-timestamp'],
      'svix-signature': headers['webhook-signature'],
    };
    expect(check(scheme, request(svix), [SECRET])).toEqual({ ok: true, deliveryId: 'msg_1', timestamp: NOW_MS });
    const other = signed(BODY, NOW_S, SECRET, 'msg_2');
    const both = { ...headers, 'svix-id': 'msg_2', 'svix-timestamp': other['webhook-timestamp'], 'svix-signature': other['webhook-signature'] };
    expect(check(scheme, request(both), [SECRET])).toEqual({ ok: true, deliveryId: 'msg_1', timestamp: NOW_MS });
  });

  it('agrees with the standardwebhooks verifier on a live delivery', () => {
    const now = Date.now();
    const headers = signed(BODY, Math.floor(now / 1000));
    expect(() => new Webhook(SECRET).verify(BODY, headers)).not.toThrow();
    expect(verify(scheme, request(headers), [SECRET], { now })).toMatchObject({ ok: true, deliveryId: 'msg_1' });
    const tampered = { ...headers, 'webhook-id': 'msg_9' };
    expect(() => new Webhook(SECRET).verify(BODY, tampered)).toThrow();
    expect(verify(scheme, request(tampered), [SECRET], { now }).ok).toBe(false);
  });
});
