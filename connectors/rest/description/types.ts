import type { EndpointLimit } from '../../../src/http/budget.js';
import type { ErrorRule } from '../../../src/http/error-rules.js';
import type { IncrementalRule } from '../../../src/http/incremental.js';
import type { PaginationStyle } from '../../../src/http/paginate.js';
import type { Scheme } from '../../../src/listen/verify/index.js';
import type { JsonObject, JsonValue } from '../../../src/protocol/json.js';

/** The typed description the rest of the connector works with, once every part is checked. */

export type AuthSpec =
  | { type: 'none' }
  | { type: 'api_key'; in: 'header' | 'query'; name: string; prefix?: string }
  | { type: 'bearer' }
  | { type: 'basic' }
  | { type: 'oauth2_client_credentials' | 'oauth2_refresh_token'; tokenUrl: string; scope?: string; clientAuth: 'body' | 'basic' };

export interface RestStream {
  name: string;
  description: string | undefined;
  path: string;
  method: 'GET' | 'POST';
  recordsPath: string | undefined;
  primaryKey: string[];
  replicationKey: string | undefined;
  /** Without a replication key: the property that orders copies of a row (newest wins). */
  versionKey: string | undefined;
  sorted: boolean;
  startDate: string | undefined;
  incremental: IncrementalRule | undefined;
  pagination: PaginationStyle;
  params: Record<string, string | number | boolean>;
  body: JsonObject | undefined;
  schema: JsonObject | undefined;
  /** Child stream: read once per record of an earlier stream (each project's tasks). */
  parent: RestParent | undefined;
  /** A GraphQL query: sent as a POST of `{query, variables}` to `path`. */
  graphql: RestGraphql | undefined;
  /** The API leaves `records_path` out of a body without records; otherwise that is an error. */
  recordsOptional: boolean;
  /** The condition that makes a record a deletion. */
  deletedWhen: DeletedRule | undefined;
  /** Only records meeting this condition are kept (an account's chosen lists, say). */
  keepWhen: DeletedRule | undefined;
  /**
   * The stream is read once more per variant, each a set of params laid over the stream's own
   * (`{"status": "archived"}`: archived members are listed only when asked for).
   */
  variants: Array<Record<string, string | number | boolean>>;
  /** A complete full read marks rows it did not see as deleted, up to this share of the table. */
  reconcileDeletes: { maxShare: number } | undefined;
  /** Incremental runs read the changes from an events feed instead of listing the stream. */
  changes: RestStreamChanges | undefined;
  /** The stream lists deletions (tombstones) of another stream, whose rows its records mark deleted. */
  tombstonesFor: RestTombstones | undefined;
  /** How one object is read by its key (`/v1/customers/{id}`): thin webhook events are fetched back through it. */
  item: RestItem | undefined;
  /** Dotted path of a nested object whose keys become the record's properties (HubSpot's `properties`). */
  unnest: string | undefined;
}

export interface RestItem {
  /** With `{<key property>}` for each primary-key property. */
  path: string;
  /** Dotted path of the object in the answer; undefined: the body is the object. */
  recordPath: string | undefined;
}

/** `streams[].tombstones_for`: the stream whose objects a tombstone listing reports deleted. */
export interface RestTombstones {
  /** An earlier stream of the description, with a primary key. */
  stream: string;
  /** Each primary-key property of that stream and the dotted path of its value in a tombstone. */
  keys: Record<string, string>;
}

/**
 * An events endpoint (Stripe's `/v1/events`): each event names its type, its time and the
 * object as it was after the change. Streams that name it read their changes from it.
 */
export interface RestChangeFeed {
  name: string;
  path: string;
  params: Record<string, string | number | boolean>;
  recordsPath: string | undefined;
  pagination: PaginationStyle;
  /** The parameter and format of the lower bound on the event time (required: a feed is read since a time). */
  incremental: IncrementalRule;
  /** Dotted paths in an event: its type, its time (RFC 3339 or epoch), the changed object. */
  typePath: string;
  timePath: string;
  objectPath: string;
  /** The feed lists the newest event first: only the first event of each object in a read counts. */
  newestFirst: boolean;
  /** Days the API keeps events: a bookmark older than this means a full read of the stream instead. */
  retentionDays: number | undefined;
}

/** `streams[].change_feed`: which feed, and which of its events are this stream's. */
export interface RestStreamChanges {
  feed: string;
  /** Parameters added to the feed's request for this stream (`{"type": "customer.*"}`). */
  params: Record<string, string | number | boolean>;
  /** Event types taken (all of the answer when undefined: the params already filter). */
  events: string[] | undefined;
  /** Event types that report a deletion of the object. */
  deletedEvents: string[];
}

export interface RestGraphql {
  query: string;
  variables: JsonObject;
  /** `extensions.code` values retried (after the cost bucket refills) rather than failing. */
  retriableCodes: string[];
}

/** A condition on a record: its value at `path` is one of `values`. */
export interface DeletedRule {
  path: string;
  values: JsonValue[];
}

export interface RestParent {
  /** An earlier stream of the description. */
  stream: string;
  /** The parent's property that `{parent}` in the path (and params) stands for. */
  key: string;
  /** The property each child record gets with the parent's key: a column, and the partition of its bookmark. */
  as: string;
}

export interface RestDescription {
  baseUrl: string;
  headers: Record<string, string>;
  auth: AuthSpec;
  startDate: string | undefined;
  streams: RestStream[];
  /** The optional `webhooks` section: how a sender pushes changes to `sync listen rest`. */
  webhooks: RestWebhooks | undefined;
  /** The optional `rate_limit` section: stay under the API's documented limits. */
  rateLimit: RestRateLimit;
  /** The optional `errors` section: error answers whose body says to retry, or to stop until a later run. */
  errors: ErrorRule[];
  /** The optional `change_feeds` section, by name. */
  changeFeeds: ReadonlyMap<string, RestChangeFeed>;
}

export interface RestRateLimit {
  requestsPerSecond?: number;
  maxConcurrent?: number;
  /** A header the API uses to say when its limit resets (besides Retry-After and the usual ones). */
  resetHeader?: string;
  /** Tighter limits of particular endpoints (a search endpoint), kept besides the overall ones. */
  endpoints?: EndpointLimit[];
}

/** What one event name of the webhook section maps to. */
export interface RestWebhookEvent {
  /** A stream of the description. */
  stream: string;
  /**
   * Dotted path of the changed object in the event; undefined: the whole event is the object.
   * An array there holds several objects, each one record (a push's commits).
   */
  objectPath: string | undefined;
  /** The event reports a deletion of the object. */
  deleted: boolean;
  /**
   * The stream is a child stream: its records carry the parent's key as `as`, as a batch
   * read gives them. `path` says where that key is in the event (a dotted path; for
   * `salesforce_outbound`, a field of the sObject); undefined: the object must carry `as` itself.
   */
  parentKey?: { as: string; path: string | undefined };
  /**
   * The payload is shaped otherwise than the stream's records: each stream property and the
   * dotted path in the object its value comes from. The record is built from these alone.
   */
  fields?: readonly RestFieldPath[];
  /** Stream properties a record must have: a delivery whose object lacks one is a dead letter. */
  required?: readonly string[];
  /** A thin event: the object gives the key only; the record is fetched back through the stream's `item_path`. */
  fetch?: boolean;
}

/** One entry of an event's `fields`: the stream's property, and where its value is. */
export interface RestFieldPath {
  property: string;
  path: string;
}

/** Requests senders make that are not deliveries, answered without storing anything. */
export const HANDSHAKES = ['github_ping', 'slack_url_verification', 'get_check'] as const;
export type Handshake = (typeof HANDSHAKES)[number];

export interface RestWebhooks {
  scheme: Scheme;
  /** The setting holding the secret(s) (space-separated during a rotation). */
  secretSetting: string;
  /** Where the event name is: a dotted path in the event, or a header. */
  eventFrom: { path: string } | { header: string };
  /**
   * Dotted path in the event of an action that refines the event name: `<event>.<action>`
   * is looked up first, then `<event>` (GitHub's `issues` header and `action: deleted`).
   */
  actionPath: string | undefined;
  /**
   * The body carries a list of events (HubSpot): each is routed and mapped on its own, and
   * every path of the section is read inside it. `path` undefined: the body is the list.
   */
  batch: { path: string | undefined } | undefined;
  /** Event name → stream; events not listed are ignored. */
  events: ReadonlyMap<string, RestWebhookEvent>;
  /** Where the sender's delivery id is (the dedup key); undefined: the scheme's, else a digest of the body. */
  deliveryId: { header: string } | { path: string } | undefined;
  /** Dotted path in the event of the object's version (e.g. `data.updated_at`). */
  versionPath: string | undefined;
  /** Dotted path in the event of the event time, the version when `versionPath` gives none. */
  timePath: string | undefined;
  /** Handshakes to answer (GitHub's ping, Slack's url_verification, a GET check of the URL). */
  handshakes: readonly Handshake[];
  /**
   * `json` (default); `form`: an `application/x-www-form-urlencoded` body with bracket names
   * (Mailchimp), read into an object and then mapped as JSON is; or `salesforce_outbound`:
   * Salesforce Outbound Messages (SOAP XML, each notification an sObject; `events` keyed by
   * sObject type; answered with the SOAP Ack).
   */
  format: WebhookFormat;
}

export const WEBHOOK_FORMATS = ['json', 'form', 'salesforce_outbound'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** `batch_path` value meaning "the body itself is the list of events". */
export const WHOLE_BODY_BATCH = '.';

/**
 * Most records one delivery may become. Senders batch in the hundreds at most (HubSpot sends
 * up to 100 events a request); a body of a million tiny elements would otherwise become a
 * million records held at once, and one commit of the target.
 */
export const MAX_RECORDS_PER_DELIVERY = 10_000;

/** Settings that hold credentials: top level, so each can come from `SYNC_REST_<NAME>` instead of the file. */
export const SECRET_SETTINGS = ['api_key', 'token', 'username', 'password', 'client_id', 'client_secret', 'refresh_token'] as const;

/** Settings a webhook section may name as its `secret_setting` (declared by the connector, so each has `SYNC_REST_<NAME>`). */
export const WEBHOOK_SECRET_SETTINGS = ['webhook_secret'] as const;

