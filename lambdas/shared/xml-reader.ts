/**
 * Reads an XML document that a stranger sent (a WPS request to the open `POST /ows`, a GeoServer
 * REST representation to the gateway) into a small element tree, with `saxes`: a maintained,
 * strict, namespace-aware streaming parser that checks well-formedness (one root, tag nesting,
 * quoting, duplicate attributes, bound prefixes, the reserved `xml`/`xmlns` prefixes, undefined
 * entities, malformed comments and declarations).
 *
 * What this file adds is bounds. saxes reads in one pass, but a well-formed document can still
 * be built to cost: thousands of namespace declarations, thousands of elements, deep nesting.
 * Each caller's documents have a known shape, so every dimension has a limit far above any real
 * document and far below anything costly, checked as the parser streams: a
 * document is refused at the first element, attribute or declaration past a limit, so the work
 * done on a hostile body is bounded by the limits, not by the body. DTDs are refused outright
 * (no entity expansion, no external fetches; the requests never need one).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';

export interface XmlReadLimits {
  /** Characters of input. */
  readonly maxChars: number;
  /** Elements in the whole document. */
  readonly maxElements: number;
  /** Nesting depth (the root is depth 1). */
  readonly maxDepth: number;
  /** Attributes on one element, namespace declarations included. */
  readonly maxAttributesPerElement: number;
  /** Namespace declarations (`xmlns`, `xmlns:p`) in the whole document. */
  readonly maxNamespaceDeclarations: number;
}

/** Bounds for the WPS 2.0 GetStatus, GetResult and Dismiss documents (a root, a JobID, maybe an Extension). */
export const REQUEST_DOCUMENT_LIMITS: XmlReadLimits = {
  maxChars: 64 * 1024,
  maxElements: 256,
  maxDepth: 32,
  maxAttributesPerElement: 32,
  maxNamespaceDeclarations: 32,
};

export interface ParsedElement {
  qualifiedName: string;
  localName: string;
  /** The element's namespace URI; undefined when it has none. */
  namespace: string | undefined;
  /** Unprefixed attributes by name (the only ones the requests define). */
  attributes: Map<string, string>;
  children: ParsedElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

/** Why a document was refused: not well-formed, or past one of the limits (named in the message). */
export class XmlReadError extends Error {
  constructor(
    message: string,
    /** The limit that was exceeded, e.g. `maxNamespaceDeclarations`, when that was the reason. */
    readonly limit?: keyof XmlReadLimits,
  ) {
    super(message);
    this.name = 'XmlReadError';
  }
}

/** Parses `xml` into its root element, or throws XmlReadError. */
export function readXmlDocument(xml: string, limits: XmlReadLimits = REQUEST_DOCUMENT_LIMITS): ParsedElement {
  if (xml.length > limits.maxChars) {
    throw new XmlReadError(`the body is larger than ${limits.maxChars} characters (limit maxChars)`, 'maxChars');
  }
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: ParsedElement[] = [];
  let root: ParsedElement | undefined;
  let elements = 0;
  let declarations = 0;
  const where = () => `line ${parser.line}, column ${parser.column}`;
  const overLimit = (limit: keyof XmlReadLimits, what: string): never => {
    throw new XmlReadError(`${where()}: ${what} (limit ${limit} = ${limits[limit]})`, limit);
  };

  let attributesOfTag = 0;
  // Counted as each name is read, before saxes resolves anything: a flood of elements, attributes
  // or declarations stops at the first one past its limit.
  parser.on('opentagstart', () => {
    elements += 1;
    attributesOfTag = 0;
    if (elements > limits.maxElements) overLimit('maxElements', `more than ${limits.maxElements} elements`);
    if (stack.length + 1 > limits.maxDepth) overLimit('maxDepth', `elements nested deeper than ${limits.maxDepth}`);
  });
  parser.on('attribute', (attribute) => {
    attributesOfTag += 1;
    if (attributesOfTag > limits.maxAttributesPerElement) {
      overLimit('maxAttributesPerElement', `an element with more than ${limits.maxAttributesPerElement} attributes`);
    }
    if (attribute.name === 'xmlns' || attribute.name.startsWith('xmlns:')) {
      declarations += 1;
      if (declarations > limits.maxNamespaceDeclarations) {
        overLimit('maxNamespaceDeclarations', `more than ${limits.maxNamespaceDeclarations} namespace declarations`);
      }
    }
  });
  parser.on('opentag', (tag) => {
    const element = toElement(tag as SaxesTagNS);
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = element;
    else parent.children.push(element);
    if (!tag.isSelfClosing) stack.push(element);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  const addText = (text: string) => {
    const current = stack[stack.length - 1];
    if (current !== undefined) current.text += text;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('doctype', () => {
    throw new XmlReadError(`${where()}: DOCTYPE declarations are not accepted`);
  });

  try {
    parser.write(xml.startsWith('\uFEFF') ? xml.slice(1) : xml).close();
  } catch (error) {
    if (error instanceof XmlReadError) throw error;
    // saxes reports well-formedness errors as plain Errors with "line:column: reason.".
    const message = (error as Error).message.replace(/\.$/, '').replace(/^(\d+):(\d+): /, 'line $1, column $2: ');
    throw new XmlReadError(message);
  }
  if (root === undefined) throw new XmlReadError('the body is empty');
  return root;
}

function toElement(tag: SaxesTagNS): ParsedElement {
  const attributes = new Map<string, string>();
  for (const attribute of Object.values(tag.attributes)) {
    if (attribute.prefix === '' && attribute.name !== 'xmlns') attributes.set(attribute.local, attribute.value);
  }
  return {
    qualifiedName: tag.name,
    localName: tag.local,
    namespace: tag.uri === '' ? undefined : tag.uri,
    attributes,
    children: [],
    text: '',
  };
}

/** What a document's prolog holds: a DOCTYPE (where it ends), none before the root element, or a prolog that is not well-formed. */
export type PrologScan = { readonly doctype: true; readonly where: string } | { readonly doctype: false } | { readonly unreadable: string };

/** Ends the prolog scan: what it found. */
class PrologEnd extends Error {
  constructor(readonly scan: PrologScan) {
    super('end of the prolog');
  }
}

/**
 * Reads `xml` as far as its root element's start (a DOCTYPE may stand only before it), with
 * the same strict parser: whether the prolog declares a DOCTYPE. Nothing is expanded or fetched
 * (saxes knows no entities but XML's five), and nothing past the root's opening `<` is read, so
 * the work is the prolog's length at most.
 */
export function scanProlog(xml: string): PrologScan {
  const parser = new SaxesParser({ position: true });
  parser.on('doctype', () => {
    throw new PrologEnd({ doctype: true, where: `line ${parser.line}, column ${parser.column}` });
  });
  parser.on('opentagstart', () => {
    throw new PrologEnd({ doctype: false });
  });
  try {
    parser.write(xml.startsWith('\uFEFF') ? xml.slice(1) : xml).close();
  } catch (error) {
    if (error instanceof PrologEnd) return error.scan;
    return { unreadable: (error as Error).message.replace(/\.$/, '').replace(/^(\d+):(\d+): /, 'line $1, column $2: ') };
  }
  return { unreadable: 'no root element' };
}
