import { isJsonObject, type JsonObject } from '../protocol/json.js';
import { HttpAuthError } from './errors.js';
import { pathOf, scrubSecrets } from './redact.js';
import type { AuthContext, AuthTarget } from './types.js';

/**
 * Credentials, applied before every attempt rather than once per request: a token that
 * expires during a long rate-limit wait is renewed before the retry goes out.
 */
export interface AuthProvider {
  /** Adds credentials to one attempt (headers or query), renewing them first if they are about to expire. */
  apply(target: AuthTarget, ctx: AuthContext): void | Promise<void>;
  /**
   * Called once per request on a 401, with the attempt that was refused. Returns true when
   * the credentials were renewed and the request is worth one more try.
   */
  onUnauthorized?(target: AuthTarget, ctx: AuthContext): Promise<boolean>;
  /**
   * Obtains the credentials now, if they are fetched (an OAuth token), rather than on the first
   * request: for a caller that needs what the token response says (Salesforce's instance URL)
   * before it knows where its first request goes.
   */
  authorize?(ctx: AuthContext): Promise<void>;
  /** Current secret values, scrubbed from errors and recordings. */
  secrets(): readonly string[];
}

export interface ApiKeyOptions {
  in: 'header' | 'query';
  /** Header or query parameter name, e.g. `X-API-Key` or `api_key`. */
  name: string;
  value: string;
  /** Written before the key with a space, e.g. `Token` for `Authorization: Token <key>`. */
  prefix?: string;
}

export function apiKeyAuth(options: ApiKeyOptions): AuthProvider {
  const value = options.prefix ? `${options.prefix} ${options.value}` : options.value;
  const secrets = [options.value];
  if (options.in === 'header') {
    const header = options.name.toLowerCase();
    return {
      apply(target) {
        target.headers[header] = value;
      },
      secrets: () => secrets,
    };
  }
  const param = options.name;
  return {
    apply(target) {
      target.url.searchParams.set(param, value);
    },
    secrets: () => secrets,
  };
}

export function bearerAuth(token: string): AuthProvider {
  const header = `Bearer ${token}`;
  const secrets = [token];
  return {
    apply(target) {
      target.headers['authorization'] = header;
    },
    secrets: () => secrets,
  };
}

export function basicAuth(username: string, password: string): AuthProvider {
  const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  const header = `Basic ${encoded}`;
  const secrets = password ? [password, encoded] : [encoded];
  return {
    apply(target) {
      target.headers['authorization'] = header;
    },
    secrets: () => secrets,
  };
}

interface OAuthCommon {
  tokenUrl: string;
  clientId: string;
  scope?: string;
  /** How the client authenticates to the token endpoint: form fields (default) or HTTP Basic (RFC 6749 §2.3.1). */
  clientAuth?: 'body' | 'basic';
  /** Extra form fields some providers require (audience, resource...). */
  extraParams?: Readonly<Record<string, string>>;
  /** Renew this long before expiry (default 60 s; at most half the token's lifetime). */
  marginMs?: number;
  /**
   * Called with each token response once its token is in use: some providers say more there
   * than the token (Salesforce: `instance_url`, where data calls go). The body holds the
   * token itself; keep it out of logs.
   */
  onToken?: (response: JsonObject) => void;
}

export interface ClientCredentialsOptions extends OAuthCommon {
  clientSecret: string;
}

export interface RefreshTokenOptions extends OAuthCommon {
  clientSecret?: string;
  refreshToken: string;
  /** A still valid access token from the config, if any, and when it expires (ms since epoch). */
  accessToken?: string;
  expiresAt?: number;
  /**
   * Stores a rotated refresh token. Awaited before the new access token is used, so a
   * crash can never leave the only valid refresh token in memory.
   */
  persist?: (refreshToken: string) => Promise<void>;
}

export function oauth2ClientCredentials(options: ClientCredentialsOptions): AuthProvider {
  return new OAuth2Provider(options, options.clientSecret, undefined, undefined);
}

export function oauth2RefreshToken(options: RefreshTokenOptions): AuthProvider {
  return new OAuth2Provider(options, options.clientSecret, options, options.persist);
}

const DEFAULT_MARGIN_MS = 60_000;

/** Both OAuth2 grants: a cached access token renewed before expiry, one renewal at a time. */
class OAuth2Provider implements AuthProvider {
  private accessToken: string | undefined;
  /** When to renew (ms since epoch); Infinity when the server gave no lifetime. */
  private renewAt = 0;
  private refreshToken: string | undefined;
  /** The renewal in flight: concurrent requests wait for it instead of each asking for a token. */
  private pending: Promise<void> | undefined;
  private readonly tokenPath: string;

  constructor(
    private readonly options: OAuthCommon,
    private readonly clientSecret: string | undefined,
    refresh: RefreshTokenOptions | undefined,
    private readonly persist: ((refreshToken: string) => Promise<void>) | undefined,
  ) {
    this.tokenPath = pathOf(options.tokenUrl);
    if (refresh) {
      this.refreshToken = refresh.refreshToken;
      if (refresh.accessToken !== undefined) {
        this.accessToken = refresh.accessToken;
        this.renewAt = refresh.expiresAt === undefined ? Number.POSITIVE_INFINITY : refresh.expiresAt - (options.marginMs ?? DEFAULT_MARGIN_MS);
      }
    }
  }

  async apply(target: AuthTarget, ctx: AuthContext): Promise<void> {
    await this.authorize(ctx);
    target.headers['authorization'] = `Bearer ${this.accessToken ?? ''}`;
  }

  async authorize(ctx: AuthContext): Promise<void> {
    if (this.accessToken === undefined || ctx.now() >= this.renewAt) await this.renew(ctx);
  }

  async onUnauthorized(target: AuthTarget, ctx: AuthContext): Promise<boolean> {
    // When another request renewed the token after this one was sent, the new token is
    // worth a try as it is: renewing again would waste a (possibly single-use) grant.
    if (target.headers['authorization'] === `Bearer ${this.accessToken ?? ''}`) await this.renew(ctx);
    else if (this.pending) await this.pending;
    return true;
  }

  secrets(): readonly string[] {
    const out: string[] = [];
    if (this.clientSecret) out.push(this.clientSecret);
    if (this.refreshToken) out.push(this.refreshToken);
    if (this.accessToken) out.push(this.accessToken);
    return out;
  }

  private renew(ctx: AuthContext): Promise<void> {
    this.pending ??= this.fetchToken(ctx).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(ctx: AuthContext): Promise<void> {
    const o = this.options;
    const form: Record<string, string> = { ...o.extraParams };
    form['grant_type'] = this.refreshToken === undefined ? 'client_credentials' : 'refresh_token';
    if (this.refreshToken !== undefined) form['refresh_token'] = this.refreshToken;
    if (o.scope !== undefined) form['scope'] = o.scope;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.clientAuth === 'basic') {
      const id = encodeURIComponent(o.clientId);
      const secret = encodeURIComponent(this.clientSecret ?? '');
      headers['authorization'] = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    } else {
      form['client_id'] = o.clientId;
      if (this.clientSecret !== undefined) form['client_secret'] = this.clientSecret;
    }

    // Expiry counts from before the request: the token was minted somewhere in between.
    const startedAt = ctx.now();
    const response = await ctx.send({ method: 'POST', path: o.tokenUrl, form, headers, expectJson: true });
    const body = response.json();
    const token = isJsonObject(body) ? body['access_token'] : undefined;
    if (typeof token !== 'string' || token === '') {
      throw this.error(response.status, 'answered without an access_token');
    }
    const rotated = isJsonObject(body) ? body['refresh_token'] : undefined;
    if (typeof rotated === 'string' && rotated !== '' && rotated !== this.refreshToken) {
      if (this.persist) {
        try {
          await this.persist(rotated);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          throw this.error(response.status, `rotated the refresh token, which could not be saved: ${scrubSecrets(reason, [rotated, token])}`, err);
        }
      }
      this.refreshToken = rotated;
    }
    const lifetimeMs = expiresInMs(isJsonObject(body) ? body['expires_in'] : undefined);
    this.accessToken = token;
    if (lifetimeMs === undefined) {
      this.renewAt = Number.POSITIVE_INFINITY;
    } else {
      const margin = Math.min(o.marginMs ?? DEFAULT_MARGIN_MS, lifetimeMs / 2);
      this.renewAt = startedAt + lifetimeMs - margin;
    }
    // Before the renewal resolves: no request waiting on it can leave before the caller has read it.
    if (o.onToken && isJsonObject(body)) o.onToken(body);
  }

  private error(status: number, what: string, cause?: unknown): HttpAuthError {
    return new HttpAuthError(`POST ${this.tokenPath} ${what}`, {
      method: 'POST',
      path: this.tokenPath,
      status,
      retriable: false,
      attempts: 1,
      cause,
    });
  }
}

/** `expires_in` in seconds; some providers send it as a string. */
function expiresInMs(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n * 1000 : undefined;
}
