import type * as z from 'zod/mini';
import { ValidationError } from './errors';

/** Parses with a schema; a failure becomes a 400 naming the first offending field. */
export function parseWith<T extends z.ZodMiniType>(schema: T, value: unknown, root = ''): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [root, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  throw new ValidationError(field, issue?.message ?? 'invalid value');
}
