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

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const problems = (fn: () => unknown): string[] => failure(fn).problems;

describe('configuration', () => {
  it('merges file, environment (which wins) and defaults, coercing environment strings', () => {
    const { config } = resolveConfig('my-api', spec, {
      file: { api_key: 'from-file', start_date: '2024-01-01' },
      env: { SYNC_MY_API_API_KEY: 'from-env', SYNC_MY_API_VERBOSE: 'yes', SYNC_MY_API_SCOPES: '["a","b"]' },
    });
    expect(config).toEqual({ api_key: 'from-env', start_date: '2024-01-01', page_size: 100, verbose: true, scopes: ['a', 'b'] });
    expect(envName('my-api', 'api_key')).toBe('SYNC_MY_API_API_KEY');
  });

  it('reports every problem with its path and the file its value came from', () => {
    expect(problems(() => resolveConfig('x', spec, { file: { page_size: 0, start_date: 'soon', verbose: 'maybe' }, fileName: 'x.json', env: {} }))).toEqual([
      'api_key: required setting is missing (set it in --config or as SYNC_X_API_KEY)',
      'page_size (x.json): must be >= 1 (got 0)',
      'verbose (x.json): must be boolean (got "maybe")',
      'start_date (x.json): must be an ISO 8601 date-time such as 2024-01-31T00:00:00Z (got "soon")',
    ]);
  });

  it('names the environment variable of a bad value the same way, whatever is wrong with it', () => {
    const env = { SYNC_X_PAGE_SIZE: '-5', SYNC_X_VERBOSE: 'maybe', SYNC_X_START_DATE: 'soon', SYNC_X_API_KEY: 'k-1234' };
    expect(problems(() => resolveConfig('x', spec, { file: { page_size: 10 }, fileName: 'x.json', env }))).toEqual([
      'verbose (SYNC_X_VERBOSE): must be boolean: true or false (also 1/0, yes/no, on/off) (got "maybe")',
      'page_size (SYNC_X_PAGE_SIZE): must be >= 1 (got -5)',
      'start_date (SYNC_X_START_DATE): must be an ISO 8601 date-time such as 2024-01-31T00:00:00Z (got "soon")',
    ]);
  });

  it('keeps unknown settings out of the problem list: they are warnings, also when the config is invalid', () => {
    const err = failure(() => resolveConfig('x', spec, { file: { api_kee: 'k-1234', start_date: '2024-01-01' }, fileName: 'x.json', env: {} }));
    expect(err.problems).toEqual(['api_key: required setting is missing (set it in --config or as SYNC_X_API_KEY)']);
    expect(err.warnings).toEqual(['x.json: unknown setting "api_kee" is ignored']);
    const valid = resolveConfig('x', spec, { file: { api_key: 'k-1234', start_date: '2024-01-01', extra: 1 }, fileName: 'x.json', env: {} });
    expect(valid.warnings).toEqual(['x.json: unknown setting "extra" is ignored']);
  });

  it('never echoes a secret value in a problem', () => {
    const secret = 'sk_live_supersecret_1234';
    const found = problems(() =>
      resolveConfig('x', spec, { file: { api_key: 12345, start_date: '2024-01-01' }, env: { SYNC_X_PAGE_SIZE: secret } }),
    ).join('\n');
    expect(found).toContain('api_key (config): must be string');
    expect(found).not.toContain('12345');
    const secretProblems = problems(() =>
      resolveConfig('x', { properties: { token: { type: 'integer', secret: true, description: 't' } } }, { env: { SYNC_X_TOKEN: secret } }),
    ).join('\n');
    expect(secretProblems).toBe('token (SYNC_X_TOKEN): must be integer');
  });

  it('does not require secrets when they are optional (a replay needs no network, so no credential)', () => {
    const { config } = resolveConfig('x', spec, { file: { start_date: '2024-01-01' }, env: {}, secretsOptional: true });
    expect(config).toEqual({ start_date: '2024-01-01', page_size: 100 });
    expect(problems(() => resolveConfig('x', spec, { env: {}, secretsOptional: true }))).toEqual([
      'start_date: required setting is missing (set it in --config or as SYNC_X_START_DATE)',
    ]);
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
