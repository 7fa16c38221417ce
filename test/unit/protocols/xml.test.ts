import { SaxesParser } from 'saxes';
import { el, escapeAttribute, escapeText, renderXml, toXsDateTime, xmlLanguage } from '../../../lambdas/status/protocols/xml';

/** The character data of a document as an XML parser hands it to a client. */
function parsedText(xml: string): string {
  const parser = new SaxesParser();
  let text = '';
  parser.on('text', (value) => (text += value));
  parser.write(xml).close();
  return text;
}

describe('escaping', () => {
  it('escapes markup in text, including > so ]]> cannot appear', () => {
    expect(escapeText('a < b && c > d ]]>')).toBe('a &lt; b &amp;&amp; c &gt; d ]]&gt;');
  });

  it('escapes quotes and keeps whitespace in attributes', () => {
    expect(escapeAttribute('say "hi"\tnow\r\n&<')).toBe('say &quot;hi&quot;&#9;now&#13;&#10;&amp;&lt;');
  });

  it('replaces characters XML cannot carry at all', () => {
    expect(escapeText('a\u0000b\u0008c\u000Bd\uFFFEe\uD800f')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf');
  });

  it('keeps carriage returns in text: a parser would turn a literal one (and CR LF) into LF', () => {
    const stored = 'line 1\r\nline 2\rline 3\n';
    expect(parsedText(renderXml(el('t', {}, stored), { declaration: false }).trim())).toBe(stored);
  });

  it('keeps characters XML can carry, including astral ones', () => {
    expect(escapeText('tab\there ü € 𝄞 \n')).toBe('tab\there ü € 𝄞 \n');
  });
});

describe('renderXml', () => {
  it('writes a declaration, indentation, skipped empty slots and undefined attributes', () => {
    const xml = renderXml(
      el('a:root', { 'xmlns:a': 'urn:a', skipped: undefined, n: 3 }, el('a:child', {}, 'x & y'), false, undefined, null, el('a:empty')),
    );
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<a:root xmlns:a="urn:a" n="3">\n  <a:child>x &amp; y</a:child>\n  <a:empty/>\n</a:root>\n',
    );
  });

  it('can write compact documents without a declaration', () => {
    expect(renderXml(el('r', {}, el('c', {}, 't')), { declaration: false, pretty: false })).toBe('<r><c>t</c></r>');
  });

  it('refuses names that are not XML names: they are programming errors', () => {
    expect(() => el('bad name')).toThrow(/Invalid XML name/);
    expect(() => el('ok', { 'a"b': 'x' })).toThrow(/Invalid XML name/);
  });
});

describe('value helpers', () => {
  it('normalises timestamps to xs:dateTime and drops what does not parse', () => {
    expect(toXsDateTime('2024-05-01T12:00:00+02:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(toXsDateTime('not a date')).toBeUndefined();
    expect(toXsDateTime(undefined)).toBeUndefined();
  });

  it('accepts language tags and falls back to en', () => {
    expect(xmlLanguage('en-CA')).toBe('en-CA');
    expect(xmlLanguage(undefined)).toBe('en');
    expect(xmlLanguage('en_US"><x')).toBe('en');
  });
});
