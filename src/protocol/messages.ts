import { fileURLToPath } from 'node:url';
import {
  isJsonObject,
  nestsDeeperThan,
  parseJson,
  stringifyJson,
  JsonDepthError,
  JsonSyntaxError,
  type JsonObject,
  type JsonValue,
} from './json.js';

/** Singer messages, one JSON object per line. Types are written uppercase, read in any case. */

export interface SchemaMessage {
  type: 'SCHEMA';
  stream: string;
  schema: JsonObject;
  key_properties: string[];
  bookmark_properties?: string[];
}

export interface RecordMessage {
  type: 'RECORD';
  stream: string;
  record: JsonObject;
  version?: number;
  time_extracted?: string;
  /** Set by the parser when the record holds numbers kept as text (not part of the wire format). */
  lossless?: boolean;
  /**
   * Set by a webhook mapping whose event knows only some of the object's properties (a
   * deletion that names only the id, a vendor that sends a few fields): a keyed target updates
   * only the properties present and keeps the others (not part of the wire format).
   */
  partial?: boolean;
}

export interface StateMessage {
  type: 'STATE';
  value: JsonValue;
}

export interface ActivateVersionMessage {
  type: 'ACTIVATE_VERSION';
  stream: string;
  version: number;
  /** Set by the runner for a reconciling full read (not part of the wire format). */
  guard?: ActivationGuard;
}

/**
 * How far a reconciling full read may go: rows it did not see are retired only when they are
 * at most `maxShare` of the live rows (a partial read must never wipe a table), and never a
 * row whose version is at or after `since` (changed during the read, by a webhook say).
 */
export interface ActivationGuard {
  maxShare: number;
  /** The read's start, as an instant. */
  since: string;
}

export type Message = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage;

/**
 * The Meltano SDK's batch mode: the stream's records are in local files, one JSON object
 * per line, instead of in RECORD lines. Not a `Message`: the reader turns it into the
 * RECORD messages of its files before the loader sees anything.
 */
export interface BatchMessage {
  type: 'BATCH';
  stream: string;
  encoding: { format: 'jsonl'; compression: 'gzip' | 'none' };
  /** The files' `file:` URLs, in the order their records are loaded (checked to be local files). */
  manifest: string[];
}

/**
 * The deepest a SCHEMA's schema may nest arrays and objects. ajv compiles a schema by
 * recursion, several frames per level, and overflowed the main thread's stack between 200 and
 * 400 levels of `items`; real schemas stay far below this.
 */
export const MAX_SCHEMA_DEPTH = 100;

/** A line that is not a message we understand, with what is wrong and where. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

/** A message of a type this program does not know; skipped with a warning. */
export interface UnknownMessage {
  type: 'UNKNOWN';
  originalType: string;
}

/**
 * Parses one NDJSON line into a message for the loader. Throws ProtocolError naming the line
 * and the problem, also for a BATCH: its records are in files, which only a reader of
 * `parseMessageOrBatch` (sync target) fetches; passing it on would lose them.
 */
export function parseMessage(line: string, lineNumber: number): Message | UnknownMessage {
  const message = parseMessageOrBatch(line, lineNumber);
  if (message.type === 'BATCH') throw new ProtocolError(lineNumber, 'BATCH: batch files are not read here');
  return message;
}

/** Parses one NDJSON line, BATCH included. Throws ProtocolError naming the line and the problem. */
export function parseMessageOrBatch(line: string, lineNumber: number): Message | BatchMessage | UnknownMessage {
  let parsed;
  try {
    parsed = parseJson(line);
  } catch (err) {
    throw new ProtocolError(lineNumber, describeJsonError(err));
  }
  const msg = parsed.value;
  if (!isJsonObject(msg)) throw new ProtocolError(lineNumber, 'a message must be a JSON object');
  const rawType = msg['type'];
  if (typeof rawType !== 'string') throw new ProtocolError(lineNumber, 'message has no "type"');
  const type = rawType.toUpperCase();
  const fail = (problem: string): never => {
    throw new ProtocolError(lineNumber, `${type}: ${problem}`);
  };
  switch (type) {
    case 'RECORD': {
      const stream = requireStream(msg, fail);
      const record = msg['record'];
      if (!isJsonObject(record)) fail('"record" must be a JSON object');
      const out: RecordMessage = { type, stream, record: record as JsonObject };
      const version = msg['version'];
      if (typeof version === 'number') out.version = version;
      const extracted = msg['time_extracted'];
      if (typeof extracted === 'string') out.time_extracted = extracted;
      if (parsed.lossless) out.lossless = true;
      return out;
    }
    case 'SCHEMA': {
      const stream = requireStream(msg, fail);
      const schema = msg['schema'];
      if (!isJsonObject(schema)) fail('"schema" must be a JSON object');
      const s = schema as JsonObject;
      if (nestsDeeperThan(s, MAX_SCHEMA_DEPTH)) fail(`"schema" is nested deeper than ${MAX_SCHEMA_DEPTH} levels of arrays and objects`);
      // Some taps put key_properties inside the schema; accept it there too.
      const keys = stringList(msg['key_properties'] ?? s['key_properties'] ?? [], 'key_properties', fail);
      const out: SchemaMessage = { type, stream, schema: s, key_properties: keys };
      const bookmarks = msg['bookmark_properties'];
      if (bookmarks !== undefined && bookmarks !== null) {
        out.bookmark_properties = typeof bookmarks === 'string' ? [bookmarks] : stringList(bookmarks, 'bookmark_properties', fail);
      }
      return out;
    }
    case 'STATE': {
      if (!('value' in msg)) fail('missing "value"');
      return { type, value: msg['value'] as JsonValue };
    }
    case 'ACTIVATE_VERSION': {
      const stream = requireStream(msg, fail);
      const version = msg['version'];
      if (typeof version !== 'number' || !Number.isInteger(version)) fail('"version" must be an integer');
      return { type, stream, version: version as number };
    }
    case 'BATCH':
      return parseBatch(msg, fail);
    default:
      return { type: 'UNKNOWN', originalType: rawType };
  }
}

/** What is wrong with text that did not parse as JSON, for a message naming where it was. */
export function describeJsonError(err: unknown): string {
  if (err instanceof JsonDepthError) return `refused: ${err.message}`;
  return `malformed JSON (${err instanceof JsonSyntaxError ? err.message : 'invalid JSON'})`;
}

function parseBatch(msg: JsonObject, fail: (p: string) => never): BatchMessage {
  const stream = requireStream(msg, fail);
  const encoding = msg['encoding'];
  if (!isJsonObject(encoding)) return fail('"encoding" must be a JSON object with a "format"');
  const format = encoding['format'];
  if (typeof format !== 'string') return fail('"encoding.format" must be a string');
  if (format !== 'jsonl') return fail(`unsupported encoding format ${quote(format)} (only "jsonl" can be read)`);
  const compression = encoding['compression'] ?? 'none';
  if (compression !== 'gzip' && compression !== 'none') {
    return fail(`unsupported compression ${quote(compression)} (only "gzip" or "none")`);
  }
  const manifest = msg['manifest'];
  if (!Array.isArray(manifest) || manifest.length === 0) return fail('"manifest" must be a non-empty list of file URLs');
  manifest.forEach((entry, i) => {
    const problem = fileUrlProblem(entry);
    if (problem !== undefined) fail(`manifest entry ${i + 1} ${problem}`);
  });
  return { type: 'BATCH', stream, encoding: { format, compression }, manifest: manifest as string[] };
}

/** Why a manifest entry cannot be read as a local file, or undefined when it can. */
function fileUrlProblem(entry: JsonValue): string | undefined {
  if (typeof entry !== 'string') return 'is not a string';
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `is not a URL: ${quote(entry)}`;
  }
  if (url.protocol !== 'file:') return `is not a file:// URL: ${quote(entry)} (only local files can be read)`;
  try {
    fileURLToPath(url);
  } catch (err) {
    // e.g. `file://relative/path`, whose "relative" is a host name.
    return `is not a local absolute file URL: ${quote(entry)} (${(err as Error).message})`;
  }
  return undefined;
}

/** A value from the input for an error message: as JSON, cut short, since the input may be hostile. */
function quote(value: JsonValue): string {
  const text = stringifyJson(value);
  return text.length <= 200 ? text : `${text.slice(0, 200)}…`;
}

function requireStream(msg: JsonObject, fail: (p: string) => never): string {
  const stream = msg['stream'];
  if (typeof stream !== 'string' || stream === '') fail('"stream" must be a non-empty string');
  return stream;
}

function stringList(value: JsonValue, name: string, fail: (p: string) => never): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(`"${name}" must be a list of strings`);
  return value;
}

/**
 * One message as one line of JSON (no trailing newline). Records are written with
 * their numbers exactly as read; the parser's private `lossless` flag is not written.
 */
export function serializeMessage(msg: Message): string {
  switch (msg.type) {
    case 'RECORD': {
      let line = `{"type":"RECORD","stream":${JSON.stringify(msg.stream)},"record":${stringifyJson(msg.record)}`;
      if (msg.version !== undefined) line += `,"version":${msg.version}`;
      if (msg.time_extracted !== undefined) line += `,"time_extracted":${JSON.stringify(msg.time_extracted)}`;
      return line + '}';
    }
    case 'STATE':
      return `{"type":"STATE","value":${stringifyJson(msg.value)}}`;
    default:
      return stringifyJson(msg);
  }
}
