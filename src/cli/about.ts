import { envName } from '../connector/config.js';
import type { AnyConnector, StreamDefinition } from '../connector/contract.js';
import type { JsonObject, JsonValue } from '../protocol/json.js';
import { deletionRule, versionRule } from '../tap/catalog.js';

/**
 * `--about`: what a connector is, its streams and which settings it takes, generated from its
 * spec. `streams` are the connector's own, or those its settings build (run-command.ts);
 * undefined when they come from a config none gave.
 */
export function aboutConnector(connector: AnyConnector, streams: readonly StreamDefinition<object>[] | undefined): JsonObject {
  const required = new Set(connector.config.required ?? []);
  return {
    name: connector.name,
    version: connector.version,
    description: connector.description,
    capabilities: [
      'catalog',
      'discover',
      'state',
      'about',
      'incremental',
      ...(connector.webhooks || connector.resolveWebhooks ? ['webhooks'] : []),
    ],
    streams: (streams ?? []).map((s) => ({
      name: s.name,
      key_properties: [...s.keyProperties],
      replication_key: s.replicationKey ?? null,
      version: versionRule(s),
      deletions: deletionRule(s),
    })),
    // Empty streams mean "give --config", not "none".
    streams_need_config: streams === undefined,
    settings: Object.entries(connector.config.properties).map(([name, p]) => ({
      name,
      type: p.type,
      description: p.description,
      required: required.has(name),
      secret: p.secret === true,
      default: p.default ?? null,
      env: envName(connector.name, name),
    })),
  };
}

export function formatAbout(about: JsonObject, format: string): string {
  if (format === 'json') return JSON.stringify(about, null, 2) + '\n';
  const lines = [`${text(about['name'])} ${text(about['version'])}: ${text(about['description'])}`, '', 'Streams:'];
  const streams = about['streams'] as JsonObject[];
  if (about['streams_need_config'] === true) {
    lines.push(`  built from its config: sync run ${text(about['name'])} --config FILE --about lists them (--discover, with their schemas)`);
  }
  for (const s of streams) {
    const rk = s['replication_key'] ? `, incremental by ${text(s['replication_key'])}` : ', full table';
    lines.push(`  ${text(s['name'])} (key ${(s['key_properties'] as string[]).join(', ') || 'none'}${rk})`);
    lines.push(`      version: ${text(s['version'])}`, `      deletions: ${text(s['deletions'])}`);
  }
  lines.push('', 'Settings (config file key, or environment variable):');
  for (const s of about['settings'] as JsonObject[]) {
    const flags = [text(s['type']), s['required'] ? 'required' : '', s['secret'] ? 'secret' : '', s['default'] !== null ? `default ${JSON.stringify(s['default'])}` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${text(s['name'])} / ${text(s['env'])} (${flags})`, `      ${text(s['description'])}`);
  }
  return lines.join('\n') + '\n';
}

/** A value of the description as text: strings as they are, anything else as JSON. */
function text(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}
