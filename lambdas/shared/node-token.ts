/** The role the authorizer gives an operator token: it may list and read, never write. */
export const OPERATOR_ROLE = 'operator';

/**
 * Node and operator tokens: `<name>.<secret>`. Only a SHA-256 hash of the secret is stored (credentials
 * table, keyed by node), so a leaked table does not leak tokens; comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NODE_NAME_PATTERN } from './cluster-names';

export interface ParsedToken {
  nodeId: string;
  secret: string;
}

/** The fewest characters of a secret the authorizer reads; a minted one has 43 (32 random bytes, base64url). */
export const MIN_SECRET_LENGTH = 20;
const SECRET_BYTES = 32;
export const MINTED_SECRET_LENGTH = Math.ceil((SECRET_BYTES * 4) / 3);

export function generateToken(nodeId: string): { token: string; secretHash: string } {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { token: `${nodeId}.${secret}`, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

const TOKEN_HEADER = new RegExp(`^[Bb][Ee][Aa][Rr][Ee][Rr]\\s+([^.\\s]+)\\.([A-Za-z0-9_-]{${MIN_SECRET_LENGTH},})$`);

/** Accepts `Bearer <token>` (case-insensitive scheme); undefined for anything else. */
export function parseAuthorizationHeader(header: string | undefined): ParsedToken | undefined {
  // Only the scheme is case-insensitive: the node name must follow the cluster model's rule
  // (which allows no dot) and the secret is exact.
  const match = TOKEN_HEADER.exec(header?.trim() ?? '');
  if (!match || !NODE_NAME_PATTERN.test(match[1] as string)) return undefined;
  return { nodeId: match[1] as string, secret: match[2] as string };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
