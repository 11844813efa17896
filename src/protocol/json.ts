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

// A random marker per process: data cannot forge it, so a string is never mistaken for a number.
const MARKER = `~sync-number-${randomBytes(12).toString('hex')}~`;
const MARKER_PATTERN = new RegExp(`"${MARKER}(-?[0-9][0-9.eE+-]*)"`, 'g');

/**
 * Cheap test for text that might hold a number JSON.parse would round: 16 or more digits
 * or dots in a row starting with a digit, or a three-digit exponent after a digit. It looks
 * inside strings too; a false positive only costs the slower careful parse.
 *
 * Both patterns are at least five characters of [0-9.eE+-] in a row, so it reads only every
 * fifth character; where one falls in such a run, it reads that whole run. On typical
 * records that touches half the text, which halves the cost of a plain scan (this guard
 * runs on every line and every page, before JSON.parse).
 */
export function mayHoldInexactNumber(text: string): boolean {
  const n = text.length;
  for (let i = SAMPLE_STRIDE - 1; i < n; i += SAMPLE_STRIDE) {
    if (!isNumberChar(text.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && isNumberChar(text.charCodeAt(start - 1))) start--;
    let end = i + 1;
    while (end < n && isNumberChar(text.charCodeAt(end))) end++;
    if (end - start >= SAMPLE_STRIDE && runMayBeInexact(text, start, end)) return true;
    // The next run starts after `end`; sampling on from there keeps the stride's guarantee.
    i = end;
  }
  return false;
}

/** The shortest pattern `mayHoldInexactNumber` looks for (`1e400`): no run that long falls between two samples. */
const SAMPLE_STRIDE = 5;

/** [0-9.eE+-]: the characters of a JSON number. */
function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

/** The exact test on one run of number characters, `text[start, end)`. */
function runMayBeInexact(text: string, start: number, end: number): boolean {
  let run = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= 16) return true;
    } else if (c === 46 /* . */ && run > 0) {
      if (++run >= 16) return true;
    } else {
      if ((c === 101 || c === 69) /* e E */ && run > 0 && hasLongExponent(text, i + 1)) return true;
      run = 0;
    }
  }
  return false;
}

function hasLongExponent(text: string, at: number): boolean {
  let i = at;
  const sign = text.charCodeAt(i);
  if (sign === 43 || sign === 45) i++;
  let digits = 0;
  while (digits < 3) {
    const c = text.charCodeAt(i + digits);
    if (!(c >= 48 && c <= 57)) break;
    digits++;
  }
  return digits >= 3;
}

export interface ParsedJson {
  value: JsonValue;
  /** True when the value holds at least one LosslessNumber. */
  lossless: boolean;
}

/** Parses JSON text; numbers that would lose precision become LosslessNumber. */
export function parseJson(text: string): ParsedJson {
  if (!mayHoldInexactNumber(text)) {
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
  const text = JSON.stringify(value);
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

const MAX_DEPTH = 1_000;
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
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
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
