import type { JsonObject, JsonValue } from '../protocol/json.js';
import type { SyncState } from '../protocol/state.js';
import type { Logger } from '../log.js';

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
  /** Yields the stream's records, those with `replicationKey >= ctx.bookmark` when a bookmark is given. */
  read(ctx: StreamContext<Config>): AsyncIterable<JsonObject>;
}

export interface ConnectorDefinition<Config> {
  name: string;
  version: string;
  description: string;
  config: ConfigSpec;
  streams: readonly StreamDefinition<Config>[];
}

export type AnyConnector = ConnectorDefinition<object>;

export function defineConnector<Config extends object>(definition: ConnectorDefinition<Config>): ConnectorDefinition<Config> {
  return definition;
}

export function defineStream<Config>(definition: StreamDefinition<Config>): StreamDefinition<Config> {
  return definition;
}
