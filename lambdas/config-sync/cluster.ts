/**
 * Cluster membership as config sync uses it: the declared nodes (roles and names are defined
 * in lambdas/shared/cluster-model.ts), who may publish or operate on whom, and the message
 * attributes every event carries on the topic.
 */
import { canPublish, consumes, type ClusterNode } from '../shared/cluster-nodes';
import { ForbiddenError } from '../shared/errors';
import { PureSlavePublishError, UnknownNodeError } from './errors';

export interface ClusterMembership {
  /** Isolates clusters that share an account (GeoServer's `group`). */
  readonly cluster: string;
  readonly nodes: readonly ClusterNode[];
}

export function assertCanPublish(node: ClusterNode): void {
  if (!canPublish(node.role)) throw new PureSlavePublishError(node.name);
}

/**
 * Who may resync or redrive a node: the node itself, or a master (which owns the
 * configuration). A slave acting on another slave's store is refused.
 */
export function assertCanOperate(caller: ClusterNode, target: ClusterNode, action: 'resync' | 'redrive' | 'reconcile' | 'capture' | 'check the drift of' | 'read the jobs of' | 'cancel the jobs of' | 'list the dead letters of' | 'discard the dead letters of'): void {
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
 * Message attribute on each event of a change set: the set's last sequence. The whole set is in
 * the log before any of it is published, so a node that receives one of its events may apply
 * the rest from the log at once (few reads and transactions) instead of one queue batch at a
 * time; the later messages then find their events applied.
 */
export const RANGE_LAST_ATTRIBUTE = 'rangeLast';

/** The highest change-set end a queue batch's messages announce (`RANGE_LAST_ATTRIBUTE`), if any. */
export function rangeLastOf(records: readonly { readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string }>> }[]): number | undefined {
  let last: number | undefined;
  for (const record of records) {
    const value = Number(record.messageAttributes?.[RANGE_LAST_ATTRIBUTE]?.stringValue);
    if (Number.isSafeInteger(value) && value > 0 && (last === undefined || value > last)) last = value;
  }
  return last;
}
