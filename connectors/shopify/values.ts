import { isJsonObject, LosslessNumber, type JsonObject, type JsonValue } from '../../src/protocol/json.js';

/**
 * The value conversions both record paths share. The GraphQL Admin API and the REST-shaped
 * webhook payloads write the same facts differently (a `gid://` text or a number for an id,
 * `10.0` or `10.00` for an amount, UTC or the shop's offset for a time, a list or a
 * comma-separated text for tags); each function here writes one fact one way.
 */

const GID = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:\?.*)?$/;

/** `gid://shopify/Order/123` → 123 (exact beyond 2^53: Shopify's ids already pass 10^17). */
export function idFromGid(value: JsonValue | undefined): JsonValue {
  if (typeof value !== 'string') return null;
  const digits = GID.exec(value)?.[2];
  return digits === undefined ? null : exactInteger(digits);
}

/** A REST id (a number, or an exact one beyond 2^53) as the same value `idFromGid` gives. */
export function restId(value: JsonValue | undefined): JsonValue {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (value instanceof LosslessNumber && /^\d+$/.test(value.text)) return exactInteger(value.text);
  if (typeof value === 'string' && /^\d+$/.test(value)) return exactInteger(value);
  return null;
}

/** The Admin API's global id of an object, the form webhooks carry as `admin_graphql_api_id`. */
export function gidOf(type: string, id: JsonValue): string | null {
  const text = id instanceof LosslessNumber ? id.text : typeof id === 'number' ? String(id) : undefined;
  return text === undefined ? null : `gid://shopify/${type}/${text}`;
}

function exactInteger(digits: string): JsonValue {
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  const n = Number(trimmed);
  return Number.isSafeInteger(n) ? n : new LosslessNumber(trimmed);
}

/**
 * An amount as exact decimal text with at least two decimals: GraphQL's Decimal writes `10.0`
 * where REST writes `10.00`, and a third decimal (some currencies, unit prices) is kept.
 */
export function money(value: JsonValue | undefined): string | null {
  const text = value instanceof LosslessNumber ? value.text : typeof value === 'number' || typeof value === 'string' ? String(value) : undefined;
  if (text === undefined) return null;
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return null;
  const whole = (m[2] as string).replace(/^0+(?=\d)/, '');
  let fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${m[1]}${whole}.${fraction}`;
}

/** The shop-currency amount of a MoneyBag (`totalPriceSet { shopMoney { amount } }`). */
export function shopMoney(bag: JsonValue | undefined): string | null {
  const shop = isJsonObject(bag) ? bag['shopMoney'] : undefined;
  return money(isJsonObject(shop) ? shop['amount'] : undefined);
}

/**
 * A time as RFC 3339 UTC (`2026-01-10T09:30:00Z`): GraphQL answers in UTC, webhooks in the
 * shop's offset (`2026-01-10T04:30:00-05:00`). Milliseconds only when there are some.
 */
export function utc(value: JsonValue | undefined): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

/** Tags as a sorted list: GraphQL gives a list, REST a comma-separated text. */
export function tags(value: JsonValue | undefined): string[] {
  const list = Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : typeof value === 'string' ? value.split(',') : [];
  return list.map((t) => t.trim()).filter((t) => t !== '').sort();
}

/** A GraphQL enum (`PARTIALLY_REFUNDED`) as the REST vocabulary writes it (`partially_refunded`). */
export function lowerEnum(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value.toLowerCase() : null;
}

export function text(value: JsonValue | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

export function integer(value: JsonValue | undefined): JsonValue {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (value instanceof LosslessNumber) return value;
  return null;
}

export function bool(value: JsonValue | undefined): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** The `id` of a linked object (`customer { id }`) as a number. */
export function linkedId(value: JsonValue | undefined): JsonValue {
  return isJsonObject(value) ? idFromGid(value['id']) : null;
}

/** The nodes of a connection (`lineItems { nodes { … } }`), as the paged query and bulk reassembly give them. */
export function nodesOf(value: JsonValue | undefined): JsonObject[] {
  const nodes = isJsonObject(value) ? value['nodes'] : undefined;
  return Array.isArray(nodes) ? nodes.filter(isJsonObject) : [];
}
