import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { caseFolders, collect, runSync, startSync, SYNC_BIN, tempDir } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

const tmp = tempDir('sync-run-');
afterAll(tmp.cleanup);
/** A new empty folder for each call: no test leans on what another left. */
const fresh = caseFolders('sync-run-case-');

function table(db: string, name: string): Array<Record<string, unknown>> {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(`SELECT * FROM "${name}" ORDER BY id`).all() as Array<Record<string, unknown>>;
  } finally {
    d.close();
  }
}

function digest(db: string): string {
  const d = new Database(db, { readonly: true });
  try {
    const hash = createHash('sha256');
    for (const t of ['customers', 'orders']) {
      for (const row of d.prepare(`SELECT * FROM "${t}" ORDER BY id`).iterate()) hash.update(JSON.stringify(row));
    }
    return hash.digest('hex');
  } finally {
    d.close();
  }
}

const env = (over: Record<string, string> = {}) => ({ SYNC_SAMPLE_NOW: '2026-03-01T00:00:00Z', ...over });

describe('sync run sample', () => {
  /** A fresh folder whose ./sync.db holds one full run of sample, bookmarks included. */
  async function afterOneRun(): Promise<string> {
    const dir = fresh();
    const first = await runSync(['run', 'sample'], { cwd: dir, env: env() });
    expect(first.code, first.stderr).toBe(0);
    return dir;
  }

  it('writes ./sync.db by default, stdout stays empty, one summary line on stderr', async () => {
    const dir = fresh();
    const result = await runSync(['run', 'sample'], { cwd: dir, env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^sample → sqlite:sync\.db: customers 100, orders 500 \(600 records in/);
    expect(table(join(dir, 'sync.db'), 'customers')).toHaveLength(100);
    expect(table(join(dir, 'sync.db'), 'orders')).toHaveLength(500);
  });

  it('runs incrementally from the stored bookmark (inclusive, so boundary rows come again)', async () => {
    const dir = await afterOneRun();
    const result = await runSync(['run', 'sample'], { cwd: dir, env: env() });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/customers 1, orders 1 \(2 records/);
    const shown = await runSync(['state', 'show', 'sample'], { cwd: dir });
    const state = JSON.parse(shown.stdout) as { currently_syncing: unknown; bookmarks: Record<string, { replication_key_value: string }> };
    expect(state.currently_syncing).toBeNull();
    expect(Object.keys(state.bookmarks).sort()).toEqual(['customers', 'orders']);
  });

  it('pipes Singer NDJSON to stdout with --target -, SCHEMA before RECORD, STATE last', async () => {
    const result = await runSync(['run', 'sample', '--target', '-', '--streams', 'customers'], { env: env({ SYNC_SAMPLE_CUSTOMERS: '5' }) });
    expect(result.code).toBe(0);
    const messages = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; record?: { id: number } });
    expect(messages[0]?.type).toBe('SCHEMA');
    expect(messages.filter((m) => m.type === 'RECORD').map((m) => m.record?.id).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(messages.at(-1)?.type).toBe('STATE');
    expect(result.stdout).not.toMatch(/\n\n/);
  });

  it('resumes from --state FILE and writes the state back to it', async () => {
    const stateFile = join(fresh(), 'state.json');
    const first = await runSync(['run', 'sample', '--target', '-', '--state', stateFile], { env: env() });
    expect(first.code).toBe(0);
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { bookmarks: object };
    expect(Object.keys(saved.bookmarks).sort()).toEqual(['customers', 'orders']);
    const second = await runSync(['run', 'sample', '--target', '-', '--state', stateFile], { env: env() });
    const records = second.stdout.split('\n').filter((l) => l.includes('"RECORD"'));
    expect(records).toHaveLength(2);
  });

  it('writes one file per stream with jsonl: and csv:', async () => {
    const out = fresh();
    expect((await runSync(['run', 'sample', '--target', `jsonl:${out}`], { env: env() })).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['.sync-runs.jsonl', '.sync-sample.lock', '.sync-state-history.jsonl', '.sync-state.json', '.sync-state.json.lock', 'customers.jsonl', 'orders.jsonl']);
    expect(readFileSync(join(out, 'orders.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(500);
    const csv = fresh();
    expect((await runSync(['run', 'sample', '--target', `csv:${csv}`], { env: env() })).code).toBe(0);
    expect(readFileSync(join(csv, 'customers.csv'), 'utf8').split('\n')[0]).toMatch(/^id,/);
  });

  it('--full-refresh re-reads everything', async () => {
    const dir = await afterOneRun();
    const result = await runSync(['run', 'sample', '--full-refresh', '--streams', 'orders'], { cwd: dir, env: env() });
    expect(result.stderr).toMatch(/orders 500 \(500 records/);
  });

  it('prints the catalog with --discover and settings with --about', async () => {
    const discover = await runSync(['run', 'sample', '--discover']);
    const catalog = JSON.parse(discover.stdout) as { streams: Array<{ tap_stream_id: string; key_properties: string[] }> };
    expect(catalog.streams.map((s) => s.tap_stream_id)).toEqual(['customers', 'orders']);
    const about = await runSync(['run', 'sample', '--about', '--format', 'json']);
    const parsed = JSON.parse(about.stdout) as { name: string; settings: Array<{ name: string; env: string }> };
    expect(parsed.name).toBe('sample');
    expect(parsed.settings.map((s) => s.env)).toContain('SYNC_SAMPLE_SEED');
    // A connector whose streams come from its config says where to see them.
    const rest = await runSync(['run', 'rest', '--about']);
    expect(rest.stdout).toContain('Streams:\n  built from its config: sync run rest --config FILE --about lists them (--discover, with their schemas)\n');
    expect(rest.stdout).toContain('token / SYNC_REST_TOKEN (string, secret)');
    // One whose streams are the same for every account lists them, with no config.
    const stripe = await runSync(['run', 'stripe', '--about']);
    expect(stripe.stdout).toContain('Streams:\n  customers (key id, incremental by changed_at)\n');
    expect(stripe.stdout).toContain('api_key / SYNC_STRIPE_API_KEY (string, required, secret)');
  });

  it('selects streams and drops deselected fields with --catalog', async () => {
    const discover = await runSync(['run', 'sample', '--discover']);
    const catalog = JSON.parse(discover.stdout) as { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> };
    for (const s of catalog.streams) {
      const root = s.metadata.find((m) => m.breadcrumb.length === 0);
      if (root) root.metadata['selected'] = s.tap_stream_id === 'customers';
      const email = s.metadata.find((m) => m.breadcrumb[1] === 'email');
      if (email) email.metadata['selected'] = false;
    }
    const file = join(tmp.dir, 'catalog.json');
    writeFileSync(file, JSON.stringify(catalog));
    const result = await runSync(['run', 'sample', '--catalog', file, '--target', '-'], { env: env({ SYNC_SAMPLE_CUSTOMERS: '3' }) });
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; stream?: string; record?: Record<string, unknown> });
    expect(new Set(lines.filter((l) => l.stream).map((l) => l.stream))).toEqual(new Set(['customers']));
    const record = lines.find((l) => l.type === 'RECORD')?.record ?? {};
    expect(record).not.toHaveProperty('email');
    expect(record).toHaveProperty('name');
  });
});

describe('sync run: pipes', () => {
  /** `sync <args> | head -n 3` in a real shell; sync's stderr, its exit status, and what head printed. */
  async function intoHead(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const quoted = [process.execPath, SYNC_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('bash', ['-c', `${quoted} 2>sync.err | head -n 3; echo "\${PIPESTATUS[0]}" > sync.code`], { cwd, env: { ...process.env, ...env } });
    const result = await collect(child);
    expect(result.code, result.stderr).toBe(0);
    return { code: Number(readFileSync(join(cwd, 'sync.code'), 'utf8')), stdout: result.stdout, stderr: readFileSync(join(cwd, 'sync.err'), 'utf8') };
  }
  const big = { SYNC_SAMPLE_NOW: '2026-03-01T00:00:00Z', SYNC_SAMPLE_ORDERS: '100000' };

  it('a reader that stops early (| head -n 3) ends the run quietly, with the status of SIGPIPE (141)', async () => {
    const dir = fresh();
    const result = await intoHead(['run', 'sample', '--target', '-'], big, dir);
    expect(result.stdout.split('\n')).toHaveLength(4);
    expect(result.code).toBe(141);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.stderr).toMatch(/^stopped: sample → stdout: .*; the reading process closed stdout\n$/);
    // Nothing else was created: stdout keeps no state.
    expect(readdirSync(dir).sort()).toEqual(['sync.code', 'sync.err']);
  });

  it('--state FILE is left as it was: the reader may not have taken in what was sent', async () => {
    const dir = fresh();
    const before = '{"bookmarks": {"customers": {"replication_key": "updated_at", "replication_key_value": "2025-01-01T00:00:00Z"}}}\n';
    writeFileSync(join(dir, 'state.json'), before);
    const result = await intoHead(['run', 'sample', '--target', '-', '--state', 'state.json', '--quiet'], big, dir);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(before);
    expect(result.code).toBe(141);
    expect(result.stderr).toBe('');
  });

  it('sync target - stops the same way when its reader goes', async () => {
    const dir = fresh();
    const input = ['{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}'];
    for (let id = 1; id <= 50_000; id++) input.push(`{"type":"RECORD","stream":"s","record":{"id":${id}}}`);
    writeFileSync(join(dir, 'in.singer'), input.join('\n') + '\n');
    const child = spawn('bash', ['-c', `'${process.execPath}' '${SYNC_BIN}' target - < in.singer 2>sync.err | head -n 3; echo "\${PIPESTATUS[0]}" > sync.code`], { cwd: dir });
    expect((await collect(child)).code).toBe(0);
    expect(Number(readFileSync(join(dir, 'sync.code'), 'utf8'))).toBe(141);
    expect(readFileSync(join(dir, 'sync.err'), 'utf8')).toMatch(/^stopped: stdout: .*; the reading process closed stdout\n$/);
  });
});

describe('sync run: bad input', () => {
  it('lists the known connectors for an unknown one (exit 2)', async () => {
    const result = await runSync(['run', 'shopifyy']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^sync: usage error: unknown connector "shopifyy"; known connectors: (\w+, )*sample(, \w+)*\n$/);
  });

  it('reports every config problem with its path (exit 2)', async () => {
    const file = join(tmp.dir, 'bad-config.json');
    writeFileSync(file, JSON.stringify({ seed: 'x', customers: -1, now: 'yesterday', extra: 1 }));
    const result = await runSync(['run', 'sample', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration for sample \(3 problems\)/);
    expect(result.stderr).toMatch(/\n  seed \(.*bad-config\.json\): must be integer \(got "x"\)\n/);
    expect(result.stderr).toMatch(/\n  customers \(.*bad-config\.json\): must be >= 0 \(got -1\)\n/);
    expect(result.stderr).toMatch(/\n  now \(.*bad-config\.json\): must be an ISO 8601 date-time/);
    // A warning, not one of the problems: on a line of its own, before the error.
    expect(result.stderr).toMatch(/^warning: .*bad-config\.json: unknown setting "extra" is ignored\nsync: usage error: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the environment variable that is wrong', async () => {
    const result = await runSync(['run', 'sample'], { env: { SYNC_SAMPLE_SEED: 'seven' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\n  seed \(SYNC_SAMPLE_SEED\): must be integer \(got "seven"\)\n/);
  });

  it('says which file cannot be read, and where JSON is broken', async () => {
    const missing = await runSync(['run', 'sample', '--config', join(tmp.dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--config .*nope\.json: cannot read it \(no such file\)/);
    const broken = join(tmp.dir, 'broken.json');
    writeFileSync(broken, '{\n  "seed": 1,\n  "customers": ,\n}');
    const bad = await runSync(['run', 'sample', '--config', broken]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not valid JSON \(.* at line 3, column \d+\)/);
  });

  it('rejects an unknown target and an unknown stream', async () => {
    const target = await runSync(['run', 'sample', '--target', 'mysql:x']);
    expect(target.code).toBe(2);
    expect(target.stderr).toMatch(/unknown target "mysql:x"; use one of: -, sqlite:PATH, jsonl:DIR, csv:DIR/);
    const stream = await runSync(['run', 'sample', '--streams', 'orders,refunds', '--target', '-']);
    expect(stream.code).toBe(2);
    expect(stream.stderr).toMatch(/unknown stream "refunds" for sample; streams: customers, orders/);
  });

  it('exits 2 with usage for an unknown flag', async () => {
    const result = await runSync(['run', 'sample', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});

describe('sync run: cron safety', () => {
  const ORDERS = 200_000;
  const big = { SYNC_SAMPLE_NOW: '2026-03-01T00:00:00Z', SYNC_SAMPLE_ORDERS: String(ORDERS), SYNC_SAMPLE_CUSTOMERS: '20000' };

  function committedOrders(db: string): number {
    if (!existsSync(db)) return 0;
    try {
      const d = new Database(db, { readonly: true, timeout: 1000 });
      try {
        const row = d.prepare(`SELECT count(*) AS n FROM orders`).get() as { n: number } | undefined;
        return row?.n ?? 0;
      } finally {
        d.close();
      }
    } catch {
      return 0;
    }
  }

  /**
   * Holds a run into `db` in the middle: waits until it has committed some orders, then takes
   * the database's write lock, so the run cannot commit again, and so cannot finish, until
   * `release` (a run waits 15 s for the lock, then fails). Whatever the test does meanwhile
   * (another run, a signal) lands on a run that is certainly alive, however slow the machine.
   */
  async function holdMidRun(db: string): Promise<{ committed: number; release: () => void }> {
    let held: { conn: Database.Database; committed: number } | undefined;
    // Read-only until orders are there: a writer opening the file while the run creates it
    // could stand in the way of its set-up.
    await until(() => {
      if (committedOrders(db) === 0) return false;
      const conn = new Database(db, { fileMustExist: true, timeout: 10_000 });
      try {
        conn.exec('BEGIN IMMEDIATE');
        const { n } = conn.prepare('SELECT count(*) AS n FROM orders').get() as { n: number };
        held = { conn, committed: n };
        return true;
      } finally {
        if (held?.conn !== conn) conn.close();
      }
    }, 'the run to commit its first orders');
    if (held === undefined) throw new Error('unreachable: until returned without a hold');
    const { conn, committed } = held;
    const release = (): void => {
      if (!conn.open) return;
      conn.exec('ROLLBACK');
      conn.close();
    };
    if (committed >= ORDERS) {
      release();
      throw new Error(`the run committed all ${committed} orders before it could be held: make it larger`);
    }
    return { committed, release };
  }

  it('a second run while the first is alive exits 75 with one line and touches nothing', async () => {
    const dir = fresh();
    const first = startSync(['run', 'sample'], { cwd: dir, env: big });
    const firstDone = collect(first);
    const held = await holdMidRun(join(dir, 'sync.db'));
    // Paused too, so its wait for the database lock does not run out however long the second
    // run takes to start; it keeps its run lock all the while (the kernel holds it).
    first.kill('SIGSTOP');
    let second: Awaited<ReturnType<typeof runSync>>;
    try {
      second = await runSync(['run', 'sample', '--streams', 'customers'], { cwd: dir, env: big });
    } finally {
      held.release();
      first.kill('SIGCONT');
    }
    expect(second.code).toBe(75);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(/sync: busy: sync run sample → sqlite:sync\.db is already running/);
    const result = await firstDone;
    expect(result.code, result.stderr).toBe(0);
    expect(table(join(dir, 'sync.db'), 'customers')).toHaveLength(20000);
  }, 120_000);

  it('after kill -9 in the middle of a large run, a rerun ends with the rows of a clean run', async () => {
    const clean = fresh();
    const killed = fresh();
    const victim = startSync(['run', 'sample'], { cwd: killed, env: big });
    const done = collect(victim);
    const held = await holdMidRun(join(killed, 'sync.db'));
    victim.kill('SIGKILL');
    const killedResult = await done;
    held.release();
    expect(killedResult.signal).toBe('SIGKILL');
    const partial = committedOrders(join(killed, 'sync.db'));
    expect(partial).toBe(held.committed);
    expect(partial).toBeLessThan(ORDERS);
    const rerun = await runSync(['run', 'sample'], { cwd: killed, env: big });
    expect(rerun.code, rerun.stderr).toBe(0);
    const cleanRun = await runSync(['run', 'sample'], { cwd: clean, env: big });
    expect(cleanRun.code, cleanRun.stderr).toBe(0);
    expect(digest(join(killed, 'sync.db'))).toBe(digest(join(clean, 'sync.db')));
    // Three runs of 220,000 records: on a loaded machine they take longer than the default minute.
  }, 240_000);

  it('SIGTERM stops reading, commits what was written with its state, exits 143', async () => {
    const dir = fresh();
    const child = startSync(['run', 'sample'], { cwd: dir, env: big });
    const done = collect(child);
    const held = await holdMidRun(join(dir, 'sync.db'));
    // Sent while the run cannot finish; it stops at once and commits once the lock is free.
    child.kill('SIGTERM');
    held.release();
    const result = await done;
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toMatch(/sync: stopped: interrupted by SIGTERM/);
    const d = new Database(join(dir, 'sync.db'), { readonly: true });
    const state = JSON.parse((d.prepare('SELECT value FROM _sync_state').get() as { value: string }).value) as {
      bookmarks: Record<string, { replication_key_value: string }>;
    };
    const newest = (d.prepare(`SELECT max(updated_at) AS m FROM orders`).get() as { m: string }).m;
    const orders = (d.prepare(`SELECT count(*) AS n FROM orders`).get() as { n: number }).n;
    d.close();
    expect(orders).toBeLessThan(ORDERS);
    // The saved bookmark is exactly the newest committed record: nothing ahead, nothing lost.
    expect(state.bookmarks['orders']?.replication_key_value).toBe(newest);
  });
});
