import { valueAt } from '../../src/http/paginate.js';
import type { JsonValue } from '../../src/protocol/json.js';
import type { RestWebhookEvent, RestWebhooks } from './description/index.js';
import { typeOf } from './parent-key.js';

/**
 * Which listed event one event of a delivery is. The name comes from a header or a path in
 * the event; with `action_path` the action refines it, because some senders split one kind
 * of change over two places (GitHub: `X-GitHub-Event: issues` and `"action": "deleted"`).
 * `<name>.<action>` is looked up first, then `<name>` alone, so a description lists the
 * actions that need their own treatment (a deletion) and one entry catches the rest.
 */

export interface Route {
  /** The name that matched, for messages: `issues.deleted`, or `issues`. */
  name: string;
  event: RestWebhookEvent;
}

/** The listed event, or undefined for one the description does not list (ignored). Throws when the event has no usable name. */
export function routeEvent(webhooks: RestWebhooks, headers: Readonly<Record<string, string>>, event: JsonValue): Route | undefined {
  const from = webhooks.eventFrom;
  const name = 'header' in from ? headers[from.header] : valueAt(event, from.path);
  if (typeof name !== 'string' || name === '') {
    const where = 'header' in from ? `header ${from.header}` : `"${from.path}"`;
    throw new Error(`no event name at ${where} (got ${name === undefined ? 'nothing' : JSON.stringify(name)})`);
  }
  const action = actionOf(webhooks.actionPath, event);
  if (action !== undefined) {
    const refined = `${name}.${action}`;
    const listed = webhooks.events.get(refined);
    if (listed !== undefined) return { name: refined, event: listed };
  }
  const listed = webhooks.events.get(name);
  return listed === undefined ? undefined : { name: action === undefined ? name : `${name}.${action}`, event: listed };
}

/** The action, or undefined when the event has none (GitHub's `push` carries no action). */
function actionOf(path: string | undefined, event: JsonValue): string | undefined {
  if (path === undefined) return undefined;
  const action = valueAt(event, path);
  if (action === undefined || action === null || action === '') return undefined;
  if (typeof action !== 'string') throw new Error(`the action at "${path}" is not text (got ${typeOf(action)})`);
  return action;
}
