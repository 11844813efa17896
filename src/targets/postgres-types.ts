import { isPlainUtc, normalizeInstant } from '../protocol/instant.js';
import { isJsonObject, LosslessNumber, stringifyJson, type JsonValue } from '../protocol/json.js';
import { columnKind, type ColumnKind } from '../protocol/schema.js';

/**
 * Column types of the PostgreSQL target and the COPY text of each value, chosen so that
 * nothing is lost:
 *
 * - integer and number → numeric. Exact at any size: ids beyond 64 bits exist (unsigned
 *   64-bit ids, 128-bit numbers written as integers), and a bigint column that had to be
 *   widened later would mean rewriting the whole table under an exclusive lock in the middle
 *   of a run. Users who want bigint cast (`id::bigint`) or declare the table themselves.
 * - date-time → timestamptz, written as fixed-width UTC (`normalizeInstant`), so the session's
 *   time zone never shifts a value without an offset. A value that is no instant is refused.
 * - boolean → boolean; string → text; object, array and anything untyped or mixed → jsonb
 *   (jsonb numbers are numeric, so they stay exact too).
 *
 * PostgreSQL text and jsonb cannot hold NUL, and UTF-8 cannot hold a lone UTF-16 surrogate:
 * each such character is stored as U+FFFD and counted, so the target can say how many.
 */

export type PgType = 'numeric' | 'boolean' | 'timestamp with time zone' | 'text' | 'jsonb' | 'bigint';

/**
 * The kind of a property for this target. As `columnKind`, except that a date-time whose
 * `anyOf`/`oneOf` also admits strings of no format is a string: any text is valid there, and
 * a timestamptz column would refuse records that passed validation.
 */
export function propertyKind(definition: JsonValue | undefined): ColumnKind {
  const kind = columnKind(definition);
  if (kind !== 'date-time' || !isJsonObject(definition)) return kind;
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = definition[combinator];
    if (!Array.isArray(options)) continue;
    for (const option of options) {
      if (isJsonObject(option) && admitsString(option) && option['format'] !== 'date-time') return 'string';
    }
  }
  return kind;
}

function admitsString(schema: { [key: string]: JsonValue }): boolean {
  const type = schema['type'];
  return type === 'string' || (Array.isArray(type) && type.includes('string'));
}

/** The type of a column created for a property of this kind. */
export function pgTypeOf(kind: ColumnKind): PgType {
  switch (kind) {
    case 'integer':
    case 'number':
      return 'numeric';
    case 'boolean':
      return 'boolean';
    case 'date-time':
      return 'timestamp with time zone';
    case 'string':
      return 'text';
    default:
      return 'jsonb';
  }
}

/**
 * The type a column of type `existing` must become to also hold values of type `wanted`, or
 * undefined when it holds them already. Never narrower: jsonb holds everything, text every
 * scalar; types this target does not create (a table made by hand) are left alone.
 */
export function widenedType(existing: string, wanted: PgType): PgType | undefined {
  if (existing === wanted || existing === 'jsonb') return undefined;
  if (wanted === 'jsonb') return 'jsonb';
  if (existing === 'text') return undefined;
  if (!OWN_TYPES.has(existing)) return undefined;
  return 'text';
}

/** The types this target gives property columns (bigint, its `_sdc_table_version`, never changes kind). */
const OWN_TYPES = new Set<string>(['numeric', 'boolean', 'timestamp with time zone', 'text', 'jsonb']);

/** The SQL that converts the values of a column to `type` in `ALTER … TYPE … USING`. */
export function conversionTo(type: PgType, column: string): string {
  return type === 'jsonb' ? `to_jsonb(${column})` : `${column}::${type}`;
}

/**
 * The expression that turns a staged value of type `staged` into one for a column of type
 * `column`: the column may be wider than the stream's schema says (widened by an earlier
 * schema or another writer).
 */
export function castFor(expression: string, staged: PgType, column: string): string {
  if (staged === column) return expression;
  if (column === 'jsonb') return `to_jsonb(${expression})`;
  return `${expression}::${column}`;
}

/** Counts characters replaced because PostgreSQL cannot store them. */
export interface Substitutions {
  count: number;
}

/** A value that cannot go into its column: the caller names the stream and property. */
export class ValueMismatch extends Error {
  override name = 'ValueMismatch';
}

export const NULL_FIELD = '\\N';

/**
 * The COPY text field of `value` in a column of `kind` (escaped, or `\N`); throws ValueMismatch
 * when it does not fit. One switch rather than a function per column: the call site stays
 * monomorphic, which measured faster on the per-record path.
 */
export function copyField(value: JsonValue | undefined, kind: ColumnKind, subs: Substitutions): string {
  switch (kind) {
    case 'integer':
    case 'number':
      return numberField(value);
    case 'boolean':
      return booleanField(value);
    case 'date-time':
      return dateTimeField(value);
    case 'string':
      return stringField(value, subs);
    default:
      return jsonField(value, subs);
  }
}

function numberField(value: JsonValue | undefined): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined || value === null) return NULL_FIELD;
  if (value instanceof LosslessNumber) return value.text;
  throw new ValueMismatch(`${preview(value)} is not a number`);
}

function booleanField(value: JsonValue | undefined): string {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value === undefined || value === null) return NULL_FIELD;
  throw new ValueMismatch(`${preview(value)} is not a boolean`);
}

function dateTimeField(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return NULL_FIELD;
  const instant = typeof value === 'string' ? utcInstant(value) : undefined;
  if (instant === undefined) throw new ValueMismatch(`${preview(value)} is not a date-time`);
  return instant;
}

/** Text holds any scalar as its JSON spelling, and objects as JSON text. */
function stringField(value: JsonValue | undefined, subs: Substitutions): string {
  if (typeof value === 'string') return copyText(value, subs);
  if (value === undefined || value === null) return NULL_FIELD;
  return copyText(typeof value === 'object' && !(value instanceof LosslessNumber) ? stringifyJson(value) : String(value), subs);
}

function jsonField(value: JsonValue | undefined, subs: Substitutions): string {
  if (value === undefined || value === null) return NULL_FIELD;
  return copyText(jsonText(value, subs), subs);
}

/**
 * The sortable version kept in `_sync_version`: date-times as fixed-width UTC text, so they
 * compare as instants; a string in a date-time property that is no instant ranks lowest ('').
 */
export function versionField(value: JsonValue | undefined, dateTime: boolean, numericColumn: boolean, subs: Substitutions): string {
  if (typeof value === 'string') {
    if (numericColumn) return NULL_FIELD;
    return copyText(utcInstant(value) ?? (dateTime ? '' : value), subs);
  }
  if (typeof value === 'number') return String(value);
  if (value instanceof LosslessNumber) return value.text;
  return NULL_FIELD;
}

/**
 * `normalizeInstant`, with a cheaper check of the common `YYYY-MM-DDTHH:MM:SS[.f]Z` form: every
 * record of a typical stream has two or three date-times, and this runs for each.
 */
export function utcInstant(text: string): string | undefined {
  if (!isPlainUtc(text) || !isRealDate(text)) return normalizeInstant(text);
  const n = text.length;
  if (n === 27) return text;
  return n === 20 ? `${text.slice(0, 19)}.000000Z` : text.slice(0, -1).padEnd(26, '0') + 'Z';
}

/** Month, day, hour, minute and second in range, for text `isPlainUtc` accepted (digits where digits belong). */
function isRealDate(text: string): boolean {
  const two = (at: number): number => (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
  const month = two(5);
  const day = two(8);
  if (month < 1 || month > 12 || day < 1 || two(11) > 23 || two(14) > 59 || two(17) > 60) return false;
  if (day <= 28) return true;
  const year = two(0) * 100 + two(2);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1] ?? 0);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Characters with a meaning in COPY text, and those PostgreSQL cannot store. */
const COPY_SPECIAL = /[\\\t\n\r\0\ud800-\udfff]/;
const COPY_REPLACE = /[\\\t\n\r\0]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string as a COPY text field: backslash escapes; NUL and lone surrogates become U+FFFD. */
export function copyText(text: string, subs: Substitutions): string {
  if (!COPY_SPECIAL.test(text)) return text;
  return text.replace(COPY_REPLACE, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '\t':
        return '\\t';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      default:
        subs.count++;
        return '\ufffd';
    }
  });
}

/**
 * JSON text jsonb accepts. JSON.stringify writes NUL as `\u0000` and a lone surrogate as its
 * `\udXXX` escape (a pair is written as the character itself), and jsonb refuses both: those
 * escapes become `\ufffd`. Escapes are read left to right, so `\\u0000` (an escaped backslash
 * followed by text) is left alone.
 */
export function jsonText(value: JsonValue, subs: Substitutions): string {
  const text = stringifyJson(value);
  if (!text.includes('\\u')) return text;
  return text.replace(/\\(?:u(?:0000|d[89a-f][0-9a-f]{2})|[^u]|u[0-9a-fA-F]{4})/g, (escape) => {
    if (escape === '\\u0000' || /^\\ud[89a-f]/.test(escape)) {
      subs.count++;
      return '\\ufffd';
    }
    return escape;
  });
}

function preview(value: JsonValue): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : stringifyJson(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
