import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SalesforceModel } from './model.js';
import { parseSoql } from './soql.js';

/**
 * The model refuses what Salesforce refuses, so a connector that sends it fails here too: a
 * quoted date-time, SOQL outside the grammar, an unknown field, a dead refresh token, an
 * expired session.
 */

let model: SalesforceModel;
let token: string;
beforeEach(async () => {
  model = await new SalesforceModel('cid', 'csecret').start();
  model.refreshTokens.add('rt-1');
  model.insert('Contact', { LastName: 'Lee', HasOptedOutOfEmail: false });
  const response = await fetch(`${model.login.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=refresh_token&client_id=cid&client_secret=csecret&refresh_token=rt-1',
  });
  token = ((await response.json()) as { access_token: string }).access_token;
});
afterEach(() => model.close());

async function query(q: string, bearer = token): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${model.instance.url}/services/data/v62.0/queryAll?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: response.status, body: await response.json() };
}

describe('the Salesforce model', () => {
  it('answers the documented SOQL, with a bare date-time literal', async () => {
    const ok = await query('SELECT Id, LastName FROM Contact WHERE SystemModstamp >= 2026-01-10T00:00:01Z ORDER BY SystemModstamp');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ totalSize: 1, done: true, records: [{ attributes: { type: 'Contact' }, LastName: 'Lee' }] });
    expect((await query('SELECT Id FROM Contact WHERE SystemModstamp >= 2026-01-10T00:00:02.000+00:00')).body).toMatchObject({ totalSize: 0 });
  });

  it('refuses a quoted date-time, malformed SOQL and unknown names as the API does', async () => {
    expect(await query("SELECT Id FROM Contact WHERE SystemModstamp >= '2026-01-10T00:00:01Z'")).toEqual({
      status: 400,
      body: [{ message: "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes", errorCode: 'INVALID_FIELD' }],
    });
    expect((await query('SELECT Id FROM Contact WHERE SystemModstamp >= 2026-01-10T00:00:01+0000')).body).toMatchObject([{ errorCode: 'MALFORMED_QUERY' }]);
    expect((await query('SELECT Id Contact')).body).toMatchObject([{ errorCode: 'MALFORMED_QUERY' }]);
    expect((await query('SELECT Id, Nope FROM Contact')).body).toMatchObject([{ errorCode: 'INVALID_FIELD' }]);
    expect((await query('SELECT Id FROM Nope__c')).body).toMatchObject([{ errorCode: 'INVALID_TYPE' }]);
    expect(() => parseSoql('SELECT Id FROM Contact LIMIT x')).toThrow(/unexpected token/);
  });

  it('refuses past the daily request limit, and while long-running requests are at their limit, with 403 REQUEST_LIMIT_EXCEEDED', async () => {
    model.busyForCalls = 1;
    expect(await query('SELECT Id FROM Contact')).toEqual({ status: 403, body: [{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    expect((await query('SELECT Id FROM Contact')).status).toBe(200);
    model.apiLimit = model.apiUsed;
    expect(await query('SELECT Id FROM Contact')).toEqual({ status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    // Refused calls are not counted.
    expect(model.apiUsed).toBe(model.apiLimit);
  });

  it('refuses a dead refresh token and an expired session', async () => {
    const response = await fetch(`${model.login.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&client_id=cid&client_secret=csecret&refresh_token=rt-dead',
    });
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } });
    model.expireSessions();
    expect(await query('SELECT Id FROM Contact')).toEqual({ status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] });
  });
});
