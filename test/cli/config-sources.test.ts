import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, runSync, startListen, startSync, tempDir, type CliOptions, type CliResult } from '../helpers/cli.js';

/** Where a bad setting came from, unknown settings, sectioned files and webhook secrets, through the binary. */

const tmp = tempDir('sync-config-');
afterAll(tmp.cleanup);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** `sync listen ... --port 0`, stopped as soon as it says it listens: a start it should have refused ends too. */
function listenBriefly(args: string[], options: CliOptions): Promise<CliResult> {
  const child = startSync(['listen', ...args, '--port', '0'], options);
  child.stderr?.on('data', (c: Buffer) => {
    if (c.toString().includes('listening on')) child.kill('SIGTERM');
  });
  return collect(child);
}

function file(name: string, value: unknown): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('configuration problems name where each bad value came from', () => {
  it('a value from the environment is named by its variable, whatever is wrong with it', async () => {
    const result = await runSync(['run', 'sample'], { env: { SYNC_SAMPLE_ORDERS: '-5', SYNC_SAMPLE_SEED: 'abc' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'sync: usage error: invalid configuration for sample (2 problems)\n' +
        '  seed (SYNC_SAMPLE_SEED): must be integer (got "abc")\n' +
        '  orders (SYNC_SAMPLE_ORDERS): must be >= 0 (got -5)\n',
    );
  });

  it('a value from the file is named by the file; the environment wins over it', async () => {
    const config = file('orders.json', { orders: -1, customers: -2 });
    const result = await runSync(['run', 'sample', '--config', config], { env: { SYNC_SAMPLE_CUSTOMERS: '-3' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`  customers (SYNC_SAMPLE_CUSTOMERS): must be >= 0 (got -3)\n`);
    expect(result.stderr).toContain(`  orders (${config}): must be >= 0 (got -1)\n`);
  });
});

describe('a config file keyed by connector', () => {
  it('serves sync run too: {"sample": {...}} is read as the settings of sample', async () => {
    const config = file('sections.json', { sample: { customers: 3 }, rest: { base_url: 'https://example.com' } });
    const result = await runSync(['run', 'sample', '--config', config, '--target', '-', '--streams', 'customers'], { env: { SYNC_SAMPLE_NOW: '2026-01-15T00:00:00Z' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.match(/"type":"RECORD"/g)).toHaveLength(3);
    expect(result.stderr).not.toMatch(/warning/);
  });

  it('serves sync listen of one connector, whose webhook secret is found in its section', async () => {
    const config = file('listen.json', { sample: { webhook_secret: SECRET } });
    const listener = await startListen(['sample', '--config', config, '--journal', 'inbox.db'], { cwd: tmp.dir });
    listener.child.kill('SIGTERM');
    const result = await listener.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/warning/);
  });

  it('says which settings it ignores when the file has no section for the connector', async () => {
    const config = file('other.json', { github: { webhook_secret: SECRET } });
    const result = await listenBriefly(['sample', '--config', config, '--journal', 'never.db'], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^warning: .*other\.json: unknown setting "github" is ignored\nsync: usage error: sample: no webhook secret is set/);
  });
});

describe('webhook secrets are checked when the listener starts', () => {
  it('a whsec_ secret that is not base64 is refused at once, naming its variable and never its value', async () => {
    const broken = 'whsec_not/base64!secret';
    const result = await listenBriefly(['sample', '--journal', 'never.db'], { cwd: tmp.dir, env: { SYNC_SAMPLE_WEBHOOK_SECRET: broken } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'sync: usage error: invalid configuration for sample (1 problem)\n' +
        '  webhook_secret (SYNC_SAMPLE_WEBHOOK_SECRET): it is not a key the standard-webhooks scheme can verify signatures with (a Standard Webhooks secret is whsec_ followed by base64)\n',
    );
  });

  it('during a rotation, each secret must be usable: it says how many are not', async () => {
    const config = file('rotation.json', { webhook_secret: `${SECRET} whsec_%%%` });
    const result = await listenBriefly(['sample', '--config', config, '--journal', 'never.db'], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`  webhook_secret (${config}): 1 of its 2 secrets is not a key the standard-webhooks scheme can verify signatures with`);
    expect(result.stderr).not.toContain(SECRET);
  });
});
