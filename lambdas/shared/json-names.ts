/**
 * Member names a JSON text repeats within one object. RFC 8259 leaves such a text's meaning to
 * each reader (`JSON.parse` keeps the last, others the first) and I-JSON (RFC 7493) forbids it.
 * Hand-written because `JSON.parse` keeps no trace of the names it dropped, not even for a
 * reviver, and a second, name-tracking JSON parser in every function's bundle would cost cold
 * start for what a count can tell.
 */

/**
 * Every string of a JSON text, in order, and whether it is a member name (followed by a colon).
 * In valid JSON a `"` outside a string always opens one, so scanning from each match's end
 * meets the strings exactly as a parser does.
 */
const JSON_STRING = /"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?/g;

/**
 * A member name that one object of `text` (valid JSON, `parsed` its value) holds twice, if any.
 * `JSON.parse` keeps the last and says nothing, and no reviver sees the others; counting is
 * enough to tell: the text's member names (strings followed by a colon) outnumber the members of
 * the parsed objects exactly when a name repeats within an object. The names are compared only
 * then, to say which one.
 */
export function duplicateMemberName(text: string, parsed: unknown): string | undefined {
  let inText = 0;
  for (const match of text.matchAll(JSON_STRING)) if (match[1] !== undefined) inText += 1;
  if (inText === 0) return undefined;
  const names = memberNames(parsed);
  if (inText === names.length) return undefined;
  const kept = new Map<string, number>();
  for (const name of names) kept.set(name, (kept.get(name) ?? 0) + 1);
  const named = new Map<string, number>();
  for (const match of text.matchAll(JSON_STRING)) {
    if (match[1] === undefined) continue;
    const name = JSON.parse(match[0].slice(0, match[0].length - match[1].length)) as string;
    const count = (named.get(name) ?? 0) + 1;
    if (count > (kept.get(name) ?? 0)) return name;
    named.set(name, count);
  }
  return undefined;
}

/** The member names of every object in a parsed JSON value, walked without recursion. */
function memberNames(value: unknown): string[] {
  const names: string[] = [];
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (Array.isArray(current)) for (const item of current) pending.push(item);
    else if (typeof current === 'object' && current !== null) {
      for (const name in current) {
        names.push(name);
        pending.push((current as Record<string, unknown>)[name]);
      }
    }
  }
  return names;
}
