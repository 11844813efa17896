import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { hash, MailchimpModel } from './model.js';
import { until } from '../helpers/wait.js';
import { readRows, withoutRunMark, writeConfig } from '../helpers/files.js';

/** `sync run mailchimp` and `sync listen mailchimp` against the local model of Mailchimp. */

const KEY = '0123456789abcdef0123456789abcdef-us6';
const TOKEN = 'hook-token-5f3a9c';

let tmp: ReturnType<typeof tempDir>;
let model: MailchimpModel;
beforeEach(async () => {
  tmp = tempDir('sync-mailchimp-');
  model = await new MailchimpModel(KEY).start();
  model.addList('a1b2c3d4e5', 'Newsletter');
  model.addList('f6a7b8c9d0', 'Customers');
  model.subscribe('a1b2c3d4e5', 'ann@example.com', { FNAME: 'Ann', LNAME: 'Lee' });
  model.subscribe('a1b2c3d4e5', 'bob@example.com', { FNAME: 'Bob', LNAME: 'Ray' });
  model.subscribe('f6a7b8c9d0', 'cy@example.com', { FNAME: 'Cy', LNAME: 'Fox' });
});
afterEach(async () => {
  await model.close();
  tmp.cleanup();
});

function configFile(extra: object = {}): string {
  return writeConfig(tmp.dir, 'mailchimp', { api_key: KEY, base_url: model.url, webhook_secret: TOKEN, ...extra });
}

const run = (db: string, extra: object = {}, env: Record<string, string> = {}) =>
  runSync(['run', 'mailchimp', '--config', configFile(extra), '--target', `sqlite:${join(tmp.dir, db)}`], { cwd: tmp.dir, env });

const rows = (db: string, sql: string): Array<Record<string, unknown>> => readRows(join(tmp.dir, db), sql);

const memberRow = (db: string, listId: string, email: string) =>
  withoutRunMark(rows(db, `SELECT * FROM list_members WHERE list_id = '${listId}' AND id = '${hash(email)}'`)[0]);

describe('sync run mailchimp', () => {
  it('reads every audience and its members, keyed by list and subscriber hash', async () => {
    const result = await run('full.db');
    expect(result.code, result.stderr).toBe(0);
    expect(rows('full.db', 'SELECT id, name FROM lists ORDER BY id')).toEqual([
      { id: 'a1b2c3d4e5', name: 'Newsletter' },
      { id: 'f6a7b8c9d0', name: 'Customers' },
    ]);
    expect(rows('full.db', 'SELECT list_id, email_address, status, merge_fields FROM list_members ORDER BY email_address')).toEqual([
      { list_id: 'a1b2c3d4e5', email_address: 'ann@example.com', status: 'subscribed', merge_fields: '{"FNAME":"Ann","LNAME":"Lee"}' },
      { list_id: 'a1b2c3d4e5', email_address: 'bob@example.com', status: 'subscribed', merge_fields: '{"FNAME":"Bob","LNAME":"Ray"}' },
      { list_id: 'f6a7b8c9d0', email_address: 'cy@example.com', status: 'subscribed', merge_fields: '{"FNAME":"Cy","LNAME":"Fox"}' },
    ]);
    // Basic auth with the key; the key never shows.
    expect(result.stderr).not.toContain(KEY);
  });

  it('asks only for what changed since the bookmark, and marks archived members deleted', async () => {
    expect((await run('inc.db')).code).toBe(0);
    model.profile('a1b2c3d4e5', 'ann@example.com', { FNAME: 'Anne' });
    model.archive('a1b2c3d4e5', 'bob@example.com');
    model.subscribe('a1b2c3d4e5', 'dee@example.com', { FNAME: 'Dee', LNAME: 'Oak' });
    model.memberQueries.length = 0;
    const second = await run('inc.db');
    expect(second.code, second.stderr).toBe(0);
    // Each audience from its own bookmark (its newest change read), less the one-minute
    // lookback; the archived members are asked for separately, from the same bound.
    expect(model.memberQueries.map((q) => [q.get('since_last_changed'), q.get('status')])).toEqual([
      ['2026-01-09T23:59:02Z', null],
      ['2026-01-09T23:59:02Z', 'archived'],
      ['2026-01-09T23:59:03Z', null],
      ['2026-01-09T23:59:03Z', 'archived'],
    ]);
    expect(rows('inc.db', `SELECT email_address, status, _sdc_deleted_at, json_extract(merge_fields, '$.FNAME') AS first FROM list_members WHERE list_id = 'a1b2c3d4e5' ORDER BY email_address`)).toEqual([
      { email_address: 'ann@example.com', status: 'subscribed', _sdc_deleted_at: null, first: 'Anne' },
      { email_address: 'bob@example.com', status: 'archived', _sdc_deleted_at: '2026-01-10T00:00:05+00:00', first: 'Bob' },
      { email_address: 'dee@example.com', status: 'subscribed', _sdc_deleted_at: null, first: 'Dee' },
    ]);
  });

  it('waits out a 429 instead of failing', async () => {
    model.throttle = 2;
    const result = await run('throttled.db');
    expect(result.code, result.stderr).toBe(0);
    expect(rows('throttled.db', 'SELECT count(*) AS n FROM list_members')).toEqual([{ n: 3 }]);
  }, 60_000);

  it('only the audiences of list_ids: a JSON list in the file, comma-separated in the environment', async () => {
    const fromFile = await run('file.db', { list_ids: ['f6a7b8c9d0'] });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(rows('file.db', 'SELECT DISTINCT list_id FROM list_members')).toEqual([{ list_id: 'f6a7b8c9d0' }]);
    model.addList('0a0b0c0d0e', 'Partners');
    model.subscribe('0a0b0c0d0e', 'pat@example.com', { FNAME: 'Pat' });
    const fromEnv = await run('env.db', {}, { SYNC_MAILCHIMP_LIST_IDS: 'f6a7b8c9d0, 0a0b0c0d0e' });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(rows('env.db', 'SELECT DISTINCT list_id FROM list_members ORDER BY list_id')).toEqual([{ list_id: '0a0b0c0d0e' }, { list_id: 'f6a7b8c9d0' }]);
  });

  it('a wrong key fails with the API\'s words, never the key', async () => {
    const wrong = 'ffffffffffffffffffffffffffffffff-us6';
    const result = await run('wrong.db', { api_key: wrong });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/401.*API Key Invalid/);
    expect(result.stderr).not.toContain(wrong);
  });

  it('a key without its data centre and no base_url is a usage error', async () => {
    const path = join(tmp.dir, 'nodc.json');
    writeFileSync(path, JSON.stringify({ api_key: 'abcdef' }));
    const result = await runSync(['run', 'mailchimp', '--config', path, '--target', `sqlite:${join(tmp.dir, 'x.db')}`], { cwd: tmp.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/api_key: a Mailchimp API key ends with its data centre/);
  });
});

describe('sync listen mailchimp', () => {
  async function listen(db: string) {
    return startListen(['mailchimp', '--config', configFile(), '--journal', join(tmp.dir, `${db}.inbox`), '--target', `sqlite:${join(tmp.dir, db)}`], { cwd: tmp.dir });
  }
  const post = async (url: string, body: string, token = TOKEN) => {
    const response = await fetch(`${url}/webhooks/mailchimp?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp.com' },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  };

  it('answers the validator GET, refuses a wrong token, and keeps the token out of the inbox', async () => {
    const listener = await listen('hooks.db');
    try {
      const check = await fetch(`${listener.url}/webhooks/mailchimp`, { headers: { 'user-agent': 'MailChimp.com WebHook Validator' } });
      expect(check.status).toBe(200);
      await check.arrayBuffer();
      expect(await post(listener.url, model.subscribe('a1b2c3d4e5', 'eve@example.com', { FNAME: 'Eve' }), 'wrong')).toBe(401);
    } finally {
      listener.child.kill('SIGTERM');
      const done = await listener.done;
      expect(done.stderr).not.toContain(TOKEN);
    }
  });

  it('gives each member the same row as sync run, field by field, and moves a changed address', async () => {
    // Both databases start from the same batch.
    expect((await run('batch.db')).code).toBe(0);
    expect((await run('hooks.db')).code).toBe(0);
    const events = [
      model.profile('a1b2c3d4e5', 'ann@example.com', { FNAME: 'Anne', LNAME: 'Lee-Park' }),
      model.subscribe('a1b2c3d4e5', 'fay@example.com', { FNAME: 'Fay', LNAME: 'Lu' }),
      model.unsubscribe('f6a7b8c9d0', 'cy@example.com'),
    ];
    const listener = await listen('hooks.db');
    try {
      for (const body of events) expect(await post(listener.url, body)).toBe(200);
      // Then the batch catches up on the other database.
      expect((await run('batch.db')).code).toBe(0);
      await until(() => memberRow('hooks.db', 'f6a7b8c9d0', 'cy@example.com')?.['status'] === 'unsubscribed');
      for (const [list, email] of [['a1b2c3d4e5', 'ann@example.com'], ['a1b2c3d4e5', 'fay@example.com'], ['f6a7b8c9d0', 'cy@example.com']] as const) {
        const fromBatch = memberRow('batch.db', list, email);
        const fromHook = memberRow('hooks.db', list, email);
        expect(fromHook, `${email} from the webhook`).toEqual(fromBatch);
      }
      // A new address is a new subscriber hash: the old one is deleted at the event's time.
      expect(await post(listener.url, model.changeEmail('a1b2c3d4e5', 'bob@example.com', 'rob@example.com'))).toBe(200);
      await until(() => memberRow('hooks.db', 'a1b2c3d4e5', 'rob@example.com') !== undefined);
      expect(memberRow('hooks.db', 'a1b2c3d4e5', 'bob@example.com')).toMatchObject({ status: 'archived', _sdc_deleted_at: '2026-01-10T00:00:07+00:00' });
      expect(memberRow('hooks.db', 'a1b2c3d4e5', 'rob@example.com')).toMatchObject({ email_address: 'rob@example.com', last_changed: '2026-01-10T00:00:07+00:00' });
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
  }, 60_000);

  it('cleaned, unsubscribe with action=delete and campaign: each member row as sync run has it, the campaign acknowledged and nothing stored', async () => {
    model.subscribe('a1b2c3d4e5', 'dee@example.com', { FNAME: 'Dee', LNAME: 'Oak' });
    expect((await run('batch.db')).code).toBe(0);
    expect((await run('hooks.db')).code).toBe(0);
    const events = [
      model.clean('a1b2c3d4e5', 'ann@example.com', 'hard'),
      model.clean('a1b2c3d4e5', 'dee@example.com', 'abuse'),
      model.unsubscribe('f6a7b8c9d0', 'cy@example.com', 'delete'),
      model.sendCampaign('a1b2c3d4e5', '5aa2102003', 'Spring news'),
    ];
    const before = rows('hooks.db', 'SELECT * FROM list_members ORDER BY id');
    const listener = await listen('hooks.db');
    try {
      for (const body of events) expect(await post(listener.url, body)).toBe(200);
      expect((await run('batch.db')).code).toBe(0);
      await until(async () => {
        const done = await runSync(['inbox', 'list', '--journal', join(tmp.dir, 'hooks.db.inbox'), '--status', 'done', '--format', 'json'], { cwd: tmp.dir });
        return done.stdout.trim().split('\n').filter((l) => l !== '').length === events.length;
      });
      for (const [list, email] of [['a1b2c3d4e5', 'ann@example.com'], ['a1b2c3d4e5', 'dee@example.com'], ['f6a7b8c9d0', 'cy@example.com']] as const) {
        expect(memberRow('hooks.db', list, email), `${email} from the webhook`).toEqual(memberRow('batch.db', list, email));
      }
      expect(memberRow('hooks.db', 'a1b2c3d4e5', 'ann@example.com')).toMatchObject({ status: 'cleaned', _sdc_deleted_at: null, last_changed: '2026-01-10T00:00:05+00:00' });
      expect(memberRow('hooks.db', 'f6a7b8c9d0', 'cy@example.com')).toMatchObject({ status: 'archived', _sdc_deleted_at: '2026-01-10T00:00:07+00:00' });
      // The campaign changed no row, and added no table.
      const after = rows('hooks.db', 'SELECT * FROM list_members ORDER BY id');
      expect(after.filter((r) => !['ann@example.com', 'dee@example.com', 'cy@example.com'].includes(r['email_address'] as string))).toEqual(
        before.filter((r) => !['ann@example.com', 'dee@example.com', 'cy@example.com'].includes(r['email_address'] as string)),
      );
      expect(rows('hooks.db', `SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 6) != '_sync_' AND name != 'sqlite_sequence' ORDER BY name`)).toEqual([{ name: 'list_members' }, { name: 'lists' }]);
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
  }, 60_000);

  it('a body that is not a Mailchimp event becomes a dead letter, and the listener goes on', async () => {
    const listener = await listen('dead.db');
    try {
      expect(await post(listener.url, 'type=subscribe&data[list_id]=a1b2c3d4e5')).toBe(200);
      expect(await post(listener.url, 'type=profile&data[__proto__][x]=1')).toBe(200);
      await until(async () => {
        const list = await runSync(['inbox', 'list', '--journal', join(tmp.dir, 'dead.db.inbox'), '--status', 'dead', '--format', 'json'], { cwd: tmp.dir });
        return list.stdout.includes('without data[email]') && list.stdout.includes('__proto__');
      });
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
  }, 30_000);
});

describe('sync run mailchimp --about and --discover', () => {
  interface AboutStream { name: string; key_properties: string[]; replication_key: string | null; version: string; deletions: string }
  interface CatalogStream { stream: string; key_properties: string[]; replication_key?: string; schema: { properties: Record<string, unknown> }; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }
  const asAbout = (s: CatalogStream): AboutStream => {
    const root = s.metadata.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
    return { name: s.stream, key_properties: s.key_properties, replication_key: s.replication_key ?? null, version: root['sync-version'] as string, deletions: root['sync-deletions'] as string };
  };

  it('--about lists the streams with no config, as --discover has them; neither asks Mailchimp anything', async () => {
    const result = await runSync(['run', 'mailchimp', '--about', '--format', 'json'], { cwd: tmp.dir });
    expect(result.code, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as { streams: AboutStream[]; streams_need_config: boolean };
    expect(listed.streams_need_config).toBe(false);
    expect(listed.streams.map((s) => [s.name, s.key_properties, s.replication_key])).toEqual([
      ['lists', ['id'], null],
      ['list_members', ['list_id', 'id'], 'last_changed'],
    ]);
    expect(listed.streams[1]?.deletions).toMatch(/status is "archived" are marked deleted/);
    const discovered = await runSync(['run', 'mailchimp', '--config', configFile(), '--discover'], { cwd: tmp.dir });
    expect(discovered.code, discovered.stderr).toBe(0);
    const catalog = (JSON.parse(discovered.stdout) as { streams: CatalogStream[] }).streams;
    expect(catalog.map(asAbout)).toEqual(listed.streams);
    expect(Object.keys(catalog[1]?.schema.properties ?? {})).toEqual(expect.arrayContaining(['id', 'list_id', 'email_address', 'unique_email_id', 'status', '_sdc_deleted_at']));
    expect(model.server.seen).toEqual([]);
    const text = await runSync(['run', 'mailchimp', '--about'], { cwd: tmp.dir });
    expect(text.stdout).toContain('Streams:\n  lists (key id, full table)\n');
    expect(text.stdout).toContain('  list_members (key list_id, id, incremental by last_changed)\n      version: the record\'s last_changed');
    expect(text.stdout).not.toContain(KEY);
  });
});
