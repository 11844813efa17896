/**
 * The one HMAC check every signing scheme goes through: read the headers, rebuild the signed
 * bytes from the raw body, compare digests in constant time, then check the timestamp window.
 */
import { digestsEqual, hmac } from './digests.js';
import { headerBytes, parseTimestamp, readHeader } from './headers.js';
import type { HmacAlgorithm, RefusalReason, VerifyOptions, VerifyResult, WebhookRequest } from './types.js';

export type Refusal = { ok: false; reason: RefusalReason };

export function refuse(reason: RefusalReason): Refusal {
  return { ok: false, reason };
}

/** The candidate digests found in a signature header (several during a secret rotation). */
export interface ParsedSignature {
  ok: true;
  digests: Buffer[];
  /** Stripe carries its timestamp inside the signature header. */
  timestamp?: string;
}

export type Placeholder = 'body' | 'timestamp' | 'id' | 'method' | 'url';
export type ContentPart = { literal: string } | { placeholder: Placeholder };

/** Everything a scheme needs to say, as data plus two small readers. */
export interface HmacPlan {
  algorithm: HmacAlgorithm;
  signatureHeader: string;
  parse: (value: string) => ParsedSignature | Refusal;
  content: readonly ContentPart[];
  /** Where the signed timestamp is: a header, or (no header) the signature header itself. */
  timestamp?: { header?: string; unit: 'seconds' | 'milliseconds' };
  idHeader?: string;
  /** Extra rule for a signed id (Standard Webhooks forbids the `.` delimiter). */
  idIsValid?: (id: string) => boolean;
  /** The HMAC key for one configured secret, or undefined when the secret is unusable. */
  key: (secret: string) => Uint8Array | undefined;
  /** The public URI for `{url}`, or undefined when it cannot be known. */
  url?: (request: WebhookRequest) => string | undefined;
}

const PLACEHOLDERS: ReadonlySet<string> = new Set<Placeholder>(['body', 'timestamp', 'id', 'method', 'url']);

/** Splits a template such as `{id}.{timestamp}.{body}`; undefined if it names an unknown placeholder. */
export function compileTemplate(template: string): ContentPart[] | undefined {
  const parts: ContentPart[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    const name = m[1] ?? '';
    if (!PLACEHOLDERS.has(name)) return undefined;
    if (m.index > last) parts.push({ literal: template.slice(last, m.index) });
    parts.push({ placeholder: name as Placeholder });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  return parts;
}

export function usesPlaceholder(parts: readonly ContentPart[], name: Placeholder): boolean {
  return parts.some((p) => 'placeholder' in p && p.placeholder === name);
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Keys already derived, by derivation and secret: decoding a secret per delivery cost more than its HMAC. */
const derivedKeys = new WeakMap<HmacPlan['key'], Map<string, Uint8Array | undefined>>();

function keysFor(derive: HmacPlan['key'], secrets: readonly string[]): Uint8Array[] {
  let known = derivedKeys.get(derive);
  if (known === undefined) derivedKeys.set(derive, (known = new Map<string, Uint8Array | undefined>()));
  const keys: Uint8Array[] = [];
  for (const secret of secrets) {
    let key = known.get(secret);
    if (key === undefined && !known.has(secret)) {
      key = derive(secret);
      // Bounded: secrets come from the config, but a caller could pass many over time.
      if (known.size >= 64) known.clear();
      known.set(secret, key);
    }
    if (key !== undefined && key.length > 0) keys.push(key);
  }
  return keys;
}

export function verifyHmac(
  plan: HmacPlan,
  request: WebhookRequest,
  secrets: readonly string[],
  options: VerifyOptions,
): VerifyResult {
  // A configuration problem shows on every request, whatever the request looks like.
  const keys = keysFor(plan.key, secrets);
  if (keys.length === 0) return refuse('no usable secret');

  const header = readHeader(request.headers, plan.signatureHeader);
  if (header.state === 'missing') return refuse('missing signature header');
  if (header.state === 'duplicate') return refuse('duplicate signature header');
  const parsed = plan.parse(header.value);
  if (!parsed.ok) return parsed;

  let timestampText: string | undefined;
  let timestamp: number | undefined;
  if (plan.timestamp !== undefined) {
    if (plan.timestamp.header === undefined) {
      timestampText = parsed.timestamp;
    } else {
      const read = readHeader(request.headers, plan.timestamp.header);
      if (read.state === 'duplicate') return refuse('duplicate timestamp header');
      if (read.state === 'present') timestampText = read.value;
    }
    if (timestampText === undefined) return refuse('missing timestamp');
    timestamp = parseTimestamp(timestampText);
    if (timestamp === undefined) return refuse('malformed timestamp');
  }

  const idSigned = usesPlaceholder(plan.content, 'id');
  let id: string | undefined;
  if (plan.idHeader !== undefined) {
    const read = readHeader(request.headers, plan.idHeader);
    if (read.state === 'duplicate') return refuse('duplicate id header');
    if (read.state === 'present' && read.value !== '') id = read.value;
    if (idSigned && read.state === 'missing') return refuse('missing id header');
    if (idSigned && (id === undefined || (plan.idIsValid !== undefined && !plan.idIsValid(id)))) {
      return refuse('malformed id header');
    }
  }

  let url: string | undefined;
  if (usesPlaceholder(plan.content, 'url')) {
    url = plan.url?.(request);
    if (url === undefined) return refuse('missing public url');
  }

  const content = plan.content.map((part): Uint8Array => {
    if ('literal' in part) return Buffer.from(part.literal, 'utf8');
    switch (part.placeholder) {
      case 'body':
        return request.body;
      case 'timestamp':
        return headerBytes(timestampText ?? '');
      case 'id':
        return headerBytes(id ?? '');
      case 'method':
        return Buffer.from(request.method, 'utf8');
      case 'url':
        return Buffer.from(url ?? '', 'utf8');
    }
  });

  let matched = false;
  for (const key of keys) {
    const expected = hmac(plan.algorithm, key, content);
    // Every candidate is compared, so the time taken does not depend on which one matched.
    for (const given of parsed.digests) matched = digestsEqual(expected, given) || matched;
    if (matched) break;
  }
  if (!matched) return refuse('signature mismatch');

  let timestampMs: number | undefined;
  if (plan.timestamp !== undefined && timestamp !== undefined) {
    const window = checkWindow(timestamp, plan.timestamp.unit, options);
    if (window !== undefined) return refuse(window);
    timestampMs = plan.timestamp.unit === 'seconds' ? timestamp * 1000 : timestamp;
  }
  return {
    ok: true,
    ...(id === undefined ? {} : { deliveryId: id }),
    ...(timestampMs === undefined ? {} : { timestamp: timestampMs }),
  };
}

/** |now − timestamp| ≤ tolerance, in the timestamp's own unit (seconds are compared as whole seconds, as the vendor SDKs do). */
function checkWindow(
  timestamp: number,
  unit: 'seconds' | 'milliseconds',
  options: VerifyOptions,
): 'timestamp too old' | 'timestamp in the future' | undefined {
  const nowMs = options.now ?? Date.now();
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = unit === 'seconds' ? Math.floor(nowMs / 1000) : nowMs;
  const tolerance = unit === 'seconds' ? toleranceSeconds : toleranceSeconds * 1000;
  if (now - timestamp > tolerance) return 'timestamp too old';
  if (timestamp - now > tolerance) return 'timestamp in the future';
  return undefined;
}
