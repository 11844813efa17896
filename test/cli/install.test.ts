import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
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
const CRON_PATH = '/usr/bin:/bin';
/** systemd's PATH for services. */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Whether `#!/usr/bin/env node` finds node on `path`; where it does not, the README names node by its path. */
const nodeOn = (path: string): boolean => path.split(':').some((dir) => existsSync(join(dir, 'node')));
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
  const child = spawn('env', ['-i', `PATH=${CRON_PATH}`, `HOME=${home}`, '/bin/sh', '-c', line], { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collect(child);
  return { code: result.code, srv, stderr: result.stderr };
}

/** The README's systemd unit: its ExecStart, WorkingDirectory and stop timeout. */
function systemdUnit(): { execStart: string[]; workingDirectory: string; timeoutStopSec: number } {
  const readme = readFileSync(join(CHECKOUT, 'README.md'), 'utf8');
  const unit = /```ini\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const value = (key: string): string => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1] ?? '';
  return { execStart: value('ExecStart').split(' '), workingDirectory: value('WorkingDirectory'), timeoutStopSec: Number(value('TimeoutStopSec')) };
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

  const sample = commands.filter((c) => c.includes(' run sample '));

  it('package.json names the command sync-cli too, and the README shows both crontab forms for sample', () => {
    expect(installInto(join(tmp.dir, 'names'))).toContain('sync-cli');
    // The third is the one of "Operating sync", with its `status --check` line.
    expect(sample).toHaveLength(3);
    expect(sample[0]).toContain('/srv/sync/node_modules/.bin/sync-cli run sample');
    expect(sample[1]).toMatch(/^SYNC_SAMPLE_SEED=7 \/usr\/local\/bin\/node \/srv\/sync\/node_modules\/sync-cli\/bin\/sync\.js run sample/);
  });

  it('every crontab line starts its program by an absolute path, never through npx or a bare sync', () => {
    for (const command of commands) {
      // What runs: past any VAR=value and any `cd /folder &&`.
      const program = command.replace(/^cd \/\S* && /, '').replace(/^(\w+=\S+ )+/, '').split(' ')[0] ?? '';
      expect(program, command).toMatch(/^\//);
      expect(program, command).not.toMatch(/\/(npx|npm|sync)$/);
    }
  });

  // The bin's `#!/usr/bin/env node` needs node where cron looks; the README says so, and gives the other form.
  it.skipIf(!nodeOn(CRON_PATH))('the sync-cli line syncs, quietly, from any folder in cron\'s environment', async () => {
    const { code, srv, stderr } = await runAsCron(sample[0] ?? '');
    expect(code, stderr).toBe(0);
    expect(readFileSync(join(srv, 'sync.log'), 'utf8')).toBe('');
    expect(customers(join(srv, 'sync.db'))).toBe(100);
  });

  it('the line that names node syncs the same way', async () => {
    const { code, srv, stderr } = await runAsCron(sample[1] ?? '');
    expect(code, stderr).toBe(0);
    expect(readFileSync(join(srv, 'sync.log'), 'utf8')).toBe('');
    expect(customers(join(srv, 'sync.db'))).toBe(100);
  });
});

describe('watched by cron', () => {
  it.skipIf(!nodeOn(CRON_PATH))('the status --check line of "Operating sync" is silent after the sync line ran, and exits 0', async () => {
    const commands = crontabCommands();
    const check = commands.find((c) => c.includes(' status --check '));
    const run = commands.filter((c) => c.includes(' run sample '))[2];
    expect(check).toBeDefined();
    const { code, srv, stderr } = await runAsCron(`${run ?? ''}; ${check ?? ''} > /srv/sync/check.out`);
    expect(code, stderr).toBe(0);
    expect(readFileSync(join(srv, 'check.out'), 'utf8')).toBe('');
  });
});

describe('installed as a systemd service', () => {
  it.skipIf(!nodeOn(SYSTEMD_PATH))('the unit\'s ExecStart starts the listener without a shell or npx, and SIGTERM stops it with exit 0', async () => {
    const unit = systemdUnit();
    expect(unit.execStart[0]).toBe('/srv/sync/node_modules/.bin/sync-cli');
    // Longer than the listener's own stop: 10 s for requests in flight, 30 s for the drain.
    expect(unit.timeoutStopSec).toBeGreaterThan(40);
    const root = join(tmp.dir, 'systemd');
    const srv = join(root, 'srv', 'sync');
    mkdirSync(srv, { recursive: true });
    installInto(srv);
    const port = await freePort();
    const [program = '', ...args] = unit.execStart.map((a) => a.replaceAll('/srv/sync', srv).replace(/^8080$/, String(port)));
    // As systemd starts it: no shell, its own PATH, the EnvironmentFile's variables, WorkingDirectory.
    const child = spawn(program, args, {
      cwd: unit.workingDirectory.replaceAll('/srv/sync', srv),
      env: { PATH: SYSTEMD_PATH, SYNC_SAMPLE_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.on('data', (c: Buffer) => {
      if (c.toString().includes('listening on')) child.kill('SIGTERM');
    });
    const result = await collect(child);
    expect(result.stderr).toContain(`listening on http://127.0.0.1:${port}`);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(srv, 'sync-inbox.db'))).toBe(true);
  });
});

describe('packed with npm pack', () => {
  it('the tarball holds the built code the bin imports, and the unpacked package syncs', async () => {
    const dest = join(tmp.dir, 'packed');
    mkdirSync(dest, { recursive: true });
    // From the tree vitest's setup has built, so no script (and no compiler) runs; no network.
    const pack = spawn('npm', ['pack', '--ignore-scripts', '--pack-destination', dest], {
      cwd: CHECKOUT,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const packed = await collect(pack);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(dest, packed.stdout.trim().split('\n').pop() ?? '');
    const listed = await collect(spawn('tar', ['-tzf', tarball], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(listed.code, listed.stderr).toBe(0);
    const files = listed.stdout.split('\n').filter((f) => f !== '');
    for (const file of ['package/bin/sync.js', 'package/dist/src/cli/main.js', 'package/dist/src/targets/sqlite-worker.js', 'package/dist/connectors/sample/index.js', 'package/README.md']) {
      expect(files, file).toContain(file);
    }
    // Only what runs: no tests, no TypeScript sources, no source maps pointing at them.
    expect(files.filter((f) => /^package\/(test|src|connectors)\/|\.map$/.test(f))).toEqual([]);

    // Unpacked as npm installs it, beside the dependencies it declares: the bin runs from the package alone.
    const project = join(tmp.dir, 'unpacked');
    mkdirSync(project, { recursive: true });
    expect((await collect(spawn('tar', ['-xzf', tarball, '-C', project], { stdio: ['ignore', 'pipe', 'pipe'] }))).code).toBe(0);
    const installed = join(project, 'package');
    symlinkSync(join(CHECKOUT, 'node_modules'), join(installed, 'node_modules'));
    const run = await collect(
      spawn(process.execPath, [join(installed, 'bin/sync.js'), 'run', 'sample', '--target', 'jsonl:out', '--quiet'], {
        cwd: project,
        // A developer's own SYNC_* settings stay out, as for every run of the binary in tests.
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SYNC_'))),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(project, 'out/customers.jsonl'), 'utf8').trim().split('\n')).toHaveLength(100);
  });
});

/** A port nobody listens on right now, for the unit's fixed --port. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
