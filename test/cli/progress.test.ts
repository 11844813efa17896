import { describe, expect, it } from 'vitest';
import { fitToWidth, formatCount, formatDuration, formatStreamLine, summarize } from '../../src/cli/progress.js';
import { runSync } from '../helpers/cli.js';

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

  it('writes durations a person reads at a glance', () => {
    expect(formatDuration(0)).toBe('0.0 s');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(3_725_000)).toBe('1 h 02 min');
  });
});

describe('a stream on the terminal', () => {
  it('shows its count with separators, its own rate and time; once finished, a done mark', () => {
    expect(formatStreamLine({ stream: 'orders', records: 123456, elapsedMs: 2000, done: false }, 9, 80)).toBe(' orders     123,456 records   61,728/s   2.0 s');
    expect(formatStreamLine({ stream: 'customers', records: 1, elapsedMs: 2000, done: true }, 9, 80)).toBe(' customers  1 record   1/s   2.0 s  ✓');
  });

  it('keeps the rate of a finished stream: it is over the stream\'s own time, not the run\'s', () => {
    // A caller gives the time up to when the stream finished, however long the run goes on.
    const finished = { stream: 'customers', records: 5000, elapsedMs: 500, done: true };
    expect(formatStreamLine(finished, 9, 80)).toContain('10,000/s');
  });

  it('leaves out the rate of a stream younger than a tenth of a second', () => {
    expect(formatStreamLine({ stream: 's', records: 3, elapsedMs: 40, done: false }, 1, 80)).toBe(' s  3 records   0.0 s');
  });

  it('on a narrow terminal drops the rate, then the time, then shortens the name, never a number', () => {
    const line = { stream: 'order_line_items', records: 1234567, elapsedMs: 61_000, done: true };
    expect(formatStreamLine(line, 16, 80)).toBe(' order_line_items  1,234,567 records   20,239/s   1 min 01 s  ✓');
    expect(formatStreamLine(line, 16, 60)).toBe(' order_line_items  1,234,567 records   1 min 01 s  ✓');
    expect(formatStreamLine(line, 16, 45)).toBe(' order_line_items  1,234,567 records  ✓');
    expect(formatStreamLine(line, 16, 30)).toBe(' order…  1,234,567 records  ✓');
    for (const columns of [80, 60, 45, 30]) expect(formatStreamLine(line, 16, columns).length).toBeLessThan(columns);
  });
});

describe('the summary line', () => {
  it('summarises a run in one line', () => {
    const counts = new Map([
      ['customers', 1200],
      ['orders', 34567],
    ]);
    expect(summarize(counts, 2500)).toBe('customers 1,200, orders 34,567 (35,767 records in 2.5 s, 14,307/s)');
    expect(summarize(new Map([['orders', 1]]), 500)).toBe('orders 1 (1 record in 0.5 s, 2/s)');
  });

  it('says plainly when nothing came', () => {
    expect(summarize(new Map(), 240)).toBe('no records (0.2 s)');
    expect(summarize(new Map(), 240, 'nothing new')).toBe('nothing new (0.2 s)');
  });

  it('breaks to fit a narrow terminal only between parts, never inside a number or between a name and its count', () => {
    const line = 'sample → sqlite:sync.db: customers 1,200, orders 34,567 (35,767 records in 2.5 s, 14,307/s)';
    expect(fitToWidth(line, 120)).toBe(line);
    expect(fitToWidth(line, undefined)).toBe(line);
    expect(fitToWidth(line, 50)).toBe('sample → sqlite:sync.db: customers 1,200,\n  orders 34,567 (35,767 records in 2.5 s,\n  14,307/s)');
    for (const part of fitToWidth(line, 30).split('\n')) expect(part.length).toBeLessThan(30);
  });
});

describe('through the binary', () => {
  it('a run that finds nothing says "nothing new"', async () => {
    const result = await runSync(['run', 'sample', '--target', '-'], { env: { SYNC_SAMPLE_CUSTOMERS: '0', SYNC_SAMPLE_ORDERS: '0' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^sample → stdout: nothing new \(\d+\.\d s\)\n$/);
  });
});
