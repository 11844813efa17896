import type { JsonObject, JsonValue } from '../protocol/json.js';

/**
 * `application/x-www-form-urlencoded` bodies, with field names nested by brackets the way
 * PHP-style senders (Mailchimp and others) write them:
 *
 *     type=profile&data[email]=a@b.c&data[merges][FNAME]=Ann&tags[]=x&tags[]=y
 *     → {"type": "profile", "data": {"email": "a@b.c", "merges": {"FNAME": "Ann"}}, "tags": ["x", "y"]}
 *
 * - `+` is a space; names and values are percent-decoded before the brackets are read, so
 *   `data%5Bemail%5D` is `data[email]`.
 * - `[]` appends to a list: each `a[]=…` is a new element, and so is each `a[][k]=…`.
 *   `[0]` is a key like any other (`{"0": …}`): an index a sender writes cannot make a list
 *   of a billion empty slots.
 * - A name given twice keeps its last value (`a=1&a=2` is `{"a": "2"}`), as PHP does.
 * - Values stay strings: a form carries no types, and the stream's schema says what a
 *   field is.
 *
 * The body comes from whoever can reach the listener, so what would cost memory or open a
 * door is refused with a FormBodyError naming the field: more than MAX_FORM_FIELDS fields,
 * more than MAX_FORM_DEPTH bracket levels, `__proto__`, `constructor` or `prototype` as a
 * name, a name that is empty or whose brackets do not close, broken percent-encoding, and
 * a field that is both a value and a group (`a=1&a[b]=2`) or both a list and named fields.
 */

export const MAX_FORM_FIELDS = 10_000;
export const MAX_FORM_DEPTH = 32;

/** Names that reach an object's prototype machinery in some consumer; refused wherever they appear. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export class FormBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormBodyError';
  }
}

type Step = { kind: 'key'; key: string } | { kind: 'append' };

export function parseFormBody(text: string): JsonObject {
  const out: JsonObject = {};
  let field = 0;
  let start = 0;
  // Walks the pairs without splitting the whole body first: a body of millions of `&` is
  // refused after MAX_FORM_FIELDS of them, not after building millions of strings.
  while (start <= text.length) {
    const end = nextAmpersand(text, start);
    const pair = text.slice(start, end);
    start = end + 1;
    if (pair === '') continue;
    field += 1;
    if (field > MAX_FORM_FIELDS) throw new FormBodyError(`more than ${MAX_FORM_FIELDS} fields`);
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const name = decode(rawName, field, 'name');
    const value = decode(rawValue, field, `value of ${quoted(name)}`);
    place(out, namePath(name, field), value, name, field);
  }
  return out;
}

function nextAmpersand(text: string, from: number): number {
  const at = text.indexOf('&', from);
  return at < 0 ? text.length : at;
}

function decode(raw: string, field: number, what: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new FormBodyError(`field ${field}: the ${what} has broken percent-encoding (${quoted(raw)})`);
  }
}

/** `a[b][][c]` → a, then key b, append, key c. */
function namePath(name: string, field: number): { base: string; steps: Step[] } {
  const open = name.indexOf('[');
  const base = open < 0 ? name : name.slice(0, open);
  if (base === '') throw new FormBodyError(`field ${field}: ${name === '' ? 'the name is empty' : `the name ${quoted(name)} has nothing before its first bracket`}`);
  refuseForbidden(base, name, field);
  const steps: Step[] = [];
  let at = open;
  while (at >= 0 && at < name.length) {
    if (name[at] !== '[') throw new FormBodyError(`field ${field}: the name ${quoted(name)} has text after a closing bracket`);
    const close = name.indexOf(']', at + 1);
    if (close < 0) throw new FormBodyError(`field ${field}: the name ${quoted(name)} has a bracket that does not close`);
    const key = name.slice(at + 1, close);
    if (key.includes('[')) throw new FormBodyError(`field ${field}: the name ${quoted(name)} has a bracket inside a bracket`);
    if (steps.length === MAX_FORM_DEPTH) throw new FormBodyError(`field ${field}: the name ${quoted(name)} nests deeper than ${MAX_FORM_DEPTH} levels`);
    refuseForbidden(key, name, field);
    steps.push(key === '' ? { kind: 'append' } : { kind: 'key', key });
    at = close + 1;
  }
  return { base, steps };
}

function refuseForbidden(key: string, name: string, field: number): void {
  if (FORBIDDEN_NAMES.has(key)) throw new FormBodyError(`field ${field}: the name ${quoted(name)} uses ${quoted(key)}, which is refused`);
}

/** Puts `value` where the steps lead, creating groups on the way. */
function place(root: JsonObject, path: { base: string; steps: Step[] }, value: string, name: string, field: number): void {
  let container: JsonObject | JsonValue[] = root;
  let key: Step = { kind: 'key', key: path.base };
  for (const next of path.steps) {
    container = child(container, key, next.kind === 'append' ? 'list' : 'group', name, field);
    key = next;
  }
  if (key.kind === 'append') {
    (container as JsonValue[]).push(value);
    return;
  }
  const group = container as JsonObject;
  const existing = Object.hasOwn(group, key.key) ? group[key.key] : undefined;
  if (existing !== undefined && typeof existing !== 'string') {
    throw new FormBodyError(`field ${field}: ${quoted(name)} is a value, but earlier fields made it a ${Array.isArray(existing) ? 'list' : 'group'}`);
  }
  group[key.key] = value;
}

/** The list or group at `step` inside `container`, made when absent. */
function child(container: JsonObject | JsonValue[], step: Step, want: 'list' | 'group', name: string, field: number): JsonObject | JsonValue[] {
  const made: JsonObject | JsonValue[] = want === 'list' ? [] : {};
  if (step.kind === 'append') {
    (container as JsonValue[]).push(made);
    return made;
  }
  const group = container as JsonObject;
  const existing = Object.hasOwn(group, step.key) ? group[step.key] : undefined;
  if (existing === undefined) {
    group[step.key] = made;
    return made;
  }
  const kind = typeof existing === 'string' ? 'value' : Array.isArray(existing) ? 'list' : 'group';
  if (kind !== want) {
    throw new FormBodyError(`field ${field}: ${quoted(name)} uses ${quoted(step.key)} as a ${want}, but earlier fields made it a ${kind}`);
  }
  return existing as JsonObject | JsonValue[];
}

/** A name or raw text for a message: quoted, and cut short, since it comes from the sender. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
