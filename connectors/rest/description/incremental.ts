import { BOUND_FORMATS, type BoundFormat, type IncrementalRule } from '../../../src/http/incremental.js';
import type { ParamsIn } from '../../../src/http/paginate.js';
import type { JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import { parseQuoting } from './request.js';

/** `streams[].incremental`: where and how the bound of an incremental read goes. */

const INCREMENTAL_KEYS = ['param', 'format', 'in', 'lookback_minutes', 'client_filter', 'quoting', 'newest_first'];

/**
 * `inTemplate`: the request writes `{bookmark}` itself (a SOQL WHERE, a search query, a GraphQL
 * variable); then the bound goes there, and `param` is not needed.
 */
export function parseIncremental(c: Checker, raw: JsonValue | undefined, at: string, replicationKey: string | undefined, inTemplate = false): IncrementalRule | undefined {
  if (inTemplate && replicationKey === undefined) c.problem(at, '{bookmark} in the request needs a replication_key on the stream');
  if (raw === undefined) {
    // A replication key alone: the API cannot filter, records are filtered here.
    if (replicationKey === undefined) return undefined;
    return inTemplate ? { format: 'iso8601', template: true } : { format: 'iso8601' };
  }
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, INCREMENTAL_KEYS);
  if (replicationKey === undefined) c.problem(at, 'needs a replication_key on the stream');
  const param = c.string(raw['param'], `${at}.param`, false);
  const format = (c.oneOf(raw['format'], `${at}.format`, BOUND_FORMATS, false) ?? 'iso8601') as BoundFormat;
  const where = c.oneOf(raw['in'], `${at}.in`, ['query', 'body'], false) as ParamsIn | undefined;
  const lookback = c.number(raw['lookback_minutes'], `${at}.lookback_minutes`, 0);
  const clientFilter = c.boolean(raw['client_filter'], `${at}.client_filter`);
  const quoting = parseQuoting(c, raw['quoting'], `${at}.quoting`);
  const newestFirst = c.boolean(raw['newest_first'], `${at}.newest_first`) ?? false;
  if (quoting !== undefined && !inTemplate) c.problem(`${at}.quoting`, 'only for a request that writes {bookmark} itself (a query language in a parameter)');
  if (inTemplate && param !== undefined) c.problem(`${at}.param`, 'the request writes {bookmark} itself: leave out param, or the {bookmark}');
  return {
    param, format, in: where, lookbackMinutes: lookback, clientFilter,
    ...(inTemplate ? { template: true } : {}),
    ...(quoting === undefined ? {} : { quoting }),
    ...(newestFirst ? { newestFirst } : {}),
  };
}

