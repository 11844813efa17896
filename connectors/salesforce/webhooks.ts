import type { WebhookDelivery, WebhookEvent, WebhookMapContext, WebhookSpec } from '../../src/connector/contract.js';
import { UsageError } from '../../src/errors.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { parseDescription } from '../rest/description/index.js';
import { mapSalesforceOutbound } from '../rest/salesforce.js';
import { restWebhookSpec } from '../rest/webhooks.js';
import { salesforceDescription } from './description.js';
import { recordShape, type Shape } from './records.js';
import { REPLICATION_KEY } from './schema.js';
import { settingsOf } from './settings.js';

/**
 * Outbound Messages into the streams, through the `rest` engine's `salesforce_outbound` format
 * (SOAP, up to 100 notifications, answered with the Ack once stored), plus what this
 * connector knows of its org and its records:
 *
 * - a message from another org than `organization_id` is a dead letter as a whole;
 * - a record is partial: a message carries the fields its workflow rule or flow selected,
 *   and leaves out empty ones, so the row keeps the others (the next `sync run` brings them);
 * - it is shaped as `sync run` shapes records (records.ts), and must carry `SystemModstamp`,
 *   its version: without it an old message could overwrite a newer row.
 *
 * Salesforce sends no message for a deletion; deletions come with `sync run` (queryAll).
 */
export function resolveSalesforceWebhooks(config: JsonObject): WebhookSpec {
  const settings = settingsOf(config);
  // Only the sObject names count here: the fields come from the streams' schemas at map time.
  const names = settings.objects.map((name) => ({ name }));
  const { description, problems } = parseDescription(salesforceDescription(settings, settings.instanceUrl ?? settings.loginUrl, names));
  const webhooks = description?.webhooks;
  if (description === undefined || webhooks === undefined) throw new UsageError('invalid settings for salesforce webhooks', problems);
  const streams = description.streams;
  const options = settings.organizationId === undefined ? {} : { organizationId: settings.organizationId };
  const shapes = new WeakMap<JsonObject, Shape>();
  const shapeFor = (schema: JsonObject | undefined): Shape => {
    if (schema === undefined) return recordShape(undefined);
    let shape = shapes.get(schema);
    if (shape === undefined) shapes.set(schema, (shape = recordShape(schema)));
    return shape;
  };
  return {
    ...restWebhookSpec(webhooks, streams),
    map: (delivery: WebhookDelivery, context?: WebhookMapContext): WebhookEvent[] =>
      mapSalesforceOutbound(webhooks, streams, delivery, context, options).map((event) => {
        const record = shapeFor(context?.schemaOf(event.stream))(event.record);
        for (const field of ['Id', REPLICATION_KEY]) {
          if (typeof record[field] !== 'string' || record[field] === '') {
            throw new Error(`a notification of stream ${event.stream} without ${field}: add ${field} to the outbound message's fields`);
          }
        }
        return { ...event, record, partial: true };
      }),
  };
}
