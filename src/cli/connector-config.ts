import { resolveConfig, secretValues, ConfigError } from '../connector/config.js';
import type { AnyConnector } from '../connector/contract.js';
import { UsageError } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { CliIo } from './io.js';

/** A connector's settings for `sync listen` and `sync inbox`: file (or its section), environment, defaults. */

export function connectorConfig(connector: AnyConnector, file: JsonValue | undefined, fileName: string | undefined, io: CliIo): JsonObject {
  try {
    const { config } = resolveConfig(connector.name, connector.config, { file, fileName, env: io.env });
    io.secrets.push(...secretValues(connector.config, config));
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, err.problems);
    throw err;
  }
}

/** With several connectors, --config holds one section per connector: {"sample": {...}}. */
export function pickSection(file: JsonValue | undefined, name: string, fileName: string | undefined): JsonValue | undefined {
  if (file === undefined) return undefined;
  if (!isJsonObject(file)) throw new UsageError(`--config ${fileName ?? ''}: must be a JSON object`);
  const section = file[name];
  if (section !== undefined && !isJsonObject(section)) throw new UsageError(`--config ${fileName ?? ''}: "${name}" must be an object of settings`);
  return section;
}

