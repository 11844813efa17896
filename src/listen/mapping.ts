import type { AnyConnector, StreamDefinition, WebhookDelivery, WebhookEvent, WebhookMapContext, WebhookSpec } from '../connector/contract.js';
import { hasLosslessNumber, parseJson, type JsonValue } from '../protocol/json.js';
import type { RecordMessage, SchemaMessage } from '../protocol/messages.js';
import { SchemaRegistry, recordProblem, type StreamSchema } from '../protocol/schema.js';
import { propertySchema, withVersion } from '../connector/versions.js';
import type { StoredDelivery } from './journal.js';

/**
 * Where a webhook becomes records: a stored delivery goes through its connector's mapping
 * and comes out as RECORD messages of the connector's own streams, with the schemas, keys
 * and replication key that `sync run` uses, so both fill the same rows. Pure.
 */

export { DELETED_AT, withVersion } from '../connector/versions.js';

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
      const record = withVersion(event, key, delivery.receivedAt, key === undefined ? undefined : propertySchema(stream.definition.schema, key));
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
