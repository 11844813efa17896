import { describe, expect, it } from 'vitest';
import type { Scheme } from '../../../src/listen/verify/index.js';
import { BODY, NOW_MS, NOW_S, check, request, slackSignature, timestampedCases } from './helpers.js';

// Slack publishes no signer; @slack/bolt (its verifier) is not among our devDependencies, so
// deliveries are signed by our own helper and pinned by Slack's documented example.
const scheme: Scheme = { kind: 'slack' };
const SECRET = 'slack_test';
const OTHER = 'slack_other';

function signed(body: Buffer, seconds: number, secret = SECRET): Record<string, string> {
  return { 'x-slack-signature': slackSignature(secret, seconds, body), 'x-slack-request-timestamp': String(seconds) };
}

const HEX = 'ab'.repeat(32);

describe('slack', () => {
  it("verifies Slack's documented example (docs: verifying requests from Slack)", () => {
    const body = Buffer.from(
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    );
    const headers = {
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'x-slack-request-timestamp': '1531420618',
    };
    expect(check(scheme, request(headers, body), ['8f742231b10e8888abcd99yyyzzz85a5'], 1531420618_000)).toEqual({
      ok: true,
      timestamp: 1531420618_000,
    });
  });

  it('verifies the vector accepted by @slack/bolt', () => {
    const headers = {
      'x-slack-signature': 'v0=d3d08ae289daf549b305f15d1fb9dad9947618417a9666383cabd85a971db63e',
      'x-slack-request-timestamp': String(NOW_S),
    };
    expect(slackSignature(SECRET, NOW_S, BODY)).toBe(headers['x-slack-signature']);
    expect(check(scheme, request(headers), [SECRET])).toEqual({ ok: true, timestamp: NOW_MS });
  });

  timestampedCases({
    scheme,
    secret: SECRET,
    otherSecret: OTHER,
    unit: 'seconds',
    sign: async (body, seconds, secret) => signed(body, seconds, secret),
    signatureHeader: 'x-slack-signature',
    timestampHeader: 'x-slack-request-timestamp',
    malformed: [
      ['garbage', 'malformed signature header'],
      ['', 'malformed signature header'],
      [HEX, 'malformed signature header'],
      [`v1=${HEX}`, 'malformed signature header'],
      [`V0=${HEX}`, 'malformed signature header'],
      [`v0=${HEX.slice(1)}`, 'malformed signature header'],
      [`v0=${HEX}a`, 'malformed signature header'],
      [`v0=${HEX.slice(2)}`, 'malformed signature header'],
      [`v0=${'zz'.repeat(32)}`, 'malformed signature header'],
      [`v0=${Buffer.alloc(32).toString('base64')}`, 'malformed signature header'],
      [`v0=${HEX}`, 'signature mismatch'],
    ],
  });
});
