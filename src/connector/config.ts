import AjvModule, { type ErrorObject } from 'ajv';
import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import { parseInstant } from '../protocol/instant.js';
import type { ConfigProperty, ConfigSpec } from './contract.js';

/**
 * Configuration is validated once, here, at the edge: a JSON file, then the environment
 * (`SYNC_<CONNECTOR>_<SETTING>`, which wins, so cron jobs keep secrets out of files),
 * then defaults. Every problem is reported, each with its path and where its value came
 * from (the file or the environment variable), so the user knows what to edit.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** One line per problem, each naming the setting and where its value came from. */
    readonly problems: string[],
    /** Unknown settings: printed as warnings, since a misspelt name often explains a missing one. */
    readonly warnings: string[] = [],
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
  /**
   * Secrets are not required: the run answers its HTTP requests from recordings (`--replay`),
   * which hold no credentials, so a secret only the network would need may be left unset.
   */
  secretsOptional?: boolean;
}

/** Merges file, environment and defaults, then validates against the spec. */
export function resolveConfig(connector: string, spec: ConfigSpec, sources: ConfigSources): { config: JsonObject; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const where = sources.fileName ?? 'config';
  let config: JsonObject = {};
  /** Where each setting's value came from: the file, or the environment variable that set it. */
  const origin = new Map<string, string>();
  if (sources.file !== undefined) {
    if (!isJsonObject(sources.file)) throw new ConfigError(`${where}: must be a JSON object`, [`${where}: must be a JSON object`]);
    config = { ...sources.file };
    for (const key of Object.keys(config)) {
      if (!(key in spec.properties)) warnings.push(`${where}: unknown setting "${key}" is ignored`);
      else origin.set(key, where);
    }
  }
  for (const [name, property] of Object.entries(spec.properties)) {
    const variable = envName(connector, name);
    const raw = sources.env[variable];
    if (raw === undefined || raw === '') continue;
    origin.set(name, variable);
    const value = fromEnvironment(raw, property);
    if (value === undefined) problems.push(`${name} (${variable}): ${expectation(property)}${shownValue(property, raw)}`);
    else config[name] = value;
  }
  for (const [name, property] of Object.entries(spec.properties)) {
    if (config[name] === undefined && property.default !== undefined) {
      config[name] = property.default;
      origin.set(name, 'default');
    }
  }
  problems.push(...validateConfig(connector, sources.secretsOptional ? withoutRequiredSecrets(spec) : spec, config, origin));
  if (problems.length) {
    throw new ConfigError(`invalid configuration for ${connector} (${problems.length} problem${problems.length > 1 ? 's' : ''})`, problems, warnings);
  }
  return { config, warnings };
}

function withoutRequiredSecrets(spec: ConfigSpec): ConfigSpec {
  return { ...spec, required: (spec.required ?? []).filter((name) => spec.properties[name]?.secret !== true) };
}

/** What an environment value of this type must look like. */
function expectation(property: ConfigProperty): string {
  switch (property.type) {
    case 'boolean':
      return 'must be boolean: true or false (also 1/0, yes/no, on/off)';
    case 'object':
      return 'must be an object as JSON';
    case 'array':
      return 'must be a list: comma-separated (a,b,c) or JSON';
    default:
      return `must be ${property.type}`;
  }
}

/** ` (got "abc")`, or nothing for a secret: a problem line is printed, and may be logged. */
function shownValue(property: ConfigProperty, value: JsonValue): string {
  return property.secret ? '' : ` (got ${JSON.stringify(value)})`;
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
    case 'array': {
      // A list is comma-separated in the environment (`SYNC_MAILCHIMP_LIST_IDS=a1,b2`), the way
      // shells and service files write one; JSON still works for values holding commas.
      const text = raw.trim();
      if (text.startsWith('[')) return parsedJson(text);
      return text === '' ? [] : text.split(',').map((item) => item.trim()).filter((item) => item !== '');
    }
    default:
      return parsedJson(raw);
  }
}

function parsedJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

function validateConfig(connector: string, spec: ConfigSpec, config: JsonObject, origin: ReadonlyMap<string, string>): string[] {
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
    for (const e of validate.errors ?? []) problems.push(describe(e, connector, spec, origin));
  }
  for (const [name, property] of Object.entries(spec.properties)) {
    const value = config[name];
    if (property.format === 'date-time' && typeof value === 'string' && parseInstant(value) === undefined) {
      problems.push(`${named(name, origin)}: must be an ISO 8601 date-time such as 2024-01-31T00:00:00Z${shownValue(property, value)}`);
    }
  }
  return problems;
}

/** `orders (SYNC_SAMPLE_ORDERS)`, `orders (sample.json)`: a setting and where its value came from. */
function named(path: string, origin: ReadonlyMap<string, string>): string {
  const source = origin.get(path.split('.')[0] ?? path);
  return source === undefined ? path : `${path} (${source})`;
}

function describe(e: ErrorObject, connector: string, spec: ConfigSpec, origin: ReadonlyMap<string, string>): string {
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return `${missing}: required setting is missing (set it in --config or as ${envName(connector, missing)})`;
  }
  const path = e.instancePath.slice(1).replaceAll('/', '.') || 'config';
  const top = path.split('.')[0] ?? path;
  const property = spec.properties[top];
  const got = property?.secret === true || e.data === undefined ? '' : ` (got ${JSON.stringify(e.data)})`;
  return `${named(path, origin)}: ${e.message ?? 'is invalid'}${got}`;
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
