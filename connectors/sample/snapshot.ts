import {
  customerCreatedAt,
  customerDeletedAt,
  customerHash,
  customerVersionAt,
  customerVersionTime,
  orderCreatedAt,
  orderDeletedAt,
  orderHash,
  orderStageAt,
  orderStageTime,
  type Simulation,
} from './generator.js';

/**
 * The latest version of every object that exists at `now`, held in typed arrays indexed by
 * id - 1: a million objects cost a few megabytes and no garbage; records are built from
 * these only when they are yielded.
 */
export interface Snapshot {
  /** Indexes (id - 1) of the objects to emit, in ascending (updated_at, id) order. */
  order: Uint32Array;
  updatedMs: Float64Array;
  /** A customer's version or an order's status stage. */
  version: Uint32Array;
}

export function customerSnapshot(sim: Simulation, sinceMicros: number): Snapshot {
  const updatedMs = new Float64Array(sim.customers);
  const version = new Uint32Array(sim.customers);
  let count = 0;
  for (let id = 1; id <= sim.customers; id++) {
    const base = customerHash(sim, id);
    const created = customerCreatedAt(sim, id, base);
    // Creation times grow with the id: the first one after now ends the account as it is now.
    if (created > sim.nowMs) break;
    const deleted = customerDeletedAt(base, created);
    const latest = customerVersionAt(base, created, Math.min(sim.nowMs, deleted));
    version[count] = latest;
    updatedMs[count] = deleted <= sim.nowMs ? deleted : customerVersionTime(base, created, latest);
    count++;
  }
  return { order: sortedSince(updatedMs, count, sinceMicros), updatedMs, version };
}

export function orderSnapshot(sim: Simulation, sinceMicros: number): Snapshot {
  const updatedMs = new Float64Array(sim.orders);
  const version = new Uint32Array(sim.orders);
  let count = 0;
  for (let id = 1; id <= sim.orders; id++) {
    const base = orderHash(sim, id);
    const created = orderCreatedAt(sim, id, base);
    if (created > sim.nowMs) break;
    const deleted = orderDeletedAt(base, created);
    const stage = orderStageAt(base, created, Math.min(sim.nowMs, deleted));
    version[count] = stage;
    updatedMs[count] = deleted <= sim.nowMs ? deleted : orderStageTime(base, created, stage);
    count++;
  }
  return { order: sortedSince(updatedMs, count, sinceMicros), updatedMs, version };
}

/** The indexes below `count` updated at or after the bookmark (inclusive), by (time, id). */
function sortedSince(updatedMs: Float64Array, count: number, sinceMicros: number): Uint32Array {
  const selected = new Uint32Array(count);
  let n = 0;
  for (let i = 0; i < count; i++) {
    if ((updatedMs[i] as number) * 1000 >= sinceMicros) selected[n++] = i;
  }
  return sortByTime(selected.subarray(0, n), updatedMs);
}

/** Indexes with their time since the earliest one, in two 32-bit halves. */
interface SortKeys {
  index: Uint32Array;
  low: Uint32Array;
  high: Uint32Array;
}

/**
 * LSD radix sort of indexes by their time, 16 bits a pass. It is stable, so indexes handed
 * in ascending order keep id order among equal times. A comparator sort took most of a
 * second for a million orders; this takes tens of milliseconds. The keys travel with the
 * indexes (no random reads) as whole milliseconds since the earliest time, split into two
 * 32-bit halves so every digit is taken with integer operations. `indexes` is reused as
 * scratch space.
 */
export function sortByTime(indexes: Uint32Array, timesMs: Float64Array): Uint32Array {
  const n = indexes.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = timesMs[indexes[i] as number] as number;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  let keys: SortKeys = { index: indexes, low: new Uint32Array(n), high: new Uint32Array(n) };
  for (let i = 0; i < n; i++) {
    const offset = (timesMs[indexes[i] as number] as number) - min;
    keys.high[i] = Math.floor(offset / 4_294_967_296);
    keys.low[i] = offset % 4_294_967_296;
  }
  let spare: SortKeys = { index: new Uint32Array(n), low: new Uint32Array(n), high: new Uint32Array(n) };
  const span = max - min;
  const passes = span < 65_536 ? 1 : span < 4_294_967_296 ? 2 : span < 281_474_976_710_656 ? 3 : 4;
  const starts = new Uint32Array(65_536);
  for (let pass = 0; pass < passes && n > 1; pass++) {
    const half = pass < 2 ? keys.low : keys.high;
    const shift = pass % 2 === 0 ? 0 : 16;
    starts.fill(0);
    for (let i = 0; i < n; i++) {
      const digit = ((half[i] as number) >>> shift) & 0xffff;
      starts[digit] = (starts[digit] as number) + 1;
    }
    let position = 0;
    for (let d = 0; d < 65_536; d++) {
      const size = starts[d] as number;
      starts[d] = position;
      position += size;
    }
    for (let i = 0; i < n; i++) {
      const digit = ((half[i] as number) >>> shift) & 0xffff;
      const at = starts[digit] as number;
      starts[digit] = at + 1;
      spare.index[at] = keys.index[i] as number;
      spare.low[at] = keys.low[i] as number;
      spare.high[at] = keys.high[i] as number;
    }
    [keys, spare] = [spare, keys];
  }
  return keys.index;
}
