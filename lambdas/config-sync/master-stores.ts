/**
 * The stores of the pure masters, brought up to the log by something other than their own
 * publish requests. A pure master consumes no queue of its own events: its store gets them on
 * its publish request (one pass, `catchUpOnce`, which a concurrent publish may end early), and
 * everything else (other masters' events, what a pass left) from here, run by two callers:
 * - the master-stores queue (subscribed to the topic, every event): its consumer catches every
 *   pure master up to the highest sequence a batch delivered, so a master's store follows the
 *   log within about a delivery, one batch at a time (one message group: never two consumers
 *   racing for a cursor);
 * - the republish schedule, to the log head: the backstop when the queue's messages failed.
 * A paused master applies nothing (as a paused consuming node's queue is switched off); it
 * catches up once resumed.
 */
import { catchUp, type ApplyDeps } from './apply';
import type { NodePauses } from './pause';

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
 * Catches every master of `masters` up to `toSequence` (default: the log head), each on its
 * own, in parallel: one master's failure is reported and does not hold the others.
 */
export async function catchUpMasterStores(
  deps: MasterStoresDeps,
  cluster: string,
  masters: readonly string[],
  toSequence?: number,
): Promise<MasterStoresResult> {
  const caughtUp: Record<string, number> = {};
  const paused: string[] = [];
  const failures: { node: string; error: unknown }[] = [];
  await Promise.all(
    masters.map(async (node) => {
      try {
        if (await deps.pauses.read(node)) {
          paused.push(node);
          return;
        }
        const result = await catchUp(deps, { cluster, node }, toSequence);
        caughtUp[node] = result.applied.length;
      } catch (error) {
        failures.push({ node, error });
      }
    }),
  );
  return { caughtUp, paused: paused.sort(), failures };
}

/**
 * The highest sequence among a batch's message bodies (events as the topic carries them), or
 * undefined when none can be read: the catch-up then goes to the log head. A body that is not
 * an event is of no harm here: the stores are caught up from the log, never from the messages.
 */
export function highestSequence(bodies: readonly string[]): number | undefined {
  let highest: number | undefined;
  for (const body of bodies) {
    let sequence: unknown;
    try {
      sequence = (JSON.parse(body) as { sequence?: unknown } | null)?.sequence;
    } catch {
      continue;
    }
    if (typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence > 0) highest = Math.max(highest ?? 0, sequence);
  }
  return highest;
}
