/**
 * A small XML reader for webhook bodies (Salesforce Outbound Messages are SOAP). One pass,
 * linear in the input, bounded depth; no DTD, no entities beyond the five predefined and
 * numeric references, so an entity-expansion or external-entity attack has nothing to use.
 */

export interface XmlElement {
  /** Local name, namespace prefix removed (`sf:Name` → `Name`). */
  name: string;
  /** Attributes by their full name (`xsi:type`). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside the element, entities decoded. */
  text: string;
}

const MAX_DEPTH = 64;
const NAME = /^[A-Za-z_][\w.:-]*/;
const ATTRIBUTE = /([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/g;

export class XmlError extends Error {
  override name = 'XmlError';
}

export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  for (;;) {
    const open = text.indexOf('<', i);
    const current = stack[stack.length - 1] as XmlElement;
    current.text += decode(text.slice(i, open === -1 ? text.length : open));
    if (open === -1) break;
    if (text.startsWith('<?', open)) {
      i = after(text, '?>', open);
    } else if (text.startsWith('<!--', open)) {
      i = after(text, '-->', open);
    } else if (text.startsWith('<![CDATA[', open)) {
      const end = text.indexOf(']]>', open);
      if (end === -1) throw new XmlError('unterminated CDATA section');
      current.text += text.slice(open + 9, end);
      i = end + 3;
    } else if (text.startsWith('<!', open)) {
      throw new XmlError('DOCTYPE and other declarations are not accepted');
    } else if (text.startsWith('</', open)) {
      const close = after(text, '>', open);
      const name = localName(text.slice(open + 2, close - 1).trim());
      if (stack.length === 1 || current.name !== name) throw new XmlError(`unexpected closing tag </${name}>`);
      stack.pop();
      i = close;
    } else {
      const end = tagEnd(text, open);
      const inside = text.slice(open + 1, end);
      const selfClosing = inside.endsWith('/');
      const body = selfClosing ? inside.slice(0, -1) : inside;
      const name = NAME.exec(body)?.[0];
      if (name === undefined) throw new XmlError(`malformed tag at position ${open + 1}`);
      const element: XmlElement = { name: localName(name), attributes: {}, children: [], text: '' };
      for (const m of body.slice(name.length).matchAll(ATTRIBUTE)) element.attributes[m[1] as string] = decode(m[3] ?? m[4] ?? '');
      current.children.push(element);
      if (!selfClosing) {
        if (stack.length > MAX_DEPTH) throw new XmlError(`nesting deeper than ${MAX_DEPTH}`);
        stack.push(element);
      }
      i = end + 1;
    }
  }
  if (stack.length !== 1) throw new XmlError(`unterminated element <${(stack[stack.length - 1] as XmlElement).name}>`);
  return root;
}

/** Every element with this local name, depth first. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const visit = (e: XmlElement): void => {
    for (const child of e.children) {
      if (child.name === name) out.push(child);
      visit(child);
    }
  };
  visit(element);
  return out;
}

function localName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function after(text: string, token: string, from: number): number {
  const at = text.indexOf(token, from);
  if (at === -1) throw new XmlError(`unterminated ${text.slice(from, from + 4)}`);
  return at + token.length;
}

/** The `>` ending a tag, skipping quoted attribute values. */
function tagEnd(text: string, from: number): number {
  let quote = '';
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return i;
    } else if (c === '<') {
      break;
    }
  }
  throw new XmlError(`unterminated tag at position ${from + 1}`);
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return safeCodePoint(parseInt(ref.slice(1), 10), whole);
    const named = NAMED[ref];
    if (named === undefined) throw new XmlError(`unknown entity &${ref};`);
    return named;
  });
}

function safeCodePoint(code: number, whole: string): string {
  if (!Number.isInteger(code) || code < 0 || code > 0x10ffff) throw new XmlError(`invalid character reference ${whole}`);
  return String.fromCodePoint(code);
}
