/**
 * A tiny XML reader for checking TwiML answers in tests: it refuses what is not well-formed (one
 * root element, balanced tags, double-quoted attributes without duplicates, only the five predefined
 * entities) and returns the element tree with decoded text.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string): string {
  if (/&(?!(amp|lt|gt|quot|apos);)/.test(raw)) throw new Error(`bad entity in ${JSON.stringify(raw)}`);
  return raw.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]!);
}

function attributes(raw: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of raw.matchAll(/([\w:-]+)="([^"<]*)"/g)) {
    if (Object.hasOwn(attrs, m[1]!)) throw new Error(`duplicate attribute ${m[1]}`);
    attrs[m[1]!] = decode(m[2]!);
  }
  return attrs;
}

export function parseXml(source: string): XmlElement {
  const src = source.replace(/^<\?xml\s[^?]*\?>/, '');
  const doc: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [doc];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  let at = 0;
  while (at < src.length) {
    token.lastIndex = at;
    const m = token.exec(src);
    if (!m) throw new Error(`not well-formed at ${at}: ${src.slice(at, at + 40)}`);
    at = token.lastIndex;
    const top = stack.at(-1)!;
    if (m[5] !== undefined) {
      if (top === doc && m[5].trim()) throw new Error('text outside the root element');
      top.text += decode(m[5]);
    } else if (m[1]) {
      if (m[3] || m[4]) throw new Error(`bad closing tag ${m[0]}`);
      if (top.name !== m[2]) throw new Error(`</${m[2]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const el: XmlElement = { name: m[2]!, attrs: attributes(m[3] ?? ''), children: [], text: '' };
      if (top === doc && doc.children.length) throw new Error('more than one root element');
      top.children.push(el);
      if (!m[4]) stack.push(el);
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is not closed`);
  if (doc.children.length !== 1) throw new Error('no root element');
  return doc.children[0]!;
}

/** The names of an element's children, e.g. ['Gather', 'Say', 'Hangup']. */
export const verbs = (el: XmlElement): string[] => el.children.map((c) => c.name);
