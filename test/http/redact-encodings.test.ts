import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRecorder } from '../../src/http/cassette.js';
import { MIN_SECRET_LENGTH, REDACTED, scrubBytes, scrubSecrets } from '../../src/http/redact.js';
import { scrub } from '../../src/cli/io.js';
import { createLogger } from '../../src/log.js';

/** Every encoding a server plausibly echoes a secret in is scrubbed, and nothing else is touched. */

const SECRET = 's3cr3t/T0ken+x y"z\\é<&>';
const ASCII_SECRET = 'Ab3/def+ghi=jk';

const unicodeEscaped = (text: string, upper: boolean) =>
  text.replace(/[^A-Za-z0-9]/g, (c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${upper ? hex.toUpperCase() : hex}`;
  });
const phpJson = (text: string) => JSON.stringify(text).slice(1, -1).replace(/\//g, '\\/').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const forms: Array<[string, string]> = [
  ['as is', SECRET],
  ['JSON.stringify', JSON.stringify(SECRET).slice(1, -1)],
  ['PHP json_encode (\\/ and \\u escapes)', phpJson(SECRET)],
  ['every special character as \\uXXXX (Go, .NET)', unicodeEscaped(SECRET, false)],
  ['every special character as \\uXXXX, upper-case hex', unicodeEscaped(SECRET, true)],
  ['a JSON string quoting the JSON-escaped form', JSON.stringify(JSON.stringify(SECRET)).slice(1, -1)],
  ['a JSON string quoting the PHP form', JSON.stringify(phpJson(SECRET)).slice(1, -1)],
  ['three levels of JSON', JSON.stringify(JSON.stringify(JSON.stringify(SECRET))).slice(1, -1)],
  ['encodeURIComponent', encodeURIComponent(SECRET)],
  ['form encoding (+ for spaces)', encodeURIComponent(SECRET).replace(/%20/g, '+')],
  ['percent-encoding with lower-case hex', encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
  ['percent-encoded twice', encodeURIComponent(encodeURIComponent(SECRET))],
  ['HTML character references', SECRET.replace(/[^A-Za-z0-9]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`)],
  ['base64', base64(SECRET)],
  ['base64 without padding', base64(SECRET).replace(/=+$/, '')],
  ['base64url', Buffer.from(SECRET).toString('base64url')],
  ['base64 with PHP-escaped slashes', base64(SECRET).replace(/\//g, '\\/')],
  ['Basic base64(user:secret)', `Basic ${base64(`robot:${SECRET}`)}`],
  ['Basic base64(u:secret)', `Basic ${base64(`u:${SECRET}`)}`],
  ['Basic base64(us:secret)', `Basic ${base64(`us:${SECRET}`)}`],
  ['OAuth client Basic base64(id:encodeURIComponent(secret))', `Basic ${base64(`client-1:${encodeURIComponent(SECRET)}`)}`],
];

describe('scrubSecrets', () => {
  it.each(forms)('removes the secret written %s', (_what, form) => {
    const text = `{"error":"refused ${form}","n":1}`;
    const out = scrubSecrets(text, [SECRET]);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(form);
    // Inside longer base64 only a few boundary characters, mixed with the neighbours' bits, stay.
    expect(out.length).toBeLessThan(text.length - form.length / 2);
  });

  it('removes every occurrence, of several secrets, the longest first', () => {
    const text = `a ${SECRET} b ${ASCII_SECRET} c ${encodeURIComponent(SECRET)} d ${SECRET}x`;
    expect(scrubSecrets(text, [ASCII_SECRET, SECRET], '#')).toBe('a # b # c # d #x');
    expect(scrubSecrets('key=abcdefgh', ['abcd', 'abcdefgh'], '#')).toBe('key=#');
  });

  it('keeps a JSON log line valid JSON, its message scrubbed', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(scrub(l, [SECRET])) });
    log.warn(`server said: {"message":"Bearer ${phpJson(SECRET)}"}`, { echoed: SECRET, b64: base64(SECRET) });
    log.error(`path /items/${encodeURIComponent(SECRET)}/2`);
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, string>;
      expect(JSON.stringify(parsed)).not.toContain('s3cr3t');
      expect(line).toContain('********');
    }
    expect((JSON.parse(lines[0] ?? '') as { echoed: string }).echoed).toBe('********');
  });

  it('leaves text without the secret, and lookalikes, alone', () => {
    const text = `s3cr3t/T0ken and ${base64('another value entirely')} and %2F and \\u002f`;
    expect(scrubSecrets(text, [SECRET])).toBe(text);
  });

  it(`does not scrub secrets shorter than ${MIN_SECRET_LENGTH} characters: they would hit ordinary words`, () => {
    expect(scrubSecrets('the cat sat on the mat', ['at', 'the'])).toBe('the cat sat on the mat');
    expect(scrubSecrets('the cat sat', ['cat ', 'the'])).toBe(`the ${REDACTED}sat`);
  });

  it('scrubs bodies that are not UTF-8, byte for byte', () => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(`token=${ASCII_SECRET};${base64(SECRET)}`, 'latin1'), Buffer.from([0x80])]);
    const out = scrubBytes(body, [ASCII_SECRET, SECRET]);
    expect(out.includes(Buffer.from(ASCII_SECRET))).toBe(false);
    expect(out.includes(Buffer.from(base64(SECRET)))).toBe(false);
    expect(out.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xfe, 0x00]));
    expect(out.toString('latin1')).toContain(`token=${REDACTED};${REDACTED}`);
  });
});

describe('recordings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-redact-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keep no encoding of a secret, in text or binary bodies, nor a token used earlier in the run', () => {
    const recorder = createRecorder(dir);
    const exchange = (url: string, body: Buffer) => ({
      method: 'GET',
      url,
      requestHeaders: { authorization: 'Bearer x' },
      requestBody: undefined,
      status: 401,
      responseHeaders: { 'content-type': 'application/json', 'x-echo': phpJson(SECRET) },
      responseBody: body,
    });
    recorder.record(exchange('https://api.example.com/a', Buffer.from(`{"m":"${phpJson(SECRET)}","b":"${base64(SECRET)}"}`)), [SECRET]);
    recorder.record(exchange('https://api.example.com/b', Buffer.from([0xff, ...Buffer.from(`x ${ASCII_SECRET} y`)])), [ASCII_SECRET]);
    // The first secret is no longer current (a renewed token), but the page still echoes it.
    recorder.record(exchange(`https://api.example.com/c/${encodeURIComponent(SECRET)}`, Buffer.from(`{"old":"${base64(SECRET)}"}`)), [ASCII_SECRET]);
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(files).toHaveLength(3);
    const all = files.join('\n');
    const binary = files.map((f) => JSON.parse(f) as { response: { body: string; bodyEncoding: string } }).find((e) => e.response.bodyEncoding === 'base64');
    const decoded = Buffer.from(binary?.response.body ?? '', 'base64').toString('latin1');
    expect(decoded).toContain(`x ${REDACTED} y`);
    for (const [, form] of forms) expect(all).not.toContain(form);
    expect(all).not.toContain(ASCII_SECRET);
    expect(all).not.toContain(encodeURIComponent(SECRET));
  });
});
