/**
 * The one reading of an XML body's encoding behind the WPS endpoint and the gateway's DOCTYPE
 * check (XML 1.0, Appendix F): every byte order mark, every first `<` in two or four bytes, the
 * declaration of an ASCII-like document, else UTF-8.
 */
import { sniffXmlEncoding } from '../../../lambdas/shared/xml-encoding';
import { ebcdic } from '../../support/ebcdic';

const utf32 = (text: string, order: 'BE' | 'LE') => {
  const bytes = Buffer.alloc(text.length * 4);
  for (let at = 0; at < text.length; at++) bytes[order === 'BE' ? 'writeUInt32BE' : 'writeUInt32LE'](text.charCodeAt(at), at * 4);
  return bytes;
};
const utf16 = (text: string, order: 'BE' | 'LE') => (order === 'LE' ? Buffer.from(text, 'utf16le') : Buffer.from(text, 'utf16le').swap16());
const marked = (mark: number[], bytes: Buffer) => Buffer.concat([Buffer.from(mark), bytes]);

test.each([
  ['UTF-8', marked([0xef, 0xbb, 0xbf], Buffer.from('<a/>')), 'utf-8'],
  ['UTF-16LE', marked([0xff, 0xfe], utf16('<a/>', 'LE')), 'utf-16le'],
  ['UTF-16BE', marked([0xfe, 0xff], utf16('<a/>', 'BE')), 'utf-16be'],
  // FF FE 00 00 begins with UTF-16LE's mark: UCS-4's is read first.
  ['UTF-32LE', marked([0xff, 0xfe, 0x00, 0x00], utf32('<a/>', 'LE')), 'utf-32le'],
  ['UTF-32BE', marked([0x00, 0x00, 0xfe, 0xff], utf32('<a/>', 'BE')), 'utf-32be'],
])('a %s byte order mark', (_label, bytes, encoding) => {
  expect(sniffXmlEncoding(bytes)).toEqual({ by: 'byte order mark', encoding });
});

test.each([
  ['<?xml version="1.0"?><a/>', true],
  ['<a/>', false],
])('without a mark, the first character %j in UTF-16 or UTF-32 names it, and says whether a declaration opens it', (text, opensWithDeclaration) => {
  expect(sniffXmlEncoding(utf16(text, 'LE'))).toEqual({ by: 'first character', encoding: 'utf-16le', opensWithDeclaration });
  expect(sniffXmlEncoding(utf16(text, 'BE'))).toEqual({ by: 'first character', encoding: 'utf-16be', opensWithDeclaration });
  expect(sniffXmlEncoding(utf32(text, 'LE'))).toEqual({ by: 'first character', encoding: 'utf-32le', opensWithDeclaration });
  expect(sniffXmlEncoding(utf32(text, 'BE'))).toEqual({ by: 'first character', encoding: 'utf-32be', opensWithDeclaration });
});

test.each([
  ['<?xml version="1.0" encoding="ISO-8859-1"?><a>é</a>', 'iso-8859-1'],
  ["<?xml version='1.0' standalone='yes' encoding = 'UTF-8'?><a/>", 'utf-8'],
  // Whatever the label names, even what the bytes are not: the caller decides what it reads.
  ['<?xml version="1.0" encoding="UTF-16"?><a/>', 'utf-16'],
  ['<?xml version="1.0" encoding="X-MADE-UP"?><a/>', 'x-made-up'],
])('an ASCII-like document declaring its encoding: %j', (text, encoding) => {
  expect(sniffXmlEncoding(Buffer.from(text, 'latin1'))).toEqual({ by: 'declaration', encoding });
});

test.each([
  ['no declaration', '<a/>'],
  ['a declaration without encoding', '<?xml version="1.0"?><a/>'],
  ['white space before the declaration (then no declaration)', ' <?xml version="1.0" encoding="ISO-8859-1"?><a/>'],
  ['an encoding past the first 256 bytes', `<?xml version="1.0"${' '.repeat(256)} encoding="ISO-8859-1"?><a/>`],
  ['no bytes', ''],
  ['one byte of a wider mark', '\u00ff'],
])('nothing says (%s): UTF-8', (_label, text) => {
  expect(sniffXmlEncoding(Buffer.from(text, 'latin1'))).toEqual({ by: 'nothing', encoding: 'utf-8' });
});

test('EBCDIC, by its first four bytes ("<?xm" in EBCDIC, 4C 6F A7 94), whatever it declares', () => {
  expect(sniffXmlEncoding(ebcdic('<?xml version="1.0" encoding="IBM037"?><a/>'))).toEqual({ by: 'first characters', encoding: 'ebcdic' });
  expect(sniffXmlEncoding(ebcdic('<?xml version="1.0"?><a/>'))).toEqual({ by: 'first characters', encoding: 'ebcdic' });
});
