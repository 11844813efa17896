/**
 * Webhook signature verification for every scheme `sync listen` accepts: pure functions over
 * the raw body bytes and the headers, constant-time comparisons, no secret in any result.
 */
export { schemeProblem, verify } from './verify.js';
export { REDACTED_CREDENTIAL, withoutCredentials } from './shared-secret.js';
export type {
  DigestEncoding,
  HmacAlgorithm,
  HmacScheme,
  RefusalReason,
  Scheme,
  VerifyOptions,
  VerifyResult,
  WebhookHeaders,
  WebhookRequest,
} from './types.js';
