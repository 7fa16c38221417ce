/**
 * The node authorizer, declared once in the style of the service manifests: its handler, the
 * environment it reads and the one IAM action it needs. It serves no route of its own: every
 * `node` route (and every `read` route when `requireAuthForReads` is set) goes through it. The
 * NodeAuth construct (cdk/constructs/node-auth.ts) builds it from this.
 */
import type { ServiceManifest } from './manifest';

/** Environment variable names, shared by the construct and the authorizer. */
export const NODE_AUTH_ENV = {
  credentialsTable: 'CREDENTIALS_TABLE_NAME',
  /** JSON object node name -> role (cluster-nodes.ts `nodeRolesJson`). */
  clusterNodes: 'CLUSTER_NODES',
  /** JSON array of the read-only operators' names. */
  clusterOperators: 'CLUSTER_OPERATORS',
} as const;
export type NodeAuthEnv = (typeof NODE_AUTH_ENV)[keyof typeof NODE_AUTH_ENV];

/** `credentials`: the credentials table (credentials-table.ts), read by key only. */
export type NodeAuthResource = 'credentials';

export const NODE_AUTH_MANIFEST = {
  AuthorizeNode: {
    entry: 'shared/handlers/authorize-node.ts',
    environment: [NODE_AUTH_ENV.credentialsTable, NODE_AUTH_ENV.clusterNodes, NODE_AUTH_ENV.clusterOperators],
    grants: [{ on: 'credentials', actions: ['dynamodb:GetItem'] }],
  },
} as const satisfies ServiceManifest<NodeAuthEnv, NodeAuthResource>;
