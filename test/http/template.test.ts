import { describe, expect, it } from 'vitest';
import { fillJson, fillText, hasPlaceholder, quote } from '../../src/http/template.js';

describe('request templates', () => {
  it('put a bound into SOQL bare when it is a date-time, and drop the optional part on a first run', () => {
    const soql = 'SELECT Id FROM Contact[[ WHERE SystemModstamp >= {bookmark}]] ORDER BY SystemModstamp';
    expect(fillText(soql, { bookmark: '2024-05-01T10:00:00Z' }, 'soql')).toBe('SELECT Id FROM Contact WHERE SystemModstamp >= 2024-05-01T10:00:00Z ORDER BY SystemModstamp');
    expect(fillText(soql, {}, 'soql')).toBe('SELECT Id FROM Contact ORDER BY SystemModstamp');
  });

  it('quote text so a value can never end the literal or the term early', () => {
    expect(fillText("Name = {parent}", { parent: "O'Brien\\' OR Name != '" }, 'soql')).toBe("Name = 'O\\'Brien\\\\\\' OR Name != \\''");
    expect(fillText('updated_at:>={bookmark}', { bookmark: "2024' OR status:any" }, 'search')).toBe("updated_at:>='2024\\' OR status:any'");
    expect(quote(42, 'soql')).toBe('42');
  });

  it('leave GraphQL braces and unknown names alone', () => {
    const q = 'query ($after: String) { orders(first: 50, after: $after, query: "{x}") { nodes { id } } }';
    expect(hasPlaceholder(q)).toBe(false);
    expect(fillText(q, { bookmark: 'b' }, 'none')).toBe(q);
  });

  it('fill a JSON body: a whole-string placeholder keeps the value as it is, a number a number', () => {
    const body = { filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: '{bookmark}' }] }], owner: '{parent}', q: 'since {bookmark}' };
    expect(fillJson(body, { bookmark: 1714557600000, parent: '77' }, 'none')).toEqual({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: 1714557600000 }] }],
      owner: '77',
      q: 'since 1714557600000',
    });
  });

  it('a placeholder without a value outside [[ ]] is an error naming it', () => {
    expect(() => fillText('x >= {bookmark}', {}, 'soql')).toThrow(/\{bookmark\} has no value here/);
  });
});
