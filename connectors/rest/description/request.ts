import { QUOTINGS, type Quoting } from '../../../src/http/template.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import type { RestGraphql } from './types.js';

/**
 * `streams[].graphql`: the stream is a GraphQL query, sent as a POST of `{query, variables}`
 * to `path`; errors in the 200 body fail the request (codes in `retriable_codes`, THROTTLED by
 * default, are retried once the cost bucket has refilled) and the run's queries are paced by
 * the cost the server reports.
 */
export function parseGraphql(c: Checker, raw: JsonValue | undefined, at: string): RestGraphql | undefined {
  if (raw === undefined || !c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, ['query', 'variables', 'retriable_codes']);
  const query = c.string(raw['query'], `${at}.query`, true);
  const variables = raw['variables'] === undefined ? {} : c.object(raw['variables'], `${at}.variables`) ? raw['variables'] : undefined;
  const codes = raw['retriable_codes'];
  let retriableCodes = ['THROTTLED'];
  if (codes !== undefined) {
    if (Array.isArray(codes) && codes.every((x) => typeof x === 'string')) retriableCodes = codes;
    else c.problem(`${at}.retriable_codes`, 'must be a list of error codes (extensions.code), e.g. ["THROTTLED"]');
  }
  if (query === undefined || variables === undefined) return undefined;
  return { query, variables, retriableCodes };
}

/** Whether the request (path, params, body, GraphQL variables) writes the bound itself: `{bookmark}`. */
export function requestUsesBookmark(path: string, params: Record<string, string | number | boolean>, body: JsonObject | undefined): boolean {
  const texts: string[] = [path];
  for (const v of Object.values(params)) if (typeof v === 'string') texts.push(v);
  collectStrings(body, texts);
  return texts.some((t) => t.includes('{bookmark}'));
}

/**
 * Names a `{last.<path>}` in the request: it looks like a placeholder but is none, and would be
 * sent as written. Starting a page after the last record is the `after_last` paging style.
 */
export function checkNoLastPlaceholder(c: Checker, path: string, params: Record<string, string | number | boolean>, body: JsonObject | undefined, at: string): void {
  const texts: string[] = [path];
  for (const v of Object.values(params)) if (typeof v === 'string') texts.push(v);
  collectStrings(body, texts);
  const found = texts.map((t) => /\{last\.[^}]*\}/.exec(t)?.[0]).find((m) => m !== undefined);
  if (found !== undefined) {
    c.problem(at, `${found} is not a placeholder: to start each page after the last record, use "pagination": {"type": "after_last", "key_path": …, "param": …}`);
  }
}

export function parseQuoting(c: Checker, raw: JsonValue | undefined, at: string): Quoting | undefined {
  return c.oneOf(raw, at, QUOTINGS, false) as Quoting | undefined;
}

function collectStrings(value: JsonValue | undefined, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, into);
  else if (isJsonObject(value)) for (const v of Object.values(value)) collectStrings(v, into);
}
