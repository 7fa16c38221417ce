/**
 * HTTP API Lambda authorizer (payload 2.0, simple responses) for node and listing routes. API
 * Gateway answers 401 itself when the Authorization header is missing; a token that does not
 * verify gets 403. The authorized context carries the caller's name and role to the route's
 * function: a node's role from the cluster configuration, or `operator` for a declared
 * read-only operator. API Gateway caches a verdict per token for every route of the authorizer,
 * so the authorizer cannot refuse an operator on writes: write functions do (`callerNode`).
 */
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CredentialsStore } from '../adapters/credentials-store';
import { optionalEnv, requireEnv } from '../env';
import type { NodeIdentity } from '../http';
import { OPERATOR_ROLE, parseAuthorizationHeader, secretMatches } from '../node-token';
import { NODE_AUTH_ENV } from '../node-auth-manifest';
import { instrumented, logger } from '../observability';
import { withoutSdkLogging } from '../sdk-client';

const credentials = new CredentialsStore(withoutSdkLogging(new DynamoDBClient({})), requireEnv(NODE_AUTH_ENV.credentialsTable));
const nodeRoles = parseNodeRoles(requireEnv(NODE_AUTH_ENV.clusterNodes));
const operators = parseOperators(optionalEnv(NODE_AUTH_ENV.clusterOperators) ?? '[]');

function parseNodeRoles(raw: string): Map<string, string> {
  try {
    return new Map(Object.entries(JSON.parse(raw) as Record<string, string>));
  } catch {
    throw new Error(`Environment variable CLUSTER_NODES must be a JSON object of node name to role, got '${raw}'`);
  }
}

function parseOperators(raw: string): Set<string> {
  try {
    const names = JSON.parse(raw) as unknown;
    if (Array.isArray(names) && names.every((name) => typeof name === 'string')) return new Set(names);
  } catch {
    // reported below
  }
  throw new Error(`Environment variable CLUSTER_OPERATORS must be a JSON array of operator names, got '${raw}'`);
}

type Result = APIGatewaySimpleAuthorizerWithContextResult<NodeIdentity | Record<string, never>>;
const denied: Result = { isAuthorized: false, context: {} };

// A refusal is logged with the node the token names and never the token itself.
export const handler = instrumented(async (event: APIGatewayRequestAuthorizerEventV2): Promise<Result> => {
  logger.appendKeys({ apiRequestId: event.requestContext?.requestId, route: event.routeKey });
  const token = parseAuthorizationHeader(event.headers?.authorization);
  if (!token) {
    logger.info('request refused: malformed bearer token');
    return denied;
  }
  // Only nodes and operators declared in the cluster configuration may act, whatever the table holds.
  const role = nodeRoles.get(token.nodeId) ?? (operators.has(token.nodeId) ? OPERATOR_ROLE : undefined);
  if (!role) {
    logger.info('request refused: token of a node or operator not in the cluster', { node: token.nodeId });
    return denied;
  }
  const secretHash = await credentials.secretHashOf(token.nodeId);
  if (secretHash === undefined || !secretMatches(token.secret, secretHash)) {
    logger.info('request refused: token does not verify', { node: token.nodeId });
    return denied;
  }
  return { isAuthorized: true, context: { nodeId: token.nodeId, role } };
});
