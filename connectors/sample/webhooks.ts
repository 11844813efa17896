import type { WebhookEvent, WebhookSpec } from '../../src/connector/contract.js';
import { isJsonObject } from '../../src/protocol/json.js';

/**
 * The sample shop pushes changes as Standard Webhooks, signed with the `webhook_secret`
 * setting. A delivery is `{"type": "<stream>.created|updated|deleted", "timestamp": "<ISO>",
 * "data": <the object exactly as its stream yields it>}`, so it lands in the row `sync run`
 * fills. The object's `updated_at` is its version; `timestamp` stands in when it has none.
 */

const EVENT_TYPE = /^([a-z][a-z0-9_]*)\.(created|updated|deleted)$/;

export const sampleWebhooks: WebhookSpec = {
  scheme: { kind: 'standard-webhooks' },
  secretSettings: ['webhook_secret'],
  eventName: { field: 'type' },
  map(delivery): WebhookEvent[] {
    const body = delivery.json;
    if (!isJsonObject(body)) throw new Error('the body is not a JSON object');
    const type = body['type'];
    const match = typeof type === 'string' ? EVENT_TYPE.exec(type) : null;
    if (!match) throw new Error(`"type" must be "<stream>.created", ".updated" or ".deleted" (got ${JSON.stringify(type ?? null)})`);
    const data = body['data'];
    if (!isJsonObject(data)) throw new Error('"data" must be the changed object');
    const timestamp = body['timestamp'];
    return [
      {
        stream: match[1] as string,
        record: data,
        deleted: match[2] === 'deleted',
        ...(typeof timestamp === 'string' ? { version: timestamp } : {}),
      },
    ];
  },
};
