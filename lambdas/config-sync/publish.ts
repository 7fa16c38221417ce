/**
 * The publish path of `POST /config/events`: a master's change is validated, stored in the
 * event log (which gives it its cluster-wide sequence), published to the topic, and applied
 * to the master's own store.
 *
 * The log write is the commit point. Everything after it may fail without losing the event:
 * an unpublished event stays marked so in the log and `republishPending` (run on a schedule)
 * sends it; a missed local write is filled from the log by the node's next catch-up or gap
 * fill. So once the log has accepted the event, the request succeeds, and the failures are
 * returned for the handler to log instead of thrown (a client retrying a committed change
 * would publish it twice, under a second sequence).
 */
import { catchUp, type ApplyDeps } from './apply';
import type { ClusterNode } from '../shared/cluster-model';
import { assertCanPublish } from './cluster';
import { mustOffload, parseConfigChange, type PublishedEvent } from './events';
import { IdempotencyKeyReusedError, IdempotencyKeyTakenError, IdempotentRequestInProgressError } from './errors';
import type { EventDraft, EventLog, EventTopic, IdempotencyClaim } from './ports';

export interface PublishDeps extends ApplyDeps {
  readonly topic: EventTopic;
  readonly now: () => Date;
}

/** The node publishing (from the request's authentication) and its cluster. */
export interface PublishContext {
  readonly cluster: string;
  readonly node: ClusterNode;
}

export interface DeferredFailure {
  readonly stage: 'publish' | 'apply-locally' | 'record-answer';
  readonly error: unknown;
}

export interface PublishResult {
  /** The event as the log stored it, with its sequence. */
  readonly event: PublishedEvent;
  /** False when the topic refused it: `republishPending` will send it. */
  readonly published: boolean;
  /** False when the node's own store could not be brought up to the event: its next catch-up will. */
  readonly appliedLocally: boolean;
  /** What failed after the commit point, for the handler to log. */
  readonly deferredFailures: readonly DeferredFailure[];
}

/**
 * Publishes a change on behalf of `context.node`. Throws before writing anything when the
 * node is a pure slave (`PureSlavePublishError`, 403) or the body is invalid
 * (`InvalidConfigEventError`, 400 naming the field).
 */
export async function publishChange(
  deps: PublishDeps,
  context: PublishContext,
  body: unknown,
  claim?: IdempotencyClaim,
): Promise<PublishResult> {
  assertCanPublish(context.node);
  const change = parseConfigChange(body);
  const metadata = { cluster: context.cluster, origin: context.node.name, publishedAt: deps.now().toISOString() };
  // A body stored for a log append that then fails is orphaned; the bucket's lifecycle
  // rule removes it. Storing it first keeps the log append the single commit point.
  const draft: EventDraft = mustOffload(change, metadata)
    ? { ...metadata, kind: change.kind, object: change.object, bodyRef: await deps.bodies.put(context.cluster, change) }
    : { ...metadata, ...change };
  const event = await deps.log.append(draft, claim);

  // Once the event is in the log, publishing it and the master's own store are independent:
  // run them together so the publish request pays for the slower one only.
  const deferredFailures: DeferredFailure[] = [];
  const ownStore = { cluster: context.cluster, node: context.node.name };
  const [published, appliedLocally] = await Promise.all([
    publishAndMark(deps, event).then(
      () => true,
      (error: unknown) => {
        deferredFailures.push({ stage: 'publish', error });
        return false;
      },
    ),
    // The master keeps its own configuration: bring its store up to and including this
    // event, in sequence order (events of other masters before it come from the log).
    catchUp(deps, ownStore, event.sequence).then(
      ({ cursor }) => cursor >= event.sequence,
      (error: unknown) => {
        deferredFailures.push({ stage: 'apply-locally', error });
        return false;
      },
    ),
  ]);
  return { event, published, appliedLocally, deferredFailures };
}

// ---------------------------------------------------------------------------------------------
// Idempotency-Key

/** How long a key binds its answer: a client retrying a timed-out publish does so within a day. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** A claim without a recorded answer younger than this may belong to a request still running (API Gateway waits at most 30 s). */
const IN_PROGRESS_WINDOW_MS = 60_000;

/** The answer of `POST /config/events`, as JSON; what a retry with the same key gets again. */
export interface PublishAnswer {
  readonly sequence: number;
  readonly event: unknown;
  readonly published: boolean;
  readonly appliedLocally: boolean;
}

export type IdempotentPublish =
  | { readonly replayed: false; readonly result: PublishResult; readonly answer: PublishAnswer }
  | { readonly replayed: true; readonly answer: PublishAnswer };

export function answerOf(result: PublishResult): PublishAnswer {
  return { sequence: result.event.sequence, event: result.event, published: result.published, appliedLocally: result.appliedLocally };
}

/**
 * `publishChange` under an `Idempotency-Key` (when `key` is given): the key is claimed in the
 * log append's own transaction, so a change is committed with its key or not at all. A retry
 * with the same key and body gets the first answer again, without publishing anything; the same
 * key with another body is a 422. If the first request committed but never recorded its answer
 * (still running: 409, retry; or its function died after the commit: the answer is rebuilt from
 * the log, with `published`/`appliedLocally` false because this answer cannot confirm them; the
 * republish schedule and catch-up complete both in any case).
 */
export async function publishIdempotently(
  deps: PublishDeps,
  context: PublishContext,
  body: unknown,
  idempotency?: { readonly key: string; readonly bodyHash: string },
): Promise<IdempotentPublish> {
  if (!idempotency) {
    const result = await publishChange(deps, context, body);
    return { replayed: false, result, answer: answerOf(result) };
  }
  const now = deps.now();
  const claim: IdempotencyClaim = {
    node: context.node.name,
    key: idempotency.key,
    bodyHash: idempotency.bodyHash,
    createdAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
  };
  let result: PublishResult;
  try {
    result = await publishChange(deps, context, body, claim);
  } catch (error) {
    if (!(error instanceof IdempotencyKeyTakenError)) throw error;
    const record = error.record;
    if (record.bodyHash !== idempotency.bodyHash) throw new IdempotencyKeyReusedError(idempotency.key, record.sequence);
    if (record.answer !== undefined) return { replayed: true, answer: JSON.parse(record.answer) as PublishAnswer };
    if (now.getTime() - Date.parse(record.createdAt) < IN_PROGRESS_WINDOW_MS) {
      throw new IdempotentRequestInProgressError(idempotency.key, record.sequence);
    }
    const [event] = await deps.log.readRange(context.cluster, record.sequence, record.sequence);
    return { replayed: true, answer: { sequence: record.sequence, event, published: false, appliedLocally: false } };
  }
  const answer = answerOf(result);
  try {
    await deps.log.saveIdempotentAnswer(context.cluster, context.node.name, idempotency.key, JSON.stringify(answer));
  } catch (failure) {
    // The change is committed; a retry rebuilds the answer from the log instead.
    return { replayed: false, result: { ...result, deferredFailures: [...result.deferredFailures, { stage: 'record-answer', error: failure }] }, answer };
  }
  return { replayed: false, result, answer };
}

/**
 * Sends the log's unpublished events, oldest first, stopping at the first failure so the
 * topic still receives them in order. SNS FIFO deduplicates a resend of an event that was
 * published but not yet marked (same deduplication id within 5 minutes); past that window
 * the appliers recognise it as a duplicate by its sequence.
 * @returns the sequences sent
 * @throws the first failure; the events from it on stay unpublished for the next run
 */
export async function republishPending(
  deps: { readonly log: EventLog; readonly topic: EventTopic },
  cluster: string,
  limit = 100,
): Promise<number[]> {
  const sent: number[] = [];
  for (const event of await deps.log.listUnpublished(cluster, limit)) {
    await publishAndMark(deps, event);
    sent.push(event.sequence);
  }
  return sent;
}

async function publishAndMark(
  deps: { readonly log: EventLog; readonly topic: EventTopic },
  event: PublishedEvent,
): Promise<void> {
  await deps.topic.publish(event);
  await deps.log.markPublished(event.cluster, event.sequence);
}
