import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { UsageError } from './errors.js';

/**
 * Creating the folder `dir` failed with `err`: when that is because a part of the path exists
 * but is not a folder, a usage error naming that part (`out.txt` of `jsonl:out.txt/sub`), spelt
 * relative when `dir` was; undefined for any other failure. Shared by the file targets, which
 * make their folder, and the run lock, which makes it first.
 */
export function notAFolderError(dir: string, description: string, err: unknown): UsageError | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EEXIST' && code !== 'ENOTDIR') return undefined;
  const blocker = firstNonFolder(resolve(dir));
  if (blocker === undefined) return undefined;
  const shown = isAbsolute(dir) ? blocker.path : relative(process.cwd(), blocker.path);
  return new UsageError(`${description}: ${shown} is ${blocker.isFile ? 'a file, not a folder' : 'not a folder'}`);
}

/** The path nearest the root on the way to `path` that exists but is not a folder. */
function firstNonFolder(path: string): { path: string; isFile: boolean } | undefined {
  const chain: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    const stats = statSync(p, { throwIfNoEntry: false });
    if (stats === undefined) return undefined;
    if (!stats.isDirectory()) return { path: p, isFile: stats.isFile() };
  }
  return undefined;
}
