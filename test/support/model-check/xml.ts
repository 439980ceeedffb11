/** A small XML reader for the bodies of the query and rest-xml protocols (elements, attributes, text). */

/** An element: its local name, attributes and children, or its text when it has none. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (all, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? all;
  });
}

/** Parses a document into its root element; throws on what is not well-formed enough to read. */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const re =
    /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/\s*([^\s>]+)\s*>|<([^\s/>]+)((?:\s+[^\s=]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const top = stack[stack.length - 1];
    if (m[1] !== undefined) {
      if (top) top.text += m[1];
    } else if (m[2] !== undefined) {
      const name = m[2].replace(/^[^:]*:/, '');
      if (top?.name !== name) throw new Error(`XML: </${m[2]}> does not close <${top?.name ?? ''}>`);
      stack.pop();
    } else if (m[3] !== undefined) {
      const attributes: Record<string, string> = {};
      for (const a of (m[4] ?? '').matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
        attributes[a[1] ?? ''] = decode(a[2] ?? a[3] ?? '');
      const el: XmlElement = { name: m[3].replace(/^[^:]*:/, ''), attributes, children: [], text: '' };
      if (top) top.children.push(el);
      else if (root) throw new Error('XML: more than one root element');
      else root = el;
      if (m[5] !== '/') stack.push(el);
    } else if (m[6] !== undefined && top) {
      top.text += decode(m[6]);
    }
  }
  if (!root || stack.length) throw new Error('XML: no complete root element');
  return root;
}
