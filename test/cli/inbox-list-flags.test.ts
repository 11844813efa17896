import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/listen/journal.js';
import { runSync, tempDir } from '../helpers/cli.js';

/** `sync inbox list` reads `--since` and `--limit` as the other commands read durations and counts. */

const tmp = tempDir('sync-inbox-flags-');
afterAll(tmp.cleanup);

const DAY = 86_400_000;

/** A journal holding deliveries received 3 and 10 days ago. */
function journalWith(): string {
  const path = join(tmp.dir, 'inbox.db');
  const journal = new Journal(path);
  journal.append(
    [3, 10].map((days) => ({
      connector: 'sample',
      deliveryId: `${days}d-ago`,
      receivedAt: new Date(Date.now() - days * DAY).toISOString(),
      event: 'customers.updated',
      method: 'POST',
      url: '/webhooks/sample',
      headers: {},
      body: Buffer.from('{}'),
    })),
  );
  journal.close();
  return path;
}

describe('sync inbox list flags', () => {
  const path = journalWith();
  const listed = (stdout: string): string[] => stdout.trimEnd().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { id: string }).id);

  it('--since takes weeks like every other duration: 1w lists what came in the last 7 days', async () => {
    const result = await runSync(['inbox', 'list', '--journal', path, '--format', 'json', '--since', '1w']);
    expect(result.code, result.stderr).toBe(0);
    expect(listed(result.stdout)).toEqual(['3d-ago']);
  });

  it('--limit takes digits only, as --batch-size and state history --limit do', async () => {
    const result = await runSync(['inbox', 'list', '--journal', path, '--limit', '1e1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--limit must be a positive integer, got "1e1"/);
    const one = await runSync(['inbox', 'list', '--journal', path, '--format', 'json', '--limit', '1']);
    expect(one.code, one.stderr).toBe(0);
    expect(listed(one.stdout)).toHaveLength(1);
  });
});
