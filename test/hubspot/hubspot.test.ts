import { join } from 'node:path';
import { Signature } from '@hubspot/api-client/lib/src/utils/signature.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { readRows, withoutRunMark, writeConfig } from '../helpers/files.js';
import { SEARCH_RESULT_CAP, startHubspot, type CrmObject, type HubspotModel } from './model.js';

/** `sync run hubspot` and `sync listen hubspot` against the local model of HubSpot's CRM API. */

const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const CLIENT_SECRET = 'hubspot-app-client-secret-8d1f';
const HOUR = 3_600_000;

let tmp: ReturnType<typeof tempDir>;
let model: HubspotModel;
let ann: CrmObject;
let bob: CrmObject;
let acme: CrmObject;
let deal: CrmObject;
beforeEach(async () => {
  tmp = tempDir('sync-hubspot-');
  model = await startHubspot(TOKEN);
  // Written an hour and half an hour ago: outside the minute each incremental run reads again.
  model.clockOffsetMs = -HOUR;
  ann = model.create('contacts', { email: 'ann@example.com', firstname: 'Ann', lastname: 'Lee' });
  model.clockOffsetMs = -HOUR / 2;
  bob = model.create('contacts', { email: 'bob@example.com', firstname: 'Bob' });
  acme = model.create('companies', { name: 'Acme', domain: 'acme.example' });
  deal = model.create('deals', { dealname: 'Acme renewal', amount: '1500.00', dealstage: 'appointmentscheduled' });
  model.create('tickets', { subject: 'Login fails', hs_pipeline_stage: '1' });
  model.addOwner({ email: 'owner@example.com', firstName: 'Olive', lastName: 'Owner' });
  model.addOwner({ email: 'gone@example.com', archived: true });
  model.clockOffsetMs = 0;
});
afterEach(async () => {
  await model.close();
  tmp.cleanup();
});

const config = (extra: object = {}): string => writeConfig(tmp.dir, 'hubspot', { access_token: TOKEN, base_url: model.url, client_secret: CLIENT_SECRET, ...extra });
const run = (db = 'hubspot.db', extra: object = {}, ...flags: string[]) => runSync(['run', 'hubspot', '--config', config(extra), '--target', `sqlite:${join(tmp.dir, db)}`, ...flags], { cwd: tmp.dir });
const rows = (sql: string, db = 'hubspot.db'): Array<Record<string, unknown>> => readRows(join(tmp.dir, db), sql);
/**
 * A row with its instants compared as instants: a deletion's time is HubSpot's `archivedAt` text
 * in a batch read and the event's epoch `occurredAt` in a webhook, the same millisecond.
 */
const instants = (row: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : v]));
const filterValue = (type: string): unknown => model.searches.find((s) => s.type === type)?.body.filterGroups?.[0]?.filters?.[0]?.value;

describe('sync run hubspot', () => {
  it('reads every object with its properties as columns, then only what changed since, by the bound in the search body', async () => {
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain(TOKEN);
    expect(rows('SELECT id, email, firstname, lastname, archived FROM contacts ORDER BY id')).toEqual([
      { id: ann.id, email: 'ann@example.com', firstname: 'Ann', lastname: 'Lee', archived: 0 },
      { id: bob.id, email: 'bob@example.com', firstname: 'Bob', lastname: null, archived: 0 },
    ]);
    expect(rows('SELECT id, name, domain FROM companies')).toEqual([{ id: acme.id, name: 'Acme', domain: 'acme.example' }]);
    expect(rows('SELECT dealname, amount FROM deals')).toEqual([{ dealname: 'Acme renewal', amount: '1500.00' }]);
    expect(rows('SELECT subject FROM tickets')).toEqual([{ subject: 'Login fails' }]);
    expect(rows('SELECT email, _sdc_deleted_at IS NOT NULL AS deleted FROM owners ORDER BY email')).toEqual([
      { email: 'gone@example.com', deleted: 1 },
      { email: 'owner@example.com', deleted: 0 },
    ]);
    // A first run asks for everything, sorted by the last modification, with the properties it keeps.
    const search = model.searches.find((s) => s.type === 'contacts')?.body;
    expect(search).toMatchObject({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: 0 }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      limit: 200,
    });
    expect(search?.properties).toEqual(expect.arrayContaining(['email', 'firstname', 'lastname']));
    expect(model.searches.find((s) => s.type === 'deals')?.body.filterGroups?.[0]?.filters?.[0]?.propertyName).toBe('hs_lastmodifieddate');

    const bookmark = JSON.parse(rows("SELECT value FROM _sync_state")[0]?.['value'] as string) as { bookmarks: Record<string, { replication_key_value: string }> };
    const contactsMark = bookmark.bookmarks['contacts']?.replication_key_value as string;
    expect(contactsMark).toBe(bob.updatedAt);
    const annBefore = Date.parse(ann.updatedAt);
    model.update(ann.id, { firstname: 'Annie' });
    const carol = model.create('contacts', { email: 'carol@example.com' });
    model.searches.length = 0;

    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    // From the bookmark, less the minute read again for the search index's delay: older objects are not asked for.
    expect(filterValue('contacts')).toBe(Date.parse(contactsMark) - 60_000);
    expect(Number(filterValue('contacts'))).toBeGreaterThan(annBefore);
    expect(rows('SELECT id, firstname FROM contacts ORDER BY id')).toEqual([
      { id: ann.id, firstname: 'Annie' },
      { id: bob.id, firstname: 'Bob' },
      { id: carol.id, firstname: null },
    ]);
  });

  it('marks archived objects deleted at archivedAt, keeping their last values', async () => {
    expect((await run()).code).toBe(0);
    model.archive(bob.id);
    model.archive(deal.id);
    const result = await run();
    expect(result.code, result.stderr).toBe(0);
    expect(rows('SELECT id, email, _sdc_deleted_at FROM contacts ORDER BY id')).toEqual([
      { id: ann.id, email: 'ann@example.com', _sdc_deleted_at: null },
      { id: bob.id, email: 'bob@example.com', _sdc_deleted_at: expect.stringMatching(/^\d{4}-/) },
    ]);
    expect(Date.parse(rows(`SELECT _sdc_deleted_at AS at FROM contacts WHERE id = '${bob.id}'`)[0]?.['at'] as string)).toBe(Date.parse(bob.archivedAt ?? ''));
    expect(rows('SELECT dealname, _sdc_deleted_at IS NOT NULL AS deleted FROM deals')).toEqual([{ dealname: 'Acme renewal', deleted: 1 }]);
  });

  it('reads more changes than one search query can page through', async () => {
    const total = SEARCH_RESULT_CAP + 150;
    // Written in a tight loop: hundreds share a millisecond, as in a HubSpot import.
    for (let i = 0; i < total - 2; i++) model.create('contacts', { email: `c${i}@example.com` });
    const result = await run('hubspot.db', { search_requests_per_second: 200, requests_per_second: 200 }, '--streams', 'contacts');
    expect(result.code, result.stderr).toBe(0);
    expect(model.beyondCap).toBe(0);
    expect(rows('SELECT count(*) AS n, count(DISTINCT email) AS emails FROM contacts')).toEqual([{ n: total, emails: total }]);
  });

  it('waits out 429s from the overall and the search limits, losing nothing', async () => {
    model.perInterval = 6;
    model.intervalMs = 1000;
    model.searchPerSecond = 2;
    const result = await run('hubspot.db', { search_requests_per_second: 100, requests_per_second: 100 });
    expect(result.code, result.stderr).toBe(0);
    expect(model.throttled).toBeGreaterThan(0);
    expect(rows('SELECT count(*) AS n FROM contacts')).toEqual([{ n: 2 }]);
    expect(rows('SELECT count(*) AS n FROM tickets')).toEqual([{ n: 1 }]);
    expect(rows('SELECT count(*) AS n FROM owners')).toEqual([{ n: 2 }]);
  });

  it("a wrong token stops the run with HubSpot's message and without the token", async () => {
    const wrong = 'pat-na1-99999999-wrong-token-0000000000';
    const result = await run('hubspot.db', { access_token: wrong });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('401');
    expect(result.stderr).toContain('Authentication credentials not found');
    expect(result.stderr).not.toContain(wrong);
  });

  it('refuses a custom property name HubSpot cannot have, naming the setting', async () => {
    const result = await run('hubspot.db', { contact_properties: ['favorite_color', 'id'] });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('contact_properties: "id" is not a property name');
  });
});

describe('sync listen hubspot', () => {
  it('gives, from signed creation, property change and deletion events, the rows a batch read gives; refuses wrong and stale signatures', async () => {
    // Both databases start from the same run; one then gets the webhooks, the other the next run.
    expect((await run('hooks.db')).code).toBe(0);
    expect((await run('batch.db')).code).toBe(0);
    model.update(ann.id, { firstname: 'Annie', lastname: 'Lee-Ray' });
    const carol = model.create('contacts', { email: 'carol@example.com', firstname: 'Carol' });
    model.archive(bob.id);
    model.update(deal.id, { dealstage: 'closedwon' });
    const events = model.events.filter((e) => e.occurredAt >= Date.now() - 60_000);
    expect(events.map((e) => e.subscriptionType).sort()).toEqual(['contact.creation', 'contact.deletion', 'contact.propertyChange', 'contact.propertyChange', 'deal.propertyChange']);

    const { child, url, done } = await startListen(['hubspot', '--config', config(), '--target', `sqlite:${join(tmp.dir, 'hooks.db')}`], { cwd: tmp.dir });
    // HubSpot signs the URL it called; without target_url the listener rebuilds it as https and the Host header.
    const called = `https://${new URL(url).host}/webhooks/hubspot`;
    const post = async (body: string, secret = CLIENT_SECRET, timestamp = Date.now()): Promise<number> => {
      const signature = Signature.getSignature('POST', 'v3', { signature: '', clientSecret: secret, url: called, requestBody: body, timestamp });
      const answer = await fetch(`${url}/webhooks/hubspot`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) },
        body,
      });
      await answer.arrayBuffer();
      return answer.status;
    };
    const body = JSON.stringify(events);
    expect(await post(body, 'not-the-client-secret')).toBe(401);
    expect(await post(body, CLIENT_SECRET, Date.now() - 6 * 60_000)).toBe(401);
    expect(await post(body)).toBe(200);
    child.kill('SIGTERM');
    const listened = await done;
    expect(listened.code, listened.stderr).toBe(0);
    expect(listened.stderr).not.toContain(CLIENT_SECRET);
    expect(listened.stderr).not.toContain(TOKEN);

    expect((await run('batch.db')).code).toBe(0);
    for (const [table, id] of [['contacts', ann.id], ['contacts', carol.id], ['contacts', bob.id], ['deals', deal.id]] as const) {
      const sql = `SELECT * FROM ${table} WHERE id = '${id}'`;
      expect(instants(withoutRunMark(rows(sql, 'hooks.db')[0])), `${table} ${id}`).toEqual(instants(withoutRunMark(rows(sql, 'batch.db')[0])));
    }
    expect(rows(`SELECT firstname, lastname FROM contacts WHERE id = '${ann.id}'`, 'hooks.db')).toEqual([{ firstname: 'Annie', lastname: 'Lee-Ray' }]);
    expect(rows(`SELECT email, _sdc_deleted_at IS NOT NULL AS deleted FROM contacts WHERE id = '${bob.id}'`, 'hooks.db')).toEqual([{ email: 'bob@example.com', deleted: 1 }]);
    // Two property changes of one contact in one batch: it was read back once.
    expect(model.server.seen.filter((r) => r.url.startsWith(`/crm/v3/objects/contacts/${ann.id}?`))).toHaveLength(1);
  });
});
