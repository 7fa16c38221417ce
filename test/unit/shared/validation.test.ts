import * as z from 'zod/mini';
import { ValidationError } from '../../../lambdas/shared/errors';
import { parseWith } from '../../../lambdas/shared/validation';

const schema = z.strictObject({
  phase: z.enum(['QUEUED', 'RUNNING']),
  progress: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(100))),
  exception: z.optional(
    z.strictObject({
      code: z.string().check(z.minLength(1)),
      message: z.string(),
    }),
  ),
  outputs: z.optional(z.array(z.strictObject({ id: z.string() }))),
});

function failure(value: unknown, root?: string): ValidationError {
  try {
    parseWith(schema, value, root);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('parseWith', () => {
  it('returns the parsed value when it is valid', () => {
    const value = { phase: 'RUNNING', progress: 40, exception: { code: 'X', message: 'y' } };
    expect(parseWith(schema, value)).toEqual(value);
  });

  it('returns what the schema transforms to', () => {
    const trimmed = z.pipe(z.string(), z.transform((value: string) => value.trim()));
    expect(parseWith(trimmed, '  a  ')).toBe('a');
  });

  it('is a 400 INVALID_REQUEST naming a top-level field with the English message', () => {
    const error = failure({ phase: 'RUNNING', progress: 101 });
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.field).toBe('progress');
    expect(error.message).toMatch(/^progress: Too big/);
    expect(error.message).toContain('100');
  });

  it('names a nested field by its dotted path', () => {
    const error = failure({ phase: 'RUNNING', exception: { code: '', message: 'm' } });
    expect(error.field).toBe('exception.code');
    expect(error.message).toMatch(/^exception\.code: Too small/);
  });

  it('names an array element by its index', () => {
    expect(failure({ phase: 'QUEUED', outputs: [{ id: 'a' }, { id: 7 }] }).field).toBe('outputs.1.id');
  });

  it('names a missing required field, and says it is missing', () => {
    const error = failure({});
    expect(error.field).toBe('phase');
    expect(error.message).toBe('phase: is required');
    expect(failure({ phase: 'QUEUED', exception: { message: 'm' } }).message).toBe('exception.code: is required');
    // Present but wrong: zod's own message.
    expect(failure({ phase: 'DONE' }).message).toMatch(/^phase: Invalid option/);
    expect(failure({ phase: null }).message).toMatch(/^phase: Invalid option/);
  });

  it('names an unrecognized top-level key as the field', () => {
    const error = failure({ phase: 'QUEUED', colour: 'red' });
    expect(error.field).toBe('colour');
    expect(error.message).toBe('colour: is not a known field');
  });

  it('names an unrecognized nested key with its path', () => {
    const error = failure({ phase: 'QUEUED', exception: { code: 'X', message: 'm', stack: 'at ...' } });
    expect(error.field).toBe('exception.stack');
    expect(error.message).toBe('exception.stack: is not a known field');
  });

  it('prefixes the field with the root', () => {
    expect(failure({ phase: 'DONE' }, 'body').field).toBe('body.phase');
    expect(failure({ phase: 'QUEUED', extra: 1 }, 'body').field).toBe('body.extra');
    expect(failure({ phase: 'QUEUED', exception: { code: 'X', message: 'm', x: 1 } }, 'body').field).toBe('body.exception.x');
  });

  it('names the root itself when the whole value is wrong', () => {
    const id = z.string().check(z.regex(/^[a-z]+$/, 'must be lowercase letters'));
    let error: unknown;
    try {
      parseWith(id, 'ABC', 'executionId');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('executionId');
    expect((error as ValidationError).message).toBe('executionId: must be lowercase letters');
  });

  it('has no field and no leading separator for a wrong root value without a root name', () => {
    const error = failure('not an object');
    expect(error.field).toBe('');
    expect(error.message).not.toMatch(/^[.:]/);
    expect(error.message).toMatch(/expected object/i);
  });
});
