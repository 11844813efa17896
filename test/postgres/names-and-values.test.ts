import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LosslessNumber } from '../../src/protocol/json.js';
import { candidateName, derivedName, isReservedStream } from '../../src/targets/postgres-names.js';
import { copyField, jsonText, propertyKind, utcInstant, widenedType, type Substitutions } from '../../src/targets/postgres-types.js';
import { parsePostgresUrl, scrubSecrets } from '../../src/targets/postgres-url.js';
import { describeTarget, lockPathFor, parseTargetSpec } from '../../src/targets/spec.js';
import { normalizeInstant } from '../../src/protocol/instant.js';

/** The PostgreSQL target's pure parts: names, COPY text of values, type widening, the spec. */

const bytes = (text: string): number => Buffer.byteLength(text);

describe('PostgreSQL names', () => {
  it('keeps a name PostgreSQL can hold as it is, and counts from _2 for the next candidates', () => {
    expect(candidateName('Orders', 1)).toBe('Orders');
    expect(candidateName('x"; DROP TABLE y; --', 1)).toBe('x"; DROP TABLE y; --');
    expect(candidateName('orders', 2)).toBe('orders_2');
  });

  it('shortens a name past 63 bytes to a prefix and a hash of the whole name, one to one', () => {
    const a = 'a'.repeat(70);
    const b = 'a'.repeat(69) + 'b';
    expect(bytes(candidateName(a, 1))).toBeLessThanOrEqual(63);
    expect(candidateName(a, 1)).not.toBe(candidateName(b, 1));
    expect(candidateName(a, 1)).toBe(candidateName(a, 1));
    expect(candidateName(a, 1).startsWith('a'.repeat(40))).toBe(true);
    expect(candidateName(a, 2)).not.toBe(candidateName(a, 1));
  });

  it('never cuts a multi-byte character in half', () => {
    const name = '🙂'.repeat(30);
    const chosen = candidateName(name, 1);
    expect(bytes(chosen)).toBeLessThanOrEqual(63);
    expect(chosen).not.toContain('\ufffd');
    expect(chosen.startsWith('🙂'.repeat(12))).toBe(true);
  });

  it('gives names with NUL or a lone surrogate a hashed spelling, apart from the name written with U+FFFD', () => {
    const nul = candidateName('a\0b', 1);
    expect(nul).not.toContain('\0');
    expect(nul).not.toBe(candidateName('a\ufffdb', 1));
    expect(candidateName('a\ud800', 1)).not.toBe(candidateName('a\udc00', 1));
    expect(candidateName('', 1)).not.toBe('');
  });

  it('reserves _sync_ stream names in any case', () => {
    expect(isReservedStream('_sync_state')).toBe(true);
    expect(isReservedStream('_SYNC_x')).toBe(true);
    expect(isReservedStream('sync_x')).toBe(false);
  });

  it('derives index names within 63 bytes', () => {
    expect(derivedName('_sync_key_', 'orders')).toBe('_sync_key_orders');
    expect(bytes(derivedName('_sync_key_', 'x'.repeat(63)))).toBeLessThanOrEqual(63);
    expect(derivedName('_sync_key_', 'x'.repeat(63))).not.toBe(derivedName('_sync_key_', 'x'.repeat(62) + 'y'));
  });
});

describe('PostgreSQL COPY text of values', () => {
  const subs = (): Substitutions => ({ count: 0 });

  it('writes numbers exactly, whatever their size', () => {
    expect(copyField(new LosslessNumber('18446744073709551616123'), 'integer', subs())).toBe('18446744073709551616123');
    expect(copyField(new LosslessNumber('3.141592653589793238462643383279502884197'), 'number', subs())).toBe('3.141592653589793238462643383279502884197');
    expect(copyField(1e21, 'number', subs())).toBe('1e+21');
  });

  it('escapes what COPY gives a meaning to, and stores NUL and lone surrogates as U+FFFD, counted', () => {
    const counted = subs();
    expect(copyField('a\tb\nc\\d\re', 'string', counted)).toBe('a\\tb\\nc\\\\d\\re');
    expect(copyField('x\0y\ud800z', 'string', counted)).toBe('x\ufffdy\ufffdz');
    expect(copyField('🙂', 'string', counted)).toBe('🙂');
    expect(counted.count).toBe(2);
    expect(copyField('\\N', 'string', subs())).toBe('\\\\N');
    expect(copyField(null, 'string', subs())).toBe('\\N');
  });

  it('writes JSON that jsonb accepts: NUL and lone surrogate escapes become \\ufffd, an escaped backslash stays', () => {
    const counted = subs();
    expect(jsonText({ a: 'x\0y', b: '\ud800', c: '\\u0000', d: '\u0001' }, counted)).toBe('{"a":"x\\ufffdy","b":"\\ufffd","c":"\\\\u0000","d":"\\u0001"}');
    expect(counted.count).toBe(2);
    expect(jsonText({ huge: new LosslessNumber('123456789012345678901234567890') }, subs())).toBe('{"huge":123456789012345678901234567890}');
  });

  it('writes date-times as fixed-width UTC and refuses what is no instant', () => {
    expect(copyField('2024-05-01T12:00:00+02:00', 'date-time', subs())).toBe('2024-05-01T10:00:00.000000Z');
    expect(copyField('2024-05-01', 'date-time', subs())).toBe('2024-05-01T00:00:00.000000Z');
    expect(() => copyField('2024-13-45T99:00:00Z', 'date-time', subs())).toThrow(/is not a date-time/);
    expect(() => copyField(5, 'boolean', subs())).toThrow(/is not a boolean/);
    expect(() => copyField('five', 'integer', subs())).toThrow(/is not a number/);
  });

  it('reads plain UTC date-times as normalizeInstant does', () => {
    for (const text of ['2024-02-29T23:59:59Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-12-31T23:59:60.5Z', '2024-01-01T24:00:00Z', '2024-06-30T00:00:00.1234Z']) {
      expect(utcInstant(text)).toBe(normalizeInstant(text));
    }
  });

  it('takes a date-time that also admits any string for a string (a timestamptz would refuse valid records)', () => {
    expect(propertyKind({ type: ['null', 'string'], format: 'date-time' })).toBe('date-time');
    expect(propertyKind({ anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] })).toBe('date-time');
    expect(propertyKind({ anyOf: [{ type: 'string', format: 'date-time' }, { type: ['string', 'null'] }] })).toBe('string');
    expect(propertyKind({ type: 'integer' })).toBe('integer');
  });

  it('widens a column only as far as needed, never narrower', () => {
    expect(widenedType('numeric', 'numeric')).toBeUndefined();
    expect(widenedType('numeric', 'text')).toBe('text');
    expect(widenedType('boolean', 'numeric')).toBe('text');
    expect(widenedType('text', 'numeric')).toBeUndefined();
    expect(widenedType('text', 'jsonb')).toBe('jsonb');
    expect(widenedType('jsonb', 'text')).toBeUndefined();
    expect(widenedType('character varying(10)', 'text')).toBeUndefined();
    expect(widenedType('bigint', 'numeric')).toBeUndefined();
  });
});

describe('PostgreSQL target spec', () => {
  it('parses postgres:// and postgresql://, with public as the default schema', () => {
    const spec = parseTargetSpec('postgres://u@db.example:5433/shop');
    expect(spec).toMatchObject({ kind: 'postgres', schema: 'public', description: 'postgres://u@db.example:5433/shop' });
    expect(parseTargetSpec('postgresql://u@h/db?schema=raw')).toMatchObject({ kind: 'postgres', schema: 'raw' });
  });

  it('never shows the password, in the spec or the query string', () => {
    const spec = parsePostgresUrl('postgres://u:p%40ss-w0rd@h:5432/db?schema=s&password=other-secret');
    expect(spec.description).toBe('postgres://u@h:5432/db?schema=s');
    expect(describeTarget({ kind: 'postgres', ...spec })).not.toMatch(/w0rd|other-secret/);
    expect(scrubSecrets('failed for p@ss-w0rd and p%40ss-w0rd and other-secret', spec.secrets)).toBe('failed for *** and *** and ***');
  });

  it('refuses an empty or too long schema name', () => {
    expect(() => parseTargetSpec('postgres://u@h/db?schema=')).toThrow(/must name a schema/);
    expect(() => parseTargetSpec(`postgres://u@h/db?schema=${'s'.repeat(64)}`)).toThrow(/longer than 63 bytes/);
  });

  it('loads nothing of PostgreSQL until a PostgreSQL target is opened', () => {
    // The built modules, in a process of their own: which CommonJS modules (pg is one) were loaded.
    const spec = new URL('../../dist/src/targets/spec.js', import.meta.url).href;
    const script = `import { createRequire } from 'node:module';
      const { openTarget, parseTargetSpec } = await import(${JSON.stringify(spec)});
      parseTargetSpec('postgres://u@h/db?schema=s');
      await openTarget(parseTargetSpec('-'), { stateId: 's', warn: () => {}, stdout: process.stdout });
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      process.stderr.write(JSON.stringify(loaded.filter((m) => /node_modules\\/pg/.test(m))));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stderr)).toEqual([]);
  });

  it('has no lock file: its run lock lives in the database', () => {
    expect(lockPathFor(parseTargetSpec('postgres://u@h/db'), 'sample', undefined)).toBeUndefined();
  });
});
