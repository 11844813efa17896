import { parseInstant } from '../../../src/protocol/instant.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../../src/protocol/json.js';

/** Collects problems as `path: message`; each part of the description language checks its keys through it. */
export class Checker {
  readonly problems: string[] = [];

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(value: JsonValue | undefined, path: string): value is JsonObject {
    if (isJsonObject(value)) return true;
    this.problem(path, value === undefined ? 'required' : 'must be an object');
    return false;
  }

  unknownKeys(value: JsonObject, path: string, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.problem(path === '' ? key : `${path}.${key}`, `unknown key (known: ${known.join(', ')})`);
    }
  }

  string(value: JsonValue | undefined, path: string, required: boolean): string | undefined {
    if (value === undefined) {
      if (required) this.problem(path, 'required');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.problem(path, 'must be a non-empty string');
      return undefined;
    }
    return value;
  }

  url(value: JsonValue | undefined, path: string, required: boolean): string | undefined {
    const text = this.string(value, path, required);
    if (text === undefined) return undefined;
    if (!/^https?:\/\/[^/]/i.test(text)) {
      this.problem(path, `must be an http(s) URL (got ${JSON.stringify(text)})`);
      return undefined;
    }
    return text;
  }

  dateTime(value: JsonValue | undefined, path: string): string | undefined {
    const text = this.string(value, path, false);
    if (text !== undefined && parseInstant(text) === undefined) {
      this.problem(path, `must be an ISO 8601 date-time such as 2024-01-31T00:00:00Z (got ${JSON.stringify(text)})`);
      return undefined;
    }
    return text;
  }

  oneOf(value: JsonValue | undefined, path: string, options: readonly string[], required: boolean): string | undefined {
    if (value === undefined) {
      if (required) this.problem(path, `required, one of ${options.join(', ')}`);
      return undefined;
    }
    if (typeof value !== 'string' || !options.includes(value)) {
      this.problem(path, `must be one of ${options.join(', ')} (got ${JSON.stringify(value)})`);
      return undefined;
    }
    return value;
  }

  boolean(value: JsonValue | undefined, path: string): boolean | undefined {
    if (value === undefined || typeof value === 'boolean') return value;
    this.problem(path, 'must be true or false');
    return undefined;
  }

  number(value: JsonValue | undefined, path: string, minimum: number): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
      this.problem(path, `must be a number >= ${minimum}`);
      return undefined;
    }
    return value;
  }

  stringMap(value: JsonValue | undefined, path: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (value === undefined || !this.object(value, path)) return out;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') out[k] = v;
      else this.problem(`${path}.${k}`, 'must be a string');
    }
    return out;
  }

  /** Request parameters: an object of strings, numbers and booleans. */
  params(value: JsonValue | undefined, path: string): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {};
    if (value === undefined || !this.object(value, path)) return out;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
      else this.problem(`${path}.${k}`, 'must be a string, number or boolean');
    }
    return out;
  }

  /** A list of non-empty strings (names); undefined when absent. */
  names(value: JsonValue | undefined, path: string): string[] | undefined {
    if (value === undefined) return undefined;
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
    this.problem(path, 'must be a non-empty list of names');
    return undefined;
  }

  keyList(value: JsonValue | undefined, path: string): string[] | undefined {
    if (value === undefined) return [];
    if (typeof value === 'string' && value !== '') return [value];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
    this.problem(path, 'must be a property name or a list of them');
    return undefined;
  }
}
