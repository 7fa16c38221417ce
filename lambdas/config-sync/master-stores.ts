/**
 * The stores of the pure masters, brought up to the log by something other than their own
 * publish requests. A pure master consumes no queue of its own events, so its store gets every
 * event (its own too) from here, run by two callers:
 * - the master-stores queue (subscribed to the topic, every event): its consumer catches every
 *   pure master up to the highest sequence a batch delivered, or to the end of a change set it
 *   belongs to (`deliveryTarget`), with the delivered events in hand as the log holds them
 *   (`readDelivered`: one read of the log per batch, for every master, or none when the last
 *   read held them, or when a commit that checks the log's item proved a lone change the log's
 *   event: `catchUpFromQueue`; the log read further only when the store is behind them), so a master's
 *   store follows the log within about a delivery, one batch at a time (one message group:
 *   never two consumers racing for a cursor). A batch the store had already, more than a batch
 *   of the queue before its cursor (the queue's backlog behind a change set: `FOLLOW_PAST`), or
 *   with skipped messages takes the store on to what the log holds (`followLog`), so the store
 *   never waits for the queue to drain;
 * - the republish schedule, to the log head: the backstop when the queue's messages failed.
 * A paused master applies nothing (as a paused consuming node's queue is switched off); it
 * catches up once resumed. (Without the queue, a pure master's publish request applies its own
 * events in one pass: publish.ts.)
 *
 * The same queue marks events published in the log (`markDelivered`): a message it receives
 * is an event the topic accepted, so a publish request in a cluster with this queue leaves
 * the mark to it (`PublishDeps.masterStoresQueued`) and answers sooner.
 */
import { catchUp, catchUpOnce, commitCheckedCopy, copyCheckable, differenceFromLog, MAX_AHEAD, pastHeadReason, readQueueMessage, type ApplyDeps, type CatchUpResult, type NodeContext } from './apply';
import { rangeLastOf } from './cluster';
import { EventsMissingFromLogError } from './errors';
import { consoleWarn } from '../shared/warn';
import { nodeMetrics, recordApplied } from './apply-metrics';
import { consecutiveRuns, type DeliveredEvent } from './events';
import type { NodePauses } from './pause';
import { HELD_CURSOR, READ_RANGE_MAX, type EventLog } from './ports';

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
 * Per `deps` and master: the store's cursor as this instance's last batch committed or read it. A
 * message at or below it came late (concurrent publishers' messages reach the queue a few sequences
 * out of order, and the store took its event from the log with a later one's): no commit assuming
 * the store right before it is tried (`catchUpFromQueue`), which would fail and then read the
 * cursor. Only ever a guess of where to start: every commit checks the cursor.
 */
const lastCursor = new WeakMap<MasterStoresDeps, Map<string, number>>();

/** Whether a message at `sequence` came late to a master's store: at or below the cursor this instance last knew (`lastCursor`). */
function cameLate(deps: MasterStoresDeps, node: string, sequence: number): boolean {
  const cursor = lastCursor.get(deps)?.get(node);
  return cursor !== undefined && sequence <= cursor;
}

/**
 * Whether a batch that brings a master's store to `toSequence` (its highest delivered sequence
 * `highest`) came late to it: the store was at or past `toSequence` when this instance's last
 * batch committed or read its cursor (`lastCursor`), and not more than a batch of the queue past
 * `highest` (further, the store follows the log: `FOLLOW_PAST`). Such a batch is taken as found
 * applied with nothing read, neither the cursor nor the master's pause (read only so that a
 * paused master applies nothing).
 *
 * Sound because commits only move a cursor up, and the one thing that moves a pure master's cursor
 * down, its resync's finish (the snapshot's sequence: job-runner.ts, run by the requests that ask
 * for it), is followed by that resync's catch-up to a log head read after the finish, at or past
 * any cursor known before it; the republish schedule catches every pure master's store up to the
 * log's head on each run; and the next message past the cursor known here fails its commit's
 * compare-and-swap and catches the store up from the log, as any stale assumption does. So
 * nothing a late message stood for is left unapplied.
 */
function foundApplied(deps: MasterStoresDeps, node: string, toSequence: number, highest: number): boolean {
  const cursor = lastCursor.get(deps)?.get(node);
  return cursor !== undefined && toSequence <= cursor && cursor - highest <= FOLLOW_PAST;
}

/** Notes the cursor a batch left a master's store at (`lastCursor`); forgotten when unknown or held. */
function noteCursor(deps: MasterStoresDeps, node: string, cursor: number | undefined): void {
  const cursors = lastCursor.get(deps) ?? new Map<string, number>();
  lastCursor.set(deps, cursors);
  if (cursor === undefined || cursor === HELD_CURSOR) cursors.delete(node);
  else cursors.set(node, cursor);
}

/**
 * Catches every master of `masters` up to `toSequence` (default: the log head), each on its
 * own, in parallel: one master's failure is reported and does not hold the others.
 *
 * `delivered`: the log's events a batch brought (`readDelivered`), ascending. When the store is right before them
 * they are applied from hand (`catchUpOnce` with `onlyWhenNext`); when the last delivery found
 * it so, first on that assumption, in one commit whose compare-and-swap checks it and with
 * nothing read first (`assumeNext`). Otherwise, and for what a pass leaves, the log. A batch
 * that came late to a master's store (`foundApplied`) costs that master nothing.
 */
export async function catchUpMasterStores(
  deps: MasterStoresDeps,
  cluster: string,
  masters: readonly string[],
  toSequence?: number,
  delivered: readonly DeliveredEvent[] = [],
  options: {
    /**
     * The batch had messages `readDelivered` skipped: what one of them stood for (a real event
     * whose own message a copy may have taken the place of, as a FIFO queue keeps the first of
     * two messages with one deduplication id) may be in the log past the batch's target, and no
     * later message may come for it. The stores then follow the log.
     */
    readonly skipped?: boolean;
    /** Masters whose pause the caller has just read, and found them running: not read again. */
    readonly running?: ReadonlySet<string>;
  } = {},
): Promise<MasterStoresResult> {
  const caughtUp: Record<string, number> = {};
  const paused: string[] = [];
  const failures: { node: string; error: unknown }[] = [];
  const foundNext = lastFoundNext.get(deps) ?? new Map<string, boolean>();
  lastFoundNext.set(deps, foundNext);
  // The log's head, read once for every master that follows the log (`followLog`).
  let head: Promise<number> | undefined;
  const logHead = () => (head ??= deps.log.head(cluster));
  const skipped = options.skipped === true;
  const highest = delivered[delivered.length - 1]?.sequence;
  await Promise.all(
    masters.map(async (node) => {
      try {
        if (!skipped && toSequence !== undefined && highest !== undefined && foundApplied(deps, node, toSequence, highest)) {
          // Came late: nothing to apply, nor any pause or cursor to read (`foundApplied`).
          foundNext.set(node, true);
          caughtUp[node] = 0;
          return;
        }
        if (options.running?.has(node) !== true && (await deps.pauses.read(node))) {
          paused.push(node);
          return;
        }
        const context = { cluster, node };
        // The events count in the master's EventsApplied once each, by the call that committed
        // them (a retried batch applies from the cursor). A catch-up that fails part way leaves
        // what it committed before the failure uncounted: undercounted, never counted twice.
        const record = nodeMetrics(node);
        let applied = 0;
        let cursor: number | undefined;
        let settled = false;
        // Whether the store stood at or past the batch's first event already (a backlog of the
        // queue: a change set's first message brought the store to the set's end, or `followLog`
        // further, and the set's later messages find their events applied).
        let ahead = false;
        const [first] = delivered;
        if (toSequence !== undefined && first !== undefined) {
          const pass = await catchUpOnce(deps, context, toSequence, delivered, { onlyWhenNext: true, assumeNext: foundNext.get(node) !== false && !cameLate(deps, node, first.sequence) });
          foundNext.set(node, pass.settled);
          applied = pass.applied.length;
          if (applied > 0) recordApplied(record, pass.applied);
          ({ cursor, settled } = pass);
          ahead = applied === 0 && pass.cursor !== HELD_CURSOR && pass.cursor >= first.sequence;
        }
        // A batch of skipped messages alone has no target: the log's head, by `followLog` below.
        if (!settled && (toSequence !== undefined || !skipped)) {
          const result = await catchUpWithinLog(deps, context, toSequence, delivered);
          if (result.applied.length > 0) recordApplied(record, result.applied);
          applied += result.applied.length;
          cursor = result.cursor;
        }
        // A store found past the batch by more than a batch of the queue: the queue may hold a
        // backlog of messages it has (a change set's) before any of an event it lacks.
        const backlog = ahead && cursor !== undefined && highest !== undefined && cursor - highest > FOLLOW_PAST;
        if (skipped || backlog) {
          const followed = await followLog(deps, context, cursor, await logHead());
          applied += followed;
          // Followed on: further than the cursor known here.
          if (followed > 0) cursor = undefined;
        }
        noteCursor(deps, node, cursor);
        caughtUp[node] = applied;
      } catch (error) {
        foundNext.set(node, false);
        noteCursor(deps, node, undefined);
        failures.push({ node, error });
      }
    }),
  );
  return { caughtUp, paused: paused.sort(), failures };
}

/**
 * How far past a batch's highest sequence a store must be found for the batch to follow the log
 * (`followLog`): the queue's event source hands over batches of 10 (cdk/constructs/config-sync-service.ts),
 * and a message per sequence brought the events up to the store's cursor. A store at most 10
 * past the batch is reached by the queue's messages within about one more batch, as a store right
 * behind its queue is; past that, the messages still to come may be a backlog (a change set of a
 * thousand), which the store must not wait for. Concurrent publishers put messages in the queue a
 * few sequences out of order, and each such late message found the store a few past it: reading
 * the head for each cost the consumer a call per event of a burst.
 */
const FOLLOW_PAST = 10;

/**
 * Brings a store from `cursor` (read when unknown) towards the log's `head`, as far as the log
 * holds events, at most MAX_AHEAD past the cursor: one pass (`catchUpOnce`), which stops at a
 * sequence not written yet (a publisher's range in flight, whose messages will come) instead
 * of waiting for it, and at a store held by its resync. For a batch with skipped messages, and
 * for one the store stood past already by more than `FOLLOW_PAST`: the queue's backlog (a change set's thousand messages,
 * each only found applied) then does not hold the store back from what the log has since, as
 * a consuming node's read ahead does not (apply.ts). One read of the head per batch, shared by
 * the masters; the log is read only when the store is behind it.
 * @returns the events applied
 */
async function followLog(deps: MasterStoresDeps, context: NodeContext, cursor: number | undefined, head: number): Promise<number> {
  if (cursor === HELD_CURSOR || (cursor !== undefined && cursor >= head)) return 0;
  const from = cursor ?? (await deps.store.readCursor(context.node));
  if (from === HELD_CURSOR || from >= head) return 0;
  const pass = await catchUpOnce(deps, context, Math.min(head, from + MAX_AHEAD), []);
  if (pass.applied.length > 0) recordApplied(nodeMetrics(context.node), pass.applied);
  return pass.applied.length;
}

/**
 * `catchUp` to `toSequence`, or to the log's head when that is below it. A batch's target comes
 * from its messages, the log's events, but also from a change set's end one of them announces
 * (`rangeLast`, a message attribute, which anyone allowed to send to the queue can set): past the
 * head, no catch-up could reach it, and the batch would fail every receive until the queue's
 * limit. The head is read (consistently) only once the log turns out to lack the sequences up
 * to the target, so a catch-up that reaches it costs nothing more.
 */
async function catchUpWithinLog(deps: MasterStoresDeps, context: NodeContext, toSequence: number | undefined, delivered: readonly DeliveredEvent[]): Promise<CatchUpResult> {
  try {
    return await catchUp(deps, context, toSequence, delivered);
  } catch (error) {
    if (!(error instanceof EventsMissingFromLogError) || toSequence === undefined) throw error;
    const head = await deps.log.head(context.cluster);
    if (toSequence <= head) throw error;
    (deps.warn ?? consoleWarn)(`a batch's target: ${pastHeadReason(toSequence, head)}; the store is caught up to the head`, { node: context.node });
    return catchUp(deps, context, head, delivered.filter((event) => event.sequence <= head));
  }
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
 * Per log (one per function instance): the events of the last window `readDelivered` read. A
 * sequence's item in the log is written once and never changed (a void takes only a sequence
 * never written), so an event read once is the log's event at its sequence for good; a sequence
 * the window lacked is read again. A change set's messages, delivered one batch after another
 * (a FIFO queue may hand them over one at a time), then cost one read per READ_RANGE_MAX
 * sequences, not one each: each read of a sequence inside a large set's item fetches and
 * parses the whole item, hundreds of KB for a set of a thousand.
 */
const lastRead = new WeakMap<object, { readonly cluster: string; readonly events: ReadonlyMap<number, DeliveredEvent> }>();

/** A batch of the master-stores queue, read against the event log (`readDelivered`). */
export interface DeliveredBatch {
  /**
   * The log's events the batch's messages carried, ascending by sequence, once each: what the
   * stores take in hand, how far the batch brings them (`deliveryTarget`), and what is marked published.
   */
  readonly events: readonly DeliveredEvent[];
  /** The messages (by index) that carry no event of the log, with why: skipped. */
  readonly skipped: readonly { readonly index: number; readonly reason: string }[];
}

/**
 * A batch's message bodies (events as the topic carries them) as the log's events. Our publishers
 * publish only what the log holds, so a body that is not the log's event at its sequence came
 * from someone else allowed to publish to the topic or send to the queue, and is skipped:
 * - not an event, or an event of another cluster (`readQueueMessage`);
 * - one that differs from the log's event at its sequence (`differenceFromLog`): taken in hand,
 *   it would be applied in place of the log's, and marked published for it;
 * - one the log lacks: numbered past its head (no publisher allocated it; taken for the batch's
 *   target, it would fail every catch-up until the queue's receive limit, and move the published
 *   watermark past the head), or at a sequence not written (no publisher publishes before its
 *   write).
 * The bodies are compared with one read of the log for every `READ_RANGE_MAX` sequences from the
 * lowest (a batch's ten at most are usually one read), and the log's head is read only when that
 * read lacks a sequence (consistently, as every read of the log), so the usual batch reads it
 * never (the window's events are kept for the next batch: `lastRead`). What a skipped message
 * would have brought, the stores get from the log all the same: the catch-up reads what is not
 * in hand, and a batch with a skipped message takes the stores on to what the log holds
 * (`catchUpMasterStores`' `skipped`); the republish schedule marks the rest.
 */
export async function readDelivered(log: Pick<EventLog, 'readRange' | 'head'>, cluster: string, bodies: readonly string[]): Promise<DeliveredBatch> {
  return compareWithLog(log, cluster, readMessages(bodies, cluster));
}

/** A batch's messages as parsed (`readQueueMessage`), each once: the events they carry, and those that carry none (not an event, another cluster's). */
interface ReadMessages {
  readonly candidates: readonly { readonly index: number; readonly event: DeliveredEvent }[];
  readonly foreign: readonly { readonly index: number; readonly reason: string }[];
}

function readMessages(bodies: readonly string[], cluster: string): ReadMessages {
  const foreign: { index: number; reason: string }[] = [];
  const candidates: { index: number; event: DeliveredEvent }[] = [];
  for (const [index, body] of bodies.entries()) {
    const read = readQueueMessage(body, cluster);
    if ('foreign' in read) foreign.push({ index, reason: read.foreign });
    else candidates.push({ index, event: read.event });
  }
  return { candidates, foreign };
}

/** `readDelivered` of messages already parsed. */
async function compareWithLog(log: Pick<EventLog, 'readRange' | 'head'>, cluster: string, read: ReadMessages): Promise<DeliveredBatch> {
  const skipped = [...read.foreign];
  const { candidates } = read;
  const sequences = [...new Set(candidates.map(({ event }) => event.sequence))].sort((a, b) => a - b);
  const known = lastRead.get(log);
  const logged = new Map<number, DeliveredEvent>();
  for (let at = 0; at < sequences.length; ) {
    const from = sequences[at] as number;
    let last = at;
    while (last + 1 < sequences.length && (sequences[last + 1] as number) < from + READ_RANGE_MAX) last += 1;
    const wanted = sequences.slice(at, last + 1);
    if (known?.cluster === cluster && wanted.every((sequence) => known.events.has(sequence))) {
      for (const sequence of wanted) logged.set(sequence, known.events.get(sequence) as DeliveredEvent);
    } else {
      // The whole window: the messages after these (a change set's, a backlog's) are usually in it.
      const read = await log.readRange(cluster, from, from + READ_RANGE_MAX - 1);
      lastRead.set(log, { cluster, events: new Map(read.map((event) => [event.sequence, event])) });
      for (const event of read) logged.set(event.sequence, event);
    }
    at = last + 1;
  }
  let head: number | undefined;
  const events = new Map<number, DeliveredEvent>();
  for (const { index, event } of candidates) {
    const original = logged.get(event.sequence);
    if (original === undefined) {
      head ??= await log.head(cluster);
      skipped.push({
        index,
        reason: event.sequence > head ? pastHeadReason(event.sequence, head) : `the event log holds no event ${event.sequence} (below its head, ${head}): no publisher published it`,
      });
      continue;
    }
    const difference = differenceFromLog(event, original);
    if (difference !== undefined) skipped.push({ index, reason: difference });
    else events.set(original.sequence, original);
  }
  return { events: [...events.values()].sort((a, b) => a.sequence - b.sequence), skipped: skipped.sort((a, b) => a.index - b.index) };
}

/** A message of the master-stores queue, as its consumer reads it (of an SQS record: the body and the attributes). */
export interface MasterStoresMessage {
  readonly body: string;
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string }>>;
}

/** What a batch of the master-stores queue did (`catchUpFromQueue`). */
export interface MasterStoresBatchResult extends MasterStoresResult {
  /** The batch's messages as the log's events (what was marked published), and those skipped. */
  readonly batch: DeliveredBatch;
  /** How far the batch brought the stores (`deliveryTarget`); none for a batch of skipped messages. */
  readonly toSequence: number | undefined;
}

/**
 * A batch of the master-stores queue, from its messages to the stores: its events read against
 * the log (`readDelivered`), the pure masters caught up to its target (`catchUpMasterStores`), and
 * `mark` called with the sequences of the log's events it carried (in parallel with the catch-up).
 *
 * A lone change delivered to stores that took the one before it (a master publishing one change
 * after another: each master's last delivery found its store right before its events, and the
 * message is one add or remove, no change set's) is not compared with the log first: each master
 * commits it in one commit that holds only if the log's item at its sequence carries the
 * message's digest (`commitCheckedCopy`) and the master is not paused (checked in the same commit
 * on a store that holds the pauses, `checksPauses`; else read first), and one commit that holds
 * proves the message the log's event, so nothing is read: the commit and the mark, two calls. Only
 * then is the mark made, after the commit (never for a message nothing proved). So also when the
 * window `readDelivered` read last holds the message (a burst's, after a batch of several), which
 * would compare it for nothing: the way through the comparison reads each master's pause before
 * its commit, where this commit checks it. When no commit holds (a message that is no event of the
 * log, a log item without a digest, a store not right before it, every master paused), the batch
 * is read against the log as any other, nothing having been written, and goes on from there; a
 * message that window holds is compared with it, which costs nothing.
 */
export async function catchUpFromQueue(
  deps: MasterStoresDeps,
  cluster: string,
  masters: readonly string[],
  messages: readonly MasterStoresMessage[],
  mark: (sequences: readonly number[]) => Promise<void>,
): Promise<MasterStoresBatchResult> {
  const read = readMessages(
    messages.map((message) => message.body),
    cluster,
  );
  const foundNext = lastFoundNext.get(deps) ?? new Map<string, boolean>();
  lastFoundNext.set(deps, foundNext);
  const committed = new Map<string, number>();
  const running = new Set<string>();
  const paused: string[] = [];
  const failures: { node: string; error: unknown }[] = [];
  const [only] = read.candidates;
  const rangeLast = rangeLastOf(messages);
  if (
    messages.length === 1 &&
    only !== undefined &&
    copyCheckable(deps, only.event) &&
    (rangeLast === undefined || rangeLast <= only.event.sequence) &&
    masters.every((node) => foundNext.get(node) !== false && !cameLate(deps, node, only.event.sequence))
  ) {
    const copy = only.event;
    // A store that holds the pauses checks the master's in the commit, instead of a read first.
    const unlessPaused = deps.store.checksPauses === true;
    await Promise.all(
      masters.map(async (node) => {
        try {
          if (!unlessPaused) {
            if (await deps.pauses.read(node)) {
              paused.push(node);
              return;
            }
            running.add(node);
          }
          const attempt = await commitCheckedCopy(deps, { cluster, node }, copy, { unlessPaused });
          if (attempt.committed) {
            committed.set(node, 1);
            noteCursor(deps, node, copy.sequence);
            recordApplied(nodeMetrics(node), [attempt.committed]);
          } else if (attempt.paused) {
            paused.push(node);
          } else if (attempt.cursor !== undefined) {
            // Not right before it: the pass below reads the cursor instead of assuming it again.
            foundNext.set(node, false);
          }
        } catch (error) {
          foundNext.set(node, false);
          noteCursor(deps, node, undefined);
          failures.push({ node, error });
        }
      }),
    );
  }
  const batch: DeliveredBatch = committed.size > 0 && only ? { events: [only.event], skipped: [] } : await compareWithLog(deps.log, cluster, read);
  const sequences = batch.events.map((event) => event.sequence);
  // A change set's end as the messages of the log's events announce it.
  const left = new Set(batch.skipped.map(({ index }) => index));
  const toSequence = deliveryTarget(sequences, rangeLastOf(left.size === 0 ? messages : messages.filter((_, index) => !left.has(index))));
  const rest = masters.filter((node) => !committed.has(node) && !paused.includes(node) && !failures.some((failure) => failure.node === node));
  const [result] = await Promise.all([
    rest.length === 0 ? { caughtUp: {}, paused: [], failures: [] } : catchUpMasterStores(deps, cluster, rest, toSequence, batch.events, { skipped: batch.skipped.length > 0, running }),
    mark(sequences),
  ]);
  return {
    batch,
    toSequence,
    caughtUp: { ...Object.fromEntries(committed), ...result.caughtUp },
    paused: [...paused, ...result.paused].sort(),
    failures: [...failures, ...result.failures],
  };
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
