/**
 * The nodes of the cluster model (./cluster-model.ts, which re-exports this module): their roles,
 * what each role may do, the rules of a declared node list, and the JSON in which the functions
 * receive the list (`CLUSTER_NODES`), their queues' names and which are pure masters. Apart
 * from the model's zod schemas, as ./cluster-names.ts is and for the same reason: the node authorizer and every config-sync function read the list
 * at cold start, and building the model's schemas there cost them time for a check that plain
 * code does with the same rules.
 */
import { NODE_NAME_PATTERN, NODE_NAME_RULE } from './cluster-names';
import { envJson } from './env';

export const NODE_ROLES = ['master', 'slave', 'both'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** What a node's dead-letter queue's name adds to its queue's, before `.fifo` (nodeQueueNames). */
const DEAD_LETTER_SUFFIX = '-dlq';

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

/** Whether `value` is one of the roles. */
export function isNodeRole(value: unknown): value is NodeRole {
  return (NODE_ROLES as readonly unknown[]).includes(value);
}

/** One thing wrong with a declared node list, where (`index` of the node, its field) and what. */
export interface NodeListIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * The rules of the declared nodes as a whole: at least one, names unique, no consuming node's
 * queue named as another's dead-letter queue (which no deploy could create), and at least one
 * that can publish, otherwise no change could ever enter the cluster. Applied by the model's schema
 * (which the CDK app checks the cluster file with) and by `nodesFromRolesJson`.
 */
export function nodeListIssues(nodes: readonly ClusterNode[]): NodeListIssue[] {
  if (nodes.length === 0) return [{ path: [], message: 'must declare at least one node' }];
  const issues: NodeListIssue[] = [];
  const seen = new Set<string>();
  nodes.forEach((node, index) => {
    if (seen.has(node.name)) issues.push({ path: [index, 'name'], message: `duplicate node name '${node.name}'` });
    seen.add(node.name);
  });
  // `<cluster>-<node>-dlq.fifo` (nodeQueueNames) is also the queue name of a node named `<node>-dlq`:
  // two consuming nodes may not be named so, or the second queue could not be created.
  const consumingNames = new Set(nodes.filter((node) => consumes(node.role)).map((node) => node.name));
  nodes.forEach((node, index) => {
    const owner = node.name.endsWith(DEAD_LETTER_SUFFIX) ? node.name.slice(0, -DEAD_LETTER_SUFFIX.length) : undefined;
    if (owner !== undefined && consumes(node.role) && consumingNames.has(owner)) {
      issues.push({ path: [index, 'name'], message: `node '${node.name}' would share its queue's name with the dead-letter queue of node '${owner}'` });
    }
  });
  if (!nodes.some((node) => canPublish(node.role))) issues.push({ path: [], message: 'must include a master or both node' });
  return issues;
}

/** The nodes as functions receive them (`CLUSTER_NODES`): node name -> role. */
export function nodeRolesJson(nodes: readonly ClusterNode[]): string {
  return JSON.stringify(Object.fromEntries(nodes.map((node) => [node.name, node.role])));
}

/**
 * The nodes from `nodeRolesJson`'s JSON, read from the environment variable `variable`, each
 * name and role and the list checked by the model's rules. CDK has checked the same facts
 * against the cluster file at synth; this guards against an environment edited by hand. Throws
 * an Error naming the variable and what is wrong.
 */
export function nodesFromRolesJson(variable: string, raw: string): ClusterNode[] {
  const roles = envJson(raw);
  if (typeof roles !== 'object' || roles === null || Array.isArray(roles)) {
    throw new Error(`Environment variable ${variable} must be a JSON object of node names to roles, got '${raw}'`);
  }
  const nodes = Object.entries(roles).map(([name, role]): ClusterNode => {
    if (!NODE_NAME_PATTERN.test(name)) throw new Error(`Environment variable ${variable} declares a node '${name}': a node name ${NODE_NAME_RULE}`);
    if (!isNodeRole(role)) throw new Error(`Environment variable ${variable} gives node ${name} the role ${JSON.stringify(role)}: expected one of ${NODE_ROLES.join(', ')}`);
    return { name, role };
  });
  const [issue] = nodeListIssues(nodes);
  if (issue) throw new Error(`Environment variable ${variable} is invalid: ${issue.message}`);
  return nodes;
}

/**
 * The read-only operators' names as the functions receive them (`CLUSTER_OPERATORS`, a JSON
 * array; the authorizer and the REST gateway read it), from the environment variable
 * `variable`. Throws an Error naming the variable when it is not a JSON array of names.
 */
export function operatorNamesFromJson(variable: string, raw: string): string[] {
  const names = envJson(raw);
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string' && NODE_NAME_PATTERN.test(name))) {
    throw new Error(`Environment variable ${variable} must be a JSON array of operator names (a name ${NODE_NAME_RULE}), got '${raw}'`);
  }
  return names as string[];
}

/**
 * A consuming node's SQS FIFO queue and dead-letter queue names. Fixed by the cluster's and
 * the node's names, so that a function finds every node's queues from one URL prefix
 * (`QUEUE_URL_PREFIX`) instead of an environment variable listing each URL, which would outgrow
 * Lambda's 4 KB of environment at about 20 nodes.
 */
export function nodeQueueNames(cluster: string, node: string): { readonly queue: string; readonly deadLetterQueue: string } {
  return { queue: `${cluster}-${node}.fifo`, deadLetterQueue: `${cluster}-${node}${DEAD_LETTER_SUFFIX}.fifo` };
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
