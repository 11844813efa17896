import { describe, expect, it } from 'vitest';
import {
  hasLosslessNumber,
  JsonDepthError,
  LosslessNumber,
  MAX_JSON_DEPTH,
  mayHoldNegativeZero,
  mayNestTooDeep,
  nestsDeeperThan,
  parseJson,
  stringifyJson,
  toPlainJson,
  type JsonValue,
} from '../../src/protocol/json.js';
import { MAX_SCHEMA_DEPTH, parseMessage, ProtocolError } from '../../src/protocol/messages.js';

const nested = (depth: number, inner = '1'): string => '['.repeat(depth) + inner + ']'.repeat(depth);
const roundTrip = (text: string): string => stringifyJson(parseJson(text).value);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('nesting depth', () => {
  it('refuses nesting past the maximum on the fast path too (JSON.parse itself has no limit)', () => {
    for (const text of [nested(MAX_JSON_DEPTH + 1), nested(100_000), `{"a":${nested(5_000, '{}')}}`]) {
      const err = thrown(() => parseJson(text));
      expect(err).toBeInstanceOf(JsonDepthError);
      expect((err as Error).message).toMatch(/^nesting deeper than 1000 levels of arrays and objects at position \d+$/);
    }
  });

  it('parses the maximum depth, and every walk over such a value works', () => {
    const text = nested(MAX_JSON_DEPTH - 1, '{"n":12345678901234567890}');
    const { value, lossless } = parseJson(text);
    expect(lossless).toBe(true);
    expect(stringifyJson(value)).toBe(text);
    expect(hasLosslessNumber(value)).toBe(true);
    expect(JSON.stringify(toPlainJson(value))).toBe(nested(MAX_JSON_DEPTH - 1, '{"n":12345678901234567000}'));
    expect(nestsDeeperThan(value, MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(value, MAX_JSON_DEPTH - 1)).toBe(true);
  });

  it('counts brackets inside strings as text', () => {
    const text = `{"s":${JSON.stringify('['.repeat(5_000))},"t":"\\"[[[["}`;
    expect(mayNestTooDeep(text)).toBe(false);
    expect(parseJson(text).value).toEqual({ s: '['.repeat(5_000), t: '"[[[[' });
  });

  it('clears long lines with few brackets without a depth scan, and catches deep ones', () => {
    expect(mayNestTooDeep(`[${'1,'.repeat(100_000)}1]`)).toBe(false);
    expect(mayNestTooDeep(`[${'[],'.repeat(5_000)}1]`)).toBe(false);
    expect(mayNestTooDeep(`{"a":1,"b":${nested(MAX_JSON_DEPTH)}}`)).toBe(true);
  });

  it('measures the depth of a value of any depth without recursion', () => {
    let deep: JsonValue = 1;
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    expect(nestsDeeperThan(deep, 1_000)).toBe(true);
    expect(nestsDeeperThan({ a: [1, { b: [] }] }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: [] }] }, 3)).toBe(true);
    expect(nestsDeeperThan(new LosslessNumber('1'), 0)).toBe(false);
  });

  it('makes a deep line a ProtocolError naming the line, not a stack overflow', () => {
    const err = thrown(() => parseMessage(`{"type":"STATE","value":${nested(100_000)}}`, 7));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/^line 7: refused: nesting deeper than 1000 levels/);
  });

  it('refuses a SCHEMA nested deeper than the schema maximum, and accepts one at it', () => {
    const schemaOf = (levels: number): string => {
      // properties -> id -> (items ->)* : levels counts the objects and arrays of the schema
      const items = '{"type":"array","items":'.repeat(levels - 3);
      return `{"type":"SCHEMA","stream":"s","key_properties":[],"schema":{"type":"object","properties":{"id":${items}{}${'}'.repeat(levels - 3)}}}}`;
    };
    expect(parseMessage(schemaOf(MAX_SCHEMA_DEPTH), 1).type).toBe('SCHEMA');
    const err = thrown(() => parseMessage(schemaOf(MAX_SCHEMA_DEPTH + 1), 3));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toBe('line 3: SCHEMA: "schema" is nested deeper than 100 levels of arrays and objects');
  });
});

describe('negative zero', () => {
  it('is written back as written', () => {
    for (const text of ['-0', '[-0]', '{"a":-0}', '{"a":-0.0,"b":-0e5,"c":-0.000E-2}', '[1,-0,2]', '{"a": -0 }']) {
      expect(roundTrip(text)).toBe(text.replace(/ /g, ''));
    }
  });

  it('is kept on the careful path too', () => {
    const text = '{"big":12345678901234567890,"z":-0}';
    expect(roundTrip(text)).toBe(text);
    expect(parseJson(text).lossless).toBe(true);
  });

  it('still validates as the number zero', () => {
    const plain = toPlainJson(parseJson('{"z":-0}').value) as { z: number };
    expect(Object.is(plain.z, -0)).toBe(true);
  });

  it('is told apart from dates, negative numbers and text', () => {
    for (const text of ['{"d":"2025-06-01T00:00:00-05:00"}', '[-0.5,-0.05,-10,1e-05,-0.001e-3]', '{"s":"a-01","t":"3-0"}']) {
      expect(mayHoldNegativeZero(text), text).toBe(false);
      expect(parseJson(text).lossless).toBe(false);
    }
    for (const text of ['[-0]', '{"a":-0.0}', '[-0e1]', '{"s":"x -0 y"}']) expect(mayHoldNegativeZero(text), text).toBe(true);
  });
});
