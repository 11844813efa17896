import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';

/**
 * Request templates: where a value of the run (the incremental bound, the parent's key) goes
 * inside a request, written the way the place needs it.
 *
 * - `{bookmark}` and `{parent}` in the path, in query values and in the strings
 *   of a JSON body are replaced by the value, quoted for the language of that text (`soql`:
 *   `WHERE SystemModstamp >= {bookmark}`; `search`: `updated_at:>={bookmark}` in a Shopify or
 *   GitHub search query).
 * - A JSON body string that is exactly one placeholder becomes the value itself, a number
 *   staying a number (`"variables": {"since": "{bookmark}"}`).
 * - `[[ … ]]` marks an optional part, dropped whole when a placeholder in it has no value
 *   (the first run has no bookmark: `SELECT … FROM Contact[[ WHERE SystemModstamp >= {bookmark}]]`).
 *
 * Only these names are placeholders, so GraphQL's own braces (`{ orders { id } }`) and any
 * other brace in a request stay as written. Paging after the last record is a paging style
 * (`after_last`), not a placeholder: it needs the previous page, which a template has not. Pure.
 */

/** The values a request may name. */
export interface TemplateValues {
  bookmark?: string | number | undefined;
  parent?: string | number | undefined;
}

/** How a value is written into text: as it is, or quoted for a query language. */
export type Quoting = 'none' | 'soql' | 'search';

export const QUOTINGS: readonly Quoting[] = ['none', 'soql', 'search'];

const PLACEHOLDER = /\{(bookmark|parent)\}/g;
const WHOLE = /^\{(bookmark|parent)\}$/;
const OPTIONAL = /\[\[([\s\S]*?)\]\]/g;

/** Whether a text holds a placeholder at all (then the request is a template). */
export function hasPlaceholder(text: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  return PLACEHOLDER.test(text) || text.includes('[[');
}

/** Fills a text; a placeholder without a value outside `[[ ]]` is an error naming it. */
export function fillText(template: string, values: TemplateValues, quoting: Quoting): string {
  const withOptional = template.replace(OPTIONAL, (_all, inner: string) => {
    for (const m of inner.matchAll(PLACEHOLDER)) if (lookup(values, m[1] as string) === undefined) return '';
    return inner;
  });
  return withOptional.replace(PLACEHOLDER, (_all, name: string) => {
    const value = lookup(values, name);
    if (value === undefined) throw new TemplateError(`{${name}} has no value here; put the part that uses it in [[ ]] to leave it out`);
    return quote(value, quoting);
  });
}

/** Fills every string of a JSON body; a string that is one placeholder becomes the raw value. */
export function fillJson(template: JsonValue, values: TemplateValues, quoting: Quoting): JsonValue {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) {
      const value = lookup(values, whole[1] as string);
      if (value === undefined) return null;
      return value;
    }
    return fillText(template, values, quoting);
  }
  if (Array.isArray(template)) return template.map((v) => fillJson(v, values, quoting));
  if (isJsonObject(template)) {
    const out: JsonObject = {};
    for (const key of Object.keys(template)) out[key] = fillJson(template[key] as JsonValue, values, quoting);
    return out;
  }
  return template;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

function lookup(values: TemplateValues, name: string): string | number | undefined {
  return name === 'bookmark' ? values.bookmark : values.parent;
}

/**
 * A value written into text. SOQL: numbers and date-times bare (its date-time literals take no
 * quotes), other text in single quotes with `\` and `'` escaped. Search syntax: always single
 * quotes, `\` and `'` escaped, so a value can never end the term early.
 */
export function quote(value: string | number, quoting: Quoting): string {
  const text = String(value);
  switch (quoting) {
    case 'none':
      return text;
    case 'soql':
      if (typeof value === 'number' || SOQL_DATE_TIME.test(text) || SOQL_DATE.test(text)) return text;
      return `'${escapeQuoted(text)}'`;
    case 'search':
      return `'${escapeQuoted(text)}'`;
  }
}

const SOQL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const SOQL_DATE = /^\d{4}-\d{2}-\d{2}$/;

function escapeQuoted(text: string): string {
  return text.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
