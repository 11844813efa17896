import { join } from 'node:path';
import { describe, it } from 'vitest';
import { caseFolders } from '../helpers/cli.js';
import { readRows } from '../helpers/files.js';
import { checkCoverageMix } from './status-coverage-mix.js';

const fresh = caseFolders('sync-coverage-');

describe('webhook coverage', () => {
  it('counts the changes a run found that webhooks had delivered, in sync status and the metrics file', async () => {
    const dir = fresh();
    const db = join(dir, 'sync.db');
    await checkCoverageMix({
      dir,
      target: 'sqlite:sync.db',
      versions: async (stream) => readRows(db, `SELECT id, _sync_version AS version FROM ${stream}`).map((r) => ({ id: Number(r['id']), version: String(r['version']) })),
      lastChanges: async () => JSON.parse(String(readRows(db, 'SELECT changes FROM _sync_runs ORDER BY id DESC LIMIT 1')[0]?.['changes'])),
    });
  });
});
