import { describe, expect, it } from 'vitest';
import { ConfigError, envName, redactConfig, resolveConfig, secretValues } from '../../src/connector/config.js';
import type { ConfigSpec } from '../../src/connector/contract.js';

const spec: ConfigSpec = {
  properties: {
    api_key: { type: 'string', description: 'key', secret: true },
    start_date: { type: 'string', format: 'date-time', description: 'from' },
    page_size: { type: 'integer', minimum: 1, default: 100, description: 'size' },
    verbose: { type: 'boolean', description: 'v' },
    scopes: { type: 'array', description: 's' },
  },
  required: ['api_key', 'start_date'],
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('merges file, environment (which wins) and defaults, coercing environment strings', () => {
    const { config } = resolveConfig('my-api', spec, {
      file: { api_key: 'from-file', start_date: '2024-01-01' },
      env: { SYNC_MY_API_API_KEY: 'from-env', SYNC_MY_API_VERBOSE: 'yes', SYNC_MY_API_SCOPES: '["a","b"]' },
    });
    expect(config).toEqual({ api_key: 'from-env', start_date: '2024-01-01', page_size: 100, verbose: true, scopes: ['a', 'b'] });
    expect(envName('my-api', 'api_key')).toBe('SYNC_MY_API_API_KEY');
  });

  it('reports every problem with its path, not only the first', () => {
    expect(problems(() => resolveConfig('x', spec, { file: { page_size: 0, start_date: 'soon', verbose: 'maybe' }, env: {} }))).toEqual([
      'api_key: required setting is missing',
      'page_size: must be >= 1 (got 0)',
      'verbose: must be boolean (got "maybe")',
      'start_date: must be an ISO 8601 date-time such as 2024-01-31T00:00:00Z (got "soon")',
    ]);
  });

  it('never echoes a secret value in a problem', () => {
    const secret = 'sk_live_supersecret_1234';
    const found = problems(() =>
      resolveConfig('x', spec, { file: { api_key: 12345, start_date: '2024-01-01' }, env: { SYNC_X_PAGE_SIZE: secret } }),
    ).join('\n');
    expect(found).toContain('api_key: must be string');
    expect(found).not.toContain('12345');
    const secretProblems = problems(() =>
      resolveConfig('x', { properties: { token: { type: 'integer', secret: true, description: 't' } } }, { env: { SYNC_X_TOKEN: secret } }),
    ).join('\n');
    expect(secretProblems).toBe('SYNC_X_TOKEN: expected integer, got a value');
  });

  it('knows which values to scrub and how to print the config safely', () => {
    const config = { api_key: 'abcd-secret', start_date: '2024-01-01' };
    expect(secretValues(spec, config)).toEqual(['abcd-secret']);
    expect(redactConfig(spec, config)).toEqual({ api_key: '********', start_date: '2024-01-01' });
  });

  it('refuses a config file that is not an object', () => {
    expect(problems(() => resolveConfig('x', spec, { file: [1], fileName: 'c.json', env: {} }))).toEqual(['c.json: must be a JSON object']);
  });
});
