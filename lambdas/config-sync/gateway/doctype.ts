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
 */
import { isUtf8 } from 'node:buffer';
import { AppError } from '../../shared/errors';
import { sniffXmlEncoding } from '../../shared/xml-encoding';
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

/** Where the body declares a DOCTYPE, or undefined when it does not (or is not XML). */
export function doctypeIn(body: Buffer | undefined, mediaType: string): string | undefined {
  if (!body || body.length === 0) return undefined;
  const text = decoded(body).replace(/\0/g, '');
  // XML may open with white space only before a DOCTYPE (its prolog's `Misc`), never with anything else.
  if (!mediaType.includes('xml') && !text.replace(/^\uFEFF/, '').trimStart().startsWith('<')) return undefined;
  const scan = scanProlog(text);
  if ('unreadable' in scan) return /<!DOCTYPE/i.test(text) ? `"<!DOCTYPE" in a body that is not well-formed XML before its root element: ${scan.unreadable}` : undefined;
  return scan.doctype ? `ending at ${scan.where}` : undefined;
}

/**
 * The body's text, by the shared detection (shared/xml-encoding.ts): UCS-4 or UTF-16 by its byte
 * order mark or its first `<`, else UTF-8 when it is, else each byte as one character. Unlike the
 * WPS endpoint, this check reads wider than XML 1.0 requires, since it must see what the master
 * might read, not decide what it accepts: UTF-16 without a mark whether or not `<?` opens it, and
 * UCS-4; and it never refuses a body for its encoding. A declared encoding is not followed: the
 * prolog's markup is ASCII, read alike in any encoding an ASCII-like document may declare, and
 * byte for byte when that is not UTF-8.
 */
function decoded(body: Buffer): string {
  const sniffed = sniffXmlEncoding(body);
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
