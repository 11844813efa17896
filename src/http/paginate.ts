import { SourceError } from '../errors.js';
import { isJsonObject, LosslessNumber, stringifyJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { HttpClient } from './client.js';
import { formatBound, type BoundFormat } from './incremental.js';
import { withParam, type ParamsIn } from './params.js';
import type { HttpRequest, HttpResponse } from './types.js';

export { withParam, type ParamsIn } from './params.js';

/**
 * Pagination as data. A style says where the next page is (a cursor in the body, a
 * `Link: rel="next"` header, a next URL in the body, an offset, a page number, or the
 * replication key itself: keyset); the planners below are pure (page in, next request or
 * stop out) and `paginate` is the one loop that sends them. A cursor, URL or keyset bound
 * seen twice is a loop and fails the stream at once, naming it.
 */

export interface PaginationCommon {
  /** Query (or body) parameter carrying the page size, e.g. `limit`. */
  limitParam?: string;
  pageSize?: number;
  /** Dotted path to a boolean in the body; `false` there ends the stream (e.g. `has_more`, `meta.has_next`). */
  hasMorePath?: string;
  /** A page with fewer records than `pageSize` is the last. Default: true for offset, page and keyset styles, false otherwise. */
  stopOnShortPage?: boolean;
  /** Where paging parameters go (default the query string; `body` for POST search endpoints). */
  paramsIn?: ParamsIn;
}

export type PaginationStyle = PaginationCommon &
  (
    | { type: 'none' }
    /** The body holds an opaque cursor (`cursorPath`), sent back in `cursorParam`. */
    | { type: 'cursor'; cursorPath: string; cursorParam: string }
    /** RFC 8288 `Link: <url>; rel="next"` (GitHub, Shopify...). */
    | { type: 'link_header' }
    /** The body holds the next page's URL, absolute or relative to the current one. */
    | { type: 'next_url'; nextUrlPath: string }
    | { type: 'offset'; offsetParam: string; startOffset?: number }
    | { type: 'page'; pageParam: string; startPage?: number }
    /**
     * Keyset paging on the replication key, for data that changes while it is read: each
     * page asks again for `key >= last value seen` (records sorted ascending by the key), so
     * a record updated meanwhile moves past the bound and is read later instead of shifting
     * an unread record out of reach as offset paging does. `offsetParam` skips the records
     * already read at exactly the bound; without it a page full of one value is a loop.
     */
    | { type: 'keyset'; keyPath: string; param: string; format: BoundFormat; offsetParam?: string }
    /**
     * The next page starts after the last record of this one: its value at `keyPath` (an id)
     * is sent in `param` (`starting_after`), the rest of the request unchanged.
     */
    | { type: 'after_last'; keyPath: string; param: string }
  );

/** Where the planner is: counters for offset and page styles. */
export interface PagePosition {
  /** 0 for the first page. */
  index: number;
  offset: number;
  page: number;
  /** Keyset style: the bound the current request carries. */
  keysetBound?: string | number;
}

/** What a planner needs of a page that arrived. */
export interface PageView {
  body: JsonValue;
  headers: Readonly<Record<string, string>>;
  /** The URL the page came from, to resolve relative next links. */
  url: string;
  recordCount: number;
  /** The page's records; the keyset style reads the last key from them. */
  records?: readonly JsonObject[];
}

export type NextStep =
  | { done: true; reason: 'single' | 'empty' | 'has_more' | 'short' | 'no_next' }
  /** `token` is the cursor or URL that leads there, for loop detection (undefined for counters). */
  | { done: false; request: HttpRequest; position: PagePosition; token: string | undefined };

export interface Page {
  index: number;
  request: HttpRequest;
  response: HttpResponse;
  body: JsonValue;
  /** The objects at `recordsPath` (the body itself when no path is given). */
  records: JsonObject[];
}

export interface PaginateOptions {
  /** Names the stream in errors. */
  stream: string;
  /** Dotted path to the record array in each body (`data`, `result.items`); omitted: the body is the array. */
  recordsPath?: string | undefined;
  /** Checked between pages. */
  signal?: AbortSignal | undefined;
  /**
   * The API leaves the records path out of a body that has no records (an empty list as a
   * missing key). Otherwise a body without it is an error: an error envelope answered with
   * 200 must not pass for an empty page.
   */
  recordsOptional?: boolean | undefined;
  /**
   * The record as the stream keeps it, made from each object of a page before anything reads
   * it, the keyset planner included (its key may be one the shaping brings up).
   */
  shape?: ((object: JsonObject) => JsonObject) | undefined;
  /** Ask for the next page while this one is processed (default). False when the reader may stop early. */
  prefetch?: boolean | undefined;
}

/** The first page's request: the base request plus size and start counters. */
export function firstPage(base: HttpRequest, style: PaginationStyle): { request: HttpRequest; position: PagePosition } {
  const where = style.paramsIn ?? 'query';
  let request = base;
  if (style.type !== 'none' && style.limitParam !== undefined && style.pageSize !== undefined) {
    request = withParam(request, where, style.limitParam, style.pageSize);
  }
  const position: PagePosition = { index: 0, offset: 0, page: 0 };
  if (style.type === 'offset') {
    position.offset = style.startOffset ?? 0;
    request = withParam(request, where, style.offsetParam, position.offset);
  } else if (style.type === 'page') {
    position.page = style.startPage ?? 1;
    request = withParam(request, where, style.pageParam, position.page);
  }
  return { request, position };
}

/** Decides, from the page that arrived, whether there is another and how to ask for it. Pure. */
export function nextPage(base: HttpRequest, current: HttpRequest, style: PaginationStyle, position: PagePosition, page: PageView): NextStep {
  if (style.type === 'none') return { done: true, reason: 'single' };
  if (page.recordCount === 0) return { done: true, reason: 'empty' };
  if (style.hasMorePath !== undefined && valueAt(page.body, style.hasMorePath) === false) return { done: true, reason: 'has_more' };
  const shortStops = style.stopOnShortPage ?? (style.type === 'offset' || style.type === 'page' || style.type === 'keyset');
  if (shortStops && style.pageSize !== undefined && page.recordCount < style.pageSize) return { done: true, reason: 'short' };
  const where = style.paramsIn ?? 'query';
  const index = position.index + 1;
  switch (style.type) {
    case 'offset': {
      const offset = position.offset + page.recordCount;
      return { done: false, request: withParam(current, where, style.offsetParam, offset), position: { ...position, index, offset }, token: undefined };
    }
    case 'page': {
      const n = position.page + 1;
      return { done: false, request: withParam(current, where, style.pageParam, n), position: { ...position, index, page: n }, token: undefined };
    }
    case 'cursor': {
      const cursor = scalarText(valueAt(page.body, style.cursorPath));
      if (cursor === undefined) return { done: true, reason: 'no_next' };
      // From the base request, not the current one: only the cursor changes between pages.
      const sized = style.limitParam !== undefined && style.pageSize !== undefined ? withParam(base, where, style.limitParam, style.pageSize) : base;
      return { done: false, request: withParam(sized, where, style.cursorParam, cursor), position: { ...position, index }, token: cursor };
    }
    case 'keyset': {
      const last = page.records?.[page.recordCount - 1];
      const value = last === undefined ? undefined : valueAt(last, style.keyPath);
      if (value === undefined || value === null) return { done: true, reason: 'no_next' };
      const bound = formatBound(value, style.format);
      // Records already read at exactly this bound (as the API sees it, after formatting).
      let atBound = 0;
      for (const r of page.records ?? []) {
        const v = valueAt(r, style.keyPath);
        if (v !== undefined && v !== null && formatBound(v, style.format) === bound) atBound++;
      }
      const offset = String(bound) === String(position.keysetBound) ? position.offset + atBound : atBound;
      let request = withParam(current, where, style.param, bound);
      if (style.offsetParam !== undefined) request = withParam(request, where, style.offsetParam, offset);
      const token = style.offsetParam === undefined ? String(bound) : `${String(bound)} +${offset}`;
      return { done: false, request, position: { ...position, index, offset, keysetBound: bound }, token };
    }
    case 'after_last': {
      const last = page.records?.[page.recordCount - 1];
      const value = scalarText(last === undefined ? undefined : valueAt(last, style.keyPath));
      if (value === undefined) return { done: true, reason: 'no_next' };
      return { done: false, request: withParam(current, where, style.param, value), position: { ...position, index }, token: value };
    }
    case 'link_header':
    case 'next_url': {
      const link = style.type === 'link_header' ? parseLinkHeader(page.headers['link'] ?? '')['next'] : scalarText(valueAt(page.body, style.nextUrlPath));
      if (link === undefined) return { done: true, reason: 'no_next' };
      const url = new URL(link, page.url).toString();
      // The link carries every parameter itself; the base query would repeat them.
      const { query: _query, ...rest } = base;
      return { done: false, request: { ...rest, path: url }, position: { ...position, index }, token: url };
    }
  }
}

/** Sends the pages of one listing, one at a time (the consumer sets the pace). */
export async function* paginate(client: HttpClient, base: HttpRequest, style: PaginationStyle, options: PaginateOptions): AsyncGenerator<Page> {
  const seen = new Set<string>();
  let { request, position } = firstPage(base, style);
  let previousBody: Buffer | undefined;
  // Cursors and links are checked by value; counters only show a loop as a repeated page.
  const counted = style.type === 'offset' || style.type === 'page';
  let next = fetchPage(client, request);
  for (;;) {
    if (options.signal?.aborted) return;
    const response = await next;
    const body = response.json();
    const listed = recordsAt(body, options.recordsPath, options.stream, options.recordsOptional === true);
    const records = options.shape === undefined ? listed : listed.map(options.shape);
    if (counted && previousBody !== undefined && records.length > 0 && response.body.equals(previousBody)) {
      // An API that ignores the offset or page parameter returns the same page for ever.
      throw new SourceError(`stream ${options.stream}: pagination loop: page ${position.index + 1} is identical to the page before it (is the ${describeStyle(style)} parameter ignored?)`);
    }
    previousBody = response.body;
    const step = nextPage(base, request, style, position, { body, headers: response.headers, url: response.url, recordCount: records.length, records });
    const loop = !step.done && step.token !== undefined && seen.has(step.token);
    if (!step.done && !loop) {
      if (step.token !== undefined) seen.add(step.token);
      // Ask for the next page now: the network works while this page's records are written.
      // Not when the consumer may stop early (a listing read down to a bookmark): a page
      // asked for ahead would be wasted on every run.
      if (options.prefetch !== false) {
        next = fetchPage(client, step.request);
        await letRequestLeave();
      }
    }
    yield { index: position.index, request, response, body, records };
    if (step.done) return;
    if (loop) {
      throw new SourceError(`stream ${options.stream}: pagination loop: the ${describeStyle(style)} ${JSON.stringify(step.token)} came back a second time`);
    }
    request = step.request;
    position = step.position;
    if (options.prefetch === false) next = fetchPage(client, request);
  }
}

/**
 * undici writes a request on a reused keep-alive connection only from a setImmediate callback
 * (it first lets the event loop notice a connection the server closed meanwhile). Records are
 * processed in one run of microtasks that never reaches that phase, so without this turn the
 * prefetched request would leave only once the page was done. Two turns: the first lets the
 * request be dispatched behind its credentials, the second comes after undici's own.
 */
function letRequestLeave(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Starts a page request; a failure surfaces when the page is awaited, not as an unhandled rejection. */
function fetchPage(client: HttpClient, request: HttpRequest): Promise<HttpResponse> {
  const pending = client.request({ ...request, expectJson: true });
  pending.catch(() => undefined);
  return pending;
}

/** The records of every page, in order. */
export async function* paginateRecords(client: HttpClient, base: HttpRequest, style: PaginationStyle, options: PaginateOptions): AsyncGenerator<JsonObject> {
  for await (const page of paginate(client, base, style, options)) yield* page.records;
}

/**
 * The objects at a dotted path of a body; a missing path (unless `optional`) or a non-object
 * item is the source's error, quoting the start of the body so an error envelope says what it is.
 */
export function recordsAt(body: JsonValue, path: string | undefined, stream: string, optional = false): JsonObject[] {
  const value = path === undefined || path === '' ? body : valueAt(body, path);
  const where = path === undefined || path === '' ? 'the response body' : `"${path}"`;
  if (value === undefined || value === null) {
    if (optional && path !== undefined && path !== '' && isJsonObject(body)) return [];
    throw new SourceError(
      `stream ${stream}: ${where} holds no records (got ${value === null ? 'null' : 'nothing'}) in a body starting ${JSON.stringify(stringifyJson(body).slice(0, 200))}` +
        (path !== undefined && path !== '' ? '; if the API leaves it out when there is nothing, say "records_optional": true' : ''),
    );
  }
  if (!Array.isArray(value)) throw new SourceError(`stream ${stream}: ${where} is not an array of records`);
  value.forEach((item, i) => {
    if (!isJsonObject(item)) throw new SourceError(`stream ${stream}: ${where}[${i}] is not an object`);
  });
  return value as JsonObject[];
}

/** Value at a dotted path (`meta.next`, `items.0.id`); undefined when any step is missing. */
export function valueAt(value: JsonValue | undefined, path: string): JsonValue | undefined {
  let current = value;
  for (const step of path.split('.')) {
    if (current === undefined || current === null) return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(step)) return undefined;
      current = current[Number(step)];
    } else if (isJsonObject(current)) {
      current = Object.hasOwn(current, step) ? current[step] : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

/** `<url>; rel="next", <url2>; rel="last"` → `{next: url, last: url2}`. */
export function parseLinkHeader(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const url = match[1] ?? '';
    for (const param of (match[2] ?? '').split(';')) {
      const m = /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param);
      if (!m) continue;
      for (const rel of (m[1] ?? '').split(/\s+/)) if (rel !== '' && !(rel.toLowerCase() in out)) out[rel.toLowerCase()] = url;
    }
  }
  return out;
}

function scalarText(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return String(value);
  if (value instanceof LosslessNumber) return value.text;
  return undefined;
}

function describeStyle(style: PaginationStyle): string {
  switch (style.type) {
    case 'cursor':
      return `cursor (${style.cursorPath})`;
    case 'link_header':
      return 'next link';
    case 'next_url':
      return `next URL (${style.nextUrlPath})`;
    case 'offset':
      return `offset (${style.offsetParam})`;
    case 'page':
      return `page (${style.pageParam})`;
    case 'keyset':
      return `keyset bound (${style.param})`;
    case 'after_last':
      return `last record's ${style.keyPath} (${style.param})`;
    case 'none':
      return 'page';
  }
}
