import { randomBytes } from 'node:crypto';

/**
 * JSON that keeps every number exact. `JSON.parse` rounds integers beyond 2^53 and
 * decimals beyond ~15 significant digits; such tokens are kept here as their source
 * text and written back byte for byte.
 */

/** A number token that a JavaScript number cannot hold exactly. */
export class LosslessNumber {
  /** How many were serialised through `toJSON`, so `stringifyJson` knows when to look for markers. */
  static serialized = 0;
  constructor(readonly text: string) {}
  /** The nearest double, for arithmetic and validation only. */
  valueOf(): number {
    return Number(this.text);
  }
  toString(): string {
    return this.text;
  }
  /** JSON.stringify cannot emit raw text, so it emits a marker that `stringifyJson` replaces. */
  toJSON(): string {
    LosslessNumber.serialized++;
    return MARKER + this.text;
  }
}

export type JsonPrimitive = null | boolean | number | string | LosslessNumber;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/**
 * Arrays and objects nested deeper than MAX_JSON_DEPTH. Refused when parsing, because code
 * that walks a value (JSON.stringify, structured clone to a worker, schema checks) recurses
 * and would end in a stack overflow far from the line that caused it.
 */
export class JsonDepthError extends JsonSyntaxError {
  constructor(position: number) {
    super(`nesting deeper than ${MAX_JSON_DEPTH} levels of arrays and objects at position ${position + 1}`, position);
    this.name = 'JsonDepthError';
  }
}

/** The deepest nesting of arrays and objects a parsed value may have (the outermost counts as 1). */
export const MAX_JSON_DEPTH = 1_000;

// A random marker per process: data cannot forge it, so a string is never mistaken for a number.
const MARKER = `~sync-number-${randomBytes(12).toString('hex')}~`;
const MARKER_PATTERN = new RegExp(`"${MARKER}(-?[0-9][0-9.eE+-]*)"`, 'g');

/**
 * Cheap test for text that might hold a number JSON.parse would round: 16 or more digits
 * or dots in a row starting with a digit, or a three-digit exponent after a digit. It looks
 * inside strings too; a false positive only costs the slower careful parse.
 *
 * This guard runs on every line and every page, before JSON.parse, so it reads as little as
 * it can. A run of 16 digits and dots always covers a position that is a multiple of 16 (less
 * one): only those are read, and a run is measured only where one lands in it (dates and
 * prices make short runs). Exponents are found by a regular expression, native code that
 * skips ahead to each `e`.
 */
export function mayHoldInexactNumber(text: string): boolean {
  const n = text.length;
  for (let i = LONG_RUN - 1; i < n; i += LONG_RUN) {
    if (!isDigitOrDot(text.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && isDigitOrDot(text.charCodeAt(start - 1))) start--;
    let end = i + 1;
    while (end < n && isDigitOrDot(text.charCodeAt(end))) end++;
    // Dots before the run's first digit do not count: the number starts at the digit.
    while (start < end && text.charCodeAt(start) === 46 /* . */) start++;
    if (end - start >= LONG_RUN) return true;
    // The next run starts after `end`; sampling on from there keeps the guarantee.
    i = end;
  }
  return hasLongExponent(text);
}

/** Digits (and dots) in a row from which a number may not be exact in a double. */
const LONG_RUN = 16;

function isDigitOrDot(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46;
}

/** A three-digit exponent; what stands before its `e` is checked apart (a regular expression that starts at `e` skips ahead fastest). */
const EXPONENT = /[eE][+-]?[0-9]{3}/g;

/** A three-digit exponent whose mantissa holds a digit (`1e400`, `2.5E-308`; not `TEE-100`). */
function hasLongExponent(text: string): boolean {
  EXPONENT.lastIndex = 0;
  for (let match = EXPONENT.exec(text); match !== null; match = EXPONENT.exec(text)) {
    for (let i = match.index - 1; i >= 0 && isDigitOrDot(text.charCodeAt(i)); i--) {
      if (text.charCodeAt(i) !== 46) return true;
    }
    EXPONENT.lastIndex = match.index + 1;
  }
  return false;
}

/** [0-9.eE+-]: the characters of a JSON number. */
function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

export interface ParsedJson {
  value: JsonValue;
  /** True when the value holds at least one LosslessNumber. */
  lossless: boolean;
}

/**
 * True when the text may hold a negative zero: `-0`, `-0.0`, `-0e5`. JSON.parse gives -0,
 * which every writer prints as `0`, so such text takes the careful path, which keeps the
 * token as written. `indexOf` is native and fast; dates (`2025-06-01`) do hit it, but a
 * `-0` right after a digit is never the start of a number, so each hit costs a few reads.
 */
export function mayHoldNegativeZero(text: string): boolean {
  for (let i = text.indexOf('-0'); i !== -1; i = text.indexOf('-0', i + 2)) {
    if (i > 0 && isNumberChar(text.charCodeAt(i - 1))) continue;
    let j = i + 2;
    if (text.charCodeAt(j) === 46 /* . */) {
      j++;
      while (text.charCodeAt(j) === 48 /* 0 */) j++;
    }
    const next = text.charCodeAt(j);
    if (!(next >= 48 && next <= 57)) return true;
  }
  return false;
}

/**
 * True when the text may nest deeper than MAX_JSON_DEPTH, so JSON.parse (which does not
 * limit depth) must not be trusted with it. Nesting d levels takes 2d characters and d
 * opening brackets, so short lines and lines with few brackets are cleared without a
 * full scan; only the rest get an exact depth scan.
 */
export function mayNestTooDeep(text: string): boolean {
  if (text.length <= 2 * MAX_JSON_DEPTH) return false;
  let openings = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1 && openings <= MAX_JSON_DEPTH; i = text.indexOf(bracket, i + 1)) openings++;
  }
  return openings > MAX_JSON_DEPTH && maxNesting(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH;
}

/** The deepest nesting of brackets outside strings, counting no further than `limit + 1`. */
function maxNesting(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string: a backslash escapes the next character, whatever it is.
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * True when a value nests arrays and objects deeper than `limit` (the value itself is level
 * 1 when it is an array or object). Walks with its own stack, so any depth is safe to ask about.
 */
export function nestsDeeperThan(value: JsonValue, limit: number): boolean {
  const stack: Array<{ value: JsonValue; depth: number }> = [{ value, depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const v = item.value;
    if (v === null || typeof v !== 'object' || v instanceof LosslessNumber) continue;
    if (item.depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

/**
 * Parses JSON text; numbers that would lose precision (and negative zeros) become
 * LosslessNumber. Throws JsonSyntaxError, or JsonDepthError past MAX_JSON_DEPTH.
 */
export function parseJson(text: string): ParsedJson {
  if (!mayHoldInexactNumber(text) && !mayHoldNegativeZero(text) && !mayNestTooDeep(text)) {
    try {
      return { value: JSON.parse(text) as JsonValue, lossless: false };
    } catch {
      // Fall through: the careful parser reports the position of the problem.
    }
  }
  const parser = new Parser(text);
  const value = parser.parseDocument();
  return { value, lossless: parser.lossless };
}

/** Serialises JSON, writing LosslessNumber values as their original text. Never emits NaN. */
export function stringifyJson(value: unknown): string {
  const before = LosslessNumber.serialized;
  // undefined (and a function) serialise to nothing, whatever the library's type says.
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return 'null';
  return LosslessNumber.serialized === before ? text : text.replace(MARKER_PATTERN, '$1');
}

/** A copy with every LosslessNumber replaced by its nearest double (for schema validation). */
export function toPlainJson(value: JsonValue): JsonValue {
  if (value instanceof LosslessNumber) return value.valueOf();
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) setOwn(out, key, toPlainJson(value[key] as JsonValue));
    return out;
  }
  return value;
}

/** True when a value holds a LosslessNumber anywhere (records built in code, not parsed). */
export function hasLosslessNumber(value: JsonValue): boolean {
  if (value instanceof LosslessNumber) return true;
  if (Array.isArray(value)) return value.some(hasLosslessNumber);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasLosslessNumber);
  return false;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof LosslessNumber);
}

/** Sets a key as an own property, even `__proto__`, which plain assignment would treat as the prototype. */
function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  private pos = 0;
  private depth = 0;
  lossless = false;

  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw new JsonSyntaxError(`${what} at position ${this.pos + 1}`, this.pos);
  }

  private skipWhitespace(): void {
    const t = this.text;
    let p = this.pos;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  private parseValue(): JsonValue {
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject();
      case '[':
        return this.parseArray();
      case '"':
        return this.parseString();
      case 't':
        return this.parseLiteral('true', true);
      case 'f':
        return this.parseLiteral('false', false);
      case 'n':
        return this.parseLiteral('null', null);
      case undefined:
        return this.fail('unexpected end of JSON');
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
        return this.fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }

  private parseLiteral<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return value;
  }

  private parseNumber(): number | LosslessNumber {
    NUMBER_TOKEN.lastIndex = this.pos;
    const match = NUMBER_TOKEN.exec(this.text);
    if (!match) return this.fail('invalid number');
    const token = match[0];
    this.pos += token.length;
    const n = Number(token);
    if (isExact(token, n)) return n;
    this.lossless = true;
    return new LosslessNumber(token);
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    let p = start + 1;
    let escaped = false;
    for (;;) {
      if (p >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        p += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail('control character in string');
      }
      p++;
    }
    this.pos = p + 1;
    if (!escaped) return t.slice(start + 1, p);
    try {
      return JSON.parse(t.slice(start, p + 1)) as string;
    } catch {
      this.pos = start;
      return this.fail('invalid escape in string');
    }
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) throw new JsonDepthError(this.pos);
  }

  private parseArray(): JsonValue[] {
    this.enter();
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.parseValue());
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === ']') break;
      if (c !== ',') {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
    }
    this.depth--;
    return out;
  }

  private parseObject(): JsonObject {
    this.enter();
    this.pos++;
    const out: JsonObject = {};
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail('expected a property name');
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      this.skipWhitespace();
      setOwn(out, key, this.parseValue());
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === '}') break;
      if (c !== ',') {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
    }
    this.depth--;
    return out;
  }
}

/** True when the double `n` written back gives the same number as `token`. */
function isExact(token: string, n: number): boolean {
  if (!Number.isFinite(n)) return false;
  // -0 would be written back as 0: keep the token.
  if (Object.is(n, -0)) return false;
  if (!/[.eE]/.test(token)) return Number.isSafeInteger(n);
  const digits = significantDigits(token);
  if (n === 0) return digits === 0;
  const magnitude = Math.abs(n);
  return digits <= 15 && magnitude >= 1e-300 && magnitude < 1e300;
}

function significantDigits(token: string): number {
  const mantissa = token.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '');
  const trimmed = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return trimmed.length;
}
