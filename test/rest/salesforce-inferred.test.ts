import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startListen, tempDir } from '../helpers/cli.js';
import { sendJson, startServer } from '../http/server.js';
import { journalRows, rows } from '../listen/helpers.js';

/**
 * Salesforce Outbound Messages for a stream without a `schema` in the description: the
 * listener infers one from the API at start, and the sObject's text values are typed by that
 * same schema, the one each record is checked against.
 */

const tmp = tempDir('sync-salesforce-inferred-');
afterAll(tmp.cleanup);
const TOKEN = 'sf-inferred-token-1618';

const message = (id: string, amount: string, deleted: string, modified: string) => `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000001EAA</OrganizationId>
   <Notification>
    <Id>04l000000000001AAA</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>${id}</sf:Id>
     <sf:Amount>${amount}</sf:Amount>
     <sf:IsDeleted>${deleted}</sf:IsDeleted>
     <sf:LastModifiedDate>${modified}</sf:LastModifiedDate>
     <sf:Name>Deal ${id}</sf:Name>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;

describe('sync listen rest, salesforce_outbound, no schema in the description', () => {
  it('types each field by the inferred schema, so messages are written instead of becoming dead letters', async () => {
    const api = await startServer((req, res) => {
      if (!req.url?.startsWith('/services/data/v60.0/query')) return sendJson(res, 404, { error: req.url });
      sendJson(res, 200, {
        done: true,
        records: [{ Id: '0065g00000AAAA0', Name: 'Old deal', Amount: 99.5, IsDeleted: false, LastModifiedDate: '2026-01-01T00:00:00.000Z' }],
      });
    });
    try {
      const config = join(tmp.dir, 'sf.json');
      writeFileSync(
        config,
        JSON.stringify({
          base_url: api.url,
          streams: [{ name: 'opportunities', path: '/services/data/v60.0/query', params: { q: 'SELECT Id FROM Opportunity' }, records_path: 'records', primary_key: 'Id', replication_key: 'LastModifiedDate' }],
          webhooks: { format: 'salesforce_outbound', scheme: { kind: 'token', query_param: 'token' }, events: { Opportunity: { stream: 'opportunities' } } },
        }),
      );
      const { child, url, done } = await startListen(['rest', '--config', config], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: TOKEN } });
      const r = await fetch(`${url}/webhooks/rest?token=${TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: message('0065g00000AAAA1', '250.75', 'false', '2026-02-01T10:00:00.000Z'),
      });
      expect([r.status, await r.text()]).toEqual([200, expect.stringContaining('<Ack>true</Ack>')]);
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expect(journalRows(join(tmp.dir, 'sync-inbox.db')).map((d) => [d.status, d.error])).toEqual([['done', null]]);
      expect(rows(join(tmp.dir, 'sync.db'), 'opportunities').map(({ Id, Amount, IsDeleted, Name }) => ({ Id, Amount, IsDeleted, Name }))).toEqual([
        { Id: '0065g00000AAAA1', Amount: 250.75, IsDeleted: 0, Name: 'Deal 0065g00000AAAA1' },
      ]);
    } finally {
      await api.close();
    }
  });
});
