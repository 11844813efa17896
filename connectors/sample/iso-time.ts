/**
 * RFC 3339 UTC text for millisecond times, the same as Date#toISOString but several times
 * faster: a million records carry three date-times each, and toISOString dominated the run.
 * The characters of each day's date are computed once per formatter; the string is made in
 * one String.fromCharCode call, so it is flat: a concatenated (rope) string would cost the
 * consumer a flattening on every JSON.stringify.
 */

const DAY_MS = 86_400_000;
/** About a century of remembered days; times outside it are rare and left to Date. */
const MAX_REMEMBERED_DAYS = 36_600;
/** 0000-01-01 and 10000-01-01 as days since 1970: outside, toISOString writes six-digit signed years. */
const FIRST_FOUR_DIGIT_DAY = -719_528;
const FIRST_FIVE_DIGIT_DAY = 2_932_897;
const PREFIX_LENGTH = 'YYYY-MM-DDT'.length;
const ZERO = 48;
const COLON = 58;
const DOT = 46;
const LETTER_Z = 90;

export class IsoFormatter {
  /** Character codes of 'YYYY-MM-DDT', PREFIX_LENGTH per day since `firstDay`. */
  private datePrefixes = new Uint16Array(0);
  private rememberedDays = 0;
  private readonly firstDay: number;
  /** How many days from `firstDay` may be remembered. */
  private readonly dayLimit: number;

  /** `earliestMs`: no time formatted is expected before it. */
  constructor(earliestMs: number) {
    this.firstDay = Math.floor(earliestMs / DAY_MS);
    const fourDigitDays = FIRST_FIVE_DIGIT_DAY - this.firstDay;
    this.dayLimit = this.firstDay < FIRST_FOUR_DIGIT_DAY ? 0 : Math.max(0, Math.min(MAX_REMEMBERED_DAYS, fourDigitDays));
  }

  /** `2025-03-04T05:06:07.123Z`. */
  format(ms: number): string {
    const day = Math.floor(ms / DAY_MS);
    const slot = day - this.firstDay;
    if (slot < 0 || slot >= this.dayLimit) return new Date(ms).toISOString();
    if (slot >= this.rememberedDays) this.rememberUpTo(slot);
    const p = this.datePrefixes;
    const at = slot * PREFIX_LENGTH;
    let rest = ms - day * DAY_MS;
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    const millis = rest - seconds * 1000;
    return String.fromCharCode(
      p[at] as number, p[at + 1] as number, p[at + 2] as number, p[at + 3] as number, p[at + 4] as number,
      p[at + 5] as number, p[at + 6] as number, p[at + 7] as number, p[at + 8] as number, p[at + 9] as number,
      p[at + 10] as number,
      ZERO + Math.floor(hours / 10), ZERO + (hours % 10), COLON,
      ZERO + Math.floor(minutes / 10), ZERO + (minutes % 10), COLON,
      ZERO + Math.floor(seconds / 10), ZERO + (seconds % 10), DOT,
      ZERO + Math.floor(millis / 100), ZERO + (Math.floor(millis / 10) % 10), ZERO + (millis % 10), LETTER_Z,
    );
  }

  private rememberUpTo(slot: number): void {
    // Grow by doubling so a long run of new days costs amortised constant time.
    const days = Math.min(this.dayLimit, Math.max(slot + 1, this.rememberedDays * 2, 64));
    const grown = new Uint16Array(days * PREFIX_LENGTH);
    grown.set(this.datePrefixes);
    for (let d = this.rememberedDays; d < days; d++) {
      const text = new Date((this.firstDay + d) * DAY_MS).toISOString();
      for (let i = 0; i < PREFIX_LENGTH; i++) grown[d * PREFIX_LENGTH + i] = text.charCodeAt(i);
    }
    this.datePrefixes = grown;
    this.rememberedDays = days;
  }
}
