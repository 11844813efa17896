import type { WebhookDelivery, WebhookEvent, WebhookMapContext, WebhookReply } from '../../src/connector/contract.js';
import { isJsonObject, type JsonObject } from '../../src/protocol/json.js';
import type { RestStream, RestWebhooks } from './description/index.js';
import { withParentKey } from './parent-key.js';
import { setOwn, valueForProperty } from './webhook-values.js';
import { findAll, parseXml, type XmlElement } from './xml.js';

/**
 * Salesforce Outbound Messages: a SOAP body with up to 100 `Notification`s, each carrying one
 * `sObject` whose type (`xsi:type="sf:Opportunity"`) picks the stream through `events`.
 * Field values arrive as text and are typed by the stream's schema. Salesforce resends a
 * message until it gets the SOAP Ack, so the Ack is the answer once the delivery is stored.
 */

export function salesforceAck(): WebhookReply {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body:
      '<?xml version="1.0" encoding="UTF-8"?>' +
      '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
      '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>' +
      '</soapenv:Body></soapenv:Envelope>',
  };
}

export interface SalesforceOutboundOptions {
  /**
   * The org whose messages are accepted (15 or 18 characters): a message with another
   * OrganizationId, or none, is refused as a whole. The token in the URL says the sender knew
   * the secret; this says the message is about the org the streams read.
   */
  organizationId?: string;
}

/**
 * `context` gives the schema each record is checked against (the description's, or the one
 * inferred at start when it gives none): values are typed by that same schema, or a schema
 * inferred from the API would see every boolean and number as text.
 */
export function mapSalesforceOutbound(
  webhooks: RestWebhooks,
  streams: readonly RestStream[],
  delivery: WebhookDelivery,
  context?: WebhookMapContext,
  options: SalesforceOutboundOptions = {},
): WebhookEvent[] {
  const message = parseXml(delivery.text);
  if (options.organizationId !== undefined) checkOrganization(message, options.organizationId);
  const notifications = findAll(message, 'Notification');
  if (notifications.length === 0) throw new Error('no Notification in the message');
  const out: WebhookEvent[] = [];
  for (const notification of notifications) {
    const sObject = notification.children.find((c) => c.name === 'sObject');
    if (!sObject) throw new Error('a Notification without its sObject');
    const type = attribute(sObject, 'type');
    if (type === undefined) throw new Error('an sObject without its xsi:type');
    const event = webhooks.events.get(type.slice(type.lastIndexOf(':') + 1));
    if (event === undefined) continue;
    const schema = context?.schemaOf(event.stream) ?? streams.find((s) => s.name === event.stream)?.schema;
    const properties = schema && isJsonObject(schema['properties']) ? schema['properties'] : {};
    const record: JsonObject = {};
    for (const field of sObject.children) {
      // Related objects arrive nested; only the sObject's own fields become columns.
      if (field.children.length > 0) continue;
      // An element may be named __proto__: kept as a field, never taken as the prototype.
      setOwn(record, field.name, attribute(field, 'nil') === 'true' ? null : valueForProperty(field.text, Object.hasOwn(properties, field.name) ? properties[field.name] : undefined));
    }
    const name = type.slice(type.lastIndexOf(':') + 1);
    out.push({ stream: event.stream, record: withParentKey(record, event, (field) => record[field], name), ...(event.deleted ? { deleted: true } : {}) });
  }
  return out;
}

function attribute(element: XmlElement, local: string): string | undefined {
  for (const [name, value] of Object.entries(element.attributes)) {
    if (name === local || name.endsWith(`:${local}`)) return value;
  }
  return undefined;
}

/** Throws unless the message's OrganizationId is `expected`. */
function checkOrganization(message: XmlElement, expected: string): void {
  const given = findAll(message, 'OrganizationId')[0]?.text.trim() ?? '';
  if (given === '') throw new Error('the message has no OrganizationId');
  if (!sameSalesforceId(given, expected)) throw new Error(`the message is from organization ${JSON.stringify(given.slice(0, 40))}, not ${expected} (organization_id)`);
}

/**
 * Salesforce ids come in 15 case-sensitive characters or 18 (the same 15 and a checksum of
 * their case): Setup shows an org's id in 15, outbound messages carry 18.
 */
export function sameSalesforceId(a: string, b: string): boolean {
  const valid = (id: string): boolean => /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(id);
  return valid(a) && valid(b) && a.slice(0, 15) === b.slice(0, 15);
}
