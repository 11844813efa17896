import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { runSync, startListen, tempDir } from '../helpers/cli.js';
import { sendJson, startServer } from '../http/server.js';
import { journalRows, post, rows } from '../listen/helpers.js';

/**
 * `webhooks.format: "form"` through the real binary: Mailchimp-style form bodies (`type`,
 * `fired_at`, `data[...]`), authenticated by a token in the URL since Mailchimp signs nothing,
 * mapped onto the members stream with `fields`, into the rows `sync run` filled.
 */

const tmp = tempDir('sync-webhook-form-');
afterAll(tmp.cleanup);
const TOKEN = 'form-hook-token-1618';
const LIST = 'a6b5da1054';

const MEMBER_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email_address: { type: 'string' },
    list_id: { type: 'string' },
    status: { type: ['string', 'null'] },
    member_rating: { type: ['integer', 'null'] },
    merge_fields: { type: ['object', 'null'] },
    last_changed: { type: ['string', 'null'], format: 'date-time' },
  },
};

const description = (baseUrl: string): JsonObject => ({
  base_url: baseUrl,
  streams: [{ name: 'members', path: `/lists/${LIST}/members`, records_path: 'members', primary_key: 'id', replication_key: 'last_changed', schema: MEMBER_SCHEMA }],
  webhooks: {
    scheme: { kind: 'token', query_param: 'key' },
    format: 'form',
    event_path: 'type',
    time_path: 'fired_at',
    handshakes: ['get_check'],
    events: {
      subscribe: {
        stream: 'members',
        fields: { id: 'data.id', email_address: 'data.email', list_id: 'data.list_id', merge_fields: 'data.merges', member_rating: 'data.member_rating' },
        required: ['id', 'email_address'],
      },
      profile: { stream: 'members', fields: { id: 'data.id', email_address: 'data.email', merge_fields: 'data.merges' }, required: ['id'] },
    },
  },
});

/** A form body as Mailchimp writes it: brackets percent-encoded, spaces as `+`. */
function form(type: string, firedAt: string, data: Record<string, string>): string {
  return new URLSearchParams([['type', type], ['fired_at', firedAt], ...Object.entries(data).map(([k, v]): [string, string] => [`data${k}`, v])]).toString();
}

describe('sync listen rest with format form', () => {
  it('reads Mailchimp form bodies into the members rows, keeps what the event does not carry, and dead-letters broken bodies', async () => {
    const api = await startServer((req, res) => {
      if (req.url?.startsWith(`/lists/${LIST}/members`)) {
        return sendJson(res, 200, {
          members: [
            {
              id: '8a25ff1d98',
              email_address: 'old@example.com',
              list_id: LIST,
              status: 'subscribed',
              member_rating: 2,
              merge_fields: { FNAME: 'Old' },
              last_changed: '2026-03-01T00:00:00+00:00',
            },
          ],
        });
      }
      return sendJson(res, 404, { error: req.url });
    });
    try {
      const config = join(tmp.dir, 'mailchimp.json');
      writeFileSync(config, JSON.stringify(description(api.url)));
      const batch = await runSync(['run', 'rest', '--config', config], { cwd: tmp.dir });
      expect(batch.code, batch.stderr).toBe(0);

      const { child, url, done } = await startListen(['rest', '--config', config], { cwd: tmp.dir, env: { SYNC_REST_WEBHOOK_SECRET: TOKEN } });
      const send = async (body: string, token = TOKEN) =>
        (await post(`${url}/webhooks/rest?key=${encodeURIComponent(token)}`, body, { 'content-type': 'application/x-www-form-urlencoded' })).status;

      const profile = form('profile', '2026-03-26 21:35:57', {
        '[id]': '8a25ff1d98',
        '[email]': 'new@example.com',
        '[list_id]': LIST,
        '[merges][FNAME]': 'Ann',
        '[merges][INTERESTS]': 'Group1, Group2',
      });
      const subscribe = form('subscribe', '2026-03-27 08:00:00', { '[id]': 'ffff000011', '[email]': 'b@example.com', '[list_id]': LIST, '[member_rating]': '4', '[merges][FNAME]': 'Bo' });
      // Mailchimp checks the URL with a GET before it saves the webhook.
      const check = await fetch(`${url}/webhooks/rest`);
      expect([check.status, await check.text()]).toEqual([200, 'ok\n']);
      expect(await send(profile)).toBe(200);
      expect(await send(profile, 'wrong-token')).toBe(401);
      expect(await send(`type=profile&data${'[x]'.repeat(40)}=1`)).toBe(200);
      expect(await send('type=profile&data[__proto__][polluted]=1')).toBe(200);
      expect(await send(form('subscribe', '2026-03-27 09:00:00', { '[email]': 'no-id@example.com' }))).toBe(200);
      expect(await send(form('campaign', '2026-03-27 10:00:00', { '[id]': 'c1', '[subject]': 'News' }))).toBe(200);
      expect(await send(subscribe)).toBe(200);
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain(TOKEN);

      const members = rows(join(tmp.dir, 'sync.db'), 'members', '').map(({ id, email_address, list_id, status, member_rating, merge_fields, last_changed }) => ({
        id,
        email_address,
        list_id,
        status,
        member_rating,
        merge_fields,
        last_changed,
      }));
      expect(members).toEqual([
        // The event knows no status or rating: the row keeps what `sync run` wrote.
        {
          id: '8a25ff1d98',
          email_address: 'new@example.com',
          list_id: LIST,
          status: 'subscribed',
          member_rating: 2,
          merge_fields: '{"FNAME":"Ann","INTERESTS":"Group1, Group2"}',
          last_changed: '2026-03-26 21:35:57',
        },
        { id: 'ffff000011', email_address: 'b@example.com', list_id: LIST, status: null, member_rating: 4, merge_fields: '{"FNAME":"Bo"}', last_changed: '2026-03-27 08:00:00' },
      ]);
      const journal = journalRows(join(tmp.dir, 'sync-inbox.db'));
      expect(journal.map((r) => [r.status, r.error])).toEqual([
        ['done', null],
        ['dead', expect.stringContaining('the form body: field 2: the name "data[x][x]')],
        ['dead', expect.stringContaining('the form body: field 2: the name "data[__proto__][polluted]" uses "__proto__", which is refused')],
        ['dead', expect.stringContaining('event subscribe: required "id" is missing (nothing at "data.id")')],
        ['done', null],
        ['done', null],
      ]);
      expect(journal[1]?.error).toContain('nests deeper than 32 levels');
    } finally {
      await api.close();
    }
  });
});
