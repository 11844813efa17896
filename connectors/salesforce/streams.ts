import type { StreamDefinition } from '../../src/connector/contract.js';
import { SourceError, UsageError } from '../../src/errors.js';
import { HttpStatusError, oauth2RefreshToken, type AuthProvider, type HttpClient } from '../../src/http/index.js';
import type { JsonObject } from '../../src/protocol/json.js';
import { openRestSession, resolveRestStreams, type ResolveContext } from '../rest/streams.js';
import { dataPath, salesforceDescription, tokenUrl } from './description.js';
import { recordShape, shaped } from './records.js';
import { describedObject, type DescribedObject } from './schema.js';
import { settingsOf, type SalesforceSettings } from './settings.js';
import { ApiUsageWatch } from './usage.js';

/**
 * The streams of a run. Where data calls go is known only from the token response
 * (`instance_url`), so the token is obtained first, by the provider every session of the run
 * shares (one token, renewed once when the API says INVALID_SESSION_ID); then each object is
 * described, through the same client, and the `rest` engine reads the streams those describe
 * calls define.
 */
export async function resolveSalesforceStreams(config: JsonObject, ctx: ResolveContext): Promise<StreamDefinition<JsonObject>[]> {
  const settings = settingsOf(config);
  let learnt: string | undefined;
  const auth = salesforceAuth(settings, (url) => (learnt = url));
  const run: ResolveContext = { ...ctx, auth, http: { ...ctx.http, pacer: new ApiUsageWatch(ctx.log) } };
  const names = settings.objects.map((name) => ({ name }));
  // The objects' streams as the settings name them, without the token or the describe calls.
  if (ctx.offline === true) return resolveRestStreams(salesforceDescription(settings, settings.instanceUrl ?? settings.loginUrl, names), run);
  const first = openRestSession(salesforceDescription(settings, settings.instanceUrl ?? settings.loginUrl, names), run);
  if (settings.instanceUrl === undefined) await first.authorize(ctx.log, ctx.signal);
  const instance = settings.instanceUrl ?? learnt;
  if (instance === undefined) throw new SourceError('the token response names no instance_url: set instance_url to the org\'s URL (https://<domain>.my.salesforce.com)');
  const client = first.clientFor(ctx.log, ctx.signal);
  let described: DescribedObject[];
  try {
    described = await Promise.all(settings.objects.map((name) => describe(client, settings, instance, name)));
  } finally {
    await client.close();
  }
  for (const object of described) {
    if (object.skipped.length > 0) ctx.log.debug(`${object.name}: fields left out: ${object.skipped.join(', ')}`);
  }
  const streams = await resolveRestStreams(salesforceDescription(settings, instance, described), run);
  return streams.map((stream) => {
    const shape = recordShape(stream.schema);
    return { ...stream, read: (rc) => shaped(stream.read(rc), shape) };
  });
}

/** The refresh-token grant at the login URL, telling `onInstance` each instance URL the token responses name. */
function salesforceAuth(settings: SalesforceSettings, onInstance: (url: string) => void): AuthProvider {
  return oauth2RefreshToken({
    tokenUrl: tokenUrl(settings),
    clientId: settings.clientId,
    refreshToken: settings.refreshToken,
    ...(settings.clientSecret === undefined ? {} : { clientSecret: settings.clientSecret }),
    onToken: (body) => {
      const url = body['instance_url'];
      if (typeof url === 'string' && /^https?:\/\/[^/]/i.test(url)) onInstance(url.replace(/\/+$/, ''));
    },
  });
}

async function describe(client: HttpClient, settings: SalesforceSettings, instance: string, name: string): Promise<DescribedObject> {
  try {
    const response = await client.request({ path: `${instance}${dataPath(settings, `sobjects/${name}/describe`)}`, expectJson: true });
    return describedObject(name, response.json());
  } catch (err) {
    if (err instanceof HttpStatusError && err.status === 404) {
      throw new UsageError(`objects: Salesforce knows no sObject ${name} (or the connected app's user cannot see it)`);
    }
    throw err;
  }
}
