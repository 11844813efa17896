/**
 * Real deliveries through a local node:http server (port 0), written byte by byte on a socket:
 * checks what node:http really hands the verifier (joined or discarded repeated headers,
 * latin1 header text, a body split inside a character) and that the Shopify SDK's own
 * validator agrees with us on the same requests.
 */
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../../src/listen/verify/index.js';
import type { Scheme, VerifyResult, WebhookRequest } from '../../../src/listen/verify/index.js';
import { BODY, INSIDE_EMOJI, hmacOf } from './helpers.js';

interface Received {
  merged: WebhookRequest;
  distinct: WebhookRequest;
  extra: unknown;
}

let server: Server;
let port = 0;
let inspect: ((req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<unknown>) | undefined;
let pending: ((r: Received) => void) | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const line = { method: req.method ?? '', url: req.url ?? '', body };
      void (inspect?.(req, res, body) ?? Promise.resolve(undefined)).then((extra) => {
        pending?.({ merged: { ...line, headers: req.headers }, distinct: { ...line, headers: req.headersDistinct }, extra });
        res.statusCode = 204;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Writes a raw HTTP/1.1 request; the body goes out in pieces cut at `cuts`. */
async function deliver(headers: ReadonlyArray<readonly [string, string | Buffer]>, body: Buffer, cuts: number[] = []): Promise<Received> {
  const received = new Promise<Received>((resolve) => {
    pending = resolve;
  });
  const head = Buffer.concat([
    Buffer.from('POST /hooks/test HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'),
    ...headers.map(([name, value]) => Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n')])),
    Buffer.from(`Content-Length: ${body.length}\r\n\r\n`),
  ]);
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(head);
  let from = 0;
  for (const cut of [...cuts, body.length]) {
    socket.write(body.subarray(from, cut));
    from = cut;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  socket.on('data', () => undefined);
  const result = await received;
  socket.destroy();
  return result;
}

const at = (now: number) => ({ now });

describe('through node:http', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const scheme: Scheme = { kind: 'standard-webhooks' };

  it('verifies a body that arrives in three writes split inside the emoji', async () => {
    const now = Date.now();
    const seconds = Math.floor(now / 1000);
    const signature = new Webhook(secret).sign('msg_1', new Date(now), BODY);
    const r = await deliver(
      [['webhook-id', 'msg_1'], ['webhook-timestamp', String(seconds)], ['webhook-signature', signature]],
      BODY,
      [10, INSIDE_EMOJI],
    );
    expect(Buffer.from(r.merged.body).equals(BODY)).toBe(true);
    expect(verify(scheme, r.merged, [secret], at(now))).toEqual({ ok: true, deliveryId: 'msg_1', timestamp: seconds * 1000 });
    expect(verify(scheme, r.distinct, [secret], at(now)).ok).toBe(true);
  });

  it('keeps the bytes of a non-ASCII id (node:http decodes header bytes as latin1)', async () => {
    const now = Date.now();
    const id = 'msg_é';
    const signature = new Webhook(secret).sign(id, new Date(now), BODY);
    const r = await deliver(
      [['webhook-id', Buffer.from(id, 'utf8')], ['webhook-timestamp', String(Math.floor(now / 1000))], ['webhook-signature', signature]],
      BODY,
    );
    expect(r.merged.headers['webhook-id']).not.toBe(id);
    expect(verify(scheme, r.merged, [secret], at(now)).ok).toBe(true);
  });

  it('refuses repeated signature headers, which node:http joins with ", "', async () => {
    const now = Date.now();
    const seconds = Math.floor(now / 1000);
    const good = new Webhook(secret).sign('msg_1', new Date(now), BODY);
    const other = new Webhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`).sign('msg_1', new Date(now), BODY);
    const r = await deliver(
      [['webhook-id', 'msg_1'], ['webhook-timestamp', String(seconds)], ['webhook-signature', other], ['webhook-signature', good]],
      BODY,
    );
    expect(r.merged.headers['webhook-signature']).toBe(`${other}, ${good}`);
    const refusal: VerifyResult = { ok: false, reason: 'duplicate signature header' };
    expect(verify(scheme, r.merged, [secret], at(now))).toEqual(refusal);
    expect(verify(scheme, r.distinct, [secret], at(now))).toEqual(refusal);

    const t = Math.floor(now / 1000);
    const stripeGood = Stripe.webhooks.generateTestHeaderString({ payload: BODY.toString(), secret: 'whsec_s', timestamp: t });
    const stripeOld = Stripe.webhooks.generateTestHeaderString({ payload: BODY.toString(), secret: 'whsec_s', timestamp: t - 3600 });
    const s = await deliver([['stripe-signature', stripeOld], ['stripe-signature', stripeGood]], BODY);
    expect(verify({ kind: 'stripe' }, s.merged, ['whsec_s'], at(now))).toEqual(refusal);
    expect(verify({ kind: 'stripe' }, s.distinct, ['whsec_s'], at(now))).toEqual(refusal);

    const gh = `sha256=${hmacOf('sha256', 'gh', BODY, 'hex')}`;
    const g = await deliver([['x-hub-signature-256', gh], ['x-hub-signature-256', gh]], BODY);
    expect(verify({ kind: 'github' }, g.merged, ['gh'], at(now))).toEqual(refusal);
  });

  it('sees a repeated Authorization header only through headersDistinct', async () => {
    const basic = (c: string) => `Basic ${Buffer.from(c).toString('base64')}`;
    const r = await deliver([['authorization', basic('user:pass')], ['authorization', basic('mallory:x')]], BODY);
    // node:http keeps the first Authorization and drops the rest from req.headers.
    expect(verify({ kind: 'basic' }, r.merged, ['user:pass']).ok).toBe(true);
    expect(verify({ kind: 'basic' }, r.distinct, ['user:pass'])).toEqual({ ok: false, reason: 'duplicate credentials' });
  });

  it('agrees with shopify.webhooks.validate on the same requests', async () => {
    const shopify = shopifyApi({
      apiKey: 'key',
      apiSecretKey: 'shpss_test',
      scopes: [],
      hostName: 'localhost',
      apiVersion: ApiVersion.January25,
      isEmbeddedApp: false,
      logger: { level: LogSeverity.Error, log: async () => undefined },
    });
    inspect = async (req, res, body) =>
      (await shopify.webhooks.validate({ rawBody: body.toString('utf8'), rawRequest: req, rawResponse: res })).valid;
    try {
      const headers = (hmac: string) =>
        [
          ['x-shopify-hmac-sha256', hmac],
          ['x-shopify-topic', 'orders/create'],
          ['x-shopify-shop-domain', 'example.myshopify.com'],
          ['x-shopify-api-version', '2025-01'],
          ['x-shopify-webhook-id', 'w-1'],
        ] as const;
      const good = await deliver(headers(getHmac(BODY.toString('utf8'), 'shpss_test')), BODY, [INSIDE_EMOJI]);
      expect(good.extra).toBe(true);
      expect(verify({ kind: 'shopify' }, good.merged, ['shpss_test'])).toEqual({ ok: true, deliveryId: 'w-1' });
      const forged = await deliver(headers(getHmac(BODY.toString('utf8'), 'shpss_other')), BODY);
      expect(forged.extra).toBe(false);
      expect(verify({ kind: 'shopify' }, forged.merged, ['shpss_test'])).toEqual({ ok: false, reason: 'signature mismatch' });
    } finally {
      inspect = undefined;
    }
  });
});
