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
import { canPublish, consumes, NODE_ROLES, nodeListIssues, type ClusterNode } from './cluster-nodes';


// The naming rules and the nodes' roles, defined apart from the schemas (./cluster-names.ts and
// ./cluster-nodes.ts say why).
export { CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE, NODE_NAME_PATTERN, NODE_NAME_RULE };
export * from './cluster-nodes';

export const nodeNameSchema = z.string().check(z.regex(NODE_NAME_PATTERN, NODE_NAME_RULE));
export const clusterNameSchema = z.string().check(z.regex(CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE));
export const nodeRoleSchema = z.enum(NODE_ROLES);

/**
 * A consuming node's SQS FIFO queue and dead-letter queue names. Fixed by the cluster's and
 * the node's names, so that a function finds every node's queues from one URL prefix
 * (`QUEUE_URL_PREFIX`) instead of an environment variable listing each URL, which would outgrow
 * Lambda's 4 KB of environment at about 20 nodes.
 */
export function nodeQueueNames(cluster: string, node: string): { readonly queue: string; readonly deadLetterQueue: string } {
  return { queue: `${cluster}-${node}.fifo`, deadLetterQueue: `${cluster}-${node}-dlq.fifo` };
}

/**
 * The queue (and its dead-letter queue) whose consumer keeps the pure masters' stores up with
 * the log (lambdas/config-sync/master-stores.ts): one per cluster with pure masters. The `_`
 * is in neither cluster nor node names, so no node's queue (`<cluster>-<node>`) can take it.
 */
export function masterStoresQueueNames(cluster: string): { readonly queue: string; readonly deadLetterQueue: string } {
  return { queue: `${cluster}_master-stores.fifo`, deadLetterQueue: `${cluster}_master-stores-dlq.fifo` };
}

export function isNodeName(value: string): boolean {
  return NODE_NAME_PATTERN.test(value);
}




/**
 * Pure masters: they publish and consume no queue of their own, so their stores follow the log
 * through the master-stores queue's consumer and the republish schedule.
 */
export function pureMasters<Node extends ClusterNode>(nodes: readonly Node[]): Node[] {
  return nodes.filter((node) => canPublish(node.role) && !consumes(node.role));
}




/** The declared nodes: each a valid name and role, and the list by `nodeListIssues`' rules. */
export const clusterNodesSchema = z.array(z.strictObject({ name: nodeNameSchema, role: nodeRoleSchema })).check(
  z.superRefine((nodes, ctx) => {
    for (const issue of nodeListIssues(nodes)) ctx.issues.push({ code: 'custom', input: nodes, path: [...issue.path], message: issue.message });
  }),
);

