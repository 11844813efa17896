import { describe, expect, it } from 'vitest';
import { LosslessNumber, mayHoldInexactNumber, parseJson, stringifyJson, toPlainJson, JsonSyntaxError } from '../../src/protocol/json.js';

const roundTrip = (text: string): string => stringifyJson(parseJson(text).value);

describe('lossless JSON', () => {
  it('keeps integers beyond 2^53 byte for byte', () => {
    const text = '{"id":9007199254740993,"big":123456789012345678901234567890,"neg":-98765432109876543210}';
    expect(roundTrip(text)).toBe(text);
    const { value, lossless } = parseJson(text);
    expect(lossless).toBe(true);
    expect((value as Record<string, unknown>)['id']).toBeInstanceOf(LosslessNumber);
  });

  it('keeps a 40-digit decimal and exponents that doubles cannot hold', () => {
    const text = '[1234567890.123456789012345678901234567890,0.1234567890123456789012345678901234567890,1e400,-2.5e-400]';
    expect(roundTrip(text)).toBe(text);
  });

  it('leaves ordinary numbers as numbers (fast path)', () => {
    const { value, lossless } = parseJson('{"a":1,"b":2.5,"c":-0.001,"d":1e21}');
    expect(lossless).toBe(false);
    expect(value).toEqual({ a: 1, b: 2.5, c: -0.001, d: 1e21 });
  });

  it('keeps safe 16-digit integers as numbers even on the careful path', () => {
    const { value, lossless } = parseJson('{"a":1234567890123456,"s":"0000000000000000"}');
    expect(lossless).toBe(false);
    expect(value).toEqual({ a: 1234567890123456, s: '0000000000000000' });
  });

  it('parses strings with escapes, unicode and NUL on the careful path', () => {
    const text = '{"n":12345678901234567890,"s":"a\\"b\\\\c\\u0000\\n\\u00e9 ☃ 😀"}';
    const { value } = parseJson(text);
    expect((value as Record<string, unknown>)['s']).toBe('a"b\\c\u0000\n\u00e9 ☃ 😀');
    expect(parseJson(roundTrip(text)).value).toEqual(value);
  });

  it('never writes NaN or Infinity', () => {
    expect(stringifyJson({ a: Number.NaN, b: Number.POSITIVE_INFINITY, c: -0 })).toBe('{"a":null,"b":null,"c":0}');
  });

  it('does not let a string impersonate a number', () => {
    const text = '{"s":"~sync-number-00~123","n":123456789012345678901}';
    expect(roundTrip(text)).toBe(text);
  });

  it('keeps __proto__ as an own key and does not pollute prototypes', () => {
    const { value } = parseJson('{"__proto__":{"polluted":true},"n":12345678901234567890}');
    expect(Object.keys(value as object)).toEqual(['__proto__', 'n']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it.each([
    ['{"a":1,}', 'expected a property name'],
    ['{"a" 1}', "expected ':'"],
    ['[1 2]', "expected ',' or ']'"],
    ['{"a":12345678901234567890', "expected ',' or '}'"],
    ['"unterminated 12345678901234567', 'unterminated string'],
    ['[01234567890123456789]', "expected ',' or ']'"],
    ['{"a":tru}', 'invalid literal'],
    ['12345678901234567890 x', 'unexpected text after the JSON value'],
    ['', 'unexpected end of JSON'],
    ['"bad \\x escape 12345678901234567"', 'invalid escape in string'],
    ['"raw\tcontrol 12345678901234567"', 'control character in string'],
  ])('rejects %j with a position', (text, problem) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
    expect(() => parseJson(text)).toThrow(problem);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    const deep = '['.repeat(20_000) + '12345678901234567890' + ']'.repeat(20_000);
    expect(() => parseJson(deep)).toThrow(/nesting deeper than/);
  });

  it('gives plain numbers for validation', () => {
    const { value } = parseJson('{"a":[123456789012345678901],"b":"x"}');
    // The nearest double, as JSON.parse gives it.
    expect(toPlainJson(value)).toEqual({ a: [Number('123456789012345678901')], b: 'x' });
  });
});

describe('the fast-path guard', () => {
  it('sends every inexact number to the careful parser, whatever surrounds it', () => {
    for (const text of ['{"a":1.0000000000000001}', '[1e999]', '[-1E-400]', '{"x":"TEE-011","n":12345678901234567}', '[0.10000000000000000001]']) {
      expect(parseJson(text).lossless).toBe(true);
      expect(stringifyJson(parseJson(text).value)).toBe(text);
    }
  });

  it('finds an inexact number at every position relative to its sampling stride', () => {
    // The guard samples every few characters; a number must be caught wherever it starts.
    for (const number of ['12345678901234567', '1e400', '1.5E-308', '0.10000000000000000001', '-9007199254740993', '5.0e+999']) {
      for (let pad = 0; pad < 12; pad++) {
        const text = `{"${'k'.repeat(pad)}":${number},"z":[1,2.5,"x-1e3"]}`;
        const parsed = parseJson(text);
        expect(parsed.lossless, text).toBe(true);
        expect(stringifyJson(parsed.value)).toBe(text);
      }
    }
  });

  it('agrees with the plain definition on random number-like text', () => {
    // What the guard promises, as a regular expression: 16 digits or dots in a row after a
    // digit, or a digit (and digits or dots) followed by e/E, an optional sign, three digits.
    const definition = /[0-9][0-9.]{15}|[0-9][0-9.]*[eE][+-]?[0-9]{3}/;
    const alphabet = '0123456789.eE+-a,"';
    let seed = 7;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    let positives = 0;
    for (let k = 0; k < 20_000; k++) {
      let text = '';
      // Long enough for runs to straddle the positions the guard samples.
      const length = 1 + random(k % 2 === 0 ? 40 : 120);
      for (let j = 0; j < length; j++) text += alphabet[random(alphabet.length)] ?? '';
      const expected = definition.test(text);
      expect(mayHoldInexactNumber(text), text).toBe(expected);
      if (expected) positives++;
    }
    // Both answers are exercised, not only one.
    expect(positives).toBeGreaterThan(1_000);
    expect(positives).toBeLessThan(19_000);
  });

  it('keeps the fast path for text that merely looks like an exponent', () => {
    const text = '{"sku":"TEE-011","e":"E-100","n":1.5e10}';
    expect(parseJson(text)).toEqual({ value: { sku: 'TEE-011', e: 'E-100', n: 1.5e10 }, lossless: false });
  });
});
