import { describe, expect, it } from 'vitest';
import { FormBodyError, MAX_FORM_DEPTH, MAX_FORM_FIELDS, parseFormBody } from '../../src/listen/form-body.js';

function refusal(text: string): string {
  try {
    parseFormBody(text);
  } catch (err) {
    expect(err).toBeInstanceOf(FormBodyError);
    return (err as Error).message;
  }
  throw new Error(`parseFormBody accepted ${text.slice(0, 100)}`);
}

describe('form bodies with bracket names', () => {
  it('nests bracket names into objects, the way Mailchimp sends a profile update', () => {
    const body = 'type=profile&fired_at=2026-01-01+10%3A00%3A00&data[email]=a%40b.c&data[merges][FNAME]=Ann&data[merges][INTERESTS]=x%2C+y';
    expect(parseFormBody(body)).toEqual({
      type: 'profile',
      fired_at: '2026-01-01 10:00:00',
      data: { email: 'a@b.c', merges: { FNAME: 'Ann', INTERESTS: 'x, y' } },
    });
  });

  it('reads percent-encoded brackets as brackets, and keeps the spaces and plus signs the sender meant', () => {
    expect(parseFormBody('data%5Bemail%5D=a%2Bb%40c.d&data%5Bname%5D=Ann+Lee')).toEqual({ data: { email: 'a+b@c.d', name: 'Ann Lee' } });
  });

  it('makes a list of a[] fields, and a new element for each a[][k]', () => {
    expect(parseFormBody('a[]=1&a[]=2&a[]=3')).toEqual({ a: ['1', '2', '3'] });
    expect(parseFormBody('items[][id]=1&items[][id]=2')).toEqual({ items: [{ id: '1' }, { id: '2' }] });
    expect(parseFormBody('m[tags][]=x&m[tags][]=y')).toEqual({ m: { tags: ['x', 'y'] } });
  });

  it('keeps the last value of a name given twice', () => {
    expect(parseFormBody('a=1&a=2&d[k]=x&d[k]=y')).toEqual({ a: '2', d: { k: 'y' } });
  });

  it('keeps values as strings, an empty value or a bare name as the empty string, and skips empty pairs', () => {
    expect(parseFormBody('n=42&t=true&e=&bare&&z=%00')).toEqual({ n: '42', t: 'true', e: '', bare: '', z: '\u0000' });
    expect(parseFormBody('')).toEqual({});
  });

  it('takes an explicit index as a key, so a huge index allocates nothing', () => {
    const parsed = parseFormBody('a[4294967295]=x&a[0]=y');
    expect(parsed).toEqual({ a: { '4294967295': 'x', '0': 'y' } });
    expect(Array.isArray(parsed['a'])).toBe(false);
  });

  it(`accepts ${MAX_FORM_DEPTH} bracket levels and refuses one more, naming the field`, () => {
    const at = (levels: number): string => `a${'[k]'.repeat(levels)}=v`;
    let node: unknown = parseFormBody(at(MAX_FORM_DEPTH))['a'];
    for (let i = 1; i < MAX_FORM_DEPTH; i++) node = (node as Record<string, unknown>)['k'];
    expect(node).toEqual({ k: 'v' });
    expect(refusal(`ok=1&${at(MAX_FORM_DEPTH + 1)}`)).toMatch(/^field 2: the name "a\[k\]\[k\].*…" nests deeper than 32 levels$/);
    // A million levels is refused as quickly, without building anything.
    expect(refusal(`a${'['.repeat(1)}${'[]'.repeat(1_000_000)}=v`)).toMatch(/field 1: the name .* has a bracket inside a bracket/);
    expect(refusal(`a${'[]'.repeat(1_000_000)}=v`)).toMatch(/field 1: .* nests deeper than 32 levels/);
  });

  it(`accepts ${MAX_FORM_FIELDS} fields and refuses one more, also when the extra fields are a list`, () => {
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `a[]=${i}`).join('&');
    expect((parseFormBody(fields(MAX_FORM_FIELDS))['a'] as string[]).length).toBe(MAX_FORM_FIELDS);
    expect(refusal(fields(MAX_FORM_FIELDS + 1))).toBe('more than 10000 fields');
    // Two million ampersands: refused after the limit, not after splitting the body.
    expect(refusal('x=1&'.repeat(2_000_000))).toBe('more than 10000 fields');
  });

  it.each([
    ['__proto__[polluted]=yes', '__proto__'],
    ['a[__proto__][polluted]=yes', '__proto__'],
    ['%5F%5Fproto%5F%5F[polluted]=yes', '__proto__'],
    ['constructor[prototype][polluted]=yes', 'constructor'],
    ['a[constructor]=x', 'constructor'],
    ['a[b][prototype]=x', 'prototype'],
    ['__proto__=x', '__proto__'],
  ])('refuses %s, and no object gains a property', (body, name) => {
    expect(refusal(body)).toContain(`uses "${name}", which is refused`);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((Object.prototype as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('treats names that only look like prototype members as plain keys', () => {
    const parsed = parseFormBody('toString=x&d[hasOwnProperty]=y&d[valueOf][]=z');
    expect(Object.hasOwn(parsed, 'toString')).toBe(true);
    expect(parsed).toEqual({ toString: 'x', d: { hasOwnProperty: 'y', valueOf: ['z'] } });
  });

  it.each([
    ['=x', 'field 1: the name is empty'],
    ['a=1&[b]=x', 'field 2: the name "[b]" has nothing before its first bracket'],
    ['a[b=x', 'field 1: the name "a[b" has a bracket that does not close'],
    ['a[b]c=x', 'field 1: the name "a[b]c" has text after a closing bracket'],
    ['a[b[c]]=x', 'field 1: the name "a[b[c]]" has a bracket inside a bracket'],
    ['a=%E0%A4%A', 'field 1: the value of "a" has broken percent-encoding ("%E0%A4%A")'],
    ['a%ZZ=1', 'field 1: the name has broken percent-encoding ("a%ZZ")'],
    ['a=1&a[b]=2', 'field 2: "a[b]" uses "a" as a group, but earlier fields made it a value'],
    ['a[b]=2&a=1', 'field 2: "a" is a value, but earlier fields made it a group'],
    ['a[]=1&a[x]=2', 'field 2: "a[x]" uses "a" as a group, but earlier fields made it a list'],
    ['a[x]=1&a[]=2', 'field 2: "a[]" uses "a" as a list, but earlier fields made it a group'],
  ])('refuses %s with a message naming the field', (body, message) => {
    expect(refusal(body)).toBe(message);
  });

  it('cuts a long hostile name short in its message', () => {
    const message = refusal(`${'x'.repeat(100_000)}[=1`);
    expect(message.length).toBeLessThan(200);
    expect(message).toContain('…');
  });
});
