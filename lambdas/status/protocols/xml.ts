/**
 * A small XML writer for the OGC status documents. The documents are tiny and fixed in shape,
 * so a tree of plain objects rendered by one function is enough; a full XML library would cost
 * Lambda bundle size and cold-start time for nothing.
 *
 * Everything that comes from the status table (task text, exception messages, ids, URLs) passes
 * through the escapers here, so a node cannot break or inject markup into a client's document.
 */

/** Namespaces used by the documents, in one place so builders and parsers agree on them. */
export const NS = {
  wps1: 'http://www.opengis.net/wps/1.0.0',
  ows11: 'http://www.opengis.net/ows/1.1',
  wps2: 'http://www.opengis.net/wps/2.0',
  ows20: 'http://www.opengis.net/ows/2.0',
  xlink: 'http://www.w3.org/1999/xlink',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export type XmlAttributeValue = string | number | undefined;

export interface XmlElement {
  readonly name: string;
  /** Attributes in output order; undefined values are left out, so optional ones need no branching. */
  readonly attributes: ReadonlyArray<readonly [string, XmlAttributeValue]>;
  readonly children: readonly XmlNode[];
}

/** A string child is character data. */
export type XmlNode = XmlElement | string;

/** A child slot that may be empty: `false` and `undefined` let builders write `cond && el(...)`. */
export type XmlChild = XmlNode | undefined | false | null;

/**
 * Builds an element. Attributes are given as an object (insertion order is kept) and children
 * may contain empty slots, which are dropped.
 */
export function el(
  name: string,
  attributes: Readonly<Record<string, XmlAttributeValue>> = {},
  ...children: readonly XmlChild[]
): XmlElement {
  assertName(name);
  for (const attributeName of Object.keys(attributes)) assertName(attributeName);
  return {
    name,
    attributes: Object.entries(attributes),
    children: children.filter((child): child is XmlNode => child !== undefined && child !== false && child !== null),
  };
}

// QName-ish: letters, digits, '.', '-', '_' and at most one ':'. Names are always written by this
// code, never taken from a request, so a bad one is a programming error worth failing loudly on.
const NAME = /^[A-Za-z_][A-Za-z0-9._-]*(:[A-Za-z_][A-Za-z0-9._-]*)?$/;

function assertName(name: string): void {
  if (!NAME.test(name)) throw new Error(`Invalid XML name '${name}'`);
}

/**
 * Characters XML 1.0 cannot carry at all, not even as character references: C0 controls other
 * than tab/LF/CR, lone surrogates and U+FFFE/U+FFFF. A node's task text could contain them (e.g.
 * copied from a log), and one such character would make the whole status document unparseable,
 * so they become U+FFFD instead.
 */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function replaceInvalidChars(value: string): string {
  return value.replace(NOT_XML_CHAR, '\uFFFD');
}

/**
 * Escapes character data. `>` is escaped too so `]]>` can never appear in output. CR becomes a
 * character reference: a parser turns a literal CR (and CR LF) into LF (XML 1.0 section 2.11), so
 * a client would not read the text that was stored.
 */
export function escapeText(value: string): string {
  return replaceInvalidChars(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/**
 * Escapes an attribute value for double quotes. Tab, LF and CR become character references
 * because a parser would otherwise normalise them to spaces (XML 1.0 section 3.3.3); URLs with
 * `&` in their query come out as `&amp;` as REFERENCE.md 3 requires.
 */
export function escapeAttribute(value: string): string {
  return escapeText(value)
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

export interface RenderOptions {
  /** Prepends `<?xml version="1.0" encoding="UTF-8"?>`. @default true */
  declaration?: boolean;
  /** Indents nested elements for people reading responses with curl. @default true */
  pretty?: boolean;
}

/** Serialises an element tree. Text-only elements stay on one line, so no whitespace enters values. */
export function renderXml(root: XmlElement, options: RenderOptions = {}): string {
  const { declaration = true, pretty = true } = options;
  const parts: string[] = [];
  if (declaration) parts.push('<?xml version="1.0" encoding="UTF-8"?>', pretty ? '\n' : '');
  write(root, 0, pretty, parts);
  if (pretty) parts.push('\n');
  return parts.join('');
}

function write(node: XmlElement, depth: number, pretty: boolean, out: string[]): void {
  const indent = pretty ? '  '.repeat(depth) : '';
  let open = `${indent}<${node.name}`;
  for (const [name, value] of node.attributes) {
    if (value === undefined) continue;
    open += ` ${name}="${escapeAttribute(String(value))}"`;
  }
  if (node.children.length === 0) {
    out.push(`${open}/>`);
    return;
  }
  const hasElementChild = node.children.some((child) => typeof child !== 'string');
  if (!hasElementChild || !pretty) {
    // Mixed or text-only content is written as is: indentation would change the value.
    out.push(`${open}>`);
    for (const child of node.children) {
      if (typeof child === 'string') out.push(escapeText(child));
      else write(child, 0, false, out);
    }
    out.push(`</${node.name}>`);
    return;
  }
  out.push(`${open}>\n`);
  for (const child of node.children) {
    if (typeof child === 'string') out.push(`${'  '.repeat(depth + 1)}${escapeText(child)}`);
    else write(child, depth + 1, pretty, out);
    out.push('\n');
  }
  out.push(`${indent}</${node.name}>`);
}

/**
 * Normalises a stored timestamp to an `xs:dateTime` (ISO 8601 UTC). Statuses are written by
 * nodes, so a value that does not parse is dropped rather than put into a document that would
 * then fail schema validation at the client.
 */
export function toXsDateTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : new Date(millis).toISOString();
}

// xs:language (RFC 3066 shape): `en`, `en-CA`, `de-CH-1996`.
const LANGUAGE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/** The `xml:lang` value to write: the requested one when it is a valid language tag, else `en`. */
export function xmlLanguage(requested: string | undefined): string {
  return requested !== undefined && LANGUAGE.test(requested) ? requested : 'en';
}

/** An XML answer for a handler to send as is. */
export interface XmlResponse {
  statusCode: number;
  contentType: string;
  body: string;
}

/** `text/xml` is what GeoServer sends and what WPS 1.0.0 clients look for. */
export const XML_CONTENT_TYPE = 'text/xml; charset=UTF-8';
