import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DigestEncoding, HmacAlgorithm } from './types.js';

/** Digest sizes are public, so checking a length before comparing leaks nothing. */
export const DIGEST_BYTES: Readonly<Record<HmacAlgorithm, number>> = { sha1: 20, sha256: 32, sha512: 64 };

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes a digest written in hex or base64, or returns undefined when the text is not a
 * well-formed digest of exactly `bytes` bytes. Buffer.from alone would skip bad characters.
 */
export function decodeDigest(text: string, encoding: DigestEncoding, bytes: number): Buffer | undefined {
  if (encoding === 'hex') {
    if (text.length !== bytes * 2 || !HEX.test(text)) return undefined;
    return Buffer.from(text, 'hex');
  }
  const padded = text.length % 4 === 0 ? text : text + '='.repeat(4 - (text.length % 4));
  if (padded.length !== Math.ceil(bytes / 3) * 4 || !BASE64.test(padded)) return undefined;
  const decoded = Buffer.from(padded, 'base64');
  // Re-encoding rejects stray padding and non-zero trailing bits: one digest, one spelling.
  if (decoded.length !== bytes || decoded.toString('base64') !== padded) return undefined;
  return decoded;
}

/** Strict standard base64 of any length (used for secrets), or undefined. */
export function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64');
  return decoded.toString('base64') === text ? decoded : undefined;
}

export function hmac(algorithm: HmacAlgorithm, key: Uint8Array, content: readonly Uint8Array[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of content) mac.update(part);
  return mac.digest();
}

/** Constant-time equality of two digests; different lengths are simply unequal. */
export function digestsEqual(expected: Uint8Array, given: Uint8Array): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Constant-time equality of two secrets of any lengths: both are hashed first, so the
 * comparison takes the same time whatever the lengths and wherever they differ.
 */
export function secretsEqual(expected: Uint8Array, given: Uint8Array): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
