/**
 * Senders that sign nothing (Zapier-style, Salesforce outbound messages behind a proxy) can
 * still be held to a shared token or to Basic credentials, compared in constant time.
 */
import { withQueryValuesReplaced } from '../../url-text.js';
import { decodeBase64, secretsEqual } from './digests.js';
import { readHeader } from './headers.js';
import { refuse } from './hmac.js';
import type { Refusal } from './hmac.js';
import type { Scheme, VerifyResult, WebhookRequest } from './types.js';

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

/** What a stored request shows where its credential was. */
export const REDACTED_CREDENTIAL = 'REDACTED';

/**
 * The request as it may be kept once verified: the credential of a `token` or `basic` scheme
 * (a header, or the query parameter of the endpoint URL as Salesforce is given it) replaced.
 * Verification happens on receipt and never again (replays map the stored body), so the
 * credential is of no further use, while a copy on disk would outlive any rotation. Other
 * schemes carry signatures, which give nothing away about the secret, and are kept as sent.
 */
export function withoutCredentials(
  scheme: Scheme,
  url: string,
  headers: Readonly<Record<string, readonly string[]>>,
): { url: string; headers: Record<string, string[]> } {
  const names: string[] = [];
  let queryParam: string | undefined;
  if (scheme.kind === 'basic') names.push('authorization');
  if (scheme.kind === 'token') {
    const header = scheme.header ?? (scheme.queryParam === undefined ? 'authorization' : undefined);
    if (header !== undefined) names.push(header.toLowerCase());
    queryParam = scheme.queryParam;
  }
  // No prototype: a header named __proto__ stays a header.
  const kept = Object.create(null) as Record<string, string[]>;
  for (const [name, values] of Object.entries(headers)) kept[name] = names.includes(name) ? values.map(() => REDACTED_CREDENTIAL) : [...values];
  // The parameter's values go, whatever else the query holds; names match decoded, as `tokenFromQuery` reads them.
  return { url: queryParam === undefined ? url : withQueryValuesReplaced(url, (name) => name === queryParam, REDACTED_CREDENTIAL), headers: kept };
}
