import type { WebhookDelivery, WebhookEvent } from '../../src/connector/contract.js';
import { eventTime } from '../../src/connector/versions.js';
import { valueAt } from '../../src/http/paginate.js';
import { FormBodyError, parseFormBody } from '../../src/listen/form-body.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/protocol/json.js';
import { MAX_RECORDS_PER_DELIVERY, type RestWebhookEvent, type RestWebhooks } from './description/index.js';
import { typeOf, withParentKey } from './parent-key.js';
import { recordOf } from './webhook-fields.js';
import { routeEvent } from './webhook-routing.js';
import { typedBySchema } from './webhook-values.js';

/**
 * A JSON or form delivery of a described API as records. The body holds one event, or with
 * `batch_path` a list of them; each event is routed by its name (and action) to a listed
 * event, whose object (or each object of an array) becomes one record of its stream: the
 * object as it is, or the properties `fields` picks from it (a partial record: the target
 * updates those columns and keeps the others). All records of a delivery, or
 * none: any problem throws, and the listener keeps the delivery as a dead letter saying
 * which element and what, for `sync inbox retry-dead` after the description is fixed.
 */

/** The schema a stream's records are checked against (the description's, or inferred at start). */
export type SchemaLookup = (stream: string) => JsonObject | undefined;

/** How a stream keeps an object (its `unnest`), or undefined: as the payload gives it. */
export type ShapeLookup = (stream: string) => ((object: JsonObject) => JsonObject) | undefined;

/** The records one delivery carries: [] when it holds no event the description lists. */
export function mapRestDelivery(webhooks: RestWebhooks, delivery: WebhookDelivery, schemaOf: SchemaLookup = () => undefined, shapeOf: ShapeLookup = () => undefined): WebhookEvent[] {
  const body = bodyOf(webhooks, delivery);
  const mapEvent = (headers: Readonly<Record<string, string>>, event: JsonValue): WebhookEvent[] => mapOneEvent(webhooks, headers, event, schemaOf, shapeOf);
  if (webhooks.batch === undefined) return capped(mapEvent(delivery.headers, body));
  const out: WebhookEvent[] = [];
  batchOf(body, webhooks.batch.path).forEach((event, index) => {
    let records: WebhookEvent[];
    try {
      if (!isJsonObject(event)) throw new Error(`not an object (got ${typeOf(event)})`);
      records = mapEvent(delivery.headers, event);
    } catch (err) {
      throw new Error(`batch element ${index}: ${(err as Error).message}`, { cause: err });
    }
    out.push(...capped(records, out.length));
  });
  return out;
}

function bodyOf(webhooks: RestWebhooks, delivery: WebhookDelivery): JsonValue {
  const contentType = delivery.headers['content-type'] ?? '';
  if (webhooks.format === 'form') {
    // Read as a form, a JSON body is one odd field name: say what happened instead.
    if (/json/i.test(contentType)) throw new Error(`the body is ${contentType}, but webhooks.format is "form"`);
    try {
      return parseFormBody(delivery.text);
    } catch (err) {
      if (err instanceof FormBodyError) throw new Error(`the form body: ${err.message}`, { cause: err });
      throw err;
    }
  }
  if (delivery.json !== undefined) return delivery.json;
  const hint = /x-www-form-urlencoded/i.test(contentType) ? ` (it is ${contentType}: set webhooks.format to "form")` : '';
  throw new Error(`the body is not JSON${hint}`);
}

function batchOf(body: JsonValue, path: string | undefined): readonly JsonValue[] {
  const list = path === undefined ? body : valueAt(body, path);
  if (Array.isArray(list)) return list;
  const where = path === undefined ? 'the body' : `batch_path "${path}"`;
  throw new Error(`${where} is not a list of events (got ${list === undefined ? 'nothing' : typeOf(list)})`);
}

function capped<T>(records: T[], before = 0): T[] {
  if (before + records.length > MAX_RECORDS_PER_DELIVERY) throw new Error(`more than ${MAX_RECORDS_PER_DELIVERY} records in one delivery`);
  return records;
}

/** One event's records; paths are read inside the event (the body, or one element of the batch). */
function mapOneEvent(webhooks: RestWebhooks, headers: Readonly<Record<string, string>>, event: JsonValue, schemaOf: SchemaLookup, shapeOf: ShapeLookup): WebhookEvent[] {
  const route = routeEvent(webhooks, headers, event);
  if (route === undefined) return [];
  const { name, event: listed } = route;
  // Both are handed on as the payload gives them; which one becomes the record's version is
  // the listener's rule (withVersion in src/connector/versions.ts), the same for every connector.
  const version = timeAt(event, webhooks.versionPath);
  const time = timeAt(event, webhooks.timePath);
  // Form values are all text, and `fields` may take values from another shape than the list's.
  const schema = listed.fields !== undefined || webhooks.format === 'form' ? schemaOf(listed.stream) : undefined;
  // A whole object is kept as a listing of its stream keeps it; `fields` paths read the payload's own shape.
  const shape = listed.fields === undefined ? shapeOf(listed.stream) : undefined;
  return objectsOf(event, listed, name).map(({ object: found, label }) => {
    const object = shape === undefined ? found : shape(found);
    const record = withParentKey(recordOf(object, listed, label), listed, (path) => valueAt(event, path), label);
    return {
      stream: listed.stream,
      record: schema === undefined ? record : typedBySchema(record, schema),
      // Built from some paths, the record knows only those properties: the row keeps the rest.
      ...(listed.fields === undefined ? {} : { partial: true }),
      ...(listed.deleted ? { deleted: true } : {}),
      ...(listed.fetch === true ? { fetch: true } : {}),
      ...(version === undefined ? {} : { version }),
      ...(time === undefined ? {} : { time }),
    };
  });
}

/** The object at `object_path`, or each object of the array there (a push's commits), with the name messages use for it. */
function objectsOf(event: JsonValue, listed: RestWebhookEvent, name: string): Array<{ object: JsonObject; label: string }> {
  const path = listed.objectPath;
  const found = path === undefined ? event : valueAt(event, path);
  if (isJsonObject(found)) return [{ object: found, label: name }];
  if (Array.isArray(found) && path !== undefined) {
    // Refused before a record is built, not after a million of them.
    capped([], found.length);
    return found.map((object, i) => {
      const label = `${name} ("${path}"[${i}])`;
      if (!isJsonObject(object)) throw new Error(`event ${label}: not an object (got ${typeOf(object)})`);
      return { object, label };
    });
  }
  const where = path === undefined ? 'the body' : `"${path}"`;
  const hint = path === undefined && Array.isArray(found) ? '; a body that lists events needs webhooks.batch_path' : '';
  throw new Error(`event ${name}: ${where} is not an object (got ${found === undefined ? 'nothing' : typeOf(found)})${hint}`);
}

/** A version or time at `path`: text, or a number (an epoch), or undefined. */
function timeAt(event: JsonValue, path: string | undefined): string | number | undefined {
  return path === undefined ? undefined : eventTime(valueAt(event, path));
}
