import { isJsonObject } from '../protocol/json.js';
import type { HttpRequest } from './types.js';

/** Where request parameters go: the query string, or the JSON body of POST search endpoints. */
export type ParamsIn = 'query' | 'body';

/** Adds one parameter to the query string or to the JSON body. */
export function withParam(request: HttpRequest, where: ParamsIn, name: string, value: string | number): HttpRequest {
  if (where === 'body') {
    const body = isJsonObject(request.body) ? request.body : {};
    return { ...request, body: { ...body, [name]: value } };
  }
  return { ...request, query: { ...request.query, [name]: value } };
}
