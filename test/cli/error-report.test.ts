import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';

/** Errors are written in the format the logs use: one JSON object per line with --log-format json. */

const tmp = tempDir('sync-errors-');
afterAll(tmp.cleanup);

interface ErrorLine {
  time: string;
  level: string;
  msg: string;
  kind: string;
  exit_code: number;
  details: string[];
}

function jsonLines(stderr: string): ErrorLine[] {
  return stderr
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as ErrorLine);
}

describe('errors with --log-format json', () => {
  it('a command-line mistake is one JSON error line, exit 2', async () => {
    const result = await runSync(['run', 'sample', '--frobnicate', '--log-format', 'json']);
    expect(result.code).toBe(2);
    const lines = jsonLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', kind: 'usage error', exit_code: 2, msg: "unknown option '--frobnicate'" });
    expect(Number.isNaN(Date.parse(lines[0]?.time ?? ''))).toBe(false);
  });

  it('a configuration error carries its problems as details; --log-format=json works too', async () => {
    const result = await runSync(['run', 'sample', '--log-format=json'], { env: { SYNC_SAMPLE_ORDERS: '-5', SYNC_SAMPLE_SEED: 'abc' } });
    expect(result.code).toBe(2);
    const lines = jsonLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toBe('invalid configuration for sample (2 problems)');
    expect(lines[0]?.details).toHaveLength(2);
  });

  it('an error line is scrubbed of secrets, as log lines are', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const dir = join(tmp.dir, 'scrub');
    // A --state that is a folder whose name holds the secret: the error names the path.
    const stateDir = join(dir, secret);
    mkdirSync(stateDir, { recursive: true });
    const result = await runSync(['run', 'sample', '--state', stateDir, '--log-format', 'json'], {
      cwd: dir,
      env: { SYNC_SAMPLE_WEBHOOK_SECRET: secret, SYNC_SAMPLE_NOW: '2026-01-15T00:00:00Z' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(secret);
    const errors = jsonLines(result.stderr).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/^--state .*\*{8}: cannot read it \(is a folder\)$/);
  });

  it('an error of sync state show is one JSON error line, as with every command', async () => {
    const result = await runSync(['state', 'show', 'no-such-connector', '--log-format', 'json'], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    const lines = jsonLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', kind: 'usage error', exit_code: 2 });
    expect(lines[0]?.msg).toMatch(/^unknown connector "no-such-connector"/);
  });

  it('sync state and sync status log as asked too: JSON lines, or nothing but warnings with --quiet', async () => {
    const missing = ['--target', `sqlite:${join(tmp.dir, 'never-made.db')}`];
    const json = await runSync(['state', 'clear', 'sample', ...missing, '--log-format', 'json'], { cwd: tmp.dir });
    expect(json.code, json.stderr).toBe(0);
    expect(jsonLines(json.stderr)).toEqual([expect.objectContaining({ level: 'info', msg: expect.stringMatching(/^nothing to clear: .*never-made\.db does not exist$/) as unknown })]);
    const quiet = await runSync(['state', 'show', 'sample', ...missing, '--quiet'], { cwd: tmp.dir });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    const status = await runSync(['status', ...missing, '--log-format', 'json', '--quiet', '--debug'], { cwd: tmp.dir });
    expect(status.code, status.stderr).toBe(0);
  });

  it('every command takes --log-format, --quiet and --debug', async () => {
    for (const command of ['run', 'target', 'listen', 'drain', 'inbox', 'state', 'status', 'connectors']) {
      const help = await runSync([command, '--help']);
      expect(help.code, command).toBe(0);
      for (const option of ['--log-format <format>', '-q, --quiet', '--debug']) expect(help.stdout, `${command} ${option}`).toContain(option);
    }
  });

  it('without it, errors stay text lines naming their kind', async () => {
    const result = await runSync(['run', 'sample', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("sync: usage error: unknown option '--frobnicate'\n  (run with --help for usage)\n");
  });
});
