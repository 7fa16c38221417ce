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
import type { EventDraft, EventLog, EventTopic } from './ports';

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
  readonly stage: 'publish' | 'apply-locally';
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
export async function publishChange(deps: PublishDeps, context: PublishContext, body: unknown): Promise<PublishResult> {
  assertCanPublish(context.node);
  const change = parseConfigChange(body);
  const metadata = { cluster: context.cluster, origin: context.node.name, publishedAt: deps.now().toISOString() };
  // A body stored for a log append that then fails is orphaned; the bucket's lifecycle
  // rule removes it. Storing it first keeps the log append the single commit point.
  const draft: EventDraft = mustOffload(change, metadata)
    ? { ...metadata, kind: change.kind, object: change.object, bodyRef: await deps.bodies.put(context.cluster, change) }
    : { ...metadata, ...change };
  const event = await deps.log.append(draft);

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
