import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { recordRunHistory } from '../../src/cli/run-history.js';
import { DrainHistory } from '../../src/listen/drain-history.js';
import { createLogger } from '../../src/log.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { caseFolders, runSync, startListen } from '../helpers/cli.js';
import { deliver, payload, SECRET, sign } from '../listen/helpers.js';
import { config, readAll } from '../sample/helpers.js';

const fresh = caseFolders('sync-history-');
const at = (now: string) => ({ SYNC_SAMPLE_NOW: now });

interface RunRow {
  id: number;
  connector: string;
  state_id: string;
  started_at: string;
  ended_at: string;
  exit_code: number;
  records: string;
  error: string | null;
  bookmarks_before: string;
  bookmarks_after: string;
}

function rows<T>(db: string, sql: string): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}

describe('run history', () => {
  it('records every run in _sync_runs: records per stream, bookmarks before and after, exit code and error line', async () => {
    const dir = fresh();
    const sync = (args: string[], env: Record<string, string>) => runSync(args, { cwd: dir, env });
    expect((await sync(['run', 'sample'], at('2026-01-15T00:00:00Z'))).code).toBe(0);
    expect((await sync(['run', 'sample'], at('2026-03-01T00:00:00Z'))).code).toBe(0);
    const failed = await sync(['run', 'sample'], { ...at('2026-03-01T00:00:00Z'), SYNC_SAMPLE_ORDERS: '-5' });
    expect(failed.code).toBe(2);

    const runs = rows<RunRow>(join(dir, 'sync.db'), 'SELECT * FROM _sync_runs ORDER BY id');
    expect(runs.map((r) => [r.connector, r.state_id, r.exit_code])).toEqual([
      ['sample', 'sample', 0],
      ['sample', 'sample', 0],
      ['sample', 'sample', 2],
    ]);
    const [first, second, third] = runs as [RunRow, RunRow, RunRow];
    expect(JSON.parse(first.records)).toEqual({ customers: 100, orders: 500 });
    expect(JSON.parse(first.bookmarks_before)).toEqual({});
    const after = JSON.parse(first.bookmarks_after) as Record<string, string>;
    expect(Object.keys(after)).toEqual(['customers', 'orders']);
    // The second run starts where the first ended, and ends later.
    expect(JSON.parse(second.bookmarks_before)).toEqual(after);
    expect((JSON.parse(second.bookmarks_after) as Record<string, string>)['customers']! > after['customers']!).toBe(true);
    expect(first.error).toBeNull();
    expect(Date.parse(first.ended_at)).toBeGreaterThanOrEqual(Date.parse(first.started_at));
    expect(third.error).toMatch(/^invalid configuration for sample \(1 problem\): orders \(SYNC_SAMPLE_ORDERS\): must be >= 0 \(got -5\)$/);
    expect(JSON.parse(third.records)).toEqual({});
  });

  it('a run refused because another holds the lock adds nothing; a connector unknown adds nothing', async () => {
    const dir = fresh();
    await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-15T00:00:00Z') });
    const lock = new Database(join(dir, '.sync.db.sample.lock'));
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    try {
      const busy = await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-15T00:00:00Z') });
      expect(busy.code).toBe(75);
    } finally {
      lock.close();
    }
    expect((await runSync(['run', 'nosuch'], { cwd: dir })).code).toBe(2);
    expect(rows<RunRow>(join(dir, 'sync.db'), 'SELECT * FROM _sync_runs').length).toBe(1);
  });

  it('prunes runs and states older than 90 days when it records a run', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-15T00:00:00Z') });
    const d = new Database(db);
    d.prepare("UPDATE _sync_runs SET started_at = '2000-01-01T00:00:00.000Z'").run();
    d.prepare("UPDATE _sync_state_history SET committed_at = '2000-01-01T00:00:00.000Z'").run();
    d.close();
    await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-16T00:00:00Z') });
    expect(rows<{ started_at: string }>(db, 'SELECT started_at FROM _sync_runs').map((r) => r.started_at.slice(0, 4))).toEqual([String(new Date().getUTCFullYear())]);
    expect(rows<{ n: number }>(db, "SELECT count(*) AS n FROM _sync_state_history WHERE committed_at < '2001'")[0]?.n).toBe(0);
    expect(rows<{ n: number }>(db, 'SELECT count(*) AS n FROM _sync_state_history')[0]?.n).toBeGreaterThan(0);
  });

  it('keeps the newest 10,000 runs and states of a state id when it records a run, and leaves other state ids alone', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-15T00:00:00Z') });
    // Many rows at once, by SQL: 10,005 more runs and states of `sample`, and a few of another state id.
    const d = new Database(db);
    const now = new Date().toISOString();
    d.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)
       INSERT INTO _sync_runs (connector, state_id, started_at, ended_at, exit_code, records, error, bookmarks_before, bookmarks_after)
       SELECT 'sample', 'sample', ?, ?, 0, '{}', NULL, '{}', '{}' FROM n`,
    ).run(now, now);
    d.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)
       INSERT INTO _sync_state_history (state_id, value, committed_at) SELECT 'sample', '{}', ? FROM n`,
    ).run(now);
    for (let i = 0; i < 3; i++) {
      d.prepare(`INSERT INTO _sync_runs (connector, state_id, started_at, ended_at, exit_code, records, error, bookmarks_before, bookmarks_after) VALUES ('sample', 'other', ?, ?, 0, '{}', NULL, '{}', '{}')`).run(now, now);
      d.prepare(`INSERT INTO _sync_state_history (state_id, value, committed_at) VALUES ('other', '{}', ?)`).run(now);
    }
    const newestBefore = (d.prepare("SELECT max(id) AS id FROM _sync_runs WHERE state_id = 'sample'").get() as { id: number }).id;
    d.close();

    expect((await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-16T00:00:00Z') })).code).toBe(0);
    const count = (sql: string): number => rows<{ n: number }>(db, sql)[0]?.n ?? -1;
    expect(count("SELECT count(*) AS n FROM _sync_runs WHERE state_id = 'sample'")).toBe(10_000);
    expect(count("SELECT count(*) AS n FROM _sync_state_history WHERE state_id = 'sample'")).toBe(10_000);
    // The oldest went: the newest 9,999 of before and the run just recorded are kept.
    expect(count("SELECT min(id) AS n FROM _sync_runs WHERE state_id = 'sample'")).toBe(newestBefore - 9_998);
    expect(count("SELECT count(*) AS n FROM _sync_runs WHERE state_id = 'other'")).toBe(3);
    expect(count("SELECT count(*) AS n FROM _sync_state_history WHERE state_id = 'other'")).toBe(3);
  });

  it('a database locked past the short wait is a warning, not a failure', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-15T00:00:00Z') });
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    const warnings: string[] = [];
    const log = createLogger({ format: 'text', level: 'warn', write: (line) => warnings.push(line) });
    try {
      const run = { connector: 'sample', stateId: 'sample', startedAt: 'x', endedAt: 'y', exitCode: 0, records: {}, error: null, bookmarksBefore: {}, bookmarksAfter: {} };
      await expect(recordRunHistory({ kind: 'sqlite', path: db }, run, log)).resolves.toBeUndefined();
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(warnings.join('')).toMatch(/^warning: this run was not added to the run history of sqlite:.*sync\.db: the database stayed locked by another writer\n$/);
  });
});

const SHOP = { SYNC_SAMPLE_NOW: '2026-03-01T00:00:00Z', SYNC_SAMPLE_CUSTOMERS: '5', SYNC_SAMPLE_ORDERS: '5', SYNC_SAMPLE_WEBHOOK_SECRET: SECRET };
const [someCustomer] = await readAll('customers', config({ customers: 5, orders: 5, now: '2026-03-01T00:00:00Z' }));
const customer = (id: number, extra: JsonObject = {}): JsonObject => ({ ...someCustomer, id, email: `c${id}@example.com`, updated_at: '2026-03-01T12:00:00.000Z', ...extra });

/** `sync listen` into `target`: these deliveries (a customer each; `dead` ones the mapping refuses), then SIGTERM, which drains them all. */
async function listenAndStop(dir: string, target: string, good: number[], dead: number[] = []): Promise<{ stderr: string }> {
  const listener = await startListen(['sample', '--target', target], { cwd: dir, env: SHOP });
  for (const id of good) expect((await deliver(listener.url, sign(payload('customers.created', customer(id))))).status).toBe(200);
  // Signed and stored, but plan must be a string: a dead letter.
  for (const id of dead) expect((await deliver(listener.url, sign(payload('customers.created', customer(id, { plan: 42 }))))).status).toBe(200);
  listener.child.kill('SIGTERM');
  const done = await listener.done;
  expect(done.code, done.stderr).toBe(0);
  return { stderr: done.stderr };
}

interface DrainRow {
  kind: string;
  connector: string;
  state_id: string;
  exit_code: number;
  deliveries: number;
  dead: number;
  records: string;
  error: string | null;
}

describe("the webhook drain's rows in the run history", () => {
  it('records its batches as kind drain (deliveries, records per stream, dead letters); sync status shows the last one and --check --max-age does not take it for a run', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    expect((await runSync(['run', 'sample'], { cwd: dir, env: SHOP })).code).toBe(0);
    // The scheduled run ended two hours ago.
    const d = new Database(db);
    d.prepare('UPDATE _sync_runs SET started_at = ?, ended_at = ?').run(new Date(Date.now() - 7_201_000).toISOString(), new Date(Date.now() - 7_200_000).toISOString());
    d.close();

    await listenAndStop(dir, 'sqlite:sync.db', [101, 102, 103], [104]);
    const drains = rows<DrainRow>(db, "SELECT * FROM _sync_runs WHERE kind = 'drain' ORDER BY id");
    // A batch is recorded at once after a quiet spell, the rest at most once a minute and when the drain stops.
    expect(drains.length).toBeGreaterThanOrEqual(1);
    expect(drains.length).toBeLessThanOrEqual(2);
    const sum = (f: (r: DrainRow) => number) => drains.reduce((n, r) => n + f(r), 0);
    expect(sum((r) => r.deliveries)).toBe(3);
    expect(sum((r) => r.dead)).toBe(1);
    expect(sum((r) => (JSON.parse(r.records) as Record<string, number>)['customers'] ?? 0)).toBe(3);
    expect(drains.map((r) => [r.connector, r.state_id, r.exit_code, r.error])).toEqual(drains.map(() => ['sample', 'listen', 0, null]));
    expect(rows<{ kind: string }>(db, "SELECT kind FROM _sync_runs WHERE kind = 'run'").length).toBe(1);

    const report = JSON.parse((await runSync(['status', '--format', 'json'], { cwd: dir })).stdout) as {
      connectors: Array<{ stateId: string; lastRun: { records: number; ageMs: number } | null }>;
      drains: Array<{ connector: string; stateId: string; exitCode: number; deliveries: number; records: number; dead: number; ageMs: number }>;
    };
    // The drain is no state id of its own, and the last run is still the scheduled one.
    expect(report.connectors.map((c) => c.stateId)).toEqual(['sample']);
    expect(report.connectors[0]?.lastRun?.ageMs).toBeGreaterThan(7_000_000);
    expect(report.drains).toEqual([expect.objectContaining({ connector: 'sample', stateId: 'listen', exitCode: 0, dead: drains.at(-1)?.dead, deliveries: drains.at(-1)?.deliveries })]);
    expect(report.drains[0]?.ageMs).toBeLessThan(7_000_000);

    const text = (await runSync(['status'], { cwd: dir })).stdout;
    expect(text).toMatch(/\n {2}last run {4}2 h ago +ok in [\d.]+ s, 10 records\n {2}last drain {2}\d+ s ago +ok, \d+ deliver(y|ies), \d+ records?, [01] dead in [\d.]+ s\n/);

    const check = await runSync(['status', '--check', '--max-age', '1h'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('sample: the last successful run ended 2 h ago, more than 1h\n');
  });

  it('under load, batches become at most one row per connector a minute: the first at once, the others summed until the drain stops', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    expect((await runSync(['run', 'sample'], { cwd: dir, env: SHOP })).code).toBe(0);
    const warnings: string[] = [];
    const history = new DrainHistory({ spec: { kind: 'sqlite', path: db }, secrets: [], log: createLogger({ format: 'text', level: 'warn', write: (l) => void warnings.push(l) }) });
    // 500 batches as fast as the drain may commit them, the history asked after each, as the drain loop does.
    for (let i = 0; i < 500; i++) {
      const started = Date.now();
      history.settled(started, new Map([['sample', { deliveries: 2, dead: i % 100 === 0 ? 1 : 0, records: new Map([['customers', 2]]) }]]));
      await history.flush();
    }
    expect(rows<DrainRow>(db, "SELECT * FROM _sync_runs WHERE kind = 'drain'").map((r) => r.deliveries)).toEqual([2]);
    await history.flush(true);
    const drains = rows<DrainRow>(db, "SELECT * FROM _sync_runs WHERE kind = 'drain' ORDER BY id");
    expect(drains.map((r) => [r.deliveries, r.dead, JSON.parse(r.records)])).toEqual([
      [2, 1, { customers: 2 }],
      [998, 4, { customers: 998 }],
    ]);
    expect(warnings).toEqual([]);
  });

  it('a history that cannot be written is a warning: the drain writes and settles its deliveries all the same', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    expect((await runSync(['run', 'sample'], { cwd: dir, env: SHOP })).code).toBe(0);
    // A view in the table's place: every insert into it fails.
    const d = new Database(db);
    d.exec('ALTER TABLE _sync_runs RENAME TO runs_kept; CREATE VIEW _sync_runs AS SELECT * FROM runs_kept');
    d.close();
    const { stderr } = await listenAndStop(dir, 'sqlite:sync.db', [201]);
    expect(stderr).toMatch(/^warning: the drain's batches were not added to the run history of sqlite:sync\.db: .*view.*; the deliveries are written all the same$/m);
    expect(stderr.match(/were not added to the run history/g)?.length).toBe(1);
    expect(rows<{ id: number }>(db, 'SELECT id FROM customers WHERE id = 201')).toEqual([{ id: 201 }]);
    expect(rows<{ status: string }>(join(dir, 'sync-inbox.db'), 'SELECT status FROM deliveries')).toEqual([{ status: 'done' }]);
  });

  it('a jsonl folder keeps the drain rows in .sync-runs.jsonl, apart from the runs', async () => {
    const dir = fresh();
    expect((await runSync(['run', 'sample', '--target', 'jsonl:out'], { cwd: dir, env: SHOP })).code).toBe(0);
    await listenAndStop(dir, 'jsonl:out', [301, 302]);
    const lines = readFileSync(join(dir, 'out/.sync-runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).not.toHaveProperty('kind');
    const drains = lines.filter((l) => l['kind'] === 'drain');
    expect(drains.reduce((n, l) => n + (l['deliveries'] as number), 0)).toBe(2);
    const report = JSON.parse((await runSync(['status', '--target', 'jsonl:out', '--format', 'json'], { cwd: dir })).stdout) as {
      connectors: Array<{ lastRun: { records: number } }>;
      drains: Array<{ connector: string }>;
    };
    expect(report.connectors[0]?.lastRun.records).toBe(10);
    expect(report.drains.map((x) => x.connector)).toEqual(['sample']);
  });

  it('an _sync_runs made by an earlier version is read as it is, and gains its new columns when a run is recorded', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    const d = new Database(db);
    d.exec(`CREATE TABLE _sync_state (id TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE _sync_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, connector TEXT NOT NULL, state_id TEXT NOT NULL, started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL, exit_code INTEGER NOT NULL, records TEXT NOT NULL, error TEXT, bookmarks_before TEXT NOT NULL, bookmarks_after TEXT NOT NULL, changes TEXT);
      CREATE INDEX _sync_runs_by_id ON _sync_runs (state_id, id);`);
    const then = new Date(Date.now() - 60_000).toISOString();
    d.prepare(`INSERT INTO _sync_runs (connector, state_id, started_at, ended_at, exit_code, records, bookmarks_before, bookmarks_after) VALUES ('sample', 'sample', ?, ?, 0, '{"customers": 7}', '{}', '{}')`).run(then, then);
    d.close();
    // Read-only: nothing is added, and the old row is a run.
    const before = JSON.parse((await runSync(['status', '--format', 'json'], { cwd: dir })).stdout) as { connectors: Array<{ lastRun: { records: number } }>; drains: unknown[] };
    expect(before.connectors[0]?.lastRun.records).toBe(7);
    expect(before.drains).toEqual([]);
    expect(rows<{ name: string }>(db, "SELECT name FROM pragma_table_info('_sync_runs') WHERE name = 'kind'")).toEqual([]);

    expect((await runSync(['run', 'sample'], { cwd: dir, env: SHOP })).code).toBe(0);
    expect(rows<{ kind: string; deliveries: number | null }>(db, 'SELECT kind, deliveries FROM _sync_runs ORDER BY id')).toEqual([
      { kind: 'run', deliveries: null },
      { kind: 'run', deliveries: null },
    ]);
  });
});

describe('sync state history and rewind', () => {
  it('lists every committed state; a rewind puts one back and the next run re-reads from it', async () => {
    const dir = fresh();
    const sync = (args: string[], env: Record<string, string> = {}) => runSync(args, { cwd: dir, env });
    await sync(['run', 'sample'], at('2026-01-15T00:00:00Z'));
    const second = await sync(['run', 'sample'], at('2026-03-01T00:00:00Z'));
    const again = await sync(['run', 'sample'], at('2026-03-01T00:00:00Z'));
    const readBy = (stderr: string): number => Number(/\((\d+) records/.exec(stderr)?.[1] ?? 0);
    expect(readBy(second.stderr)).toBeGreaterThan(20);
    // Without a rewind, the same moment re-reads only the records at the bookmark.
    expect(readBy(again.stderr)).toBeLessThan(5);

    const history = await sync(['state', 'history', 'sample', '--format', 'json']);
    expect(history.code).toBe(0);
    const states = history.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; committed_at: string });
    expect(states.length).toBeGreaterThanOrEqual(3);
    expect(states.map((s) => s.id)).toEqual([...states.map((s) => s.id)].sort((a, b) => b - a));
    const firstRunEnd = states[states.length - 1] as { id: number };

    const text = await sync(['state', 'history', 'sample']);
    expect(text.stdout.split('\n')[0]).toMatch(/^\s*id\s+committed at\s+bookmarks$/);
    expect(text.stdout).toMatch(/customers=2026-01-1\d.* orders=/);

    const rewound = await sync(['state', 'rewind', 'sample', '--to', String(firstRunEnd.id)]);
    expect(rewound.code, rewound.stderr).toBe(0);
    expect(rewound.stderr).toMatch(new RegExp(`^state of sample in sqlite:sync.db rewound to #${firstRunEnd.id} \\(committed at .*\\): customers=.*; the next run reads from there\\n$`));
    const reread = await sync(['run', 'sample'], at('2026-03-01T00:00:00Z'));
    expect(readBy(reread.stderr)).toBe(readBy(second.stderr));
  });

  it('rewind refuses an unknown id, a time before every state, and a missing target', async () => {
    const dir = fresh();
    const sync = (args: string[]) => runSync(args, { cwd: dir });
    const missing = await sync(['state', 'rewind', 'sample', '--to', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nothing to rewind: sqlite:sync.db does not exist/);
    await runSync(['run', 'sample'], { cwd: dir, env: at('2026-01-15T00:00:00Z') });
    expect((await sync(['state', 'rewind', 'sample', '--to', '999'])).stderr).toMatch(/--to 999: no state of sample has that id/);
    expect((await sync(['state', 'rewind', 'sample', '--to', '2020-01-01T00:00:00Z'])).stderr).toMatch(/the oldest state of sample kept was committed at/);
    expect((await sync(['state', 'rewind', 'sample'])).stderr).toMatch(/needs --to/);
  });

  it('sync target and sync state set keep the state history bounded too (SQLite): 10,000 states of the state id, others untouched', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    const state = (n: number) => `{"type": "STATE", "value": {"bookmarks": {"orders": {"replication_key_value": "${n}"}}}}\n`;
    expect((await runSync(['target', 'sqlite:sync.db'], { cwd: dir, input: state(1) })).code).toBe(0);
    const d = new Database(db);
    const now = new Date().toISOString();
    const add = (stateId: string, n: number) =>
      d.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) INSERT INTO _sync_state_history (state_id, value, committed_at) SELECT ?, '{}', ? FROM n`).run(n, stateId, now);
    add('singer', 10_005);
    add('other', 3);
    const count = (stateId: string): number => rows<{ n: number }>(db, `SELECT count(*) AS n FROM _sync_state_history WHERE state_id = '${stateId}'`)[0]?.n ?? -1;
    expect(count('singer')).toBe(10_006);

    const target = await runSync(['target', 'sqlite:sync.db'], { cwd: dir, input: state(2) });
    expect(target.code, target.stderr).toBe(0);
    expect(count('singer')).toBe(10_000);
    expect(count('other')).toBe(3);
    // The newest is the state just committed.
    expect(rows<{ value: string }>(db, "SELECT value FROM _sync_state_history WHERE state_id = 'singer' ORDER BY id DESC LIMIT 1")[0]?.value).toContain('"2"');

    add('singer', 7);
    d.close();
    const set = await runSync(['state', 'set', '--state-id', 'singer', '{"bookmarks": {}}'], { cwd: dir });
    expect(set.code, set.stderr).toBe(0);
    expect(count('singer')).toBe(10_000);
  });

  it('sync target into a jsonl folder keeps its state history bounded', async () => {
    const dir = fresh();
    const input = '{"type": "STATE", "value": {"bookmarks": {}}}\n';
    expect((await runSync(['target', 'jsonl:out'], { cwd: dir, input })).code).toBe(0);
    const path = join(dir, 'out/.sync-state-history.jsonl');
    const now = new Date().toISOString();
    const lines = [readFileSync(path, 'utf8')];
    for (let id = 2; id <= 10_006; id++) lines.push(JSON.stringify({ id, state_id: 'singer', committed_at: now, value: {} }) + '\n');
    for (let id = 10_007; id <= 10_009; id++) lines.push(JSON.stringify({ id, state_id: 'other', committed_at: now, value: {} }) + '\n');
    writeFileSync(path, lines.join(''));

    const target = await runSync(['target', 'jsonl:out'], { cwd: dir, input });
    expect(target.code, target.stderr).toBe(0);
    const kept = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; state_id: string });
    expect(kept.filter((e) => e.state_id === 'singer').length).toBe(10_000);
    expect(kept.filter((e) => e.state_id === 'other').length).toBe(3);
    expect(kept[kept.length - 1]?.id).toBe(10_010);
  });

  it('a jsonl target keeps its runs and states as JSON Lines beside its state file, and rewinds the same way', async () => {
    const dir = fresh();
    const sync = (args: string[], env: Record<string, string> = {}) => runSync(args, { cwd: dir, env });
    await sync(['run', 'sample', '--target', 'jsonl:out'], at('2026-01-15T00:00:00Z'));
    const second = await sync(['run', 'sample', '--target', 'jsonl:out'], at('2026-03-01T00:00:00Z'));
    const runs = readFileSync(join(dir, 'out/.sync-runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; exit_code: number; records: Record<string, number> });
    expect(runs.map((r) => [r.id, r.exit_code])).toEqual([[1, 0], [2, 0]]);
    expect(runs[0]?.records).toEqual({ customers: 100, orders: 500 });
    const states = readFileSync(join(dir, 'out/.sync-state-history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; state_id: string });
    expect(states.map((s) => s.state_id)).toEqual(states.map(() => 'sample'));
    const rewound = await sync(['state', 'rewind', 'sample', '--target', 'jsonl:out', '--to', String(states[0]?.id)]);
    expect(rewound.code, rewound.stderr).toBe(0);
    const reread = await sync(['run', 'sample', '--target', 'jsonl:out'], at('2026-03-01T00:00:00Z'));
    expect(/\((\d+) records/.exec(reread.stderr)?.[1]).toBe(/\((\d+) records/.exec(second.stderr)?.[1]);
  });
});
