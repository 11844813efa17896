/**
 * Scrubbing of credentials from anything the client writes down: error messages,
 * recorded exchanges. One place, so the error path and the cassette path cannot drift.
 */

export const REDACTED = 'REDACTED';

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
 * Replaces every known secret value in `text`, raw and percent-encoded (as it appears in
 * URLs and form bodies). Longest first, so a secret containing another is removed whole.
 */
export function scrubSecrets(text: string, secrets: readonly string[], replacement = REDACTED): string {
  if (secrets.length === 0 || text.length === 0) return text;
  let out = text;
  for (const secret of sortedByLength(secrets)) {
    if (out.includes(secret)) out = out.split(secret).join(replacement);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(replacement);
    const formEncoded = encoded.replace(/%20/g, '+');
    if (formEncoded !== encoded && out.includes(formEncoded)) out = out.split(formEncoded).join(replacement);
  }
  return out;
}

function sortedByLength(secrets: readonly string[]): string[] {
  return secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
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
  for (const s of secrets) if (s.length > 0 && value.includes(s)) return true;
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
