import type { AnyConnector, StreamDefinition, WebhookDelivery, WebhookEvent, WebhookMapContext, WebhookSpec } from '../connector/contract.js';
import { compareInstants, formatInstant, parseInstant, parseInstantParts } from '../protocol/instant.js';
import { hasLosslessNumber, isJsonObject, LosslessNumber, parseJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { RecordMessage, SchemaMessage } from '../protocol/messages.js';
import { columnKind, SchemaRegistry, recordProblem, type ColumnKind, type StreamSchema } from '../protocol/schema.js';
import type { StoredDelivery } from './journal.js';

/**
 * Where a webhook becomes records: a stored delivery goes through its connector's mapping
 * and comes out as RECORD messages of the connector's own streams, with the schemas, keys
 * and replication key that `sync run` uses, so both fill the same rows. Pure.
 */

export const DELETED_AT = '_sdc_deleted_at';

export type MappingResult = { ok: true; records: RecordMessage[] } | { ok: false; error: string };

/** The SCHEMA message `sync run` sends for a stream (all fields selected). */
export function schemaMessage(definition: StreamDefinition<object>): SchemaMessage {
  return {
    type: 'SCHEMA',
    stream: definition.name,
    schema: definition.schema,
    key_properties: [...definition.keyProperties],
    ...(definition.replicationKey ? { bookmark_properties: [definition.replicationKey] } : {}),
  };
}

/** A connector's streams with their compiled schemas, built once per drain. */
export class WebhookMapper {
  readonly webhooks: WebhookSpec;
  private readonly streams = new Map<string, { definition: StreamDefinition<object>; schema: StreamSchema; message: SchemaMessage }>();

  constructor(readonly connector: AnyConnector) {
    if (!connector.webhooks) throw new Error(`${connector.name} has no webhook support`);
    this.webhooks = connector.webhooks;
    const registry = new SchemaRegistry();
    for (const definition of connector.streams) {
      const message = schemaMessage(definition);
      this.streams.set(definition.name, { definition, schema: registry.open(message), message });
    }
  }

  /** The schemas records are checked against, for connectors that type values by them (XML). */
  private readonly context: WebhookMapContext = { schemaOf: (stream) => this.streams.get(stream)?.definition.schema };

  schemaFor(stream: string): SchemaMessage | undefined {
    return this.streams.get(stream)?.message;
  }

  /** Maps and checks every record of a delivery: all of them are usable, or none is used. */
  map(stored: StoredDelivery): MappingResult {
    const delivery = toWebhookDelivery(stored);
    let events: readonly WebhookEvent[];
    try {
      events = this.webhooks.map(delivery, this.context);
    } catch (err) {
      return { ok: false, error: `mapping failed: ${(err as Error).message ?? String(err)}` };
    }
    const records: RecordMessage[] = [];
    for (const event of events) {
      const stream = this.streams.get(event.stream);
      if (!stream) {
        return { ok: false, error: `the event names stream "${event.stream}", which ${this.connector.name} does not have (streams: ${[...this.streams.keys()].join(', ')})` };
      }
      const key = stream.definition.replicationKey;
      const record = withVersion(event, key, delivery.receivedAt, key === undefined ? undefined : propertyOf(stream.definition.schema, key));
      const message: RecordMessage = { type: 'RECORD', stream: event.stream, record };
      if (event.partial === true) message.partial = true;
      // Numbers kept exact (a long decimal in the payload) are validated as numbers.
      if (hasLosslessNumber(record)) message.lossless = true;
      const problem = recordProblem(stream.schema, message, true);
      if (problem !== undefined) return { ok: false, error: `RECORD of stream "${event.stream}" is invalid: ${problem}` };
      records.push(message);
    }
    return { ok: true, records };
  }
}

function propertyOf(schema: JsonObject, name: string): JsonValue | undefined {
  const properties = schema['properties'];
  return isJsonObject(properties) && Object.hasOwn(properties, name) ? properties[name] : undefined;
}

export function toWebhookDelivery(stored: StoredDelivery): WebhookDelivery {
  const text = stored.body.toString('utf8');
  let json: JsonValue | undefined;
  try {
    json = text.trim() === '' ? undefined : parseJson(text).value;
  } catch {
    json = undefined;
  }
  // No prototype: a header named __proto__ stays a header.
  const headers = Object.create(null) as Record<string, string>;
  for (const [name, values] of Object.entries(stored.headers)) headers[name] = values.join(', ');
  return { id: stored.deliveryId, receivedAt: stored.receivedAt, headers, text, json };
}

/**
 * The version rule, for every connector. A keyed target keeps the newest version of a row
 * (`_sync_version`, from the replication key), and batch reads and webhooks may arrive in any
 * order, so a webhook record must carry the version a batch read of the same state of the
 * object would carry:
 *
 * 1. The object's own replication-key value (e.g. `updated_at`), when it has one, is the
 *    version, as in a batch read. A later event time does not replace it: it would outrank
 *    the batch copy of a change made between the update and the event.
 * 2. Otherwise the version the payload gives beside the object (`event.version`, the rest
 *    description's `version_path`), else the event time (`event.time`, `time_path`).
 * 3. A deletion happened at the event time: `_sdc_deleted_at` is the event time (else the
 *    version; the receive time only when the event gives neither), and the version is raised
 *    to it when lower, so an older update arriving later, or a batch read from before the
 *    deletion, cannot revive the row.
 *
 * Values are written in the replication key's form: an epoch number (seconds; milliseconds
 * when beyond 1e11, which as seconds would be the year 5138) becomes RFC 3339 UTC unless the
 * key is a number column; an instant text becomes epoch seconds (milliseconds when the
 * object's own value is) for a number column. `_sdc_deleted_at` is always RFC 3339.
 */
export function withVersion(event: WebhookEvent, replicationKey: string | undefined, receivedAt: string, keyProperty?: JsonValue): JsonObject {
  const record: JsonObject = { ...event.record };
  const own = replicationKey === undefined ? undefined : record[replicationKey];
  const form = versionForm(columnKind(keyProperty), own);
  if (replicationKey !== undefined && isAbsent(own)) {
    const given = event.version ?? event.time;
    if (given !== undefined) record[replicationKey] = inForm(given, form, own);
  }
  if (event.deleted) {
    const stamped = record[DELETED_AT];
    const when = event.time ?? event.version;
    const deletedAt = typeof stamped === 'string' && stamped !== '' ? stamped : when === undefined ? receivedAt : instantText(when);
    record[DELETED_AT] = deletedAt;
    if (replicationKey !== undefined) {
      const raised = inForm(deletedAt, form, own);
      const current = record[replicationKey];
      if (isAbsent(current) || isEarlier(current, raised)) record[replicationKey] = raised;
    }
  }
  return record;
}

type VersionForm = 'text' | 'number';

/** Number columns keep numbers; anything else (date-time, text, untyped) gets instants as text, unless the object's own value is a number. */
function versionForm(kind: ColumnKind, own: JsonValue | undefined): VersionForm {
  if (kind === 'integer' || kind === 'number') return 'number';
  if (kind === 'any' && (typeof own === 'number' || own instanceof LosslessNumber)) return 'number';
  return 'text';
}

const MS_THRESHOLD = 1e11;

function inForm(value: string | number, form: VersionForm, own: JsonValue | undefined): JsonValue {
  if (form === 'text') return instantText(value);
  if (typeof value === 'number') return value;
  const micros = parseInstant(value);
  if (micros === undefined) return value;
  const ownNumber = typeof own === 'number' ? own : own instanceof LosslessNumber ? Number(own.text) : undefined;
  const inMs = ownNumber !== undefined && Math.abs(ownNumber) >= MS_THRESHOLD;
  return inMs ? Math.floor(micros / 1_000) : Math.floor(micros / 1_000_000);
}

/** An epoch number as RFC 3339 UTC (seconds, or milliseconds when clearly so); text as it is. */
function instantText(value: string | number): string {
  if (typeof value === 'string') return value;
  const micros = Math.abs(value) >= MS_THRESHOLD ? value * 1_000 : value * 1_000_000;
  return Number.isFinite(micros) ? formatInstant(Math.round(micros)) : String(value);
}

function isAbsent(value: JsonValue | undefined): boolean {
  return value === undefined || value === null;
}

/** a < b, for two instants (as text) or two numbers; values that cannot be compared are not earlier. */
function isEarlier(a: JsonValue | undefined, b: JsonValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = parseInstantParts(a);
    const y = parseInstantParts(b);
    return x !== undefined && y !== undefined && compareInstants(x, y) < 0;
  }
  const x = numberOf(a);
  const y = numberOf(b);
  return x !== undefined && y !== undefined && x < y;
}

function numberOf(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof LosslessNumber) {
    const n = Number(value.text);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
