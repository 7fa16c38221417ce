import { CursorSigner } from '../../../lambdas/shared/signed-cursor';
import { ValidationError } from '../../../lambdas/shared/errors';

const KEY = 'k'.repeat(40);

function refusal(call: () => unknown): ValidationError {
  try {
    call();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected the cursor to be refused');
}

describe('signed cursors', () => {
  const signer = new CursorSigner(KEY);

  it('gives back what it signed', () => {
    const payload = { l: 'abc', p: '2026-12-01T10:00:00.000Z#id-1' };
    const cursor = signer.sign(payload);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(signer.verify(cursor)).toEqual(payload);
  });

  it.each([
    ['the reproduction of issue 9 (unsigned, empty key value)', 'eyJrIjoicyIsInAiOiIifQ'],
    ['an empty string', ''],
    ['a lone dot', '.'],
    ['no payload', `.${'A'.repeat(22)}`],
    ['a made-up tag', `eyJrIjoicyIsInAiOiIifQ.${'A'.repeat(22)}`],
    ['a tag of the wrong length', 'eyJrIjoicyIsInAiOiIifQ.AAAA'],
    ['something over 2 KiB', `${'a'.repeat(2100)}.${'A'.repeat(22)}`],
  ])('refuses %s as a 400 naming cursor', (_label, cursor) => {
    const error = refusal(() => signer.verify(cursor));
    expect(error.status).toBe(400);
    expect(error.field).toBe('cursor');
  });

  it('refuses a cursor whose payload was changed, or whose tag was altered', () => {
    const cursor = signer.sign({ l: 'abc', p: 'x#1' });
    const [body, tag] = cursor.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ l: 'abc', p: '' })).toString('base64url');
    expect(refusal(() => signer.verify(`${forgedBody}.${tag}`)).field).toBe('cursor');
    const flipped = `${tag.slice(0, 5)}${tag[5] === 'A' ? 'B' : 'A'}${tag.slice(6)}`;
    expect(refusal(() => signer.verify(`${body}.${flipped}`)).field).toBe('cursor');
    // A base64url decoder would ignore a trailing stray character; the tag check does not.
    expect(refusal(() => signer.verify(`${cursor}=`)).field).toBe('cursor');
  });

  it('refuses a cursor another deployment (another key) signed', () => {
    const other = new CursorSigner('o'.repeat(40)).sign({ l: 'abc', p: 'x#1' });
    expect(refusal(() => signer.verify(other)).field).toBe('cursor');
  });

  it('refuses to run with a key too short to be a secret', () => {
    expect(() => new CursorSigner('short')).toThrow('at least 32 characters');
  });
});
