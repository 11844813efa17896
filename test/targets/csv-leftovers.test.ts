import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSync, tempDir } from '../helpers/cli.js';

/**
 * The CSV target widens a header by writing the whole file anew into `.sync-<pid>-<hex>.tmp`
 * and renaming it over. A run killed in between leaves that file; the next run removes it.
 */

const tmp = tempDir('sync-csv-leftovers-');
afterAll(tmp.cleanup);

const schema = (properties: object): string => JSON.stringify({ type: 'SCHEMA', stream: 'users', schema: { properties }, key_properties: ['id'] });
const record = (rec: object): string => JSON.stringify({ type: 'RECORD', stream: 'users', record: rec });

describe('csv: temporary files of an interrupted widening', () => {
  it('are removed by the next run, which leaves other files and the data alone', async () => {
    const dir = join(tmp.dir, 'out');
    const first = await runSync(['target', `csv:${dir}`], { input: [schema({ id: { type: 'integer' } }), record({ id: 1 }), '{"type":"STATE","value":{"n":1}}'].join('\n') });
    expect(first.code).toBe(0);

    // What a run killed during a widening leaves: part of the wider file, under its temporary name.
    const stale = join(dir, '.sync-4242-0123456789ab.tmp');
    writeFileSync(stale, 'id,name\n1,\n');
    // Look-alikes that are not ours stay.
    for (const name of ['.sync-notes.tmp', 'users.csv.tmp', '.sync-4242-0123456789ab.tmp.bak']) writeFileSync(join(dir, name), 'mine\n');

    const second = await runSync(['target', `csv:${dir}`], {
      input: [schema({ id: { type: 'integer' }, name: { type: 'string' } }), record({ id: 2, name: 'Ada' }), '{"type":"STATE","value":{"n":2}}'].join('\n'),
    });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`${stale}: removed a temporary file left by an interrupted run`);
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['.sync-4242-0123456789ab.tmp.bak', '.sync-notes.tmp', '.sync-state-history.jsonl', '.sync-state.json', '.sync-state.json.lock', 'users.csv', 'users.csv.tmp']);
    expect(readFileSync(join(dir, 'users.csv'), 'utf8')).toBe('id,name\n1,\n2,Ada\n');
    expect(JSON.parse(readFileSync(join(dir, '.sync-state.json'), 'utf8'))).toEqual({ singer: { n: 2 } });
  });
});
