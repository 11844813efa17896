import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/listen/journal.js';
import { caseFolders, collect, runSync, SYNC_BIN, type CliResult } from '../helpers/cli.js';

const fresh = caseFolders('sync-status-');

interface Report {
  target: string;
  exists: boolean;
  connectors: Array<{
    connector: string;
    stateId: string;
    lastRun: { exitCode: number; records: number; error: string | null; ageMs: number } | null;
    lastSuccess: { exitCode: number; records: number } | null;
    streams: Array<{ stream: string; bookmark: string; bookmarkAgeMs: number }>;
  }>;
  journal: { exists: boolean; connectors: Array<{ connector: string; pending: number; dead: number; events: Array<{ event: string; count: number }> }> } | null;
  problems?: string[];
}

/** `sync …` on a terminal `columns` wide: a pseudo-terminal made by util-linux `script`, its size set by `stty`. */
function onTerminal(args: string[], cwd: string, columns: number): Promise<CliResult> {
  const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;
  const command = `stty cols ${columns} rows 40; exec ${[process.execPath, SYNC_BIN, ...args].map(quote).join(' ')}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SYNC_')));
  return collect(spawn('script', ['-qec', command, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }));
}

describe('sync status', () => {
  it('creates nothing: no target, no journal', async () => {
    const dir = fresh();
    const status = await runSync(['status', '--journal', 'inbox.db'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toBe('sqlite:sync.db does not exist: nothing was synced into it yet\n\njournal inbox.db does not exist\n');
    const check = await runSync(['status', '--check', '--max-age', '1h', '--target', 'jsonl:out'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('jsonl:out does not exist: nothing was synced into it yet\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('shows the last run, the last success and each bookmark with its age, as a table and as JSON', async () => {
    const dir = fresh();
    expect((await runSync(['run', 'sample'], { cwd: dir, env: { SYNC_SAMPLE_NOW: '2026-01-15T00:00:00Z' } })).code).toBe(0);
    const text = await runSync(['status'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe('sqlite:sync.db');
    expect(lines[2]).toBe('sample');
    expect(lines[3]).toMatch(/^ {2}last run {2}\d+ s ago {2}ok in \d+\.\d s, 600 records$/);
    // No listener writes here: no webhook coverage column, which could only say that none came.
    expect(lines[4]).toMatch(/^ {2}stream {5}bookmark {18}age$/);
    expect(text.stdout).not.toMatch(/webhooks|no changes found/);
    // Columns line up: every bookmark starts under "bookmark".
    const column = (lines[4] as string).indexOf('bookmark');
    expect((lines[5] as string).indexOf('2026-01-')).toBe(column);
    expect((lines[6] as string).indexOf('2026-01-')).toBe(column);
    expect(lines[5]).toMatch(/^ {2}customers {2}2026-01-1\d.* days ago/);

    const json = JSON.parse((await runSync(['status', '--format', 'json'], { cwd: dir })).stdout) as Report;
    const sample = json.connectors[0];
    expect(sample?.connector).toBe('sample');
    expect(sample?.lastRun?.records).toBe(600);
    expect(sample?.lastSuccess?.records).toBe(600);
    expect(sample?.streams.map((s) => s.stream)).toEqual(['customers', 'orders']);
    expect(sample?.streams[0]?.bookmarkAgeMs).toBeGreaterThan(Date.now() - Date.parse('2026-01-16T00:00:00Z'));
  });

  it('--check is silent and exits 0 when fresh; a failing cron run makes it exit 1 with a line naming it', async () => {
    const dir = fresh();
    expect((await runSync(['run', 'sample'], { cwd: dir })).code).toBe(0);
    const fine = await runSync(['status', '--check', '--max-age', '1h'], { cwd: dir });
    expect(fine.code, fine.stdout + fine.stderr).toBe(0);
    expect(fine.stdout).toBe('');

    const failed = await runSync(['run', 'sample'], { cwd: dir, env: { SYNC_SAMPLE_ORDERS: '-5' } });
    expect(failed.code).toBe(2);
    const check = await runSync(['status', '--check', '--max-age', '1h'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^sample: the last run failed \d+ s ago \(exit 2\): invalid configuration for sample \(1 problem\): orders \(SYNC_SAMPLE_ORDERS\): must be >= 0 \(got -5\)\n$/);
    expect(check.stderr).toBe('sync: error: sync status --check: 1 problem (listed on stdout)\n');
    // The table says it too, with the last success beside it.
    const text = (await runSync(['status'], { cwd: dir })).stdout;
    expect(text).toMatch(/last run {6}\d+ s ago {2}failed \(exit 2\)/);
    expect(text).toMatch(/last success {2}\d+ s ago {2}ok in/);
  });

  it('--max-age stream=AGE finds a stale stream; a run older than --max-age is stale too', async () => {
    const dir = fresh();
    // The simulated present is in January 2026: the newest order is from then.
    await runSync(['run', 'sample'], { cwd: dir, env: { SYNC_SAMPLE_NOW: '2026-01-15T00:00:00Z' } });
    const check = await runSync(['status', '--check', '--max-age', '1h,orders=1d'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^sample: stream orders: the newest data is from \d+ days ago \(bookmark 2026-01-\d\dT[\d:.]+Z\), more than 1d\n$/);
    const relaxed = await runSync(['status', '--check', '--max-age', 'orders=3650d'], { cwd: dir });
    expect(relaxed.code).toBe(0);
    const unknown = await runSync(['status', '--check', '--max-age', 'refunds=1d'], { cwd: dir });
    expect(unknown.stdout).toBe('stream refunds: no bookmark of it is stored in sqlite:sync.db\n');
    // The run itself, two hours ago: older than --max-age 1h.
    const db = new Database(join(dir, 'sync.db'));
    db.prepare('UPDATE _sync_runs SET started_at = ?, ended_at = ?').run(new Date(Date.now() - 7_201_000).toISOString(), new Date(Date.now() - 7_200_000).toISOString());
    db.close();
    const old = await runSync(['status', '--check', '--max-age', '1h'], { cwd: dir });
    expect(old.code).toBe(1);
    expect(old.stdout).toBe('sample: the last successful run ended 2 h ago, more than 1h\n');
    const bad = await runSync(['status', '--check', '--max-age', 'orders=soon'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-age orders must be a duration such as 90s, 30m, 2h or 7d \(got "soon"\)/);
  });

  it('with a journal: deliveries per event type, pending and dead; --max-dead 0 catches a dead letter', async () => {
    const dir = fresh();
    await runSync(['run', 'sample'], { cwd: dir });
    const journal = new Journal(join(dir, 'inbox.db'));
    const delivery = (id: string, event: string) => ({
      connector: 'sample',
      deliveryId: id,
      receivedAt: new Date().toISOString(),
      event,
      method: 'POST',
      url: '/webhooks/sample',
      headers: {},
      body: Buffer.from('{}'),
    });
    journal.append([delivery('a', 'customers.updated'), delivery('b', 'customers.updated'), delivery('c', 'orders.created')]);
    const stored = journal.select({});
    journal.settle([stored[0]!.seq], [{ seq: stored[2]!.seq, error: 'no data' }]);
    journal.close();

    const json = JSON.parse((await runSync(['status', '--journal', 'inbox.db', '--format', 'json'], { cwd: dir })).stdout) as Report;
    expect(json.journal?.connectors).toEqual([
      expect.objectContaining({ connector: 'sample', pending: 1, dead: 1, events: [expect.objectContaining({ event: 'customers.updated', count: 2 }), expect.objectContaining({ event: 'orders.created', count: 1 })] }),
    ]);
    const text = (await runSync(['status', '--journal', 'inbox.db'], { cwd: dir })).stdout;
    expect(text).toMatch(/journal inbox\.db\n {2}connector {2}event {14}last delivery {2}deliveries\n {2}sample {5}customers\.updated {2}\d+ s ago/);
    expect(text).toMatch(/ {2}sample: 1 pending, the oldest received \d+ s ago, 1 dead\n$/);

    const check = await runSync(['status', '--check', '--journal', 'inbox.db', '--max-dead', '0', '--max-age', '1h,webhooks:sample=1h'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('sample: 1 dead delivery in inbox.db, more than 0 (sync inbox list --status dead)\n');
    const tolerant = await runSync(['status', '--check', '--journal', 'inbox.db', '--max-dead', '1'], { cwd: dir });
    expect(tolerant.code).toBe(0);
  });

  it('on a terminal, breaks long lines to its width (a table row continues under its last column); into a pipe they stay whole', async () => {
    const dir = fresh();
    expect((await runSync(['run', 'sample'], { cwd: dir })).code).toBe(0);
    expect((await runSync(['run', 'sample'], { cwd: dir, env: { SYNC_SAMPLE_ORDERS: '-5' } })).code).toBe(2);
    const piped = (await runSync(['status'], { cwd: dir })).stdout;
    const long = piped.split('\n').find((l) => l.startsWith('  last run'));
    expect(long?.length).toBeGreaterThan(120);

    const shown = await onTerminal(['status'], dir, 60);
    expect(shown.code, shown.stdout).toBe(0);
    const lines = shown.stdout.replaceAll('\r', '').replace(/\n$/, '').split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThan(60);
    // The same words, only broken: the run's line continues under the start of its description.
    const words = (text: string): string => text.replace(/\d+ (s|min|h|days?) ago/g, 'AGE').replace(/\s+/g, ' ').trim();
    expect(words(lines.join(' '))).toBe(words(piped));
    const at = lines.findIndex((l) => l.startsWith('  last run'));
    const column = (lines[at] as string).indexOf('failed (exit 2)');
    expect(lines[at + 1]?.slice(0, column)).toBe(' '.repeat(column));
    expect(lines[at + 1]?.[column]).not.toBe(' ');
  });

  it('--help names every kind of target, postgres:// among them', async () => {
    const help = await runSync(['status', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/-t, --target <spec> +sqlite:PATH, jsonl:DIR, csv:DIR or\s+postgres:\/\/USER@HOST:PORT\/DB\?schema=NAME/);
  });
});
