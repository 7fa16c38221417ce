/**
 * The size of a value as JSON (UTF-8 bytes), measured against a limit without serializing the
 * value when a cheap upper bound already fits: the local API measures every Lambda event and
 * every function's answer against Lambda's 6 MB, and most are a few kilobytes.
 */

/** Past this many values the walk stops and the value is serialized: a bound then costs about as much. */
const MAX_VALUES_WALKED = 10_000;
/** Nor does it go deeper than this (a cyclic value among others: its walk would exhaust the stack first). */
const MAX_DEPTH_WALKED = 64;

/**
 * An upper bound of `Buffer.byteLength(JSON.stringify(value))`, from the value's shape only:
 * a string's UTF-16 code units are 6 bytes each at most (`\u001f`, a lone surrogate's `\udc00`;
 * a UTF-8 character takes no more bytes than its escape), a number's text is measured, and
 * `undefined` inside an object or array is counted as `null` (which is longer than nothing).
 * Infinity when the value is not one the bound knows (a `toJSON`, a bigint), has more than
 * MAX_VALUES_WALKED values or is nested deeper than MAX_DEPTH_WALKED (so a cyclic one ends the
 * walk too): only serializing tells then.
 */
export function jsonBytesUpperBound(value: unknown): number {
  let walked = 0;
  const bound = (item: unknown, depth: number): number => {
    walked += 1;
    if (walked > MAX_VALUES_WALKED || depth > MAX_DEPTH_WALKED) return Infinity;
    switch (typeof item) {
      case 'string':
        return 2 + 6 * item.length;
      case 'number':
        return Number.isFinite(item) ? String(item).length : 4;
      case 'boolean':
        return item ? 4 : 5;
      case 'undefined':
      case 'function':
      case 'symbol':
        return 4;
      case 'bigint':
        return Infinity;
      default:
        break;
    }
    if (item === null) return 4;
    const object = item as Record<string, unknown>;
    if (typeof object.toJSON === 'function') return Infinity;
    if (Array.isArray(object)) {
      let total = 2 + Math.max(0, object.length - 1);
      for (const element of object) {
        total += bound(element, depth + 1);
        if (total === Infinity) return total;
      }
      return total;
    }
    let total = 2;
    for (const key of Object.keys(object)) {
      // "key": value, (the last comma is one too many, which a bound may count)
      total += 2 + 6 * key.length + 1 + bound(object[key], depth + 1) + 1;
      if (total === Infinity) return total;
    }
    return total;
  };
  return bound(value, 0);
}

/**
 * The value's size as JSON when it is over `limit` bytes, else undefined; serializes the value
 * only when its upper bound (jsonBytesUpperBound) is over the limit. A value JSON.stringify
 * refuses (cyclic, a bigint) throws as JSON.stringify does.
 */
export function jsonBytesOver(value: unknown, limit: number): number | undefined {
  if (jsonBytesUpperBound(value) <= limit) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? 'null');
  return bytes > limit ? bytes : undefined;
}
