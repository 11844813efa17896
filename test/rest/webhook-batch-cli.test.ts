import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { sendJson, startServer } from '../http/server.js';
import { journalRows, post, rows } from '../listen/helpers.js';

/**
 * `webhooks.batch_path` and `fields` through the real binary: HubSpot posts an array of
 * events in one request, signed with its v3 scheme; each event becomes a contact record built
 * from `objectId` and `occurredAt`, in the rows `sync run` filled. A batch with one unusable
 * event writes nothing at all.
 */

const tmp = tempDir('sync-webhook-batch-');
afterAll(tmp.cleanup);
const SECRET = 'hubspot-app-secret-5772';

const CONTACT_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: ['string', 'null'] },
    firstname: { type: ['string', 'null'] },
    updatedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

const description = (baseUrl: string): JsonObject => ({
  base_url: baseUrl,
  streams: [{ name: 'contacts', path: '/crm/v3/objects/contacts', records_path: 'results', primary_key: 'id', replication_key: 'updatedAt', schema: CONTACT_SCHEMA }],
  webhooks: {
    scheme: { kind: 'hubspot-v3' },
    batch_path: '.',
    event_path: 'subscriptionType',
    time_path: 'occurredAt',
    events: {
      'contact.creation': { stream: 'contacts', fields: { id: 'objectId', updatedAt: 'occurredAt' }, required: ['id'] },
      'contact.propertyChange': { stream: 'contacts', fields: { id: 'objectId', updatedAt: 'occurredAt' }, required: ['id'] },
      'contact.deletion': { stream: 'contacts', fields: { id: 'objectId' }, required: ['id'], deleted: true },
    },
  },
});

const MAY_1 = Date.UTC(2026, 4, 1, 10, 0, 0);

function event(subscriptionType: string, objectId: number | undefined, occurredAt: number, eventId: number): JsonObject {
  return {
    eventId,
    subscriptionId: 2400,
    portalId: 62515,
    appId: 1160452,
    occurredAt,
    subscriptionType,
    attemptNumber: 0,
    ...(objectId === undefined ? {} : { objectId }),
    changeSource: 'CRM',
    ...(subscriptionType === 'contact.propertyChange' ? { propertyName: 'firstname', propertyValue: 'Ann' } : {}),
  };
}

describe('sync listen rest with batch_path', () => {
  it('writes every event of a HubSpot batch as its own record, or none of them', async () => {
    const api = await startServer((req, res) => {
      if (req.url?.startsWith('/crm/v3/objects/contacts')) {
        return sendJson(res, 200, {
          results: [
            { id: '101', email: 'ann@example.com', firstname: 'Anne', updatedAt: '2026-04-01T00:00:00Z' },
            { id: '103', email: 'cy@example.com', firstname: 'Cy', updatedAt: '2026-04-01T00:00:00Z' },
          ],
        });
      }
      return sendJson(res, 404, { error: req.url });
    });
    try {
      const config = join(tmp.dir, 'hubspot.json');
      writeFileSync(config, JSON.stringify(description(api.url)));
      const batch = await runSync(['run', 'rest', '--config', config], { cwd: tmp.dir });
      expect(batch.code, batch.stderr).toBe(0);

      const { child, url, done } = await startListen(['rest', '--config', config], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: SECRET } });
      // HubSpot signs method, the URL it called, body and timestamp; without scheme.url the
      // listener rebuilds that URL as https and the Host header, as behind a TLS proxy.
      const called = `https://${new URL(url).host}/webhooks/rest`;
      const send = async (events: JsonObject[], secret = SECRET) => {
        const body = JSON.stringify(events);
        const timestamp = String(Date.now());
        const signature = createHmac('sha256', secret).update(`POST${called}${body}${timestamp}`).digest('base64');
        const reply = await post(`${url}/webhooks/rest`, body, {
          'content-type': 'application/json',
          'x-hubspot-signature-v3': signature,
          'x-hubspot-request-timestamp': timestamp,
        });
        return reply.status;
      };

      const good = [
        event('contact.propertyChange', 101, MAY_1, 1),
        event('contact.creation', 102, MAY_1 + 1_000, 2),
        event('contact.deletion', 103, MAY_1 + 2_000, 3),
        event('contact.privacyDeletion', 104, MAY_1 + 3_000, 4),
      ];
      const oneBad = [event('contact.creation', 105, MAY_1, 5), event('contact.creation', undefined, MAY_1, 6)];
      expect(await send(good)).toBe(200);
      expect(await send(oneBad)).toBe(200);
      expect(await send([event('contact.creation', 106, MAY_1, 7)], 'not-the-secret')).toBe(401);
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);

      const contacts = rows(join(tmp.dir, 'sync.db'), 'contacts').map(({ id, email, firstname, updatedAt, _sdc_deleted_at }) => ({ id, email, firstname, updatedAt, _sdc_deleted_at }));
      expect(contacts).toEqual([
        // A record built from fields updates those columns only: the email stays.
        { id: '101', email: 'ann@example.com', firstname: 'Anne', updatedAt: '2026-05-01T10:00:00.000Z', _sdc_deleted_at: null },
        { id: '102', email: null, firstname: null, updatedAt: '2026-05-01T10:00:01.000Z', _sdc_deleted_at: null },
        { id: '103', email: 'cy@example.com', firstname: 'Cy', updatedAt: '2026-05-01T10:00:02.000Z', _sdc_deleted_at: '2026-05-01T10:00:02.000Z' },
      ]);
      const journal = journalRows(join(tmp.dir, 'sync-inbox.db'));
      expect(journal.map((r) => [r.status, r.error])).toEqual([
        ['done', null],
        ['dead', expect.stringContaining('batch element 1: event contact.creation: required "id" is missing (nothing at "objectId")')],
      ]);
    } finally {
      await api.close();
    }
  });
});
