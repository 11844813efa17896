/**
 * A small, fast integer hash so every simulated value is a pure function of
 * (seed, stream, id[, version], salt). No Math.random: a run must be repeatable.
 */

/** Scrambles 32 bits; a bijection, so distinct inputs never collide. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const GOLDEN = 0x9e3779b1;
const TWO_POW_32 = 4_294_967_296;

/** Folds a seed of any safe-integer size into 32 bits, high half included, so large seeds differ too. */
export function seedKey(seed: number): number {
  const high = Math.floor(seed / TWO_POW_32) | 0;
  return mix32((seed | 0) ^ mix32(high ^ 0x5bd1e995));
}

/** The hash every value of one object derives from. Stream tags keep customer 7 and order 7 unrelated. */
export function objectHash(key: number, stream: number, id: number): number {
  return mix32((mix32(key ^ stream) + Math.imul(id, GOLDEN)) | 0);
}

/** The hash of one version of an object, for values that change from version to version. */
export function versionHash(base: number, version: number): number {
  return mix32(base ^ mix32(Math.imul(version + 1, GOLDEN)));
}

/** An independent 32-bit draw per salt, so each attribute has its own dice. */
export function draw(base: number, salt: number): number {
  return mix32(base ^ Math.imul(salt, 0x27d4eb2f));
}

/** A draw as a fraction in [0, 1). */
export function fraction(base: number, salt: number): number {
  return draw(base, salt) / TWO_POW_32;
}

/** Picks one element of a non-empty list. */
export function pick<T>(list: readonly T[], hash: number): T {
  return list[hash % list.length] as T;
}
