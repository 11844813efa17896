import { loadConnector } from '../connector/registry.js';
import type { Logger } from '../log.js';
import { WebhookMapper } from '../listen/mapping.js';
import { resolveForListen } from '../listen/resolve.js';
import { connectorConfig, pickSection } from './connector-config.js';
import { readJsonFile } from './files.js';
import type { CliIo } from './io.js';

/**
 * The mapping of stored deliveries into records, per connector, for the commands that write
 * deliveries without receiving them (`sync drain`, `sync inbox replay`). Connectors whose
 * webhooks come from their config (rest) need it, as for `sync listen`; stored deliveries are
 * never verified again, so their secrets need not be usable. A connector without webhook
 * support is left out.
 */
export async function webhookMappers(names: readonly string[], configFile: string | undefined, io: CliIo, log: Logger): Promise<Map<string, WebhookMapper>> {
  const mappers = new Map<string, WebhookMapper>();
  const file = configFile ? readJsonFile(configFile, '--config') : undefined;
  for (const name of names) {
    const loaded = await loadConnector(name);
    if (!loaded.webhooks && !loaded.resolveWebhooks) continue;
    const section = names.length > 1 ? pickSection(file, name, configFile) : file;
    const config = loaded.resolveWebhooks || loaded.resolveStreams ? connectorConfig(loaded, section, configFile, io, { log, checkWebhookSecrets: false }) : {};
    const connector = await resolveForListen(loaded, config, { log, signal: io.signal });
    if (connector.webhooks) mappers.set(name, new WebhookMapper(connector));
  }
  return mappers;
}
