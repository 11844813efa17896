import type { ErrorRule } from '../../../src/http/error-rules.js';
import type { JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import { parseCondition } from './deletes.js';

/**
 * `errors`: error answers whose body says what they mean, beyond their status (Salesforce's
 * 403 REQUEST_LIMIT_EXCEEDED): `{"status": 403, "path": "0.errorCode", "equals": "…",
 * "then": "retry" | "later", "reason": "…"}`, checked in order, the first match deciding.
 */

export const ERROR_ACTIONS = ['retry', 'later'] as const;

export function parseErrorRules(c: Checker, raw: JsonValue | undefined, at: string): ErrorRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length === 0) {
    c.problem(at, 'must be a non-empty array of {"status", "path", "equals" | "in", "then"}');
    return [];
  }
  const rules: ErrorRule[] = [];
  raw.forEach((item, i) => {
    const here = `${at}[${i}]`;
    if (!c.object(item, here)) return;
    c.unknownKeys(item, here, ['status', 'path', 'equals', 'in', 'then', 'reason']);
    const statuses = parseStatuses(c, item['status'], `${here}.status`);
    const condition = parseCondition(c, item, here);
    const then = c.oneOf(item['then'], `${here}.then`, ERROR_ACTIONS, true) as ErrorRule['then'] | undefined;
    const reason = c.string(item['reason'], `${here}.reason`, false);
    if (condition === undefined || then === undefined || statuses === null) return;
    rules.push({ statuses, path: condition.path, values: condition.values, then, reason });
  });
  return rules;
}

/** One error status or a list of them; undefined: any; null: wrong (reported). */
function parseStatuses(c: Checker, raw: JsonValue | undefined, at: string): number[] | undefined | null {
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  const ok = list.length > 0 && list.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599);
  if (!ok) {
    c.problem(at, 'an error status (400 to 599) or a list of them');
    return null;
  }
  return list as number[];
}
