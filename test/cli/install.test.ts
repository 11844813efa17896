import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, SYNC_BIN, tempDir } from '../helpers/cli.js';

/**
 * The README's crontab lines, run as cron runs them: `/bin/sh -c` with nothing in the
 * environment but `PATH=/usr/bin:/bin` and `HOME`, from the home folder, far from the checkout,
 * against `sync-cli` installed in a project folder the way npm lays it out. (On this machine
 * `/usr/bin/sync` is coreutils', which is what a bare `sync` would run.)
 */

const CHECKOUT = resolve(SYNC_BIN, '../..');
const tmp = tempDir('sync-install-');
afterAll(tmp.cleanup);

/** Every command line of the README's ```crontab blocks, schedule left off. */
function crontabCommands(): string[] {
  const readme = readFileSync(join(CHECKOUT, 'README.md'), 'utf8');
  const commands: string[] = [];
  for (const block of readme.matchAll(/```crontab\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? '').split('\n')) {
      const entry = /^(?:\S+\s+){5}(.+)$/.exec(line.trim());
      if (entry?.[1] && !line.trim().startsWith('#')) commands.push(entry[1]);
    }
  }
  return commands;
}

/**
 * What `npm install /path/to/sync` makes of a project folder: the package linked in
 * node_modules, and a link in node_modules/.bin for each name of package.json's "bin".
 */
function installInto(project: string): string[] {
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
  symlinkSync(CHECKOUT, join(modules, pkg.name));
  for (const [name, path] of Object.entries(pkg.bin)) symlinkSync(join('..', pkg.name, path), join(modules, '.bin', name));
  return Object.keys(pkg.bin);
}

let n = 0;
/** Runs one crontab command with the README's /srv/sync (and node's path) pointing here. */
async function runAsCron(command: string): Promise<{ code: number | null; srv: string; stderr: string }> {
  const root = join(tmp.dir, `cron-${++n}`);
  const srv = join(root, 'srv', 'sync');
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  mkdirSync(srv, { recursive: true });
  installInto(srv);
  const line = command.replaceAll('/usr/local/bin/node', process.execPath).replaceAll('/srv/sync', srv);
  const child = spawn('env', ['-i', 'PATH=/usr/bin:/bin', `HOME=${home}`, '/bin/sh', '-c', line], { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collect(child);
  return { code: result.code, srv, stderr: result.stderr };
}

function customers(db: string): number {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT count(*) AS n FROM customers').get() as { n: number }).n;
  } finally {
    d.close();
  }
}

describe('installed for cron', () => {
  const commands = crontabCommands();

  it('package.json names the command sync-cli too, and the README shows both crontab forms', () => {
    expect(installInto(join(tmp.dir, 'names'))).toContain('sync-cli');
    expect(commands).toHaveLength(2);
    expect(commands[0]).toContain('/srv/sync/node_modules/.bin/sync-cli run sample');
    expect(commands[1]).toMatch(/^SYNC_SAMPLE_SEED=7 \/usr\/local\/bin\/node \/srv\/sync\/node_modules\/sync-cli\/bin\/sync\.js run sample/);
  });

  // The bin's `#!/usr/bin/env node` needs node where cron looks; the README says so, and gives the other form.
  it.skipIf(!existsSync('/usr/bin/node') && !existsSync('/bin/node'))('the sync-cli line syncs, quietly, from any folder in cron\'s environment', async () => {
    const { code, srv, stderr } = await runAsCron(commands[0] ?? '');
    expect(code, stderr).toBe(0);
    expect(readFileSync(join(srv, 'sync.log'), 'utf8')).toBe('');
    expect(customers(join(srv, 'sync.db'))).toBe(100);
  });

  it('the line that names node syncs the same way', async () => {
    const { code, srv, stderr } = await runAsCron(commands[1] ?? '');
    expect(code, stderr).toBe(0);
    expect(readFileSync(join(srv, 'sync.log'), 'utf8')).toBe('');
    expect(customers(join(srv, 'sync.db'))).toBe(100);
  });
});
