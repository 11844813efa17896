import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  describeFailure,
  failureFromError,
  isRateLimited,
  isRetriable,
  parseResetValue,
  waitHint,
  type Failure,
} from '../../src/http/retry.js';

const status = (s: number, rateLimited = false): Failure => ({ kind: 'status', status: s, rateLimited });

describe('classification', () => {
  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [501, false],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [408, false],
    [422, false],
  ])('status %i retriable: %s', (s, expected) => {
    expect(isRetriable(status(s), DEFAULT_RETRY_POLICY)).toBe(expected);
  });

  it('retries statuses a connector declares', () => {
    expect(isRetriable(status(408), { retryStatuses: [408] })).toBe(true);
    expect(isRetriable(status(409), { retryStatuses: [408] })).toBe(false);
  });

  it('retries a 403 that is a rate limit', () => {
    expect(isRateLimited(403, { 'x-ratelimit-remaining': '0' })).toBe(true);
    expect(isRateLimited(403, { 'retry-after': '60' })).toBe(true);
    expect(isRateLimited(403, { 'x-ratelimit-remaining': '12' })).toBe(false);
    expect(isRetriable(status(403, true), DEFAULT_RETRY_POLICY)).toBe(true);
  });

  it('retries resets, refusals, timeouts, cut-off and non-JSON bodies, not unknown hosts or bad encodings', () => {
    expect(isRetriable({ kind: 'network', code: 'ECONNRESET' }, DEFAULT_RETRY_POLICY)).toBe(true);
    expect(isRetriable({ kind: 'network', code: 'ECONNREFUSED' }, DEFAULT_RETRY_POLICY)).toBe(true);
    expect(isRetriable({ kind: 'network', code: 'UND_ERR_SOCKET' }, DEFAULT_RETRY_POLICY)).toBe(true);
    expect(isRetriable({ kind: 'network', code: 'ENOTFOUND' }, DEFAULT_RETRY_POLICY)).toBe(false);
    expect(isRetriable({ kind: 'timeout', phase: 'headers' }, DEFAULT_RETRY_POLICY)).toBe(true);
    expect(isRetriable({ kind: 'truncated', detail: 'x' }, DEFAULT_RETRY_POLICY)).toBe(true);
    expect(isRetriable({ kind: 'not-json', detail: 'x' }, DEFAULT_RETRY_POLICY)).toBe(true);
    expect(isRetriable({ kind: 'encoding', detail: 'x' }, DEFAULT_RETRY_POLICY)).toBe(false);
  });

  it('maps undici and socket errors, following causes', () => {
    const coded = (code: string, cause?: unknown): Error => Object.assign(new Error('x', { cause }), { code });
    expect(failureFromError(coded('UND_ERR_HEADERS_TIMEOUT'))).toEqual({ kind: 'timeout', phase: 'headers' });
    expect(failureFromError(coded('UND_ERR_CONNECT_TIMEOUT'))).toEqual({ kind: 'timeout', phase: 'connect' });
    expect(failureFromError(coded('UND_ERR_BODY_TIMEOUT'))).toEqual({ kind: 'timeout', phase: 'body' });
    expect(failureFromError(coded('UND_ERR_RES_CONTENT_LENGTH_MISMATCH'))).toEqual({ kind: 'truncated', detail: 'body shorter than its content-length' });
    expect(failureFromError(new Error('fetch failed', { cause: coded('ECONNREFUSED') }))).toEqual({ kind: 'network', code: 'ECONNREFUSED' });
    expect(failureFromError(new TypeError('a bug'))).toBeUndefined();
    expect(failureFromError(coded('ERR_INVALID_ARG_TYPE'))).toBeUndefined();
    expect(failureFromError(coded('ENOTFOUND'))).toEqual({ kind: 'network', code: 'ENOTFOUND' });
    expect(failureFromError(coded('EAI_AGAIN'))).toEqual({ kind: 'network', code: 'EAI_AGAIN' });
    expect(failureFromError(coded('UND_ERR_ABORTED'))).toBeUndefined();
  });

  it('describes failures without URLs', () => {
    expect(describeFailure({ kind: 'network', code: 'ECONNRESET' })).toBe('connection reset (ECONNRESET)');
    expect(describeFailure(status(503), 'Service Unavailable')).toBe('503 Service Unavailable');
    expect(describeFailure({ kind: 'timeout', phase: 'body' })).toBe('timed out waiting for the response body');
  });
});

describe('backoff', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 5000 };
  it('doubles the ceiling per retry and caps it', () => {
    const top = (): number => 0.999999;
    expect(backoffDelay(1, policy, top)).toBe(999);
    expect(backoffDelay(2, policy, top)).toBe(1999);
    expect(backoffDelay(3, policy, top)).toBe(3999);
    expect(backoffDelay(4, policy, top)).toBe(4999);
    expect(backoffDelay(10, policy, top)).toBe(4999);
  });
  it('uses full jitter: anywhere from 0', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(2000);
  });
});

describe('wait hints', () => {
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);

  it('reads Retry-After as delta seconds and as an HTTP date', () => {
    expect(waitHint({ 'retry-after': '2' }, now)).toBe(2000);
    expect(waitHint({ 'retry-after': new Date(now + 7000).toUTCString() }, now)).toBe(7000);
    expect(waitHint({ 'retry-after': new Date(now - 7000).toUTCString() }, now)).toBe(0);
  });

  it('prefers Retry-After, then the connector header, then RateLimit-Reset, then X-RateLimit-Reset', () => {
    const all = { 'retry-after': '1', 'x-vendor-reset': '2', 'ratelimit-reset': '3', 'x-ratelimit-reset': String(now / 1000 + 4) };
    expect(waitHint(all, now, 'X-Vendor-Reset')).toBe(1000);
    const { 'retry-after': _a, ...noRetryAfter } = all;
    expect(waitHint(noRetryAfter, now, 'X-Vendor-Reset')).toBe(2000);
    const { 'x-vendor-reset': _b, ...noVendor } = noRetryAfter;
    expect(waitHint(noVendor, now, 'X-Vendor-Reset')).toBe(3000);
    const { 'ratelimit-reset': _c, ...onlyX } = noVendor;
    expect(waitHint(onlyX, now)).toBe(4000);
    expect(waitHint({}, now)).toBeUndefined();
  });

  it('reads X-RateLimit-Reset as epoch seconds or epoch ms', () => {
    expect(waitHint({ 'x-ratelimit-reset': String(now / 1000 + 42) }, now)).toBe(42_000);
    expect(waitHint({ 'x-ratelimit-reset': String(now + 1500) }, now)).toBe(1500);
  });

  it('ignores reset headers when the answer was not a rate limit', () => {
    expect(waitHint({ 'x-ratelimit-reset': String(now / 1000 + 3600) }, now, undefined, false)).toBeUndefined();
    expect(waitHint({ 'retry-after': '5', 'x-ratelimit-reset': String(now / 1000 + 3600) }, now, undefined, false)).toBe(5000);
  });

  it('rejects garbage', () => {
    expect(parseResetValue('soon-ish', now)).toBeUndefined();
    expect(parseResetValue('-5', now)).toBeUndefined();
    expect(parseResetValue('1.5', now)).toBe(1500);
  });
});
