import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/listen/journal.js';
import { runSync, tempDir } from '../helpers/cli.js';

/** `sync inbox --connector NAME` refuses a name that is neither a connector nor in the journal. */

const tmp = tempDir('sync-inbox-connector-');
afterAll(tmp.cleanup);

function journalWith(connectors: string[]): string {
  const path = join(tmp.dir, 'inbox.db');
  const journal = new Journal(path);
  journal.append(
    connectors.map((connector, i) => ({
      connector,
      deliveryId: `d-${i}`,
      receivedAt: new Date().toISOString(),
      event: 'customers.updated',
      method: 'POST',
      url: `/webhooks/${connector}`,
      headers: {},
      body: Buffer.from('{}'),
    })),
  );
  journal.close();
  return path;
}

describe('sync inbox --connector', () => {
  const path = journalWith(['sample', 'retired']);

  it('refuses an unknown connector, naming the known ones', async () => {
    for (const action of ['prune', 'list']) {
      const result = await runSync(['inbox', action, '--journal', path, '--connector', 'gitlab']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^sync: usage error: unknown connector "gitlab", and the journal holds no delivery for it; known connectors: (\w+, )*sample(, \w+)*\n$/);
    }
  });

  it('accepts a known connector, and a name the journal holds deliveries of', async () => {
    const known = await runSync(['inbox', 'list', '--journal', path, '--connector', 'sample']);
    expect(known.code, known.stderr).toBe(0);
    expect(known.stdout).toMatch(/ d-0 /);
    const retired = await runSync(['inbox', 'list', '--journal', path, '--connector', 'retired']);
    expect(retired.code, retired.stderr).toBe(0);
    expect(retired.stdout).toMatch(/ d-1 /);
  });
});
