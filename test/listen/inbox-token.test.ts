import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/listen/journal.js';
import { withoutCredentials } from '../../src/listen/verify/index.js';
import { runSync, startListen, tempDir } from '../helpers/cli.js';

/**
 * A webhook endpoint's token (the `token` scheme: in the URL Salesforce is given, or in a
 * header) is checked on receipt and never kept: not in the journal's bytes, not in what
 * `sync inbox` prints. Replaying a delivery still works, since a replay maps the stored body
 * and verifies nothing again.
 */

const tmp = tempDir('sync-inbox-token-');
afterAll(tmp.cleanup);
const TOKEN = 'sf-endpoint-token-31415926';

const outboundMessage = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000001EAA</OrganizationId>
   <Notification>
    <Id>04l000000000001AAA</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065g00000AAAA1</sf:Id>
     <sf:Name>Big deal</sf:Name>
     <sf:LastModifiedDate>2026-02-01T10:00:00.000Z</sf:LastModifiedDate>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;

const opportunities = {
  name: 'opportunities',
  path: '/services/data/v60.0/query',
  primary_key: 'Id',
  replication_key: 'LastModifiedDate',
  schema: {
    type: 'object',
    properties: { Id: { type: 'string' }, Name: { type: ['null', 'string'] }, LastModifiedDate: { type: 'string', format: 'date-time' } },
  },
};

/** Every byte the journal left on disk: the database and any WAL or shared-memory file beside it. */
function journalBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('sync-inbox.db')).map((f) => readFileSync(join(dir, f))));
}

function opportunitiesIn(db: string): unknown[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare('SELECT Id, Name FROM opportunities').all();
  } finally {
    d.close();
  }
}

describe('the token of an endpoint URL is not kept (the README Salesforce recipe)', () => {
  it('sync inbox list/show print no token, the journal holds none, and replay still maps the delivery', async () => {
    const dir = join(tmp.dir, 'salesforce');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const config = join(dir, 'sf.json');
    writeFileSync(
      config,
      JSON.stringify({
        base_url: 'https://example.my.salesforce.com',
        streams: [opportunities],
        webhooks: { format: 'salesforce_outbound', scheme: { kind: 'token', query_param: 'token' }, events: { Opportunity: { stream: 'opportunities' } } },
      }),
    );
    const env = { SYNC_REST_WEBHOOK_SECRET: TOKEN };
    const { child, url, done } = await startListen(['rest', '--config', config], { cwd: dir, env });
    const acked = await fetch(`${url}/webhooks/rest?org=acme&token=${TOKEN}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: outboundMessage });
    expect([acked.status, await acked.text()]).toEqual([200, expect.stringContaining('<Ack>true</Ack>')]);
    child.kill('SIGTERM');
    const listened = await done;
    expect(listened.code, listened.stderr).toBe(0);
    expect(opportunitiesIn(join(dir, 'sync.db'))).toEqual([{ Id: '0065g00000AAAA1', Name: 'Big deal' }]);

    expect(journalBytes(dir).includes(TOKEN)).toBe(false);
    const list = await runSync(['inbox', 'list', '--format', 'json'], { cwd: dir });
    expect(list.code, list.stderr).toBe(0);
    const entries = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(entries).toHaveLength(1);
    const id = entries[0]?.id ?? '';
    for (const format of ['text', 'json']) {
      const shown = await runSync(['inbox', 'show', '--id', id, '--format', format], { cwd: dir });
      expect(shown.code, shown.stderr).toBe(0);
      // The URL is still there, with its other parameters, only the token is gone.
      expect(shown.stdout).toMatch(/\/webhooks\/rest\?org=acme&token=/);
      expect(shown.stdout).toContain('Big deal');
      expect(shown.stdout + shown.stderr).not.toContain(TOKEN);
    }
    expect(list.stdout + list.stderr).not.toContain(TOKEN);

    const replayed = await runSync(['inbox', 'replay', '--config', config, '--target', 'sqlite:copy.db'], { cwd: dir, env });
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(opportunitiesIn(join(dir, 'copy.db'))).toEqual([{ Id: '0065g00000AAAA1', Name: 'Big deal' }]);
    expect(journalBytes(dir).includes(TOKEN)).toBe(false);
  });

  it('a token in a header or in a parameter of any name is not kept either', async () => {
    const dir = join(tmp.dir, 'header');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const config = join(dir, 'api.json');
    writeFileSync(
      config,
      JSON.stringify({
        base_url: 'http://127.0.0.1:9',
        streams: [opportunities],
        webhooks: {
          scheme: { kind: 'token', header: 'x-hook-key', query_param: 'k' },
          event_path: 'type',
          events: { 'opportunity.updated': { stream: 'opportunities', object_path: 'data' } },
          delivery_id: { path: 'id' },
        },
      }),
    );
    const { child, url, done } = await startListen(['rest', '--config', config], { cwd: dir, env: { SYNC_REST_WEBHOOK_SECRET: TOKEN } });
    const body = (id: string, name: string) =>
      JSON.stringify({ id, type: 'opportunity.updated', data: { Id: `0065g00000AAAA${id.slice(-1)}`, Name: name, LastModifiedDate: '2026-02-01T10:00:00.000Z' } });
    const byHeader = await fetch(`${url}/webhooks/rest`, { method: 'POST', headers: { 'x-hook-key': TOKEN }, body: body('evt_1', 'by header') });
    const byQuery = await fetch(`${url}/webhooks/rest?k=${TOKEN}`, { method: 'POST', body: body('evt_2', 'by query') });
    expect([byHeader.status, byQuery.status]).toEqual([200, 200]);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
    expect(journalBytes(dir).includes(TOKEN)).toBe(false);
    const shown = await runSync(['inbox', 'show', '--id', 'evt_2', '--format', 'json'], { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { url: string }).url).toBe('/webhooks/rest?k=REDACTED');
    expect(opportunitiesIn(join(dir, 'sync.db'))).toHaveLength(2);
  });
});

describe('sync inbox show on a journal written before tokens were stripped on receipt', () => {
  it('does not print a token kept in a secret-named parameter', async () => {
    const dir = join(tmp.dir, 'old-journal');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const journal = new Journal(join(dir, 'sync-inbox.db'));
    journal.append([
      {
        connector: 'rest',
        deliveryId: 'old-1',
        receivedAt: '2026-01-01T00:00:00Z',
        event: null,
        method: 'POST',
        url: `/webhooks/rest?org=acme&token=${TOKEN}&access_token=${TOKEN}`,
        headers: {},
        body: Buffer.from('<x/>'),
      },
    ]);
    journal.close();
    for (const format of ['text', 'json']) {
      const shown = await runSync(['inbox', 'show', '--id', 'old-1', '--format', format], { cwd: dir });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('/webhooks/rest?org=acme&token=(redacted)&access_token=(redacted)');
      expect(shown.stdout).not.toContain(TOKEN);
    }
  });
});

describe('withoutCredentials', () => {
  it('replaces only the credential, leaving the rest of the URL byte for byte', () => {
    const headers = { authorization: ['Basic dXNlcjpwYXNz'], 'x-other': ['a', 'b'] };
    expect(withoutCredentials({ kind: 'token', queryParam: 'token' }, '/w?a=%2F+x&token=abc&tok%65n=def&b', headers)).toEqual({
      url: '/w?a=%2F+x&token=REDACTED&tok%65n=REDACTED&b',
      headers,
    });
    expect(withoutCredentials({ kind: 'basic' }, '/w?token=abc', headers)).toEqual({
      url: '/w?token=abc',
      headers: { authorization: ['REDACTED'], 'x-other': ['a', 'b'] },
    });
    expect(withoutCredentials({ kind: 'token' }, '/w', headers).headers['authorization']).toEqual(['REDACTED']);
    expect(withoutCredentials({ kind: 'github' }, '/w', { 'x-hub-signature-256': ['sha256=00'] }).headers).toEqual({ 'x-hub-signature-256': ['sha256=00'] });
  });
});
