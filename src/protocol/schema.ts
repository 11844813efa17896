import AjvModule, { MissingRefError, type ValidateFunction } from 'ajv';
import { isCalendarDate, isInstant } from './instant.js';
import { isJsonObject, toPlainJson, type JsonObject, type JsonValue } from './json.js';
import type { RecordMessage, SchemaMessage } from './messages.js';

/** What a target and the runner need to know about one stream, from its SCHEMA message. */
export interface StreamSchema {
  stream: string;
  schema: JsonObject;
  /** The top-level properties the schema declares; empty when it declares none (records are taken as they come). */
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

/** What is wrong with a value: `at` is a JSON pointer from the value checked to the culprit. */
interface Problem {
  at: string;
  message: string;
}

/** Checks a value; undefined when it is valid. */
type Check = (value: JsonValue) => Problem | undefined;

const ACCEPT_ALL: Check = () => undefined;

// ajv ships CommonJS with a default export; under NodeNext the class is on `.default`.
const Ajv = AjvModule.default;

/** One validator cache per reader: compiled schemas are reused when a SCHEMA is repeated. */
export class SchemaRegistry {
  private readonly ajv = new Ajv({
    strict: false,
    allErrors: false,
    // Only `date-time` and `date` are checked (below): their values become versions and
    // bookmarks, where a garbage date would rank above every real one. Other formats (email,
    // uri, …) are taken as written: a vendor's loose email must not stop a load.
    validateFormats: true,
    formats: { 'date-time': { type: 'string', validate: isInstant }, date: { type: 'string', validate: isCalendarDate } },
    logger: false,
    validateSchema: false,
    addUsedSchema: false,
  });
  /** Whole SCHEMAs already prepared, by their JSON text. */
  private readonly checks = new Map<string, Check>();
  /** Compiled parts, by their JSON text: wide schemas repeat the same few property schemas. */
  private readonly parts = new Map<string, ValidateFunction>();

  /**
   * Checks a SCHEMA message and, unless `validate` is false (nothing is built then), prepares
   * its validator. Throws SchemaError when it cannot be used.
   */
  open(msg: SchemaMessage, validate = true): StreamSchema {
    const declared = msg.schema['properties'];
    if (declared !== undefined && !isJsonObject(declared)) {
      throw new SchemaError(`the schema of stream "${msg.stream}" has "properties" that is not an object`);
    }
    const properties = declared ?? {};
    const check = validate ? this.checkFor(msg, properties) : ACCEPT_ALL;
    const bookmark = msg.bookmark_properties?.[0];
    return {
      stream: msg.stream,
      schema: msg.schema,
      properties,
      keyProperties: msg.key_properties,
      versionProperty: bookmark !== undefined && Object.hasOwn(properties, bookmark) ? bookmark : undefined,
      validate(record, lossless) {
        const problem = check(lossless ? toPlainJson(record) : record);
        return problem && describe(problem);
      },
    };
  }

  private checkFor(msg: SchemaMessage, properties: JsonObject): Check {
    const key = JSON.stringify(msg.schema);
    const known = this.checks.get(key);
    if (known) return known;
    const unnamed = Object.keys(properties).find((p) => !isWellFormed(p));
    if (unnamed !== undefined) {
      throw new SchemaError(
        `the schema of stream "${msg.stream}" names a property ${JSON.stringify(unnamed)} that is not valid Unicode (a lone surrogate), which cannot be validated; load it with --no-validate`,
      );
    }
    const schema = stripId(msg.schema);
    let check: Check;
    try {
      try {
        check = new CheckBuilder(schema, (part) => this.compile(part)).build(schema) ?? ACCEPT_ALL;
      } catch (err) {
        // A part compiled alone has lost the root a `$ref` may point into (other than the
        // definitions, which parts carry along): that schema is compiled in one piece.
        if (!(err instanceof MissingRefError)) throw err;
        check = compiledCheck(this.ajv.compile(schema));
      }
    } catch (err) {
      throw new SchemaError(`the schema of stream "${msg.stream}" is not valid JSON Schema: ${(err as Error).message}`);
    }
    this.checks.set(key, check);
    return check;
  }

  private compile(part: JsonValue): ValidateFunction {
    const key = JSON.stringify(part);
    let compiled = this.parts.get(key);
    if (!compiled) {
      compiled = this.ajv.compile(part as JsonObject | boolean);
      this.parts.set(key, compiled);
    }
    return compiled;
  }
}

/**
 * Compiled in one piece, a schema becomes one function in which ajv (stopping at the first
 * error) nests the check of each subschema inside the previous one: generating it costs time
 * growing with the square of the number of subschemas, and from about 2,000 properties the
 * code generator overflows the stack. So a schema holding more than PART_LIMIT subschemas is
 * taken apart where records branch, at `properties` and `items`: its own keywords are compiled
 * alone (properties kept by name, so `additionalProperties` still knows them), each property
 * and the items are built the same way, and a record is checked part by part, following the
 * keys it has (20 values of a 10,000-property schema cost 20 checks). Parts repeat (a
 * thousand `{"type": ["string", "null"]}`) and are compiled once. 50 keeps an ordinary stream
 * in one function, the fastest to run, while the square stays small.
 */
const PART_LIMIT = 50;

/**
 * Keywords that validate nothing. Dropped from a part before it is compiled, so parts that
 * differ only in them (taps describe every property) are compiled once.
 */
const ANNOTATIONS = new Set(['title', 'description', '$comment', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly']);

class CheckBuilder {
  /** Subschema objects below each schema object, itself included. */
  private readonly weights = new Map<JsonObject, number>();
  /** `definitions` and `$defs` of the root, which `$ref`s in parts point into. */
  private readonly definitions: JsonObject;

  constructor(
    root: JsonObject,
    private readonly compile: (part: JsonValue) => ValidateFunction,
  ) {
    this.definitions = {};
    for (const keyword of ['definitions', '$defs']) {
      if (Object.hasOwn(root, keyword)) Object.defineProperty(this.definitions, keyword, { value: root[keyword], enumerable: true });
    }
  }

  /** undefined: every value is valid, nothing to call. */
  build(schema: JsonValue): Check | undefined {
    if (schema === true || (isJsonObject(schema) && Object.keys(schema).length === 0)) return undefined;
    if (!isJsonObject(schema) || this.weight(schema) <= PART_LIMIT) return this.part(schema);
    const properties = isJsonObject(schema['properties']) ? schema['properties'] : undefined;
    const items = isJsonObject(schema['items']) ? schema['items'] : undefined;
    // Wide for another reason (a long anyOf): there is no branch to follow a record down.
    if (properties === undefined && items === undefined) return this.part(schema);

    const own: JsonObject = { ...schema };
    if (properties !== undefined) own['properties'] = Object.fromEntries(Object.keys(properties).map((name) => [name, true]));
    if (items !== undefined) own['items'] = true;
    const ownCheck = this.part(own);
    const byName = new Map<string, Check>();
    if (properties !== undefined) {
      for (const name of Object.keys(properties)) {
        const check = this.build(properties[name] as JsonValue);
        if (check) byName.set(name, check);
      }
    }
    const itemCheck = items === undefined ? undefined : this.build(items);
    return (value) => {
      const problem = ownCheck(value);
      if (problem !== undefined) return problem;
      if (isJsonObject(value)) {
        for (const name of Object.keys(value)) {
          const found = byName.get(name)?.(value[name] as JsonValue);
          if (found !== undefined) return { at: `/${escapePointer(name)}${found.at}`, message: found.message };
        }
      } else if (Array.isArray(value) && itemCheck) {
        for (let i = 0; i < value.length; i++) {
          const found = itemCheck(value[i] as JsonValue);
          if (found !== undefined) return { at: `/${i}${found.at}`, message: found.message };
        }
      }
      return undefined;
    };
  }

  private part(schema: JsonValue): Check {
    if (!isJsonObject(schema)) return compiledCheck(this.compile(schema));
    const bare: JsonObject = {};
    for (const keyword of Object.keys(schema)) {
      if (!ANNOTATIONS.has(keyword)) Object.defineProperty(bare, keyword, { value: schema[keyword], enumerable: true });
    }
    // A part compiled alone has no root of its own to resolve `#/definitions/...` against.
    const withDefinitions = Object.keys(this.definitions).length > 0 && JSON.stringify(bare).includes('"$ref"');
    return compiledCheck(this.compile(withDefinitions ? { ...bare, ...this.definitions } : bare));
  }

  private weight(schema: JsonObject): number {
    const known = this.weights.get(schema);
    if (known !== undefined) return known;
    let total = 1;
    for (const key of Object.keys(schema)) total += this.weightOf(schema[key] as JsonValue);
    this.weights.set(schema, total);
    return total;
  }

  private weightOf(value: JsonValue): number {
    if (isJsonObject(value)) return this.weight(value);
    if (!Array.isArray(value)) return 0;
    let total = 0;
    for (const item of value) total += this.weightOf(item);
    return total;
  }
}

function compiledCheck(validate: ValidateFunction): Check {
  return (value) => {
    if (validate(value)) return undefined;
    const first = validate.errors?.[0];
    return { at: first?.instancePath ?? '', message: first?.message ?? 'does not match its schema' };
  };
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

function describe(problem: Problem): string {
  const where = problem.at === '' ? 'record' : problem.at.slice(1).replaceAll('/', '.');
  return `${where} ${problem.message}`;
}

/** A property name as a JSON pointer token, as ajv writes it in `instancePath`. */
function escapePointer(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
