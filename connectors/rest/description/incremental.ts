import { BOUND_FORMATS, type BoundFormat, type IncrementalRule } from '../../../src/http/incremental.js';
import type { ParamsIn } from '../../../src/http/paginate.js';
import type { JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';

/** `streams[].incremental`: where and how the bound of an incremental read goes. */

const INCREMENTAL_KEYS = ['param', 'format', 'in', 'lookback_minutes', 'client_filter'];

export function parseIncremental(c: Checker, raw: JsonValue | undefined, at: string, replicationKey: string | undefined): IncrementalRule | undefined {
  if (raw === undefined) {
    // A replication key alone: the API cannot filter, records are filtered here.
    return replicationKey === undefined ? undefined : { format: 'iso8601' };
  }
  if (!c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, INCREMENTAL_KEYS);
  if (replicationKey === undefined) c.problem(at, 'needs a replication_key on the stream');
  const param = c.string(raw['param'], `${at}.param`, false);
  const format = (c.oneOf(raw['format'], `${at}.format`, BOUND_FORMATS, false) ?? 'iso8601') as BoundFormat;
  const where = c.oneOf(raw['in'], `${at}.in`, ['query', 'body'], false) as ParamsIn | undefined;
  const lookback = c.number(raw['lookback_minutes'], `${at}.lookback_minutes`, 0);
  const clientFilter = c.boolean(raw['client_filter'], `${at}.client_filter`);
  return { param, format, in: where, lookbackMinutes: lookback, clientFilter };
}

