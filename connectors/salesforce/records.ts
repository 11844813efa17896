import { isRecordPage } from '../../src/connector/contract.js';
import { formatInstantParts, parseInstantParts } from '../../src/protocol/instant.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/protocol/json.js';

/**
 * One shape for a record, whichever path brought it. The REST API writes a date-time as
 * `2026-01-10T09:30:00.000+0000` and adds `attributes` (type and URL) to each record; an
 * outbound message writes `2026-01-10T09:30:00.000Z` and has no attributes. Both become
 * `…T09:30:00.000Z` (RFC 3339, UTC, the milliseconds Salesforce keeps), without attributes, so
 * `sync run` and `sync listen` leave the same row, field by field.
 */
export type Shape = (record: JsonObject) => JsonObject;

export function recordShape(schema: JsonObject | undefined): Shape {
  const properties = schema !== undefined && isJsonObject(schema['properties']) ? schema['properties'] : {};
  const dateTimes = new Set(Object.keys(properties).filter((name) => isDateTime(properties[name])));
  return (record) => {
    const out: JsonObject = {};
    for (const [name, value] of Object.entries(record)) {
      if (name === 'attributes') continue;
      out[name] = typeof value === 'string' && dateTimes.has(name) ? utcMillis(value) : value;
    }
    return out;
  };
}

/** A stream's pages (or records) in that shape. */
export async function* shaped(source: AsyncIterable<JsonObject | readonly JsonObject[]>, shape: Shape): AsyncGenerator<JsonObject | JsonObject[]> {
  for await (const item of source) yield isRecordPage(item) ? item.map(shape) : shape(item);
}

/** A date-time in UTC with milliseconds; text that is no date-time stays as it is, for the schema check to name. */
export function utcMillis(text: string): string {
  const parts = parseInstantParts(text);
  if (parts === undefined) return text;
  const full = formatInstantParts(parts);
  return `${full.slice(0, 23)}Z`;
}

function isDateTime(property: JsonValue | undefined): boolean {
  return isJsonObject(property) && property['format'] === 'date-time';
}
