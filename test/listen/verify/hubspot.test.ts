import { Signature } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';
import { verify } from '../../../src/listen/verify/index.js';
import type { Scheme } from '../../../src/listen/verify/index.js';
import { BODY, NOW_MS, check, refused, request, timestampedCases } from './helpers.js';

const SECRET = 'hs_test';
const OTHER = 'hs_other';
const PUBLIC = 'https://example.com';
const PATH = '/hooks/hubspot';
const scheme: Scheme = { kind: 'hubspot-v3', url: PUBLIC };

/** Signed by @hubspot/api-client's own Signature helper. */
function sign(body: Buffer, ms: number, secret = SECRET, url = `${PUBLIC}${PATH}`, method = 'POST'): string {
  return Signature.getSignature(method, 'v3', {
    signature: '',
    clientSecret: secret,
    requestBody: body.toString('utf8'),
    url,
    timestamp: ms,
  });
}

function signed(body: Buffer, ms: number, secret = SECRET, url = `${PUBLIC}${PATH}`): Record<string, string> {
  return { 'x-hubspot-signature-v3': sign(body, ms, secret, url), 'x-hubspot-request-timestamp': String(ms) };
}

describe('hubspot v3', () => {
  it('verifies the vector produced by @hubspot/api-client', () => {
    const headers = { 'x-hubspot-signature-v3': 'JkbVebVUUudskMaSQgbJHTetEI0KEmYwIt6Sn+9Z5yU=', 'x-hubspot-request-timestamp': '1700000000000' };
    expect(sign(BODY, NOW_MS)).toBe(headers['x-hubspot-signature-v3']);
    expect(check(scheme, request(headers, BODY, { url: PATH }), [SECRET])).toEqual({ ok: true, timestamp: NOW_MS });
  });

  timestampedCases({
    scheme,
    secret: SECRET,
    otherSecret: OTHER,
    unit: 'milliseconds',
    sign: async (body, ms, secret) => signed(body, ms, secret),
    signatureHeader: 'x-hubspot-signature-v3',
    timestampHeader: 'x-hubspot-request-timestamp',
    line: { method: 'POST', url: PATH },
    malformed: [
      ['garbage', 'malformed signature header'],
      ['', 'malformed signature header'],
      ['ab'.repeat(32), 'malformed signature header'],
      [`v3=${Buffer.alloc(32).toString('base64')}`, 'malformed signature header'],
      [Buffer.alloc(31).toString('base64'), 'malformed signature header'],
      ['!!!!', 'malformed signature header'],
      [Buffer.alloc(32).toString('base64'), 'signature mismatch'],
    ],
  });

  it('takes the timestamp in milliseconds: a seconds value is 55 years old', () => {
    const seconds = String(NOW_MS / 1000);
    const headers = { 'x-hubspot-signature-v3': sign(BODY, NOW_MS / 1000), 'x-hubspot-request-timestamp': seconds };
    expect(refused(check(scheme, request(headers, BODY, { url: PATH }), [SECRET]))).toBe('timestamp too old');
  });

  it('signs method and URI: another path, query, host or method is refused', () => {
    const headers = signed(BODY, NOW_MS);
    const at = (url: string, method = 'POST', s: Scheme = scheme) => refused(check(s, request(headers, BODY, { url, method }), [SECRET]));
    expect(at(PATH)).toBe('accepted');
    expect(at('/hooks/other')).toBe('signature mismatch');
    expect(at(`${PATH}?x=1`)).toBe('signature mismatch');
    expect(at(PATH, 'PUT')).toBe('signature mismatch');
    expect(at(PATH, 'POST', { kind: 'hubspot-v3', url: 'https://other.example.com' })).toBe('signature mismatch');
    expect(at(PATH, 'POST', { kind: 'hubspot-v3', url: 'http://example.com' })).toBe('signature mismatch');
  });

  it('takes url as an origin (path and query appended) or as the full URL (query appended)', () => {
    const withQuery = signed(BODY, NOW_MS, SECRET, `${PUBLIC}${PATH}?portal=1&b=2`);
    const run = (s: Scheme, url: string) => refused(check(s, request(withQuery, BODY, { url }), [SECRET]));
    expect(run({ kind: 'hubspot-v3', url: PUBLIC }, `${PATH}?portal=1&b=2`)).toBe('accepted');
    expect(run({ kind: 'hubspot-v3', url: `${PUBLIC}/` }, `${PATH}?portal=1&b=2`)).toBe('accepted');
    // Behind a proxy that strips a prefix: the full public URL is configured.
    expect(run({ kind: 'hubspot-v3', url: `${PUBLIC}${PATH}` }, '/internal?portal=1&b=2')).toBe('accepted');
    expect(run({ kind: 'hubspot-v3', url: `${PUBLIC}${PATH}?portal=1&b=2` }, '/internal')).toBe('accepted');
    expect(run({ kind: 'hubspot-v3', url: PUBLIC }, `${PATH}?b=2&portal=1`)).toBe('signature mismatch');
  });

  it('falls back to https and the Host header without url', () => {
    const headers = { ...signed(BODY, NOW_MS), host: 'example.com' };
    expect(refused(check({ kind: 'hubspot-v3' }, request(headers, BODY, { url: PATH }), [SECRET]))).toBe('accepted');
    const { host: _host, ...noHost } = headers;
    expect(refused(check({ kind: 'hubspot-v3' }, request(noHost, BODY, { url: PATH }), [SECRET]))).toBe('missing public url');
  });

  it('decodes the characters HubSpot lists before signing the URI', () => {
    const decoded = `${PUBLIC}${PATH}?redirect=https://x.example/a(b)*c,d;e@f!g$h'i`;
    const headers = signed(BODY, NOW_MS, SECRET, decoded);
    const encoded = `${PATH}?redirect=https%3A%2F%2Fx.example%2Fa%28b%29%2ac%2Cd%3Be%40f%21g%24h%27i`;
    expect(refused(check(scheme, request(headers, BODY, { url: encoded }), [SECRET]))).toBe('accepted');
    // Other escapes (here a space) stay encoded.
    const space = signed(BODY, NOW_MS, SECRET, `${PUBLIC}${PATH}?q=a%20b`);
    expect(refused(check(scheme, request(space, BODY, { url: `${PATH}?q=a%20b` }), [SECRET]))).toBe('accepted');
  });

  it("agrees with the SDK's Signature.isValid on a live delivery", () => {
    const now = Date.now();
    const sig = sign(BODY, now);
    const options = { signatureVersion: 'v3', signature: sig, clientSecret: SECRET, requestBody: BODY.toString('utf8'), url: `${PUBLIC}${PATH}`, timestamp: now };
    expect(Signature.isValid(options)).toBe(true);
    const headers = { 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': String(now) };
    expect(verify(scheme, request(headers, BODY, { url: PATH }), [SECRET], { now })).toEqual({ ok: true, timestamp: now });
    expect(Signature.isValid({ ...options, requestBody: '[]' })).toBe(false);
  });
});
