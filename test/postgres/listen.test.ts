import type { ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { caseFolders, collect, runSync, startSync, type CliResult } from '../helpers/cli.js';
import { POSTGRES_URL, postgresAvailable, quote, testSchema, type TestSchema } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { config, readAll } from '../sample/helpers.js';
import { NOW, SECRET, deliver, get, payload, sign, spawnListener, stoppedAfterEach, type Delivery, type Spawned } from '../listen/helpers.js';

/**
 * Beyond one machine, with the real binary and the real server: listener replicas sharing a
 * PostgreSQL journal, drain workers sharing its deliveries, a worker killed mid-batch, and a
 * journal that goes away while deliveries arrive.
 */

const available = await postgresAvailable('test/postgres/listen.test.ts');
const fresh = caseFolders('sync-pg-listen-');
const listeners = stoppedAfterEach();
const ENV = { SYNC_SAMPLE_WEBHOOK_SECRET: SECRET };

// A real customer of the sample shop, with ids the shop does not have: each delivery its own row.
const [template] = await readAll('customers', config({ customers: 1, orders: 1, now: NOW }));
const customer = (id: number, extra: JsonObject = {}): JsonObject => ({ ...template, id, email: `c${id}@example.com`, updated_at: '2026-03-01T12:00:00.000Z', ...extra });
const created = (id: number, extra: JsonObject = {}): Delivery => sign(payload('customers.created', customer(id, extra)));

describe.skipIf(!available)('sync listen and sync drain over a PostgreSQL journal', () => {
  let journal: TestSchema;
  let target: TestSchema;
  const workers: ChildProcess[] = [];
  beforeEach(async () => {
    journal = await testSchema('sync_journal');
    target = await testSchema('sync_target');
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await journal.drop();
    await target.drop();
  });

  const listen = async (args: string[], env: Record<string, string> = {}): Promise<Spawned> => {
    const spawned = await spawnListener(fresh(), ['--journal', journal.url, ...args], env);
    listeners.push(spawned);
    return spawned;
  };
  const drainWorker = (args: string[] = []): { child: ChildProcess; done: Promise<CliResult> } => {
    const child = startSync(['drain', 'sample', '--journal', journal.url, ...args], { cwd: fresh(), env: ENV });
    workers.push(child);
    return { child, done: collect(child) };
  };
  const journalCount = async (where = 'true'): Promise<number> =>
    Number((await journal.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(journal.name)}._sync_journal WHERE ${where}`))[0]?.n);
  /** Pending deliveries no drain holds now (the ones a claim would get); locks them for a moment. */
  const claimable = async (): Promise<number> =>
    Number(
      (
        await journal.query<{ n: string }>(
          `SELECT count(*) AS n FROM (SELECT 1 FROM ${quote(journal.name)}._sync_journal WHERE status = 'pending' FOR UPDATE SKIP LOCKED) AS free`,
        )
      )[0]?.n,
    );
  const customersInTarget = async (): Promise<number> => Number((await target.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(target.name)}.customers`))[0]?.n);
  const written = (result: CliResult): number => Number(/(\d[\d,]*) deliver(?:y|ies) written/.exec(result.stderr)?.[1]?.replaceAll(',', '') ?? Number.NaN);

  it('two listener replicas given the same deliveries store each once; two drain workers write each once', async () => {
    const [a, b] = [await listen(['--no-drain']), await listen(['--no-drain'])];
    expect(a.stderr()).toContain('no drain here');
    const deliveries = Array.from({ length: 120 }, (_, i) => created(5_000 + i));
    // Every delivery to both replicas at once, as a sender retrying through a load balancer might.
    const answers = await Promise.all(deliveries.flatMap((d) => [deliver(a.url, d), deliver(b.url, d)]));
    expect(answers.map((r) => r.status)).toEqual(Array(240).fill(200));
    expect(await journalCount()).toBe(120);
    expect(await journalCount(`status = 'pending'`)).toBe(120);
    // Either replica's /metrics counts the shared journal's backlog.
    const metrics = parsePrometheusText((await get(`${b.url}/metrics`)).text);
    expect(metrics.get('sync_listen_journal_pending')?.samples).toEqual([{ name: 'sync_listen_journal_pending', labels: { connector: 'sample' }, value: 120 }]);

    const workersRunning = [drainWorker(['--target', target.url]), drainWorker(['--target', target.url])];
    // More arrive while both drain.
    const later = Array.from({ length: 80 }, (_, i) => created(6_000 + i));
    for (const [i, d] of later.entries()) expect((await deliver(i % 2 === 0 ? a.url : b.url, d)).status).toBe(200);
    await until(async () => (await journalCount(`status = 'done'`)) === 200, 'every delivery to be done');
    for (const w of workersRunning) w.child.kill('SIGTERM');
    const results = await Promise.all(workersRunning.map((w) => w.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    // Each entry applied once: the workers' own counts add up to the deliveries, and every row was handled once.
    expect(results.map(written).reduce((x, y) => x + y, 0)).toBe(200);
    expect(await journalCount('attempts = 1')).toBe(200);
    expect(await customersInTarget()).toBe(200);
    // Each worker recorded its batches in the target's run history, as drain rows that add up.
    const drains = await target.query<{ deliveries: number; state_id: string; exit_code: number }>(
      `SELECT deliveries, state_id, exit_code FROM ${quote(target.name)}._sync_runs WHERE kind = 'drain'`,
    );
    expect(drains.reduce((n, r) => n + r.deliveries, 0)).toBe(200);
    expect(drains.every((r) => r.state_id === 'listen' && r.exit_code === 0)).toBe(true);
    expect(await target.query(`SELECT 1 FROM ${quote(target.name)}._sync_runs WHERE kind = 'run'`)).toEqual([]);
  });

  it('a drain worker killed mid-batch: its claim is taken over, nothing lost, nothing marked twice', async () => {
    const l = await listen(['--no-drain']);
    // 3 MB of records in all, far more than a pipe or socket buffer holds.
    const deliveries = Array.from({ length: 300 }, (_, i) => created(7_000 + i, { name: `Customer ${i} `.padEnd(10_000, '.') }));
    for (const d of deliveries) expect((await deliver(l.url, d)).status).toBe(200);
    // Target `-` into a pipe nobody reads: the worker claims its batch and blocks writing it.
    const doomed = startSync(['drain', 'sample', '--journal', journal.url, '--target', '-', '--quiet'], { cwd: fresh(), env: ENV });
    workers.push(doomed);
    const killed = new Promise<NodeJS.Signals | null>((resolve) => doomed.on('exit', (_code, signal) => resolve(signal)));
    // Holding them: its claim's transaction stays open while it cannot write (probed without
    // locking rows, which would make its claim skip them).
    await until(
      async () =>
        // Its last statement was the claim, naming this test's journal.
        (
          await journal.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'sync drain' AND state = 'idle in transaction' AND strpos(query, $1) > 0`, [
            `${quote(journal.name)}.${quote('_sync_journal')}`,
          ])
        ).length === 1,
      'the first worker to hold the deliveries',
    );
    expect(await journalCount(`status = 'pending'`)).toBe(300);
    doomed.kill('SIGKILL');
    expect(await killed).toBe('SIGKILL');
    // The server ended its session, and with it the claim: every delivery can be claimed again.
    await until(async () => (await claimable()) === 300, 'the claim to be released');
    const taker = drainWorker(['--target', target.url, '--once']);
    const result = await taker.done;
    expect(result.code, result.stderr).toBe(0);
    expect(written(result)).toBe(300);
    expect(await journalCount(`status = 'done' AND attempts = 1`)).toBe(300);
    expect(await customersInTarget()).toBe(300);
  });

  it('deliveries get 503 while the journal is unreachable, none is lost, and 200 again once it is back', async () => {
    const proxy = await startProxy(new URL(POSTGRES_URL));
    try {
      const url = new URL(journal.url);
      url.host = `127.0.0.1:${proxy.port}`;
      const l = await spawnListener(fresh(), ['--journal', url.href, '--no-drain']);
      listeners.push(l);
      const acked: Delivery[] = [];
      const first = created(8_000);
      expect((await deliver(l.url, first)).status).toBe(200);
      acked.push(first);

      await proxy.stop();
      const refused = created(8_001);
      const answer = await deliver(l.url, refused);
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBeDefined();

      await proxy.start();
      // The sender retries, as senders do after a 503: stored once the journal is back.
      await until(async () => (await deliver(l.url, refused)).status === 200, 'the journal to take deliveries again');
      acked.push(refused);
      const after = created(8_002);
      expect((await deliver(l.url, after)).status).toBe(200);
      acked.push(after);
      const stored = await journal.query<{ delivery_id: string }>(`SELECT delivery_id FROM ${quote(journal.name)}._sync_journal ORDER BY seq`);
      expect(stored.map((r) => r.delivery_id)).toEqual(acked.map((d) => d.id));
      expect(l.stderr()).toMatch(/503/);
    } finally {
      await proxy.stop();
    }
  });

  it('refuses to start with an unreachable journal (exit 75) or a drain on an SQLite journal (exit 2), never showing the password', async () => {
    const closed = await freePort();
    const unreachable = `postgres://sync:hunter2secret@127.0.0.1:${closed}/test?schema=inbox`;
    const listened = await runSync(['listen', 'sample', '--port', '0', '--journal', unreachable], { cwd: fresh(), env: ENV });
    expect(listened.code).toBe(75);
    expect(listened.stderr).toMatch(/cannot reach the journal at postgres:\/\/sync@127\.0\.0\.1:\d+\/test\?schema=inbox/);
    expect(listened.stderr).not.toContain('hunter2secret');
    const drained = await runSync(['drain', 'sample', '--journal', unreachable, '--once'], { cwd: fresh(), env: ENV });
    expect(drained.code).toBe(75);
    expect(drained.stderr).not.toContain('hunter2secret');
    const sqlite = await runSync(['drain', 'sample', '--journal', 'inbox.db'], { cwd: fresh(), env: ENV });
    expect(sqlite.code).toBe(2);
    expect(sqlite.stderr).toMatch(/sync drain reads a PostgreSQL journal/);
    const noDrain = await runSync(['listen', 'sample', '--port', '0', '--no-drain'], { cwd: fresh(), env: ENV });
    expect(noDrain.code).toBe(2);
    expect(noDrain.stderr).toMatch(/--no-drain needs a PostgreSQL journal/);
    const broken = await runSync(['listen', 'sample', '--port', '0', '--journal', 'postgres://sync:hunter2secret@[::1/test'], { cwd: fresh(), env: ENV });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/--journal: the PostgreSQL journal is not a valid URL/);
    expect(broken.stderr).not.toContain('hunter2secret');
    const help = await runSync(['drain', '--help']);
    expect(help.stdout).toMatch(/Examples:\n  sync drain sample --journal 'postgres:/);
  });

  it('sync inbox reads, replays and prunes a PostgreSQL journal; sync status reads it', async () => {
    const l = await listen(['--target', target.url]);
    const d = created(9_000);
    expect((await deliver(l.url, d)).status).toBe(200);
    await until(async () => (await journalCount(`status = 'done'`)) === 1, 'the listener to drain it');
    const listed = await runSync(['inbox', 'list', '--journal', journal.url, '--format', 'json'], { cwd: fresh() });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ id: d.id, connector: 'sample', status: 'done', attempts: 1 });
    const replayed = await runSync(['inbox', 'replay', '--journal', journal.url, '--target', target.url], { cwd: fresh(), env: ENV });
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(await journalCount('attempts = 2')).toBe(1);
    const pruned = await runSync(['inbox', 'prune', '--journal', journal.url, '--older-than', '1m'], { cwd: fresh() });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stderr).toMatch(/pruned 0 done deliveries/);
    const missing = await runSync(['inbox', 'list', '--journal', `${POSTGRES_URL}?schema=${journal.name}_none`], { cwd: fresh() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no journal in schema/);

    // sync status reads the shared journal too, and says when a schema holds none.
    const status = await runSync(['status', '--target', target.url, '--journal', journal.url, '--format', 'json'], { cwd: fresh() });
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { journal: unknown }).journal).toMatchObject({
      exists: true,
      connectors: [{ connector: 'sample', pending: 0, dead: 0, events: [{ event: 'customers.created', count: 1 }] }],
    });
    const noJournal = await runSync(['status', '--target', target.url, '--journal', `${POSTGRES_URL}?schema=${journal.name}_none`], { cwd: fresh() });
    expect(noJournal.stdout).toMatch(/journal postgres:\/\/\S+_none does not exist/);
  });
});

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP proxy to PostgreSQL the test can take away and bring back on the same port: from the
 * listener's side, a database that restarts (connections cut, then refused, then accepted).
 */
async function startProxy(server: URL): Promise<{ port: number; stop: () => Promise<void>; start: () => Promise<void> }> {
  let listening: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;
  const start = async (): Promise<void> => {
    const proxy = createServer((client) => {
      const upstream = connect(Number(server.port || 5432), server.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      proxy.once('error', reject);
      proxy.listen(port, '127.0.0.1', () => resolve());
    });
    port = (proxy.address() as { port: number }).port;
    listening = proxy;
  };
  const stop = async (): Promise<void> => {
    const proxy = listening;
    listening = undefined;
    for (const s of sockets) s.destroy();
    if (proxy) await new Promise<void>((resolve) => proxy.close(() => resolve()));
  };
  await start();
  return { port, stop, start };
}
