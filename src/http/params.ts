import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { HttpRequest } from './types.js';

/** Where request parameters go: the query string, or the JSON body of POST search endpoints. */
export type ParamsIn = 'query' | 'body';

/**
 * Adds one parameter to the query string or to the JSON body. In the body a dotted name is a
 * path (`variables.after` for a GraphQL cursor): the objects on the way are copied, not shared.
 */
export function withParam(request: HttpRequest, where: ParamsIn, name: string, value: string | number): HttpRequest {
  if (where === 'body') {
    const body = isJsonObject(request.body) ? request.body : {};
    return { ...request, body: setPath(body, name.split('.'), value) };
  }
  return { ...request, query: { ...request.query, [name]: value } };
}

function setPath(object: JsonObject, steps: readonly string[], value: JsonValue): JsonObject {
  const [first, ...rest] = steps;
  if (first === undefined) return object;
  if (rest.length === 0) return { ...object, [first]: value };
  const inner = Object.hasOwn(object, first) ? object[first] : undefined;
  return { ...object, [first]: setPath(isJsonObject(inner) ? inner : {}, rest, value) };
}
