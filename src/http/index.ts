/**
 * The shared HTTP client for connectors: import from here, not from the modules.
 *
 * client.ts   createHttpClient: undici Agent, attempts, retry loop, decoding, JSON check
 * retry.ts    pure: retriable or fatal, backoff with jitter, server wait hints
 * budget.ts   token bucket + per-host semaphore a connector declares
 * auth.ts     API key, bearer, basic, OAuth2 client credentials and refresh token
 * persist.ts  atomic write-back of one config key (rotated refresh tokens)
 * cassette.ts record/replay of exchanges, one redacted JSON file each
 * redact.ts   the one place secrets are scrubbed (errors, recordings)
 * decode.ts   gzip / br / deflate bodies
 * errors.ts   HttpError classes with status, method, path, retriable, exitCode
 * error-rules.ts  error answers whose body says retry, or not before a later run (vendor error codes)
 */
export { createHttpClient, type HttpClient, type HttpClientOptions, type HttpTimeouts } from './client.js';
export type { AuthContext, AuthTarget, HttpMethod, HttpRequest, HttpResponse, QueryValue } from './types.js';
export {
  apiKeyAuth,
  basicAuth,
  bearerAuth,
  oauth2ClientCredentials,
  oauth2RefreshToken,
  type ApiKeyOptions,
  type AuthProvider,
  type ClientCredentialsOptions,
  type RefreshTokenOptions,
} from './auth.js';
export { defaultSleep, RequestBudget, Semaphore, TokenBucket, type BudgetOptions, type EndpointLimit, type Sleep } from './budget.js';
export { createRecorder, createReplayer, type Exchange, type Recorder, type Replayer } from './cassette.js';
export { HttpAbortError, HttpAuthError, HttpError, HttpStatusError, HttpTransportError, RateLimitedError, ReplayMissError } from './errors.js';
export { errorRulesCheck, type ErrorRule } from './error-rules.js';
export { persistToConfigFile, updateJsonConfigKey } from './persist.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
export { REDACTED } from './redact.js';
