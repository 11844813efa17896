import { SourceError } from '../../src/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/protocol/json.js';

/**
 * An sObject's stream from its describe call (`GET …/sobjects/<Object>/describe`): the fields
 * the query selects and the JSON Schema of a record, one property per field.
 *
 * Left out, with their reason:
 * - compound fields (`address`, `location`: `MailingAddress`, `BillingAddress`): their
 *   components are fields of their own (`MailingStreet`, `MailingCity`…), which keeps every
 *   value; an outbound message can carry only the components, and a row must look the same
 *   whichever path wrote it;
 * - `base64` (file bodies): a query returns them one record at a time, at most;
 * - types without a JSON counterpart (`anyType`, `complexvalue`).
 */

export const REPLICATION_KEY = 'SystemModstamp';

export interface DescribedObject {
  /** The API name, as Salesforce spells it. */
  name: string;
  /** The fields the query selects, in the describe's order. */
  fields: string[];
  schema: JsonObject;
  /** The object has `IsDeleted`: queryAll lists its deleted records, marked by it. */
  hasIsDeleted: boolean;
  /** Fields left out, with their type (for a debug line). */
  skipped: string[];
}

const TEXT = new Set(['id', 'string', 'textarea', 'picklist', 'multipicklist', 'combobox', 'email', 'phone', 'url', 'reference', 'encryptedstring', 'time']);
const NUMBER = new Set(['double', 'currency', 'percent']);
const INTEGER = new Set(['int', 'long']);

/** The JSON Schema of one field of the given describe `type`, or undefined when it is left out. */
export function fieldSchema(type: string): JsonObject | undefined {
  if (TEXT.has(type)) return { type: ['null', 'string'] };
  if (NUMBER.has(type)) return { type: ['null', 'number'] };
  if (INTEGER.has(type)) return { type: ['null', 'integer'] };
  if (type === 'boolean') return { type: ['null', 'boolean'] };
  if (type === 'date') return { type: ['null', 'string'], format: 'date' };
  if (type === 'datetime') return { type: ['null', 'string'], format: 'date-time' };
  return undefined;
}

export function describedObject(objectName: string, body: JsonValue): DescribedObject {
  const fields = isJsonObject(body) && Array.isArray(body['fields']) ? body['fields'] : undefined;
  if (fields === undefined) throw new SourceError(`the describe call of ${objectName} answered without "fields"`);
  const names: string[] = [];
  const skipped: string[] = [];
  const properties: JsonObject = {};
  for (const field of fields) {
    if (!isJsonObject(field) || typeof field['name'] !== 'string' || typeof field['type'] !== 'string') continue;
    const { name, type } = field as { name: string; type: string };
    const schema = fieldSchema(type);
    if (schema === undefined) {
      skipped.push(`${name} (${type})`);
      continue;
    }
    names.push(name);
    properties[name] = schema;
  }
  if (!Object.hasOwn(properties, 'Id')) throw new SourceError(`${objectName} has no Id field the connected app's user can read`);
  if (!Object.hasOwn(properties, REPLICATION_KEY)) {
    throw new SourceError(`${objectName} has no ${REPLICATION_KEY} field, which incremental reads need; leave it out of objects`);
  }
  // Every record has these two: the key, and the version both paths order copies by.
  properties['Id'] = { type: 'string' };
  properties[REPLICATION_KEY] = { type: 'string', format: 'date-time' };
  return {
    name: typeof (body as JsonObject)['name'] === 'string' ? ((body as JsonObject)['name'] as string) : objectName,
    fields: names,
    schema: { type: 'object', properties },
    hasIsDeleted: Object.hasOwn(properties, 'IsDeleted'),
    skipped,
  };
}
