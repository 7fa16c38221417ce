/**
 * The bound the local API measures Lambda's 6 MB with (local/json-size): never under the real
 * size of the JSON, whatever the characters, and exact decisions at the limit.
 */
import { jsonBytesOver, jsonBytesUpperBound } from '../../../local/json-size';
import { pick, seededRandom } from '../../support/random';

const exact = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? 'null');

/** One of each kind of character JSON.stringify writes differently. */
const CHARACTERS = ['x', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', 'é', '€', '\u2028', '😀', '\ud800', '\udc00', '/'];
const NUMBERS = [0, -0, 1, -1.2345678901234567e-7, -0.0000012345678901234567, -123456789012345680000, 1e21, -Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity];

function randomValue(random: () => number, depth: number): unknown {
  const kind = Math.floor(random() * (depth > 3 ? 5 : 7));
  switch (kind) {
    case 0:
      return Array.from({ length: Math.floor(random() * 40) }, () => pick(random, CHARACTERS)).join('');
    case 1:
      return pick(random, NUMBERS);
    case 2:
      return pick(random, [true, false, null]);
    case 3:
      return undefined;
    case 4:
      return pick(random, CHARACTERS).repeat(Math.floor(random() * 5));
    case 5:
      return Array.from({ length: Math.floor(random() * 6) }, () => randomValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = random() < 0.5 ? {} : (Object.create(null) as Record<string, unknown>);
      for (let i = Math.floor(random() * 6); i > 0; i--) object[String(randomValue(random, 9))] = randomValue(random, depth + 1);
      return object;
    }
  }
}

describe('jsonBytesUpperBound', () => {
  it('is never under the JSON size of 2,000 random values of every kind of character, number and shape', () => {
    const random = seededRandom(20261207);
    for (let i = 0; i < 2_000; i++) {
      const value = randomValue(random, 0);
      expect({ value, bound: jsonBytesUpperBound(value) >= exact(value) }).toEqual({ value, bound: true });
    }
  });

  it('is exact for the strings JSON escaping grows the most (6 bytes a character) and for numbers', () => {
    for (const character of ['\u0000', '\u001f', '\ud800']) expect(jsonBytesUpperBound(character.repeat(1000))).toBe(exact(character.repeat(1000)));
    for (const number of NUMBERS) expect(jsonBytesUpperBound(number)).toBe(exact(number));
  });

  it('counts undefined in an array or a sparse array\'s hole as the null JSON writes', () => {
    const sparse: unknown[] = [];
    sparse[3] = 1;
    expect(jsonBytesUpperBound(sparse)).toBeGreaterThanOrEqual(exact(sparse));
    expect(jsonBytesUpperBound([undefined, undefined])).toBe(exact([undefined, undefined]));
  });

  it('gives up (Infinity) on a value with toJSON, a bigint, past 10,000 values or 64 levels, a cyclic one included', () => {
    expect(jsonBytesUpperBound({ when: new Date(0) })).toBe(Infinity);
    expect(jsonBytesUpperBound({ n: 1n })).toBe(Infinity);
    expect(jsonBytesUpperBound(Array.from({ length: 10_000 }, () => 0))).toBe(Infinity);
    expect(jsonBytesUpperBound(Array.from({ length: 9_999 }, () => 0))).toBe(exact(Array.from({ length: 9_999 }, () => 0)));
    const nested = (levels: number): unknown => (levels === 0 ? 'x' : [nested(levels - 1)]);
    expect(jsonBytesUpperBound(nested(65))).toBe(Infinity);
    expect(jsonBytesUpperBound(nested(64))).toBeGreaterThanOrEqual(exact(nested(64)));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonBytesUpperBound(cyclic)).toBe(Infinity);
  });

  it('reads a query parameter named toJSON (a string) as the data it is', () => {
    const query = Object.assign(Object.create(null) as Record<string, string>, { toJSON: 'x' });
    expect(jsonBytesUpperBound(query)).toBeGreaterThanOrEqual(exact(query));
    expect(jsonBytesUpperBound(query)).toBeLessThan(Infinity);
  });
});

describe('jsonBytesOver', () => {
  it('decides at the limit byte for byte, whichever characters fill it', () => {
    for (const character of ['x', '\u0001', '€', '😀']) {
      const value = { body: character.repeat(1000) };
      const bytes = exact(value);
      expect(jsonBytesOver(value, bytes)).toBeUndefined();
      expect(jsonBytesOver(value, bytes - 1)).toBe(bytes);
    }
  });

  it('serializes nothing when the bound fits, and once when it does not', () => {
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      expect(jsonBytesOver({ statusCode: 200, body: 'x'.repeat(100) }, 1000)).toBeUndefined();
      expect(stringify).not.toHaveBeenCalled();
      // The bound (6 bytes a character) is over 1000, the JSON is not: measured, and within.
      expect(jsonBytesOver({ statusCode: 200, body: 'x'.repeat(900) }, 1000)).toBeUndefined();
      expect(stringify).toHaveBeenCalledTimes(1);
    } finally {
      stringify.mockRestore();
    }
  });

  it('measures what the bound gives up on, and throws as JSON.stringify does on what it refuses', () => {
    expect(jsonBytesOver({ when: new Date(0) }, 10)).toBe(exact({ when: new Date(0) }));
    expect(jsonBytesOver({ when: new Date(0) }, 1000)).toBeUndefined();
    expect(() => jsonBytesOver({ n: 1n }, 10)).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonBytesOver(cyclic, 10)).toThrow(TypeError);
  });
});
