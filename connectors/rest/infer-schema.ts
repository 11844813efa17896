import { parseInstant } from '../../src/protocol/instant.js';
import { isJsonObject, LosslessNumber, type JsonObject, type JsonValue } from '../../src/protocol/json.js';

/**
 * A JSON Schema guessed from sample records (the first page) when the description gives
 * none: the type of each top-level property. Every property but the primary keys is nullable, and
 * nested objects and arrays stay open, since one page cannot show everything a later page
 * may hold. Date-time strings get `format: date-time` so targets can compare them as instants.
 */
export function inferSchema(records: readonly JsonObject[], keys: readonly string[], present: readonly string[] = []): JsonObject {
  const seen = new Map<string, Set<string>>();
  const allDates = new Map<string, boolean>();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      const kind = kindOf(value);
      let kinds = seen.get(name);
      if (!kinds) seen.set(name, (kinds = new Set()));
      kinds.add(kind);
      if (kind === 'string') allDates.set(name, (allDates.get(name) ?? true) && looksLikeDateTime(value as string));
    }
  }
  const notNull = new Set(keys);
  const properties: JsonObject = {};
  for (const [name, kinds] of seen) {
    const types = [...kinds].filter((k) => k !== 'null');
    // An integer column that also saw decimals is a number column.
    const merged = types.includes('number') ? types.filter((t) => t !== 'integer') : types;
    const nullable = !notNull.has(name) || kinds.has('null');
    const type = nullable ? [...merged.sort(), 'null'] : merged.sort();
    const property: JsonObject = merged.length === 0 ? {} : { type: type.length === 1 ? (type[0] as string) : type };
    if (merged.length === 1 && merged[0] === 'string' && allDates.get(name) === true) property['format'] = 'date-time';
    properties[name] = property;
  }
  // Keys and the replication key exist even when the sample lacks them.
  for (const name of [...keys, ...present]) if (!(name in properties)) properties[name] = {};
  return { type: 'object', properties };
}

function kindOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (value instanceof LosslessNumber) return /^-?\d+$/.test(value.text) ? 'integer' : 'number';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (Array.isArray(value)) return 'array';
  if (isJsonObject(value)) return 'object';
  return typeof value;
}

function looksLikeDateTime(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text) && parseInstant(text) !== undefined;
}
