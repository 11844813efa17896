import { valueAt } from '../../src/http/paginate.js';
import { isJsonObject, type JsonObject } from '../../src/protocol/json.js';

/**
 * `streams[].unnest`: APIs that keep an object's fields in a nested object (HubSpot's
 * `{id, properties: {email, …}, updatedAt}`) give records whose useful part would be one JSON
 * column. The nested object's keys become the record's own properties, and the nested object
 * goes. The record's own keys win a clash: they are the API's fixed fields (the id, the
 * version), which a user-defined field must not replace.
 */
export function unnester(path: string): (object: JsonObject) => JsonObject {
  const steps = path.split('.');
  const last = steps.length - 1;
  return (object) => {
    const inner = valueAt(object, path);
    if (!isJsonObject(inner)) return object;
    const out: JsonObject = { ...inner };
    for (const [key, value] of Object.entries(without(object, steps, last))) out[key] = value;
    return out;
  };
}

/** The object with the nested object removed (and parents that it leaves empty). */
function without(object: JsonObject, steps: readonly string[], last: number, depth = 0): JsonObject {
  const step = steps[depth] as string;
  const { [step]: inner, ...rest } = object;
  if (depth === last || !isJsonObject(inner)) return depth === last ? rest : object;
  const kept = without(inner, steps, last, depth + 1);
  return Object.keys(kept).length === 0 ? rest : { ...rest, [step]: kept };
}

/** The shaping a stream asks for, or undefined when its records are kept as the API gives them. */
export function shapeOf(stream: { unnest: string | undefined }): ((object: JsonObject) => JsonObject) | undefined {
  return stream.unnest === undefined ? undefined : unnester(stream.unnest);
}
