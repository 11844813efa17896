import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, startServer, type TestServer } from '../http/server.js';

/**
 * Mailchimp's Marketing API 3.0 and its webhooks, modelled from the vendor's documentation
 * (not from what the connector sends):
 * - HTTP Basic: any user name, the API key as password; a wrong key is a 401 problem document
 *   (`application/problem+json`: type, title, status, detail, instance).
 * - `GET /lists` and `GET /lists/{list_id}/members`: `count` (default 10, at most 1000) and
 *   `offset`; `fields` keeps only the named fields (`members.id,members.status,total_items`).
 * - Members: `since_last_changed` keeps members changed *after* the time; `sort_field`
 *   (`last_changed`, `timestamp_opt`) and `sort_dir` (ASC, DESC); `status` filters, and
 *   archived members are listed only when `status=archived` asks for them.
 * - A member's id is the MD5 of its lower-cased address; `last_changed` reads
 *   `2026-01-10T00:00:01+00:00`.
 * - Throttling: past 10 simultaneous connections the API answers 429 (modelled by `throttle`).
 * - Webhooks: form-encoded POSTs (`type`, `fired_at` as `YYYY-MM-DD HH:MM:SS` UTC, `data[...]`),
 *   built here for each change the model makes: `subscribe` and `profile` (the member's
 *   fields and merges), `unsubscribe` (the same with `data[action]` `unsub`, or `delete` when
 *   the member was deleted, i.e. archived, `data[reason]`, `data[campaign_id]`), `cleaned`
 *   (only `data[list_id]`, `data[campaign_id]`, `data[reason]` `hard` or `abuse`,
 *   `data[email]`), `upemail` (`data[new_id]`, `data[new_email]`, `data[old_email]`) and
 *   `campaign` (a campaign's sending: `data[id]`, `data[subject]`, `data[status]`,
 *   `data[reason]`, `data[list_id]`; nothing about members).
 */

export interface Member {
  id: string;
  email_address: string;
  unique_email_id: string;
  web_id: number;
  email_type: string;
  status: 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'archived';
  merge_fields: Record<string, string>;
  ip_signup: string;
  ip_opt: string;
  timestamp_opt: string;
  last_changed: string;
  member_rating: number;
  stats: { avg_open_rate: number; avg_click_rate: number };
  list_id: string;
}

export interface List {
  id: string;
  web_id: number;
  name: string;
  date_created: string;
  list_rating: number;
  email_type_option: boolean;
  visibility: string;
  double_optin: boolean;
  contact: Record<string, string>;
  campaign_defaults: Record<string, string>;
  stats: Record<string, number>;
}

export class MailchimpModel {
  server!: TestServer;
  readonly lists: List[] = [];
  readonly members = new Map<string, Member[]>();
  /** Requests answered 429 before the next ones are served. */
  throttle = 0;
  /** Every member listing's query, in order. */
  readonly memberQueries: URLSearchParams[] = [];
  private seconds = 0;
  private nextWebId = 1000;

  constructor(readonly apiKey: string) {}

  async start(): Promise<this> {
    this.server = await startServer((req, res) => this.handle(req.method ?? 'GET', req.url ?? '/', req.headers.authorization, res));
    return this;
  }

  get url(): string {
    return `${this.server.url}/3.0`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** The model's clock: each change is one second after the one before. */
  tick(): { api: string; webhook: string } {
    const t = new Date(Date.UTC(2026, 0, 10) + ++this.seconds * 1000).toISOString();
    return { api: `${t.slice(0, 19)}+00:00`, webhook: `${t.slice(0, 10)} ${t.slice(11, 19)}` };
  }

  addList(id: string, name: string): List {
    const list: List = {
      id,
      web_id: this.nextWebId++,
      name,
      date_created: '2025-06-01T10:00:00+00:00',
      list_rating: 3,
      email_type_option: false,
      visibility: 'pub',
      double_optin: false,
      contact: { company: 'Acme', country: 'US' },
      campaign_defaults: { from_name: 'Acme', from_email: 'news@acme.test' },
      stats: { member_count: 0 },
    };
    this.lists.push(list);
    this.members.set(id, []);
    return list;
  }

  /** A new subscriber; returns the webhook body Mailchimp sends for it. */
  subscribe(listId: string, email: string, merges: Record<string, string>): string {
    const at = this.tick();
    const member: Member = {
      id: hash(email),
      email_address: email,
      unique_email_id: hash(`u:${email}`).slice(0, 10),
      web_id: this.nextWebId++,
      email_type: 'html',
      status: 'subscribed',
      merge_fields: merges,
      ip_signup: '203.0.113.7',
      ip_opt: '203.0.113.7',
      timestamp_opt: at.api,
      last_changed: at.api,
      member_rating: 2,
      stats: { avg_open_rate: 0, avg_click_rate: 0 },
      list_id: listId,
    };
    this.listMembers(listId).push(member);
    return form({ type: 'subscribe', fired_at: at.webhook, data: this.payload(member) });
  }

  profile(listId: string, email: string, merges: Record<string, string>): string {
    const member = this.find(listId, email);
    const at = this.tick();
    member.merge_fields = { ...member.merge_fields, ...merges };
    member.last_changed = at.api;
    const { ip_opt: _opt, ...data } = this.payload(member);
    return form({ type: 'profile', fired_at: at.webhook, data });
  }

  unsubscribe(listId: string, email: string, action: 'unsub' | 'delete' = 'unsub'): string {
    const member = this.find(listId, email);
    const at = this.tick();
    member.status = action === 'delete' ? 'archived' : 'unsubscribed';
    member.last_changed = at.api;
    return form({ type: 'unsubscribe', fired_at: at.webhook, data: { action, reason: 'manual', ...this.payload(member), campaign_id: 'cb398d21d2' } });
  }

  /** The address bounced hard, or its owner reported abuse: Mailchimp cleans the member. */
  clean(listId: string, email: string, reason: 'hard' | 'abuse' = 'hard'): string {
    const member = this.find(listId, email);
    const at = this.tick();
    member.status = 'cleaned';
    member.last_changed = at.api;
    return form({ type: 'cleaned', fired_at: at.webhook, data: { list_id: listId, campaign_id: '4fjk2ma9xd', reason, email } });
  }

  /** A campaign to the audience was sent: an event about the campaign, none about members. */
  sendCampaign(listId: string, id: string, subject: string): string {
    const at = this.tick();
    return form({ type: 'campaign', fired_at: at.webhook, data: { id, subject, status: 'sent', reason: '', list_id: listId } });
  }

  archive(listId: string, email: string): void {
    const member = this.find(listId, email);
    member.status = 'archived';
    member.last_changed = this.tick().api;
  }

  changeEmail(listId: string, oldEmail: string, newEmail: string): string {
    const member = this.find(listId, oldEmail);
    const at = this.tick();
    member.email_address = newEmail;
    member.id = hash(newEmail);
    member.last_changed = at.api;
    return form({ type: 'upemail', fired_at: at.webhook, data: { list_id: listId, new_id: member.unique_email_id, new_email: newEmail, old_email: oldEmail } });
  }

  find(listId: string, email: string): Member {
    const member = this.listMembers(listId).find((m) => m.email_address === email);
    if (!member) throw new Error(`no member ${email} in ${listId}`);
    return member;
  }

  private listMembers(listId: string): Member[] {
    const list = this.members.get(listId);
    if (!list) throw new Error(`no list ${listId}`);
    return list;
  }

  /** The data[...] fields of a member's subscribe/profile/unsubscribe event. */
  private payload(m: Member): Record<string, unknown> {
    return {
      id: m.unique_email_id,
      email: m.email_address,
      email_type: m.email_type,
      ip_opt: m.ip_opt,
      ip_signup: m.ip_signup,
      web_id: String(m.web_id),
      list_id: m.list_id,
      merges: { EMAIL: m.email_address, ...m.merge_fields, INTERESTS: '' },
    };
  }

  private handle(method: string, rawUrl: string, authorization: string | undefined, res: ServerResponse): void {
    const url = new URL(rawUrl, 'http://model');
    const problem = (status: number, title: string, detail: string) =>
      sendJson(res, status, { type: `https://mailchimp.com/developer/marketing/docs/errors/`, title, status, detail, instance: 'e4c1-model' }, { 'content-type': 'application/problem+json' });
    const password = authorization?.startsWith('Basic ') ? Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
    if (password !== this.apiKey) return problem(401, 'API Key Invalid', `Your API key may be invalid, or you've attempted to access the wrong datacenter.`);
    if (this.throttle > 0) {
      this.throttle--;
      return problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.');
    }
    if (method !== 'GET') return problem(405, 'Method Not Allowed', 'The requested method and resource are not compatible.');
    const count = Number(url.searchParams.get('count') ?? '10');
    const offset = Number(url.searchParams.get('offset') ?? '0');
    if (!(count >= 0 && count <= 1000)) return problem(400, 'Invalid Resource', 'count: must be 1000 or less');
    const fields = url.searchParams.get('fields')?.split(',');
    if (url.pathname === '/3.0/lists') {
      const page = this.lists.slice(offset, offset + count);
      return sendJson(res, 200, pick({ lists: page, total_items: this.lists.length, _links: [] }, fields));
    }
    const m = /^\/3\.0\/lists\/([^/]+)\/members$/.exec(url.pathname);
    if (!m) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
    const all = this.members.get(decodeURIComponent(m[1] as string));
    if (!all) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
    this.memberQueries.push(url.searchParams);
    const status = url.searchParams.get('status');
    const since = url.searchParams.get('since_last_changed');
    let rows = all.filter((x) => (status ? x.status === status : x.status !== 'archived'));
    if (since) rows = rows.filter((x) => Date.parse(x.last_changed) > Date.parse(since));
    const sortField = url.searchParams.get('sort_field');
    if (sortField === 'last_changed' || sortField === 'timestamp_opt') {
      const dir = url.searchParams.get('sort_dir') === 'DESC' ? -1 : 1;
      rows = [...rows].sort((a, b) => dir * (Date.parse(a[sortField]) - Date.parse(b[sortField])));
    }
    return sendJson(res, 200, pick({ members: rows.slice(offset, offset + count), list_id: m[1], total_items: rows.length, _links: [] }, fields));
  }
}

export function hash(email: string): string {
  return createHash('md5').update(email.toLowerCase()).digest('hex');
}

/** `fields=members.id,total_items`: keeps only those, as the API does. */
function pick(body: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  if (!fields) return body;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const inner = fields.filter((f) => f.startsWith(`${key}.`)).map((f) => f.slice(key.length + 1));
    if (fields.includes(key)) out[key] = value;
    else if (inner.length && Array.isArray(value)) out[key] = value.map((item: Record<string, unknown>) => Object.fromEntries(inner.filter((f) => f in item).map((f) => [f, item[f]])));
  }
  return out;
}

/** A form body the way Mailchimp writes one: nested objects as `data[merges][FNAME]`. */
export function form(value: Record<string, unknown>, prefix = ''): string {
  const parts: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}[${key}]` : key;
    if (v !== null && typeof v === 'object') parts.push(form(v as Record<string, unknown>, name));
    else parts.push(`${encodeURIComponent(name).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(String(v)).replace(/%20/g, '+')}`);
  }
  return parts.filter((p) => p !== '').join('&');
}
