import { resolve, sep } from 'node:path';

/**
 * Stream names come from data and are untrusted. A file name is made from a stream name by
 * keeping [A-Za-z0-9_-] and percent-encoding every other byte (dots included), so names stay
 * distinct, readable, and can never climb out of the folder (`../x` becomes `%2E%2E%2Fx`).
 */
export function streamFileName(stream: string, extension: string): string {
  let out = '';
  for (const byte of Buffer.from(stream, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out === '') out = '%00';
  // Most file systems cap names at 255 bytes.
  if (out.length + extension.length + 1 > 255) throw new Error(`stream name is too long for a file name: ${JSON.stringify(stream.slice(0, 40))}…`);
  return `${out}.${extension}`;
}

/** Joins a generated file name to its folder and proves the result stays inside it. */
export function fileInside(dir: string, name: string): string {
  const root = resolve(dir);
  const path = resolve(root, name);
  if (!path.startsWith(root + sep)) throw new Error(`refusing to write outside ${root}: ${JSON.stringify(name)}`);
  return path;
}
