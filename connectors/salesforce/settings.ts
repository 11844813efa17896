import { UsageError } from '../../src/errors.js';
import type { JsonObject } from '../../src/protocol/json.js';

/**
 * The connector's settings, read from a config already checked against its spec (index.ts),
 * plus the checks the spec cannot express: an API version, object API names, an org id.
 */

export interface SalesforceSettings {
  loginUrl: string;
  clientId: string;
  clientSecret: string | undefined;
  refreshToken: string;
  /** Replaces the instance URL the token response names (a proxy, a test server). */
  instanceUrl: string | undefined;
  apiVersion: string;
  organizationId: string | undefined;
  startDate: string | undefined;
  /** sObject API names, as Salesforce spells them (`Contact`, `Invoice__c`). */
  objects: string[];
}

export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';
export const DEFAULT_API_VERSION = '62.0';
export const DEFAULT_OBJECTS = ['Contact', 'Account', 'Lead', 'Opportunity'] as const;

export function settingsOf(config: JsonObject): SalesforceSettings {
  const text = (key: string): string | undefined => {
    const value = config[key];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const problems: string[] = [];
  const apiVersion = text('api_version') ?? DEFAULT_API_VERSION;
  if (!/^\d{2,3}\.0$/.test(apiVersion)) problems.push(`api_version: an API version such as "${DEFAULT_API_VERSION}" (got ${JSON.stringify(apiVersion)})`);
  const organizationId = text('organization_id');
  if (organizationId !== undefined && !/^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/.test(organizationId)) {
    problems.push(`organization_id: an org id starts with 00D and has 15 or 18 characters (got ${JSON.stringify(organizationId)})`);
  }
  const raw = config['objects'];
  const objects = Array.isArray(raw) ? raw : [...DEFAULT_OBJECTS];
  const names: string[] = [];
  objects.forEach((name, i) => {
    // An API name goes into SOQL and a URL path as it is: only what Salesforce allows in one.
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) problems.push(`objects[${i}]: an sObject API name such as "Contact" or "Invoice__c" (got ${JSON.stringify(name)})`);
    else if (names.some((n) => n.toLowerCase() === name.toLowerCase())) problems.push(`objects[${i}]: ${name} is listed twice`);
    else names.push(name);
  });
  if (objects.length === 0) problems.push('objects: list at least one sObject');
  if (problems.length > 0) throw new UsageError(`invalid settings for salesforce (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  return {
    loginUrl: (text('login_url') ?? DEFAULT_LOGIN_URL).replace(/\/+$/, ''),
    clientId: text('client_id') ?? '',
    clientSecret: text('client_secret'),
    refreshToken: text('refresh_token') ?? '',
    instanceUrl: text('instance_url')?.replace(/\/+$/, ''),
    apiVersion,
    organizationId,
    startDate: text('start_date'),
    objects: names,
  };
}
