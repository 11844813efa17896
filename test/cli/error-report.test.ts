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

  it('without it, errors stay text lines naming their kind', async () => {
    const result = await runSync(['run', 'sample', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("sync: usage error: unknown option '--frobnicate'\n  (run with --help for usage)\n");
  });
});
