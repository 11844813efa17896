import { describe, expect, it } from 'vitest';
import { classify, delayOf, medianDelayMs, RunChanges, STORED_DELAYS } from '../../src/targets/change-count.js';

describe('webhook coverage counting', () => {
  it('classifies a record written over a stored row', () => {
    const v1 = '2026-01-01T00:00:00.000000Z';
    const v2 = '2026-01-02T00:00:00.000000Z';
    // A webhook wrote v2 since the last run wrote v1: delivered.
    expect(classify(v2, v1, v2, true)).toBe('delivered');
    // Stored newer than what the run found: the webhook was ahead (unless the run had found this version before).
    expect(classify(v2, null, v1, false)).toBe('delivered');
    expect(classify(v2, v1, v1, false)).toBeUndefined();
    // The run found a newer version than stored: missed or not yet delivered.
    expect(classify(v1, v1, v2, true)).toBe('late');
    // The run's own earlier write, re-read at an inclusive bookmark: no change.
    expect(classify(v2, v2, v2, true)).toBeUndefined();
    // Nothing to compare.
    expect(classify(null, null, v2, true)).toBeUndefined();
    expect(classify(v1, null, null, true)).toBeUndefined();
    // Numbers compare by value, as SQLite does; a number never equals text.
    expect(classify(7n, null, 7, true)).toBe('delivered');
    expect(classify('7', null, 7n, true)).toBe('late');
  });

  it('measures a delay only for a version that is an instant', () => {
    expect(delayOf('2026-01-01T00:00:00.000000Z', Date.parse('2026-01-01T00:01:00Z'))).toBe(60_000);
    expect(delayOf(42n, Date.now())).toBeUndefined();
    expect(delayOf('not a time', Date.now())).toBeUndefined();
  });

  it('takes the median of several runs, each sample standing for its share', () => {
    expect(medianDelayMs([])).toBeUndefined();
    expect(medianDelayMs([{ count: 3, sampleMs: [1, 5, 9] }])).toBe(5);
    expect(medianDelayMs([{ count: 2, sampleMs: [1, 5] }, { count: 2, sampleMs: [7, 9] }])).toBe(6);
    // 100 values standing for 1,000 changes outweigh three exact ones.
    const spread = Array.from({ length: 100 }, (_, i) => 1_000 + i);
    const median = medianDelayMs([{ count: 1_000, sampleMs: spread }, { count: 3, sampleMs: [1, 2, 3] }]) ?? 0;
    expect(median).toBeGreaterThanOrEqual(1_049);
    expect(median).toBeLessThanOrEqual(1_051);
  });

  it('keeps every delay of a small run and a bounded even spread of a large one', () => {
    const small = new RunChanges();
    small.add({ 0: { found: 3, delivered: 1, delaysMs: [30, 10] } }, () => 'orders');
    small.counting('customers');
    expect(small.result()).toEqual({ orders: { found: 3, delivered: 1, lateDelays: { count: 2, sampleMs: [10, 30] } }, customers: { found: 0, delivered: 0 } });

    const large = new RunChanges();
    const delays = Array.from({ length: 5_001 }, (_, i) => 5_000 - i);
    large.add({ orders: { found: 5_001, delivered: 0, delaysMs: delays } });
    const stored = large.result()['orders']?.lateDelays;
    expect(stored?.count).toBe(5_001);
    expect(stored?.sampleMs.length).toBe(STORED_DELAYS);
    expect(medianDelayMs([stored])).toBeCloseTo(2_500, -2);
  });
});
