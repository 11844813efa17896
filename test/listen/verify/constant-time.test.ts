import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestsEqual, secretsEqual } from '../../../src/listen/verify/digests.js';

/**
 * Signatures and shared secrets are compared in constant time. A test cannot time that
 * reliably on a busy machine, so it checks what can be checked: every comparison in the
 * verifiers goes through the two helpers, the helpers through crypto.timingSafeEqual on
 * inputs of equal length, and the helpers give the right answers wherever inputs differ.
 */

const VERIFY = join(import.meta.dirname, '../../../src/listen/verify');
const sources = readdirSync(VERIFY)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(VERIFY, f), 'utf8') }));

function body(text: string, name: string): string {
  const start = text.indexOf(`export function ${name}(`);
  if (start === -1) throw new Error(`${name} not found`);
  return text.slice(start, text.indexOf('\n}\n', start));
}

describe('signature and secret comparison', () => {
  it('goes through crypto.timingSafeEqual, on equal lengths (digests checked, secrets hashed first)', () => {
    const digests = sources.find((s) => s.file === 'digests.ts')?.text ?? '';
    expect(body(digests, 'digestsEqual')).toMatch(/expected\.length === given\.length && timingSafeEqual\(expected, given\)/);
    const secrets = body(digests, 'secretsEqual');
    expect(secrets).toMatch(/createHash\('sha256'\)\.update\(expected\)/);
    expect(secrets).toMatch(/timingSafeEqual\(a, b\)/);
  });

  it('no verifier compares bytes or secrets any other way', () => {
    for (const { file, text } of sources) {
      expect([file, /\.equals\(|Buffer\.compare\(|\.compare\(/.test(text)]).toEqual([file, false]);
      // Signatures and secrets are never compared as strings either.
      expect([file, /(signature|secret|digest|expected)\w*\s*===?\s*\w*(given|signature|provided|received)/i.test(text)]).toEqual([file, false]);
    }
  });

  it('answers right wherever two inputs of equal length differ, and for different lengths', () => {
    const a = Buffer.alloc(32, 7);
    for (const at of [0, 15, 31]) {
      const b = Buffer.from(a);
      b[at] = 8;
      expect(digestsEqual(a, b)).toBe(false);
      expect(secretsEqual(a, b)).toBe(false);
    }
    expect(digestsEqual(a, Buffer.from(a))).toBe(true);
    expect(secretsEqual(a, Buffer.from(a))).toBe(true);
    expect(digestsEqual(a, a.subarray(0, 31))).toBe(false);
    expect(secretsEqual(a, a.subarray(0, 31))).toBe(false);
  });
});
