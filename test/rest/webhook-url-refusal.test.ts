import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveRestWebhooks } from '../../connectors/rest/index.js';
import type { WebhookRequest, WebhookSpec } from '../../src/connector/contract.js';
import { verify } from '../../src/listen/verify/index.js';
import type { JsonObject } from '../../src/protocol/json.js';

/**
 * Schemes that sign the URL (HubSpot v3, an hmac template with {url}) refuse every delivery
 * when the listener rebuilds another URL than the sender called (https assumed, while the
 * listener is reached over plain HTTP). The refusal then says so, naming the URL it checked
 * and `scheme.url`, never the secret or the signature.
 */

const SECRET = 'hubspot-client-secret-8675309';
const CALLED = 'http://127.0.0.1:8080/webhooks/rest';

const spec = (scheme: JsonObject): WebhookSpec => {
  const found = resolveRestWebhooks({
    base_url: 'https://api.hubapi.com',
    streams: [{ name: 'contacts', path: '/crm/v3/objects/contacts', primary_key: 'id' }],
    webhooks: { scheme, event_path: '0.subscriptionType', events: { 'contact.propertyChange': { stream: 'contacts' } } },
  });
  if (found === undefined) throw new Error('no webhooks');
  return found;
};

/** Signed as HubSpot signs: base64 HMAC-SHA256 over method, the URL it called, body and timestamp (ms). */
function hubspotRequest(query = ''): { request: WebhookRequest; signature: string } {
  const body = JSON.stringify([{ subscriptionType: 'contact.propertyChange', objectId: 1 }]);
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', SECRET).update(`POST${CALLED}${query}${body}${timestamp}`).digest('base64');
  const request: WebhookRequest = {
    method: 'POST',
    url: `/webhooks/rest${query}`,
    headers: { host: ['127.0.0.1:8080'], 'x-hubspot-signature-v3': [signature], 'x-hubspot-request-timestamp': [timestamp] },
    body: Buffer.from(body),
  };
  return { request, signature };
}

describe('a refused delivery of a scheme that signs the URL', () => {
  it('says the signature is over the URL, names the URL checked and suggests scheme.url', () => {
    const hubspot = spec({ kind: 'hubspot-v3' });
    const { request, signature } = hubspotRequest('?portal=1');
    const result = verify(hubspot.scheme, request, [SECRET]);
    expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
    const detail = hubspot.refusalDetail?.(request, 'signature mismatch');
    expect(detail).toContain('the signature is over the URL');
    expect(detail).toContain('checked https://127.0.0.1:8080/webhooks/rest?…');
    expect(detail).toContain('set webhooks.scheme.url');
    expect(detail).not.toContain(SECRET);
    expect(detail).not.toContain(signature);
    expect(detail).not.toContain('portal=1');
    // Other refusals have nothing to add.
    expect(hubspot.refusalDetail?.(request, 'timestamp too old')).toBeUndefined();
  });

  it('passes once scheme.url names what the sender calls, and then names that URL when it still fails', () => {
    const hubspot = spec({ kind: 'hubspot-v3', url: 'http://127.0.0.1:8080' });
    const { request } = hubspotRequest();
    expect(verify(hubspot.scheme, request, [SECRET])).toMatchObject({ ok: true });
    expect(verify(hubspot.scheme, request, ['another-secret'])).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(hubspot.refusalDetail?.(request, 'signature mismatch')).toBe(`the signature is over the URL the sender called; checked ${CALLED} (from webhooks.scheme.url)`);
  });

  it('is given for an hmac template with {url}, and not for schemes that do not sign the URL', () => {
    const templated = spec({ kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex', signed_content: '{url}{body}' });
    const { request } = hubspotRequest();
    expect(templated.refusalDetail?.(request, 'signature mismatch')).toContain('checked https://127.0.0.1:8080/webhooks/rest (https and the Host header');
    expect(templated.refusalDetail?.({ ...request, headers: {} }, 'missing public url')).toContain('without a Host header');
    expect(spec({ kind: 'hmac', header: 'x-sig', algorithm: 'sha256', encoding: 'hex' }).refusalDetail).toBeUndefined();
    expect(spec({ kind: 'github' }).refusalDetail).toBeUndefined();
  });
});

describe('sync listen rest with a scheme that signs the URL', () => {
  it('logs why a delivery signed for another URL is refused, naming the URL checked', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { startListen, tempDir } = await import('../helpers/cli.js');
    const tmp = tempDir('sync-url-refusal-');
    try {
      const config = join(tmp.dir, 'api.json');
      writeFileSync(
        config,
        JSON.stringify({
          base_url: 'http://127.0.0.1:9',
          webhook_secret: SECRET,
          streams: [{ name: 'contacts', path: '/contacts', primary_key: 'id', schema: { properties: { id: { type: 'integer' } } } }],
          webhooks: { scheme: { kind: 'hubspot-v3' }, event_path: '0.subscriptionType', events: { 'contact.propertyChange': { stream: 'contacts' } } },
        }),
      );
      const listener = await startListen(['rest', '--config', config, '--journal', join(tmp.dir, 'inbox.db'), '--target', `sqlite:${join(tmp.dir, 'x.db')}`], { cwd: tmp.dir });
      // Signed for the URL the sender believes it calls, over plain HTTP.
      const body = JSON.stringify([{ subscriptionType: 'contact.propertyChange', objectId: 1 }]);
      const timestamp = String(Date.now());
      const signature = createHmac('sha256', SECRET).update(`POST${listener.url}/webhooks/rest${body}${timestamp}`).digest('base64');
      const response = await fetch(`${listener.url}/webhooks/rest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp },
        body,
      });
      await response.arrayBuffer();
      expect(response.status).toBe(401);
      listener.child.kill('SIGTERM');
      const result = await listener.done;
      expect(result.stderr).toMatch(/status=401.*the signature is over the URL the sender called; checked https:\/\/127\.0\.0\.1:\d+\/webhooks\/rest .*set webhooks\.scheme\.url/);
      expect(result.stderr).not.toContain(SECRET);
      expect(result.stderr).not.toContain(signature);
    } finally {
      tmp.cleanup();
    }
  }, 30_000);
});
