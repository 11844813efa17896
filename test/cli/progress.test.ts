import { describe, expect, it } from 'vitest';
import { formatCount, summarize } from '../../src/cli/progress.js';

describe('counts on the terminal', () => {
  it('groups thousands with commas', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [7, '7'],
      [999, '999'],
      [1000, '1,000'],
      [12345, '12,345'],
      [123456, '123,456'],
      [1234567, '1,234,567'],
      [-1234567, '-1,234,567'],
      [Number.MAX_SAFE_INTEGER, '9,007,199,254,740,991'],
    ];
    for (const [n, text] of cases) expect(formatCount(n), String(n)).toBe(text);
  });

  it('leaves what is not a whole number as JavaScript writes it', () => {
    expect(formatCount(1.5)).toBe('1.5');
    expect(formatCount(Number.NaN)).toBe('NaN');
  });

  it('summarises a run in one line', () => {
    const counts = new Map([
      ['customers', 1200],
      ['orders', 34567],
    ]);
    expect(summarize(counts, 2500)).toBe('customers 1,200, orders 34,567 (35,767 records in 2.5 s, 14,307/s)');
    expect(summarize(new Map(), 0)).toBe('(0 records in 0.0 s)');
    expect(summarize(new Map([['orders', 1]]), 500)).toBe('orders 1 (1 record in 0.5 s, 2/s)');
  });
});
