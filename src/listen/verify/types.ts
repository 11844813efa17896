/**
 * Types of the webhook signature check. Schemes are data: a connector names one in its
 * webhook declaration and the listener hands it to `verify` together with the raw request.
 */

/**
 * Request headers as node:http gives them: lower-case names; `req.headers` joins most
 * repeated headers with ", " (and silently keeps only the first `authorization`), while
 * `req.headersDistinct` gives every header as an array. Prefer `headersDistinct`: it is the
 * only way a repeated `authorization` header can be refused.
 */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What `verify` reads of a request. */
export interface WebhookRequest {
  /** As received, e.g. `POST`. */
  method: string;
  /** Path and query as received (`req.url`), e.g. `/hooks/hubspot?x=1`. */
  url: string;
  headers: WebhookHeaders;
  /** The raw body bytes, exactly as received; never a re-encoded string. */
  body: Uint8Array;
}

export interface VerifyOptions {
  /** The current time in milliseconds since the epoch; defaults to `Date.now()`. */
  now?: number;
  /** Accepted clock difference, both ways, for schemes that sign a timestamp. Default 300. */
  toleranceSeconds?: number;
}

/** Why a delivery was refused: short, fixed texts that never carry a secret or a signature. */
export type RefusalReason =
  | 'missing signature header'
  | 'duplicate signature header'
  | 'malformed signature header'
  | 'no supported signature'
  | 'signature mismatch'
  | 'missing timestamp'
  | 'duplicate timestamp header'
  | 'malformed timestamp'
  | 'timestamp too old'
  | 'timestamp in the future'
  | 'missing id header'
  | 'duplicate id header'
  | 'malformed id header'
  | 'missing public url'
  | 'missing credentials'
  | 'duplicate credentials'
  | 'malformed credentials'
  | 'credentials mismatch'
  | 'no usable secret'
  | 'invalid scheme'
  | 'invalid options'
  | 'verification error';

export type VerifyResult =
  | {
      ok: true;
      /** The sender's delivery id from a header, when the scheme has one (the dedup key). */
      deliveryId?: string;
      /** The signed timestamp, in milliseconds since the epoch, when the scheme signs one. */
      timestamp?: number;
    }
  | { ok: false; reason: RefusalReason };

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type DigestEncoding = 'hex' | 'base64';

/**
 * How a sender signs its deliveries. The vendor kinds carry every detail themselves; `hmac`
 * describes any other sender that signs with a shared secret.
 */
export type Scheme =
  /** `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …` (or `svix-*`); secret `whsec_<base64>`. */
  | { kind: 'standard-webhooks' }
  /** `x-hub-signature-256: sha256=<hex>` over the body; delivery id `x-github-delivery`. */
  | { kind: 'github' }
  /** `stripe-signature: t=<unix>,v1=<hex>…` over `<t>.<body>`; the `whsec_` secret is the key as is. */
  | { kind: 'stripe' }
  /** `x-shopify-hmac-sha256` (or `shopify-hmac-sha256`): base64 over the body; delivery id `x-shopify-webhook-id`. */
  | { kind: 'shopify' }
  /** `x-slack-signature: v0=<hex>` over `v0:<ts>:<body>`, `x-slack-request-timestamp` in seconds. */
  | { kind: 'slack' }
  /**
   * `x-hubspot-signature-v3`: base64 over method + URI + body + timestamp,
   * `x-hubspot-request-timestamp` in milliseconds. `url` is the public URL HubSpot calls, see
   * `HmacScheme.url`; without it the URI is `https://<host header><path and query>`.
   */
  | { kind: 'hubspot-v3'; url?: string }
  | HmacScheme
  /** A shared token compared in constant time: in `header` (default `authorization: Bearer <token>`) or in the query parameter `queryParam`. */
  | { kind: 'token'; header?: string; queryParam?: string }
  /** `authorization: Basic base64(username:password)`; each secret is `username:password`. */
  | { kind: 'basic' };

export interface HmacScheme {
  kind: 'hmac';
  /** Header that carries the signature (any case; looked up lower-cased). */
  header: string;
  algorithm: HmacAlgorithm;
  encoding: DigestEncoding;
  /** Text before the digest in the header, e.g. `sha256=`; it must be present. */
  prefix?: string;
  /**
   * What is signed; placeholders `{body}` (raw bytes), `{timestamp}` and `{id}` (header
   * values as received), `{method}`, `{url}` (the public URI). Default `{body}`.
   */
  signedContent?: string;
  /** Header with the signed timestamp in Unix seconds; required when the template uses `{timestamp}`. */
  timestampHeader?: string;
  /** Header with the delivery id, reported as `deliveryId`; required when the template uses `{id}`. */
  idHeader?: string;
  /**
   * The public URL the sender calls, for `{url}`: an origin (`https://hooks.example.com`), to
   * which the received path and query are appended, or a full URL, to which only the received
   * query is appended when the URL has none.
   */
  url?: string;
}
