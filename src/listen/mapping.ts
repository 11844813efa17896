import { versionKeyOf, type AnyConnector, type FetchContext, type StreamDefinition, type WebhookDelivery, type WebhookEvent, type WebhookMapContext, type WebhookSpec } from '../connector/contract.js';
import { hasLosslessNumber, parseJson, stringifyJson, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { RecordMessage, SchemaMessage } from '../protocol/messages.js';
import { SchemaRegistry, recordProblem, type StreamSchema } from '../protocol/schema.js';
import { propertySchema, withVersion } from '../connector/versions.js';
import { messageOf } from '../errors.js';
import type { StoredDelivery } from './journal.js';

/**
 * Where a webhook becomes records: a stored delivery goes through its connector's mapping
 * and comes out as RECORD messages of the connector's own streams, with the schemas, keys
 * and replication key that `sync run` uses, so both fill the same rows. Pure, but for the
 * objects thin events name, which the connector fetches back (`mapMany`).
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
    ...(versionKeyOf(definition) === undefined ? {} : { bookmark_properties: [versionKeyOf(definition) as string] }),
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

  /** Maps and checks every record of a delivery: all of them are usable, or none is used. Thin events are refused: they need `mapMany`. */
  map(stored: StoredDelivery): MappingResult {
    const mapped = this.events(stored);
    if (!mapped.ok) return mapped;
    if (mapped.events.some((e) => e.fetch === true && e.deleted !== true)) return { ok: false, error: 'the delivery names objects to fetch back, which only the drain does' };
    return this.records(mapped.events, mapped.receivedAt);
  }

  /**
   * Maps a batch of this connector's deliveries, in order. The objects thin events name are
   * fetched back first, each once however many deliveries name it (a burst of updates of one
   * object is one request). Throws, mapping nothing, when the source cannot answer: the
   * deliveries stay pending.
   */
  async mapMany(stored: readonly StoredDelivery[], context: FetchContext): Promise<MappingResult[]> {
    const mapped = stored.map((s) => this.events(s));
    // Per delivery, per event: the key of a thin event (or why it has none); undefined otherwise.
    const keys = mapped.map((m) => (m.ok ? m.events.map((e) => (e.fetch === true ? this.keyOf(e) : undefined)) : []));
    const wanted = new Map<string, Map<string, JsonObject>>();
    mapped.forEach((m, i) => {
      if (!m.ok) return;
      m.events.forEach((event, j) => {
        const key = keys[i]?.[j];
        if (typeof key !== 'object' || event.deleted === true) return;
        let byText = wanted.get(event.stream);
        if (byText === undefined) wanted.set(event.stream, (byText = new Map<string, JsonObject>()));
        byText.set(stringifyJson(key), key);
      });
    });
    const fetched = new Map<string, JsonObject | null | Error>();
    const fetch = this.webhooks.fetchObjects?.bind(this.webhooks);
    for (const [stream, byText] of wanted) {
      if (fetch === undefined) break;
      const list = [...byText.values()];
      let answers: Array<JsonObject | null | Error>;
      try {
        answers = await fetch(stream, list, context);
      } catch (err) {
        throw new FetchBackError(`${this.connector.name} could not fetch ${list.length} ${stream} object${list.length === 1 ? '' : 's'} that thin events name: ${messageOf(err)}`, err);
      }
      list.forEach((key, n) => fetched.set(`${stream}\u0000${stringifyJson(key)}`, answers[n] ?? null));
    }
    return mapped.map((m, i) => {
      if (!m.ok) return m;
      const events: WebhookEvent[] = [];
      for (const [j, event] of m.events.entries()) {
        const key = keys[i]?.[j];
        if (key === undefined) {
          events.push(event);
          continue;
        }
        if (typeof key === 'string') return { ok: false, error: key };
        if (event.deleted === true) {
          events.push({ ...event, record: key, partial: true });
          continue;
        }
        if (fetch === undefined) return { ok: false, error: `${this.connector.name} cannot fetch objects back, but the delivery names objects to fetch` };
        const object = fetched.get(`${event.stream}\u0000${stringifyJson(key)}`);
        if (object instanceof Error) return { ok: false, error: object.message };
        // Gone from the source: deleted, at the event's time. Otherwise what the payload adds
        // (the parent's key) stays, and the object has the last word.
        events.push(object === null || object === undefined ? { ...event, record: key, deleted: true, partial: true } : { ...event, record: { ...event.record, ...object }, partial: false });
      }
      return this.records(events, m.receivedAt);
    });
  }

  private events(stored: StoredDelivery): { ok: true; events: readonly WebhookEvent[]; receivedAt: string } | { ok: false; error: string } {
    const delivery = toWebhookDelivery(stored);
    try {
      return { ok: true, events: this.webhooks.map(delivery, this.context), receivedAt: delivery.receivedAt };
    } catch (err) {
      const why = delivery.jsonError === undefined ? '' : ` (the body is not JSON that can be read: ${delivery.jsonError})`;
      return { ok: false, error: `mapping failed: ${err instanceof Error ? err.message : String(err)}${why}` };
    }
  }

  /** A thin event's key properties, or a problem saying which is missing. */
  private keyOf(event: WebhookEvent): JsonObject | string {
    const stream = this.streams.get(event.stream);
    if (!stream) return `the event names stream "${event.stream}", which ${this.connector.name} does not have`;
    const key: JsonObject = {};
    for (const property of stream.definition.keyProperties) {
      const value = event.record[property];
      if (value === undefined || value === null) return `a thin event of stream "${event.stream}" lacks the key property "${property}" to fetch its object by`;
      key[property] = value;
    }
    return key;
  }

  private records(events: readonly WebhookEvent[], receivedAt: string): MappingResult {
    const records: RecordMessage[] = [];
    for (const event of events) {
      const stream = this.streams.get(event.stream);
      if (!stream) {
        return { ok: false, error: `the event names stream "${event.stream}", which ${this.connector.name} does not have (streams: ${[...this.streams.keys()].join(', ')})` };
      }
      const key = versionKeyOf(stream.definition);
      const record = withVersion(event, key, receivedAt, key === undefined ? undefined : propertySchema(stream.definition.schema, key));
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

/** The source could not give back the objects thin events name: the deliveries wait, nothing is settled. */
export class FetchBackError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'FetchBackError';
  }
}

/**
 * Maps a batch of deliveries of any connectors, keyed by journal sequence number: each
 * connector's deliveries together, so objects to fetch back are fetched once per batch.
 */
export async function mapDeliveries(
  entries: readonly StoredDelivery[],
  mappers: ReadonlyMap<string, WebhookMapper>,
  context: FetchContext,
): Promise<Map<number, MappingResult>> {
  const byConnector = new Map<string, StoredDelivery[]>();
  for (const entry of entries) {
    const list = byConnector.get(entry.connector);
    if (list === undefined) byConnector.set(entry.connector, [entry]);
    else list.push(entry);
  }
  const results = new Map<number, MappingResult>();
  for (const [connector, list] of byConnector) {
    const mapper = mappers.get(connector);
    const mapped = mapper ? await mapper.mapMany(list, context) : list.map((): MappingResult => ({ ok: false, error: `connector ${connector} is not served here` }));
    list.forEach((entry, i) => results.set(entry.seq, mapped[i] as MappingResult));
  }
  return results;
}

export function toWebhookDelivery(stored: StoredDelivery): WebhookDelivery {
  const text = stored.body.toString('utf8');
  let json: JsonValue | undefined;
  let jsonError: string | undefined;
  try {
    json = text.trim() === '' ? undefined : parseJson(text).value;
  } catch (err) {
    json = undefined;
    // Forms and XML are not JSON and say nothing; a body meant as JSON says why it failed.
    if (/^\s*[[{]/.test(text)) jsonError = err instanceof Error ? err.message : String(err);
  }
  let headers: Record<string, string> | undefined;
  return {
    id: stored.deliveryId,
    receivedAt: stored.receivedAt,
    // Built when a mapping asks (most read only the body): the drain takes every delivery through here.
    get headers() {
      if (headers === undefined) {
        // No prototype: a header named __proto__ stays a header.
        headers = Object.create(null) as Record<string, string>;
        for (const [name, values] of Object.entries(stored.headers)) headers[name] = values.join(', ');
      }
      return headers;
    },
    text,
    json,
    ...(jsonError === undefined ? {} : { jsonError }),
  };
}
