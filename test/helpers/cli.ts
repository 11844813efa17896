import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

/** The real `sync` binary (built by `npm test` before vitest runs). */
export const SYNC_BIN = resolve(import.meta.dirname, '../../bin/sync.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
}

export function startSync(args: string[], options: CliOptions = {}): ChildProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) {
    // A developer's own SYNC_* settings must not leak into tests.
    if (v !== undefined && !(k.startsWith('SYNC_') && !(options.env && k in options.env))) env[k] = v;
  }
  return spawn(process.execPath, [SYNC_BIN, ...args], { cwd: options.cwd ?? process.cwd(), env, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function collect(child: ChildProcess, input?: string | Buffer): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin?.on('error', () => {});
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

export function runSync(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return collect(startSync(args, options), options.input);
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'sync-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One fresh folder per case, under a temporary folder removed after the file's tests. */
export function caseFolders(prefix: string): () => string {
  const tmp = tempDir(prefix);
  afterAll(tmp.cleanup);
  let n = 0;
  return () => {
    const dir = join(tmp.dir, `case-${++n}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
}

/** `sync listen ... --port 0` started for real: resolves with its address once it prints it. */
export async function startListen(
  args: string[],
  options: CliOptions = {},
): Promise<{ child: ChildProcess; url: string; done: Promise<CliResult> }> {
  const child = startSync(['listen', ...args, '--port', '0'], options);
  const done = collect(child);
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sync listen did not start:\n${stderr}`)), 15_000);
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /listening on (http:\/\/[^\s:]+:\d+)/.exec(stderr);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return { child, url, done };
}
