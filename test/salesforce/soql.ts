/**
 * The part of SOQL the model answers, read the way the API reads it:
 *
 *   SELECT <field>, <field>… FROM <object> [WHERE <field> <op> <literal>] [ORDER BY <field> [ASC|DESC]] [LIMIT <n>]
 *
 * Literals: date-times bare (`2026-01-10T00:00:00Z`, `…00.000+01:00`), dates bare, numbers,
 * `true`/`false`/`null`, text in single quotes with backslash escapes. A date-time or date
 * field compared with a quoted value is refused as the API refuses it (INVALID_FIELD: "must be
 * of type dateTime and should not be enclosed in quotes"); anything else outside this grammar
 * is MALFORMED_QUERY.
 */

export type Literal = { kind: 'datetime' | 'date' | 'text'; text: string } | { kind: 'number'; value: number } | { kind: 'boolean'; value: boolean } | { kind: 'null' };

export interface Soql {
  fields: string[];
  object: string;
  where?: { field: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: Literal };
  orderBy?: { field: string; descending: boolean };
  limit?: number;
}

export class SoqlError extends Error {
  constructor(
    readonly errorCode: 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE',
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /\s*(?:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))|(\d{4}-\d{2}-\d{2})(?![\dT])|('(?:[^'\\]|\\.)*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w.]*)|(>=|<=|!=|=|<|>|,))/y;

type Token = { type: 'datetime' | 'date' | 'quoted' | 'number' | 'word' | 'symbol'; text: string };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < q.length) {
    if (/^\s*$/.test(q.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(q);
    if (!m) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${q.slice(at).trim().split(/\s+/)[0] ?? ''}'`);
    const [, dt, d, quoted, num, word, symbol] = m;
    if (dt !== undefined) out.push({ type: 'datetime', text: dt });
    else if (d !== undefined) out.push({ type: 'date', text: d });
    else if (quoted !== undefined) out.push({ type: 'quoted', text: quoted.slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (num !== undefined) out.push({ type: 'number', text: num });
    else if (word !== undefined) out.push({ type: 'word', text: word });
    else out.push({ type: 'symbol', text: symbol as string });
    at = TOKEN.lastIndex;
  }
  return out;
}

export function parseSoql(q: string): Soql {
  const tokens = tokenize(q);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const next = (): Token => {
    const t = tokens[i++];
    if (t === undefined) throw new SoqlError('MALFORMED_QUERY', 'unexpected end of query');
    return t;
  };
  const keyword = (word: string): boolean => {
    const t = peek();
    if (t?.type === 'word' && t.text.toUpperCase() === word) {
      i++;
      return true;
    }
    return false;
  };
  const expectWord = (): string => {
    const t = next();
    if (t.type !== 'word') throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${t.text}'`);
    return t.text;
  };
  if (!keyword('SELECT')) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${peek()?.text ?? ''}'`);
  const fields = [expectWord()];
  while (peek()?.text === ',') {
    i++;
    fields.push(expectWord());
  }
  if (!keyword('FROM')) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${peek()?.text ?? ''}'`);
  const query: Soql = { fields, object: expectWord() };
  if (keyword('WHERE')) {
    const field = expectWord();
    const op = next();
    if (op.type !== 'symbol' || op.text === ',') throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${op.text}'`);
    query.where = { field, op: op.text as NonNullable<Soql['where']>['op'], value: literal(next()) };
  }
  if (keyword('ORDER')) {
    if (!keyword('BY')) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${peek()?.text ?? ''}'`);
    const field = expectWord();
    const descending = keyword('DESC');
    if (!descending) keyword('ASC');
    query.orderBy = { field, descending };
  }
  if (keyword('LIMIT')) {
    const n = next();
    if (n.type !== 'number') throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${n.text}'`);
    query.limit = Number(n.text);
  }
  if (i < tokens.length) throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${tokens[i]?.text ?? ''}'`);
  return query;
}

function literal(t: Token): Literal {
  switch (t.type) {
    case 'datetime':
      return { kind: 'datetime', text: t.text };
    case 'date':
      return { kind: 'date', text: t.text };
    case 'quoted':
      return { kind: 'text', text: t.text };
    case 'number':
      return { kind: 'number', value: Number(t.text) };
    case 'word': {
      const w = t.text.toLowerCase();
      if (w === 'true' || w === 'false') return { kind: 'boolean', value: w === 'true' };
      if (w === 'null') return { kind: 'null' };
      throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${t.text}'`);
    }
    default:
      throw new SoqlError('MALFORMED_QUERY', `unexpected token: '${t.text}'`);
  }
}
