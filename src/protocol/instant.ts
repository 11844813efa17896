/**
 * Date-times as instants with microsecond precision. Python taps write `.123456Z`,
 * others `+00:00` or no offset at all; JavaScript's Date keeps only milliseconds.
 * Bookmarks are compared here, never as raw strings.
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

const MICROS_PER_SECOND = 1_000_000;

/** An instant as whole seconds since the epoch plus microseconds: exact for years 0000-9999. */
export interface InstantParts {
  seconds: number;
  micros: number;
}

/**
 * Reads a date-time, or returns undefined when `text` is not one. A value without an offset
 * is taken as UTC; a bare date is its midnight UTC. Digits beyond microseconds are truncated.
 */
export function parseInstantParts(text: string): InstantParts | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const micros = m[7] === undefined ? 0 : Number(m[7].slice(0, 6).padEnd(6, '0'));
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const days = daysFromCivil(year, month, day);
  return { seconds: days * 86_400 + hour * 3600 + (minute - offsetMinutes) * 60 + second, micros };
}

/**
 * Microseconds since 1970-01-01T00:00:00Z. Exact between the years 1685 and 2255 (the range
 * of a double's integers); use `compareInstants` or `normalizeInstant` for exact work outside it.
 */
export function parseInstant(text: string): number | undefined {
  const parts = parseInstantParts(text);
  return parts === undefined ? undefined : parts.seconds * MICROS_PER_SECOND + parts.micros;
}

export function compareInstants(a: InstantParts, b: InstantParts): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.micros - b.micros;
}

/** RFC 3339 in UTC with six fractional digits: `2024-05-01T12:00:00.123456Z`. Fixed width, so it sorts. */
/**
 * An instant as APIs write their own times: RFC 3339 UTC with milliseconds
 * (`2026-05-01T10:00:00.947Z`), or microseconds when the instant has a finer part. Times that
 * sync writes itself (an event's epoch, a full read's start) then read as the API's do.
 */
export function formatInstantMs(micros: number): string {
  // Date#toISOString writes years past 9999 as `+010000-…`, which is not RFC 3339.
  const ms = micros / 1_000;
  if (!Number.isInteger(ms) || ms < YEAR_0_MS || ms > YEAR_9999_END_MS) return formatInstant(micros);
  return new Date(ms).toISOString();
}

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in milliseconds. */
const YEAR_0_MS = -62_167_219_200_000;
const YEAR_9999_END_MS = 253_402_300_799_999;

export function formatInstant(micros: number): string {
  const seconds = Math.floor(micros / MICROS_PER_SECOND);
  return formatInstantParts({ seconds, micros: micros - seconds * MICROS_PER_SECOND });
}

export function formatInstantParts({ seconds: total, micros }: InstantParts): string {
  const days = Math.floor(total / 86_400);
  let rest = total - days * 86_400;
  const { year, month, day } = civilFromDays(days);
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  const second = rest - minute * 60;
  return (
    `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T` +
    `${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(micros, 6)}Z`
  );
}

/** Normalises any accepted date-time text to the fixed UTC form, or undefined if it is not one. */
export function normalizeInstant(text: string): string | undefined {
  // Fast path for the common `…SS.fffZ` forms of valid dates: pad the fraction to six digits.
  if (isPlainUtc(text) && isValidDate(text)) {
    if (text.length === 27) return text;
    return text.length === 20 ? `${text.slice(0, 19)}.000000Z` : text.slice(0, -1).padEnd(26, '0') + 'Z';
  }
  const parts = parseInstantParts(text);
  return parts === undefined ? undefined : formatInstantParts(parts);
}

/**
 * True for `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` with digits where digits belong. Two such texts of
 * equal length order as their instants do, which spares parsing on hot paths.
 */
export function isPlainUtc(text: string): boolean {
  const n = text.length;
  if (n < 20 || n > 27 || n === 21 || text.charCodeAt(n - 1) !== 90 /* Z */) return false;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return false;
  if (n > 20 && text[19] !== '.') return false;
  for (let i = 0; i < n - 1; i++) {
    if (i === 4 || i === 7 || i === 10 || i === 13 || i === 16 || i === 19) continue;
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Whether `text` is a date-time this module accepts: the check of every `date-time` value validated. */
export function isInstant(text: string): boolean {
  // Most values are already plain UTC: checked in place, without parsing.
  if (isPlainUtc(text)) return isValidDate(text);
  return parseInstantParts(text) !== undefined;
}

/** A JSON Schema `date`: `YYYY-MM-DD`, a day that exists. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(digits(text, 0, 4), month);
}

/** The calendar and clock ranges of a text isPlainUtc accepted, read digit by digit (no slices). */
function isValidDate(text: string): boolean {
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  return (
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(digits(text, 0, 4), month) &&
    digits(text, 11, 2) <= 23 && digits(text, 14, 2) <= 59 && digits(text, 17, 2) <= 60
  );
}

function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) n = n * 10 + (text.charCodeAt(i) - 48);
  return n;
}

export function instantFromDate(date: Date): number {
  return date.getTime() * 1000;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
}

// Days since 1970-01-01 in the proleptic Gregorian calendar (no Date: it maps years 0-99 to 19xx).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}
