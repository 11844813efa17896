import type { JsonObject } from '../../src/protocol/json.js';

/**
 * A CRM object's record: HubSpot's fixed fields, then each property read as a column of its
 * own. HubSpot gives every property value as text (numbers and dates included), or null, so
 * they are kept as text: exact, and the same whichever endpoint answered.
 */
export function crmObjectSchema(properties: readonly string[]): JsonObject {
  const columns: JsonObject = {};
  for (const name of properties) columns[name] = { type: ['null', 'string'] };
  return {
    type: 'object',
    properties: {
      ...columns,
      id: { type: 'string' },
      createdAt: { type: ['null', 'string'], format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      archived: { type: ['null', 'boolean'] },
      archivedAt: { type: ['null', 'string'], format: 'date-time' },
    },
  };
}

/** The fields HubSpot's reference documents for an owner (a user who can own records). */
export const ownerSchema: JsonObject = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: ['null', 'string'] },
    firstName: { type: ['null', 'string'] },
    lastName: { type: ['null', 'string'] },
    userId: { type: ['null', 'integer'] },
    userIdIncludingInactive: { type: ['null', 'integer'] },
    type: { type: ['null', 'string'] },
    createdAt: { type: ['null', 'string'], format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    archived: { type: ['null', 'boolean'] },
    teams: { type: ['null', 'array'] },
  },
};
