/**
 * Bootstrap and resync (beyond GeoServer, whose new nodes only ever got new messages): a node
 * takes a snapshot of another node's store, then applies the event log after the snapshot's
 * sequence, then follows its queue.
 *
 * Any node's store is a valid source: every store is the same log applied up to its cursor.
 * The snapshot may be read while its source keeps applying events (a DynamoDB scan is not a
 * point-in-time read): its sequence is the source's cursor read before the objects, so some
 * objects may already reflect later events. Replaying the log from the snapshot's sequence
 * is still exact, because an event at or below an object's `lastSequence` is skipped.
 */
import { catchUp, type AppliedEvent, type ApplyDeps, type NodeContext } from './apply';
import { WrongClusterError } from './errors';
import type { Snapshot } from './ports';

export interface BootstrapResult {
  readonly sourceNode: string;
  readonly snapshotSequence: number;
  /** The node's cursor after catching up with the log. */
  readonly cursor: number;
  /** Events applied from the log after the snapshot. */
  readonly applied: readonly AppliedEvent[];
}

/**
 * Replaces the node's store with `snapshot` and catches up with the log head. The node's
 * queue may keep delivering meanwhile: its events are duplicates or are filled in order.
 */
export async function bootstrapNode(
  deps: ApplyDeps,
  context: NodeContext,
  snapshot: Snapshot,
): Promise<BootstrapResult> {
  if (snapshot.cluster !== context.cluster) {
    throw new WrongClusterError(context.node, context.cluster, snapshot.cluster, `Snapshot at ${snapshot.sequence}`);
  }
  await deps.store.replaceWithSnapshot(context.node, snapshot);
  const { cursor, applied } = await catchUp(deps, context);
  return { sourceNode: snapshot.sourceNode, snapshotSequence: snapshot.sequence, cursor, applied };
}

/** `POST /nodes/{node}/resync`: bootstrap `context.node` from `sourceNode`'s store. */
export async function resyncFrom(deps: ApplyDeps, context: NodeContext, sourceNode: string): Promise<BootstrapResult> {
  const snapshot = await deps.store.readSnapshot(sourceNode, context.cluster);
  return bootstrapNode(deps, context, snapshot);
}
