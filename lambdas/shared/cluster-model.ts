/**
 * The cluster model, defined once for the CDK app (which validates the cluster file at synth),
 * the functions (which read the same facts from their environment), the token tool and the
 * OpenAPI document: node roles and what each may do, and the naming rules of nodes and
 * clusters.
 *
 * GeoServer's JMS module has the same three roles: a master publishes the changes made on it,
 * a slave applies what masters publish, a node may be both. A pure slave must never be
 * changed directly, so its publish path refuses; a pure master consumes nothing, so it gets
 * no queue.
 *
 * Written with `zod/mini` (it ships in every function bundle); the CDK side embeds these
 * schemas in its full-`zod` configuration schema.
 */
import * as z from 'zod/mini';
import { CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE, NODE_NAME_PATTERN, NODE_NAME_RULE } from './cluster-names';
import { NODE_ROLES, nodeListIssues } from './cluster-nodes';

// The naming rules and the nodes' roles, defined apart from the schemas (./cluster-names.ts and
// ./cluster-nodes.ts say why).
export { CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE, NODE_NAME_PATTERN, NODE_NAME_RULE };
export * from './cluster-nodes';

export const nodeNameSchema = z.string().check(z.regex(NODE_NAME_PATTERN, NODE_NAME_RULE));
export const clusterNameSchema = z.string().check(z.regex(CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE));
export const nodeRoleSchema = z.enum(NODE_ROLES);

/** The declared nodes: each a valid name and role, and the list by `nodeListIssues`' rules. */
export const clusterNodesSchema = z.array(z.strictObject({ name: nodeNameSchema, role: nodeRoleSchema })).check(
  z.superRefine((nodes, ctx) => {
    for (const issue of nodeListIssues(nodes)) ctx.issues.push({ code: 'custom', input: nodes, path: [...issue.path], message: issue.message });
  }),
);

