import type { JsonObject, JsonValue } from '../protocol/json.js';
import type { SyncState } from '../protocol/state.js';
import type { Logger } from '../log.js';
import type { Scheme } from '../listen/verify/index.js';
import type { Recorder, Replayer } from '../http/cassette.js';

/** How a run's HTTP clients talk to the network: record every exchange, or replay them instead. */
export interface HttpSession {
  recorder?: Recorder;
  replayer?: Replayer;
}

/**
 * The connector contract: a connector is data (config spec, streams with schemas and keys)
 * plus one async generator per stream. `defineConnector` only checks the shape at compile
 * time; the runner does everything else (selection, state, validation, targets).
 */

export type ConfigType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

export interface ConfigProperty {
  type: ConfigType;
  description: string;
  default?: JsonValue;
  /** Never printed, logged or written to state; redacted in recordings and --about. */
  secret?: boolean;
  format?: 'date-time' | 'uri';
  minimum?: number;
  maximum?: number;
  enum?: readonly JsonValue[];
  examples?: readonly JsonValue[];
}

export interface ConfigSpec {
  properties: Record<string, ConfigProperty>;
  required?: readonly string[];
}

export interface StreamContext<Config> {
  config: Config;
  /** Inclusive lower bound from the last run (`replication key >= bookmark`); undefined on a first or full run. */
  bookmark: JsonValue | undefined;
  /** The whole state as read at the start of the run (read-only). */
  state: Readonly<SyncState>;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM: stop reading soon, the runner commits what was yielded. */
  signal: AbortSignal;
  /** When this run started; unsorted streams never advance their bookmark past it. */
  startedAt: Date;
  /** `--record DIR` / `--replay DIR`: hand to every HTTP client the stream creates. */
  http?: HttpSession;
  /**
   * For partitioned streams (see `partitionOf`): the inclusive lower bound of one partition,
   * falling back to `bookmark` for a partition with none of its own.
   */
  partitionBookmark?: (partition: string) => JsonValue | undefined;
}

export interface StreamDefinition<Config> {
  /** snake_case, stable: it names tables, files and bookmarks. */
  name: string;
  description?: string;
  /** JSON Schema of one record (an object with `properties`). */
  schema: JsonObject;
  keyProperties: readonly string[];
  /** A property that grows when a record changes (e.g. `updated_at`): enables incremental runs. */
  replicationKey?: string;
  /** Records come in ascending replication-key order, so the bookmark may advance mid-stream. */
  sorted?: boolean;
  /**
   * For a stream without a replication key (read in full each run): the property that orders
   * copies of a row, the newest winning whichever path wrote it (`updated_at` of a listing that
   * cannot be filtered, so a late webhook cannot overwrite a newer batch copy). A stream with a
   * replication key is versioned by it.
   */
  versionKey?: string;
  /**
   * How deletions reach the stream's rows, in a sentence for `--discover` and `--about`
   * (`records with IsDeleted = true are marked deleted`); undefined: the source lists none.
   */
  deletions?: string;
  /**
   * Which copy of a row wins, in a sentence for `--discover`, when the replication key is not
   * simply the object's own (the time of the change, written by the connector).
   */
  versionNote?: string;
  /**
   * A complete full read (no bookmark: the first run, `--full-refresh`, or a stream without a
   * replication key) marks the rows it did not see as deleted, unless they would be more than
   * `maxShare` of the table (0.1: a tenth), which is refused with a warning instead.
   */
  reconcileDeletes?: { maxShare: number };
  /**
   * The records belong to another stream, whose table they update (a tombstone listing marks
   * rows of the stream it names deleted): the run opens that stream as it is given here and
   * sends the records as its own, partial (only the properties present are set). The bookmark
   * stays this stream's own, kept by `replicationKey` on the records as sent.
   */
  recordsInto?: { stream: string; schema: JsonObject; keyProperties: readonly string[]; replicationKey?: string };
  /**
   * Keeps one bookmark per partition (e.g. per parent object: each project's tasks) instead
   * of one for the stream; `sorted` then means sorted within each partition.
   */
  partitionOf?(record: JsonObject): string;
  /**
   * Yields the stream's records, those with `replicationKey >= ctx.bookmark` when a bookmark
   * is given: one at a time, or a page (an array, in order) at a time, which spares the
   * runner a trip through the async iterator per record. `eachRecord` flattens it.
   */
  read(ctx: StreamContext<Config>): AsyncIterable<JsonObject | readonly JsonObject[]>;
}

/** A page of records as `read` may yield it (a record itself is never an array). */
export function isRecordPage(value: JsonObject | readonly JsonObject[]): value is readonly JsonObject[] {
  return Array.isArray(value);
}

/** A stream's records one by one, whether its `read` yields records or pages. */
export async function* eachRecord(source: AsyncIterable<JsonObject | readonly JsonObject[]>): AsyncGenerator<JsonObject> {
  for await (const item of source) {
    if (isRecordPage(item)) yield* item;
    else yield item;
  }
}

export interface ResolveStreamsContext {
  log: Logger;
  signal: AbortSignal;
  http?: HttpSession;
  /**
   * Only what the streams are is asked for (`--about`): make no request. A schema only the API
   * can give (described, inferred from a page) is left bare; names, keys, replication keys,
   * versions and deletions are what the settings say.
   */
  offline?: boolean;
}

export interface ConnectorDefinition<Config> {
  name: string;
  version: string;
  description: string;
  config: ConfigSpec;
  streams: readonly StreamDefinition<Config>[];
  /**
   * Streams that come from the config (a described API): called once per run after the
   * config is validated; the result replaces `streams`.
   */
  resolveStreams?(config: Config, ctx: ResolveStreamsContext): Promise<readonly StreamDefinition<Config>[]>;
  /**
   * Settings that build the streams for `--about` when none are given, for a connector whose
   * streams are the same for every account (Shopify's shop or Mailchimp's key changes where
   * requests go, not what the streams are). Only to be valid: nothing is sent with them.
   */
  aboutConfig?: Config;
  /** Present when the source can push changes: `sync listen` answers at POST /webhooks/<name>. */
  webhooks?: WebhookSpec;
  /** Webhook support that comes from the config (a described API); replaces `webhooks`. */
  resolveWebhooks?(config: Config): WebhookSpec | undefined;
  /**
   * The config describes the API itself (`rest`): its streams, and whether it has webhooks at
   * all, are the user's. Otherwise streams built from settings are the connector's own, and
   * `resolveWebhooks` always gives webhooks.
   */
  describedInConfig?: boolean;
}

/** A request as it reached the listener; nothing in it is trusted before verification. */
export interface WebhookRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  /** Lower-case names; every value of a header, in order. */
  headers: Readonly<Record<string, readonly string[]>>;
  body: Buffer;
}

/** What a sender needs back instead of a stored delivery (a challenge, a ping). */
export interface WebhookReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** One stored delivery, verified when it arrived, as the mapping sees it. */
export interface WebhookDelivery {
  /** The sender's delivery id (or a digest of the body when the sender gives none). */
  id: string;
  /** When it arrived, RFC 3339 UTC. */
  receivedAt: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string>>;
  /** The body, decoded once as UTF-8. */
  text: string;
  /** The body as JSON with numbers kept exact; undefined when it is not JSON. */
  json: JsonValue | undefined;
  /** Why a body that looks like JSON could not be read as such (nesting past the limit, say). */
  jsonError?: string;
}

/** One change a delivery reports: a record of one of the connector's streams. */
export interface WebhookEvent {
  stream: string;
  /**
   * The payload knows only some of the object's properties: the row keeps the others (a keyed
   * target updates only the properties present). Without it, the record is the whole object.
   */
  partial?: boolean;
  /** Shaped exactly as the stream's `read` yields it, so batch and webhooks fill the same rows. */
  record: JsonObject;
  /**
   * The object was deleted: the record gets `_sdc_deleted_at` (the event time, when it has
   * none) and its replication key is raised to that time, so no older copy revives it.
   */
  deleted?: boolean;
  /**
   * The object's version as the payload gives it apart from the object (RFC 3339, or a
   * number); used only when the record lacks its replication key. Connectors that know only
   * the event time may give it here.
   */
  version?: string | number;
  /**
   * When the event happened, as the sender says: RFC 3339, or epoch seconds (milliseconds
   * when clearly so). The version of a record that has no other, and the time of a deletion.
   * The rule is `withVersion` in src/connector/versions.ts.
   */
  time?: string | number;
  /**
   * A thin event: the payload names the object (the record holds its key) but does not carry
   * it. The drain fetches the object back (`WebhookSpec.fetchObjects`) and the record becomes
   * the object as the source has it now; one the source no longer has is a deletion.
   */
  fetch?: boolean;
}

/** What fetching objects back needs from the drain. */
export interface FetchContext {
  log: Logger;
  signal: AbortSignal;
}

/** What the listener knows of the connector's streams while mapping: the schemas records are checked against. */
export interface WebhookMapContext {
  /** The JSON Schema a stream's records are checked against (resolved or inferred at start), or undefined for an unknown stream. */
  schemaOf(stream: string): JsonObject | undefined;
}

/**
 * Webhook support, mostly data: how deliveries are signed, which settings hold the
 * secrets, where the event name is, and one pure function from a delivery to records.
 */
export interface WebhookSpec {
  /** The signature scheme (src/listen/verify); checked on the raw bytes before anything is parsed. */
  scheme: Scheme;
  /**
   * Settings holding the secret(s). Several settings, or several secrets separated by
   * spaces in one setting, are all accepted (rotation: add the new one, later drop the old).
   */
  secretSettings: readonly string[];
  /**
   * Where the sender's delivery id is when the scheme gives none: a header (or several names
   * for it, the first the delivery has counting: Shopify's with and without `X-`), or a
   * dotted path in the JSON body.
   */
  deliveryId?: { header: string | readonly string[] } | { path: string };
  /** Where the event name is, for log lines and `sync inbox list`: a header (or its names, as above) or a body field. */
  eventName?: { header: string | readonly string[] } | { field: string };
  /** Largest body accepted, in bytes (default: the listener's --max-body). */
  maxBodyBytes?: number;
  /**
   * Requests a sender makes that are not deliveries (a URL check, a ping, a challenge): return
   * the reply to answer them with, nothing stored; undefined to handle the request normally.
   * `unsigned` runs before verification and must reveal nothing; `signed` after it passed.
   */
  handshake?: {
    unsigned?(request: WebhookRequest): WebhookReply | undefined;
    signed?(request: WebhookRequest, json: JsonValue | undefined): WebhookReply | undefined;
  };
  /**
   * The answer to a delivery once it is stored (or was already): senders such as Salesforce
   * want a particular body (a SOAP Ack). Default: 200 with a short text.
   */
  accepted?(request: WebhookRequest): WebhookReply;
  /**
   * More to say about a refused delivery, for the listener's warning line (e.g. which URL a
   * scheme that signs the URL checked): never a secret or a signature. Undefined: nothing.
   */
  refusalDetail?(request: WebhookRequest, reason: string): string | undefined;
  /**
   * Pure: the records a delivery carries ([] to ignore it). Throwing moves it to the dead
   * letters. `context` gives the schemas records will be checked against, so values that
   * arrive as text (XML) can be typed by the same schema.
   */
  map(delivery: WebhookDelivery, context?: WebhookMapContext): readonly WebhookEvent[];
  /**
   * Fetches back the objects thin events name (`WebhookEvent.fetch`): one answer per key, in
   * order, `null` for an object the source no longer has, an Error for one that cannot be had
   * and should not be taken for deleted either (its deliveries become dead letters saying why).
   * The drain asks once per object for all the deliveries of a batch. Throws when the source
   * cannot answer now: the deliveries stay pending and are tried again.
   */
  fetchObjects?(stream: string, keys: readonly JsonObject[], context: FetchContext): Promise<Array<JsonObject | null | Error>>;
}

export type AnyConnector = ConnectorDefinition<object>;

export function defineConnector<Config extends object>(definition: ConnectorDefinition<Config>): ConnectorDefinition<Config> {
  return definition;
}

/** The property whose value orders copies of a stream's rows: its replication key, else its version key. */
export function versionKeyOf(definition: Pick<StreamDefinition<unknown>, 'replicationKey' | 'versionKey'>): string | undefined {
  return definition.replicationKey ?? definition.versionKey;
}

export function defineStream<Config>(definition: StreamDefinition<Config>): StreamDefinition<Config> {
  return definition;
}
