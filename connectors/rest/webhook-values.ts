import { epochText } from '../../src/connector/versions.js';
import { isJsonObject, LosslessNumber, parseJson, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { columnKind } from '../../src/protocol/schema.js';

/**
 * A payload value in the type of the stream property it lands in. Webhooks do not always
 * carry values as the API's list does: a form or XML body has only text, and a vendor may
 * send an id as a number where the list gives a string (HubSpot's `objectId`) or a time as
 * epoch milliseconds where the list gives RFC 3339 (`occurredAt`). Without this the record
 * would fail the stream's schema, or land in another row than the batch copy of the object.
 * A value that does not fit is left as it is, for the schema check to name.
 */
export function valueForProperty(value: JsonValue, property: JsonValue | undefined): JsonValue {
  switch (columnKind(property)) {
    case 'integer':
    case 'number':
      return typeof value === 'string' && NUMBER.test(value.trim()) ? parseJson(value.trim()).value : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'string':
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : value instanceof LosslessNumber ? value.text : value;
    case 'date-time':
      return epochAsInstant(value) ?? value;
    default:
      return value;
  }
}

/** Each top-level property of a record in the type of its property in `schema`. */
export function typedBySchema(record: JsonObject, schema: JsonObject | undefined): JsonObject {
  const properties = schema !== undefined && isJsonObject(schema['properties']) ? schema['properties'] : undefined;
  if (properties === undefined) return record;
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(record)) {
    setOwn(out, name, Object.hasOwn(properties, name) ? valueForProperty(value, properties[name]) : value);
  }
  return out;
}

/** Sets a key as an own property, even `__proto__` (a payload may have one), which plain assignment would take as the prototype. */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** An epoch as the listener's version rule reads it (seconds, or milliseconds when clearly so). */
function epochAsInstant(value: JsonValue): string | undefined {
  const n = typeof value === 'number' ? value : value instanceof LosslessNumber ? Number(value.text) : undefined;
  return n === undefined || !Number.isFinite(n) ? undefined : epochText(n);
}
