import { parseInstant } from '../protocol/instant.js';
import type { LateDelays, StreamChanges } from './history.js';

/**
 * Webhook coverage, counted by a batch run as it writes: a record whose key is already stored is
 * a change the run found. When the stored row already holds that version (or a newer one), and
 * no earlier `sync run` wrote it, something else delivered it first: in practice the listener,
 * so webhooks covered the change. When the stored row is older, webhooks missed it or had not
 * delivered it yet, and how long after the change (its version, as an instant) the run found it
 * is that change's delay.
 *
 * Which writer put a version there is told by `_sync_run_version`, the version the last batch
 * run wrote into the row; only counting runs set it, so a row a webhook wrote since holds a
 * different one. A record whose version the run version already equals is the run's own
 * re-read at an inclusive bookmark, and no change.
 */

/** The column a counting run writes its version into (its name is reserved like `_sync_version`). */
export const RUN_VERSION_COLUMN = '_sync_run_version';

/** How one record written over a stored row counts. */
export type Finding = 'delivered' | 'late' | undefined;

type Stored = string | number | bigint | null | Uint8Array;

/**
 * `stored`: the row's version; `runVersion`: the version the last run wrote into it;
 * `version`: the record's; `replaces`: whether the record's version is at least the stored one
 * (the upsert's own condition, so versions order exactly as the database orders them).
 */
export function classify(stored: Stored, runVersion: Stored, version: Stored, replaces: boolean): Finding {
  if (version === null || stored === null || same(runVersion, version)) return undefined;
  return !replaces || same(stored, version) ? 'delivered' : 'late';
}

function same(a: Stored, b: Stored): boolean {
  if (a === null || b === null) return false;
  // SQLite compares an integer and a real by value; so does `==` between bigint and number.
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a instanceof Uint8Array || b instanceof Uint8Array) return false;
  return a == b;
}

/** How long after the change (its version) a late one was found; undefined when the version is no instant. */
export function delayOf(version: Stored, nowMs: number): number | undefined {
  const micros = typeof version === 'string' ? parseInstant(version) : undefined;
  return micros === undefined ? undefined : Math.max(0, Math.round(nowMs - micros / 1000));
}

/** The findings of one commit, per stream key: plain data, so it crosses from a writer thread. */
export interface CommitChanges {
  [stream: string]: { found: number; delivered: number; delaysMs: number[] };
}

/** Adds one finding to a commit's counts. */
export function addFinding(changes: CommitChanges, stream: string, finding: Finding, delayMs: number | undefined): void {
  if (finding === undefined) return;
  const entry = (changes[stream] ??= { found: 0, delivered: 0, delaysMs: [] });
  entry.found++;
  if (finding === 'delivered') entry.delivered++;
  else if (delayMs !== undefined) entry.delaysMs.push(delayMs);
}

/** At most this many delays are kept per stream and run: the median of so many is as good as all. */
const RESERVOIR = 10_000;
/** Delays stored per stream in a run's history row: all of them up to this, else as many spread evenly. */
export const STORED_DELAYS = 100;

/**
 * The counts of a whole run, from the commits that succeeded. Delays are kept as a uniform
 * sample of at most RESERVOIR per stream, so a long catch-up needs no memory in proportion.
 */
export class RunChanges {
  private readonly streams = new Map<string, { found: number; delivered: number; late: number; sample: number[] }>();

  /** A stream the run counts for: listed even when it finds nothing. */
  counting(stream: string): void {
    if (!this.streams.has(stream)) this.streams.set(stream, { found: 0, delivered: 0, late: 0, sample: [] });
  }

  /** Adds a committed commit's counts; `name` maps a commit's stream key to the stream. */
  add(changes: CommitChanges | undefined, name: (key: string) => string = (key) => key): void {
    if (changes === undefined) return;
    for (const key of Object.keys(changes)) {
      const c = changes[key] as CommitChanges[string];
      const stream = name(key);
      this.counting(stream);
      const total = this.streams.get(stream) as { found: number; delivered: number; late: number; sample: number[] };
      total.found += c.found;
      total.delivered += c.delivered;
      for (const delay of c.delaysMs) {
        total.late++;
        if (total.sample.length < RESERVOIR) total.sample.push(delay);
        else {
          const slot = Math.floor(Math.random() * total.late);
          if (slot < RESERVOIR) total.sample[slot] = delay;
        }
      }
    }
  }

  result(): Record<string, StreamChanges> {
    const out: Record<string, StreamChanges> = {};
    for (const [stream, c] of this.streams) {
      const entry: StreamChanges = { found: c.found, delivered: c.delivered };
      if (c.late > 0) entry.lateDelays = { count: c.late, sampleMs: spread([...c.sample].sort((a, b) => a - b), STORED_DELAYS) };
      // defineProperty: a stream named `__proto__` stays an ordinary key.
      Object.defineProperty(out, stream, { value: entry, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

/** `sorted` itself when short enough, else `max` of its values spread evenly (each the middle of its share). */
function spread(sorted: number[], max: number): number[] {
  if (sorted.length <= max) return sorted;
  return Array.from({ length: max }, (_, i) => sorted[Math.floor(((i + 0.5) * sorted.length) / max)] as number);
}

/**
 * The median delay over several runs' samples, each value standing for its share of its run's
 * late changes; exact when every run kept all of its delays. An even count takes the mean of
 * the two middle values. Undefined when no run measured one.
 */
export function medianDelayMs(parts: ReadonlyArray<LateDelays | undefined>): number | undefined {
  const weighted: Array<[value: number, weight: number]> = [];
  let total = 0;
  for (const part of parts) {
    if (part === undefined || part.sampleMs.length === 0) continue;
    const weight = part.count / part.sampleMs.length;
    for (const value of part.sampleMs) weighted.push([value, weight]);
    total += part.count;
  }
  if (weighted.length === 0) return undefined;
  weighted.sort((a, b) => a[0] - b[0]);
  const half = total / 2;
  let below = 0;
  for (let i = 0; i < weighted.length; i++) {
    const [value, weight] = weighted[i] as [number, number];
    below += weight;
    // Exactly half below and including this one: the middle lies between it and the next.
    if (Math.abs(below - half) < 1e-9 && i + 1 < weighted.length) return (value + (weighted[i + 1] as [number, number])[0]) / 2;
    if (below > half) return value;
  }
  return (weighted[weighted.length - 1] as [number, number])[0];
}
