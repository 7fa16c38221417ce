/**
 * The rules of I-JSON (RFC 7493) that `JSON.parse` does not keep, checked on a request body it
 * has already parsed. Each of these would otherwise be stored as something other than what was
 * sent:
 * - a string or member name holding a lone surrogate (`"\uD800"`): not Unicode text, so it
 *   cannot be written as UTF-8 (DynamoDB, XML answers, a GeoServer) without being replaced;
 * - a number a double does not carry exactly: `JSON.parse` rounds it (12345678901234567890, in
 *   any notation, becomes 12345678901234567000; 1e-400 becomes 0), and it would be stored and
 *   written back so. Told by the literal's significant digits against those of the double.
 * Duplicate member names, which I-JSON also forbids, are found by counting (json-names.ts).
 *
 * Hand-written because `JSON.parse` keeps no number's literal, and its one way to show them (a
 * reviver, whose third argument carries the source text) calls back for every value of the body
 * and walks it recursively: on a 1 MiB body of nested lists holding one `1e999` that pass took
 * about seven times the parse itself (0.86 s against 0.12 s), and a body some thousands of
 * levels deep overflowed the stack there. Here the parsed value is walked without recursion for
 * the strings, and the text scanned once for the number literals, each only when the text holds
 * something that could break its rule.
 */
import { AppError } from './errors';

/** A `\uD800`-`\uDFFF` escape: possibly a lone surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * What a number needs to hold to be carried inexactly: an exponent (`1e-400` reads as 0), or 16
 * or more digits in a row, a decimal point allowed among them (17 significant digits are more
 * than a double always carries; 9007199254740991, the largest exact integer, has 16).
 */
const MAY_ROUND = /\d[eE]|\d[\d.]{15}/;

/** One JSON string, from its opening quote (sticky: matched where the scan stands). */
const STRING = /"[^"\\]*(?:\\.[^"\\]*)*"/y;
/** One JSON number literal (sticky). */
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** Whitespace then a colon: the string before it was a member name (sticky). */
const NAME_COLON = /\s*:/y;

/**
 * Where `text` (valid JSON, parsed as `value`) holds a lone surrogate: the member name or list
 * index of the first string or member name holding one (`''` at the top), or undefined for none.
 */
export function loneSurrogateAt(text: string, value: unknown): string | undefined {
  return SURROGATE_ESCAPE.test(text) || !text.isWellFormed() ? firstLoneSurrogate(value) : undefined;
}

/** Throws a 400 INVALID_JSON naming the first value of `text` (valid JSON, parsed as `value`) that breaks an I-JSON rule. */
export function assertIJson(text: string, value: unknown): void {
  const lone = loneSurrogateAt(text, value);
  if (lone !== undefined) {
    throw new AppError(400, 'INVALID_JSON', `Request body holds a lone surrogate${atMember(lone)}: a \\uD800-\\uDFFF escape that is not half of a pair is not Unicode text (RFC 7493)`, 'body');
  }
  if (MAY_ROUND.test(text)) {
    const inexact = firstInexactNumber(text);
    if (inexact !== undefined) {
      throw new AppError(
        400,
        'INVALID_JSON',
        `Request body holds the number ${inexact.source}${atMember(inexact.key)}, which JSON numbers, read as doubles, cannot carry exactly: it would be stored as ${inexact.value} (RFC 7493); send it as a string`,
        'body',
      );
    }
  }
}

/** Where, for a message: the member name or list index of the value refused (none at the top). */
export function atMember(key: string): string {
  return key === '' ? '' : ` (at "${key.toWellFormed()}")`;
}

/** The member name or list index of the first string or member name of `value` that is not well-formed Unicode. */
function firstLoneSurrogate(value: unknown): string | undefined {
  const pending: [string, unknown][] = [['', value]];
  while (pending.length > 0) {
    const [key, current] = pending.pop() as [string, unknown];
    if (typeof current === 'string') {
      if (!current.isWellFormed()) return key;
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) pending.push([String(index), current[index]]);
    } else if (typeof current === 'object' && current !== null) {
      const names = Object.keys(current);
      for (const name of names) if (!name.isWellFormed()) return name;
      for (let index = names.length - 1; index >= 0; index--) {
        const name = names[index] as string;
        pending.push([name, (current as Record<string, unknown>)[name]]);
      }
    }
  }
  return undefined;
}

/**
 * The first number literal of `text` (valid JSON) that a double does not carry exactly, with the
 * member name or list index it stands at. A literal out of a double's range (`1e999` reads as
 * Infinity) is not one: the request schemas refuse those themselves, naming the member's path.
 */
function firstInexactNumber(text: string): { source: string; value: number; key: string } | undefined {
  // Per open container, innermost last: a list's index of the current item, or -1 for an object.
  const containers: number[] = [];
  // The last member name passed, as written: in valid JSON an object's value follows its own.
  let name = '""';
  for (let index = 0; index < text.length; ) {
    const char = text.charCodeAt(index);
    if (char === 0x22 /* " */) {
      STRING.lastIndex = index;
      STRING.exec(text);
      const end = STRING.lastIndex;
      NAME_COLON.lastIndex = end;
      if (NAME_COLON.test(text)) name = text.slice(index, end);
      index = end;
      continue;
    }
    if (char === 0x2d /* - */ || (char >= 0x30 && char <= 0x39)) {
      NUMBER.lastIndex = index;
      const source = (NUMBER.exec(text) as RegExpExecArray)[0];
      index = NUMBER.lastIndex;
      const value = Number(source);
      if (Number.isFinite(value) && significantDigits(source) !== significantDigits(String(value))) {
        const list = containers.at(-1);
        return { source, value, key: list === undefined ? '' : list >= 0 ? String(list) : (JSON.parse(name) as string) };
      }
      continue;
    }
    if (char === 0x5b /* [ */) containers.push(0);
    else if (char === 0x7b /* { */) containers.push(-1);
    else if (char === 0x5d /* ] */ || char === 0x7d /* } */) containers.pop();
    else if (char === 0x2c /* , */) {
      const list = containers.at(-1);
      if (list !== undefined && list >= 0) containers[containers.length - 1] = list + 1;
    }
    index += 1;
  }
  return undefined;
}

/** The significant digits of a decimal number's text (`-0.0120e5` -> `12`), without sign, point, exponent or padding zeros. */
function significantDigits(text: string): string {
  const mantissa = text.split(/[eE]/)[0] as string;
  return mantissa.replace(/[-+.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
}
