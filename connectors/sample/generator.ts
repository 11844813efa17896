import { draw, fraction, objectHash, seedKey, versionHash } from './hash.js';

/**
 * The simulated account: pure functions of (seed, customers, orders, now). Times are integer
 * milliseconds since the epoch.
 *
 * - The account opened at 2025-01-01T00:00:00Z. Customers 1..N are created during 2025, the
 *   year cut into N equal slices in id order, each customer at a seeded point of its slice;
 *   orders 1..M likewise. Customer 1 and order 1 are created exactly at the opening, so
 *   every order has a customer created before it. Creation times grow with the id, so a
 *   `now` in 2025 sees the first ids only.
 * - A customer changes forever: update k (k >= 1) happens at created + k*P + J(k), with a
 *   period P of 5-60 days per customer and a jitter J(k) in [0, P/2) per update, so updates
 *   strictly increase and the latest one before any instant is found in O(1).
 * - An order is pending when created, then paid (5 min-2 days later), shipped (2 h-4 days
 *   after that) and delivered (1-8 days after that). About 4% are cancelled instead of being
 *   paid and 3% instead of being shipped; a cancelled order changes no more.
 * - About 3% of customers (2% of orders) are deleted 1 hour to 400 (180) days after creation.
 *   From then on the object is frozen at its last version and is emitted with
 *   `_sdc_deleted_at` = `updated_at` = the deletion time.
 * - An object's record at `now` depends only on its latest event <= now, never on `now`
 *   itself: a full read at t1, then an incremental read at t2 upserted by key, gives the
 *   same table as a full read at t2.
 * - An order's customer is drawn among the customers created by the order's creation,
 *   preferring one not yet deleted; with no customers at all it is a guest order (null).
 */

export interface Simulation {
  /** The seed folded to 32 bits. */
  key: number;
  customers: number;
  orders: number;
  /** The simulated present. */
  nowMs: number;
}

export function createSimulation(seed: number, customers: number, orders: number, nowMs: number): Simulation {
  return { key: seedKey(seed), customers, orders, nowMs };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const ACCOUNT_OPENED_MS = Date.UTC(2025, 0, 1);
const FIRST_YEAR_MS = 365 * DAY_MS;
/** "Never", so min(now, deletedAt) and deletedAt <= now need no special case. */
export const NEVER = Number.POSITIVE_INFINITY;

export const CUSTOMER_STREAM = 0x63757374;
export const ORDER_STREAM = 0x6f726472;

/** One salt per independent draw of an object; all in one place so no two attributes share dice. */
export const Salt = {
  created: 1,
  period: 2,
  jitter: 3,
  deleted: 4,
  deletedAfter: 5,
  paid: 6,
  shipped: 7,
  delivered: 8,
  cancelled: 9,
  // 10-12: successive attempts at an order's customer.
  customer: 10,
  firstName: 20,
  lastName: 21,
  company: 22,
  companySuffix: 23,
  country: 24,
  city: 25,
  street: 26,
  houseNumber: 27,
  postalCode: 28,
  plan: 29,
  tags: 30,
  lifetimeValue: 31,
  spendPerPeriod: 32,
  emailDomain: 33,
  lineItems: 40,
  // 41-50: product and quantity of each line item.
  product: 41,
} as const;

function createdAt(count: number, id: number, base: number): number {
  if (id === 1) return ACCOUNT_OPENED_MS;
  return ACCOUNT_OPENED_MS + Math.floor((id - 1 + fraction(base, Salt.created)) * (FIRST_YEAR_MS / count));
}

export function customerHash(sim: Simulation, id: number): number {
  return objectHash(sim.key, CUSTOMER_STREAM, id);
}

export function orderHash(sim: Simulation, id: number): number {
  return objectHash(sim.key, ORDER_STREAM, id);
}

export function customerCreatedAt(sim: Simulation, id: number, base: number): number {
  return createdAt(sim.customers, id, base);
}

export function orderCreatedAt(sim: Simulation, id: number, base: number): number {
  return createdAt(sim.orders, id, base);
}

export function customerDeletedAt(base: number, created: number): number {
  if (fraction(base, Salt.deleted) >= 0.03) return NEVER;
  return created + HOUR_MS + Math.floor(fraction(base, Salt.deletedAfter) * 400 * DAY_MS);
}

export function orderDeletedAt(base: number, created: number): number {
  if (fraction(base, Salt.deleted) >= 0.02) return NEVER;
  return created + HOUR_MS + Math.floor(fraction(base, Salt.deletedAfter) * 180 * DAY_MS);
}

function customerPeriod(base: number): number {
  return 5 * DAY_MS + Math.floor(fraction(base, Salt.period) * 55 * DAY_MS);
}

function customerUpdateTime(base: number, created: number, period: number, version: number): number {
  if (version === 0) return created;
  return created + version * period + Math.floor(fraction(versionHash(base, version), Salt.jitter) * (period / 2));
}

/** The latest customer version at `horizon` (>= created): 0 is the creation, k the k-th update. */
export function customerVersionAt(base: number, created: number, horizon: number): number {
  const period = customerPeriod(base);
  let version = Math.floor((horizon - created) / period);
  // Update k is at least created + k*P and update k-1 below it, so at most one step back.
  if (version > 0 && customerUpdateTime(base, created, period, version) > horizon) version--;
  return version;
}

export function customerVersionTime(base: number, created: number, version: number): number {
  return customerUpdateTime(base, created, customerPeriod(base), version);
}

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered'] as const;

/** The stage (1 = paid, 2 = shipped) at which the order is cancelled instead, or 0 if never. */
export function orderCancelledStage(base: number): number {
  const r = fraction(base, Salt.cancelled);
  return r < 0.04 ? 1 : r < 0.07 ? 2 : 0;
}

function orderStageDelay(base: number, stage: number): number {
  if (stage === 1) return 5 * 60_000 + Math.floor(fraction(base, Salt.paid) * 2 * DAY_MS);
  if (stage === 2) return 2 * HOUR_MS + Math.floor(fraction(base, Salt.shipped) * 4 * DAY_MS);
  return DAY_MS + Math.floor(fraction(base, Salt.delivered) * 7 * DAY_MS);
}

/** The last status stage (index in ORDER_STATUSES) reached at `horizon` (>= created). */
export function orderStageAt(base: number, created: number, horizon: number): number {
  const cancelled = orderCancelledStage(base);
  const last = cancelled === 0 ? 3 : cancelled;
  let time = created;
  let stage = 0;
  while (stage < last) {
    time += orderStageDelay(base, stage + 1);
    if (time > horizon) break;
    stage++;
  }
  return stage;
}

export function orderStageTime(base: number, created: number, stage: number): number {
  let time = created;
  for (let s = 1; s <= stage; s++) time += orderStageDelay(base, s);
  return time;
}

/** The customer who placed an order, or null when the account has no customers. */
export function orderCustomerId(sim: Simulation, orderBase: number, orderCreated: number): number | null {
  if (sim.customers === 0) return null;
  const slice = FIRST_YEAR_MS / sim.customers;
  let count = Math.min(sim.customers, Math.floor((orderCreated - ACCOUNT_OPENED_MS) / slice) + 1);
  // The newest candidate may sit later in its slice than the order; customer 1 never does.
  while (count > 1 && customerCreatedAt(sim, count, customerHash(sim, count)) > orderCreated) count--;
  let id = 1;
  for (let attempt = 0; attempt < 3; attempt++) {
    id = 1 + (draw(orderBase, Salt.customer + attempt) % count);
    const base = customerHash(sim, id);
    if (customerDeletedAt(base, customerCreatedAt(sim, id, base)) > orderCreated) return id;
  }
  return id;
}
