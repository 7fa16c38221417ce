import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ValidationError } from './errors';

// zod/mini ships without messages ("Invalid input"); the English locale costs ~3 KB of bundle
// and tells a client what was wrong ("Too big: expected number to be <=100").
z.config(en());

/** Parses with a schema; a failure becomes a 400 naming the first offending field. */
export function parseWith<T extends z.ZodMiniType>(schema: T, value: unknown, root = ''): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [root, ...(issue?.path ?? []).map(String)];
  if (issue?.code === 'unrecognized_keys') {
    const [key] = issue.keys;
    throw new ValidationError([...path, key].filter(Boolean).join('.'), 'is not a known field');
  }
  // zod says of a missing member what it says of a wrong one ("Invalid option: expected one of ...").
  const missing = issue !== undefined && issue.path.length > 0 && memberAt(value, issue.path) === undefined;
  throw new ValidationError(path.filter(Boolean).join('.'), missing ? 'is required' : (issue?.message ?? 'invalid value'));
}

/** The member at `path` in a parsed JSON value, undefined when any step of it is absent. */
export function memberAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let here = value;
  for (const key of path) {
    if (typeof here !== 'object' || here === null || !Object.hasOwn(here, key)) return undefined;
    here = (here as Record<PropertyKey, unknown>)[key];
  }
  return here;
}
