import { UsageError } from '../errors.js';
import { parseDurationMs } from '../listen/retention.js';
import { parseInstant } from '../protocol/instant.js';

/** `--to 2026-03-01T00:00:00Z` or `--to 2h` (two hours ago), in milliseconds since the epoch. */
export function pointInTime(text: string, flag: string, now = Date.now()): number {
  const ago = parseDurationMs(text);
  if (ago !== undefined) return now - ago;
  const micros = parseInstant(text.trim());
  if (micros === undefined) throw new UsageError(`${flag} must be an RFC 3339 time such as 2026-03-01T00:00:00Z, or a duration such as 2h (got ${JSON.stringify(text)})`);
  return micros / 1000;
}

/** `30m`, `2h`, `7d`: a duration, or a usage error naming the flag. */
export function durationFlag(text: string, flag: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`${flag} must be a duration such as 90s, 30m, 2h or 7d (got ${JSON.stringify(text)})`);
  return ms;
}

/** `12 min ago`, `3 h ago`, `2 days ago`: an age for people. */
export function formatAge(ms: number): string {
  if (ms < 0) return 'in the future';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ago`;
  if (s < 172_800) return `${Math.floor(s / 3_600)} h ago`;
  return `${Math.floor(s / 86_400)} days ago`;
}

/** `0.4 s`, `12 s`, `3 min 5 s`, `2 h 10 min`: a duration for people. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3_600) return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
}
