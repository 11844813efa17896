import { envName, resolveConfig, secretValues, ConfigError } from '../connector/config.js';
import type { AnyConnector, WebhookSpec } from '../connector/contract.js';
import { UsageError } from '../errors.js';
import { verify } from '../listen/verify/index.js';
import type { Logger } from '../log.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import { cliLogger, type CliIo } from './io.js';

/** A connector's settings for `sync run`, `sync listen` and `sync inbox`: file (or its section), environment, defaults. */

export interface ConnectorConfigOptions {
  /** Where warnings (unknown settings) go; without it, plain text lines on stderr. */
  log?: Logger;
  /**
   * Check that the webhook secrets are ones the connector's signature scheme can use, so a
   * malformed one is refused at start-up rather than by every delivery (default: true).
   * Replays never verify, so they need no usable secret.
   */
  checkWebhookSecrets?: boolean;
  /** `--replay`: settings marked secret are not required (see `ConfigSources.secretsOptional`). */
  secretsOptional?: boolean;
}

export function connectorConfig(
  connector: AnyConnector,
  file: JsonValue | undefined,
  fileName: string | undefined,
  io: CliIo,
  options: ConnectorConfigOptions = {},
): JsonObject {
  const log = options.log ?? cliLogger(io, {});
  try {
    const { config, warnings } = resolveConfig(connector.name, connector.config, {
      file: sectionFor(connector, file, fileName),
      fileName,
      env: io.env,
      secretsOptional: options.secretsOptional === true,
    });
    io.secrets.push(...secretValues(connector.config, config));
    for (const w of warnings) log.warn(w);
    if (options.checkWebhookSecrets ?? true) {
      const problems = webhookSecretProblems(connector, config, fileName, io.env);
      if (problems.length) throw new ConfigError(`invalid configuration for ${connector.name} (${problems.length} problem${problems.length > 1 ? 's' : ''})`, problems);
    }
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      // Before the error: a misspelt setting is often why a required one is missing.
      for (const w of err.warnings) log.warn(w);
      throw new UsageError(err.message, err.problems);
    }
    throw err;
  }
}

/**
 * The part of a --config file that holds one connector's settings: the file itself, or its
 * section when the file is keyed by connector (`{"sample": {...}}`, the form `sync listen`
 * takes for several connectors), so one file can serve every command.
 */
export function sectionFor(connector: AnyConnector, file: JsonValue | undefined, fileName: string | undefined): JsonValue | undefined {
  if (!isJsonObject(file) || !Object.hasOwn(file, connector.name) || Object.hasOwn(connector.config.properties, connector.name)) return file;
  return pickSection(file, connector.name, fileName);
}

/** With several connectors, --config holds one section per connector: {"sample": {...}}. */
export function pickSection(file: JsonValue | undefined, name: string, fileName: string | undefined): JsonValue | undefined {
  if (file === undefined) return undefined;
  if (!isJsonObject(file)) throw new UsageError(`--config ${fileName ?? ''}: must be a JSON object`);
  const section = Object.hasOwn(file, name) ? file[name] : undefined;
  if (section !== undefined && !isJsonObject(section)) throw new UsageError(`--config ${fileName ?? ''}: "${name}" must be an object of settings`);
  return section;
}

/**
 * Webhook secrets the connector's signature scheme cannot turn into a key (a Standard Webhooks
 * `whsec_` secret that is not base64). The verifier itself is asked, with a request that
 * carries nothing: it derives the keys before it reads anything of the request, so "no usable
 * secret" is its answer for such a secret whatever the request, and the rule stays in one place.
 */
function webhookSecretProblems(connector: AnyConnector, config: JsonObject, fileName: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const webhooks: WebhookSpec | undefined = connector.resolveWebhooks ? connector.resolveWebhooks(config) : connector.webhooks;
  if (!webhooks) return [];
  const problems: string[] = [];
  const empty = { method: 'POST', url: '/', headers: {}, body: new Uint8Array(0) };
  for (const setting of webhooks.secretSettings) {
    const value = config[setting];
    // Several secrets, space-separated, during a rotation: each must be usable on its own.
    const secrets = typeof value === 'string' ? value.split(/\s+/).filter((s) => s !== '') : [];
    const unusable = secrets.filter((secret) => {
      const result = verify(webhooks.scheme, empty, [secret]);
      return !result.ok && result.reason === 'no usable secret';
    });
    if (unusable.length === 0) continue;
    const variable = envName(connector.name, setting);
    const source = env[variable] ? variable : (fileName ?? 'config');
    const which = secrets.length > 1 ? `${unusable.length} of its ${secrets.length} secrets ${unusable.length === 1 ? 'is' : 'are'}` : 'it is';
    problems.push(`${setting} (${source}): ${which} not a key the ${webhooks.scheme.kind} scheme can verify signatures with${hint(webhooks)}`);
  }
  return problems;
}

function hint(webhooks: WebhookSpec): string {
  return webhooks.scheme.kind === 'standard-webhooks' ? ' (a Standard Webhooks secret is whsec_ followed by base64)' : '';
}
