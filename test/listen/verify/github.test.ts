import { Webhooks } from '@octokit/webhooks';
import { describe, expect, it } from 'vitest';
import type { Scheme } from '../../../src/listen/verify/index.js';
import {
  BODY,
  INSIDE_EMOJI,
  check,
  decodedChunkByChunk,
  flipOneByte,
  hmacOf,
  refused,
  request,
} from './helpers.js';

const scheme: Scheme = { kind: 'github' };
const SECRET = "It's a Secret to Everybody";
const OTHER = 'another secret';
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

/** Signed by @octokit/webhooks itself. */
async function signed(body: Buffer, secret = SECRET): Promise<Record<string, string>> {
  return {
    'x-hub-signature-256': await new Webhooks({ secret }).sign(body.toString('utf8')),
    'x-github-delivery': DELIVERY,
    'x-github-event': 'push',
  };
}

describe('github', () => {
  it("verifies GitHub's documented example", () => {
    const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    expect(check(scheme, request(headers, Buffer.from('Hello, World!')), [SECRET])).toEqual({ ok: true });
  });

  it('accepts a delivery signed by @octokit/webhooks and reports X-GitHub-Delivery', async () => {
    expect(check(scheme, request(await signed(BODY)), [SECRET])).toEqual({ ok: true, deliveryId: DELIVERY });
  });

  it('refuses a changed body, the wrong secret; accepts a rotated one', async () => {
    const headers = await signed(BODY);
    expect(refused(check(scheme, request(headers, flipOneByte(BODY)), [SECRET]))).toBe('signature mismatch');
    expect(refused(check(scheme, request(headers), [OTHER]))).toBe('signature mismatch');
    expect(check(scheme, request(headers), [OTHER, SECRET]).ok).toBe(true);
    expect(refused(check(scheme, request(headers), ['']))).toBe('no usable secret');
  });

  it('refuses missing, repeated and malformed signature headers', async () => {
    const headers = await signed(BODY);
    const sig = headers['x-hub-signature-256'] ?? '';
    const hex = sig.slice('sha256='.length);
    const other = (await signed(BODY, OTHER))['x-hub-signature-256'] ?? '';
    const run = (value: string | string[] | undefined) =>
      refused(check(scheme, request({ ...headers, 'x-hub-signature-256': value }), [SECRET]));
    expect(run(undefined)).toBe('missing signature header');
    // The legacy SHA-1 header alone is not enough.
    const legacy = { 'x-hub-signature': `sha1=${hmacOf('sha1', SECRET, BODY, 'hex')}`, 'x-github-delivery': DELIVERY };
    expect(refused(check(scheme, request(legacy), [SECRET]))).toBe('missing signature header');
    expect(run([sig, other])).toBe('duplicate signature header');
    expect(run(`${other}, ${sig}`)).toBe('duplicate signature header');
    expect(run(`${sig},${other}`)).toBe('duplicate signature header');
    for (const value of ['', 'garbage', hex, `sha1=${hex}`, `SHA256=${hex}`, `sha256=${hex.slice(1)}`, `sha256=${hex}0`,
      `sha256=${hex.slice(2)}`, `sha256=${hex.slice(0, -1)}g`, `sha256=${Buffer.from(hex, 'hex').toString('base64')}`, `sha256= ${hex}`]) {
      expect([value, run(value)]).toEqual([value, 'malformed signature header']);
    }
    expect(run(`sha256=${hex.toUpperCase()}`)).toBe('accepted');
  });

  it('reports no delivery id when X-GitHub-Delivery is absent, refuses a repeated one', async () => {
    const { 'x-github-delivery': _delivery, ...headers } = await signed(BODY);
    expect(check(scheme, request(headers), [SECRET])).toEqual({ ok: true });
    expect(refused(check(scheme, request({ ...headers, 'x-github-delivery': [DELIVERY, 'x'] }), [SECRET]))).toBe('duplicate id header');
  });

  it('verifies raw bytes: multi-byte UTF-8, invalid UTF-8 and form-encoded bodies', async () => {
    const headers = await signed(BODY);
    expect(check(scheme, request(headers, BODY), [SECRET]).ok).toBe(true);
    expect(refused(check(scheme, request(headers, decodedChunkByChunk(BODY, INSIDE_EMOJI)), [SECRET]))).toBe('signature mismatch');
    const notUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x7d]);
    const raw = { 'x-hub-signature-256': `sha256=${hmacOf('sha256', SECRET, notUtf8, 'hex')}` };
    expect(check(scheme, request(raw, notUtf8), [SECRET]).ok).toBe(true);
    const form = Buffer.from(`payload=${encodeURIComponent('{"zen":"Design for failure. é😀"}')}`);
    expect(check(scheme, request(await signed(form), form), [SECRET]).ok).toBe(true);
  });

  it('agrees with @octokit/webhooks verify', async () => {
    const webhooks = new Webhooks({ secret: SECRET });
    const headers = await signed(BODY);
    const sig = headers['x-hub-signature-256'] ?? '';
    expect(await webhooks.verify(BODY.toString('utf8'), sig)).toBe(true);
    expect(await webhooks.verify(flipOneByte(BODY).toString('utf8'), sig)).toBe(false);
  });

  it('survives huge header values', async () => {
    const headers = await signed(BODY);
    const huge = `sha256=${'a'.repeat(1_000_000)}`;
    expect(refused(check(scheme, request({ ...headers, 'x-hub-signature-256': huge }), [SECRET]))).toBe('malformed signature header');
    const hugeId = 'x'.repeat(1_000_000);
    expect(check(scheme, request({ ...headers, 'x-github-delivery': hugeId }), [SECRET])).toEqual({ ok: true, deliveryId: hugeId });
  });
});
