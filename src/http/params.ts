import { isJsonObject, type JsonObject, type JsonValue } from '../protocol/json.js';
import type { HttpRequest } from './types.js';

/** Where request parameters go: the query string, or the JSON body of POST search endpoints. */
export type ParamsIn = 'query' | 'body';

/**
 * Adds one parameter to the query string or to the JSON body. In the body a dotted name is a
 * path (`variables.after` for a GraphQL cursor; a number steps into a list the body already
 * holds, `filterGroups.0.filters.0.value` for a search filter): the objects and lists on the
 * way are copied, not shared.
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
  return { ...object, [first]: setInside(inner, rest, value) };
}

/** The value at the rest of a path: into a list by its index, otherwise into an object (made when missing). */
function setInside(inner: JsonValue | undefined, steps: readonly string[], value: JsonValue): JsonValue {
  const [step, ...rest] = steps;
  if (Array.isArray(inner) && step !== undefined && /^\d+$/.test(step) && Number(step) < inner.length) {
    const list = [...inner];
    const index = Number(step);
    const element = list[index];
    list[index] = rest.length === 0 ? value : setInside(element, rest, value);
    return list;
  }
  return setPath(isJsonObject(inner) ? inner : {}, steps, value);
}
