import { readFileSync } from 'node:fs';
import { parseJson, type JsonValue } from '../protocol/json.js';
import { UsageError } from '../errors.js';

/** Reads a JSON file given on the command line; every failure names the file and the flag. */
export function readJsonFile(path: string, flag: string, options: { missingOk?: boolean } = {}): JsonValue | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.missingOk) return undefined;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    throw new UsageError(`${flag} ${path}: cannot read it (${why})`);
  }
  if (text.trim() === '' && options.missingOk) return undefined;
  try {
    return parseJson(text).value;
  } catch (err) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${lineAndColumn(text, err)})`);
  }
}

function lineAndColumn(text: string, err: unknown): string {
  const position = (err as { position?: number }).position;
  if (typeof position !== 'number') return (err as Error).message;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${(err as Error).message.replace(/ at position \d+$/, '')} at line ${line}, column ${column}`;
}
