/**
 * The cases of the incremental property every keyed target must hold: a run at t1 followed by
 * an incremental run at t2 leaves exactly the rows and bookmarks of one full run at t2. Shared
 * by the SQLite (in process) and PostgreSQL (through the binary) tests, so both hold it for the
 * same simulated accounts and the same moments.
 */

/** The sample connector's account size for every case: large enough for many commits and state messages. */
export const INCREMENTAL_COUNTS = { customers: 300, orders: 1200 } as const;

export interface IncrementalCase {
  seed: number;
  /** The simulated present of the first run. */
  t1: string;
  /** The simulated present of the second run, and of the full run compared with both. */
  t2: string;
  title: string;
}

/** Hours apart, months apart, and across a year's end into a time with microseconds. */
const TIMES: ReadonlyArray<readonly [string, string]> = [
  ['2025-02-01T00:00:00Z', '2025-02-01T06:00:00Z'],
  ['2025-05-10T12:30:00Z', '2025-09-01T00:00:00Z'],
  ['2025-12-31T23:00:00Z', '2026-04-01T00:00:00.000001Z'],
];

/** 3 seeds × 3 pairs of times. */
export function incrementalCases(): IncrementalCase[] {
  const cases: IncrementalCase[] = [];
  for (const seed of [1, 42, 2024]) {
    for (const [t1, t2] of TIMES) cases.push({ seed, t1, t2, title: `seed ${seed}: ${t1} then ${t2}` });
  }
  return cases;
}
