/**
 * Query-string values as zod schemas. A query parameter reaches a handler as a string; these
 * schemas check its text, turn it into the number or boolean the handler uses, and say what the
 * OpenAPI document should show for it (`documentedAs`): zod's own conversion describes a pipe by
 * its input, a string with a pattern, which would type `limit` as a string in every generated
 * client. api/openapi.ts reads `documentedAs` when it converts a route's query schema, so the
 * schema a handler parses with is the one the document publishes.
 */
import * as z from 'zod/mini';
import { ValidationError } from './errors';
import { parseWith } from './validation';

/** The JSON Schema the OpenAPI document gives a query schema built here, instead of zod's own conversion. */
export const documentedAs = new WeakMap<z.ZodMiniType, Readonly<Record<string, unknown>>>();

/** A whole number written in decimal digits (no sign, exponent or spaces), from `min` to `max`. */
export function queryInteger(min: number, max: number, description: string) {
  const message = `must be a whole number from ${min} to ${max}`;
  const schema = z.pipe(
    z.string().check(z.regex(/^\d{1,16}$/, message)),
    z.pipe(z.transform(Number), z.number().check(z.minimum(min, message), z.maximum(max, message))),
  );
  documentedAs.set(schema, { type: 'integer', minimum: min, maximum: max, description });
  return schema;
}

/** queryInteger with the value an absent parameter takes. */
export function queryIntegerOr(fallback: number, min: number, max: number, description: string) {
  const schema = queryInteger(min, max, description);
  documentedAs.set(schema, { ...documentedAs.get(schema), default: fallback });
  return z._default(schema, fallback);
}

/** `true` or `false`, nothing else; absent is `false`. */
export function queryFlag(description: string) {
  const schema = z.pipe(
    z.enum(['true', 'false'], 'must be true or false'),
    z.transform((value: 'true' | 'false') => value === 'true'),
  );
  documentedAs.set(schema, { type: 'boolean', default: false, description });
  return z._default(schema, false);
}

/**
 * Parses a route's query parameters (API Gateway's `queryStringParameters`) with its strict
 * schema: a 400 names the first offending parameter, and an unknown one is refused with the
 * route's own parameters listed.
 */
export function parseQuery<Shape extends z.core.$ZodLooseShape>(
  schema: z.ZodMiniObject<Shape>,
  params: Readonly<Record<string, string | undefined>> | undefined,
): z.infer<z.ZodMiniObject<Shape>> {
  const known = Object.keys(schema.shape);
  for (const name of Object.keys(params ?? {})) {
    if (!known.includes(name)) throw new ValidationError(name, `is not a parameter of this route (${known.join(', ')})`);
  }
  return parseWith(schema, params ?? {});
}
