import { describe, expect, it } from 'vitest';
import { IsoFormatter } from '../../connectors/sample/iso-time.js';

describe('IsoFormatter', () => {
  it('writes what Date#toISOString writes', () => {
    const earliest = Date.UTC(2025, 0, 1);
    const formatter = new IsoFormatter(earliest);
    const samples = [earliest, earliest + 1, earliest - 1, Date.UTC(2025, 11, 31, 23, 59, 59, 999), Date.UTC(2028, 1, 29, 12)];
    for (let i = 0; i < 5000; i++) samples.push(earliest + Math.floor(((i * 2_654_435_761) % 1_000_003) * 3_600_017.3));
    samples.push(Date.UTC(2200, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(1999, 5, 5));
    for (const ms of samples) expect(formatter.format(ms)).toBe(new Date(ms).toISOString());
  });

  it('stays correct near the year 10000', () => {
    const formatter = new IsoFormatter(Date.UTC(9999, 11, 1));
    for (const ms of [Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1)]) {
      expect(formatter.format(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
