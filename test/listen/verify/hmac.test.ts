import { describe, expect, it } from 'vitest';
import { schemeProblem, verify } from '../../../src/listen/verify/index.js';
import type { HmacScheme, Scheme } from '../../../src/listen/verify/index.js';
import { BODY, NOW_MS, NOW_S, check, flipOneByte, hmacOf, refused, request, timestampedCases } from './helpers.js';

const SECRET = 'generic secret';
const OTHER = 'other secret';

describe('generic hmac', () => {
  for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
    for (const encoding of ['hex', 'base64'] as const) {
      it(`verifies ${algorithm} in ${encoding} over the body`, () => {
        const scheme: Scheme = { kind: 'hmac', header: 'X-Signature', algorithm, encoding };
        const headers = { 'x-signature': hmacOf(algorithm, SECRET, BODY, encoding) };
        expect(check(scheme, request(headers), [SECRET])).toEqual({ ok: true });
        expect(refused(check(scheme, request(headers, flipOneByte(BODY)), [SECRET]))).toBe('signature mismatch');
        expect(refused(check(scheme, request(headers), [OTHER]))).toBe('signature mismatch');
        expect(check(scheme, request(headers), [OTHER, SECRET]).ok).toBe(true);
        // A digest of another algorithm has another length.
        const wrongLength = { 'x-signature': hmacOf(algorithm === 'sha1' ? 'sha256' : 'sha1', SECRET, BODY, encoding) };
        expect(refused(check(scheme, request(wrongLength), [SECRET]))).toBe('malformed signature header');
      });
    }
  }

  it('requires and strips the prefix', () => {
    const scheme: Scheme = { kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' };
    const hex = hmacOf('sha256', SECRET, BODY, 'hex');
    expect(check(scheme, request({ 'x-sig': `sha256=${hex}` }), [SECRET]).ok).toBe(true);
    expect(refused(check(scheme, request({ 'x-sig': hex }), [SECRET]))).toBe('malformed signature header');
    expect(refused(check(scheme, request({ 'x-sig': `sha1=${hex}` }), [SECRET]))).toBe('malformed signature header');
    expect(refused(check(scheme, request({ 'x-sig': `sha256=${hex}, sha256=${hex}` }), [SECRET]))).toBe('duplicate signature header');
  });

  it('reports the id header as the delivery id, signed or not', () => {
    const unsigned: Scheme = { kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'base64', idHeader: 'X-Id' };
    const headers = { 'x-sig': hmacOf('sha256', SECRET, BODY, 'base64'), 'x-id': 'd-1' };
    expect(check(unsigned, request(headers), [SECRET])).toEqual({ ok: true, deliveryId: 'd-1' });
    expect(check(unsigned, request({ 'x-sig': headers['x-sig'] }), [SECRET])).toEqual({ ok: true });

    const signedId: Scheme = { ...unsigned, signedContent: '{id}:{body}' };
    const sig = hmacOf('sha256', SECRET, Buffer.concat([Buffer.from('d-1:'), BODY]), 'base64');
    expect(check(signedId, request({ 'x-sig': sig, 'x-id': 'd-1' }), [SECRET])).toEqual({ ok: true, deliveryId: 'd-1' });
    expect(refused(check(signedId, request({ 'x-sig': sig, 'x-id': 'd-2' }), [SECRET]))).toBe('signature mismatch');
    expect(refused(check(signedId, request({ 'x-sig': sig }), [SECRET]))).toBe('missing id header');
  });

  it('signs method and the public URL when the template says so', () => {
    const scheme: Scheme = {
      kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex',
      signedContent: '{method} {url}\n{body}', url: 'https://hooks.example.com',
    };
    const content = Buffer.concat([Buffer.from('POST https://hooks.example.com/in?a=1\n'), BODY]);
    const headers = { 'x-sig': hmacOf('sha256', SECRET, content, 'hex') };
    expect(check(scheme, request(headers, BODY, { url: '/in?a=1' }), [SECRET]).ok).toBe(true);
    expect(refused(check(scheme, request(headers, BODY, { url: '/in?a=2' }), [SECRET]))).toBe('signature mismatch');
  });

  const timestamped: HmacScheme = {
    kind: 'hmac', header: 'x-webhook-signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=',
    signedContent: '{timestamp}.{body}', timestampHeader: 'x-webhook-timestamp', idHeader: 'x-webhook-id',
  };
  describe('with a signed timestamp', () => {
    timestampedCases({
      scheme: timestamped,
      secret: SECRET,
      otherSecret: OTHER,
      unit: 'seconds',
      sign: async (body, seconds, secret) => ({
        'x-webhook-signature': `sha256=${hmacOf('sha256', secret, Buffer.concat([Buffer.from(`${seconds}.`), body]), 'hex')}`,
        'x-webhook-timestamp': String(seconds),
        'x-webhook-id': 'wh_1',
      }),
      signatureHeader: 'x-webhook-signature',
      timestampHeader: 'x-webhook-timestamp',
      deliveryId: 'wh_1',
      malformed: [
        ['garbage', 'malformed signature header'],
        ['', 'malformed signature header'],
        ['ab'.repeat(32), 'malformed signature header'],
        [`sha1=${'ab'.repeat(32)}`, 'malformed signature header'],
        [`sha256=${'ab'.repeat(32)}a`, 'malformed signature header'],
        [`sha256=${Buffer.alloc(32).toString('base64')}`, 'malformed signature header'],
        [`sha256=${'ab'.repeat(32)}`, 'signature mismatch'],
      ],
    });
  });

  it('reports problems with a scheme and refuses to use it', () => {
    const base = { kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex' } as const;
    const problems: Array<[HmacScheme, string | undefined]> = [
      [base, undefined],
      [{ ...base, signedContent: '{timestamp}.{body}', timestampHeader: 'x-ts' }, undefined],
      [{ ...base, header: ' ' }, 'hmac: header is empty'],
      [{ ...base, signedContent: '{nonce}.{body}' }, 'hmac: signedContent may use only {body} {timestamp} {id} {method} {url}'],
      [{ ...base, signedContent: '{timestamp}' , timestampHeader: 'x-ts' }, 'hmac: signedContent must include {body}'],
      [{ ...base, signedContent: '{timestamp}.{body}' }, 'hmac: {timestamp} needs timestampHeader'],
      [{ ...base, timestampHeader: 'x-ts' }, 'hmac: timestampHeader needs {timestamp} in signedContent'],
      [{ ...base, signedContent: '{id}.{body}' }, 'hmac: {id} needs idHeader'],
      [{ ...base, algorithm: 'md5' as 'sha1' }, 'hmac: algorithm must be sha1, sha256 or sha512'],
      [{ ...base, encoding: 'base32' as 'hex' }, 'hmac: encoding must be hex or base64'],
    ];
    for (const [scheme, problem] of problems) {
      expect(schemeProblem(scheme)).toBe(problem);
      if (problem !== undefined) expect(refused(check(scheme, request({ 'x-sig': 'x' }), [SECRET]))).toBe('invalid scheme');
    }
    expect(schemeProblem({ kind: 'nope' } as unknown as Scheme)).toBe('unknown scheme kind "nope"');
    expect(refused(check({ kind: 'nope' } as unknown as Scheme, request({}), [SECRET]))).toBe('invalid scheme');
  });

  it('refuses unusable options instead of skipping the window', () => {
    const headers = {
      'x-webhook-signature': `sha256=${hmacOf('sha256', SECRET, Buffer.concat([Buffer.from(`${NOW_S}.`), BODY]), 'hex')}`,
      'x-webhook-timestamp': String(NOW_S),
    };
    for (const options of [{ now: Number.NaN }, { now: NOW_MS, toleranceSeconds: Number.NaN }, { now: NOW_MS, toleranceSeconds: -1 }]) {
      expect(refused(verify(timestamped, request(headers), [SECRET], options))).toBe('invalid options');
    }
    expect(verify(timestamped, request(headers), [SECRET], { now: NOW_MS, toleranceSeconds: 0 }).ok).toBe(true);
    expect(refused(verify(timestamped, request(headers), [SECRET], { now: NOW_MS + 1000, toleranceSeconds: 0 }))).toBe('timestamp too old');
  });
});
