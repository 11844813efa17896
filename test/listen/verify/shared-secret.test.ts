import { describe, expect, it } from 'vitest';
import type { Scheme } from '../../../src/listen/verify/index.js';
import { check, refused, request } from './helpers.js';

const TOKEN = 'tok_5up3r-s3cret';

describe('token', () => {
  it('defaults to Authorization: Bearer <token>', () => {
    const scheme: Scheme = { kind: 'token' };
    const run = (headers: Record<string, string | string[]>) => refused(check(scheme, request(headers), [TOKEN]));
    expect(run({ authorization: `Bearer ${TOKEN}` })).toBe('accepted');
    expect(run({ authorization: `bearer ${TOKEN}` })).toBe('accepted');
    expect(run({ authorization: `Bearer ${TOKEN}x` })).toBe('credentials mismatch');
    expect(run({ authorization: `Bearer ${TOKEN.slice(0, -1)}` })).toBe('credentials mismatch');
    expect(run({ authorization: TOKEN })).toBe('malformed credentials');
    expect(run({ authorization: 'Bearer ' })).toBe('malformed credentials');
    expect(run({ authorization: `Basic ${TOKEN}` })).toBe('malformed credentials');
    expect(run({})).toBe('missing credentials');
    expect(run({ authorization: [`Bearer ${TOKEN}`, 'Bearer x'] })).toBe('duplicate credentials');
  });

  it('reads a named header, compared whole', () => {
    const scheme: Scheme = { kind: 'token', header: 'X-Webhook-Token' };
    const run = (headers: Record<string, string | string[]>, secrets = [TOKEN]) => refused(check(scheme, request(headers), secrets));
    expect(run({ 'x-webhook-token': TOKEN })).toBe('accepted');
    expect(run({ 'x-webhook-token': `${TOKEN} ` })).toBe('credentials mismatch');
    expect(run({ 'x-webhook-token': 'short' })).toBe('credentials mismatch');
    expect(run({ 'x-webhook-token': 'x'.repeat(1_000_000) })).toBe('credentials mismatch');
    expect(run({ 'x-webhook-token': '' })).toBe('malformed credentials');
    expect(run({ 'x-webhook-token': [TOKEN, TOKEN] })).toBe('duplicate credentials');
    expect(run({ authorization: `Bearer ${TOKEN}` })).toBe('missing credentials');
    expect(run({ 'x-webhook-token': TOKEN }, ['old', TOKEN])).toBe('accepted');
    // An empty secret must never let an empty or absent token in.
    expect(run({ 'x-webhook-token': TOKEN }, [''])).toBe('no usable secret');
    expect(run({ 'x-webhook-token': TOKEN }, [])).toBe('no usable secret');
  });

  it('reads a query parameter, refuses it repeated', () => {
    const scheme: Scheme = { kind: 'token', queryParam: 'token' };
    const at = (url: string) => refused(check(scheme, request({}, undefined, { url }), [TOKEN]));
    expect(at(`/hooks/zapier?token=${TOKEN}`)).toBe('accepted');
    expect(at(`/hooks/zapier?a=1&token=${encodeURIComponent(TOKEN)}&b=2`)).toBe('accepted');
    expect(at('/hooks/zapier?token=nope')).toBe('credentials mismatch');
    expect(at(`/hooks/zapier?token=${TOKEN}&token=${TOKEN}`)).toBe('duplicate credentials');
    expect(at('/hooks/zapier?token=')).toBe('malformed credentials');
    expect(at('/hooks/zapier')).toBe('missing credentials');
    expect(at(`/hooks/zapier?other=${TOKEN}`)).toBe('missing credentials');
  });

  it('takes the header first when both places are configured', () => {
    const scheme: Scheme = { kind: 'token', header: 'x-token', queryParam: 'token' };
    const run = (headers: Record<string, string>, url: string) => refused(check(scheme, request(headers, undefined, { url }), [TOKEN]));
    expect(run({ 'x-token': TOKEN }, '/h')).toBe('accepted');
    expect(run({}, `/h?token=${TOKEN}`)).toBe('accepted');
    expect(run({ 'x-token': 'wrong' }, `/h?token=${TOKEN}`)).toBe('credentials mismatch');
  });
});

describe('basic', () => {
  const scheme: Scheme = { kind: 'basic' };
  const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  const run = (headers: Record<string, string | string[]>, secrets = ['user:pässword']) => refused(check(scheme, request(headers), secrets));

  it('accepts the right username:password, any of several during a rotation, and refuses any other', () => {
    expect(run({ authorization: basic('user:pässword') })).toBe('accepted');
    expect(run({ authorization: basic('user:pässword').replace('Basic', 'basic') })).toBe('accepted');
    expect(run({ authorization: basic('user:password') })).toBe('credentials mismatch');
    expect(run({ authorization: basic('usr:pässword') })).toBe('credentials mismatch');
    expect(run({ authorization: basic('user:pässword') }, ['old:one', 'user:pässword'])).toBe('accepted');
    expect(run({ authorization: basic(':') }, [''])).toBe('no usable secret');
  });

  it('refuses missing, repeated and malformed Authorization headers', () => {
    expect(run({})).toBe('missing credentials');
    expect(run({ authorization: [basic('user:pässword'), basic('a:b')] })).toBe('duplicate credentials');
    for (const value of ['', 'Basic', 'Basic ', `Bearer ${Buffer.from('user:pässword').toString('base64')}`, 'Basic !!!!',
      `Basic ${Buffer.from('no colon').toString('base64')}`, 'Basic dXNlcjpw YXNz', `Basic ${'A'.repeat(1_000_001)}`]) {
      expect([value.slice(0, 40), run({ authorization: value })]).toEqual([value.slice(0, 40), 'malformed credentials']);
    }
  });
});
