/**
 * Page cursors that only this deployment can issue: `<payload>.<tag>`, where the payload is the
 * base64url JSON a listing needs to resume and the tag an HMAC-SHA256 of it under the cluster's
 * cursor key (docs/architecture.md, "Page cursors"). A cursor that was altered, made up, or
 * issued by another deployment fails the tag check and is refused as a 400 naming `cursor`, so
 * nothing a client invents reaches a DynamoDB key condition or start key.
 *
 * Hand-written because it is two calls into node:crypto; a token library (JWT) would add a
 * header, algorithms to negotiate and a bundle dependency for no gain here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors';

/** 128 bits of tag: forging one is a 2^-128 guess; the full 256 only lengthens URLs. */
const TAG_BYTES = 16;
/** Cursors are issued by us and stay short; anything longer is refused before any work. */
export const MAX_CURSOR_LENGTH = 2048;
/** A key shorter than this is a configuration error, not a secret. */
const MIN_KEY_LENGTH = 32;

export class CursorSigner {
  private readonly key: Buffer;

  constructor(key: string) {
    if (key.length < MIN_KEY_LENGTH) throw new Error(`The cursor key must be at least ${MIN_KEY_LENGTH} characters`);
    this.key = Buffer.from(key, 'utf8');
  }

  sign(payload: unknown): string {
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${this.tag(body).toString('base64url')}`;
  }

  /**
   * The payload of a cursor this key signed; a ValidationError (400, field `cursor`) for
   * anything else.
   */
  verify(cursor: string): unknown {
    const refuse = () => new ValidationError('cursor', 'is not a cursor this listing issued (take nextCursor or the next link as given)');
    if (cursor.length > MAX_CURSOR_LENGTH) throw refuse();
    const dot = cursor.lastIndexOf('.');
    if (dot <= 0) throw refuse();
    const body = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
    // base64url decoding ignores stray characters, so the tag is compared in its canonical form too.
    if (given.length !== TAG_BYTES || given.toString('base64url') !== cursor.slice(dot + 1)) throw refuse();
    if (!timingSafeEqual(given, this.tag(body))) throw refuse();
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw refuse();
    }
  }

  private tag(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, TAG_BYTES);
  }
}
