/**
 * Node tokens: `<nodeId>.<secret>`. Only a SHA-256 hash of the secret is stored (credentials
 * table, keyed by node), so a leaked table does not leak tokens; comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ParsedToken {
  nodeId: string;
  secret: string;
}

export function generateToken(nodeId: string): { token: string; secretHash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `${nodeId}.${secret}`, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Accepts `Bearer <token>` (case-insensitive scheme); undefined for anything else. */
export function parseAuthorizationHeader(header: string | undefined): ParsedToken | undefined {
  // Only the scheme is case-insensitive: a node name is what the cluster configuration allows
  // (lowercase letters, digits and dashes, not starting with a dash) and the secret is exact.
  const match = /^[Bb][Ee][Aa][Rr][Ee][Rr]\s+([a-z0-9][a-z0-9-]{0,30})\.([A-Za-z0-9_-]{20,})$/.exec(header?.trim() ?? '');
  return match ? { nodeId: match[1] as string, secret: match[2] as string } : undefined;
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
