/**
 * HTTP API Lambda authorizer (payload 2.0, simple responses) for node and listing routes. API
 * Gateway answers 401 itself when the Authorization header is missing; a token that does not
 * verify gets 403. The authorized context carries the caller's name and role to the route's
 * function: a node's role from the cluster configuration, or `operator` for a declared
 * read-only operator. API Gateway caches a verdict per token for every route of the authorizer,
 * so the authorizer cannot refuse an operator on writes: write functions do (`callerNode`).
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CredentialsStore } from '../adapters/credentials-store';
import { nodesFromRolesJson, operatorNamesFromJson } from '../cluster-nodes';
import { optionalEnv, requireEnv } from '../env';
import { OPERATOR_ROLE } from '../node-token';
import { authorize, type AuthorizerResult } from '../authorize';
import { NODE_AUTH_ENV } from '../node-auth-manifest';
import { instrumented, logger } from '../observability';
import { withoutSdkLogging } from '../sdk-client';

const credentials = new CredentialsStore(withoutSdkLogging(new DynamoDBClient({})), requireEnv(NODE_AUTH_ENV.credentialsTable));
const nodeRoles = new Map<string, string>(nodesFromRolesJson(NODE_AUTH_ENV.clusterNodes, requireEnv(NODE_AUTH_ENV.clusterNodes)).map((node) => [node.name, node.role]));
const operators = new Set(operatorNamesFromJson(NODE_AUTH_ENV.clusterOperators, optionalEnv(NODE_AUTH_ENV.clusterOperators) ?? '[]'));

const roleOf = (name: string) => nodeRoles.get(name) ?? (operators.has(name) ? OPERATOR_ROLE : undefined);

// A refusal is logged with the node the token names and never the token itself.
export const handler = instrumented(async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
  logger.appendKeys({ apiRequestId: event.requestContext?.requestId, route: event.routeKey });
  return authorize(credentials, roleOf, event.headers?.authorization);
});
