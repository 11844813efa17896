import { STATUS_CODES } from 'node:http';
import { Agent, interceptors, type Dispatcher } from 'undici';
import { silentLogger, type Logger } from '../log.js';
import { parseJson, stringifyJson, type JsonValue } from '../protocol/json.js';
import type { AuthProvider } from './auth.js';
import { defaultSleep, RequestBudget, type BudgetOptions, type Sleep } from './budget.js';
import type { Recorder, Replayer } from './cassette.js';
import { ACCEPT_ENCODING, decodeBody, UnsupportedEncodingError } from './decode.js';
import { HttpAbortError, HttpStatusError, HttpTransportError, RateLimitedError, type HttpError } from './errors.js';
import { bodySnippet, scrubSecrets } from './redact.js';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  describeFailure,
  failureFromError,
  isRateLimited,
  isRetriable,
  waitHint,
  type Failure,
  type RetryPolicy,
} from './retry.js';
import type { AuthContext, AuthTarget, BodyProblem, HttpMethod, HttpRequest, HttpResponse, Pacer } from './types.js';

/**
 * The one HTTP client every connector uses: pooled keep-alive connections (one undici Agent
 * per client), retries with backoff and server wait hints, a request budget, credentials,
 * decompression, lossless JSON, and optional record/replay. Connectors only describe requests.
 */

export interface HttpTimeouts {
  /** TCP + TLS handshake. Default 10 s. */
  connectMs?: number;
  /** From sending the request to the end of the response headers. Default 60 s. */
  headersMs?: number;
  /** Longest silence between two body chunks (not the whole body). Default 120 s. */
  bodyMs?: number;
}

export interface HttpClientOptions {
  /** Prefix for relative request paths, e.g. `https://api.example.com/v2`. */
  baseUrl?: string;
  /** Sent with every request; a request's own headers win. */
  headers?: Readonly<Record<string, string>>;
  userAgent?: string;
  timeouts?: HttpTimeouts;
  retry?: Partial<RetryPolicy>;
  /** A budget of its own, or one shared with the run's other clients (an instance). */
  budget?: BudgetOptions | RequestBudget;
  auth?: AuthProvider;
  log?: Logger;
  /** Aborting stops in-flight requests, waits and retries; the request rejects with name 'AbortError'. */
  signal?: AbortSignal;
  /** A vendor's own rate-limit reset header (delta seconds, epoch seconds/ms or HTTP date). */
  rateLimitResetHeader?: string;
  /** Paces requests by what responses say of the vendor's budget (shared by a run's clients). */
  pacer?: Pacer;
  /**
   * Judges an error answer (4xx, 5xx) whose body says more than its status: a vendor's error
   * code meaning "retry soon" or "not today" behind a 403. Undefined: the status decides.
   */
  errorCheck?: (response: HttpResponse) => BodyProblem | undefined;
  /** Secret values besides the auth provider's (config properties marked secret): scrubbed from errors and recordings. */
  secrets?: readonly string[];
  /** Saves every exchange that got a response. */
  recorder?: Recorder;
  /** Serves requests from recordings; no network. */
  replayer?: Replayer;
  /** Redirects followed per request (default 5; 0 returns the 3xx). */
  maxRedirections?: number;
  /** Injected for tests: waiting (must reject when `signal` aborts), the clock, the jitter source. */
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
}

export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Closes pooled connections; waits for requests in flight. */
  close(): Promise<void>;
}

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  return new UndiciHttpClient(options);
}

const DEFAULT_TIMEOUTS = { connectMs: 10_000, headersMs: 60_000, bodyMs: 120_000 } as const;
/** Waits up to this long are routine and logged at debug level; longer ones are worth a warning. */
const QUIET_WAIT_MS = 3_000;
const JSON_TYPE = /^\s*(?:application|text)\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** One request, resolved once; attempts reuse it. */
interface Prepared {
  method: HttpMethod;
  /** Full URL without credentials. */
  url: string;
  origin: string;
  /** Path and query, as undici wants it. */
  pathAndQuery: string;
  host: string;
  /** Path without query, for messages. */
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  expectJson: boolean;
  check: HttpRequest['check'];
}

/** How one attempt ended: a response (maybe unusable) and/or why it failed. */
interface Attempt {
  response: BufferedResponse | undefined;
  failure: Failure | undefined;
  target: AuthTarget | undefined;
}

class BufferedResponse implements HttpResponse {
  private parsed: JsonValue | undefined;
  private isParsed = false;

  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly url: string,
    readonly body: Buffer,
  ) {}

  text(): string {
    return this.body.toString('utf8');
  }

  json(): JsonValue {
    if (!this.isParsed) {
      this.parsed = parseJson(this.text()).value;
      this.isParsed = true;
    }
    return this.parsed as JsonValue;
  }
}

class UndiciHttpClient implements HttpClient {
  private readonly agent: Agent;
  private readonly dispatcher: Dispatcher;
  private readonly baseUrl: string | undefined;
  private readonly defaultHeaders: Record<string, string>;
  private readonly policy: RetryPolicy;
  private readonly budget: RequestBudget | undefined;
  private readonly pacer: Pacer | undefined;
  private readonly errorCheck: HttpClientOptions['errorCheck'];
  private readonly auth: AuthProvider | undefined;
  private readonly log: Logger;
  /** Secrets an auth provider learnt (an OAuth token), already told to the log. */
  private readonly announced = new Set<string>();
  private readonly signal: AbortSignal | undefined;
  private readonly resetHeader: string | undefined;
  private readonly extraSecrets: readonly string[];
  private readonly recorder: Recorder | undefined;
  private readonly replayer: Replayer | undefined;
  private readonly sleep: Sleep;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Lent to the auth provider once, so token requests share retries, budget and cassette. */
  private readonly authContext: AuthContext;

  constructor(options: HttpClientOptions) {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.agent = new Agent({
      connectTimeout: timeouts.connectMs,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
    const maxRedirections = options.maxRedirections ?? 5;
    this.dispatcher = maxRedirections > 0 ? this.agent.compose(interceptors.redirect({ maxRedirections })) : this.agent;
    this.baseUrl = options.baseUrl?.replace(/\/+$/, '');
    this.defaultHeaders = { 'user-agent': options.userAgent ?? 'sync', 'accept-encoding': ACCEPT_ENCODING };
    for (const [name, value] of Object.entries(options.headers ?? {})) this.defaultHeaders[name.toLowerCase()] = value;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.budget = options.budget instanceof RequestBudget ? options.budget : options.budget ? new RequestBudget(options.budget, this.now, this.sleep) : undefined;
    this.pacer = options.pacer;
    this.errorCheck = options.errorCheck;
    this.auth = options.auth;
    this.log = options.log ?? silentLogger;
    this.signal = options.signal;
    this.resetHeader = options.rateLimitResetHeader?.toLowerCase();
    this.extraSecrets = options.secrets ?? [];
    this.recorder = options.recorder;
    this.replayer = options.replayer;
    this.authContext = { send: (request) => this.send(request, undefined), now: this.now };
  }
  /** The log scrubs a learnt secret from then on, wherever a server echoes it. */
  private announce(auth: AuthProvider): void {
    if (!this.log.redact) return;
    for (const secret of auth.secrets()) {
      if (this.announced.has(secret)) continue;
      this.announced.add(secret);
      this.log.redact(secret);
    }
  }


  request(request: HttpRequest): Promise<HttpResponse> {
    return this.send(request, this.auth);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(request: HttpRequest, auth: AuthProvider | undefined): Promise<HttpResponse> {
    const p = this.prepare(request);
    try {
      return await this.run(p, auth);
    } catch (err) {
      if (this.signal?.aborted && !(err instanceof HttpAbortError)) throw new HttpAbortError(p.method, this.scrub(p.path), err);
      throw err;
    }
  }

  private async run(p: Prepared, auth: AuthProvider | undefined): Promise<BufferedResponse> {
    let attempt = 0;
    let reauthorized = false;
    for (;;) {
      if (this.signal?.aborted) throw new HttpAbortError(p.method, this.scrub(p.path), this.signal.reason);
      attempt++;
      const started = this.now();
      const { response, failure, target } = await this.attempt(p, auth);
      // --debug: every exchange, as users expect when an API misbehaves. The URL is the one
      // requested, before the auth provider added credentials, and scrubbed all the same.
      if (this.log.debugging !== false) {
        this.log.debug(
          this.scrub(`${p.method} ${p.url} → ${response ? response.status : describeFailure(failure as Failure)} in ${this.now() - started} ms${attempt > 1 ? ` (attempt ${attempt})` : ''}`),
        );
      }
      if (failure === undefined && response !== undefined) {
        if (response.status < 400) return response;
        // A refused credential gets one renewal and one more try; it is not the server's flakiness,
        // so it does not count as an attempt.
        if (response.status === 401 && !reauthorized && auth?.onUnauthorized && target) {
          reauthorized = true;
          if (await auth.onUnauthorized(target, this.authContext)) {
            attempt--;
            continue;
          }
        }
      }
      const f: Failure = failure ?? this.statusFailure(response);
      if (f.kind === 'body' && f.retriable === 'later') throw this.notThisRun(p, f, response, attempt);
      if (!isRetriable(f, this.policy)) throw this.fatalError(p, f, response, attempt);

      const rateLimited = f.kind === 'status' && f.rateLimited;
      // Only Retry-After applies to any failure; reset headers describe the rate window and
      // sit on every response of some APIs, so they count only when we were rate limited.
      const hint = f.kind === 'body' ? f.waitMs : response ? waitHint(response.headers, this.now(), this.resetHeader, rateLimited) : undefined;
      if (hint !== undefined && hint > this.policy.maxRetryAfterMs) throw this.tooLongWait(p, f, hint, attempt);
      if (attempt >= this.policy.maxAttempts) throw this.exhausted(p, f, hint, attempt, response);

      const wait = hint ?? backoffDelay(attempt, this.policy, this.random);
      this.logWait(p, f, wait, attempt, rateLimited);
      await this.sleep(wait, this.signal);
    }
  }

  /** One try: credentials, budget slot, the exchange, the whole body, decoding and the JSON check. */
  private async attempt(p: Prepared, auth: AuthProvider | undefined): Promise<Attempt> {
    let target: AuthTarget | undefined;
    let url = p.url;
    let pathAndQuery = p.pathAndQuery;
    let headers = p.headers;
    if (auth) {
      // Credentials before the budget slot: a token request needs a slot of its own.
      target = { method: p.method, url: new URL(p.url), headers: { ...p.headers } };
      await auth.apply(target, this.authContext);
      this.announce(auth);
      url = target.url.href;
      pathAndQuery = target.url.pathname + target.url.search;
      headers = target.headers;
    }

    let status: number;
    let responseHeaders: Record<string, string>;
    let body: Buffer;
    if (this.replayer) {
      const replayed = this.replayer.replay({ method: p.method, url, headers, body: p.body }, this.secrets());
      status = replayed.status;
      responseHeaders = replayed.headers;
      body = replayed.body;
    } else {
      if (this.pacer) await this.pacer.beforeRequest(this.signal);
      if (this.budget) await this.budget.acquire(p.host, this.signal, p.path);
      try {
        const res = await this.dispatcher.request({
          origin: p.origin,
          path: pathAndQuery,
          method: p.method,
          headers,
          body: p.body ?? null,
          signal: this.signal ?? null,
        });
        status = res.statusCode;
        responseHeaders = flattenHeaders(res.headers);
        body = Buffer.from(await res.body.arrayBuffer());
      } catch (err) {
        const failure = failureFromError(err);
        if (failure === undefined || this.signal?.aborted) throw err;
        return { response: undefined, failure, target };
      } finally {
        if (this.budget) this.budget.release(p.host, p.path);
      }

      const encoding = responseHeaders['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        try {
          body = await decodeBody(body, encoding);
        } catch (err) {
          const failure: Failure =
            err instanceof UnsupportedEncodingError
              ? { kind: 'encoding', detail: err.message }
              : { kind: 'truncated', detail: `${encoding} body is corrupt or cut off` };
          return { response: undefined, failure, target };
        }
        // The body handed over is decoded: these two would describe bytes nobody sees.
        delete responseHeaders['content-encoding'];
        delete responseHeaders['content-length'];
      }
      if (this.recorder) {
        this.recorder.record(
          { method: p.method, url, requestHeaders: headers, requestBody: p.body, status, responseHeaders, responseBody: body },
          this.secrets(),
        );
      }
    }

    const response = new BufferedResponse(status, responseHeaders, p.url, body);
    if (status >= 200 && status < 300 && this.mustBeJson(p, response)) {
      try {
        response.json();
      } catch (err) {
        const detail = body.length === 0 ? 'empty body' : err instanceof Error ? err.message : String(err);
        return { response, failure: { kind: 'not-json', detail }, target };
      }
    }
    this.pacer?.afterResponse(response);
    if (status >= 200 && status < 300 && p.check) {
      const problem = p.check(response);
      if (problem !== undefined) {
        return { response, failure: { kind: 'body', detail: this.scrub(problem.detail), retriable: problem.retriable, waitMs: problem.waitMs }, target };
      }
    }
    return { response, failure: undefined, target };
  }

  private mustBeJson(p: Prepared, response: BufferedResponse): boolean {
    if (response.status === 204 || p.method === 'HEAD') return false;
    if (p.expectJson) return true;
    const type = response.headers['content-type'];
    return type !== undefined && JSON_TYPE.test(type);
  }

  private prepare(request: HttpRequest): Prepared {
    const method = request.method ?? 'GET';
    let url = this.resolve(request.path);
    if (request.query) url = appendQuery(url, request.query);
    const parsed = new URL(url);
    const headers: Record<string, string> = { ...this.defaultHeaders };
    if (request.headers) for (const name of Object.keys(request.headers)) headers[name.toLowerCase()] = request.headers[name] ?? '';

    let body: string | Buffer | undefined;
    let contentType: string | undefined;
    if (request.form !== undefined) {
      body = new URLSearchParams(request.form).toString();
      contentType = 'application/x-www-form-urlencoded';
    } else if (request.body === undefined) {
      body = undefined;
    } else if (typeof request.body === 'string') {
      body = request.body;
    } else if (request.body instanceof Uint8Array) {
      body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    } else {
      body = stringifyJson(request.body);
      contentType = 'application/json';
    }
    if (contentType !== undefined && headers['content-type'] === undefined) headers['content-type'] = contentType;

    return {
      method,
      url: parsed.href,
      origin: parsed.origin,
      pathAndQuery: parsed.pathname + parsed.search,
      host: parsed.host,
      path: parsed.pathname,
      headers,
      body,
      expectJson: request.expectJson === true,
      check: request.check,
    };
  }

  private resolve(path: string): string {
    if (/^https?:\/\//i.test(path)) return path;
    if (this.baseUrl === undefined) throw new TypeError(`request path ${JSON.stringify(path)} is relative but the client has no baseUrl`);
    return path.startsWith('/') ? this.baseUrl + path : `${this.baseUrl}/${path}`;
  }

  /** Asked at the moment of need: OAuth tokens change during a run. Token requests (sent without
   * auth) are scrubbed of the client's credentials too, since their bodies carry them. */
  private secrets(): readonly string[] {
    const fromAuth = this.auth?.secrets();
    return fromAuth && fromAuth.length > 0 ? [...this.extraSecrets, ...fromAuth] : this.extraSecrets;
  }

  private logWait(p: Prepared, f: Failure, waitMs: number, attempt: number, rateLimited: boolean): void {
    if (waitMs > QUIET_WAIT_MS) {
      const seconds = Math.ceil(waitMs / 1000);
      if (rateLimited) this.log.warn(`rate limited by ${p.host}, waiting ${seconds} s`);
      else this.log.warn(`${p.host} failed (${describeFailure(f, statusText(f))}), retrying in ${seconds} s`);
      return;
    }
    this.log.debug(
      this.scrub(`retrying ${p.method} ${p.path} in ${waitMs} ms after ${describeFailure(f, statusText(f))} (attempt ${attempt + 1} of ${this.policy.maxAttempts})`),
    );
  }

  private scrub(text: string): string {
    return scrubSecrets(text, this.secrets());
  }

  /** An error answer: what its body says when the client's `errorCheck` knows it, else its status. */
  private statusFailure(response: BufferedResponse | undefined): Failure {
    if (!response) throw new Error('an attempt ended with neither a response nor a failure');
    const problem = this.errorCheck?.(response);
    if (problem !== undefined) {
      // Only Retry-After: reset headers describe a rate window, which a body rule need not be about.
      const waitMs = problem.waitMs ?? waitHint(response.headers, this.now(), undefined, false);
      return { kind: 'body', status: response.status, detail: this.scrub(problem.detail), retriable: problem.retriable, waitMs };
    }
    return { kind: 'status', status: response.status, rateLimited: isRateLimited(response.status, response.headers) };
  }

  private fatalError(p: Prepared, f: Failure, response: BufferedResponse | undefined, attempts: number): HttpError {
    const what = `${p.method} ${p.path}`;
    const status = answeredStatus(f);
    if (status !== undefined && response) {
      const snippet = bodySnippet(response.text(), this.secrets());
      const message = `${what} answered ${describeFailure(f, statusText(f))}${snippet ? `: ${snippet}` : ''}`;
      return new HttpStatusError(this.scrub(message), {
        method: p.method,
        path: this.scrub(p.path),
        status,
        retriable: false,
        attempts,
        bodySnippet: snippet,
      });
    }
    return new HttpTransportError(this.scrub(`${what} failed: ${describeFailure(f)}`), {
      method: p.method,
      path: this.scrub(p.path),
      status: response?.status ?? 0,
      retriable: false,
      attempts,
    });
  }

  /**
   * The body says this request cannot succeed within the run, though a later run may (a daily
   * allowance used up): no retry now, and an error that exits 75 with the vendor's words.
   */
  private notThisRun(p: Prepared, f: Failure, response: BufferedResponse | undefined, attempts: number): HttpError {
    const status = answeredStatus(f);
    const snippet = response ? bodySnippet(response.text(), this.secrets()) : undefined;
    const what = status === undefined ? `${p.method} ${p.path} failed: ${describeFailure(f)}` : `${p.method} ${p.path} answered ${describeFailure(f, statusText(f))}`;
    const message = `${what}${snippet ? ` (${snippet})` : ''}; not retried in this run: a later run may succeed`;
    return new HttpStatusError(this.scrub(message), {
      method: p.method,
      path: this.scrub(p.path),
      status: status ?? response?.status ?? 0,
      retriable: true,
      attempts,
      bodySnippet: snippet,
    });
  }

  private tooLongWait(p: Prepared, f: Failure, hint: number, attempts: number): HttpError {
    const status = answeredStatus(f) ?? 0;
    const message =
      `${p.method} ${p.path} rate limited (${describeFailure(f, statusText(f))}): the server asks to wait ` +
      `${Math.ceil(hint / 1000)} s, more than the ${Math.ceil(this.policy.maxRetryAfterMs / 1000)} s allowed`;
    return new RateLimitedError(this.scrub(message), {
      method: p.method,
      path: this.scrub(p.path),
      status,
      retriable: true,
      attempts,
      retryAfterMs: hint,
    });
  }

  private exhausted(p: Prepared, f: Failure, hint: number | undefined, attempts: number, response: BufferedResponse | undefined): HttpError {
    const what = `${p.method} ${p.path}`;
    const init = { method: p.method, path: this.scrub(p.path), retriable: true, attempts, retryAfterMs: hint };
    const status = answeredStatus(f);
    if (status !== undefined) {
      // A body a rule recognised is the vendor's words about it: worth quoting.
      const snippet = f.kind === 'body' && response ? bodySnippet(response.text(), this.secrets()) : undefined;
      const message = `${what} answered ${describeFailure(f, statusText(f))}${snippet ? ` (${snippet})` : ''}, still failing after ${attempts} attempts`;
      const ErrorClass = f.kind === 'status' && f.rateLimited ? RateLimitedError : HttpStatusError;
      return new ErrorClass(this.scrub(message), { ...init, status });
    }
    return new HttpTransportError(this.scrub(`${what} failed after ${attempts} attempts: ${describeFailure(f)}`), { ...init, status: 0 });
  }
}

/** The error status a failure answered with, if it was an error answer. */
function answeredStatus(f: Failure): number | undefined {
  return f.kind === 'status' || f.kind === 'body' ? f.status : undefined;
}

function statusText(f: Failure): string {
  const status = answeredStatus(f);
  return status === undefined ? '' : (STATUS_CODES[status] ?? '');
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name.toLowerCase()] = typeof value === 'string' ? value : value.join(', ');
  }
  return out;
}

function appendQuery(url: string, query: Readonly<Record<string, string | number | boolean | undefined | readonly string[]>>): string {
  let qs = '';
  for (const name of Object.keys(query)) {
    const value = query[name];
    if (value === undefined) continue;
    const key = encodeURIComponent(name);
    if (typeof value === 'object') for (const item of value) qs += `&${key}=${encodeURIComponent(item)}`;
    else qs += `&${key}=${encodeURIComponent(String(value))}`;
  }
  if (qs === '') return url;
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  return base + (base.includes('?') ? qs : `?${qs.slice(1)}`);
}
