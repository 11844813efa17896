import type { JsonObject, JsonValue } from '../protocol/json.js';

/** Types shared by the client, auth providers and cassettes (kept apart to avoid import cycles). */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface HttpRequest {
  /** Default GET. */
  method?: HttpMethod;
  /** Relative to the client's baseUrl (`/v1/items` or `v1/items`), or an absolute http(s) URL (next-page links, token endpoints). */
  path: string;
  /** Appended to any query already in `path`; undefined values are skipped, arrays repeat the name. */
  query?: Readonly<Record<string, QueryValue>>;
  headers?: Readonly<Record<string, string>>;
  /** A string or bytes are sent as they are; an object or array is sent as JSON (numbers kept exact). */
  body?: string | Uint8Array | JsonObject | JsonValue[];
  /** Sent as application/x-www-form-urlencoded (token endpoints, legacy APIs). */
  form?: Readonly<Record<string, string>>;
  /** A 2xx body must be JSON even if the server does not say so; if it is not, the attempt is retried. */
  expectJson?: boolean;
  /**
   * Judges a 2xx response whose body may still report a failure (GraphQL answers errors, and
   * throttling, with 200): undefined when it is usable. A retriable problem is retried like a
   * 503, after `waitMs` when given; any other fails the request.
   */
  check?: (response: HttpResponse) => BodyProblem | undefined;
}

/** What a request's `check` found wrong with a 2xx body, or the client's `errorCheck` in an error answer. */
export interface BodyProblem {
  detail: string;
  /**
   * `true`: retried like a 503 (after `waitMs` when given); `false`: the request fails;
   * `'later'`: not worth retrying within the run, though a later run may succeed (a daily
   * allowance used up): the request fails at once as retriable, so the run exits 75.
   */
  retriable: boolean | 'later';
  waitMs?: number;
}

/**
 * Paces a run's requests by what responses say about the vendor's budget (a GraphQL cost
 * bucket): shared by every client of a run, so all streams draw on one budget.
 */
export interface Pacer {
  /** Resolves when the next request may leave; rejects when `signal` aborts. */
  beforeRequest(signal?: AbortSignal): Promise<void>;
  /** Every response that arrived, 2xx or not. */
  afterResponse(response: HttpResponse): void;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". Decoded bodies drop content-encoding and content-length. */
  readonly headers: Readonly<Record<string, string>>;
  /** The URL requested, without credentials added by the auth provider. */
  readonly url: string;
  /** Decompressed body bytes. */
  readonly body: Buffer;
  text(): string;
  /** Lossless JSON (integers beyond 2^53 kept as LosslessNumber); throws JsonSyntaxError when not JSON. */
  json(): JsonValue;
}

/** What an auth provider may change before an attempt: headers (lower-case names) and the URL's query. */
export interface AuthTarget {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers: Record<string, string>;
}

/** What the client lends to auth providers. */
export interface AuthContext {
  /** Sends a request without the provider's credentials, through the client's retries, budget and cassette. */
  send(request: HttpRequest): Promise<HttpResponse>;
  /** The client's clock (ms since epoch), injectable in tests. */
  now(): number;
}
