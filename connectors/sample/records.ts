import type { JsonObject, JsonValue } from '../../src/protocol/json.js';
import { draw, pick, versionHash } from './hash.js';
import type { IsoFormatter } from './iso-time.js';
import {
  Salt,
  customerCreatedAt,
  customerDeletedAt,
  customerHash,
  orderCancelledStage,
  orderCreatedAt,
  orderCustomerId,
  orderDeletedAt,
  orderHash,
  ORDER_STATUSES,
  type Simulation,
} from './generator.js';
import {
  COMPANY_SUFFIXES,
  COUNTRIES,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  PLANS,
  PRODUCTS,
  STREETS,
  TAGS,
  type Country,
} from './vocabulary.js';

/**
 * Records from an object's id and latest version. Attributes fixed for life hash the object;
 * those that change (plan, tags, lifetime value, status) hash the version, so a version
 * always reads the same whatever the simulated present.
 */

// Emails are lower case; lowering once here spares a million calls.
const FIRST_NAMES_LOWER = FIRST_NAMES.map((name) => name.toLowerCase());
const LAST_NAMES_LOWER = LAST_NAMES.map((name) => name.toLowerCase());

function customerCountry(base: number): Country {
  return pick(COUNTRIES, draw(base, Salt.country));
}

export function customerRecord(sim: Simulation, times: IsoFormatter, id: number, version: number, updatedMs: number): JsonObject {
  const base = customerHash(sim, id);
  const created = customerCreatedAt(sim, id, base);
  const deleted = customerDeletedAt(base, created);
  const first = draw(base, Salt.firstName) % FIRST_NAMES.length;
  const last = draw(base, Salt.lastName) % LAST_NAMES.length;
  const country = customerCountry(base);
  const companyDraw = draw(base, Salt.company);
  const changes = versionHash(base, version);
  return {
    id,
    // The id keeps emails unique however often names repeat.
    email: `${FIRST_NAMES_LOWER[first]}.${LAST_NAMES_LOWER[last]}.${id}@${pick(EMAIL_DOMAINS, draw(base, Salt.emailDomain))}`,
    name: `${FIRST_NAMES[first]} ${LAST_NAMES[last]}`,
    company: companyDraw % 10 < 3 ? null : `${pick(LAST_NAMES, companyDraw >>> 4)} ${pick(COMPANY_SUFFIXES, draw(base, Salt.companySuffix))}`,
    country: country.code,
    plan: pick(PLANS, draw(changes, Salt.plan)),
    tags: customerTags(draw(changes, Salt.tags)),
    address: {
      street: `${1 + (draw(base, Salt.houseNumber) % 240)} ${pick(STREETS, draw(base, Salt.street))}`,
      city: pick(country.cities, draw(base, Salt.city)),
      postal_code: postalCode(country.postalFormat, draw(base, Salt.postalCode)),
      country: country.code,
    },
    lifetime_value: lifetimeValueCents(base, changes, version) / 100,
    created_at: times.format(created),
    updated_at: times.format(updatedMs),
    _sdc_deleted_at: deleted <= sim.nowMs ? times.format(deleted) : null,
  };
}

/** Each tag with probability 1/8, four bits of the hash per tag. */
function customerTags(hash: number): string[] {
  const tags: string[] = [];
  for (let t = 0; t < TAGS.length; t++) {
    if (((hash >>> (t * 4)) & 15) < 2) tags.push(TAGS[t] as string);
  }
  return tags;
}

/** Grows with every version (v*spend + less than spend), as a customer's total spend does. */
function lifetimeValueCents(base: number, changes: number, version: number): number {
  if (version === 0) return 0;
  const spendPerPeriod = 1_000 + (draw(base, Salt.spendPerPeriod) % 50_000);
  return version * spendPerPeriod + (draw(changes, Salt.lifetimeValue) % spendPerPeriod);
}

const DIGITS = '0123456789'.split('');
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');

function postalCode(format: string, hash: number): string {
  let out = '';
  let h = hash;
  // The longest format needs about 10^7 values, well within the hash's 2^32.
  for (const c of format) {
    if (c === '9') {
      out += DIGITS[h % 10] as string;
      h = Math.floor(h / 10);
    } else if (c === 'A') {
      out += LETTERS[h % 26] as string;
      h = Math.floor(h / 26);
    } else {
      out += c;
    }
  }
  return out;
}

export function orderRecord(sim: Simulation, times: IsoFormatter, id: number, stage: number, updatedMs: number): JsonObject {
  const base = orderHash(sim, id);
  const created = orderCreatedAt(sim, id, base);
  const deleted = orderDeletedAt(base, created);
  const customerId = orderCustomerId(sim, base, created);
  const currency = customerId === null ? 'USD' : customerCountry(customerHash(sim, customerId)).currency;
  const itemCount = 1 + (draw(base, Salt.lineItems) % 5);
  const lineItems: JsonValue[] = [];
  let totalCents = 0;
  for (let i = 0; i < itemCount; i++) {
    const h = draw(base, Salt.product + i);
    const product = pick(PRODUCTS, h);
    const quantity = 1 + ((h >>> 16) % 4);
    totalCents += product.priceCents * quantity;
    lineItems.push({ sku: product.sku, name: product.name, quantity, unit_price: product.priceCents / 100 });
  }
  const cancelled = orderCancelledStage(base);
  return {
    id,
    customer_id: customerId,
    status: cancelled !== 0 && stage === cancelled ? 'cancelled' : (ORDER_STATUSES[stage] ?? 'pending'),
    currency,
    line_items: lineItems,
    total: totalCents / 100,
    created_at: times.format(created),
    updated_at: times.format(updatedMs),
    _sdc_deleted_at: deleted <= sim.nowMs ? times.format(deleted) : null,
  };
}
