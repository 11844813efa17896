import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_OPENED_MS,
  createSimulation,
  customerCreatedAt,
  customerHash,
  customerVersionAt,
  customerVersionTime,
  orderCreatedAt,
  orderHash,
  orderStageAt,
  orderStageTime,
} from '../../connectors/sample/generator.js';

const DAY_MS = 86_400_000;
const sim = createSimulation(42, 1000, 5000, Date.UTC(2027, 0, 1));

describe('sample timeline', () => {
  it('creates objects during 2025 in id order', () => {
    let previous = Number.NEGATIVE_INFINITY;
    for (let id = 1; id <= sim.customers; id++) {
      const created = customerCreatedAt(sim, id, customerHash(sim, id));
      expect(created).toBeGreaterThanOrEqual(previous);
      expect(created).toBeLessThan(Date.UTC(2026, 0, 1));
      previous = created;
    }
    expect(customerCreatedAt(sim, 1, customerHash(sim, 1))).toBe(ACCOUNT_OPENED_MS);
    expect(orderCreatedAt(sim, sim.orders, orderHash(sim, sim.orders))).toBeLessThan(Date.UTC(2026, 0, 1));
  });

  it('finds the latest customer version in one step, the same as walking the updates', () => {
    for (let id = 1; id <= 200; id++) {
      const base = customerHash(sim, id);
      const created = customerCreatedAt(sim, id, base);
      let previous = created;
      for (let version = 1; version < 40; version++) {
        const time = customerVersionTime(base, created, version);
        const gap = time - previous;
        expect(gap).toBeGreaterThan(0);
        expect(gap).toBeLessThan(90 * DAY_MS);
        // Just before an update the previous version holds; at it, the update does.
        expect(customerVersionAt(base, created, time - 1)).toBe(version - 1);
        expect(customerVersionAt(base, created, time)).toBe(version);
        previous = time;
      }
    }
  });

  it('moves orders through their stages in time order', () => {
    for (let id = 1; id <= 500; id++) {
      const base = orderHash(sim, id);
      const created = orderCreatedAt(sim, id, base);
      const final = orderStageAt(base, created, Number.POSITIVE_INFINITY);
      expect(final).toBeGreaterThanOrEqual(1);
      for (let stage = 1; stage <= final; stage++) {
        const time = orderStageTime(base, created, stage);
        expect(time).toBeGreaterThan(orderStageTime(base, created, stage - 1));
        expect(orderStageAt(base, created, time - 1)).toBe(stage - 1);
        expect(orderStageAt(base, created, time)).toBe(stage);
      }
    }
  });
});
