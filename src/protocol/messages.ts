import { isJsonObject, parseJson, stringifyJson, JsonSyntaxError, type JsonObject, type JsonValue } from './json.js';

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
}

export interface StateMessage {
  type: 'STATE';
  value: JsonValue;
}

export interface ActivateVersionMessage {
  type: 'ACTIVATE_VERSION';
  stream: string;
  version: number;
}

export type Message = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage;

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

/** Parses one NDJSON line into a message. Throws ProtocolError naming the line and the problem. */
export function parseMessage(line: string, lineNumber: number): Message | UnknownMessage {
  let parsed;
  try {
    parsed = parseJson(line);
  } catch (err) {
    const detail = err instanceof JsonSyntaxError ? err.message : 'invalid JSON';
    throw new ProtocolError(lineNumber, `malformed JSON (${detail})`);
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
    default:
      return { type: 'UNKNOWN', originalType: rawType };
  }
}

function requireStream(msg: JsonObject, fail: (p: string) => never): string {
  const stream = msg['stream'];
  if (typeof stream !== 'string' || stream === '') fail('"stream" must be a non-empty string');
  return stream as string;
}

function stringList(value: JsonValue, name: string, fail: (p: string) => never): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(`"${name}" must be a list of strings`);
  return value as string[];
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
