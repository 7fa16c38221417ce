/**
 * The decision of the node authorizer (handlers/authorize-node.ts): a bearer token's name must
 * be declared in the cluster and its secret must match the hash the credentials table holds.
 */
import type { APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import type { NodeIdentity } from './http';
import { parseAuthorizationHeader, secretMatches } from './node-token';
import { logger } from './observability';

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<NodeIdentity | Record<string, never>>;
const denied: AuthorizerResult = { isAuthorized: false, context: {} };

/**
 * Compared against when the table holds no hash for the name, so that every well-formed token
 * costs one read and one hash comparison.
 */
const NO_HASH = '0'.repeat(64);

/**
 * The authorizer's decision. Every well-formed token takes the same steps (a read of its name's
 * hash, a comparison), whether or not the cluster declares the name: a refusal that came sooner
 * for an undeclared name would let a stranger find the declared ones by timing.
 */
export async function authorize(
  credentials: { secretHashOf(name: string): Promise<string | undefined> },
  roleOf: (name: string) => string | undefined,
  authorization: string | undefined,
): Promise<AuthorizerResult> {
  const token = parseAuthorizationHeader(authorization);
  if (!token) {
    logger.info('request refused: malformed bearer token');
    return denied;
  }
  const secretHash = await credentials.secretHashOf(token.nodeId);
  const verified = secretMatches(token.secret, secretHash ?? NO_HASH) && secretHash !== undefined;
  // Only nodes and operators declared in the cluster configuration may act, whatever the table holds.
  const role = roleOf(token.nodeId);
  if (!role) {
    logger.info('request refused: token of a node or operator not in the cluster', { node: token.nodeId });
    return denied;
  }
  if (!verified) {
    logger.info('request refused: token does not verify', { node: token.nodeId });
    return denied;
  }
  return { isAuthorized: true, context: { nodeId: token.nodeId, role } };
}
