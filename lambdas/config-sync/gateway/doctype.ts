/**
 * Request bodies with a DOCTYPE, refused before anything reaches the master. A DOCTYPE declares
 * entities: an external one the master's XML reader may fetch (a file on the master, an address
 * in its network), internal ones that expand a few bytes into gigabytes, or into a name the
 * gateway's checks never saw. No GeoServer REST representation or style document needs one.
 *
 * Every body the master could read as XML is looked at, on every path (the unreplicated ones go
 * to the same master): one whose media type names XML (`application/xml`, `text/xml`, SLD's and
 * SE's `+xml`), and any other whose text starts with `<`. The text is read as the master would
 * decode it, near enough for the prolog's ASCII markup: UCS-4 (UTF-32) or UTF-16 by its byte
 * order mark or its first `<` (XML 1.0, Appendix F; shared/xml-encoding.ts), else UTF-8, else byte for byte. The prolog is read with the strict XML parser
 * (xml-reader.ts, `scanProlog`); one it cannot read (not well-formed before its root element)
 * counts as declaring a DOCTYPE when `<!DOCTYPE` appears anywhere in it, since where it stands
 * cannot be told.
 *
 * A body the check cannot read so is refused instead (XmlEncodingError; both in `xmlPrologProblem`), on every path: EBCDIC
 * (its first bytes `<?xm` in EBCDIC, which the master's Java XML reader detects), and one whose
 * XML declaration names an encoding in which ASCII markup is not its ASCII bytes (an EBCDIC code
 * page such as `IBM037`, UTF-7, or a stateful one such as ISO-2022-JP, whose escape sequences read
 * as nothing) or that the gateway does not know, or one of another width than the
 * body's first bytes are in (UTF-16 declaring ISO-8859-1, ASCII declaring UTF-16): the master's
 * reader switches to the declared encoding after the declaration, so a DOCTYPE in it would pass unseen. GeoServer's
 * REST representations and style documents are UTF-8 (or UTF-16) in practice.
 *
 * The same holds of the charset a body's `Content-Type` names (`contentTypeCharset`): GeoServer
 * decodes a style file POSTed or PUT to a style path by it (StyleController: the text of the whole
 * body in that charset, then parsed as text, so its byte order mark and declaration are not read),
 * so an SLD in IBM037, or in ISO-2022-JP with an escape sequence inside `<!DOCTYPE`, labelled so in
 * its header, would be a DOCTYPE to the master and none to the check. An XML body whose header names
 * a charset that does not read its markup as the check does is refused alike, on every path.
 */
import { isUtf8 } from 'node:buffer';
import { AppError } from '../../shared/errors';
import { declaredXmlEncoding, sniffXmlEncoding, type XmlEncoding } from '../../shared/xml-encoding';
import { scanProlog } from '../../shared/xml-reader';

/** 400: a body holding a DOCTYPE declaration, refused before anything is forwarded or published. */
export class XmlDoctypeError extends AppError {
  constructor(where: string) {
    super(
      400,
      'XML_DOCTYPE',
      `The gateway does not forward a body with a DOCTYPE declaration (${where}): its entities could be expanded or fetched by the master GeoServer, ` +
        'and GeoServer needs none; nothing was sent to the master. Send the document without its <!DOCTYPE ...>',
      'body',
    );
  }
}

/** 400: an XML body in an encoding the DOCTYPE check cannot read as the master would, refused before anything is forwarded. */
export class XmlEncodingError extends AppError {
  constructor(encoding: string) {
    super(
      400,
      'XML_ENCODING',
      `The gateway does not forward an XML body in ${encoding}: it cannot check such a body for a DOCTYPE declaration as the master GeoServer would read it; ` +
        'nothing was sent to the master. Send the document in UTF-8 (or UTF-16)',
      'body',
    );
  }
}

/** Labels of the encodings the check reads by dropping NULs (ASCII markup in two or four bytes a character), by their width. */
const WIDE_ENCODINGS: readonly [number, RegExp][] = [
  [2, /^(utf-?16(le|be)?|ucs-?2|iso-10646-ucs-2)$/],
  [4, /^(utf-?32(le|be)?|ucs-?4|iso-10646-ucs-4)$/],
];
/**
 * The markup characters of an XML prolog, as ASCII bytes, and the bytes a stateful encoding
 * (ISO-2022-JP) shifts or escapes with (ESC, SO, SI): such a decoder reads ASCII's printable bytes
 * as ASCII, but an escape sequence as nothing, so that `<!DOC` ESC `(B` `TYPE` reads `<!DOCTYPE`
 * to the master while its bytes hold none; it does not read these three bytes as themselves.
 */
const ASCII_MARKUP = Buffer.from(Array.from({ length: 0x7f - 0x20 }, (_, index) => String.fromCharCode(0x20 + index)).join('') + '\t\n\r\u001b\u000e\u000f', 'latin1');

/**
 * What keeps an XML body from the master, checked on one reading of it: an encoding the DOCTYPE
 * check cannot read as the master would (`unscannable`, a phrase for XmlEncodingError), else a
 * DOCTYPE declaration (`doctype`, where, for XmlDoctypeError); undefined for neither, or for a
 * body that is not XML. `charset`: what its `Content-Type` names (`contentTypeCharset`), if anything.
 */
export function xmlPrologProblem(body: Buffer | undefined, mediaType: string, charset?: string): { readonly unscannable: string } | { readonly doctype: string } | undefined {
  if (!body || body.length === 0) return undefined;
  const sniffed = sniffXmlEncoding(body);
  if (sniffed.by === 'first characters') return { unscannable: 'EBCDIC (its first bytes, 4C 6F A7 94, are "<?xm" in EBCDIC)' };
  const text = xmlText(body, sniffed, mediaType);
  if (text === undefined) return undefined;
  const unscannable = (charset === undefined ? undefined : unscannableCharset(sniffed, charset)) ?? unscannableEncoding(sniffed, text);
  if (unscannable !== undefined) return { unscannable };
  const doctype = doctypeIn(text);
  return doctype === undefined ? undefined : { doctype };
}

/**
 * The charset a `Content-Type` header names as GeoServer's StyleController reads it (its
 * `getCharsetFromContentType`): the value after the `=` of the header's second `;`-separated part,
 * whatever that parameter is named (`; version=IBM037; charset=UTF-8` is IBM037 to it), up to a
 * further `=`; undefined when there is none (the master then decodes in its JVM's default, UTF-8).
 * Blanks and quotes around the value are dropped here, for looking it up only.
 */
export function contentTypeCharset(contentType: string | undefined): string | undefined {
  const value = contentType?.split(';')[1]?.split('=')[1]?.trim().replace(/^"(.*)"$/, '$1');
  return value ? value : undefined;
}

/** The width of the encoding the check reads a body in: that of its byte order mark or first character, else one byte. */
function sniffedWidth(sniffed: XmlEncoding): number {
  return sniffed.by === 'byte order mark' || sniffed.by === 'first character' ? { 'utf-8': 1, 'utf-16le': 2, 'utf-16be': 2, 'utf-32le': 4, 'utf-32be': 4 }[sniffed.encoding] : 1;
}

/**
 * Why the master would read a body's markup otherwise in the encoding `named` than the check reads
 * it (`what` names where it is named), or undefined when it would not: `named` is of another width
 * than the body's first bytes are in, of another byte order (`unordered`: the order the master
 * reads in for a label that names none), or a single-byte-width encoding in which ASCII markup is
 * not its ASCII bytes, or one the gateway does not know.
 */
function encodingMismatch(sniffed: XmlEncoding, named: string, what: string, unordered: string | undefined): string | undefined {
  // Java's own names (ISO8859_1, EUC_JP), which the master takes, are the WHATWG labels with hyphens for underscores.
  const label = named.replace(/_/g, '-').toLowerCase();
  const width = sniffedWidth(sniffed);
  const namedWidth = WIDE_ENCODINGS.find(([, labels]) => labels.test(label))?.[0] ?? 1;
  const byteOrder = /(le|be)$/.exec(label)?.[1] ?? unordered;
  if (namedWidth !== width || (width > 1 && byteOrder !== undefined && !sniffed.encoding.endsWith(byteOrder))) {
    return `${what}, "${named}", which is not the ${width === 1 ? 'ASCII-like encoding' : sniffed.encoding.toUpperCase()} its first bytes are in`;
  }
  if (width > 1 || readsAsciiAsAscii(named) || readsAsciiAsAscii(label)) return undefined;
  return `${what}, "${named}"`;
}

/** The encoding of an XML body's text the DOCTYPE check cannot read as the master would, or undefined when it can. */
function unscannableEncoding(sniffed: XmlEncoding, text: string): string | undefined {
  const declared = declaredXmlEncoding(text.replace(/^\uFEFF/, ''));
  if (declared === undefined) return undefined;
  // The master's reader switches to the declared encoding even from the one a byte order mark or
  // the first character tells: the check, which reads the body in the latter, must see the same
  // markup in both, so the declaration names an encoding of the same width. Of the same width, it
  // switches to a byte order the label names too (UTF-16BE from UTF-16LE), and keeps the one it
  // found for a label that names none (UTF-16, UCS-2).
  return encodingMismatch(sniffed, declared, 'the encoding its XML declaration names', undefined);
}

/**
 * The charset a body's `Content-Type` names when the check cannot read the body's markup as the
 * master decodes it in that charset, or undefined when it can. Java's decoder for a UTF-16 or
 * UTF-32 label naming no byte order reads a byte order mark, else big-endian.
 */
function unscannableCharset(sniffed: XmlEncoding, charset: string): string | undefined {
  const unordered = sniffed.by === 'byte order mark' ? sniffed.encoding.slice(-2) : 'be';
  return encodingMismatch(sniffed, charset, 'the charset its Content-Type header names', unordered);
}

/** Whether the encoding the label names is one the WHATWG Encoding Standard knows in which ASCII markup is its ASCII bytes. */
function readsAsciiAsAscii(label: string): boolean {
  try {
    return new TextDecoder(label, { fatal: true }).decode(ASCII_MARKUP) === ASCII_MARKUP.toString('latin1');
  } catch {
    return false;
  }
}

/** The body's text as the check reads it (NULs dropped), when the master could read it as XML. */
function xmlText(body: Buffer, sniffed: XmlEncoding, mediaType: string): string | undefined {
  const text = decoded(body, sniffed).replace(/\0/g, '');
  // XML may open with white space only before a DOCTYPE (its prolog's `Misc`), never with anything else.
  return mediaType.includes('xml') || text.replace(/^\uFEFF/, '').trimStart().startsWith('<') ? text : undefined;
}

/** Where an XML body's text declares a DOCTYPE, or undefined when it does not. */
function doctypeIn(text: string): string | undefined {
  const scan = scanProlog(text);
  if ('unreadable' in scan) return /<!DOCTYPE/i.test(text) ? `"<!DOCTYPE" in a body that is not well-formed XML before its root element: ${scan.unreadable}` : undefined;
  return scan.doctype ? `ending at ${scan.where}` : undefined;
}

/**
 * The body's text, by the shared detection (shared/xml-encoding.ts): UCS-4 or UTF-16 by its byte
 * order mark or its first `<`, else UTF-8 when it is, else each byte as one character. Unlike the
 * WPS endpoint, this check reads wider than XML 1.0 requires, since it must see what the master
 * might read, not decide what it accepts: UTF-16 without a mark whether or not `<?` opens it, and
 * UCS-4. A declared encoding is not followed: the prolog's markup is ASCII, read alike in any
 * encoding an ASCII-like document may declare, and byte for byte when that is not UTF-8; a body
 * in any other is refused before this is read (`unscannableEncoding`).
 */
function decoded(body: Buffer, sniffed: XmlEncoding): string {
  if (sniffed.by === 'byte order mark' || sniffed.by === 'first character') {
    if (sniffed.encoding === 'utf-32be') return ucs4(body, 'BE');
    if (sniffed.encoding === 'utf-32le') return ucs4(body, 'LE');
    if (sniffed.encoding !== 'utf-8') return new TextDecoder(sniffed.encoding).decode(body);
  }
  // UTF-8 (its mark kept, as U+FEFF) when it is, else byte for byte.
  return body.toString(isUtf8(body) ? 'utf8' : 'latin1');
}

/** UCS-4 text, four bytes a character; one past Unicode reads as U+FFFD (no TextDecoder reads UTF-32). */
function ucs4(body: Buffer, order: 'BE' | 'LE'): string {
  const units: string[] = [];
  for (let at = 0; at + 4 <= body.length; at += 4) {
    const code = order === 'BE' ? body.readUInt32BE(at) : body.readUInt32LE(at);
    units.push(code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '\uFFFD');
  }
  return units.join('');
}
