import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { writeFileAtomic } from '../fs-atomic.js';
import { isJsonObject, parseJson, stringifyJson, type JsonObject } from '../protocol/json.js';

/**
 * History kept as JSON Lines beside a file target's state: one object per line, each with a
 * growing `id`. Written only under the folder lock (file-state.ts), so ids never repeat. A
 * line torn by a crash is skipped when read and never glued to the next one.
 */

/** Appends `entry` with the next id; returns that id. */
export function appendWithId(path: string, entry: JsonObject): number {
  const { last, endsClean } = tail(path);
  const id = last + 1;
  const line = stringifyJson({ id, ...entry });
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, `${endsClean ? '' : '\n'}${line}\n`);
  } finally {
    closeSync(fd);
  }
  return id;
}

/** Every readable line of the file, oldest first; none when it does not exist. */
export function readEntries(path: string): JsonObject[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: JsonObject[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const value = parseJson(line).value;
      if (isJsonObject(value) && typeof value['id'] === 'number') out.push(value);
    } catch {
      // a torn line from a crash: the entries around it still count
    }
  }
  return out;
}

/**
 * The entries kept when bounding the history of one state id (`mine` says which are its own):
 * others' as they are; of its own the newest `max`, none whose `timeField` is before `before`.
 */
export function boundedEntries(entries: JsonObject[], mine: (entry: JsonObject) => boolean, timeField: string, before: string, max: number): JsonObject[] {
  let kept = 0;
  const keep = new Array<boolean>(entries.length);
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as JsonObject;
    if (!mine(e)) keep[i] = true;
    else {
      const time = e[timeField];
      keep[i] = typeof time === 'string' && time >= before && ++kept <= max;
    }
  }
  return entries.filter((_, i) => keep[i]);
}

/** Keeps the entries `keep` accepts; rewrites the file (atomically) only when some are dropped. */
export function pruneEntries(path: string, keep: (entries: JsonObject[]) => JsonObject[]): void {
  const entries = readEntries(path);
  const kept = keep(entries);
  if (kept.length === entries.length) return;
  writeFileAtomic(path, kept.map((e) => stringifyJson(e) + '\n').join(''));
}

/** The id of the last line (0 for none), and whether the file ends with a newline. */
function tail(path: string): { last: number; endsClean: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { last: 0, endsClean: true };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { last: 0, endsClean: true };
    // Most lines are short: the last 64 KiB usually hold the whole last line.
    const length = Math.min(size, 64 * 1024);
    const chunk = Buffer.alloc(length);
    for (let done = 0; done < length; ) {
      const n = readSync(fd, chunk, done, length - done, size - length + done);
      if (n === 0) break;
      done += n;
    }
    const endsClean = chunk[length - 1] === 0x0a;
    const lines = chunk.toString('utf8').split('\n').filter((l) => l !== '');
    for (let i = lines.length - 1; i >= 0; i--) {
      // The first line of the chunk may be cut: only a line that parses counts.
      const id = idOf(lines[i] as string);
      if (id !== undefined) return { last: id, endsClean };
    }
    // A last line longer than the chunk, or only torn lines there: read it all.
    const ids = readEntries(path).map((e) => e['id'] as number);
    return { last: ids.length ? Math.max(...ids) : 0, endsClean };
  } finally {
    closeSync(fd);
  }
}

function idOf(line: string): number | undefined {
  try {
    const value = parseJson(line).value;
    return isJsonObject(value) && typeof value['id'] === 'number' ? value['id'] : undefined;
  } catch {
    return undefined;
  }
}
