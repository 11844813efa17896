import { valueAt } from '../../src/http/paginate.js';
import type { JsonObject } from '../../src/protocol/json.js';
import type { RestFieldPath, RestWebhookEvent } from './description/index.js';
import { setOwn } from './webhook-values.js';

/**
 * A record from an object whose shape differs from the stream's (HubSpot's `objectId` where
 * the list has `id`, Mailchimp's `data.merges` where it has `merge_fields`): each stream
 * property the event's `fields` names, from its path in the object. A path that leads
 * nowhere gives no property rather than null: null would be a value, and would blank a
 * column the payload simply does not carry. Without `fields` the object is the record.
 */
export function recordOf(object: JsonObject, event: RestWebhookEvent, name: string): JsonObject {
  const record = event.fields === undefined ? object : fromFields(object, event.fields);
  for (const property of event.required ?? []) {
    const value = Object.hasOwn(record, property) ? record[property] : undefined;
    if (value !== undefined && value !== null) continue;
    const path = event.fields?.find((f) => f.property === property)?.path;
    const where = path === undefined ? 'in the object' : `at "${path}"`;
    throw new Error(`event ${name}: required "${property}" is missing (${value === null ? 'null' : 'nothing'} ${where})`);
  }
  return record;
}

function fromFields(object: JsonObject, fields: readonly RestFieldPath[]): JsonObject {
  const record: JsonObject = {};
  for (const { property, path } of fields) {
    const value = valueAt(object, path);
    if (value !== undefined) setOwn(record, property, value);
  }
  return record;
}
