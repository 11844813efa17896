import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { Decimal, SalesforceModel, type SObject } from './model.js';
import { until } from '../helpers/wait.js';
import { readRows, withoutRunMark, writeConfig } from '../helpers/files.js';
import { sendJson, startServer } from '../http/server.js';

/** `sync run salesforce` and `sync listen salesforce` against the local model of a Salesforce org. */

const CLIENT_ID = '3MVG9model.client.id';
const CLIENT_SECRET = 'sf-client-secret-8C1F0E2D';
const REFRESH = '5Aep861model.refresh.token.QmFy';
const TOKEN = 'hook-token-b7e4d2';

let tmp: ReturnType<typeof tempDir>;
let model: SalesforceModel;
let acme: SObject;
let ann: SObject;
beforeEach(async () => {
  tmp = tempDir('sync-salesforce-');
  model = await new SalesforceModel(CLIENT_ID, CLIENT_SECRET).start();
  model.refreshTokens.add(REFRESH);
  acme = model.insert('Account', { Name: 'Acme', Type: 'Customer', AnnualRevenue: new Decimal('98765432.5'), NumberOfEmployees: 120, BillingCity: 'Lyon' });
  model.insert('Account', { Name: 'Globex', Type: 'Prospect', NumberOfEmployees: 8 });
  ann = model.insert('Contact', { AccountId: acme['Id'] as string, FirstName: 'Ann', LastName: 'Lee', Email: 'ann@example.com', Birthdate: '1990-04-01', MailingCity: 'Lyon', MailingLatitude: 45.764, Score__c: 7.5, HasOptedOutOfEmail: false });
  model.insert('Contact', { FirstName: 'Bob', LastName: 'Ray', Email: 'bob@example.com', HasOptedOutOfEmail: true });
  model.insert('Contact', { LastName: 'Cy', Phone: '+33 4 00 00 00 00', HasOptedOutOfEmail: false });
  model.insert('Lead', { LastName: 'Dee', Company: 'Initech', Status: 'Open', IsConverted: false });
  model.insert('Opportunity', { AccountId: acme['Id'] as string, Name: 'Acme renewal', StageName: 'Prospecting', Amount: new Decimal('1250000.75'), Probability: 10, CloseDate: '2026-03-31', IsWon: false });
});
afterEach(async () => {
  await model.close();
  tmp.cleanup();
});

function configFile(extra: object = {}): string {
  const settings = { login_url: model.login.url, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: REFRESH, organization_id: model.orgId.slice(0, 15), webhook_secret: TOKEN };
  return writeConfig(tmp.dir, 'salesforce', { ...settings, ...extra });
}

const run = (db: string, extra: object = {}, env: Record<string, string> = {}) =>
  runSync(['run', 'salesforce', '--config', configFile(extra), '--target', `sqlite:${join(tmp.dir, db)}`], { cwd: tmp.dir, env });

const rows = (db: string, sql: string): Array<Record<string, unknown>> => readRows(join(tmp.dir, db), sql);

const SECRETS = [CLIENT_SECRET, REFRESH, 'AQ4AQ.session'];
function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

const CONTACT_FIELDS =
  'Id, AccountId, FirstName, LastName, Name, Email, Phone, Birthdate, HasOptedOutOfEmail, MailingStreet, MailingCity, MailingPostalCode, MailingCountry, MailingLatitude, MailingLongitude, Score__c, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp';

describe('sync run salesforce', () => {
  it('learns the instance from the token, describes each object and reads it through queryAll', async () => {
    const result = await run('full.db');
    expect(result.code, result.stderr).toBe(0);
    // The login host saw the token request only; every data call went to the instance it named.
    expect(model.login.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /services/oauth2/token']);
    expect(model.tokenRequests[0]?.get('grant_type')).toBe('refresh_token');
    expect(model.instance.seen.filter((r) => r.url.endsWith('/describe')).map((r) => r.url).sort()).toEqual(
      ['Account', 'Contact', 'Lead', 'Opportunity'].map((o) => `/services/data/v62.0/sobjects/${o}/describe`),
    );
    // Every field but the compound address, which stays as its components.
    expect(model.queries).toContain(`SELECT ${CONTACT_FIELDS} FROM Contact ORDER BY SystemModstamp`);
    expect(model.instance.seen.some((r) => r.url.startsWith('/services/data/v62.0/queryAll?q='))).toBe(true);

    expect(rows('full.db', 'SELECT Name, Email, Birthdate, HasOptedOutOfEmail, MailingCity, MailingLatitude, Score__c, SystemModstamp FROM contacts ORDER BY Name')).toEqual([
      { Name: 'Ann Lee', Email: 'ann@example.com', Birthdate: '1990-04-01', HasOptedOutOfEmail: 0, MailingCity: 'Lyon', MailingLatitude: 45.764, Score__c: 7.5, SystemModstamp: '2026-01-10T00:00:03.000Z' },
      { Name: 'Bob Ray', Email: 'bob@example.com', Birthdate: null, HasOptedOutOfEmail: 1, MailingCity: null, MailingLatitude: null, Score__c: null, SystemModstamp: '2026-01-10T00:00:04.000Z' },
      { Name: 'Cy', Email: null, Birthdate: null, HasOptedOutOfEmail: 0, MailingCity: null, MailingLatitude: null, Score__c: null, SystemModstamp: '2026-01-10T00:00:05.000Z' },
    ]);
    const columns = rows('full.db', `SELECT name FROM pragma_table_info('contacts')`).map((c) => c['name']);
    expect(columns).not.toContain('attributes');
    expect(columns).not.toContain('MailingAddress');
    expect(rows('full.db', `SELECT AnnualRevenue, NumberOfEmployees FROM accounts WHERE Name = 'Acme'`)).toEqual([{ AnnualRevenue: 98765432.5, NumberOfEmployees: 120 }]);
    expect(rows('full.db', 'SELECT Amount, Probability, CloseDate FROM opportunities')).toEqual([{ Amount: 1250000.75, Probability: 10, CloseDate: '2026-03-31' }]);
    expect(rows('full.db', 'SELECT count(*) AS n FROM leads')).toEqual([{ n: 1 }]);
    expectNoSecret(result.stderr);
  });

  it('asks only for changes since the bookmark, page by page, and picks up updates, creates and deletions', async () => {
    model.batchSize = 2;
    expect((await run('inc.db')).code).toBe(0);
    const bob = model.table('Contact').records[1] as SObject;
    model.update('Contact', ann['Id'] as string, { Email: 'ann.lee@example.com' });
    model.remove('Contact', bob['Id'] as string);
    model.insert('Contact', { FirstName: 'Eve', LastName: 'Oak', HasOptedOutOfEmail: false });
    model.queries.length = 0;
    const pagesBefore = model.instance.seen.length;
    const second = await run('inc.db');
    expect(second.code, second.stderr).toBe(0);
    // From the newest SystemModstamp the first run read, a bare date-time literal.
    expect(model.queries).toContain(`SELECT ${CONTACT_FIELDS} FROM Contact WHERE SystemModstamp >= 2026-01-10T00:00:05Z ORDER BY SystemModstamp`);
    expect(model.queries).toContain('SELECT Id, Name, Type, AnnualRevenue, NumberOfEmployees, Website, BillingStreet, BillingCity, BillingPostalCode, BillingCountry, BillingLatitude, BillingLongitude, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp FROM Account WHERE SystemModstamp >= 2026-01-10T00:00:02Z ORDER BY SystemModstamp');
    // Four contacts changed at or after the bound: two pages, the second by nextRecordsUrl.
    expect(model.instance.seen.slice(pagesBefore).some((r) => /^\/services\/data\/v62\.0\/queryAll\/01g\w+-2$/.test(r.url))).toBe(true);
    expect(rows('inc.db', 'SELECT Name, Email, IsDeleted, _sdc_deleted_at FROM contacts ORDER BY Name')).toEqual([
      { Name: 'Ann Lee', Email: 'ann.lee@example.com', IsDeleted: 0, _sdc_deleted_at: null },
      { Name: 'Bob Ray', Email: 'bob@example.com', IsDeleted: 1, _sdc_deleted_at: '2026-01-10T00:00:09.000Z' },
      { Name: 'Cy', Email: null, IsDeleted: 0, _sdc_deleted_at: null },
      { Name: 'Eve Oak', Email: null, IsDeleted: 0, _sdc_deleted_at: null },
    ]);
  });

  it('reads a custom object by its API name, and leaves file bodies (base64) out', async () => {
    model.insert('Invoice__c', { Name: 'INV-001', Account__c: acme['Id'] as string, Total__c: new Decimal('1500.25'), Paid__c: false, Due__c: '2026-02-01', Lines__c: 3 });
    model.insert('Document', { Name: 'logo.png', Body: '/services/data/v62.0/sobjects/Document/0155g/Body' });
    const result = await run('custom.db', {}, { SYNC_SALESFORCE_OBJECTS: '["Invoice__c", "Document"]' });
    expect(result.code, result.stderr).toBe(0);
    expect(rows('custom.db', 'SELECT Name, Total__c, Paid__c, Due__c, Lines__c FROM invoice__c')).toEqual([{ Name: 'INV-001', Total__c: 1500.25, Paid__c: 0, Due__c: '2026-02-01', Lines__c: 3 }]);
    expect(model.queries).toContain('SELECT Id, Name, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp FROM Document ORDER BY SystemModstamp');
    expect(rows('custom.db', 'SELECT Name FROM documents')).toEqual([{ Name: 'logo.png' }]);
    expect(rows('custom.db', `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('contacts', 'accounts')`)).toEqual([]);
  });

  it('instance_url wins over the instance the token response names: every data call goes to it', async () => {
    // The token names the org's own host; the setting points at a proxy in front of it (here, the model's instance).
    const orgHost = await startServer((_req, res) => sendJson(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]));
    try {
      model.tokenInstanceUrl = orgHost.url;
      const result = await run('proxied.db', { instance_url: model.instance.url });
      expect(result.code, result.stderr).toBe(0);
      expect(model.tokenRequests.length).toBeGreaterThan(0);
      expect(orgHost.seen).toEqual([]);
      expect(model.instance.seen.filter((r) => r.url.endsWith('/describe'))).toHaveLength(4);
      expect(rows('proxied.db', 'SELECT count(*) AS n FROM contacts')).toEqual([{ n: 3 }]);
    } finally {
      await orgHost.close();
    }
  });

  it('an object the org does not have is a usage error naming it', async () => {
    const result = await run('none.db', { objects: ['Contact', 'Nope__c'] });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/objects: Salesforce knows no sObject Nope__c/);
  });

  it('renews a session that expires mid-run and carries on', async () => {
    model.batchSize = 1;
    // Token, four describes, then the sixth call (a page of a query) finds the session gone.
    model.expireBeforeCall = 6;
    const result = await run('renew.db');
    expect(result.code, result.stderr).toBe(0);
    expect(model.refused).toBe(1);
    expect(model.tokenRequests).toHaveLength(2);
    expect(rows('renew.db', 'SELECT count(*) AS n FROM contacts')).toEqual([{ n: 3 }]);
    expect(rows('renew.db', 'SELECT count(*) AS n FROM accounts')).toEqual([{ n: 2 }]);
    expectNoSecret(result.stderr);
  });

  it('a refresh token Salesforce no longer knows fails with its words, exit 1, no secret shown', async () => {
    const dead = '5Aep861revoked.refresh.token.Zm9v';
    const result = await run('bad.db', { refresh_token: dead });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/POST \/services\/oauth2\/token answered 400 Bad Request: .*invalid_grant.*expired access\/refresh token/);
    expect(result.stderr).not.toContain(dead);
    expectNoSecret(result.stderr);
    expect(model.instance.seen).toHaveLength(0);
  });

  it('the daily request limit reached mid-run stops it with Salesforce\'s words, exit 75, keeping what was committed; a later run goes on from there', async () => {
    // Four describe calls, the contacts and the accounts: the leads' query is the seventh call.
    model.apiLimit = 6;
    const limited = await run('daily.db');
    expect(limited.code, limited.stderr).toBe(75);
    expect(limited.stderr).toMatch(
      /retry later: stream leads failed: GET \/services\/data\/v62\.0\/queryAll answered 403 Forbidden: the org's daily API request limit is used up.*TotalRequests Limit exceeded\..*REQUEST_LIMIT_EXCEEDED.*not retried in this run/,
    );
    // Not retried: one refusal, and nothing after it.
    expect(model.limitRefusals).toEqual(['TotalRequests Limit exceeded.']);
    expectNoSecret(limited.stderr);
    expect(rows('daily.db', 'SELECT count(*) AS n FROM contacts')).toEqual([{ n: 3 }]);
    expect(rows('daily.db', 'SELECT count(*) AS n FROM accounts')).toEqual([{ n: 2 }]);
    const state = JSON.parse((await runSync(['state', 'show', 'salesforce', '--target', `sqlite:${join(tmp.dir, 'daily.db')}`], { cwd: tmp.dir })).stdout) as {
      bookmarks: Record<string, { replication_key_value?: string }>;
    };
    expect(Object.keys(state.bookmarks).sort()).toEqual(['accounts', 'contacts']);

    // The calls of the last 24 hours aged out: the next run reads contacts from their bookmark.
    model.apiLimit = 15_000;
    model.queries.length = 0;
    const next = await run('daily.db');
    expect(next.code, next.stderr).toBe(0);
    expect(model.queries).toContain(`SELECT ${CONTACT_FIELDS} FROM Contact WHERE SystemModstamp >= 2026-01-10T00:00:05Z ORDER BY SystemModstamp`);
    expect(rows('daily.db', 'SELECT count(*) AS n FROM leads')).toEqual([{ n: 1 }]);
    expect(rows('daily.db', 'SELECT count(*) AS n FROM opportunities')).toEqual([{ n: 1 }]);
  });

  it('too many long-running requests in the org is retried with backoff, and the run completes', async () => {
    // The first two calls (describe calls, sent together) find the org's long-running requests at their limit.
    model.busyForCalls = 2;
    const busy = await runSync(['run', 'salesforce', '--config', configFile(), '--target', `sqlite:${join(tmp.dir, 'busy.db')}`, '--debug'], { cwd: tmp.dir });
    expect(busy.code, busy.stderr).toBe(0);
    expect(model.limitRefusals).toEqual(['ConcurrentPerOrgLongTxn Limit exceeded.', 'ConcurrentPerOrgLongTxn Limit exceeded.']);
    expect(busy.stderr).toMatch(/retrying GET \/services\/data\/v62\.0\/sobjects\/\w+\/describe in \d+ ms after 403 Forbidden: too many long-running requests at once in the org \(attempt 2 of 5\)/);
    expect(rows('busy.db', 'SELECT count(*) AS n FROM contacts')).toEqual([{ n: 3 }]);
    expect(rows('busy.db', 'SELECT count(*) AS n FROM accounts')).toEqual([{ n: 2 }]);
    expectNoSecret(busy.stderr);
  });

  it('warns when the org has used more than 80% of its daily API calls', async () => {
    const quiet = await run('quiet.db');
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/API usage/);
    model.apiUsed = 12_100;
    const busy = await run('busy.db');
    expect(busy.code, busy.stderr).toBe(0);
    const warnings = busy.stderr.split('\n').filter((l) => l.includes('API usage'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Salesforce API usage is past 80%: 121\d\d of the org's 15000 calls in the last 24 hours/);
  });
});

describe('sync listen salesforce', () => {
  async function listen(db: string) {
    return startListen(['salesforce', '--config', configFile(), '--journal', join(tmp.dir, `${db}.inbox`), '--target', `sqlite:${join(tmp.dir, db)}`], { cwd: tmp.dir });
  }
  const post = async (url: string, body: string, token = TOKEN): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${url}/webhooks/salesforce?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', 'user-agent': 'Jakarta Commons-HttpClient/3.1' },
      body,
    });
    return { status: response.status, text: await response.text() };
  };
  const deadLetters = async (db: string): Promise<string> =>
    (await runSync(['inbox', 'list', '--journal', join(tmp.dir, `${db}.inbox`), '--status', 'dead', '--format', 'json'], { cwd: tmp.dir })).stdout;

  const contactRow = (db: string, id: string) => withoutRunMark(rows(db, `SELECT * FROM contacts WHERE Id = '${id}'`)[0]);

  it('answers a stored message with the Ack, refuses a wrong token, and keeps the token out of the inbox', async () => {
    const listener = await listen('ack.db');
    try {
      const message = model.outboundMessage('Contact', [ann['Id'] as string], ['Email', 'SystemModstamp']);
      expect((await post(listener.url, message, 'wrong-token')).status).toBe(401);
      const stored = await post(listener.url, message);
      expect(stored.status).toBe(200);
      expect(stored.text).toContain('<Ack>true</Ack>');
      await until(() => contactRow('ack.db', ann['Id'] as string)?.['Email'] === 'ann@example.com');
      const inbox = await runSync(['inbox', 'list', '--journal', join(tmp.dir, 'ack.db.inbox'), '--format', 'json'], { cwd: tmp.dir });
      expect(inbox.stdout).not.toContain(TOKEN);
    } finally {
      listener.child.kill('SIGTERM');
      const done = await listener.done;
      expect(done.stderr).not.toContain(TOKEN);
      expectNoSecret(done.stderr);
    }
  }, 60_000);

  it('a message from another org is a dead letter saying so; one without SystemModstamp too', async () => {
    const listener = await listen('org.db');
    try {
      const other = '00D5g000009ZzZzEAK';
      expect((await post(listener.url, model.outboundMessage('Contact', [ann['Id'] as string], ['Email', 'SystemModstamp'], other))).status).toBe(200);
      expect((await post(listener.url, model.outboundMessage('Contact', [ann['Id'] as string], ['Email']))).status).toBe(200);
      await until(async () => {
        const dead = await deadLetters('org.db');
        return dead.includes(`the message is from organization \\"${other}\\", not ${model.orgId.slice(0, 15)}`) && dead.includes('without SystemModstamp');
      });
      // Nothing of either message reached the target.
      expect(existsSync(join(tmp.dir, 'org.db')) && rows('org.db', `SELECT name FROM sqlite_master WHERE name = 'contacts'`).length > 0 ? contactRow('org.db', ann['Id'] as string) : undefined).toBeUndefined();
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
  }, 60_000);

  it('takes up to 100 notifications in one message', async () => {
    expect((await run('many.db')).code).toBe(0);
    const ids = Array.from({ length: 100 }, (_, i) => model.insert('Contact', { FirstName: `N${i}`, LastName: 'Many', HasOptedOutOfEmail: false })['Id'] as string);
    const listener = await listen('many.db');
    try {
      const result = await post(listener.url, model.outboundMessage('Contact', ids, ['FirstName', 'LastName', 'Name', 'SystemModstamp']));
      expect(result.status).toBe(200);
      await until(() => rows('many.db', `SELECT count(*) AS n FROM contacts WHERE LastName = 'Many'`)[0]?.['n'] === 100);
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
  }, 60_000);

  it('gives each record the row sync run gives it, field by field; a partial message the fields it carries', async () => {
    // Both databases start from the same history.
    expect((await run('batch.db')).code).toBe(0);
    expect((await run('hooks.db')).code).toBe(0);
    const all = model.table('Contact').fields.filter((f) => f.type !== 'address').map((f) => f.name);
    model.update('Contact', ann['Id'] as string, { Email: 'ann@acme.example', Score__c: 9.25, HasOptedOutOfEmail: true, MailingCity: 'Paris' });
    const eve = model.insert('Contact', { AccountId: acme['Id'] as string, FirstName: 'Eve', LastName: 'Oak', Birthdate: '1985-12-24', Score__c: 3, HasOptedOutOfEmail: false });
    const cy = model.table('Contact').records[2] as SObject;
    model.update('Contact', cy['Id'] as string, { Phone: '+33 1 11 11 11 11' });
    const listener = await listen('hooks.db');
    try {
      // A workflow rule selecting every field; another selecting a few (the row keeps the rest).
      expect((await post(listener.url, model.outboundMessage('Contact', [ann['Id'] as string, eve['Id'] as string], all))).status).toBe(200);
      expect((await post(listener.url, model.outboundMessage('Contact', [cy['Id'] as string], ['Phone', 'SystemModstamp']))).status).toBe(200);
      expect((await run('batch.db')).code).toBe(0);
      await until(() => contactRow('hooks.db', cy['Id'] as string)?.['Phone'] === '+33 1 11 11 11 11' && contactRow('hooks.db', eve['Id'] as string) !== undefined);
      for (const id of [ann['Id'], eve['Id']] as string[]) {
        expect(contactRow('hooks.db', id), `contact ${id} from the outbound message`).toEqual(contactRow('batch.db', id));
      }
      expect(contactRow('hooks.db', ann['Id'] as string)).toMatchObject({ Email: 'ann@acme.example', Score__c: 9.25, HasOptedOutOfEmail: 1, SystemModstamp: '2026-01-10T00:00:08.000Z' });
      // The partial message: the fields it carries are the batch's, the row keeps the others
      // (LastModifiedDate, not selected, is still the one of the history)…
      const partial = contactRow('hooks.db', cy['Id'] as string) as Record<string, unknown>;
      const batch = contactRow('batch.db', cy['Id'] as string) as Record<string, unknown>;
      expect({ Phone: partial['Phone'], SystemModstamp: partial['SystemModstamp'], Name: partial['Name'] }).toEqual({ Phone: batch['Phone'], SystemModstamp: batch['SystemModstamp'], Name: batch['Name'] });
      expect([partial['LastModifiedDate'], batch['LastModifiedDate']]).toEqual(['2026-01-10T00:00:05.000Z', '2026-01-10T00:00:10.000Z']);
      // …until the next run, whose copy has the same version and fills the whole row.
      expect((await run('hooks.db')).code).toBe(0);
      expect(contactRow('hooks.db', cy['Id'] as string)).toEqual(batch);
    } finally {
      listener.child.kill('SIGTERM');
      await listener.done;
    }
  }, 90_000);
});

describe('salesforce settings', () => {
  it('a malformed API version, org id or object name is a usage error naming each, from where it came', async () => {
    const result = await run('settings.db', { api_version: '62', organization_id: '00Dshort', objects: ['Contact', 'Drop Table'] });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/api_version: an API version such as "62.0" \(got "62"\)/);
    expect(result.stderr).toMatch(/organization_id: an org id starts with 00D/);
    expect(result.stderr).toMatch(/objects\[1\]: an sObject API name/);
    expect(model.login.seen).toHaveLength(0);
  });

  it('--about --config lists one stream per object without asking Salesforce anything', async () => {
    const objects = { objects: ['Contact', 'Invoice__c'] };
    const about = await runSync(['run', 'salesforce', '--config', configFile(objects), '--about', '--format', 'json'], { cwd: tmp.dir });
    expect(about.code, about.stderr).toBe(0);
    const listed = JSON.parse(about.stdout) as { streams: Array<{ name: string; key_properties: string[]; replication_key: string; deletions: string }> };
    expect(listed.streams.map((s) => [s.name, s.key_properties, s.replication_key])).toEqual([
      ['contacts', ['Id'], 'SystemModstamp'],
      ['invoice__c', ['Id'], 'SystemModstamp'],
    ]);
    expect(listed.streams[0]?.deletions).toBe('records whose IsDeleted is true are marked deleted (_sdc_deleted_at)');
    expect(model.login.seen).toEqual([]);
    expect(model.instance.seen).toEqual([]);
    expect(about.stdout).not.toContain(REFRESH);
    // Without a config it says where the streams come from.
    const bare = await runSync(['run', 'salesforce', '--about'], { cwd: tmp.dir });
    expect(bare.stdout).toContain('built from its config: sync run salesforce --config FILE --about lists them');
  });

  it('names streams snake_case and plural, custom objects by their API name', async () => {
    const ok = await runSync(['run', 'salesforce', '--config', configFile({ objects: ['Opportunity', 'OpportunityLineItem', 'Invoice__c'] }), '--discover'], { cwd: tmp.dir });
    expect(ok.code, ok.stderr).toBe(0);
    const catalog = JSON.parse(ok.stdout) as { streams: Array<{ stream: string; key_properties: string[]; replication_key?: string }> };
    expect(catalog.streams.map((s) => [s.stream, s.key_properties])).toEqual([
      ['opportunities', ['Id']],
      ['opportunity_line_items', ['Id']],
      ['invoice__c', ['Id']],
    ]);
  });
});
