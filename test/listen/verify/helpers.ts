/**
 * Shared fixtures for the verification tests, and our own signers for the schemes whose
 * senders publish no npm signer (Slack, generic HMAC, token, Basic).
 */
import { createHmac } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { expect, it } from 'vitest';
import { verify } from '../../../src/listen/verify/index.js';
import type { RefusalReason, Scheme, VerifyResult, WebhookHeaders, WebhookRequest } from '../../../src/listen/verify/index.js';

export const NOW_S = 1_700_000_000;
export const NOW_MS = NOW_S * 1000;

/** 40 bytes with a 2-byte `é` and a 4-byte emoji: a body whose bytes differ from its characters, so a verifier that hashes text instead of bytes fails. */
export const BODY = Buffer.from('{"id":"evt_1","type":"x.y","n":"é😀"}', 'utf8');

export function request(
  headers: WebhookHeaders,
  body: Uint8Array = BODY,
  line: { method?: string; url?: string } = {},
): WebhookRequest {
  return { method: line.method ?? 'POST', url: line.url ?? '/hooks/test', headers, body };
}

export function hmacOf(algorithm: string, secret: string | Uint8Array, content: Uint8Array | string, encoding: 'hex' | 'base64'): string {
  return createHmac(algorithm, secret).update(content).digest(encoding);
}

export function slackSignature(secret: string, timestamp: number | string, body: Uint8Array): string {
  const content = Buffer.concat([Buffer.from(`v0:${timestamp}:`), body]);
  return `v0=${hmacOf('sha256', secret, content, 'hex')}`;
}

/** The same bytes with one byte changed. */
export function flipOneByte(body: Uint8Array, at = 3): Buffer {
  const copy = Buffer.from(body);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/**
 * What a careless listener does: decode each chunk to a string on its own, join the
 * strings, encode again. A multi-byte character split between chunks turns into U+FFFD.
 */
export function decodedChunkByChunk(body: Buffer, splitAt: number): Buffer {
  const text = body.subarray(0, splitAt).toString('utf8') + body.subarray(splitAt).toString('utf8');
  return Buffer.from(text, 'utf8');
}

/** The offset of the middle of the emoji in BODY (inside its 4 bytes). */
export const INSIDE_EMOJI = BODY.indexOf(Buffer.from('😀', 'utf8')) + 2;

/** Correct decoding for comparison: a streaming decoder keeps split characters whole. */
export function decodedWithStreamingDecoder(body: Buffer, splitAt: number): Buffer {
  const decoder = new StringDecoder('utf8');
  const text = decoder.write(body.subarray(0, splitAt)) + decoder.write(body.subarray(splitAt)) + decoder.end();
  return Buffer.from(text, 'utf8');
}

export function refused(result: VerifyResult): RefusalReason | 'accepted' {
  return result.ok ? 'accepted' : result.reason;
}

export function check(
  scheme: Scheme,
  req: WebhookRequest,
  secrets: readonly string[],
  now: number = NOW_MS,
  toleranceSeconds?: number,
): VerifyResult {
  return verify(scheme, req, secrets, toleranceSeconds === undefined ? { now } : { now, toleranceSeconds });
}

/**
 * How one timestamped scheme is signed, so that the same cases run for each of them. `unit`
 * is the unit of the timestamp the sender signs; times below are in that unit.
 */
export interface TimestampedScheme {
  scheme: Scheme;
  secret: string;
  otherSecret: string;
  unit: 'seconds' | 'milliseconds';
  /** Headers of a delivery of `body` signed at `time` with `secret`, by the vendor's package where one exists. */
  sign: (body: Buffer, time: number, secret: string) => Promise<Record<string, string>>;
  signatureHeader: string;
  /** Absent when the timestamp travels inside the signature header (Stripe). */
  timestampHeader?: string;
  /** Puts two signature values into one header as the sender does in a rotation; absent when the scheme carries one. */
  combine?: (first: string, second: string) => string;
  deliveryId?: string;
  line?: { method?: string; url?: string };
  /** Signature header values that must be refused, with the reason. */
  malformed: ReadonlyArray<readonly [string, RefusalReason]>;
}

/** The cases every scheme that signs a timestamp must pass. */
export function timestampedCases(s: TimestampedScheme): void {
  const now = s.unit === 'seconds' ? NOW_S : NOW_MS;
  const perSecond = s.unit === 'seconds' ? 1 : 1000;
  const nowMs = NOW_MS;
  const run = (headers: WebhookHeaders, body: Uint8Array = BODY, secrets: readonly string[] = [s.secret]) =>
    check(s.scheme, request(headers, body, s.line), secrets, nowMs);

  it('accepts a valid delivery and reports its timestamp and delivery id', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    const result = run(headers);
    expect(result).toEqual({
      ok: true,
      timestamp: NOW_MS,
      ...(s.deliveryId === undefined ? {} : { deliveryId: s.deliveryId }),
    });
  });

  it('refuses a body with one byte changed', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    expect(refused(run(headers, flipOneByte(BODY)))).toBe('signature mismatch');
    expect(refused(run(headers, Buffer.concat([BODY, Buffer.from('\n')])))).toBe('signature mismatch');
  });

  it('refuses the wrong secret', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    expect(refused(run(headers, BODY, [s.otherSecret]))).toBe('signature mismatch');
    // Stray whitespace (a pasted newline) is refused: as a mismatch, or as an unusable base64 secret.
    for (const stray of [` ${s.secret}`, `${s.secret}\n`]) {
      expect(['signature mismatch', 'no usable secret']).toContain(refused(run(headers, BODY, [stray])));
    }
  });

  it('accepts any of several secrets (rotation)', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    expect(run(headers, BODY, [s.otherSecret, s.secret]).ok).toBe(true);
    expect(run(headers, BODY, [s.secret, s.otherSecret]).ok).toBe(true);
  });

  it('refuses no secrets or only empty ones', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    expect(refused(run(headers, BODY, []))).toBe('no usable secret');
    expect(refused(run(headers, BODY, ['']))).toBe('no usable secret');
  });

  it('accepts timestamps up to the tolerance either way, refuses beyond', async () => {
    for (const [offset, expected] of [
      [-300, 'accepted'],
      [300, 'accepted'],
      [-301, 'timestamp too old'],
      [301, 'timestamp in the future'],
      [-86_400, 'timestamp too old'],
      [86_400, 'timestamp in the future'],
    ] as const) {
      const headers = await s.sign(BODY, now + offset * perSecond, s.secret);
      expect([offset, refused(run(headers))]).toEqual([offset, expected]);
    }
  });

  it('honours a custom tolerance', async () => {
    const headers = await s.sign(BODY, now - 10 * perSecond, s.secret);
    expect(refused(check(s.scheme, request(headers, BODY, s.line), [s.secret], nowMs, 5))).toBe('timestamp too old');
    expect(refused(check(s.scheme, request(headers, BODY, s.line), [s.secret], nowMs, 10))).toBe('accepted');
  });

  it('handles several signatures in one header', async () => {
    const right = await s.sign(BODY, now, s.secret);
    const wrong = await s.sign(BODY, now, s.otherSecret);
    const rightSig = right[s.signatureHeader] ?? '';
    const wrongSig = wrong[s.signatureHeader] ?? '';
    if (s.combine !== undefined) {
      const both = { ...right, [s.signatureHeader]: s.combine(wrongSig, rightSig) };
      expect(refused(run(both))).toBe('accepted');
      const neither = { ...right, [s.signatureHeader]: s.combine(wrongSig, wrongSig) };
      expect(refused(run(neither))).toBe('signature mismatch');
    } else {
      // The scheme carries one signature: a list can only be a repeated header joined by node:http.
      const joined = { ...right, [s.signatureHeader]: `${wrongSig}, ${rightSig}` };
      expect(refused(run(joined))).toBe('duplicate signature header');
    }
  });

  it('refuses a repeated signature header, as an array or joined by node:http', async () => {
    const right = await s.sign(BODY, now, s.secret);
    const wrong = await s.sign(BODY, now + perSecond, s.secret);
    const a = right[s.signatureHeader] ?? '';
    const b = wrong[s.signatureHeader] ?? '';
    expect(refused(run({ ...right, [s.signatureHeader]: [a, b] }))).toBe('duplicate signature header');
    expect(refused(run({ ...right, [s.signatureHeader]: [a, a] }))).toBe('duplicate signature header');
    expect(refused(run({ ...right, [s.signatureHeader]: `${a}, ${b}` }))).toBe('duplicate signature header');
    expect(refused(run({ ...right, [s.signatureHeader]: [a] }))).toBe('accepted');
  });

  it('refuses missing headers', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    const { [s.signatureHeader]: _signature, ...unsigned } = headers;
    expect(refused(run(unsigned))).toBe('missing signature header');
    expect(refused(run({ ...headers, [s.signatureHeader]: undefined }))).toBe('missing signature header');
    expect(refused(run({ ...headers, [s.signatureHeader]: [] }))).toBe('missing signature header');
    expect(refused(run({}))).toBe('missing signature header');
    if (s.timestampHeader !== undefined) {
      const { [s.timestampHeader]: _timestamp, ...untimed } = headers;
      expect(refused(run(untimed))).toBe('missing timestamp');
    }
  });

  it('refuses malformed signature headers', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    for (const [value, reason] of s.malformed) {
      expect([value, refused(run({ ...headers, [s.signatureHeader]: value }))]).toEqual([value, reason]);
    }
  });

  if (s.timestampHeader !== undefined) {
    const timestampHeader = s.timestampHeader;
    it('refuses malformed or repeated timestamp headers', async () => {
      const headers = await s.sign(BODY, now, s.secret);
      const stamp = headers[timestampHeader] ?? '';
      for (const value of ['', 'abc', `${stamp}.5`, `-${stamp}`, `+${stamp}`, ` ${stamp}`, `${stamp}abc`, '1e9', '0x10', '9'.repeat(40)]) {
        expect([value, refused(run({ ...headers, [timestampHeader]: value }))]).toEqual([value, 'malformed timestamp']);
      }
      expect(refused(run({ ...headers, [timestampHeader]: [stamp, stamp] }))).toBe('duplicate timestamp header');
      expect(refused(run({ ...headers, [timestampHeader]: `${stamp}, ${stamp}` }))).toBe('malformed timestamp');
    });

    it('refuses a timestamp header changed after signing', async () => {
      const headers = await s.sign(BODY, now, s.secret);
      expect(refused(run({ ...headers, [timestampHeader]: String(now + perSecond) }))).toBe('signature mismatch');
    });
  }

  it('verifies the raw bytes of a multi-byte UTF-8 body', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    expect(refused(run(headers, BODY))).toBe('accepted');
    // A listener that decodes chunk by chunk breaks the emoji and the signature with it.
    expect(decodedChunkByChunk(BODY, INSIDE_EMOJI).equals(BODY)).toBe(false);
    expect(refused(run(headers, decodedChunkByChunk(BODY, INSIDE_EMOJI)))).toBe('signature mismatch');
    expect(refused(run(headers, decodedWithStreamingDecoder(BODY, INSIDE_EMOJI)))).toBe('accepted');
  });

  it('survives huge header values without throwing', async () => {
    const headers = await s.sign(BODY, now, s.secret);
    const huge = 'A'.repeat(1_000_000);
    expect(() => run({ ...headers, [s.signatureHeader]: huge })).not.toThrow();
    expect(refused(run({ ...headers, [s.signatureHeader]: huge }))).not.toBe('accepted');
    expect(() => run({ ...headers, [s.signatureHeader]: `${headers[s.signatureHeader] ?? ''} ${huge}` })).not.toThrow();
    if (s.timestampHeader !== undefined) {
      expect(refused(run({ ...headers, [s.timestampHeader]: '1'.repeat(1_000_000) }))).toBe('malformed timestamp');
    }
  });
}
