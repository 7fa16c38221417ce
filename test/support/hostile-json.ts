/**
 * JSON request bodies that cost a reader the most for their size, shared by the tests and
 * `npm run bench`: a body of lists nested some dozens deep, repeated up to a size, with one
 * number in it that a double does not carry exactly (or out of range), which once made every
 * such body pay for a second, value-by-value parse.
 */

/** A JSON object `{"changes":[...]}` of about `bytes`, its lists nested `depth` deep, with `number` as the last list's last item. */
export function nestedListsJson(bytes: number, number = '1e999', depth = 60): string {
  const open = '['.repeat(depth);
  const close = ']'.repeat(depth);
  const unit = `${open}1,2,3${close}`;
  const items: string[] = [];
  let size = '{"changes":[]}'.length + unit.length + number.length;
  while (size + unit.length + 1 < bytes) {
    items.push(unit);
    size += unit.length + 1;
  }
  items.push(`${open}1,${number}${close}`);
  return `{"changes":[${items.join(',')}]}`;
}
