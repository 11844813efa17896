import { isJsonObject, LosslessNumber, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import type { RestWebhookEvent } from './description/index.js';

/**
 * A child stream's record with its parent's key under `as`, as a batch read gives it (there
 * the key comes from the parent record); without it an upsert would leave the column NULL.
 * An object that carries `as` itself keeps it, as in a batch read.
 */
export function withParentKey(object: JsonObject, event: RestWebhookEvent, lookup: (path: string) => JsonValue | undefined, name: string): JsonObject {
  const link = event.parentKey;
  if (link === undefined || Object.hasOwn(object, link.as)) return object;
  if (link.path === undefined) {
    throw new Error(`event ${name}: stream ${event.stream} is a child stream and the object has no "${link.as}"; give the event a parent_path: where the parent's key is`);
  }
  const value = lookup(link.path);
  if (value === undefined || value === null || isJsonObject(value) || Array.isArray(value)) {
    throw new Error(`event ${name}: no parent key at parent_path "${link.path}" (got ${value === undefined ? 'nothing' : typeOf(value)})`);
  }
  return { ...object, [link.as]: value };
}

/** `a string`, `an array`, `null`: for messages about a value that is not what was expected. */
export function typeOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof LosslessNumber) return 'a number';
  if (isJsonObject(value)) return 'an object';
  return `a ${typeof value}`;
}
