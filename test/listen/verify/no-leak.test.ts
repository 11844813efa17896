import { Webhooks } from '@octokit/webhooks';
import { Signature } from '@hubspot/api-client';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { verify } from '../../../src/listen/verify/index.js';
import type { Scheme, VerifyResult, WebhookHeaders } from '../../../src/listen/verify/index.js';
import { BODY, NOW_MS, NOW_S, flipOneByte, hmacOf, request, slackSignature } from './helpers.js';

// Distinctive secrets, so that any echo of them (or of a piece of them) is found.
const SECRET = 'whsec_Q0FOQVJZLWNhbmFyeS1jYW5hcnktY2FuYXJ5';
const BASIC = 'canary-user:canary-password-7f3a';
const URL_PATH = '/hooks/x';

interface Delivery {
  scheme: Scheme;
  headers: Record<string, string>;
  /** The header whose value is a signature or a credential. */
  signatureHeader: string;
  url?: string;
}

async function deliveries(): Promise<Delivery[]> {
  const body = BODY.toString('utf8');
  const generic: Scheme = {
    kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'base64',
    signedContent: '{id}.{timestamp}.{body}', timestampHeader: 'x-ts', idHeader: 'x-id',
  };
  const genericContent = Buffer.concat([Buffer.from(`g1.${NOW_S}.`), BODY]);
  return [
    {
      scheme: { kind: 'standard-webhooks' },
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW_S), 'webhook-signature': new Webhook(SECRET).sign('msg_1', new Date(NOW_MS), body) },
      signatureHeader: 'webhook-signature',
    },
    {
      scheme: { kind: 'stripe' },
      headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: NOW_S }) },
      signatureHeader: 'stripe-signature',
    },
    {
      scheme: { kind: 'github' },
      headers: { 'x-hub-signature-256': await new Webhooks({ secret: SECRET }).sign(body), 'x-github-delivery': 'd1' },
      signatureHeader: 'x-hub-signature-256',
    },
    {
      scheme: { kind: 'shopify' },
      headers: { 'x-shopify-hmac-sha256': getHmac(body, SECRET), 'x-shopify-webhook-id': 'w1' },
      signatureHeader: 'x-shopify-hmac-sha256',
    },
    {
      scheme: { kind: 'slack' },
      headers: { 'x-slack-signature': slackSignature(SECRET, NOW_S, BODY), 'x-slack-request-timestamp': String(NOW_S) },
      signatureHeader: 'x-slack-signature',
    },
    {
      scheme: { kind: 'hubspot-v3', url: 'https://example.com' },
      headers: {
        'x-hubspot-signature-v3': Signature.getSignature('POST', 'v3', { signature: '', clientSecret: SECRET, requestBody: body, url: `https://example.com${URL_PATH}`, timestamp: NOW_MS }),
        'x-hubspot-request-timestamp': String(NOW_MS),
      },
      signatureHeader: 'x-hubspot-signature-v3',
    },
    {
      scheme: generic,
      headers: { 'x-sig': hmacOf('sha256', SECRET, genericContent, 'base64'), 'x-ts': String(NOW_S), 'x-id': 'g1' },
      signatureHeader: 'x-sig',
    },
    { scheme: { kind: 'token', header: 'x-token' }, headers: { 'x-token': SECRET }, signatureHeader: 'x-token' },
    { scheme: { kind: 'token', queryParam: 'token' }, headers: {}, signatureHeader: '', url: `${URL_PATH}?token=${SECRET}` },
    { scheme: { kind: 'basic' }, headers: { authorization: `Basic ${Buffer.from(BASIC).toString('base64')}` }, signatureHeader: 'authorization' },
  ];
}

/** Every way we know to make a delivery fail. */
function failures(d: Delivery): Array<{ headers: WebhookHeaders; body: Buffer; secrets: string[]; now: number; url: string }> {
  const sig = d.signatureHeader === '' ? '' : (d.headers[d.signatureHeader] ?? '');
  const secret = d.scheme.kind === 'basic' ? BASIC : SECRET;
  const url = d.url ?? URL_PATH;
  const base = { headers: d.headers as WebhookHeaders, body: BODY, secrets: [secret], now: NOW_MS, url };
  const withSig = (value: string | string[] | undefined): WebhookHeaders =>
    d.signatureHeader === '' ? d.headers : { ...d.headers, [d.signatureHeader]: value };
  const cases = [
    { ...base, body: flipOneByte(BODY) },
    { ...base, secrets: ['wrong'] },
    { ...base, secrets: [`${secret} `] },
    { ...base, secrets: [secret.slice(0, -1)] },
    { ...base, secrets: [] },
    { ...base, secrets: [''] },
    { ...base, now: NOW_MS + 3_600_000 },
    { ...base, now: NOW_MS - 3_600_000 },
    { ...base, headers: withSig([sig, sig]) },
    { ...base, headers: withSig(`${sig}, ${sig}`) },
    { ...base, headers: withSig(undefined) },
    { ...base, headers: withSig('') },
    { ...base, headers: withSig(`${sig}x`) },
    { ...base, headers: withSig(sig.slice(1)) },
    { ...base, headers: withSig(sig.toUpperCase()) },
    { ...base, headers: withSig(`${sig} ${'A'.repeat(100_000)}`) },
    { ...base, headers: {} },
    { ...base, url: `${url}&token=${SECRET}` },
    { ...base, url: '/elsewhere' },
  ];
  return cases;
}

function leaks(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => s.length >= 8 && text.includes(s));
}

describe('results never carry secrets or signatures', () => {
  it('scans every failure of every scheme', async () => {
    const texts: string[] = [];
    const forbidden: string[] = [SECRET, SECRET.slice('whsec_'.length), BASIC, Buffer.from(BASIC).toString('base64')];
    for (const d of await deliveries()) {
      const sig = d.signatureHeader === '' ? '' : (d.headers[d.signatureHeader] ?? '');
      forbidden.push(sig);
      // Any run of 12 characters of a digest would be a leak too.
      for (const digest of sig.match(/[0-9a-fA-F]{64}|[A-Za-z0-9+/]{40,}={0,2}/g) ?? []) forbidden.push(digest.slice(0, 12), digest.slice(-12));
      for (const f of failures(d)) {
        let result: VerifyResult | undefined;
        try {
          result = verify(d.scheme, request(f.headers, f.body, { url: f.url }), f.secrets, { now: f.now });
        } catch (error) {
          texts.push(String(error), (error as Error).stack ?? '');
        }
        expect(result).toBeDefined();
        texts.push(JSON.stringify(result));
      }
    }
    expect(texts.length).toBeGreaterThan(100);
    const failuresSeen = texts.filter((t) => t.includes('"ok":false')).length;
    expect(failuresSeen).toBeGreaterThan(100);
    for (const text of texts) expect(leaks(text, forbidden)).toEqual([]);
  });

  it('turns an unexpected error into a bare reason, without its message', () => {
    const hostile = new Proxy<Record<string, string>>({}, {
      getOwnPropertyDescriptor() {
        throw new Error(`boom ${SECRET}`);
      },
      get() {
        throw new Error(`boom ${SECRET}`);
      },
    });
    for (const scheme of [{ kind: 'github' }, { kind: 'stripe' }, { kind: 'basic' }, { kind: 'token' }] as const) {
      const result = verify(scheme, request(hostile), [SECRET], { now: NOW_MS });
      expect(result).toEqual({ ok: false, reason: 'verification error' });
    }
    // A body that is already a string has been re-encoded: refused, not re-encoded again.
    const text = { ...request({}), body: BODY.toString('utf8') as unknown as Uint8Array };
    expect(verify({ kind: 'github' }, text, [SECRET])).toEqual({ ok: false, reason: 'verification error' });
    expect(verify(null as unknown as Scheme, request({}), [SECRET])).toEqual({ ok: false, reason: 'verification error' });
  });
});
