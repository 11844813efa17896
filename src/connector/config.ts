import AjvModule, { type ErrorObject } from 'ajv';
import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import { parseInstant } from '../protocol/instant.js';
import type { ConfigProperty, ConfigSpec } from './contract.js';

/**
 * Configuration is validated once, here, at the edge: a JSON file, then the environment
 * (`SYNC_<CONNECTOR>_<SETTING>`, which wins, so cron jobs keep secrets out of files),
 * then defaults. Every problem is reported, each with its path.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

const Ajv = AjvModule.default;

export function envName(connector: string, setting: string): string {
  return `SYNC_${connector}_${setting}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export interface ConfigSources {
  /** Parsed JSON of --config (undefined when none was given). */
  file?: JsonValue | undefined;
  /** Where the file came from, for messages. */
  fileName?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** Merges file, environment and defaults, then validates against the spec. */
export function resolveConfig(connector: string, spec: ConfigSpec, sources: ConfigSources): { config: JsonObject; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const where = sources.fileName ?? 'config';
  let config: JsonObject = {};
  if (sources.file !== undefined) {
    if (!isJsonObject(sources.file)) throw new ConfigError(`${where}: must be a JSON object`, [`${where}: must be a JSON object`]);
    config = { ...sources.file };
    for (const key of Object.keys(config)) {
      if (!(key in spec.properties)) warnings.push(`${where}: unknown setting "${key}" is ignored`);
    }
  }
  for (const [name, property] of Object.entries(spec.properties)) {
    const variable = envName(connector, name);
    const raw = sources.env[variable];
    if (raw === undefined || raw === '') continue;
    const value = fromEnvironment(raw, property);
    if (value === undefined) problems.push(`${variable}: expected ${property.type}, got ${property.secret ? 'a value' : JSON.stringify(raw)}`);
    else config[name] = value;
  }
  for (const [name, property] of Object.entries(spec.properties)) {
    if (config[name] === undefined && property.default !== undefined) config[name] = property.default;
  }
  problems.push(...validateConfig(spec, config));
  if (problems.length) {
    // Unknown settings are listed too: a misspelt name is often the cause of a missing one.
    throw new ConfigError(`invalid configuration for ${connector} (${problems.length} problem${problems.length > 1 ? 's' : ''})`, [
      ...problems,
      ...warnings.map((w) => `warning: ${w}`),
    ]);
  }
  return { config, warnings };
}

function fromEnvironment(raw: string, property: ConfigProperty): JsonValue | undefined {
  switch (property.type) {
    case 'string':
      return raw;
    case 'integer': {
      const n = Number(raw.trim());
      return /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(n) ? n : undefined;
    }
    case 'number': {
      const n = Number(raw.trim());
      return raw.trim() !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      return undefined;
    }
    default:
      try {
        return JSON.parse(raw) as JsonValue;
      } catch {
        return undefined;
      }
  }
}

function validateConfig(spec: ConfigSpec, config: JsonObject): string[] {
  // The schema is the connector's own, from code: checking it against the meta-schema would
  // only cost start-up time (compiling the meta-schema is most of ajv's first compile).
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, validateSchema: false, verbose: true });
  const schema = {
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(spec.properties).map(([name, p]) => {
        const { secret: _secret, description: _description, examples: _examples, format: _format, ...rest } = p;
        return [name, rest];
      }),
    ),
    required: spec.required ?? [],
  };
  const validate = ajv.compile(schema);
  const problems: string[] = [];
  if (!validate(config)) {
    for (const e of validate.errors ?? []) problems.push(describe(e, spec));
  }
  for (const [name, property] of Object.entries(spec.properties)) {
    const value = config[name];
    if (property.format === 'date-time' && typeof value === 'string' && parseInstant(value) === undefined) {
      problems.push(`${name}: must be an ISO 8601 date-time such as 2024-01-31T00:00:00Z (got ${JSON.stringify(value)})`);
    }
  }
  return problems;
}

function describe(e: ErrorObject, spec: ConfigSpec): string {
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return `${missing}: required setting is missing`;
  }
  const path = e.instancePath.slice(1).replaceAll('/', '.') || 'config';
  const top = path.split('.')[0] ?? path;
  const secret = spec.properties[top]?.secret === true;
  const got = secret || e.data === undefined ? '' : ` (got ${JSON.stringify(e.data)})`;
  return `${path}: ${e.message ?? 'is invalid'}${got}`;
}

/** Setting values marked secret, so messages can be scrubbed of them. */
export function secretValues(spec: ConfigSpec, config: JsonObject): string[] {
  const out: string[] = [];
  for (const [name, property] of Object.entries(spec.properties)) {
    const value = config[name];
    if (property.secret && typeof value === 'string' && value.length >= 4) out.push(value);
  }
  return out;
}

/** The config with secret values replaced, safe to print. */
export function redactConfig(spec: ConfigSpec, config: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(config)) {
    out[name] = spec.properties[name]?.secret && value !== null ? '********' : value;
  }
  return out;
}
