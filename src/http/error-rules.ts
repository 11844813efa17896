import { stringifyJson, type JsonValue } from '../protocol/json.js';
import { valueAt } from './paginate.js';
import type { BodyProblem, HttpResponse } from './types.js';

/**
 * Error answers whose body says more than their status. Salesforce answers 403 both for what
 * the user may not do and for its limits (`[{"errorCode": "REQUEST_LIMIT_EXCEEDED", …}]`): by
 * the status alone a passing limit would fail the run like a missing permission, and a spent
 * daily allowance would be retried for nothing. A connector declares rules as data; the first
 * that matches an error answer decides, and an answer no rule matches goes by its status.
 */

export interface ErrorRule {
  /** The statuses the rule applies to; undefined: every error answer. */
  statuses: readonly number[] | undefined;
  /** Dotted path in the JSON body (`0.errorCode`: a number steps into a list). */
  path: string;
  /** The values that match, compared as JSON. */
  values: readonly JsonValue[];
  /** `retry`: a passing condition, retried with backoff like a 503; `later`: not within this run, a later run may succeed. */
  then: 'retry' | 'later';
  /** What the answer means, for the error and the log; undefined: the value that matched. */
  reason: string | undefined;
}

/** The client's `errorCheck` for a list of rules: undefined for an answer none matches (or whose body is not JSON). */
export function errorRulesCheck(rules: readonly ErrorRule[]): ((response: HttpResponse) => BodyProblem | undefined) | undefined {
  if (rules.length === 0) return undefined;
  const wanted = rules.map((rule) => new Set(rule.values.map((v) => stringifyJson(v))));
  return (response) => {
    let body: JsonValue;
    try {
      body = response.json();
    } catch {
      return undefined;
    }
    for (const [i, rule] of rules.entries()) {
      if (rule.statuses !== undefined && !rule.statuses.includes(response.status)) continue;
      const value = valueAt(body, rule.path);
      if (value === undefined || !wanted[i]?.has(stringifyJson(value))) continue;
      const detail = rule.reason ?? `${rule.path} is ${stringifyJson(value)}`;
      return { detail, retriable: rule.then === 'retry' ? true : 'later' };
    }
    return undefined;
  };
}
