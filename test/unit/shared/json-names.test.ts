/**
 * The count that finds a member name repeated within one object, against texts generated with
 * their answer known: names from a pool where different escapes decode to the same name
 * (`"a"`, `"\u0061"`), and names and string values holding quotes, colons and backslashes,
 * which a scan that lost track of where strings end would take for member names.
 */
import { duplicateMemberName } from '../../../lambdas/shared/json-names';
import { pick, seededRandom } from '../../support/random';

const NAMES = ['"a"', '"\\u0061"', '"a\\":"', '"\\\\"', '":"', '"__proto__"', '""', '"b"', '"\\"b\\": 1"', '"x\\\\\\"y"'];

/** A JSON text and whether one of its objects names a member twice (decoded names compared). */
function generate(random: () => number, depth = 0): { text: string; repeats: boolean } {
  const space = () => pick(random, ['', ' ', '\n', '\t ']);
  const roll = random();
  if (depth > 3 || roll < 0.35) return { text: pick(random, [...NAMES, '1', 'true', 'null', '-2.5e3']), repeats: false };
  const count = Math.floor(random() * 4);
  if (roll < 0.6) {
    const items = Array.from({ length: count }, () => generate(random, depth + 1));
    return { text: `[${items.map((item) => space() + item.text + space()).join(',')}]`, repeats: items.some((item) => item.repeats) };
  }
  const seen = new Set<string>();
  let repeats = false;
  const members = Array.from({ length: count }, () => {
    const name = pick(random, NAMES);
    const decoded = JSON.parse(name) as string;
    repeats ||= seen.has(decoded);
    seen.add(decoded);
    const member = generate(random, depth + 1);
    repeats ||= member.repeats;
    return `${space()}${name}${space()}:${space()}${member.text}${space()}`;
  });
  return { text: `{${members.join(',')}}`, repeats };
}

describe('duplicateMemberName', () => {
  it.each([1, 2026, 31337])('seed %i: finds a repeated name exactly when the text has one', (seed) => {
    const random = seededRandom(seed);
    let withRepeats = 0;
    for (let i = 0; i < 20_000; i += 1) {
      const { text, repeats } = generate(random);
      const found = duplicateMemberName(text, JSON.parse(text));
      expect({ text, found: found !== undefined }).toEqual({ text, found: repeats });
      if (repeats) withRepeats += 1;
    }
    // The run exercised both answers.
    expect(withRepeats).toBeGreaterThan(1_000);
    expect(withRepeats).toBeLessThan(19_000);
  });

  it('names the member given twice', () => {
    const text = String.raw`{"list":[{"id":1,"n\u0061me":"x"}],"o":{"name":1,"id":2,"name":3}}`;
    expect(duplicateMemberName(text, JSON.parse(text))).toBe('name');
  });
});
