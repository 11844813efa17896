import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseInstantParts } from './instant.js';
import { isJsonObject, toPlainJson, type JsonObject, type JsonValue } from './json.js';
import type { RecordMessage, SchemaMessage } from './messages.js';

/** What a target and the runner need to know about one stream, from its SCHEMA message. */
export interface StreamSchema {
  stream: string;
  schema: JsonObject;
  properties: JsonObject;
  keyProperties: string[];
  /** The replication key, when known: it orders versions of a row (newest wins). */
  versionProperty: string | undefined;
  /** Returns undefined for a valid record, otherwise what is wrong with it. */
  validate(record: JsonObject, lossless: boolean): string | undefined;
}

export class SchemaError extends Error {
  override name = 'SchemaError';
}

/** Stands in for a validator when records are not validated. */
const ACCEPT_ALL = Object.assign(() => true, { errors: null }) as unknown as ValidateFunction;

// ajv ships CommonJS with a default export; under NodeNext the class is on `.default`.
const Ajv = AjvModule.default;

/** One validator cache per reader: compiled schemas are reused when a SCHEMA is repeated. */
export class SchemaRegistry {
  private readonly ajv = new Ajv({
    strict: false,
    allErrors: false,
    // Only `date-time` is checked (below): its values become versions and bookmarks, where
    // a garbage date would rank above every real one. Other formats are taken as written.
    validateFormats: true,
    formats: { 'date-time': { type: 'string', validate: (text: string) => parseInstantParts(text) !== undefined } },
    logger: false,
    validateSchema: false,
    addUsedSchema: false,
  });
  private readonly compiled = new Map<string, ValidateFunction>();

  /**
   * Checks a SCHEMA message and, unless `validate` is false (nothing is built then), prepares
   * its validator. Throws SchemaError when it cannot be used.
   */
  open(msg: SchemaMessage, validate = true): StreamSchema {
    const properties = msg.schema['properties'];
    if (!isJsonObject(properties)) {
      throw new SchemaError(`the schema of stream "${msg.stream}" has no "properties"`);
    }
    const key = validate ? JSON.stringify(msg.schema) : '';
    let validator = validate ? this.compiled.get(key) : ACCEPT_ALL;
    if (!validator) {
      const unnamed = Object.keys(properties).find((p) => !isWellFormed(p));
      if (unnamed !== undefined) {
        throw new SchemaError(
          `the schema of stream "${msg.stream}" names a property ${JSON.stringify(unnamed)} that is not valid Unicode (a lone surrogate), which cannot be validated; load it with --no-validate`,
        );
      }
      try {
        validator = this.ajv.compile(stripId(msg.schema));
      } catch (err) {
        throw new SchemaError(`the schema of stream "${msg.stream}" is not valid JSON Schema: ${(err as Error).message}`);
      }
      this.compiled.set(key, validator);
    }
    const check = validator;
    const bookmark = msg.bookmark_properties?.[0];
    return {
      stream: msg.stream,
      schema: msg.schema,
      properties,
      keyProperties: msg.key_properties,
      versionProperty: bookmark !== undefined && bookmark in properties ? bookmark : undefined,
      validate(record, lossless) {
        if (check(lossless ? toPlainJson(record) : record)) return undefined;
        return describeErrors(check.errors ?? []);
      },
    };
  }
}

/** Problems that make a record unusable whatever its schema says: missing or null key properties. */
export function missingKeys(stream: StreamSchema, record: JsonObject): string | undefined {
  for (const key of stream.keyProperties) {
    const value = Object.hasOwn(record, key) ? record[key] : undefined;
    if (value === undefined || value === null) return `key property "${key}" is missing`;
  }
  return undefined;
}

export function recordProblem(stream: StreamSchema, msg: RecordMessage, validate: boolean): string | undefined {
  return missingKeys(stream, msg.record) ?? (validate ? stream.validate(msg.record, msg.lossless === true) : undefined);
}

/** The JSON type a property holds, ignoring "null": date-times are told apart from other strings. */
export type ColumnKind = 'integer' | 'number' | 'boolean' | 'string' | 'date-time' | 'object' | 'array' | 'any';

export function columnKind(property: JsonValue | undefined): ColumnKind {
  if (!isJsonObject(property)) return 'any';
  const types = new Set<string>();
  collectTypes(property, types);
  types.delete('null');
  if (types.size === 1) {
    const only = [...types][0] as string;
    if (only === 'string') return hasDateTimeFormat(property) ? 'date-time' : 'string';
    if (['integer', 'number', 'boolean', 'object', 'array'].includes(only)) return only as ColumnKind;
  }
  if (types.size === 2 && types.has('integer') && types.has('number')) return 'number';
  if (types.size > 0 && [...types].every((t) => t === 'string') ) return 'string';
  return 'any';
}

function collectTypes(schema: JsonObject, into: Set<string>): void {
  const type = schema['type'];
  if (typeof type === 'string') into.add(type);
  else if (Array.isArray(type)) for (const t of type) if (typeof t === 'string') into.add(t);
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = schema[combinator];
    if (Array.isArray(options)) for (const o of options) if (isJsonObject(o)) collectTypes(o, into);
  }
}

function hasDateTimeFormat(schema: JsonObject): boolean {
  if (schema['format'] === 'date-time') return true;
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = schema[combinator];
    if (Array.isArray(options) && options.some((o) => isJsonObject(o) && o['format'] === 'date-time')) return true;
  }
  return false;
}

// A stray `$id` would make ajv register the schema globally and refuse the next one with the same id.
function stripId(schema: JsonObject): JsonObject {
  if (!('$id' in schema) && !('id' in schema && typeof schema['id'] === 'string')) return schema;
  const copy = { ...schema };
  delete copy['$id'];
  if (typeof copy['id'] === 'string') delete copy['id'];
  return copy;
}

function describeErrors(errors: ErrorObject[]): string {
  const first = errors[0];
  if (!first) return 'does not match its schema';
  const where = first.instancePath === '' ? 'record' : first.instancePath.slice(1).replaceAll('/', '.');
  return `${where} ${first.message ?? 'is invalid'}`;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
