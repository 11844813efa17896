import { envName } from '../connector/config.js';
import type { AnyConnector } from '../connector/contract.js';
import type { JsonObject, JsonValue } from '../protocol/json.js';

/** `--about`: what a connector is and which settings it takes, generated from its spec. */
export function aboutConnector(connector: AnyConnector): JsonObject {
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
    streams: connector.streams.map((s) => ({
      name: s.name,
      key_properties: [...s.keyProperties],
      replication_key: s.replicationKey ?? null,
    })),
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
  if (streams.length === 0) {
    lines.push(`  built from its config: sync run ${text(about['name'])} --config FILE --discover lists them, with their keys and schemas`);
  }
  for (const s of streams) {
    const rk = s['replication_key'] ? `, incremental by ${text(s['replication_key'])}` : ', full table';
    lines.push(`  ${text(s['name'])} (key ${(s['key_properties'] as string[]).join(', ') || 'none'}${rk})`);
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
