import { formatInstant, parseInstant } from '../protocol/instant.js';
import { LosslessNumber, type JsonObject, type JsonValue } from '../protocol/json.js';
import { compareBookmarkValues } from '../protocol/state.js';
import { withParam, type ParamsIn } from './params.js';
import type { Quoting } from './template.js';
import type { HttpRequest } from './types.js';

/**
 * Incremental reads against an HTTP API, pure: the lower bound of a run (the bookmark, or
 * `start_date` on the first run, moved back by the lookback window), that bound written in
 * the form the API wants, and the client-side filter for APIs that cannot filter.
 * Bounds are inclusive (`>=`): records sharing the bookmark's timestamp are read again, never lost.
 */

/** How the API wants the bound: RFC 3339 UTC (milliseconds at most), `YYYY-MM-DD`, Unix seconds or milliseconds, or the bookmark as it is. */
export type BoundFormat = 'iso8601' | 'date' | 'epoch_seconds' | 'epoch_ms' | 'raw';

export const BOUND_FORMATS: readonly BoundFormat[] = ['iso8601', 'date', 'epoch_seconds', 'epoch_ms', 'raw'];

export interface IncrementalRule {
  /** Parameter the API filters on (`updated_since`); undefined when it cannot filter: records are filtered here. */
  param?: string | undefined;
  format: BoundFormat;
  in?: ParamsIn | undefined;
  /** Re-read this many minutes before the bookmark (late writes, clock skew). */
  lookbackMinutes?: number | undefined;
  /** Filter records client-side even though the API filters (it rounds, or ignores the parameter). */
  clientFilter?: boolean | undefined;
  /** The request writes the bound itself where `{bookmark}` stands (template.ts): the API filters. */
  template?: boolean | undefined;
  /** How the bound is written into that text (SOQL, search syntax). */
  quoting?: Quoting | undefined;
  /**
   * The listing comes newest first by the replication key and cannot be filtered: the read
   * ends at the first record below the bound instead of listing everything each run.
   */
  newestFirst?: boolean | undefined;
}

/**
 * The inclusive lower bound for this run, in the bookmark's own kind (date-time text or
 * number), or undefined to read everything. The lookback applies to bookmarks only: a
 * first run starts at `start_date` exactly.
 */
export function lowerBound(bookmark: JsonValue | undefined, startDate: string | undefined, rule: IncrementalRule): JsonValue | undefined {
  if (bookmark === undefined || bookmark === null) return startDate;
  const minutes = rule.lookbackMinutes ?? 0;
  if (minutes <= 0) return bookmark;
  if (typeof bookmark === 'string') {
    const micros = parseInstant(bookmark);
    return micros === undefined ? bookmark : formatInstant(micros - minutes * 60_000_000);
  }
  if (typeof bookmark === 'number' || bookmark instanceof LosslessNumber) {
    const n = Number(bookmark);
    if (rule.format === 'epoch_seconds') return n - minutes * 60;
    if (rule.format === 'epoch_ms') return n - minutes * 60_000;
  }
  return bookmark;
}

/** The bound written as the API wants it; throws when the bookmark's kind does not fit the format. */
export function formatBound(bound: JsonValue, format: BoundFormat): string | number {
  if (format === 'raw') {
    if (typeof bound === 'string' || typeof bound === 'number') return bound;
    if (bound instanceof LosslessNumber) return bound.text;
    throw new TypeError(`cannot send ${JSON.stringify(bound)} as a parameter`);
  }
  const micros = toMicros(bound, format);
  if (micros === undefined) throw new TypeError(`${JSON.stringify(bound instanceof LosslessNumber ? bound.text : bound)} is not a date-time, cannot send it as ${format}`);
  switch (format) {
    case 'iso8601': {
      // Milliseconds at most, which every API parses; rounded down, so the bound only widens.
      const text = formatInstant(Math.floor(micros / 1000) * 1000);
      return text.endsWith('.000000Z') ? `${text.slice(0, 19)}Z` : `${text.slice(0, 23)}Z`;
    }
    case 'date':
      // Rounded down: the API then returns a little too much, never too little.
      return formatInstant(micros).slice(0, 10);
    case 'epoch_seconds':
      return Math.floor(micros / 1_000_000);
    case 'epoch_ms':
      return Math.floor(micros / 1000);
  }
}

/** The request with the bound added (nothing added without a bound or a parameter). */
export function withBound(request: HttpRequest, bound: JsonValue | undefined, rule: IncrementalRule): HttpRequest {
  if (bound === undefined || bound === null || rule.param === undefined) return request;
  return withParam(request, rule.in ?? 'query', rule.param, formatBound(bound, rule.format));
}

/** Whether the client has to drop records older than the bound itself. */
export function filtersClientSide(rule: IncrementalRule): boolean {
  return (rule.param === undefined && rule.template !== true) || rule.clientFilter === true;
}

/**
 * `record[key] >= bound`, comparing date-times as instants and numbers exactly. Records
 * without a value are kept: dropping them would lose data silently.
 */
export function atOrAfter(record: JsonObject, key: string, bound: JsonValue | undefined): boolean {
  if (bound === undefined || bound === null) return true;
  const value = record[key];
  if (value === undefined || value === null) return true;
  return compareBookmarkValues(value, bound) >= 0;
}

/** A bookmark value as epoch microseconds: an instant, or a number in the format's epoch unit. */
export function toMicros(value: JsonValue, format: BoundFormat): number | undefined {
  if (typeof value === 'string') return parseInstant(value);
  if (typeof value === 'number' || value instanceof LosslessNumber) {
    const n = Number(value);
    // A numeric bookmark is the API's own epoch value: its unit is the format's.
    if (format === 'epoch_ms') return n * 1000;
    if (format === 'epoch_seconds') return n * 1_000_000;
  }
  return undefined;
}
