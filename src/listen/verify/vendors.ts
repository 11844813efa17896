/**
 * Each signing scheme as an `HmacPlan`. The details come from the senders' documentation and
 * their own SDKs (standardwebhooks 1.1.1, stripe 23.1.0, @octokit/webhooks-methods 6.0.0,
 * @shopify/shopify-api 13.1.0, @hubspot/api-client 13.5.0).
 */
import { DIGEST_BYTES, decodeBase64, decodeDigest } from './digests.js';
import { compileTemplate, refuse, usesPlaceholder } from './hmac.js';
import type { ContentPart, HmacPlan, ParsedSignature, Refusal } from './hmac.js';
import { publicUri } from './headers.js';
import type { DigestEncoding, HmacAlgorithm, HmacScheme, WebhookHeaders, WebhookRequest } from './types.js';

const utf8Key = (secret: string): Uint8Array => Buffer.from(secret, 'utf8');

/**
 * A header that carries one digest after a fixed prefix. Digests never contain a comma, so a
 * comma means node:http joined two copies of the header: refuse rather than pick one.
 */
function singleDigest(prefix: string, encoding: DigestEncoding, algorithm: HmacAlgorithm) {
  return (value: string): ParsedSignature | Refusal => {
    if (value.includes(',') && !prefix.includes(',')) return refuse('duplicate signature header');
    if (!value.startsWith(prefix)) return refuse('malformed signature header');
    const digest = decodeDigest(value.slice(prefix.length), encoding, DIGEST_BYTES[algorithm]);
    return digest === undefined ? refuse('malformed signature header') : { ok: true, digests: [digest] };
  };
}

/**
 * `v1,<base64> v1,<base64> v1a,<base64>`: space-separated, versioned. Only `v1` (HMAC-SHA256)
 * is checked; `v1a` (ed25519) and unknown versions are skipped, as the reference library does.
 * A ", " never occurs in a well-formed value but is how node:http joins a repeated header.
 */
function parseStandardSignatures(value: string): ParsedSignature | Refusal {
  if (value.includes(', ')) return refuse('duplicate signature header');
  let wellFormed = 0;
  let v1 = 0;
  const digests: Buffer[] = [];
  for (const entry of value.split(' ')) {
    if (entry === '') continue;
    const comma = entry.indexOf(',');
    if (comma <= 0 || comma === entry.length - 1) continue;
    wellFormed++;
    if (entry.slice(0, comma) !== 'v1') continue;
    v1++;
    const digest = decodeDigest(entry.slice(comma + 1), 'base64', DIGEST_BYTES.sha256);
    if (digest !== undefined) digests.push(digest);
  }
  if (wellFormed === 0) return refuse('malformed signature header');
  if (v1 === 0) return refuse('no supported signature');
  if (digests.length === 0) return refuse('malformed signature header');
  return { ok: true, digests };
}

/**
 * `t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`: one timestamp, any number of `v1` signatures
 * (several while a secret is being rolled); other schemes (`v0`, test-mode) are ignored.
 * Two `t=` entries are what node:http makes of a repeated header.
 */
function parseStripeSignatures(value: string): ParsedSignature | Refusal {
  let timestamp: string | undefined;
  let timestamps = 0;
  let v1 = 0;
  const digests: Buffer[] = [];
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const text = item.slice(eq + 1).trim();
    if (key === 't') {
      timestamps++;
      timestamp = text;
    } else if (key === 'v1') {
      v1++;
      const digest = decodeDigest(text, 'hex', DIGEST_BYTES.sha256);
      if (digest !== undefined) digests.push(digest);
    }
  }
  if (timestamps > 1) return refuse('duplicate signature header');
  if (timestamp === undefined) return refuse('malformed signature header');
  if (v1 === 0) return refuse('no supported signature');
  if (digests.length === 0) return refuse('malformed signature header');
  return { ok: true, digests, timestamp };
}

/** The `whsec_` secret of Standard Webhooks is base64: the key is the decoded bytes. */
function standardWebhooksKey(secret: string): Uint8Array | undefined {
  return decodeBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
}

const has = (headers: WebhookHeaders, name: string): boolean => Object.prototype.hasOwnProperty.call(headers, name);

function parts(template: string): ContentPart[] {
  const compiled = compileTemplate(template);
  if (compiled === undefined) throw new Error(`internal: bad template ${template}`);
  return compiled;
}

const BODY = parts('{body}');

function standardWebhooksFamily(family: 'webhook' | 'svix'): HmacPlan {
  return {
    algorithm: 'sha256',
    signatureHeader: `${family}-signature`,
    parse: parseStandardSignatures,
    content: parts('{id}.{timestamp}.{body}'),
    timestamp: { header: `${family}-timestamp`, unit: 'seconds' },
    idHeader: `${family}-id`,
    idIsValid: (id) => !id.includes('.'),
    key: standardWebhooksKey,
  };
}

// Built once: the plan is the same for every delivery of a family.
const STANDARD_WEBHOOKS = standardWebhooksFamily('webhook');
const SVIX = standardWebhooksFamily('svix');

/** Svix sends the same scheme under `svix-*` names; the `webhook-*` family wins when both are sent. */
export function standardWebhooksPlan(headers: WebhookHeaders): HmacPlan {
  return !has(headers, 'webhook-signature') && has(headers, 'svix-signature') ? SVIX : STANDARD_WEBHOOKS;
}

export const githubPlan: HmacPlan = {
  algorithm: 'sha256',
  signatureHeader: 'x-hub-signature-256',
  parse: singleDigest('sha256=', 'hex', 'sha256'),
  content: BODY,
  idHeader: 'x-github-delivery',
  key: utf8Key,
};

/** The `whsec_…` string itself, as UTF-8, is Stripe's HMAC key (unlike Standard Webhooks). */
export const stripePlan: HmacPlan = {
  algorithm: 'sha256',
  signatureHeader: 'stripe-signature',
  parse: parseStripeSignatures,
  content: parts('{timestamp}.{body}'),
  timestamp: { unit: 'seconds' },
  key: utf8Key,
};

/** Shopify's newer "Events" deliveries use unprefixed names; like the SDK, they win when present. */
function shopifyFamily(prefix: 'shopify-' | 'x-shopify-'): HmacPlan {
  return {
    algorithm: 'sha256',
    signatureHeader: `${prefix}hmac-sha256`,
    parse: singleDigest('', 'base64', 'sha256'),
    content: BODY,
    idHeader: `${prefix}webhook-id`,
    key: utf8Key,
  };
}

const SHOPIFY = shopifyFamily('shopify-');
const X_SHOPIFY = shopifyFamily('x-shopify-');

export function shopifyPlan(headers: WebhookHeaders): HmacPlan {
  return has(headers, 'shopify-hmac-sha256') ? SHOPIFY : X_SHOPIFY;
}

export const slackPlan: HmacPlan = {
  algorithm: 'sha256',
  signatureHeader: 'x-slack-signature',
  parse: singleDigest('v0=', 'hex', 'sha256'),
  content: parts('v0:{timestamp}:{body}'),
  timestamp: { header: 'x-slack-request-timestamp', unit: 'seconds' },
  key: utf8Key,
};

/** HubSpot signs the URI after decoding these characters (developers.hubspot.com, "Validating requests", v3). */
const HUBSPOT_DECODED: Readonly<Record<string, string>> = {
  '3A': ':', '2F': '/', '3F': '?', '40': '@', '21': '!', '24': '$',
  '27': "'", '28': '(', '29': ')', '2A': '*', '2C': ',', '3B': ';',
};

export function hubspotUri(request: WebhookRequest, url: string | undefined): string | undefined {
  const uri = publicUri(request, url);
  return uri?.replace(/%([0-9A-Fa-f]{2})/g, (whole, hex: string) => HUBSPOT_DECODED[hex.toUpperCase()] ?? whole);
}

export function hubspotPlan(url: string | undefined): HmacPlan {
  return {
    algorithm: 'sha256',
    signatureHeader: 'x-hubspot-signature-v3',
    parse: singleDigest('', 'base64', 'sha256'),
    content: parts('{method}{url}{body}{timestamp}'),
    timestamp: { header: 'x-hubspot-request-timestamp', unit: 'milliseconds' },
    key: utf8Key,
    url: (request) => hubspotUri(request, url),
  };
}

/** Why a generic HMAC scheme cannot work, or undefined when it can. */
export function hmacSchemeProblem(scheme: HmacScheme): string | undefined {
  if (scheme.header.trim() === '') return 'hmac: header is empty';
  if (!(scheme.algorithm in DIGEST_BYTES)) return 'hmac: algorithm must be sha1, sha256 or sha512';
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the scheme comes from a config file: its type is what it should hold
  if (scheme.encoding !== 'hex' && scheme.encoding !== 'base64') return 'hmac: encoding must be hex or base64';
  const content = compileTemplate(scheme.signedContent ?? '{body}');
  if (content === undefined) return 'hmac: signedContent may use only {body} {timestamp} {id} {method} {url}';
  if (!usesPlaceholder(content, 'body')) return 'hmac: signedContent must include {body}';
  const signsTimestamp = usesPlaceholder(content, 'timestamp');
  if (signsTimestamp && scheme.timestampHeader === undefined) return 'hmac: {timestamp} needs timestampHeader';
  // An unsigned timestamp can be replaced by anyone, so a window on it would only look safe.
  if (!signsTimestamp && scheme.timestampHeader !== undefined) return 'hmac: timestampHeader needs {timestamp} in signedContent';
  if (usesPlaceholder(content, 'id') && scheme.idHeader === undefined) return 'hmac: {id} needs idHeader';
  return undefined;
}

/** Assumes `hmacSchemeProblem(scheme)` is undefined. */
export function genericPlan(scheme: HmacScheme): HmacPlan {
  const content = parts(scheme.signedContent ?? '{body}');
  return {
    algorithm: scheme.algorithm,
    signatureHeader: scheme.header.toLowerCase(),
    parse: singleDigest(scheme.prefix ?? '', scheme.encoding, scheme.algorithm),
    content,
    ...(scheme.timestampHeader === undefined
      ? {}
      : { timestamp: { header: scheme.timestampHeader.toLowerCase(), unit: 'seconds' as const } }),
    ...(scheme.idHeader === undefined ? {} : { idHeader: scheme.idHeader.toLowerCase() }),
    key: utf8Key,
    url: (request) => publicUri(request, scheme.url),
  };
}
