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

export const NODE_ROLES = ['master', 'slave', 'both'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

// The naming rules, defined apart from the schemas (./cluster-names.ts says why).
export { CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE, NODE_NAME_PATTERN, NODE_NAME_RULE };

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

export interface ClusterNode {
  readonly name: string;
  readonly role: NodeRole;
}

/** Masters and `both` nodes publish changes. */
export function canPublish(role: NodeRole): boolean {
  return role === 'master' || role === 'both';
}

/** Slaves and `both` nodes consume: each gets a durable queue and an apply function. */
export function consumes(role: NodeRole): boolean {
  return role === 'slave' || role === 'both';
}

/**
 * Pure masters: they publish and consume no queue of their own, so their stores follow the log
 * through the master-stores queue's consumer and the republish schedule.
 */
export function pureMasters<Node extends ClusterNode>(nodes: readonly Node[]): Node[] {
  return nodes.filter((node) => canPublish(node.role) && !consumes(node.role));
}

/** One thing wrong with a declared node list, where (`index` of the node, its field) and what. */
export interface NodeListIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * The rules of the declared nodes as a whole: at least one, names unique, and at least one that
 * can publish, otherwise no change could ever enter the cluster. A plain function, so that the
 * functions check what they read from `CLUSTER_NODES` at cold start without building zod
 * schemas for it (lambdas/config-sync/adapters/from-env.ts `membershipFromEnv`); the schema below
 * applies the same rules.
 */
export function nodeListIssues(nodes: readonly ClusterNode[]): NodeListIssue[] {
  if (nodes.length === 0) return [{ path: [], message: 'must declare at least one node' }];
  const issues: NodeListIssue[] = [];
  const seen = new Set<string>();
  nodes.forEach((node, index) => {
    if (seen.has(node.name)) issues.push({ path: [index, 'name'], message: `duplicate node name '${node.name}'` });
    seen.add(node.name);
  });
  if (!nodes.some((node) => canPublish(node.role))) issues.push({ path: [], message: 'must include a master or both node' });
  return issues;
}

/** Whether `value` is one of the roles. */
export function isNodeRole(value: unknown): value is NodeRole {
  return (NODE_ROLES as readonly unknown[]).includes(value);
}

/** The declared nodes: each a valid name and role, and the list by `nodeListIssues`' rules. */
export const clusterNodesSchema = z.array(z.strictObject({ name: nodeNameSchema, role: nodeRoleSchema })).check(
  z.superRefine((nodes, ctx) => {
    for (const issue of nodeListIssues(nodes)) ctx.issues.push({ code: 'custom', input: nodes, path: [...issue.path], message: issue.message });
  }),
);

/** The nodes as functions receive them (`CLUSTER_NODES`): node name -> role. */
export function nodeRolesJson(nodes: readonly ClusterNode[]): string {
  return JSON.stringify(Object.fromEntries(nodes.map((node) => [node.name, node.role])));
}
