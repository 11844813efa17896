/**
 * Scrubbing of credentials from anything the client writes down: error messages,
 * recorded exchanges, log lines. One place, so the error path, the cassette path and the
 * log cannot drift.
 */

export const REDACTED = 'REDACTED';

/**
 * Shorter secrets are not scrubbed. Replacing every occurrence of a two- or three-character
 * string would mangle ordinary words and numbers, and the markers would then point at exactly
 * where the secret sits; a secret that short is guessed in moments anyway. Config values are
 * collected from this length up for the same reason (`connector/config.ts#secretValues`).
 */
export const MIN_SECRET_LENGTH = 4;

/**
 * From this length up, a secret is also looked for inside longer base64 text (`Basic
 * base64(user:secret)` whatever the user, a token inside an encoded cursor). Only the
 * characters that depend on the secret alone are matched, at most a few bits of its first
 * and last byte stay visible; below this length that part is too short to be told from chance.
 */
const MIN_EMBEDDED_BASE64_LENGTH = 6;

/** Query and form parameter names that carry credentials whatever their value. Exact names:
 * a looser match would also hide pagination cursors such as `page_token`. */
const SECRET_PARAMS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'token',
  'password',
  'secret',
  'signature',
  'sig',
  'auth',
]);

/** Header names that carry credentials. */
const SECRET_HEADER = /authorization|cookie|api-?key|token|secret|password|signature|session/i;

/** JSON keys in bodies (token endpoint answers, login payloads) whose string values are credentials. */
const SECRET_JSON_KEY = /("(?:access_token|refresh_token|id_token|client_secret|password)"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

export function isSecretParam(name: string): boolean {
  return SECRET_PARAMS.has(name.toLowerCase());
}

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/**
 * Replaces every known secret value in `text`, in every encoding a server plausibly echoes
 * it in (see `secretPattern`). Longest first, so a secret containing another is removed whole.
 */
export function scrubSecrets(text: string, secrets: readonly string[], replacement = REDACTED): string {
  if (secrets.length === 0 || text.length === 0) return text;
  const pattern = patternFor(secrets, 'text');
  return pattern === undefined ? text : text.replace(pattern, () => replacement);
}

/**
 * A body that is not UTF-8 (a latin-1 page, a binary format) scrubbed byte for byte: each
 * byte read as one latin-1 character, and each form of a secret as its UTF-8 bytes read so.
 */
export function scrubBytes(body: Buffer, secrets: readonly string[], replacement = REDACTED): Buffer {
  if (secrets.length === 0 || body.length === 0) return body;
  const pattern = patternFor(secrets, 'bytes');
  if (pattern === undefined) return body;
  const text = body.toString('latin1');
  const scrubbed = text.replace(pattern, () => replacement);
  return scrubbed === text ? body : Buffer.from(scrubbed, 'latin1');
}

// Secrets are few and fixed for a run (an OAuth token changes every hour or so), while the
// client and the log scrub every message: the forms of each secret and the pattern of each
// set of secrets are built once and reused. Bounded, so a long-lived process cannot grow them.
const MAX_CACHED = 256;
const bySecret = new Map<string, string[]>();
const bySet = new Map<string, RegExp | undefined>();

function patternFor(secrets: readonly string[], view: 'text' | 'bytes'): RegExp | undefined {
  const usable = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort();
  const key = `${view}\u0000${usable.join('\u0000')}`;
  if (bySet.has(key)) return bySet.get(key);
  let forms = usable.flatMap(formsOf);
  if (view === 'bytes') forms = forms.map((f) => Buffer.from(f, 'utf8').toString('latin1'));
  const sorted = [...new Set(forms)].sort((a, b) => b.length - a.length);
  const pattern = sorted.length === 0 ? undefined : new RegExp(sorted.map(encodedPattern).join('|'), 'g');
  if (bySet.size >= MAX_CACHED) bySet.clear();
  bySet.set(key, pattern);
  return pattern;
}

function formsOf(secret: string): string[] {
  let forms = bySecret.get(secret);
  if (forms === undefined) {
    forms = secretForms(secret);
    if (bySecret.size >= MAX_CACHED) bySecret.clear();
    bySecret.set(secret, forms);
  }
  return forms;
}

/**
 * The secret as it may be written before any escaping: itself, and its base64 (standard or
 * URL-safe, padded or not, whole or inside longer base64). The base64 of its percent-encoded
 * form too: OAuth clients encode the id and secret before `base64(id:secret)` (RFC 6749 §2.3.1).
 */
function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const encoded = encodeURIComponent(secret);
  for (const text of encoded === secret ? [secret] : [secret, encoded]) {
    const bytes = Buffer.from(text, 'utf8');
    const standard = bytes.toString('base64');
    forms.add(standard);
    forms.add(standard.replace(/=+$/, ''));
    forms.add(bytes.toString('base64url'));
    forms.add(toUrlSafe(standard));
    if (bytes.length >= MIN_EMBEDDED_BASE64_LENGTH) {
      for (const core of embeddedBase64(bytes)) {
        forms.add(core);
        forms.add(toUrlSafe(core));
      }
    }
  }
  return [...forms];
}

function toUrlSafe(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * The base64 characters that depend on `bytes` alone when they sit at each of the three
 * offsets inside longer data. A character covers 6 bits, a byte 8: with 1 or 2 bytes before
 * the secret, the first 2 or 3 characters mix in the neighbour's bits, and so may the last.
 */
function embeddedBase64(bytes: Buffer): string[] {
  const out: string[] = [];
  for (const before of [0, 1, 2]) {
    const all = Buffer.concat([Buffer.alloc(before), bytes]).toString('base64');
    const first = Math.ceil((before * 8) / 6);
    const end = Math.floor(((before + bytes.length) * 8) / 6);
    out.push(all.slice(first, end));
  }
  return out;
}

/**
 * A regular expression source matching `text` with each of its characters written in any of
 * the ways encoders write it, so mixes are caught as well as pure forms:
 * - JSON: `\"`, `\\`, `\/` (PHP), control escapes, `\uXXXX` in either case (Go, .NET and
 *   Python escape special characters so); with 1 to 8 backslashes, because a JSON string
 *   inside a JSON string (a log line quoting a JSON body) doubles them at each level;
 * - percent-encoding of the UTF-8 bytes, either case, also encoded twice (`%252F`), and `+`
 *   for a space (forms);
 * - HTML character references (`&#47;`, `&#x2F;`, `&quot;`), as error pages echo.
 * Letters and digits are matched as themselves: no encoder escapes them.
 */
function encodedPattern(text: string): string {
  let out = '';
  for (const ch of text) out += /^[A-Za-z0-9]$/.test(ch) ? ch : charPattern(ch);
  return out;
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  '\b': 'b',
  '\f': 'f',
  '\n': 'n',
  '\r': 'r',
  '\t': 't',
};

const HTML_NAMED: Readonly<Record<string, string>> = { '"': 'quot', '&': 'amp', '<': 'lt', '>': 'gt', "'": 'apos' };

function charPattern(ch: string): string {
  // Escaped forms first: a backslash is also the start of its own escaped forms.
  const forms: string[] = [];
  const short = SHORT_ESCAPES[ch];
  if (ch === '\\') {
    // Exactly 2^level backslashes: a looser count could swallow the backslash that escapes
    // the quote closing the string, and leave a broken JSON line behind.
    forms.push('\\\\{8}', '\\\\{4}', '\\\\{2}');
  } else if (short !== undefined) {
    forms.push(`\\\\{1,8}${escapeRegExp(short)}`);
  }
  let unicode = '';
  for (let i = 0; i < ch.length; i++) unicode += `\\\\{1,8}u${hexPattern(ch.charCodeAt(i), 4)}`;
  forms.push(unicode);
  forms.push([...Buffer.from(ch, 'utf8')].map((byte) => `%(?:25)?${hexPattern(byte, 2)}`).join(''));
  if (ch === ' ') forms.push('\\+');
  const code = ch.codePointAt(0) ?? 0;
  forms.push(`&#(?:0*${code}|[xX]0*${hexPattern(code, 1)});`);
  const named = HTML_NAMED[ch];
  if (named !== undefined) forms.push(`&${named};`);
  forms.push(escapeRegExp(ch));
  return `(?:${forms.join('|')})`;
}

/** Hex digits of `n`, at least `width` of them, each letter in either case. */
function hexPattern(n: number, width: number): string {
  return n.toString(16).padStart(width, '0').replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A URL with credentials removed: user info, secret-named parameters, secret values anywhere. */
export function redactUrl(url: string, secrets: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return scrubSecrets(url, secrets);
  }
  if (parsed.username) parsed.username = REDACTED;
  if (parsed.password) parsed.password = REDACTED;
  let changed = false;
  const params = parsed.searchParams;
  for (const [name, value] of params) {
    if (value !== REDACTED && (isSecretParam(name) || containsSecret(value, secrets))) {
      changed = true;
      break;
    }
  }
  if (changed) {
    const kept: Array<[string, string]> = [];
    for (const [name, value] of params) {
      kept.push([name, isSecretParam(name) || containsSecret(value, secrets) ? REDACTED : value]);
    }
    parsed.search = new URLSearchParams(kept).toString();
  }
  return scrubSecrets(parsed.href, secrets);
}

function containsSecret(value: string, secrets: readonly string[]): boolean {
  for (const s of secrets) if (s.length >= MIN_SECRET_LENGTH && value.includes(s)) return true;
  return false;
}

/** Header values that may be written down: credential headers become REDACTED, the rest scrubbed. */
export function redactHeaders(headers: Readonly<Record<string, string>>, secrets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name] ?? '';
    out[name] = isSecretHeader(name) ? REDACTED : scrubSecrets(value, secrets);
  }
  return out;
}

/**
 * A request or response body with credentials removed: known secret values, form fields
 * and JSON string properties with credential names. Text only; formatting is kept so a
 * replayed body reads like the original.
 */
export function redactBodyText(text: string, contentType: string | undefined, secrets: readonly string[]): string {
  let out = scrubSecrets(text, secrets);
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    const params = new URLSearchParams(out);
    let changed = false;
    for (const name of params.keys()) if (isSecretParam(name)) changed = true;
    if (changed) {
      const kept: Array<[string, string]> = [];
      for (const [name, value] of params) kept.push([name, isSecretParam(name) ? REDACTED : value]);
      out = new URLSearchParams(kept).toString();
    }
  }
  return out.replace(SECRET_JSON_KEY, `$1"${REDACTED}"`);
}

/** The path of a URL without its query, for messages. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  const noQuery = q === -1 ? url : url.slice(0, q);
  const scheme = noQuery.indexOf('://');
  if (scheme === -1) return noQuery || '/';
  const slash = noQuery.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : noQuery.slice(slash);
}

/** A short single-line excerpt of a body for an error message: whitespace collapsed, secrets scrubbed. */
export function bodySnippet(text: string, secrets: readonly string[], max = 200): string {
  const flat = scrubSecrets(text, secrets).replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
