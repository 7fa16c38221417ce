/**
 * How the operator CLI words counts and runs of numbers, so a line reads right for every count:
 * "1 change", "2 changes", "change #3", "changes #3-5", "sequence 7", "sequences 7-9" (never
 * "1 change(s)" or "#1-1").
 */

/** `count` and its noun, singular for exactly one: "1 status", "0 statuses", "2 statuses". */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/**
 * A run of consecutive numbers after its noun: "sequence 7" for one, "sequences 7-9" for more.
 * `mark` goes before the run ("#" for places in a file: "change #3", "changes #3-5").
 */
export function numbered(first: number, last: number, singular: string, plural = `${singular}s`, mark = ''): string {
  return first === last ? `${singular} ${mark}${first}` : `${plural} ${mark}${first}-${last}`;
}
