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
}

export interface RestGraphql {
  query: string;
  variables: JsonObject;
  /** `extensions.code` values retried (after the cost bucket refills) rather than failing. */
  retriableCodes: string[];
}

/** A record whose value at `path` is one of `values` is a deletion. */
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
}

export interface RestRateLimit {
  requestsPerSecond?: number;
  maxConcurrent?: number;
  /** A header the API uses to say when its limit resets (besides Retry-After and the usual ones). */
  resetHeader?: string;
}

/** What one event name of the webhook section maps to. */
export interface RestWebhookEvent {
  /** A stream of the description. */
  stream: string;
  /** Dotted path of the changed object in the body; undefined: the whole body is the object. */
  objectPath: string | undefined;
  /** The event reports a deletion of the object. */
  deleted: boolean;
  /**
   * The stream is a child stream: its records carry the parent's key as `as`, as a batch
   * read gives them. `path` says where that key is in the body (a dotted path; for
   * `salesforce_outbound`, a field of the sObject); undefined: the object must carry `as` itself.
   */
  parentKey?: { as: string; path: string | undefined };
}

/** Requests senders make that are not deliveries, answered without storing anything. */
export const HANDSHAKES = ['github_ping', 'slack_url_verification', 'get_check'] as const;
export type Handshake = (typeof HANDSHAKES)[number];

export interface RestWebhooks {
  scheme: Scheme;
  /** The setting holding the secret(s) (space-separated during a rotation). */
  secretSetting: string;
  /** Where the event name is: a dotted path in the JSON body, or a header. */
  eventFrom: { path: string } | { header: string };
  /** Event name → stream; events not listed are ignored. */
  events: ReadonlyMap<string, RestWebhookEvent>;
  /** Where the sender's delivery id is (the dedup key); undefined: the scheme's, else a digest of the body. */
  deliveryId: { header: string } | { path: string } | undefined;
  /** Dotted path in the body of the object's version (e.g. `data.updated_at`). */
  versionPath: string | undefined;
  /** Dotted path in the body of the event time, the version when `versionPath` gives none. */
  timePath: string | undefined;
  /** Handshakes to answer (GitHub's ping, Slack's url_verification, a GET check of the URL). */
  handshakes: readonly Handshake[];
  /**
   * `json` (default), or `salesforce_outbound`: Salesforce Outbound Messages (SOAP XML, each
   * notification an sObject; `events` keyed by sObject type; answered with the SOAP Ack).
   */
  format: 'json' | 'salesforce_outbound';
}

/** Settings that hold credentials: top level, so each can come from `SYNC_REST_<NAME>` instead of the file. */
export const SECRET_SETTINGS = ['api_key', 'token', 'username', 'password', 'client_id', 'client_secret', 'refresh_token'] as const;

/** Settings a webhook section may name as its `secret_setting` (declared by the connector, so each has `SYNC_REST_<NAME>`). */
export const WEBHOOK_SECRET_SETTINGS = ['webhook_secret'] as const;

