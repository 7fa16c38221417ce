/**
 * What an XML document's bytes say about their encoding, before any of it is decoded: the one
 * reading of a body's byte order mark, first bytes and encoding declaration behind both XML
 * endpoints a stranger posts to (the WPS `POST /ows` and the GeoServer REST gateway's DOCTYPE
 * check). XML 1.0, Appendix F: a byte order mark names UTF-8, UTF-16 or UCS-4 (UTF-32) and its
 * byte order; without one, the first character `<` in two or four bytes does; an ASCII-like
 * document may then declare its encoding (`<?xml version="1.0" encoding="ISO-8859-1"?>`). An EBCDIC
 * document is told by its first four bytes, `<?xm` in EBCDIC (4C 6F A7 94), as Java's XML reader
 * (the master GeoServer's) tells it.
 *
 * Only the detection is shared. What a caller does with it differs on purpose (what it reads,
 * what it refuses), and is said where it is done.
 */

/** An encoding told by the bytes themselves (mark or first character), as WHATWG / TextDecoder labels spell them (UTF-32 aside: no TextDecoder reads it). */
export type SniffedEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be';

export type XmlEncoding =
  /** A byte order mark opens the document. */
  | { readonly by: 'byte order mark'; readonly encoding: SniffedEncoding }
  /**
   * No mark; the first character is `<` in UTF-16 or UTF-32. `opensWithDeclaration`: the second
   * is `?` (Appendix F's `<?`), as XML 1.0 (4.3.3) requires of UTF-16 without a mark.
   */
  | { readonly by: 'first character'; readonly encoding: 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be'; readonly opensWithDeclaration: boolean }
  /** `<?xm` in EBCDIC opens the document: Java's XML reader reads it as such (IBM037, then as declared). */
  | { readonly by: 'first characters'; readonly encoding: 'ebcdic' }
  /** An encoding declaration at the start of an ASCII-like document: its label, lower-cased, whatever it names. */
  | { readonly by: 'declaration'; readonly encoding: string }
  /** Nothing says: UTF-8, XML's default (or, to a reader that must decode anything, not UTF-8 at all). */
  | { readonly by: 'nothing'; readonly encoding: 'utf-8' };

/** The encoding declaration, read in the first bytes as Latin-1 (ASCII markup reads the same in any ASCII-like encoding). */
const DECLARATION = /^<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']/;
const DECLARATION_BYTES = 256;

/** What the bytes of an XML document say about their encoding (see the file's opening comment). */
export function sniffXmlEncoding(bytes: Uint8Array): XmlEncoding {
  const starts = (...prefix: number[]) => prefix.length <= bytes.length && prefix.every((byte, index) => bytes[index] === byte);
  // UCS-4's marks and first characters before UTF-16's: FF FE 00 00 begins with UTF-16LE's mark.
  if (starts(0x00, 0x00, 0xfe, 0xff)) return { by: 'byte order mark', encoding: 'utf-32be' };
  if (starts(0xff, 0xfe, 0x00, 0x00)) return { by: 'byte order mark', encoding: 'utf-32le' };
  if (starts(0x00, 0x00, 0x00, 0x3c)) return { by: 'first character', encoding: 'utf-32be', opensWithDeclaration: starts(0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x3f) };
  if (starts(0x3c, 0x00, 0x00, 0x00)) return { by: 'first character', encoding: 'utf-32le', opensWithDeclaration: starts(0x3c, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00) };
  if (starts(0xef, 0xbb, 0xbf)) return { by: 'byte order mark', encoding: 'utf-8' };
  if (starts(0xff, 0xfe)) return { by: 'byte order mark', encoding: 'utf-16le' };
  if (starts(0xfe, 0xff)) return { by: 'byte order mark', encoding: 'utf-16be' };
  if (starts(0x3c, 0x00)) return { by: 'first character', encoding: 'utf-16le', opensWithDeclaration: starts(0x3c, 0x00, 0x3f, 0x00) };
  if (starts(0x00, 0x3c)) return { by: 'first character', encoding: 'utf-16be', opensWithDeclaration: starts(0x00, 0x3c, 0x00, 0x3f) };
  if (starts(0x4c, 0x6f, 0xa7, 0x94)) return { by: 'first characters', encoding: 'ebcdic' };
  const declared = declaredXmlEncoding(Buffer.from(bytes.subarray(0, DECLARATION_BYTES)).toString('latin1'));
  return declared !== undefined ? { by: 'declaration', encoding: declared } : { by: 'nothing', encoding: 'utf-8' };
}

/** The encoding an XML declaration opening `text` names, lower-cased, or undefined when none does. */
export function declaredXmlEncoding(text: string): string | undefined {
  return DECLARATION.exec(text)?.[1]?.toLowerCase();
}
