import type { WebhookHeaders, WebhookRequest } from './types.js';

export type HeaderRead = { state: 'missing' } | { state: 'duplicate' } | { state: 'present'; value: string };

/** One header by lower-case name. Repeated headers (an array of several) are never guessed between. */
export function readHeader(headers: WebhookHeaders, name: string): HeaderRead {
  if (!Object.prototype.hasOwnProperty.call(headers, name)) return { state: 'missing' };
  const raw = headers[name];
  if (typeof raw === 'string') return { state: 'present', value: raw };
  if (Array.isArray(raw)) {
    const values: readonly unknown[] = raw;
    if (values.length > 1) return { state: 'duplicate' };
    const only = values[0];
    return typeof only === 'string' ? { state: 'present', value: only } : { state: 'missing' };
  }
  return { state: 'missing' };
}

/**
 * Node decodes header bytes as latin1, so encoding a header value back as latin1 gives the
 * exact bytes the sender signed, even for a non-ASCII id.
 */
export function headerBytes(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}

const MAX_TIMESTAMP_DIGITS = 15;

/** A Unix timestamp of digits only (no sign, no fraction, no spaces), or undefined. */
export function parseTimestamp(text: string): number | undefined {
  if (text.length === 0 || text.length > MAX_TIMESTAMP_DIGITS) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(text);
}

/**
 * The URI a sender signed: `url` as configured (an origin gets the received path and query
 * appended; a full URL gets the received query when it has none), else https + Host header.
 */
export function publicUri(request: WebhookRequest, url: string | undefined): string | undefined {
  const received = request.url;
  const q = received.indexOf('?');
  const receivedQuery = q < 0 ? '' : received.slice(q);
  if (url === undefined) {
    const host = readHeader(request.headers, 'host');
    if (host.state !== 'present' || host.value === '') return undefined;
    return `https://${host.value}${received}`;
  }
  if (url.includes('?')) return url;
  const afterScheme = url.indexOf('://');
  const pathStart = url.indexOf('/', afterScheme < 0 ? 0 : afterScheme + 3);
  const path = pathStart < 0 ? '' : url.slice(pathStart);
  if (path === '' || path === '/') {
    const origin = pathStart < 0 ? url : url.slice(0, pathStart);
    return origin + (received.startsWith('/') ? received : `/${received}`);
  }
  return url + receivedQuery;
}
