import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../fs-atomic.js';
import { isJsonObject, LosslessNumber, parseJson, type JsonValue } from '../protocol/json.js';

/**
 * Write-back of values the API changes under us, above all rotated OAuth refresh tokens:
 * the old token is dead once a new one is issued, so the new one must reach the disk
 * before it is relied on (airbytehq/airbyte#3990).
 */

/**
 * Sets one top-level key of a JSON config file, keeping every other key and exact numbers.
 * Atomic (temporary file, fsync, rename) and keeps the file's permissions, which for a
 * file holding credentials are usually 0600. Written with 2-space indentation.
 */
export function updateJsonConfigKey(path: string, key: string, value: JsonValue): void {
  const text = readFileSync(path, 'utf8');
  const config = parseJson(text).value;
  if (!isJsonObject(config)) throw new TypeError(`${path} does not hold a JSON object`);
  if (key === '__proto__') Object.defineProperty(config, key, { value, enumerable: true, writable: true, configurable: true });
  else config[key] = value;
  const mode = statSync(path).mode & 0o777;
  writeFileAtomic(path, `${formatJson(config, '')}\n`, mode);
}

/** A `persist` callback for oauth2RefreshToken that stores the token under `key` in `path`. */
export function persistToConfigFile(path: string, key: string): (value: string) => Promise<void> {
  return (value) => {
    updateJsonConfigKey(path, key, value);
    return Promise.resolve();
  };
}

/** JSON with 2-space indentation, writing LosslessNumber values as their exact text. */
export function formatJson(value: JsonValue, indent: string): string {
  if (value instanceof LosslessNumber) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + formatJson(item, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return '{}';
  const lines = keys.map((k) => `${inner}${JSON.stringify(k)}: ${formatJson(value[k] as JsonValue, inner)}`);
  return `{\n${lines.join(',\n')}\n${indent}}`;
}
