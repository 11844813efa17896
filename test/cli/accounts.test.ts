import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { caseFolders, runSync, type CliResult } from '../helpers/cli.js';

/**
 * Several accounts of one connector, as the README sets them up: each its own config, state id
 * and target. Their rows and states stay apart; written into one target, they would mix, and
 * the run says so.
 */

const fresh = caseFolders('sync-accounts-');

/** Two accounts of the simulated shop: different seeds are different customers and orders. */
function writeConfigs(dir: string): { acme: string; globex: string } {
  const acme = join(dir, 'acme.json');
  const globex = join(dir, 'globex.json');
  writeFileSync(acme, JSON.stringify({ seed: 1, customers: 60, orders: 200 }));
  writeFileSync(globex, JSON.stringify({ seed: 2, customers: 60, orders: 200 }));
  return { acme, globex };
}

const run = async (dir: string, config: string, stateId: string, target: string, now: string, ...extra: string[]): Promise<CliResult> => {
  const result = await runSync(['run', 'sample', '--config', config, '--state-id', stateId, '--target', target, ...extra], { cwd: dir, env: { SYNC_SAMPLE_NOW: now } });
  expect(result.code, result.stderr).toBe(0);
  return result;
};

/** Every row of the shop's tables, but the mark of the run that wrote it (it differs by design). */
function rows(db: string): Record<string, unknown[]> {
  const d = new Database(db, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const table of ['customers', 'orders']) {
      const columns = (d.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>)
        .map((c) => c.name)
        .filter((c) => c !== '_sync_run_version');
      out[table] = d.prepare(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM ${table} ORDER BY id`).all();
    }
    return out;
  } finally {
    d.close();
  }
}

function stateIds(db: string): string[] {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT id FROM _sync_state ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  } finally {
    d.close();
  }
}

const T1 = '2025-06-01T00:00:00Z';
const T2 = '2025-11-15T12:00:00Z';

describe('two accounts of one connector', () => {
  it('each with its own config, state id and target keeps its own rows and state, run after run', async () => {
    const dir = fresh();
    const { acme, globex } = writeConfigs(dir);
    const results = [
      await run(dir, acme, 'acme', 'sqlite:acme.db', T1),
      await run(dir, globex, 'globex', 'sqlite:globex.db', T1),
      await run(dir, acme, 'acme', 'sqlite:acme.db', T2),
      await run(dir, globex, 'globex', 'sqlite:globex.db', T2),
    ];
    for (const r of results) expect(r.stderr).not.toMatch(/warning/);
    // What one full run of each account alone leaves.
    await run(dir, acme, 'acme', 'sqlite:acme-alone.db', T2);
    await run(dir, globex, 'globex', 'sqlite:globex-alone.db', T2);
    const [a, b] = [rows(join(dir, 'acme.db')), rows(join(dir, 'globex.db'))];
    expect(a).toEqual(rows(join(dir, 'acme-alone.db')));
    expect(b).toEqual(rows(join(dir, 'globex-alone.db')));
    expect(a['customers']).not.toEqual(b['customers']);
    expect(stateIds(join(dir, 'acme.db'))).toEqual(['acme']);
    expect(stateIds(join(dir, 'globex.db'))).toEqual(['globex']);
  });

  it('written into one SQLite target, the second account is warned once that the rows mix, naming both state ids', async () => {
    const dir = fresh();
    const { acme, globex } = writeConfigs(dir);
    const first = await run(dir, acme, 'acme', 'sqlite:shared.db', T1);
    expect(first.stderr).not.toMatch(/warning/);
    const second = await run(dir, globex, 'globex', 'sqlite:shared.db', T1);
    const warnings = second.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: sqlite:shared\.db: customers, orders already hold rows of sample synced under state id "acme"; this run \(state id "globex"\) writes into the same tables, so two accounts' rows mix/,
    );
    expect(warnings[0]).toContain('`sync state clear --state-id acme --target sqlite:shared.db` ends this warning');
    // Said on every run of either, as long as both keep their bookmarks there.
    expect((await run(dir, acme, 'acme', 'sqlite:shared.db', T2)).stderr).toMatch(/already hold rows of sample synced under state id "globex"/);
  });

  it('state ids of one connector for different streams share no table, and are not warned', async () => {
    const dir = fresh();
    const { acme } = writeConfigs(dir);
    await run(dir, acme, 'acme-customers', 'sqlite:split.db', T1, '--streams', 'customers');
    const orders = await run(dir, acme, 'acme-orders', 'sqlite:split.db', T1, '--streams', 'orders');
    expect(orders.stderr).not.toMatch(/warning/);
  });
});
