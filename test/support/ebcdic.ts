/**
 * Text in EBCDIC (code page IBM037, which Java's XML reader takes a document opening with `<?xm`
 * in EBCDIC to be in), for the tests of bodies the gateway cannot read as the master would.
 * Printable ASCII only, after the JDK's IBM037 charset.
 */
const PRINTABLE = '405a7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6f7cc1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e9bae0bbb06d79818283848586878889919293949596979899a2a3a4a5a6a7a8a9c04fd0a1';
const CONTROLS: Record<string, number> = { '\t': 0x05, '\n': 0x25, '\r': 0x0d };

export function ebcdic(text: string): Buffer {
  return Buffer.from(
    [...text].map((char) => {
      const code = char.charCodeAt(0);
      if (CONTROLS[char] !== undefined) return CONTROLS[char];
      if (code < 0x20 || code > 0x7e) throw new Error(`ebcdic(): ${JSON.stringify(char)} is not printable ASCII`);
      return parseInt(PRINTABLE.slice((code - 0x20) * 2, (code - 0x20) * 2 + 2), 16);
    }),
  );
}
