import type { AnyConnector } from '../connector/contract.js';
import type { Logger } from '../log.js';
import type { JsonObject } from '../protocol/json.js';

/**
 * A connector as `sync listen` serves it: streams and webhook support that come from the
 * config (the rest connector's description) are resolved once the config is known, in the
 * listener and again on the drain's thread.
 */
export async function resolveForListen(
  connector: AnyConnector,
  config: JsonObject,
  ctx: { log: Logger; signal: AbortSignal },
): Promise<AnyConnector> {
  const webhooks = connector.resolveWebhooks ? connector.resolveWebhooks(config) : connector.webhooks;
  const streams = connector.resolveStreams ? await connector.resolveStreams(config, ctx) : connector.streams;
  const { webhooks: _static, ...rest } = connector;
  return webhooks ? { ...rest, streams, webhooks } : { ...rest, streams };
}
