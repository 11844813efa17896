import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parseXml, findAll, XmlError } from '../../connectors/rest/xml.js';
import { startListen, tempDir } from '../helpers/cli.js';

/** Salesforce Outbound Messages (SOAP) through `sync listen rest`, and the XML reader under them. */

const tmp = tempDir('sync-salesforce-');
afterAll(tmp.cleanup);
const TOKEN = 'sf-shared-token-2718';

const message = (notifications: string) => `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000001EAA</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   ${notifications}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;

const opportunity = (id: string, name: string, amount: string, closed: string, modified: string) => `
   <Notification>
    <Id>04l00000000000${id.slice(-1)}AAA</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>${id}</sf:Id>
     <sf:Amount>${amount}</sf:Amount>
     <sf:IsClosed>${closed}</sf:IsClosed>
     <sf:LastModifiedDate>${modified}</sf:LastModifiedDate>
     <sf:Name>${name}</sf:Name>
     <sf:NextStep xsi:nil="true"/>
     <sf:Account><sf:Name>nested, not a column</sf:Name></sf:Account>
    </sObject>
   </Notification>`;

describe('the XML reader', () => {
  it('reads elements, attributes, entities, CDATA and nil', () => {
    const root = parseXml('<?xml version="1.0"?><a x="1 &amp; 2"><b>&lt;tag&gt; &#233;&#x1F600;</b><c><![CDATA[<raw & text>]]></c><d xsi:nil="true"/></a>');
    const a = findAll(root, 'a')[0];
    expect(a?.attributes).toEqual({ x: '1 & 2' });
    expect(a?.children.map((e) => [e.name, e.text])).toEqual([['b', '<tag> é😀'], ['c', '<raw & text>'], ['d', '']]);
  });

  it.each([
    ['<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>', /DOCTYPE and other declarations are not accepted/],
    ['<a>&x;</a>', /unknown entity &x;/],
    ['<a><b></a>', /unexpected closing tag <\/a>/],
    ['<a>', /unterminated element <a>/],
    ['<a x="1></a>', /unterminated tag/],
    ['<a>&#x110000;</a>', /invalid character reference/],
    ['<1a/>', /malformed tag/],
    ['<a>'.repeat(100), /nesting deeper than 64/],
  ])('refuses %j', (text, problem) => {
    expect(() => parseXml(text)).toThrow(XmlError);
    expect(() => parseXml(text)).toThrow(problem);
  });
});

describe('sync listen rest with Salesforce Outbound Messages', () => {
  it('answers the SOAP Ack once stored, maps each sObject into its stream, typed by the schema', async () => {
    const config = join(tmp.dir, 'sf.json');
    writeFileSync(
      config,
      JSON.stringify({
        base_url: 'https://example.my.salesforce.com',
        streams: [
          {
            name: 'opportunities',
            path: '/services/data/v60.0/query',
            primary_key: 'Id',
            replication_key: 'LastModifiedDate',
            schema: {
              type: 'object',
              properties: {
                Id: { type: 'string' },
                Name: { type: ['null', 'string'] },
                Amount: { type: ['null', 'number'] },
                IsClosed: { type: ['null', 'boolean'] },
                NextStep: { type: ['null', 'string'] },
                LastModifiedDate: { type: 'string', format: 'date-time' },
              },
            },
          },
        ],
        webhooks: { format: 'salesforce_outbound', scheme: { kind: 'token', query_param: 'token' }, events: { Opportunity: { stream: 'opportunities' } } },
      }),
    );
    const { child, url, done } = await startListen(['rest', '--config', config], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: TOKEN } });
    const send = async (body: string, token = TOKEN) => {
      const r = await fetch(`${url}/webhooks/rest?token=${token}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    };
    const body = message(
      opportunity('0065g00000AAAA1', 'Big deal &amp; more', '1234567890.123456789012345678901234567890', 'false', '2026-02-01T10:00:00.000Z') +
        opportunity('0065g00000AAAA2', 'Small deal', '250', 'true', '2026-02-02T10:00:00.000Z'),
    );
    const acked = await send(body);
    expect(acked.status).toBe(200);
    expect(acked.type).toBe('text/xml; charset=utf-8');
    expect(acked.text).toContain('<Ack>true</Ack>');
    expect((await send(body, 'wrong-token')).status).toBe(401);
    expect((await send('<!DOCTYPE x [<!ENTITY a "b">]><x/>')).status).toBe(200); // stored, then a dead letter
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const db = new Database(join(tmp.dir, 'sync.db'), { readonly: true });
    const rows = db.prepare('SELECT Id, Name, CAST(Amount AS TEXT) AS Amount, IsClosed, NextStep, LastModifiedDate FROM opportunities ORDER BY Id').all();
    db.close();
    expect(rows).toEqual([
      { Id: '0065g00000AAAA1', Name: 'Big deal & more', Amount: '1234567890.123456789012345678901234567890', IsClosed: 0, NextStep: null, LastModifiedDate: '2026-02-01T10:00:00.000Z' },
      { Id: '0065g00000AAAA2', Name: 'Small deal', Amount: '250', IsClosed: 1, NextStep: null, LastModifiedDate: '2026-02-02T10:00:00.000Z' },
    ]);
    expect(result.stderr).toMatch(/dead/);
    expect(result.stderr).not.toContain(TOKEN);
  });
});
