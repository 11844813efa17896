import { describe, expect, it } from 'vitest';
import { formatInstant, formatInstantMs, normalizeInstant, parseInstant } from '../../src/protocol/instant.js';

describe('instants', () => {
  it('reads Z, +00:00, other offsets and naive values as the same instant', () => {
    const z = parseInstant('2024-05-01T12:00:00Z');
    expect(parseInstant('2024-05-01T12:00:00+00:00')).toBe(z);
    expect(parseInstant('2024-05-01T12:00:00')).toBe(z);
    expect(parseInstant('2024-05-01T14:00:00+02:00')).toBe(z);
    expect(parseInstant('2024-05-01T07:30:00-0430')).toBe(z);
    expect(parseInstant('2024-05-01 12:00:00z')).toBe(z);
    expect(z).toBe(Date.UTC(2024, 4, 1, 12) * 1000);
  });

  it('keeps microseconds that Date would drop', () => {
    const a = parseInstant('2024-05-01T12:00:00.123456Z') as number;
    const b = parseInstant('2024-05-01T12:00:00.123457Z') as number;
    expect(b - a).toBe(1);
    expect(parseInstant('2024-05-01T12:00:00.1234569Z')).toBe(a);
    expect(parseInstant('2024-05-01T12:00:00.1Z')).toBe(parseInstant('2024-05-01T12:00:00.100000Z'));
  });

  it('takes a bare date as midnight UTC', () => {
    expect(parseInstant('2024-02-29')).toBe(Date.UTC(2024, 1, 29) * 1000);
  });

  it('formats fixed-width UTC that sorts as time does', () => {
    expect(normalizeInstant('2024-05-01T14:00:00.5+02:00')).toBe('2024-05-01T12:00:00.500000Z');
    expect(formatInstant(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(normalizeInstant('1969-12-31T23:59:59.999999Z')).toBe('1969-12-31T23:59:59.999999Z');
    expect(normalizeInstant('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000000Z');
    expect(normalizeInstant('9999-12-31T23:59:59.999999Z')).toBe('9999-12-31T23:59:59.999999Z');
  });

  it('round-trips many instants', () => {
    for (let i = 0; i < 2000; i++) {
      const micros = Math.floor((i * 7919.123 - 500) * 86_400_000_000 / 37) + i;
      expect(parseInstant(formatInstant(micros))).toBe(micros);
    }
  });

  it.each(['', 'yesterday', '2024-13-01', '2024-02-30', '2023-02-29', '2024-05-01T25:00:00Z', '2024-05-01T12:60:00Z', '2024-05-01T12:00:00+25:00', '0000-00-00 00:00:00', '20240501', '2024-05-01T12:00:00ZZ'])(
    'rejects %j',
    (text) => {
      expect(parseInstant(text)).toBeUndefined();
    },
  );
});

describe('instants written as APIs write them', () => {
  it('uses milliseconds, microseconds only when there are some, and the fixed form outside years 0 to 9999', () => {
    expect(formatInstantMs(parseInstant('2026-05-01T10:00:00.947Z') as number)).toBe('2026-05-01T10:00:00.947Z');
    expect(formatInstantMs(parseInstant('2026-05-01T10:00:00Z') as number)).toBe('2026-05-01T10:00:00.000Z');
    expect(formatInstantMs(parseInstant('2026-05-01T10:00:00.123456Z') as number)).toBe('2026-05-01T10:00:00.123456Z');
    expect(formatInstantMs(parseInstant('1969-12-31T23:59:59.999Z') as number)).toBe('1969-12-31T23:59:59.999Z');
    const far = (parseInstant('9999-12-31T23:59:59.999Z') as number) + 1_000;
    expect(formatInstantMs(far)).toBe(formatInstant(far));
  });
});

describe('fast paths agree with the parser', () => {
  it('normalizes plain UTC forms like the full parser does', () => {
    for (const text of ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.1Z', '2024-05-01T12:00:00.123Z', '2024-05-01T12:00:00.123456Z', '2024-02-29T23:59:59.9Z']) {
      expect(normalizeInstant(text)).toBe(formatInstant(parseInstant(text) as number));
    }
    expect(normalizeInstant('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(normalizeInstant('2024-05-01T12:00:00.Z')).toBeUndefined();
  });
});
