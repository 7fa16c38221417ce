/**
 * Cluster membership: node roles and what each role may do.
 *
 * GeoServer's JMS module has the same three roles: a master publishes the changes made on it,
 * a slave applies what masters publish, a node may be both. A pure slave must never be
 * changed directly, so its publish path refuses; a pure master consumes nothing, so it gets
 * no queue.
 */
import * as z from 'zod/mini';
import { ForbiddenError } from '../shared/errors';
import { PureSlavePublishError, UnknownNodeError } from './errors';

export const NODE_ROLES = ['master', 'slave', 'both'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/**
 * Node and cluster names end up in SQS queue names (at most 80 characters of letters,
 * digits, `-` and `_`, including a `.fifo` suffix), SNS filter policies and DynamoDB keys.
 * 32 characters each leaves room for `<cluster>-<node>-dlq.fifo`.
 */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const NAME_RULE = 'must be 1-32 letters, digits, "-" or "_", starting with a letter or digit';

export const nodeNameSchema = z.string().check(z.regex(NAME_PATTERN, NAME_RULE));
export const clusterNameSchema = z.string().check(z.regex(NAME_PATTERN, NAME_RULE));
export const nodeRoleSchema = z.enum(NODE_ROLES);

export interface ClusterNode {
  readonly name: string;
  readonly role: NodeRole;
}

export interface ClusterMembership {
  /** Isolates clusters that share an account (GeoServer's `group`). */
  readonly cluster: string;
  readonly nodes: readonly ClusterNode[];
}

/**
 * The cluster's declared nodes (from the cluster configuration): names unique, at least one
 * node that can publish, otherwise no change could ever enter the cluster.
 */
export const clusterMembershipSchema = z.strictObject({
  cluster: clusterNameSchema,
  nodes: z.array(z.strictObject({ name: nodeNameSchema, role: nodeRoleSchema })).check(
    z.minLength(1, 'must declare at least one node'),
    z.refine((nodes) => new Set(nodes.map((node) => node.name)).size === nodes.length, 'node names must be unique'),
    z.refine((nodes) => nodes.some((node) => canPublish(node.role)), 'must include a master or both node'),
  ),
});

/** Masters and `both` nodes publish changes. */
export function canPublish(role: NodeRole): boolean {
  return role === 'master' || role === 'both';
}

/** Slaves and `both` nodes consume: each gets a durable queue and an apply function. */
export function consumes(role: NodeRole): boolean {
  return role === 'slave' || role === 'both';
}

export function assertCanPublish(node: ClusterNode): void {
  if (!canPublish(node.role)) throw new PureSlavePublishError(node.name);
}

/**
 * Who may resync or redrive a node: the node itself, or a master (which owns the
 * configuration). A slave acting on another slave's store is refused.
 */
export function assertCanOperate(caller: ClusterNode, target: ClusterNode, action: 'resync' | 'redrive'): void {
  if (caller.name !== target.name && !canPublish(caller.role)) {
    throw new ForbiddenError(`Node ${caller.name} may not ${action} node ${target.name}: only the node itself or a master may`);
  }
}

export function findNode(membership: ClusterMembership, name: string): ClusterNode {
  const node = membership.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new UnknownNodeError(name, membership.cluster);
  return node;
}

export function consumingNodes(membership: ClusterMembership): ClusterNode[] {
  return membership.nodes.filter((node) => consumes(node.role));
}

/** Name of the message attribute that carries the publishing node on every SNS message. */
export const ORIGIN_ATTRIBUTE = 'origin';

/**
 * Subscription filter policy of a node's queue: every event except the node's own. SNS
 * applies policy changes only after a few minutes, so the apply code drops own events too.
 */
export function ownEventsFilterPolicy(node: string): Record<string, [{ 'anything-but': string }]> {
  return { [ORIGIN_ATTRIBUTE]: [{ 'anything-but': node }] };
}
