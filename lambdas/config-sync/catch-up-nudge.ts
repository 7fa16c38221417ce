/**
 * The consuming nodes' scheduled catch-up (run by the lag measure, handlers/measure-lag.ts): a
 * nudge, one message on the node's own queue, for a node that is behind the log and will get
 * nothing on its own.
 *
 * A consuming node catches up only when its queue delivers something: any event past its cursor
 * makes its apply function read the log from the cursor and fill the gap (apply.ts, `deliver`).
 * A node whose queue gets nothing more stays behind for good: an SNS-to-SQS delivery that never
 * landed, a queue purged by hand, a resync whose catch-up ended early (apply.ts `droppedUnread`).
 * The pure masters have the republish schedule for that (handlers/republish-pending.ts); the
 * consuming nodes have this.
 *
 * The nudge is the log's last event, as the topic delivered it (raw delivery: the event's JSON as
 * the body, the cluster's message group, the `origin` attribute), with a deduplication id of its
 * own (`nudgeDeduplicationId`). Its apply function takes it as any delivery: checked against the
 * log's event at its sequence, and, past the cursor, applied after the gap before it is filled
 * from the log, so the one message brings the node to where the log stood. Not the first event
 * the node lacks: a warm apply function that sees no backlog in its queue (queue-backlog.ts)
 * applies a lone delivery right after its cursor alone, one event a nudge. The topic's own
 * delivery of that event, should it still come, is a duplicate.
 *
 * Only when every condition holds (`nudgeDecision`, in this order, each fact read only when the
 * ones before did not already decide):
 * - the node consumes (a pure master has no queue; the republish schedule catches it up);
 * - its lag is above 0;
 * - no resync holds it (`NodeProgress.heldBy`): the resync applies the log after its snapshot,
 *   and the node's applier takes every event as a duplicate meanwhile;
 * - it is not paused: its queue is not consumed, and it catches up on resume;
 * - its queue is empty (messages waiting, in flight and delayed): a message it holds brings the
 *   node up when applied, a GeoServer node waiting out its backoff holds its message in flight,
 *   and a nudge sits there until applied, so at most one is ever outstanding per node;
 * - its dead-letter queue is empty: an event that keeps failing (a GeoServer that refuses it)
 *   would fail again and send a fresh dead letter each time; that is the operator's case
 *   (docs/operations.md, the dead-letter runbook);
 * - the first sequence it lacks was written to the log at least `NUDGE_MIN_AGE_MS` ago
 *   (`publishedAt` of its log item; the last event's, when that sequence is a hole): a younger one
 *   may simply be in flight from the topic;
 * - no job of the node is running (its latest job not final and not stale, jobs.ts): its slices
 *   share the queue, and a job's next slice may be on its way.
 *
 * Read-only on every table and sending only to the nudged node's queue: a nudge that fails is
 * logged and counted by the caller, and the next run tries again.
 */
import { isFinal, STALE_AFTER_MS, type Job } from './jobs';
import { isUnreadable, isVoided, type DeliveredEvent, type PublishedEvent } from './events';
import type { EventLog, NodeProgress } from './ports';
import type { PauseState } from './pause';
import type { QueueDepths } from './adapters/sqs-queues';

/** How long ago the first sequence a node lacks must have been written for the node to be nudged. */
export const NUDGE_MIN_AGE_MS = 60_000;

/** Why a lagging node was not nudged (what the measure's log line and result show per node). */
export type NudgeSkip = 'held' | 'paused' | 'queue-not-empty' | 'dead-letters' | 'in-flight' | 'job-running' | 'nothing-to-send';

/** What the log says of a node's missing events. */
export interface MissingEvents {
  /** When the first sequence the node lacks was written (epoch ms): its log item's `publishedAt`, the last event's for a hole. */
  readonly firstWrittenAt: number;
  /** The event to send: the log's last event, or the first one the node lacks when the last is unreadable; none when neither can be sent. */
  readonly nudge: PublishedEvent | undefined;
}

/** The facts the decision reads, each left out until it is read. */
export interface NudgeFacts {
  readonly consumes: boolean;
  readonly lag: number;
  readonly progress: Pick<NodeProgress, 'cursor' | 'heldBy'>;
  readonly paused?: boolean;
  readonly queues?: QueueDepths;
  readonly missing?: MissingEvents;
  /** The node's latest job, null when it has none. */
  readonly latestJob?: Pick<Job, 'state' | 'updatedAt'> | null;
}

export type NudgeFact = 'paused' | 'queues' | 'missing' | 'latestJob';

export type NudgeDecision =
  /** Not behind, or no queue to nudge: nothing to report. */
  | { readonly kind: 'none' }
  | { readonly kind: 'skip'; readonly reason: NudgeSkip }
  /** The fact to read next. */
  | { readonly kind: 'read'; readonly fact: NudgeFact }
  | { readonly kind: 'nudge'; readonly event: PublishedEvent };

/** Whether and how to nudge a node, from the facts read so far (see the file comment for each condition). */
export function nudgeDecision(facts: NudgeFacts, now: number): NudgeDecision {
  if (!facts.consumes || facts.lag <= 0) return { kind: 'none' };
  if (facts.progress.heldBy !== undefined) return { kind: 'skip', reason: 'held' };
  if (facts.paused === undefined) return { kind: 'read', fact: 'paused' };
  if (facts.paused) return { kind: 'skip', reason: 'paused' };
  if (facts.queues === undefined) return { kind: 'read', fact: 'queues' };
  if (facts.queues.queueDepth > 0) return { kind: 'skip', reason: 'queue-not-empty' };
  if (facts.queues.deadLetterDepth > 0) return { kind: 'skip', reason: 'dead-letters' };
  if (facts.missing === undefined) return { kind: 'read', fact: 'missing' };
  // Written so that an age that cannot be told (NaN) counts as young.
  if (!(now - facts.missing.firstWrittenAt >= NUDGE_MIN_AGE_MS)) return { kind: 'skip', reason: 'in-flight' };
  if (facts.latestJob === undefined) return { kind: 'read', fact: 'latestJob' };
  if (facts.latestJob !== null && jobRunning(facts.latestJob, now)) return { kind: 'skip', reason: 'job-running' };
  if (facts.missing.nudge === undefined) return { kind: 'skip', reason: 'nothing-to-send' };
  return { kind: 'nudge', event: facts.missing.nudge };
}

/** A job not final that saved something within `STALE_AFTER_MS` (a stale one's slices stopped: jobs.ts). */
function jobRunning(job: Pick<Job, 'state' | 'updatedAt'>, now: number): boolean {
  return !isFinal(job.state) && now - Date.parse(job.updatedAt) < STALE_AFTER_MS;
}

/**
 * What the log says of the events a node lacks, from its two ends: the first sequence past the
 * cursor (its time) and the last event (the nudge). `first` and `last` are the log's items there
 * (`readRange` of each), undefined where the log holds none (a hole, for `first`).
 */
export function missingEvents(first: DeliveredEvent | undefined, last: DeliveredEvent | undefined): MissingEvents {
  const sendable = (event: DeliveredEvent | undefined): event is PublishedEvent => event !== undefined && !isUnreadable(event) && !isVoided(event);
  const timed = first ?? last;
  const written = timed === undefined ? Number.NaN : Date.parse(timed.publishedAt);
  return {
    // Nothing readable at either end: taken as written now, so the node is not nudged (the log's
    // items carry a checked `publishedAt`; this guards the decision, not the data).
    firstWrittenAt: Number.isFinite(written) ? written : Number.POSITIVE_INFINITY,
    nudge: sendable(last) ? last : sendable(first) ? first : undefined,
  };
}

/**
 * The nudge's SQS FIFO deduplication id: the cluster, the sequence and the run's minute, with a
 * word the topic's ids (`deduplicationId`, events.ts: cluster, sequence, digest) never hold, so
 * the queue drops neither for the other; a run retried within its minute sends it once.
 */
export function nudgeDeduplicationId(event: Pick<PublishedEvent, 'cluster' | 'sequence'>, now: number): string {
  return `${event.cluster}-${event.sequence}-catch-up-${Math.floor(now / 60_000)}`;
}

/** Where the facts come from, and where a nudge goes. */
export interface NudgeDeps {
  readonly log: Pick<EventLog, 'readRange'>;
  readonly pauses: { read(node: string): Promise<PauseState | undefined> };
  readonly jobs: { latest(node: string): Promise<Pick<Job, 'state' | 'updatedAt'> | undefined> };
  readonly queues: {
    /** Messages waiting, in flight or delayed in the node's queue and its dead-letter queue; undefined for a node without queues. */
    depths(node: string): Promise<QueueDepths | undefined>;
    /** Sends `event` to the node's queue as the topic delivers it, with `deduplicationId`. */
    nudge(node: string, event: PublishedEvent, deduplicationId: string): Promise<void>;
  };
}

/** A node as the measure found it. */
export interface MeasuredNode {
  readonly name: string;
  readonly consumes: boolean;
  readonly lag: number;
  readonly progress: Pick<NodeProgress, 'cursor' | 'heldBy'>;
}

export interface NudgeRun {
  /** Node -> the sequence of the event sent to its queue. */
  readonly nudged: Readonly<Record<string, number>>;
  /** Lagging consuming node -> why it was not nudged. */
  readonly skipped: Readonly<Record<string, NudgeSkip>>;
  /** Nodes whose facts could not be read or whose nudge could not be sent, with the error. */
  readonly failed: readonly { readonly node: string; readonly error: unknown }[];
}

/**
 * Decides for every node, reading each one's facts as its decision asks for them, and nudges
 * those it should, all nodes at once. A node whose read or send fails is listed in `failed`; the
 * others go on.
 */
export async function nudgeLaggingNodes(deps: NudgeDeps, cluster: string, nodes: readonly MeasuredNode[], now: number): Promise<NudgeRun> {
  const nudged: Record<string, number> = {};
  const skipped: Record<string, NudgeSkip> = {};
  const failed: { node: string; error: unknown }[] = [];
  await Promise.all(
    nodes.map(async (node) => {
      try {
        let facts: NudgeFacts = { consumes: node.consumes, lag: node.lag, progress: node.progress };
        for (;;) {
          const decision = nudgeDecision(facts, now);
          if (decision.kind === 'none') return;
          if (decision.kind === 'skip') {
            skipped[node.name] = decision.reason;
            return;
          }
          if (decision.kind === 'nudge') {
            await deps.queues.nudge(node.name, decision.event, nudgeDeduplicationId(decision.event, now));
            nudged[node.name] = decision.event.sequence;
            return;
          }
          facts = { ...facts, ...(await readFact(deps, cluster, node, decision.fact)) };
        }
      } catch (error) {
        failed.push({ node: node.name, error });
      }
    }),
  );
  return { nudged, skipped, failed };
}

async function readFact(deps: NudgeDeps, cluster: string, node: MeasuredNode, fact: NudgeFact): Promise<Partial<NudgeFacts>> {
  switch (fact) {
    case 'paused':
      return { paused: (await deps.pauses.read(node.name)) !== undefined };
    case 'queues': {
      const queues = await deps.queues.depths(node.name);
      if (queues === undefined) throw new Error(`Node ${node.name} consumes but has no queues`);
      return { queues };
    }
    case 'missing': {
      // The lag counts to the log's last event (lag.ts).
      const { cursor } = node.progress;
      const lastSequence = cursor + node.lag;
      const [first, last] = await Promise.all([
        deps.log.readRange(cluster, cursor + 1, cursor + 1),
        lastSequence === cursor + 1 ? undefined : deps.log.readRange(cluster, lastSequence, lastSequence),
      ]);
      const firstItem = first.find((event) => event.sequence === cursor + 1);
      const lastItem = last === undefined ? firstItem : last.find((event) => event.sequence === lastSequence);
      return { missing: missingEvents(firstItem, lastItem) };
    }
    case 'latestJob':
      return { latestJob: (await deps.jobs.latest(node.name)) ?? null };
  }
}
