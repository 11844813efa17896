import { describe, expect, it } from 'vitest';
import { sortByTime } from '../../connectors/sample/snapshot.js';

/** The reference order: by time, then by index. */
function expected(indexes: Uint32Array, times: Float64Array): number[] {
  return [...indexes].sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
}

describe('sortByTime', () => {
  const spans = [0, 1, 1000, 65_535, 65_536, 4_294_967_296, 2 ** 48 + 12_345];
  for (const span of spans) {
    it(`orders by time then index (times spread over ${span} ms, many ties)`, () => {
      const n = 3000;
      const times = new Float64Array(n);
      // A few hundred distinct values, so ties are everywhere.
      for (let i = 0; i < n; i++) times[i] = 1_735_689_600_000 + Math.floor(((i * 7919) % 307) / 306 * span);
      // Only some indexes are handed in, in ascending order as the snapshot does.
      const indexes = Uint32Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 1);
      expect([...sortByTime(indexes.slice(), times)]).toEqual(expected(indexes, times));
    });
  }

  it('handles nothing and one', () => {
    expect([...sortByTime(new Uint32Array(0), new Float64Array(0))]).toEqual([]);
    expect([...sortByTime(Uint32Array.of(0), Float64Array.of(5))]).toEqual([0]);
  });
});
