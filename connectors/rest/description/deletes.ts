import type { JsonObject, JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import type { DeletedRule } from './types.js';

/**
 * `streams[].deleted_when`: the condition that makes a record a deletion (`IsDeleted` true in a
 * Salesforce `queryAll`, `archived` true in HubSpot, `status` "archived" in Mailchimp), so the
 * row is marked deleted (`_sdc_deleted_at`) instead of staying live.
 */

/** Also `streams[].keep_when`, the same shape: only records that meet it are kept. */
export function parseDeletedWhen(c: Checker, raw: JsonValue | undefined, at: string): DeletedRule | undefined {
  if (raw === undefined || !c.object(raw, at)) return undefined;
  c.unknownKeys(raw, at, ['path', 'equals', 'in']);
  return parseCondition(c, raw, at);
}

/** `path` with `equals` or `in`, the one form of condition the language has (its object's other keys are the caller's). */
export function parseCondition(c: Checker, raw: JsonObject, at: string): DeletedRule | undefined {
  const path = c.string(raw['path'], `${at}.path`, true);
  const equals = raw['equals'];
  const among = raw['in'];
  if ((equals === undefined) === (among === undefined)) {
    c.problem(at, 'give "equals" (one value) or "in" (a list of values) to compare the value at "path" with');
    return undefined;
  }
  if (among !== undefined && (!Array.isArray(among) || among.length === 0)) {
    c.problem(`${at}.in`, 'must be a non-empty list of values');
    return undefined;
  }
  if (path === undefined) return undefined;
  return { path, values: equals !== undefined ? [equals] : (among as JsonValue[]) };
}
