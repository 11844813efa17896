import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { caseFolders, runSync } from '../helpers/cli.js';
import { config, readAll } from '../sample/helpers.js';
import {
  NOW,
  OTHER_SECRET,
  deliver,
  get,
  journalRows,
  nextId,
  payload,
  rawSocket,
  requestHead,
  rows,
  sign,
  spawnListener,
  waitFor,
  type Delivery,
  type Reply,
  type Spawned,
  stoppedAfterEach,
} from './helpers.js';

/** The real binary, end to end: `sync run` and `sync listen` into one SQLite file, signals, crashes. */

const fresh = caseFolders('sync-listen-cli-');
const children = stoppedAfterEach();
async function listen(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<Spawned> {
  const spawned = await spawnListener(dir, args, env);
  children.push(spawned);
  return spawned;
}

const env = { SYNC_SAMPLE_NOW: NOW, SYNC_SAMPLE_CUSTOMERS: '20', SYNC_SAMPLE_ORDERS: '40' };
const customers = await readAll('customers', config({ customers: 20, orders: 40, now: NOW }));
const byId = (id: number): JsonObject => {
  const found = customers.find((c) => c['id'] === id);
  if (!found) throw new Error(`no customer ${id}`);
  return found;
};
const template = byId(1);
/** A customer the batch run does not know, so each delivery is its own row. */
const newCustomer = (id: number): JsonObject => ({ ...template, id, email: `c${id}@example.com`, updated_at: '2026-03-01T12:00:00.000Z' });
const created = (id: number, deliveryId?: string): Delivery =>
  sign(payload('customers.created', newCustomer(id)), deliveryId === undefined ? {} : { id: deliveryId });

const ids = (db: string, from: number): number[] => rows(db, 'customers', `WHERE id >= ${from}`).map((r) => r['id'] as number);

describe('sync listen (the binary)', () => {
  it('refuses to start without a secret, naming the setting; --help has examples', async () => {
    const dir = fresh();
    const missing = await runSync(['listen', 'sample', '--port', '0'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no webhook secret is set.*webhook_secret.*SYNC_SAMPLE_WEBHOOK_SECRET/);
    const unknown = await runSync(['listen', 'nope', '--port', '0'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown connector "nope"/);
    const help = await runSync(['listen', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}SYNC_SAMPLE_WEBHOOK_SECRET=whsec_/);
    expect(help.stdout).toMatch(/--journal <file>/);
  });

  it('run, then listen into the same table; SIGTERM exits 0 after draining everything it acknowledged', async () => {
    const dir = fresh();
    expect((await runSync(['run', 'sample'], { cwd: dir, env })).code).toBe(0);
    const l = await listen(dir, [], env);
    const update = { ...template, plan: 'enterprise', updated_at: '2026-03-02T10:00:00.000Z' };
    const sent = [sign(payload('customers.updated', update)), ...Array.from({ length: 49 }, (_, i) => created(5_000 + i))];
    const replies = await Promise.all(sent.map((d) => deliver(l.url, d)));
    expect(replies.map((r) => r.status)).toEqual(sent.map(() => 200));
    l.child.kill('SIGTERM');
    const exit = await l.exit;
    expect(exit.code).toBe(0);
    const db = join(dir, 'sync.db');
    expect(ids(db, 5_000)).toHaveLength(49);
    expect(rows(db, 'customers', 'WHERE id = 1')[0]).toMatchObject({ plan: 'enterprise', updated_at: '2026-03-02T10:00:00.000Z' });
    expect(rows(db, 'customers')).toHaveLength(20 + 49);
    expect(journalRows(join(dir, 'sync-inbox.db')).filter((r) => r.status !== 'done')).toEqual([]);
    const stderr = l.stderr();
    expect(stderr.match(/^delivery \(connector=sample, event=customers\.(created|updated), id=msg_\S+, status=200, ms=\d+\)$/gm)).toHaveLength(50);
    expect(stderr).toMatch(/^listen → sqlite:sync\.db: 50 deliveries stored \(0 duplicates, 0 refused\); customers 50 \(50 records\), 0 dead, 0 pending; up [\d.]+ s$/m);
  });

  it('while it drains after SIGTERM, new deliveries and /readyz get 503; it exits 0 once drained', async () => {
    const dir = fresh();
    expect((await runSync(['run', 'sample'], { cwd: dir, env })).code).toBe(0);
    const db = join(dir, 'sync.db');
    const holder = new Database(db);
    holder.exec('BEGIN EXCLUSIVE');
    let released = false;
    try {
      const l = await listen(dir, [], env);
      expect((await deliver(l.url, created(6_000))).status).toBe(200);
      l.child.kill('SIGTERM');
      await waitFor(() => (/stopping: /.test(l.stderr()) ? true : undefined), 'the stop to begin');
      const late = await deliver(l.url, created(6_001));
      expect(late.status).toBe(503);
      expect(late.headers['retry-after']).toBe('5');
      expect((await get(`${l.url}/readyz`)).status).toBe(503);
      expect((await get(`${l.url}/healthz`)).status).toBe(200);
      expect(l.child.exitCode).toBeNull();
      holder.exec('COMMIT');
      holder.close();
      released = true;
      expect((await l.exit).code).toBe(0);
      expect(ids(db, 6_000)).toEqual([6_000]);
      expect(journalRows(join(dir, 'sync-inbox.db')).map((r) => r.status)).toEqual(['done']);
    } finally {
      if (!released) holder.close();
    }
  });

  it('a webhook newer than the batch keeps its version while `sync run` writes the same table', async () => {
    const dir = fresh();
    const l = await listen(dir, [], env);
    const newer = { ...template, plan: 'from-webhook', updated_at: '2026-03-05T00:00:00.000Z' };
    expect((await deliver(l.url, sign(payload('customers.updated', newer)))).status).toBe(200);
    const db = join(dir, 'sync.db');
    await waitFor(() => rows(db, 'customers')[0], 'the webhook row');
    // The batch run sees customer 1 as of 2026-03-01: older, so it must not win.
    const run = await runSync(['run', 'sample'], { cwd: dir, env });
    expect(run.code).toBe(0);
    const table = rows(db, 'customers');
    expect(table).toHaveLength(20);
    expect(table[0]).toMatchObject({ id: 1, plan: 'from-webhook', updated_at: '2026-03-05T00:00:00.000Z' });
    expect(table[1]).toMatchObject({ id: 2, plan: byId(2)['plan'], updated_at: byId(2)['updated_at'] });
    l.child.kill('SIGTERM');
    expect((await l.exit).code).toBe(0);
  });

  it('1,000 concurrent deliveries while the target is locked: all 2xx, all in the target once it is free', async () => {
    const dir = fresh();
    expect((await runSync(['run', 'sample'], { cwd: dir, env })).code).toBe(0);
    const db = join(dir, 'sync.db');
    const holder = new Database(db);
    holder.exec('BEGIN EXCLUSIVE');
    let released = false;
    try {
      const l = await listen(dir, [], env);
      const sent = Array.from({ length: 1_000 }, (_, i) => created(10_000 + i));
      const replies = await Promise.all(sent.map((d) => deliver(l.url, d)));
      expect(replies.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`)).toEqual([]);
      expect(journalRows(join(dir, 'sync-inbox.db'))).toHaveLength(1_000);
      expect(ids(db, 10_000)).toEqual([]);
      holder.exec('COMMIT');
      holder.close();
      released = true;
      await waitFor(() => (ids(db, 10_000).length === 1_000 ? true : undefined), 'all 1,000 rows in the target', 45_000);
      l.child.kill('SIGTERM');
      expect((await l.exit).code).toBe(0);
    } finally {
      if (!released) holder.close();
    }
  }, 90_000);

  it('kill -9 under load, restart: every acknowledged delivery ends up in the target, none twice', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    const first = await listen(dir, [], env);
    // Deliveries whose last byte is never sent: whenever the kill lands, these were not acknowledged.
    const unfinished = Array.from({ length: 5 }, (_, i) => ({ key: 19_000 + i, id: nextId('held') }));
    const held = await Promise.all(
      unfinished.map(async ({ key, id }) => {
        const d = created(key, id);
        const raw = await rawSocket(first.url);
        raw.socket.write(requestHead(d) + (d.body as string).slice(0, -1));
        return raw;
      }),
    );
    // Far more than one group commit holds, so the kill lands with deliveries still unanswered.
    const concurrent = Array.from({ length: 1_000 }, (_, i) => ({ key: 20_000 + i, id: nextId('kill') }));
    let answered = 0;
    const outcomes = await Promise.all(
      concurrent.map(async ({ key, id }) => {
        try {
          const reply = await deliver(first.url, created(key, id));
          if (++answered === 120) first.child.kill('SIGKILL');
          return reply.status;
        } catch {
          return 0;
        }
      }),
    );
    expect((await first.exit).signal).toBe('SIGKILL');
    await Promise.all(held.map((raw) => raw.closed));
    expect(held.map((raw) => raw.received())).toEqual(held.map(() => ''));
    const acked = concurrent.filter((_, i) => outcomes[i] === 200);
    expect(acked.length).toBeGreaterThanOrEqual(120);
    const unacked = [...unfinished, ...concurrent.filter((_, i) => outcomes[i] !== 200)];
    const sent = [...unfinished, ...concurrent];

    const second = await listen(dir, [], env);
    const ackedKeys = acked.map((s) => s.key);
    await waitFor(() => (ackedKeys.every((k) => ids(db, 19_000).includes(k)) ? true : undefined), 'every acknowledged delivery in the target');
    // The sender retries what was not acknowledged, with the same delivery ids.
    const retried: Reply[] = await Promise.all(unacked.map(({ key, id }) => deliver(second.url, created(key, id))));
    expect(retried.every((r) => r.status === 200)).toBe(true);
    await waitFor(() => (ids(db, 19_000).length === sent.length ? true : undefined), 'all deliveries in the target');
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
    const journal = journalRows(join(dir, 'sync-inbox.db'));
    expect(journal).toHaveLength(sent.length);
    expect(new Set(journal.map((r) => r.delivery_id)).size).toBe(sent.length);
    expect(journal.every((r) => r.status === 'done')).toBe(true);
    expect(ids(db, 19_000).sort((a, b) => a - b)).toEqual(sent.map((s) => s.key));
  }, 90_000);

  it('while another connection holds the journal: deliveries and /readyz get 503 alike, then 200 alike once it is free', async () => {
    const dir = fresh();
    // --debug: each time the listener tries the journal again and finds it still held, it logs a line.
    const l = await listen(dir, ['--debug', '--log-format', 'json'], env);
    const logged = (): Array<Record<string, unknown>> =>
      l.stderr().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const stillUnavailable = (): number => logged().filter((line) => line['level'] === 'debug' && String(line['msg']).startsWith('journal still unavailable')).length;
    expect((await deliver(l.url, created(30_000))).status).toBe(200);
    const journalPath = join(dir, 'sync-inbox.db');
    const first = created(30_001);
    let next = 30_002;
    const holder = new Database(journalPath);
    holder.exec('BEGIN IMMEDIATE');
    const seen: string[] = [];
    try {
      // The first delivery waits out the journal's busy timeout (a second) and is refused.
      const refused = await deliver(l.url, first);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.text).toMatch(/^unavailable: the journal cannot be written \(SQLITE_BUSY\); retry later/);
      // From then on, for as long as the journal stays held, both must say no, also after each of
      // three tries of the listener's own (each waits out the busy timeout): a readiness that
      // forgets the failure after a while would show here.
      for (let tries = 1; tries <= 3; tries++) {
        await waitFor(() => (stillUnavailable() >= tries ? true : undefined), `the listener's try ${tries} of the held journal`);
        const [ready, delivery] = await Promise.all([get(`${l.url}/readyz`), deliver(l.url, created(next++))]);
        seen.push(`readyz ${ready.status}, delivery ${delivery.status}`);
      }
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(seen).toEqual(['readyz 503, delivery 503', 'readyz 503, delivery 503', 'readyz 503, delivery 503']);
    // Those deliveries were refused on arrival, before their bodies were read (their lines name no
    // delivery id): none waited on the journal itself.
    const refusals = await waitFor(() => {
      const lines = logged().filter((line) => line['msg'] === 'delivery' && line['status'] === 503);
      return lines.length >= 4 ? lines : undefined;
    }, 'the log lines of the four refusals');
    expect(refusals.map((line) => line['id'] !== undefined)).toEqual([true, false, false, false]);
    expect(journalRows(journalPath)).toHaveLength(1);
    // Free again: ready without any delivery having to try first; the sender's retry is stored.
    await waitFor(async () => ((await get(`${l.url}/readyz`)).status === 200 ? true : undefined), 'ready again');
    expect((await deliver(l.url, first)).status).toBe(200);
    expect(journalRows(journalPath)).toHaveLength(2);
    l.child.kill('SIGTERM');
    expect((await l.exit).code).toBe(0);
  });

  it('--quiet shows the address it chose and refusals only; --log-format json gives one object per delivery', async () => {
    const dir = fresh();
    // --port 0 (the helper's): the chosen port is printed even with --quiet, or nobody could send to it.
    const quiet = await listen(dir, ['--quiet', '--journal', 'quiet.db'], env);
    expect((await deliver(quiet.url, created(50_000))).status).toBe(200);
    const forged = sign(payload('customers.created', newCustomer(50_001)), { secret: OTHER_SECRET });
    expect((await deliver(quiet.url, forged)).status).toBe(401);
    quiet.child.kill('SIGTERM');
    expect((await quiet.exit).code).toBe(0);
    expect(quiet.stderr().trimEnd().split('\n')).toEqual([
      `listening on ${quiet.url}: POST ${quiet.url}/webhooks/sample → sqlite:sync.db (journal quiet.db)`,
      expect.stringMatching(/^warning: delivery \(connector=sample, status=401, ms=\d+, reason=signature mismatch\)$/),
    ]);

    const json = await listen(dir, ['--log-format', 'json', '--journal', 'json.db'], env);
    const d = created(50_002);
    expect((await deliver(json.url, d)).status).toBe(200);
    json.child.kill('SIGTERM');
    expect((await json.exit).code).toBe(0);
    const lines = json.stderr().trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l2) => l2['msg'] === 'delivery')).toEqual([
      { time: expect.any(String), level: 'info', msg: 'delivery', connector: 'sample', event: 'customers.created', id: d.id, status: 200, ms: expect.any(Number) },
    ]);
  });
});

describe('sync inbox', () => {
  it('lists and shows stored deliveries, retries dead letters and replays into another target', async () => {
    const dir = fresh();
    const l = await listen(dir, [], env);
    const good = created(40_000);
    const bad = sign(payload('customers.created', { ...newCustomer(40_001), email: 17 }));
    expect((await deliver(l.url, good)).status).toBe(200);
    expect((await deliver(l.url, bad)).status).toBe(200);
    await waitFor(() => (journalRows(join(dir, 'sync-inbox.db')).every((r) => r.status !== 'pending') ? true : undefined), 'drained');
    l.child.kill('SIGTERM');
    expect((await l.exit).code).toBe(0);

    const list = await runSync(['inbox', 'list'], { cwd: dir });
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^seq\s+received_at\s+connector\s+event\s+id\s+status\s+error$/);
    expect(lines[1]).toMatch(new RegExp(`^1\\s+\\S+Z\\s+sample\\s+customers\\.created\\s+${good.id}\\s+done$`));
    expect(lines[2]).toMatch(new RegExp(`^2\\s+.*${bad.id}\\s+dead\\s+RECORD of stream "customers" is invalid: email must be string$`));

    const dead = await runSync(['inbox', 'list', '--status', 'dead', '--format', 'json'], { cwd: dir });
    expect(dead.stdout.trimEnd().split('\n').map((l2) => (JSON.parse(l2) as { id: string }).id)).toEqual([bad.id]);
    expect((await runSync(['inbox', 'list', '--since', '2099-01-01T00:00:00Z'], { cwd: dir })).stdout).toBe('');

    const show = await runSync(['inbox', 'show', '--id', good.id], { cwd: dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`webhook-id: ${good.id}`);
    expect(show.stdout).toContain('webhook-signature: (redacted)');
    expect(show.stdout).not.toContain((good.headers['webhook-signature'] as string).slice(3));
    expect(show.stdout.trimEnd().endsWith(good.body as string)).toBe(true);

    const retry = await runSync(['inbox', 'retry-dead'], { cwd: dir });
    expect(retry.code).toBe(1);
    expect(retry.stderr).toMatch(/1 delivery is still a dead letter/);

    const replay = await runSync(['inbox', 'replay', '--id', good.id, '--target', 'sqlite:replayed.db'], { cwd: dir });
    expect(replay.code).toBe(0);
    expect(replay.stderr).toMatch(/replayed 1 delivery into sqlite:replayed\.db: 1 done, 0 dead/);
    expect(rows(join(dir, 'replayed.db'), 'customers').map((r) => r['id'])).toEqual([40_000]);

    const none = await runSync(['inbox', 'list'], { cwd: fresh() });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no journal at sync-inbox\.db/);
  });
});
