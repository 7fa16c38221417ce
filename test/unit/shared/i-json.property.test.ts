/**
 * The I-JSON checks of request bodies (lambdas/shared/i-json.ts, a scan of the text and a walk of
 * the parsed value) against a second `JSON.parse` with a reviver, which sees every value with its
 * member name or index and each number's literal, on many random JSON texts from a seeded
 * generator: strings with every escape (quotes, backslashes, colons, brackets, digits, pairs and
 * lone surrogates), every kind of number, nested objects and lists, and all four JSON whitespace
 * characters between tokens. Each body is refused exactly when the reviver finds an offence, with
 * a 400 naming one of the places it found.
 */
import { assertIJson } from '../../../lambdas/shared/i-json';
import { AppError } from '../../../lambdas/shared/errors';

/** A seeded generator (mulberry32): the same texts on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = seeded(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const whitespace = (): string => {
  let text = '';
  while (random() < 0.3) text += pick([' ', '\t', '\n', '\r']);
  return text;
};

// Raw characters of a string (a quote or backslash is escaped), escapes, and what breaks a rule.
const CHARACTERS = ['a', '"', '\\', ':', '[', ']', '{', '}', ',', '1', '9', '0', '.', 'e', '-', ' ', '\u2028', 'é', '😀', '1234567890123456789'];
const ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u0041', '\\uD83D\\uDE00', '\\ud83d\\ude00', '\\u003a', '\\u005b', '\\u0022', '\\u005c'];
const LONE = ['\\uD800', '\\udfff', '\\uDC00\\uD800', '\ud800', '\\uDBFF'];
const NUMBERS = ['0', '-0', '0.5', '1e5', '1E+2', '-1.25e-3', '0.0', '100e-2', '9007199254740991', '9007199254740993', '1e999', '-1e999', '5e-324', '1e-400', '0.1', '0.10000000000000001', '1.7976931348623157e308', '123456789012345678', '1.000000000000000000'];

function string(lone: boolean): string {
  let text = '"';
  for (let count = Math.floor(random() * 6); count > 0; count--) {
    const draw = random();
    if (draw < 0.45) {
      const character = pick(CHARACTERS);
      text += character === '"' || character === '\\' ? `\\${character}` : character;
    } else if (draw < 0.93 || !lone) text += pick(ESCAPES);
    else text += pick(LONE);
  }
  return `${text}"`;
}

function digits(count: number): string {
  let text = String(1 + Math.floor(random() * 9));
  while (text.length < count) text += String(Math.floor(random() * 10));
  return text;
}

function number(inexact: boolean): string {
  const draw = random();
  if (draw < 0.3) return String(Math.floor(random() * 1000) * (random() < 0.5 ? -1 : 1));
  if (draw < 0.45) return pick(NUMBERS);
  if (!inexact) return digits(1 + Math.floor(random() * 15));
  const mantissa = digits(1 + Math.floor(random() * 22));
  const pointed = random() < 0.5 || mantissa.length === 1 ? mantissa : `${mantissa.slice(0, 1)}.${mantissa.slice(1)}`;
  const exponent = random() < 0.5 ? '' : `${pick(['e', 'E'])}${pick(['', '+', '-'])}${Math.floor(random() * 400)}`;
  return `${random() < 0.3 ? '-' : ''}${pointed}${exponent}`;
}

function value(depth: number, bad: boolean): string {
  const draw = random();
  if (depth > 5 || draw < 0.35) {
    const kind = random();
    return kind < 0.4 ? number(bad) : kind < 0.8 ? string(bad) : pick(['true', 'false', 'null']);
  }
  if (draw < 0.65) {
    const items = Array.from({ length: Math.floor(random() * 5) }, () => `${whitespace()}${value(depth + 1, bad)}${whitespace()}`);
    return `[${items.join(',') || whitespace()}]`;
  }
  // Unique member names: a name given twice is the duplicate check's (json-names.ts).
  const names = new Set<string>();
  const members: string[] = [];
  for (let count = Math.floor(random() * 5); count > 0; count--) {
    const name = string(bad);
    const parsed = JSON.parse(name) as string;
    if (names.has(parsed)) continue;
    names.add(parsed);
    members.push(`${whitespace()}${name}${whitespace()}:${whitespace()}${value(depth + 1, bad)}${whitespace()}`);
  }
  return `{${members.join(',') || whitespace()}}`;
}

function significantDigits(text: string): string {
  return (text.split(/[eE]/)[0] as string).replace(/[-+.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
}

/** Every offence the reviver sees, as the message places it: lone surrogates, then inexact numbers. */
function offences(text: string): { lone: string[]; inexact: string[] } {
  const found = { lone: [] as string[], inexact: [] as string[] };
  JSON.parse(text, (key: string, parsed: unknown, context?: { readonly source?: string }) => {
    const at = key === '' ? '' : ` (at "${key.toWellFormed()}")`;
    if (!key.isWellFormed() || (typeof parsed === 'string' && !parsed.isWellFormed())) found.lone.push(at);
    const source = context?.source;
    if (typeof parsed === 'number' && Number.isFinite(parsed) && source !== undefined && significantDigits(source) !== significantDigits(String(parsed))) {
      found.inexact.push(`${source}${at}`);
    }
    return parsed;
  });
  return found;
}

test('refuses exactly the bodies a reviver finds an offence in, naming a place it found one', () => {
  const tally = { accepted: 0, lone: 0, inexact: 0 };
  for (let body = 0; body < 3000; body++) {
    const text = `${whitespace()}${value(0, random() < 0.5)}${whitespace()}`;
    const expected = offences(text);
    let refusal: unknown;
    try {
      assertIJson(text, JSON.parse(text));
    } catch (error) {
      refusal = error;
    }
    const context = { text, expected };
    if (expected.lone.length === 0 && expected.inexact.length === 0) {
      expect({ ...context, refusal }).toEqual({ ...context, refusal: undefined });
      tally.accepted += 1;
      continue;
    }
    expect(refusal).toBeInstanceOf(AppError);
    const { status, code, field, message } = refusal as AppError;
    expect({ ...context, status, code, field }).toEqual({ ...context, status: 400, code: 'INVALID_JSON', field: 'body' });
    // Lone surrogates are looked for first; numbers named in the text's order, which a reviver's
    // (integer-like member names first) may not be: one of the places found, either way.
    const named =
      expected.lone.length > 0
        ? expected.lone.map((at) => `Request body holds a lone surrogate${at}:`)
        : expected.inexact.map((at) => `Request body holds the number ${at},`);
    expect({ ...context, message, named: named.some((start) => message.startsWith(start)) }).toEqual({ ...context, message, named: true });
    tally[expected.lone.length > 0 ? 'lone' : 'inexact'] += 1;
  }
  // Each outcome drawn often enough to mean something.
  expect(Math.min(tally.accepted, tally.lone, tally.inexact)).toBeGreaterThan(100);
});
