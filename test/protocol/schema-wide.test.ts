import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/protocol/json.js';
import { SchemaError, SchemaRegistry, type StreamSchema } from '../../src/protocol/schema.js';
import { record as sdkRecord, schema as sdkSchema } from '../fixtures/sdk-shaped-schema/schema.js';

/**
 * Schema checking stays proportionate to the schema: wide ones (thousands of properties, as
 * HubSpot and Salesforce send) are compiled in parts, without a recursion that grows with the
 * number of properties, and still name the property that breaks them.
 */

const name = (i: number): string => `property_${String(i).padStart(4, '0')}`;

/** `count` flat nullable properties, every third a date-time; `id` first. */
function flat(count: number, extra: JsonObject = {}): JsonObject {
  const properties: JsonObject = { id: { type: 'integer' } };
  for (let i = 0; i < count; i++) properties[name(i)] = i % 3 === 0 ? { type: ['string', 'null'], format: 'date-time' } : { type: ['string', 'null'] };
  return { type: 'object', properties, ...extra };
}

function open(schema: JsonObject, validate = true, registry = new SchemaRegistry()): StreamSchema {
  return registry.open({ type: 'SCHEMA', stream: 'wide', schema, key_properties: ['id'] }, validate);
}

describe('wide schemas', () => {
  it('opens a schema of 10,000 properties and names the one of a record that breaks it', () => {
    const stream = open(flat(10_000));
    expect(Object.keys(stream.properties)).toHaveLength(10_001);
    expect(stream.validate({ id: 1, [name(0)]: '2025-01-01T00:00:00Z', [name(9_998)]: 'text', [name(9_999)]: null }, false)).toBeUndefined();
    expect(stream.validate({ id: 1, [name(9_998)]: 'text', [name(9_999)]: 42 }, false)).toBe('property_9999 must be string,null');
    expect(stream.validate({ id: 1, [name(9_997)]: 42 }, false)).toBe('property_9997 must be string,null');
    // The instant parser still checks date-times: a month 13 is no instant.
    expect(stream.validate({ id: 1, [name(9_999)]: '2024-13-45T99:00:00Z' }, false)).toBe('property_9999 must match format "date-time"');
    expect(stream.validate({ id: 'one' }, false)).toBe('id must be integer');
  });

  it('opens it without validation too, checking nothing', () => {
    const stream = open(flat(10_000), false);
    expect(Object.keys(stream.properties)).toHaveLength(10_001);
    expect(stream.validate({ id: 1, [name(9_999)]: 42 }, false)).toBeUndefined();
  });

  it('keeps the keywords that concern the whole record: required, additionalProperties, type', () => {
    const stream = open(flat(3_000, { required: ['id', name(2_999)], additionalProperties: false }));
    expect(stream.validate({ id: 1, [name(2_999)]: 'x' }, false)).toBeUndefined();
    expect(stream.validate({ id: 1 }, false)).toBe("record must have required property 'property_2999'");
    expect(stream.validate({ id: 1, [name(2_999)]: 'x', stray: 1 }, false)).toBe('record must NOT have additional properties');
  });

  it('follows records into wide nested objects and arrays of wide objects, naming the whole path', () => {
    const custom = flat(2_500);
    const stream = open({
      type: 'object',
      properties: { id: { type: 'integer' }, custom, lines: { type: 'array', items: flat(1_500, { required: ['id'] }) } },
    });
    expect(stream.validate({ id: 1, custom: { [name(2_498)]: 'x' }, lines: [{ id: 1 }, { id: 2, [name(1_499)]: null }] }, false)).toBeUndefined();
    expect(stream.validate({ id: 1, custom: { [name(2_498)]: 7 } }, false)).toBe('custom.property_2498 must be string,null');
    expect(stream.validate({ id: 1, lines: [{ id: 1 }, { [name(4)]: 'x' }] }, false)).toBe("lines.1 must have required property 'id'");
    expect(stream.validate({ id: 1, custom: [] }, false)).toBe('custom must be object');
  });

  it('writes property names in a path as ajv does in a narrow schema', () => {
    const schema = flat(500);
    (schema['properties'] as JsonObject)['a/b~c'] = { type: 'integer' };
    expect(open(schema).validate({ id: 1, 'a/b~c': 'x' }, false)).toBe('a~1b~0c must be integer');
    expect(open({ type: 'object', properties: { 'a/b~c': { type: 'integer' } } }).validate({ 'a/b~c': 'x' }, false)).toBe('a~1b~0c must be integer');
  });

  it('resolves references into the definitions from every part, and any other reference in one piece', () => {
    const schema = flat(3_000, { definitions: { money: { type: 'number', minimum: 0 } } });
    (schema['properties'] as JsonObject)['price'] = { $ref: '#/definitions/money' };
    expect(open(schema).validate({ id: 1, price: -1 }, false)).toBe('price must be >= 0');
    const sibling = flat(300);
    (sibling['properties'] as JsonObject)['copy'] = { $ref: '#/properties/id' };
    expect(open(sibling).validate({ id: 1, copy: 'x' }, false)).toBe('copy must be integer');
  });

  it('validates records of a schema shaped like the SDK fundamentals tap (1.5 MB)', () => {
    const schema = sdkSchema();
    expect(JSON.stringify(schema).length).toBeGreaterThan(1_400_000);
    const stream = open(schema);
    for (let n = 0; n < 20; n++) expect(stream.validate(sdkRecord(n), false)).toBeUndefined();
    const broken = sdkRecord(3);
    (broken['section_03'] as JsonObject)['entries'] = [{ entry_id: 1 }, { entry_id: 'two' }];
    expect(stream.validate(broken, false)).toBe('section_03.entries.1.entry_id must be integer');
    const custom = sdkRecord(4);
    custom['custom_properties'] = { custom_0000: 12 };
    expect(stream.validate(custom, false)).toBe('custom_properties.custom_0000 must be string,null');
  });
});

describe('schemas without properties', () => {
  it('are opened with no properties, and records are taken as they are', () => {
    const stream = new SchemaRegistry().open({ type: 'SCHEMA', stream: 's', schema: { type: 'object' }, key_properties: [] });
    expect(stream.properties).toEqual({});
    expect(stream.validate({ anything: [1, { b: 2 }] }, false)).toBeUndefined();
  });

  it('still refuses properties that are not an object', () => {
    expect(() => new SchemaRegistry().open({ type: 'SCHEMA', stream: 's', schema: { properties: [] }, key_properties: [] }, false)).toThrow(SchemaError);
    expect(() => new SchemaRegistry().open({ type: 'SCHEMA', stream: 's', schema: { properties: 'id' }, key_properties: [] })).toThrow(
      'the schema of stream "s" has "properties" that is not an object',
    );
  });
});
