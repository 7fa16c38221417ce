/**
 * The stores of the pure masters, brought up to the log by something other than their own
 * publish requests. A pure master consumes no queue of its own events, so its store gets every
 * event (its own too) from here, run by two callers:
 * - the master-stores queue (subscribed to the topic, every event): its consumer catches every
 *   pure master up to the highest sequence a batch delivered, or to the end of a change set it
 *   belongs to (`deliveryTarget`), with the delivered events in hand (read from the log only
 *   when the store is behind them), so a master's store follows the log within about a
 *   delivery, one batch at a time (one message group: never two consumers racing for a cursor);
 * - the republish schedule, to the log head: the backstop when the queue's messages failed.
 * A paused master applies nothing (as a paused consuming node's queue is switched off); it
 * catches up once resumed. (Without the queue, a pure master's publish request applies its own
 * events in one pass: publish.ts.)
 *
 * The same queue marks events published in the log (`markDelivered`): a message it receives
 * is an event the topic accepted, so a publish request in a cluster with this queue leaves
 * the mark to it (`PublishDeps.masterStoresQueued`) and answers sooner.
 */
import { catchUp, catchUpOnce, MAX_AHEAD, readQueueMessage, type ApplyDeps } from './apply';
import { nodeMetrics, recordApplied } from './apply-metrics';
import { consecutiveRuns, type DeliveredEvent } from './events';
import type { NodePauses } from './pause';
import type { EventLog } from './ports';

export interface MasterStoresDeps extends ApplyDeps {
  readonly pauses: NodePauses;
}

export interface MasterStoresResult {
  /** Pure master -> events applied to its store; absent: paused, or failed. */
  readonly caughtUp: Readonly<Record<string, number>>;
  readonly paused: readonly string[];
  readonly failures: readonly { readonly node: string; readonly error: unknown }[];
}

/**
 * Per `deps` (one per function instance) and master: whether the last delivery found the store
 * right before the events it brought. A master publishing one change after another keeps it so.
 */
const lastFoundNext = new WeakMap<MasterStoresDeps, Map<string, boolean>>();

/**
 * Catches every master of `masters` up to `toSequence` (default: the log head), each on its
 * own, in parallel: one master's failure is reported and does not hold the others.
 *
 * `delivered`: the events a batch brought, ascending. When the store is right before them
 * they are applied from hand (`catchUpOnce` with `onlyWhenNext`); when the last delivery found
 * it so, first on that assumption, in one commit whose compare-and-swap checks it and with
 * nothing read first (`assumeNext`). Otherwise, and for what a pass leaves, the log.
 */
export async function catchUpMasterStores(
  deps: MasterStoresDeps,
  cluster: string,
  masters: readonly string[],
  toSequence?: number,
  delivered: readonly DeliveredEvent[] = [],
): Promise<MasterStoresResult> {
  const caughtUp: Record<string, number> = {};
  const paused: string[] = [];
  const failures: { node: string; error: unknown }[] = [];
  const foundNext = lastFoundNext.get(deps) ?? new Map<string, boolean>();
  lastFoundNext.set(deps, foundNext);
  await Promise.all(
    masters.map(async (node) => {
      try {
        if (await deps.pauses.read(node)) {
          paused.push(node);
          return;
        }
        const context = { cluster, node };
        // The events count in the master's EventsApplied once each, by the call that committed
        // them (a retried batch applies from the cursor). A catch-up that fails part way leaves
        // what it committed before the failure uncounted: undercounted, never counted twice.
        const record = nodeMetrics(node);
        let applied = 0;
        if (toSequence !== undefined && delivered.length > 0) {
          const pass = await catchUpOnce(deps, context, toSequence, delivered, { onlyWhenNext: true, assumeNext: foundNext.get(node) !== false });
          foundNext.set(node, pass.settled);
          applied = pass.applied.length;
          if (applied > 0) recordApplied(record, pass.applied);
          if (pass.settled) {
            caughtUp[node] = applied;
            return;
          }
        }
        const result = await catchUp(deps, context, toSequence, delivered);
        if (result.applied.length > 0) recordApplied(record, result.applied);
        caughtUp[node] = applied + result.applied.length;
      } catch (error) {
        foundNext.set(node, false);
        failures.push({ node, error });
      }
    }),
  );
  return { caughtUp, paused: paused.sort(), failures };
}

/**
 * How far a batch brings the stores: its highest sequence, or the last of a change set one of
 * its events belongs to (`rangeLast`, cluster.ts), at most MAX_AHEAD past that sequence. The
 * whole set is in the log before any of it is published, so its first delivery applies the
 * rest from the log in few commits, and the set's later messages find their events applied
 * (one cursor read each), as a consuming node does; one batch at a time, a store would follow
 * a set of a thousand a delivery at a time.
 */
export function deliveryTarget(sequences: readonly number[], rangeLast: number | undefined): number | undefined {
  const highest = sequences.length === 0 ? undefined : Math.max(...sequences);
  if (highest === undefined || rangeLast === undefined || rangeLast <= highest) return highest;
  return Math.min(rangeLast, highest + MAX_AHEAD);
}

/**
 * A batch's message bodies (events as the topic carries them) as events of `cluster`, ascending
 * by sequence and without repeats. A body that is not an event, or an event of another cluster
 * (which no publish of this cluster makes: someone else allowed on the topic or the queue sent
 * it), is skipped: the stores are caught up from the log when the events in hand do not reach,
 * and a mark left undone is the republish schedule's to make. Taken in hand, another cluster's
 * event numbered as the log's next would be applied in place of the log's.
 */
export function deliveredEvents(bodies: readonly string[], cluster: string): DeliveredEvent[] {
  const bySequence = new Map<number, DeliveredEvent>();
  for (const body of bodies) {
    const read = readQueueMessage(body, cluster);
    if ('event' in read) bySequence.set(read.event.sequence, read.event);
  }
  return [...bySequence.values()].sort((a, b) => a.sequence - b.sequence);
}

/**
 * Marks delivered events published, one log call per run of consecutive sequences, oldest run
 * first (so the log's watermark can follow). An event delivered again (a republish) is marked
 * again, which changes nothing.
 */
export async function markDelivered(log: Pick<EventLog, 'markPublished'>, cluster: string, sequences: readonly number[]): Promise<void> {
  for (const run of consecutiveRuns(sequences, (sequence) => sequence)) {
    await log.markPublished(cluster, run[0] as number, run[run.length - 1] as number);
  }
}
