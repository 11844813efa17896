import type { JsonObject, JsonValue } from '../../../src/protocol/json.js';
import type { Checker } from './checker.js';
import type { AuthSpec } from './types.js';

/** `auth`: how requests are authorised, and which top-level settings each kind needs. */

const AUTH_SECRETS: Record<string, readonly string[]> = {
  none: [],
  api_key: ['api_key'],
  bearer: ['token'],
  basic: ['username'],
  oauth2_client_credentials: ['client_id', 'client_secret'],
  oauth2_refresh_token: ['client_id', 'refresh_token'],
};


/** `credentialsOptional`: a replay (`--replay`) sends nothing, so needs no credential. */
export function parseAuth(c: Checker, raw: JsonValue | undefined, config: JsonObject, credentialsOptional = false): AuthSpec | undefined {
  if (raw === undefined) return { type: 'none' };
  if (!c.object(raw, 'auth')) return undefined;
  const type = c.oneOf(raw['type'], 'auth.type', Object.keys(AUTH_SECRETS), true);
  if (type === undefined) return undefined;
  for (const setting of credentialsOptional ? [] : (AUTH_SECRETS[type] ?? [])) {
    if (typeof config[setting] !== 'string' || config[setting] === '') {
      c.problem(setting, `required by auth.type "${type}" (set it in the file or in SYNC_REST_${setting.toUpperCase()})`);
    }
  }
  switch (type) {
    case 'none':
    case 'bearer':
    case 'basic':
      c.unknownKeys(raw, 'auth', ['type']);
      return { type };
    case 'api_key': {
      c.unknownKeys(raw, 'auth', ['type', 'in', 'name', 'prefix']);
      const where = c.oneOf(raw['in'], 'auth.in', ['header', 'query'], false) ?? 'header';
      const name = c.string(raw['name'], 'auth.name', true) ?? '';
      const prefix = c.string(raw['prefix'], 'auth.prefix', false);
      return { type, in: where as 'header' | 'query', name, ...(prefix === undefined ? {} : { prefix }) };
    }
    default: {
      c.unknownKeys(raw, 'auth', ['type', 'token_url', 'scope', 'client_auth']);
      const tokenUrl = c.url(raw['token_url'], 'auth.token_url', true) ?? '';
      const scope = c.string(raw['scope'], 'auth.scope', false);
      const clientAuth = (c.oneOf(raw['client_auth'], 'auth.client_auth', ['body', 'basic'], false) ?? 'body') as 'body' | 'basic';
      return { type: type as 'oauth2_client_credentials' | 'oauth2_refresh_token', tokenUrl, clientAuth, ...(scope === undefined ? {} : { scope }) };
    }
  }
}

