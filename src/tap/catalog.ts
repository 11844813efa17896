import { versionKeyOf, type AnyConnector, type StreamDefinition } from '../connector/contract.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import { UsageError } from '../errors.js';

/**
 * The Singer catalog: `--discover` prints it, `--catalog FILE` selects streams and fields
 * from it, `--streams a,b` is the short form. Without either, every stream is selected.
 */

export interface SelectedStream {
  definition: StreamDefinition<object>;
  /** Top-level properties the user deselected; dropped from the schema and from records. */
  excluded: Set<string>;
}

export function discoverCatalog(connector: AnyConnector): JsonObject {
  return {
    streams: connector.streams.map((s) => {
      const keys = [...s.keyProperties];
      const version = versionKeyOf(s);
      const automatic = new Set([...keys, ...(version ? [version] : [])]);
      const properties = isJsonObject(s.schema['properties']) ? Object.keys(s.schema['properties']) : [];
      const streamMeta: JsonObject = {
        inclusion: 'available',
        'selected-by-default': true,
        'table-key-properties': keys,
        'forced-replication-method': s.replicationKey ? 'INCREMENTAL' : 'FULL_TABLE',
      };
      if (s.replicationKey) streamMeta['valid-replication-keys'] = [s.replicationKey];
      // Which copy of a row wins (batch and webhooks interleave), and how deletions arrive.
      streamMeta['sync-version'] = versionRule(s);
      streamMeta['sync-deletions'] = deletionRule(s);
      const entry: JsonObject = {
        tap_stream_id: s.name,
        stream: s.name,
        schema: s.schema,
        key_properties: keys,
        replication_method: s.replicationKey ? 'INCREMENTAL' : 'FULL_TABLE',
        metadata: [
          { breadcrumb: [], metadata: streamMeta },
          ...properties.map((p) => ({
            breadcrumb: ['properties', p],
            metadata: { inclusion: automatic.has(p) ? 'automatic' : 'available', 'selected-by-default': true },
          })),
        ],
      };
      if (s.replicationKey) entry['replication_key'] = s.replicationKey;
      return entry;
    }),
  };
}

/** Which copy of a row wins, in a sentence (`--discover`'s `sync-version`, `--about`). */
export function versionRule(s: StreamDefinition<object>): string {
  const version = versionKeyOf(s);
  return s.versionNote ?? (version ? `the record's ${version} (the newest copy of a row wins, whichever path wrote it)` : 'none: the copy written last wins');
}

/** How deletions reach the rows, in a sentence (`--discover`'s `sync-deletions`, `--about`). */
export function deletionRule(s: StreamDefinition<object>): string {
  return s.deletions ?? 'not listed by the source (webhooks, where the connector has them, mark rows deleted)';
}

export function selectAll(connector: AnyConnector): SelectedStream[] {
  return connector.streams.map((definition) => ({ definition, excluded: new Set() }));
}

export function selectByNames(connector: AnyConnector, names: string[]): SelectedStream[] {
  const known = new Map(connector.streams.map((s) => [s.name, s]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UsageError(
      `unknown stream${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')} for ${connector.name}; streams: ${[...known.keys()].join(', ')}`,
    );
  }
  // Keep the connector's order: parents before children, and a stable resume order.
  return connector.streams.filter((s) => names.includes(s.name)).map((definition) => ({ definition, excluded: new Set() }));
}

/** Applies a Singer catalog: stream and field `selected` metadata, with the usual defaults. */
export function selectFromCatalog(connector: AnyConnector, catalog: JsonValue, file: string): SelectedStream[] {
  const fail = (problem: string): never => {
    throw new UsageError(`${file}: ${problem}`);
  };
  if (!isJsonObject(catalog) || !Array.isArray(catalog['streams'])) return fail('a catalog is an object with a "streams" list');
  const byName = new Map(connector.streams.map((s) => [s.name, s]));
  const chosen = new Map<string, Set<string>>();
  catalog['streams'].forEach((entry, i) => {
    if (!isJsonObject(entry)) return fail(`streams[${i}] must be an object`);
    const id = entry['tap_stream_id'] ?? entry['stream'];
    if (typeof id !== 'string') return fail(`streams[${i}] has no "tap_stream_id"`);
    if (!byName.has(id)) return fail(`streams[${i}]: ${connector.name} has no stream ${JSON.stringify(id)} (streams: ${[...byName.keys()].join(', ')})`);
    const metadata = Array.isArray(entry['metadata']) ? entry['metadata'] : [];
    const root = findMetadata(metadata, []);
    if (!isSelected(root, entry)) return;
    const excluded = new Set<string>();
    for (const item of metadata) {
      if (!isJsonObject(item) || !Array.isArray(item['breadcrumb'])) continue;
      const crumb = item['breadcrumb'];
      if (crumb.length !== 2 || crumb[0] !== 'properties' || typeof crumb[1] !== 'string') continue;
      const meta = isJsonObject(item['metadata']) ? item['metadata'] : {};
      if (meta['inclusion'] === 'automatic') continue;
      if (meta['selected'] === false || meta['selected'] === 'false' || meta['inclusion'] === 'unsupported') excluded.add(crumb[1]);
    }
    const definition = byName.get(id) as StreamDefinition<object>;
    const version = versionKeyOf(definition);
    for (const key of [...definition.keyProperties, ...(version ? [version] : [])]) excluded.delete(key);
    chosen.set(id, excluded);
  });
  return connector.streams.filter((s) => chosen.has(s.name)).map((definition) => ({ definition, excluded: chosen.get(definition.name) as Set<string> }));
}

function findMetadata(metadata: JsonValue[], breadcrumb: string[]): JsonObject | undefined {
  for (const item of metadata) {
    if (!isJsonObject(item) || !Array.isArray(item['breadcrumb'])) continue;
    const crumb = item['breadcrumb'];
    if (crumb.length === breadcrumb.length && crumb.every((c, i) => c === breadcrumb[i])) {
      return isJsonObject(item['metadata']) ? item['metadata'] : undefined;
    }
  }
  return undefined;
}

/** `selected` wins; then `selected-by-default`; an entry with no metadata at all counts as selected. */
function isSelected(root: JsonObject | undefined, entry: JsonObject): boolean {
  const legacy = isJsonObject(entry['schema']) ? entry['schema']['selected'] : undefined;
  const value = root?.['selected'] ?? legacy;
  if (value !== undefined && value !== null) return value === true || value === 'true';
  if (root?.['selected-by-default'] !== undefined) return root['selected-by-default'] === true;
  return true;
}

/** The schema with deselected properties removed. */
export function selectedSchema(stream: SelectedStream): JsonObject {
  const schema = stream.definition.schema;
  if (stream.excluded.size === 0 || !isJsonObject(schema['properties'])) return schema;
  const properties: JsonObject = {};
  for (const [k, v] of Object.entries(schema['properties'])) if (!stream.excluded.has(k)) properties[k] = v;
  const out: JsonObject = { ...schema, properties };
  if (Array.isArray(schema['required'])) out['required'] = schema['required'].filter((r) => typeof r === 'string' && !stream.excluded.has(r));
  return out;
}
