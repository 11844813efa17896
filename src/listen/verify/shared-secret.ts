/**
 * Senders that sign nothing (Zapier-style, Salesforce outbound messages behind a proxy) can
 * still be held to a shared token or to Basic credentials, compared in constant time.
 */
import { decodeBase64, secretsEqual } from './digests.js';
import { readHeader } from './headers.js';
import { refuse } from './hmac.js';
import type { Refusal } from './hmac.js';
import type { VerifyResult, WebhookRequest } from './types.js';

type Found = { ok: true; value: Uint8Array } | Refusal;

/** An empty secret would let an empty credential in: it is never used. */
function usable(secrets: readonly string[]): string[] {
  return secrets.filter((s) => s !== '');
}

function matchesAny(given: Uint8Array, secrets: readonly string[]): VerifyResult {
  let matched = false;
  for (const secret of secrets) matched = secretsEqual(Buffer.from(secret, 'utf8'), given) || matched;
  return matched ? { ok: true } : refuse('credentials mismatch');
}

function tokenFromHeader(request: WebhookRequest, name: string): Found | undefined {
  const read = readHeader(request.headers, name);
  if (read.state === 'missing') return undefined;
  if (read.state === 'duplicate') return refuse('duplicate credentials');
  let value = read.value;
  if (name === 'authorization') {
    const bearer = /^Bearer +(.*)$/i.exec(value);
    if (bearer === null) return refuse('malformed credentials');
    value = bearer[1] ?? '';
  }
  if (value === '') return refuse('malformed credentials');
  return { ok: true, value: Buffer.from(value, 'latin1') };
}

function tokenFromQuery(request: WebhookRequest, name: string): Found | undefined {
  const q = request.url.indexOf('?');
  if (q < 0) return undefined;
  const values = new URLSearchParams(request.url.slice(q + 1)).getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) return refuse('duplicate credentials');
  const value = values[0] ?? '';
  if (value === '') return refuse('malformed credentials');
  return { ok: true, value: Buffer.from(value, 'utf8') };
}

/** The header wins when both places are configured and the header is present. */
export function verifyToken(
  scheme: { header?: string; queryParam?: string },
  request: WebhookRequest,
  secrets: readonly string[],
): VerifyResult {
  const keys = usable(secrets);
  if (keys.length === 0) return refuse('no usable secret');
  const header = scheme.header ?? (scheme.queryParam === undefined ? 'authorization' : undefined);
  const found =
    (header === undefined ? undefined : tokenFromHeader(request, header.toLowerCase())) ??
    (scheme.queryParam === undefined ? undefined : tokenFromQuery(request, scheme.queryParam));
  if (found === undefined) return refuse('missing credentials');
  if (!found.ok) return found;
  return matchesAny(found.value, keys);
}

/** `Authorization: Basic base64(username:password)` (RFC 7617); each secret is `username:password`. */
export function verifyBasic(request: WebhookRequest, secrets: readonly string[]): VerifyResult {
  const keys = usable(secrets);
  if (keys.length === 0) return refuse('no usable secret');
  const read = readHeader(request.headers, 'authorization');
  if (read.state === 'missing') return refuse('missing credentials');
  if (read.state === 'duplicate') return refuse('duplicate credentials');
  const basic = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(read.value);
  const decoded = basic?.[1] === undefined ? undefined : decodeBase64(basic[1]);
  if (decoded === undefined || !decoded.includes(0x3a)) return refuse('malformed credentials');
  return matchesAny(decoded, keys);
}
