import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { inboxCommand, type InboxFlags } from '../../src/cli/inbox-command.js';
import type { CliIo } from '../../src/cli/io.js';
import { Journal, type NewDelivery } from '../../src/listen/journal.js';
import { runSync, tempDir } from '../helpers/cli.js';

const tmp = tempDir('sync-inbox-prune-');
afterAll(tmp.cleanup);
let n = 0;

const DAY = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY).toISOString().replace('Z', '000Z');
const delivery = (id: string, days: number, connector = 'sample'): NewDelivery => ({
  connector,
  deliveryId: id,
  receivedAt: daysAgo(days),
  event: 'customers.updated',
  method: 'POST',
  url: '/webhooks/sample',
  headers: {},
  body: Buffer.from('{}'),
});

/** A journal with done, dead and pending deliveries of several ages. */
function journalWith(): string {
  const path = join(tmp.dir, `inbox-${++n}.db`);
  const journal = new Journal(path);
  journal.append([delivery('done-10d', 10), delivery('done-3d', 3), delivery('dead-10d', 10), delivery('dead-1d', 1), delivery('other-done-10d', 10, 'other')]);
  const all = journal.pending(['sample', 'other'], 0, 100);
  journal.settle(
    all.filter((d) => d.deliveryId.includes('done')).map((d) => d.seq),
    all.filter((d) => d.deliveryId.startsWith('dead')).map((d) => ({ seq: d.seq, error: 'bad' })),
  );
  journal.append([delivery('pending-20d', 20)]);
  journal.close();
  return path;
}

function ids(path: string): string[] {
  const journal = new Journal(path, { readonly: true });
  try {
    return journal.select({}).map((d) => d.deliveryId);
  } finally {
    journal.close();
  }
}

async function prune(path: string, flags: Partial<InboxFlags>): Promise<string> {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  const io: CliIo = {
    stdout: new PassThrough(),
    stderr,
    stdin: new PassThrough(),
    env: {},
    cwd: tmp.dir,
    secrets: [],
    signal: new AbortController().signal,
    interruptedBy: () => undefined,
  };
  await inboxCommand('prune', { journal: path, target: 'sqlite:unused.db', format: 'text', ...flags }, io);
  return Buffer.concat(chunks).toString('utf8');
}

describe('sync inbox prune', () => {
  it('by default deletes done deliveries older than 7 days; dead letters and pending ones stay (the binary)', async () => {
    const path = journalWith();
    const result = await runSync(['inbox', 'prune', '--journal', path]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/pruned 2 done deliveries received before \S+ from /);
    expect(ids(path)).toEqual(['done-3d', 'dead-10d', 'dead-1d', 'pending-20d']);
    const dead = await runSync(['inbox', 'prune', '--journal', path, '--status', 'dead']);
    expect(dead.code).toBe(0);
    expect(ids(path)).toEqual(['done-3d', 'dead-1d', 'pending-20d']);
    const pending = await runSync(['inbox', 'prune', '--journal', path, '--status', 'pending']);
    expect(pending.code).toBe(2);
    expect(ids(path)).toEqual(['done-3d', 'dead-1d', 'pending-20d']);
  });

  it('--older-than and --connector narrow it; a short --older-than warns about redeliveries', async () => {
    const path = journalWith();
    expect(await prune(path, { olderThan: '5d', connector: 'other' })).toMatch(/pruned 1 done delivery/);
    expect(ids(path)).toEqual(['done-10d', 'done-3d', 'dead-10d', 'dead-1d', 'pending-20d']);
    const out = await prune(path, { olderThan: '2d' });
    expect(out).toMatch(/warning: --older-than 2d is shorter than some senders retry/);
    expect(out).toMatch(/pruned 2 done deliveries/);
    expect(await prune(path, { olderThan: '12h', status: 'dead' })).toMatch(/pruned 2 dead deliveries/);
    expect(ids(path)).toEqual(['pending-20d']);
    await expect(prune(path, { olderThan: 'soon' })).rejects.toThrow(/--older-than must be a duration/);
  });
});
