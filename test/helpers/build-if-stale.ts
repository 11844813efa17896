import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * Vitest global setup. Tests that run the real binary run `dist/`; after an edit, `npx vitest
 * run <folder>` would test the previous build. So before any test runs, the sources are
 * compiled when one of them is newer than its build (or has none): a no-op right after
 * `npm test`'s own build, a few seconds otherwise.
 */

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function stale(): string | undefined {
  for (const source of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'connectors'))]) {
    const built = join(ROOT, 'dist', relative(ROOT, source).replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) return relative(ROOT, source);
  }
  return undefined;
}

export default function setup(): void {
  const changed = stale();
  if (changed === undefined) return;
  process.stderr.write(`building dist/ first (${changed} changed since the last build)\n`);
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
  } catch {
    // tsc still writes what it could compile; the type errors above are the developer's to fix,
    // and the tests say the rest.
    process.stderr.write('the build reported errors (above); the tests run what it emitted\n');
  }
}
