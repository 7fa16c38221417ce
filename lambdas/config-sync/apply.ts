/**
 * Applying configuration events to a node's store: the pure rules, and the applier that
 * runs them against the ports, in order and exactly once in effect.
 *
 * Order. The cluster-wide sequence is the one total order of all changes. With several
 * masters, the last writer in sequence order wins: a node applies events strictly in
 * sequence, so every node computes the same state from the same log. (GeoServer's JMS
 * module had no rule at all here.) Strict order matters because merge patches do not
 * commute: skipping ahead and applying an older patch later would give another result.
 *
 * Exactly once in effect. Each node has a cursor, the sequence of the last event applied to
 * its store. An event is applied only as `cursor + 1`, in one atomic commit that writes the
 * object and moves the cursor with a compare-and-swap; an event at or below the cursor is a
 * duplicate and changes nothing. Each object also keeps the sequence of its last event, and
 * an event at or below it is skipped (the cursor still moves): that makes replaying the log
 * over a snapshot read while its source kept changing harmless.
 *
 * Gaps. The SNS FIFO topic keeps order per message group, but concurrent publishers can
 * hand SNS their events out of sequence order, and a node's own events never reach its
 * queue. So an event above `cursor + 1` is not an error: the applier reads the missing
 * events from the event log and applies them first. The log holds every sequence once its
 * publisher has committed it; a sequence allocated and not yet written is waited for, and one
 * whose publisher died is closed as void by the log (`EventLog.closeHoles`), which the applier
 * applies by moving its cursor past it.
 *
 * Delivered copies. A queue's message is a copy of a log event that anyone allowed to publish to
 * the topic or send to the queue could have made, so a delivery is never applied as it came:
 * the queue's applier (`fromQueue`) applies every sequence from the log's event there, and
 * compares each delivered copy with it (`differenceFromLog`: the event as parsed, not its JSON's
 * formatting; an offloaded event by its reference, no body fetched). A copy that differs is set
 * aside (`BatchResult.setAside`) and the log's event applied in its place. The log read that
 * gives the log's events is the batch's read ahead, started at the first delivered sequence the
 * node may lack. A node keeping up, which reads nothing ahead, reads nothing of the log either when
 * its store's commit can check the log's item (`NodeStore.checksLog`, not on a GeoServer node, whose
 * REST calls come before the commit): each delivered copy is applied in a commit that holds only if
 * the log's item at its sequence carries the copy's digest (`eventDigest`, stored by its publisher;
 * `LogItemCheck`). Any other outcome (a copy that differs, a log item without a digest, an event
 * that cannot be applied as it is) reads the log's event, compares and applies it as above.
 * Publishers and catch-ups hand the applier events they read from the log or wrote to it
 * themselves: those are taken as they are.
 *
 * Own events. A `both` node's queue delivers its own events like any other (its subscription
 * has no filter), so nothing but its queue is needed for its store to get them. Its publish
 * request usually applies them first, when the store is right before them (publish.ts), and
 * the deliveries then find them applied; otherwise (other masters' events before them, a
 * request that failed after the log's commit) the consumer applies them in sequence order,
 * with the events before them. On a node with a GeoServer, an own event delivered by the
 * queue is committed to the store without REST calls when nothing else was sent to the
 * GeoServer for its object since: it came from that GeoServer (the gateway forwarded it there
 * before publishing, a capture read it there), and sending it back could undo a newer write of
 * the gateway to the same object. When another master's earlier event on the object was sent
 * after it (the node was behind), that REST call sent the object's state without it, so it is
 * sent again (`sendsToGeoServer`). Jobs (a resync rebuilding a GeoServer) send every event,
 * own ones too.
 *
 * Parking. An event this node cannot apply (its body unreadable, its object refused by the
 * store, any failure that is not transient) must not stop the node: strict order would hold
 * every later sequence behind it forever, since gap filling retries it. Each failed attempt at
 * `cursor + 1` is counted in the node's store; after `MAX_APPLY_ATTEMPTS` the event is parked:
 * a parking record for its object holds the sequence and the reason, and the cursor moves past
 * it in the same atomic write. Later events of the same object are parked behind it (one more
 * sequence in the record, cursor moved), never applied over it, because merge patches do not
 * commute; events of every other object keep flowing. `GET /nodes` lists the records. A
 * redrive (`retryParked`) applies a record's sequences in order, out of cursor order, which is
 * sound because nothing of that object was applied since its first parked sequence and an
 * object's state depends only on its own events; a resync replaces the records with its
 * source's (job-runner.ts `carriedParking`), the snapshot holding the effect of the node's own
 * and the log after it replaying the rest. One exception on a GeoServer
 * node: a parked remove with `recurse` is not redriven over objects the node applied inside its
 * object after it (`appliedInsideAfter`), nor, for a style, over layers and layer groups the node
 * applied after it that name a style of that name (`styleUsersAppliedAfter`), since the
 * GeoServer's recursive delete takes objects (resets a style's users), not sequences; it stays
 * parked for a resync. A head that fails again is dropped when a later
 * change of its object in the record makes it moot (`supersededByLaterChange`: an add after
 * modifies, a remove after adds and modifies), so a change refused only because its object is
 * removed later does not hold that removal. Transient failures (throttling,
 * timeouts, 5xx) are never counted: they are retried by the queue and never park an event.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  CursorContentionError,
  EventsMissingFromLogError,
  EventsNotYetWrittenError,
  InvalidConfigEventError,
  RecursiveRemoveWouldTakeLaterObjectsError,
  WrongClusterError,
} from './errors';
import {
  CATALOG_OBJECT_TYPES,
  eventDigest,
  isConfigurationType,
  isOffloaded,
  isResourceType,
  isStoreType,
  RESOURCE_OF,
  splitObjectId,
  isUnreadable,
  isVoided,
  MAX_PROPERTIES_BYTES,
  objectStorageKey,
  parkingKey,
  parseStoredChange,
  parseEventMessage,
  serializedBytes,
  type ConfigEvent,
  type DeliveredEvent,
  type EventMetadata,
  type ObjectRef,
  type ObjectType,
  type PublishedEvent,
} from './events';
import { applyToGeoServer, deletedPaths, type GeoServerApplyOptions, type GeoServerOutcome, type GeoServerStep } from './geoserver/apply';
import { catalogInStore, type CatalogObject } from './gateway/master-catalog';
import { styleUsersInStore } from './gateway/style-users';
import { Liveness, parentsOf } from './liveness';
import { GeoServerCallTimedOutError, GeoServerRejectedError, truncate } from './geoserver/errors';
import type { GeoServerRest } from './geoserver/ports';
import { mergePatchObject, type JsonObject } from './merge-patch';
import { localName, referencedName } from './representations';
import { consoleWarn, type Warn } from '../shared/warn';
import { HELD_CURSOR, PARKED_LIST_MAX, READ_RANGE_MAX, type CheckedCommitOutcome, type CommitOutcome, type EventBodyStore, type EventLog, type LogItemCheck, type NodeStore, type ParkedObject, type StoredObject } from './ports';
import { withoutArns } from '../shared/errors';

export interface ApplyDeps {
  readonly store: NodeStore;
  readonly log: EventLog;
  readonly bodies: EventBodyStore;
  /** The clock for parking records. @default () => new Date() */
  readonly now?: () => Date;
  /**
   * The node's own GeoServer, when it has one: each event is applied to it before the
   * node's cursor moves (geoserver/apply.ts).
   */
  readonly geoserver?: {
    readonly rest: GeoServerRest;
    readonly options?: GeoServerApplyOptions;
    /** No REST call of a run starts after this many ms of it (`applyRun`). @default 1000 */
    readonly runBudgetMs?: number;
    /**
     * No REST call of a batch's read ahead starts after this many ms of the batch
     * (`applyDeliveredBatch`). @default 5000
     */
    readonly aheadBudgetMs?: number;
  };
  /** How long to wait for a young hole in the log (see `readLog`). @default 12000 */
  readonly holeWaitMs?: number;
  /** Where an event parked or a failed apply-ahead is reported. @default consoleWarn */
  readonly warn?: Warn;
}

/**
 * Failed attempts at one event before it is parked. Below the queue's `maxReceiveCount` (5),
 * so a delivered event is parked before its message would go to the dead-letter queue.
 */
export const MAX_APPLY_ATTEMPTS = 3;
/** Reasons are kept to this many characters in the store and in `GET /nodes`. */
const MAX_REASON_LENGTH = 1000;

/** The node whose store is being written, and its cluster. */
export interface NodeContext {
  readonly cluster: string;
  readonly node: string;
}

// ---------------------------------------------------------------------------------------------
// Pure rules

/** What a delivered event means for a node whose cursor is `cursor`. */
export type Delivery =
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'next' }
  /** Events `from..to` must be applied first. */
  | { readonly kind: 'gap'; readonly from: number; readonly to: number };

export function classifyDelivery(cursor: number, event: EventMetadata): Delivery {
  if (event.sequence <= cursor) return { kind: 'duplicate' };
  if (event.sequence === cursor + 1) return { kind: 'next' };
  return { kind: 'gap', from: cursor + 1, to: event.sequence - 1 };
}

export type ObjectEffect =
  /** `add` of an object the node did not hold (or held as removed). */
  | 'created'
  /** `add` of an object the node holds: the new properties replace the old ones. */
  | 'replaced'
  /**
   * `add` written without reading the object first (an add's result does not depend on it):
   * created or replaced, which is not known.
   */
  | 'written'
  /** `modify` of an object the node holds: merge patch. */
  | 'patched'
  /** `modify` of an object the node does not hold: recorded as an incomplete object. */
  | 'recorded-incomplete'
  /** `remove`: a tombstone, whatever still references the object (the master decided). */
  | 'removed'
  /** The object already reflects this or a later event: nothing to write. */
  | 'stale'
  /** Parked on this node (it failed, or an earlier event of its object is parked): not applied. */
  | 'parked'
  /** A void sequence of the log (allocated, never written): only the cursor moved. */
  | 'void';

export interface ObjectChange {
  readonly effect: ObjectEffect;
  /** The object's new state; absent when `stale`. */
  readonly object?: StoredObject;
}

/** The new state of an event's object, given its current state on the node. */
export function applyChange(existing: StoredObject | undefined, event: ConfigEvent): ObjectChange {
  if (existing !== undefined && existing.lastSequence >= event.sequence) return { effect: 'stale' };
  const stamp = {
    type: event.object.type,
    id: event.object.id,
    lastSequence: event.sequence,
    lastOrigin: event.origin,
    updatedAt: event.publishedAt,
    ...(existing?.sentThrough === undefined ? {} : { sentThrough: existing.sentThrough }),
    ...(existing?.cascadedAt === undefined ? {} : { cascadedAt: existing.cascadedAt }),
  };
  const live = existing !== undefined && !existing.deleted ? existing : undefined;
  switch (event.kind) {
    case 'add':
      return {
        effect: live ? 'replaced' : 'created',
        object: { ...stamp, properties: event.properties, deleted: false, incomplete: false },
      };
    case 'modify':
      return live
        ? {
            effect: 'patched',
            object: {
              ...stamp,
              properties: withinObjectBound(event, mergePatchObject(live.properties, event.patch)),
              deleted: false,
              incomplete: live.incomplete,
            },
          }
        : {
            effect: 'recorded-incomplete',
            object: { ...stamp, properties: mergePatchObject({}, event.patch), deleted: false, incomplete: true },
          };
    case 'remove':
      // What the object contains stays as it was; its liveness ends here (liveness.ts).
      return {
        effect: 'removed',
        object: { ...stamp, properties: {}, deleted: true, incomplete: false, ...(event.recurse === true ? { cascadedAt: event.sequence } : {}) },
      };
  }
}

/**
 * A patched object's properties, refused when larger than `MAX_PROPERTIES_BYTES`: publish bounds
 * each patch, not what patches adding new keys one after another build, and every later event of
 * the object reads, merges and writes it whole (a GeoServer node PUTs it whole), so an object
 * grown without bound would one day take a batch past its function's memory or timeout, and the
 * queue would deliver that batch forever. No add can create such an object; the node parks the
 * patch (a failure that is not transient) and goes on.
 */
function withinObjectBound(event: ConfigEvent, properties: JsonObject): JsonObject {
  const bytes = serializedBytes(properties);
  if (bytes > MAX_PROPERTIES_BYTES) {
    throw new InvalidConfigEventError([
      {
        field: 'patch',
        message: `would make ${event.object.type} ${event.object.id} ${bytes} bytes of JSON, over the limit of ${MAX_PROPERTIES_BYTES} for an object's properties`,
      },
    ]);
  }
  return properties;
}

// ---------------------------------------------------------------------------------------------
// The applier

export interface AppliedEvent {
  readonly sequence: number;
  readonly origin: string;
  /** Absent only for a parked unreadable event that names no valid object. */
  readonly object?: ObjectRef;
  readonly effect: ObjectEffect;
  /** Read from the event log to close a gap, rather than delivered. */
  readonly fromLog: boolean;
  /** What the node's GeoServer made of it (absent without a GeoServer or for a stale event). */
  readonly geoserver?: GeoServerOutcome;
}

/** What happened to one delivered event. `applied` lists, in order, every event this call applied. */
export interface DeliveryResult {
  readonly disposition: 'applied' | 'duplicate';
  readonly sequence: number;
  readonly applied: readonly AppliedEvent[];
  /** The node's cursor afterwards. */
  readonly cursor: number;
}

/** Every event a batch's deliveries applied, in order. */
export function appliedEvents(results: readonly DeliveryResult[]): AppliedEvent[] {
  return results.flatMap((delivery) => delivery.applied);
}

export interface BatchResult {
  /** One result per message processed, in order; none for a message set aside (`setAside`). */
  readonly results: readonly DeliveryResult[];
  /**
   * The first message that failed (its index among the messages). With FIFO queues, that message
   * and every later one must be reported as failed (`batchItemFailures`), so they are retried in
   * order.
   */
  readonly failure?: { readonly index: number; readonly error: unknown };
  /**
   * The messages before `failure` (all, without one) that are no event of the cluster's log
   * (`readQueueMessage`, numbered past the log's head, or different from the log's event at their
   * sequence, which is applied in their place), by index, with why: no retry can
   * apply them, so the caller sets them aside (the node's dead-letter queue) instead of retrying
   * them, which would hold every later message of the queue's one message group. Nothing of
   * them was applied, and the cursor never moved for them. Absent when there are none.
   */
  readonly setAside?: readonly SetAsideMessage[];
  /**
   * The node's cursor after a batch that fully succeeded, as the applier last committed or
   * read it: the `knownCursor` of the same consumer's next batch.
   */
  readonly cursor?: number;
  /**
   * Events applied ahead of the queue (read from the log after the messages' own), in order:
   * counted and reported here, once, as their own messages come later as duplicates. Also the
   * log's events applied for messages set aside as different from them, which no result lists.
   */
  readonly readAhead?: readonly AppliedEvent[];
  /** What ended the read ahead early, when something did (the batch's messages are applied all the same). */
  readonly readAheadFailure?: unknown;
}

/** A message of a node's queue that carries no event of the cluster's log (`BatchResult.setAside`). */
export interface SetAsideMessage {
  readonly index: number;
  readonly reason: string;
}

/**
 * A message of the node's queue read as an event, or why it is no event of its cluster's log: it
 * is not JSON, lacks an event's place in the order (sequence, cluster, origin, publication time),
 * or names another cluster. Our publishers never send such a message (the topic carries the log's
 * events as they were written), so it came from someone else allowed to publish to the topic or
 * send to the queue, and no retry can ever apply it. Each message is parsed once, here.
 */
export function readQueueMessage(message: string, cluster: string): { readonly event: DeliveredEvent } | { readonly foreign: string } {
  let event: DeliveredEvent;
  try {
    event = parseEventMessage(message);
  } catch (error) {
    return { foreign: `not an event: ${describeFailure(error)}` };
  }
  return event.cluster === cluster ? { event } : { foreign: `an event of cluster ${event.cluster}, not of cluster ${cluster}` };
}

/** Every step a batch applied: its messages' own, then those its read ahead applied (counted here, once). */
export function batchSteps(result: Pick<BatchResult, 'results' | 'readAhead'>): AppliedEvent[] {
  return [...appliedEvents(result.results), ...(result.readAhead ?? [])];
}

/** What failed first in a batch: one of its messages, or else its read ahead (which runs after them). */
export function batchFailure(result: Pick<BatchResult, 'failure' | 'readAheadFailure'>): unknown {
  return result.failure ? result.failure.error : result.readAheadFailure;
}

export interface CatchUpResult {
  readonly fromCursor: number;
  readonly cursor: number;
  readonly applied: readonly AppliedEvent[];
}

/**
 * How long an applier waits for a hole in the log to be written or to become old enough to
 * close (the log's grace period, 10 s by default, plus margin); within the apply function's
 * 30 s timeout.
 */
const HOLE_WAIT_MS = 12_000;

/**
 * Events committed together in one store transaction by `applyRun`: DynamoDB's
 * `TransactWriteItems` takes 100 items (the objects plus the cursor) and 4 MB.
 */
const MAX_RUN = 200;
const MAX_RUN_OBJECTS = 99;
const MAX_RUN_BYTES = 3 * 1024 * 1024;
/**
 * On a GeoServer node a run's REST calls are made before its one commit, so a crash re-applies
 * the whole run (each call is idempotent). No REST call of a run starts after this long: a slow
 * GeoServer commits its progress at least this often, and an invocation's timeout never takes
 * more than this much applied work with it.
 */
const GEOSERVER_RUN_BUDGET_MS = 1000;
/**
 * On a GeoServer node the read ahead of a batch (`applyDeliveredBatch`) starts no event after
 * this many ms of the batch, so an invocation ends within its timeout (30 s): this, a last run's
 * budget and its REST calls' own timeout (10 s each, geoserver-http.ts).
 */
const GEOSERVER_AHEAD_BUDGET_MS = 5000;
/**
 * Events applied ahead of the queue for a change set, per invocation: a set's most changes
 * (MAX_CHANGE_SET_ITEMS). A set with partner flags taken along (layer-flags.ts) may hold more;
 * its later messages bring the rest.
 */
export const MAX_AHEAD = 1000;

/** Events read from the log per request while filling a gap or catching up. */
const LOG_PAGE_SIZE = READ_RANGE_MAX;
/** BatchGetItem's limit is 100 keys: the cursor, and an object and its parking record each. */
const OBJECT_READ_BATCH = 49;
/** A re-read object is newer than the event, so one retry settles it; more means a faulty store. */
const MAX_OBJECT_MOVED_RETRIES = 3;

/**
 * Applies one event delivered by the node's queue: ignores it if already applied, fills any
 * gap before it from the log, then applies the log's event at its sequence (a delivery that
 * differs from it is not applied: the step is then `fromLog`; `applyDeliveredBatch` sets such a
 * message aside).
 */
export async function applyDeliveredEvent(
  deps: ApplyDeps,
  context: NodeContext,
  event: DeliveredEvent,
): Promise<DeliveryResult> {
  return new NodeApplier(deps, context).fromQueue().deliver(event);
}

/**
 * Applies an SQS batch (message bodies, in queue order). Stops at the first message that
 * fails, as FIFO partial batch failure requires. A message that is no event of the cluster's
 * log (`readQueueMessage`, numbered past the log's head, or different from the log's event at
 * its sequence) is not a failure: it is listed in `setAside`, with nothing of it applied, and the
 * batch goes on.
 */
export async function applyDeliveredBatch(
  deps: ApplyDeps,
  context: NodeContext,
  messages: readonly string[],
  /**
   * The last sequence of a change set one of the messages belongs to: once the messages are
   * applied, the rest of the set is applied from the log too (not on a GeoServer node, whose
   * apply calls the GeoServer per event). Best effort: the set's own messages apply it anyway.
   */
  options: {
    readonly aheadTo?: number;
    /**
     * The node's cursor as the caller last knew it (`BatchResult.cursor` of its previous batch),
     * taken instead of reading it. Sound only for a caller that no resync of the node can run
     * concurrently with (the node's own queue consumer: a resync is a job of that queue): a
     * cursor only ever moves forward otherwise, so if it still holds this value when a commit
     * compares it, it held it all along, and every object read since is as of it, as when the
     * cursor is read first. A stale value fails the commit's compare-and-swap, which re-reads it.
     * A batch whose every event is at or below it, with nothing in the log after it, is taken as
     * duplicates on its word (`droppedUnread` says why that leaves no gap).
     */
    readonly knownCursor?: number;
    /**
     * False when the queue showed no backlog (queue-backlog.ts: one message, sent after the
     * consumer's previous batch ended): the log is not read past the delivered events, whose
     * messages bring what follows. Read all the same when the events show the node behind
     * the log: one at or below the known cursor (the read ahead of a burst applied it), or
     * past the event right after it (others were published meanwhile). Default true.
     */
    readonly readAhead?: boolean;
  } = {},
): Promise<BatchResult> {
  const started = Date.now();
  const events: DeliveredEvent[] = [];
  /** The message index of each event. */
  const positions: number[] = [];
  const setAside: SetAsideMessage[] = [];
  /**
   * Steps applied for messages set aside because they differ from the log's event at their
   * sequence (the log's event there), which no result lists: reported with the read ahead's.
   */
  const unlisted: AppliedEvent[] = [];
  for (const [index, message] of messages.entries()) {
    const read = readQueueMessage(message, context.cluster);
    if ('foreign' in read) {
      setAside.push({ index, reason: read.foreign });
      continue;
    }
    events.push(read.event);
    positions.push(index);
  }
  /** The result's failure at event `at` (a message index), with the messages set aside before it only. */
  const failing = (at: number, error: unknown): BatchResult => {
    const index = positions[at] ?? messages.length;
    return { results, failure: { index, error }, ...withReadAhead(unlisted), ...withSetAside(setAside.filter((message) => message.index < index)) };
  };
  // A known cursor makes the applier try a commit (whose compare-and-swap checks it). It drops an
  // event as applied only when every delivered event is at or below it: a commit against it
  // proves it, or, when the log holds nothing after it, it is taken as it is (`aheadOfKnownCursor`,
  // `droppedUnread`, which say why a cursor this consumer left is never above the store's for good).
  const known = options.knownCursor;
  // The node's own publish requests move its cursor without this consumer knowing: a batch
  // with an own event reads the cursor (its events are usually applied already).
  const trusted = known !== undefined && events.every((event) => event.origin !== context.node && event.sequence > known);
  const applier = new NodeApplier(deps, context, trusted ? known : undefined).fromQueue();
  const results: DeliveryResult[] = [];
  // What the log already holds after these messages (a burst, a change set), read while they
  // are applied: applied too, it spares the next invocations their writes (and, on a GeoServer
  // node, an invocation per event: there no event of it starts after `aheadBudgetMs` of the
  // batch, as its REST calls take time). Not for a delivery that shows the node
  // keeping up (`readAhead`), after which the log holds nothing yet. With no message the node
  // lacks (below), the read starts at the highest delivered sequence, not after it: that is
  // usually the key of its own log item, and
  // a range starting on a key is one query (one starting after it must also ask for the item
  // before, in case a chunk reaches into the range: two queries in a row, the longest call of
  // a delivery). It starts at the known cursor when that is higher: a queue still bringing
  // events a read ahead applied long ago (a change set of a thousand, applied ahead from its
  // first message) would otherwise read pages the node holds already, and get no further
  // until its messages caught up with the cursor.
  //
  // A message is applied only as the log's event at its sequence (`fromQueue`: anyone allowed to
  // send to the queue could have made it): the same read covers the messages the node may lack
  // (above the known cursor; its own events are usually applied already, and read only if they
  // are not), so it starts at the first of them, at the known cursor's next when that is below it
  // (the gap before them is read as well), unless that gap is a page or more. A node keeping up,
  // which reads nothing ahead, reads nothing of the log either when its commits can check the
  // log's items (`checkInCommit`, below), and else just their sequences.
  const highest = events.reduce((max, event) => Math.max(max, event.sequence), 0);
  const redundant = known !== undefined && events.length > 0 && events.every((event) => event.sequence <= known);
  const behind = redundant || (known !== undefined && events.some((event) => event.sequence > known + 1));
  const cursorHint = known === undefined || known === HELD_CURSOR ? undefined : known;
  const lacking = events.filter((event) => event.origin !== context.node && (cursorHint === undefined || event.sequence > cursorHint)).map((event) => event.sequence);
  const readingAhead = events.length > 0 && (options.readAhead !== false || behind);
  const firstLacking = lacking.length > 0 ? (cursorHint ?? Math.min(...lacking) - 1) + 1 : undefined;
  // Past a page of gap, the read ahead starts at the highest message as it did (the applier reads
  // the gap, the messages' sequences with it).
  const readFrom =
    firstLacking !== undefined && !(readingAhead && highest - firstLacking >= LOG_PAGE_SIZE)
      ? firstLacking
      : cursorHint === undefined
        ? highest
        : Math.max(highest, cursorHint);
  const readTo = readingAhead ? readFrom + LOG_PAGE_SIZE - 1 : Math.min(Math.max(0, ...lacking), readFrom + LOG_PAGE_SIZE - 1);
  // Keeping up, with a store whose commit checks the log's item: the copies are applied as they
  // came, each in a commit that proves it the log's event (`checkInCommit`), and nothing is read.
  const checkedInCommit = !readingAhead && lacking.length > 0 && applier.checkInCommit(events);
  const ahead =
    readTo < readFrom || (!readingAhead && lacking.length === 0) || checkedInCommit
      ? Promise.resolve<DeliveredEvent[]>([])
      : deps.log.readRange(context.cluster, readFrom, readTo).catch((): DeliveredEvent[] => []);
  if (redundant && !deps.geoserver) {
    const settled = await aheadOfKnownCursor(deps, context, events, known as number, ahead, options.aheadTo);
    if (settled !== undefined) return { ...settled, ...withSetAside(setAside) };
  }
  try {
    // Own events are usually applied already (by their publish request): their objects are
    // read only if they turn out not to be.
    await applier.prefetch(applier.objectsToRead(events.filter((event) => event.origin !== context.node)));
  } catch (error) {
    return failing(0, error);
  }
  applier.knowLog(await ahead);
  /**
   * The results of `run` (consecutive events, from `before`), without the messages that differ from
   * the log's event at their sequence, which are set aside (their sequences applied from the log).
   */
  const settle = (run: readonly DeliveredEvent[], at: number, before: number, steps: readonly AppliedEvent[], cursor: number, delivered?: readonly DeliveryResult[]) => {
    const kept = run.filter((event, offset) => {
      const reason = applier.differingFromLog(event);
      if (reason !== undefined) setAside.push({ index: positions[at + offset] as number, reason });
      return reason === undefined;
    });
    if (delivered !== undefined && kept.length === run.length) {
      results.push(...delivered);
      return;
    }
    const listed = resultsOf(kept, before, steps, cursor);
    results.push(...listed);
    const count = listed.reduce((sum, result) => sum + result.applied.length, 0);
    unlisted.push(...steps.slice(count));
    setAside.sort((a, b) => a.index - b.index);
  };
  let index = 0;
  while (index < events.length) {
    // Messages of consecutive sequences are applied together, so the store can commit them in
    // few transactions; each still gets its own result.
    // On a GeoServer node too: the run's REST calls are made event by event, in order, and
    // the store commits them together afterwards (`applyRun`).
    let end = index;
    while (end + 1 < events.length && events[end + 1]?.sequence === (events[end]?.sequence ?? 0) + 1) {
      end += 1;
    }
    const before = await applier.cursor().catch(() => undefined);
    const mark = applier.progressMark();
    try {
      const delivered = end === index ? [await applier.deliver(events[index] as DeliveredEvent)] : await applier.deliverRun(events.slice(index, end + 1));
      settle(events.slice(index, end + 1), index, before ?? -1, applier.progressSince(mark), delivered[delivered.length - 1]?.cursor ?? -1, delivered);
    } catch (error) {
      // The first message of the run not applied yet is the one that failed. The ones before
      // it were committed: each gets the steps committed up to it (a GeoServer's answers too,
      // which the node's status records).
      const cursor = await applier.cursor().catch(() => -1);
      const failed = events.findIndex((event, position) => position >= index && position <= end && event.sequence > cursor);
      settle(events.slice(index, failed < 0 ? index : failed), index, before ?? -1, applier.progressSince(mark), cursor);
      const pastHead = failed < 0 ? undefined : await pastLogHead(deps, context, events.slice(failed, end + 1), error);
      if (pastHead === undefined) return failing(failed < 0 ? index : failed, error);
      // Numbered past the head, every event left of the run is no event of the log: none applied.
      for (let at = failed; at <= end; at += 1) setAside.push({ index: positions[at] as number, reason: pastHead });
      setAside.sort((a, b) => a.index - b.index);
    }
    index = end + 1;
  }
  const aheadMark = applier.progressMark();
  const until = deps.geoserver ? started + (deps.geoserver.aheadBudgetMs ?? GEOSERVER_AHEAD_BUDGET_MS) : undefined;
  try {
    // The events right after the cursor that the log held when this batch began: all
    // committed (a range is written whole before it is published), in hand, applied at once.
    const cursor = await applier.cursor();
    const next = new Map<number, DeliveredEvent>();
    if (readingAhead) for (const event of await ahead) if (event.sequence > cursor) next.set(event.sequence, event);
    let last = cursor;
    while (next.has(last + 1)) last += 1;
    if (last > cursor) ({ cursor: last } = await applier.advanceTo(last, next, until));
    // The rest of a change set the messages announced, from the log.
    if (options.aheadTo !== undefined && options.aheadTo > last) await applier.advanceTo(Math.min(options.aheadTo, cursor + MAX_AHEAD), new Map(), until);
  } catch (error) {
    (deps.warn ?? consoleWarn)('applying ahead of the queue failed; the messages will bring the events', { node: context.node, error: String(error) });
    return { results, ...withReadAhead([...unlisted, ...applier.progressSince(aheadMark)]), readAheadFailure: error, ...withSetAside(setAside) };
  }
  const cursor = applier.knownCursorValue();
  return { results, ...(cursor === undefined ? {} : { cursor }), ...withReadAhead([...unlisted, ...applier.progressSince(aheadMark)]), ...withSetAside(setAside) };
}

const withReadAhead = (applied: readonly AppliedEvent[]): Pick<BatchResult, 'readAhead'> => (applied.length > 0 ? { readAhead: applied } : {});
const withSetAside = (messages: readonly SetAsideMessage[]): Pick<BatchResult, 'setAside'> => (messages.length > 0 ? { setAside: messages } : {});

/**
 * Why the delivered events `run` (consecutive sequences, the first not applied), whose delivery
 * failed with `error`, are no events of the log, or undefined when they may be (the failure is
 * then the delivery's, retried as any). A publisher allocates its sequences (the log's head moves
 * to them) before it publishes their events, and the head never moves back: an event numbered past
 * the head, read after the failure, was allocated by no publisher. Only a failure to find
 * sequences in the log (the gap before such an event, or the event itself) can mean that, so
 * only then is the head read. Every event of `run` is past the head then, or none is judged so.
 */
async function pastLogHead(deps: ApplyDeps, context: NodeContext, run: readonly DeliveredEvent[], error: unknown): Promise<string | undefined> {
  const [first] = run;
  if (!(error instanceof EventsMissingFromLogError) || first === undefined) return undefined;
  const head = await deps.log.head(context.cluster).catch((): undefined => undefined);
  if (head === undefined || first.sequence <= head) return undefined;
  return pastHeadReason(first.sequence, head);
}

/** Why an event numbered `sequence`, past the log's `head` (read after the log was found to lack it), is no event of the log. */
export function pastHeadReason(sequence: number, head: number): string {
  return `event ${sequence} is past the head of the event log (${head}): no publisher allocated it`;
}

/**
 * A batch whose every event is at or below the cursor this consumer last left (`known`): in a
 * burst, the events the read ahead applied before the queue brought them. Their messages need
 * no cursor read when the log holds what comes right after `known`: that is applied from the
 * read ahead in commits whose compare-and-swap checks `known`, and a commit that succeeds shows
 * the cursor held it, so every delivered event was applied already. A commit that finds the
 * cursor elsewhere (a resync job ran on another instance meanwhile) reads it and applies from
 * it, the delivered events included when they are above it, as the cursor read would have.
 *
 * When the log holds nothing after `known` (the read ahead applied all it had), the messages are
 * dropped as duplicates with nothing read but that log read (`droppedUnread`). `undefined` (read
 * the cursor, as for any batch) when a step failed, or when the messages cannot be dropped so.
 */
async function aheadOfKnownCursor(
  deps: ApplyDeps,
  context: NodeContext,
  events: readonly DeliveredEvent[],
  known: number,
  ahead: Promise<DeliveredEvent[]>,
  aheadTo: number | undefined,
): Promise<BatchResult | undefined> {
  const next = new Map<number, DeliveredEvent>();
  let knownInLog = false;
  for (const event of await ahead) {
    if (event.sequence > known) next.set(event.sequence, event);
    else if (event.sequence === known) knownInLog = true;
  }
  let last = known;
  while (next.has(last + 1)) last += 1;
  if (last === known) return droppedUnread(events, known, knownInLog, aheadTo);
  const applier = new NodeApplier(deps, context, known);
  const mark = applier.progressMark();
  let cursor: number;
  try {
    // Reaching `last` takes a commit against `known` or a read of the cursor after a lost one:
    // either shows where the cursor stood, so the delivered events are settled.
    ({ cursor } = await applier.advanceTo(last, next));
    if (cursor < last) return undefined;
    if (aheadTo !== undefined && aheadTo > cursor) ({ cursor } = await applier.advanceTo(Math.min(aheadTo, known + MAX_AHEAD)));
  } catch (error) {
    (deps.warn ?? consoleWarn)('applying ahead of the queue failed; reading the cursor instead', { node: context.node, error: String(error) });
    return undefined;
  }
  const progress = applier.progressSince(mark);
  const results = resultsOf(events, -1, progress, cursor);
  // The steps no result lists (those after the last delivered event applied here) are the read ahead's.
  const listed = results.reduce((count, result) => count + result.applied.length, 0);
  return { results, cursor, ...withReadAhead(progress.slice(listed)) };
}

/**
 * The messages of a batch whose every event is at or below `known`, the cursor this consumer's
 * last batch committed or read, taken as duplicates without reading the cursor: the log holds
 * nothing after `known` (a burst's duplicates, once the read ahead applied all the log had).
 *
 * Sound because the cursor this consumer knows can be wrong only one way that matters. Commits
 * only ever move a cursor up (a compare-and-swap to a higher sequence: the node's own publish
 * requests, a parking, another instance of this function), which leaves every event at or below
 * `known` applied. It moves down only when a resync's finish sets it to its snapshot's sequence
 * (`NodeStore.finishSnapshot`; a resync is a job of this queue, which may have run on another
 * instance); that resync's catch-up then applies the log up to a head it reads after the finish,
 * which is at or past `known` (a sequence is in the log before any store holds it), before the
 * job ends. So an event dropped here that the store lacks is the running resync's to apply, and
 * the next event past `known` fills any gap as any stale known cursor's lost commit does (so does
 * it after a reset of the store behind the function's back, which nothing in the cluster does).
 * Given up: a resync that stops for good after its finish (its slices died, its message went to
 * the dead-letter queue, or the log lacks the events) leaves the node behind until that next event,
 * another resync or the lag measure's nudge (catch-up-nudge.ts: the log's last event on the node's
 * queue, once the queue and its dead-letter queue are empty and no job of the node runs), where a
 * duplicate used to catch it up; its cursor stays below what it lacks, so nothing is skipped. The
 * nudge never comes while the dead-letter queue holds the resync's message: that case stays the
 * operator's (a redrive or discard, or another resync). A hold makes every event a duplicate
 * anyway: a batch under it applies nothing either way.
 *
 * Not when `known` is no sequence of the log (`knownInLog`: the read, which starts at `known`,
 * did not find it): the hold's marker (`HELD_CURSOR`, a read under a hold), a known cursor past
 * the log's head, or a log read that failed; nor for a change set's rest past `known` (`aheadTo`),
 * which the log holds since the set is written whole before it is published. `undefined` then:
 * the caller reads the cursor.
 */
function droppedUnread(events: readonly DeliveredEvent[], known: number, knownInLog: boolean, aheadTo: number | undefined): BatchResult | undefined {
  if (!knownInLog || known === HELD_CURSOR || (aheadTo !== undefined && aheadTo > known)) return undefined;
  return { results: resultsOf(events, -1, [], known), cursor: known };
}

/**
 * One result per delivered event of a run (consecutive sequences) that began at
 * cursor `before`: each lists the steps up to its own sequence that no earlier result listed.
 */
function resultsOf(events: readonly DeliveredEvent[], before: number, applied: readonly AppliedEvent[], cursor: number): DeliveryResult[] {
  let listed = 0;
  return events.map((event): DeliveryResult => {
    if (event.sequence <= before) return { disposition: 'duplicate', sequence: event.sequence, applied: [], cursor };
    const upTo = applied.findIndex((step) => step.sequence === event.sequence);
    if (upTo < 0) return { disposition: 'duplicate', sequence: event.sequence, applied: [], cursor };
    const steps = applied.slice(listed, upTo + 1);
    listed = upTo + 1;
    return { disposition: 'applied', sequence: event.sequence, applied: steps, cursor };
  });
}

/**
 * Applies every event from the node's cursor up to `toSequence` (default: the log's head)
 * from the log. Used by the publish path (a master's own store), after a bootstrap, and by
 * any repair job.
 */
export async function catchUp(
  deps: ApplyDeps,
  context: NodeContext,
  toSequence?: number,
  /** Events the caller holds already (a publisher's own): not read from the log again. */
  inHand: readonly DeliveredEvent[] = [],
): Promise<CatchUpResult> {
  const applier = new NodeApplier(deps, context);
  // The objects of the events in hand are read together with the cursor (readApplyState).
  await applier.prefetch(applier.objectsToRead(inHand.slice(0, MAX_RUN_OBJECTS)));
  const fromCursor = await applier.cursor();
  const target = toSequence ?? (await deps.log.head(context.cluster));
  const { applied, cursor } = await applier.advanceTo(target, new Map(inHand.map((event) => [event.sequence, event])));
  return { fromCursor, cursor, applied };
}

/**
 * `catchUp` for a caller that reports what it applied however the catch-up ends (a resync
 * job's catch-up step): a failure part way is returned with the events committed before it
 * and the cursor they left, as `applyDeliveredBatch` returns a batch's, not thrown with them.
 * A failure before anything could be applied (reading the cursor) is thrown.
 */
export async function catchUpReporting(
  deps: ApplyDeps,
  context: NodeContext,
  toSequence: number,
): Promise<CatchUpResult & { readonly failure?: { readonly error: unknown } }> {
  const applier = new NodeApplier(deps, context);
  const fromCursor = await applier.cursor();
  const mark = applier.progressMark();
  try {
    const { applied, cursor } = await applier.advanceTo(toSequence);
    return { fromCursor, cursor, applied };
  } catch (error) {
    // Every step the applier recorded was committed: the cursor is at least after the last of
    // them, further where a read after a lost commit found it moved on.
    const applied = applier.progressSince(mark);
    const cursor = Math.max(applier.knownCursorValue() ?? fromCursor, applied[applied.length - 1]?.sequence ?? fromCursor);
    return { fromCursor, cursor, applied, failure: { error } };
  }
}

/**
 * A publisher's own store brought up to its own events, in one pass, on the publish request
 * of a node whose store has an asynchronous catch-up besides it (a pure master: the republish
 * schedule's). Like `catchUp`, it applies in sequence order, the events in hand and what the
 * log holds before them; unlike it, it never waits and never chases:
 * - a sequence missing from the log (a concurrent publisher allocated it and has not written
 *   it yet, or died) ends the pass where it is: no wait for it, no closing of it as void;
 * - a commit that finds the cursor moved (a concurrent publish is applying the same events,
 *   or a resync holds the store) ends the pass too, with the cursor read again.
 * Under concurrent publishers the old catch-up made each request race the others for the
 * cursor (a lost compare-and-swap re-read the cursor and the objects and tried again; a
 * younger publisher's hole was polled for), about nine AWS calls of a burst publish's
 * thirteen. One pass costs at most the cursor read, the object read, a log read when the
 * store is behind, one commit and one cursor read after a lost commit. What it leaves is
 * applied by the next publish's pass or the asynchronous catch-up; `settled` says whether
 * the store reached `toSequence` (the publish answer's `appliedLocally`).
 */
export async function catchUpOnce(
  deps: ApplyDeps,
  context: NodeContext,
  toSequence: number,
  inHand: readonly DeliveredEvent[],
  options: {
    /**
     * Only when the store is right before the events in hand (its cursor one below the first):
     * for a store that a queue consumer of its own catches up (a pure master's, the
     * master-stores queue), the request then reads just the cursor when it is behind, and
     * leaves the log to that consumer instead of racing it.
     */
    readonly onlyWhenNext?: boolean;
    /**
     * With `onlyWhenNext`: first try to commit the events in hand as if the store were right
     * before them, without reading anything, when none of their objects needs reading (each
     * one's first event an add or a remove: `writeUnread`). The commit's compare-and-swap
     * checks the assumption: one call when it holds; when it does not, the cursor is read (as
     * without this option) after the failed commit. For a publisher whose store usually is right
     * before its events (a lone master publishing), not for one racing others.
     */
    readonly assumeNext?: boolean;
  } = {},
): Promise<CatchUpResult & { readonly settled: boolean }> {
  const first = inHand[0]?.sequence;
  let known: number | undefined;
  let refused = false;
  if (options.onlyWhenNext && first !== undefined) {
    const [only] = inHand;
    if (options.assumeNext && !deps.geoserver && inHand.length === 1 && only !== undefined && writableUnread(only)) {
      const attempt = new NodeApplier(deps, context, first - 1, true, true);
      const { applied, cursor } = await attempt.advanceTo(toSequence, new Map(inHand.map((event) => [event.sequence, event])));
      if (cursor !== HELD_CURSOR && cursor >= toSequence) return { fromCursor: first - 1, cursor, applied, settled: true };
      // The cursor read after a lost commit; none when the commit found an object that must be
      // read first (parked, newer, or with its properties in the body store): then as below.
      known = attempt.cursorFromStore();
      refused = attempt.unreadWasRefused();
    }
    known ??= await deps.store.readCursor(context.node);
    if (known !== first - 1) return { fromCursor: known, cursor: known, applied: [], settled: known !== HELD_CURSOR && known >= toSequence };
  }
  const applier = new NodeApplier(deps, context, known, true);
  if (refused) applier.refuseUnread();
  await applier.prefetch(applier.objectsToRead(inHand.slice(0, MAX_RUN_OBJECTS)));
  const fromCursor = await applier.cursor();
  if (fromCursor === HELD_CURSOR) return { fromCursor, cursor: fromCursor, applied: [], settled: false };
  const { applied, cursor } = await applier.advanceTo(toSequence, new Map(inHand.map((event) => [event.sequence, event])));
  return { fromCursor, cursor, applied, settled: cursor !== HELD_CURSOR && cursor >= toSequence };
}

/**
 * A delivered copy of an event (a queue's message read as one, compared with nothing) committed
 * to a store assumed right before it, with nothing read first, in one commit that holds only if
 * the event log's item at its sequence carries the copy's digest (`LogItemCheck`, as a consuming
 * node keeping up commits its deliveries: `checkInCommit`). What the master-stores consumer makes
 * of a lone change delivered to a store that took the one before it, instead of reading the log's
 * event to compare the copy with. Only on a store that `checksLog`, without a GeoServer, for a lone
 * add or remove in hand (`copyCheckable`); the commit's compare-and-swap checks the assumed cursor.
 * - `committed`: the copy is the log's event at its sequence, applied to the store;
 * - else nothing was applied: the store was not right before the copy (`cursor`, read after the
 *   lost commit), or the commit could not prove the copy the log's event (another item there, one
 *   without a digest, a void, a change set's chunk; an object that must be read first, parked or
 *   newer). The caller then compares the copy with the log's event before taking it.
 */
export async function commitCheckedCopy(
  deps: ApplyDeps,
  context: NodeContext,
  copy: DeliveredEvent,
  options: {
    /** The commit also checks that the node is not paused (only on a store that `checksPauses`): `paused` when it is, nothing applied. */
    readonly unlessPaused?: boolean;
  } = {},
): Promise<{ readonly committed?: AppliedEvent; readonly cursor?: number; readonly paused?: true }> {
  const applier = new NodeApplier(deps, context, copy.sequence - 1, true, true);
  const unlessPaused = options.unlessPaused === true;
  if (unlessPaused && deps.store.checksPauses !== true) throw new Error('commitCheckedCopy: unlessPaused on a store that checks no pause');
  if (!copyCheckable(deps, copy) || !applier.checkCopyInCommit(copy, unlessPaused)) return {};
  const { applied } = await applier.advanceTo(copy.sequence, new Map([[copy.sequence, copy]]));
  const [step] = applied;
  if (step?.sequence === copy.sequence) return { committed: step };
  if (applier.foundPaused()) return { paused: true };
  const cursor = applier.cursorFromStore();
  return cursor === undefined ? {} : { cursor };
}

/** Whether `commitCheckedCopy` can commit `copy` checking the log's item: a lone add or remove, inline, on a store that `checksLog`, without a GeoServer. */
export function copyCheckable(deps: Pick<ApplyDeps, 'store' | 'geoserver'>, copy: DeliveredEvent): boolean {
  return deps.store.checksLog === true && !deps.geoserver && writableUnread(copy);
}

/**
 * One applier per invocation: it remembers the cursor and the objects it has read, so a
 * batch costs one cursor read, one batched object read and one commit per event.
 */
class NodeApplier {
  /** `null`: known to be absent from the store. */
  private readonly objects = new Map<string, StoredObject | null>();
  /** By object key: whether the object has a parking record on this node. */
  private readonly parked = new Map<string, boolean>();
  private knownCursor: number | undefined;
  /** Every step this applier committed, in order (`progressSince`). */
  private readonly progress: AppliedEvent[] = [];
  /** Set once a commit of objects written unread was refused: read every object from then on. */
  private unreadRefused = false;
  /** Whether `knownCursor` came from the store (a read, a commit), not from the caller's assumption. */
  private cursorChecked: boolean;
  /** Set for the queue's deliveries (`fromQueue`): own events may be committed without REST calls. */
  private ownEventsInGeoServer = false;
  /** Object keys this applier sent REST calls for (`sendsToGeoServer`). */
  private readonly sentToGeoServer = new Set<string>();
  /**
   * Set for the queue's deliveries (`fromQueue`): the events in hand are copies anyone allowed to
   * send to the queue may have made, so every sequence is applied from the log's event, and each
   * copy is only compared with it (`differingFromLog`).
   */
  private checksInHand = false;
  /** With `checksInHand`: log events read or handed over (`knowLog`), by sequence, above the cursor. */
  private readonly logCopies = new Map<number, DeliveredEvent>();
  /** With `checksInHand`: each delivered copy that is not the log's event at its sequence, with why. */
  private readonly differing = new Map<DeliveredEvent, string>();
  /**
   * With `checksInHand`: delivered copies, by sequence, applied without reading the log's event, in
   * a commit that checks the log's item (`checkInCommit`); dropped once that fails.
   */
  private readonly toCheckInCommit = new Map<number, DeliveredEvent>();
  /** With `checkCopyInCommit`: that copy's commit also checks that the node is not paused (`StoreCommit.unlessPaused`). */
  private copyUnlessPaused = false;
  /** Whether a commit was refused because the node is paused. */
  private pausedSeen = false;

  constructor(
    private readonly deps: ApplyDeps,
    private readonly context: NodeContext,
    knownCursor?: number,
    /** One pass (`catchUpOnce`): stop at a missing sequence or a moved cursor instead of waiting or chasing. */
    private readonly once = false,
    /**
     * `knownCursor` is an assumption to try (`catchUpOnce`'s `assumeNext`): apply only what can
     * be written unread, in commits whose compare-and-swap checks it, and stop at anything else.
     */
    private readonly unreadOnly = false,
  ) {
    this.knownCursor = knownCursor;
    this.cursorChecked = !unreadOnly;
  }

  /**
   * This applier serves the node's queue: the node's own events are its GeoServer's already
   * (see the file's opening comment), so they are committed without REST calls unless
   * something sent to the GeoServer since may have undone them (`sendsToGeoServer`).
   */
  fromQueue(): this {
    this.ownEventsInGeoServer = true;
    this.checksInHand = true;
    return this;
  }

  /**
   * Log events read by the caller (`EventLog.readRange`, holes and all), which `advanceTo` takes
   * instead of reading them again: a batch's one Query serves both the comparison of its
   * messages with the log and the read ahead.
   */
  knowLog(events: readonly DeliveredEvent[]): void {
    if (!this.checksInHand) return;
    for (const event of events) this.logCopies.set(event.sequence, event);
  }

  /**
   * Delivered copies (`checkableInCommit`, on a store that `checksLog`) to apply without reading
   * the log: each is committed alone, on condition that the log's item at its sequence carries its
   * digest. When that fails (a forged copy, an item written before digests), or the copy cannot be
   * committed as it is (its object parked, its change refused), the log's event is read and
   * compared, and applied in the copy's place, as for any copy. Takes them all or none: only on
   * a store that `checksLog`, a node without a GeoServer, and every copy `checkableInCommit`;
   * answers whether it took them (the caller then reads nothing of the log for them).
   */
  checkInCommit(events: readonly DeliveredEvent[]): boolean {
    if (!this.checksInHand || !this.deps.store.checksLog || this.deps.geoserver || !events.every(checkableInCommit)) return false;
    for (const event of events) this.toCheckInCommit.set(event.sequence, event);
    return true;
  }

  /**
   * On an applier that takes its events in hand as they are (not `fromQueue`): `copy`, a delivered
   * copy nothing compared with the log, is committed only on condition that the log's item at its
   * sequence carries its digest, and never otherwise: a commit that cannot check it, or whose check
   * fails, ends the pass there (`commitCheckedCopy`). Only on a store that `checksLog`, a node
   * without a GeoServer, and for a copy `checkableInCommit`; answers whether it was taken.
   * `unlessPaused`: the commit also checks that the node is not paused (`NodeStore.checksPauses`).
   */
  checkCopyInCommit(copy: DeliveredEvent, unlessPaused: boolean): boolean {
    if (this.checksInHand || !this.deps.store.checksLog || this.deps.geoserver || !checkableInCommit(copy)) return false;
    this.toCheckInCommit.set(copy.sequence, copy);
    this.copyUnlessPaused = unlessPaused;
    return true;
  }

  /** Whether a commit found the node paused (`checkCopyInCommit` with `unlessPaused`). */
  foundPaused(): boolean {
    return this.pausedSeen;
  }

  /** Why a delivered copy was not the log's event at its sequence; undefined when it was, or was never compared. */
  differingFromLog(event: DeliveredEvent): string | undefined {
    return this.differing.get(event);
  }

  /** The events in hand by sequence: on the queue's applier all of them (each only compared with the log's), else `inHandOf`. */
  private inHand(events: readonly DeliveredEvent[]): Map<number, DeliveredEvent> {
    return this.checksInHand ? new Map(events.map((event) => [event.sequence, event])) : inHandOf(events);
  }

  /** Whether the event applied at `sequence` came as a delivered copy (the log's event when compared), rather than from the log alone. */
  private deliveredAt(inHand: ReadonlyMap<number, DeliveredEvent>, sequence: number): boolean {
    const delivered = inHand.get(sequence);
    return delivered !== undefined && !this.differing.has(delivered);
  }

  /** Compares a delivered copy (if any) with the log's event at its sequence, once (`differingFromLog`). */
  private compareWithLog(delivered: DeliveredEvent | undefined, logged: DeliveredEvent): void {
    if (delivered === undefined || delivered === logged || this.differing.has(delivered)) return;
    const reason = differenceFromLog(delivered, logged);
    if (reason !== undefined) this.differing.set(delivered, reason);
  }

  /**
   * The log's event at `sequence` (with `checksInHand`), from what the applier holds or else read
   * with what follows up to `wanted`, or undefined when the log lacks it (`readLog`). A page is
   * read again from `sequence` when it holds nothing after it, so a run is not cut at its end.
   */
  private async logEventAt(sequence: number, wanted: number): Promise<DeliveredEvent | undefined> {
    if (!this.logCopies.has(sequence) || (wanted > sequence && !this.logCopies.has(sequence + 1))) {
      for (const event of await this.readLog(sequence, wanted)) this.logCopies.set(event.sequence, event);
    }
    return this.logCopies.get(sequence);
  }

  /** Drops the log events at or below `cursor`: they are applied, and a catch-up of thousands must not hold them all. */
  private forgetLogThrough(cursor: number): void {
    for (const sequence of this.logCopies.keys()) if (sequence <= cursor) this.logCopies.delete(sequence);
  }

  /**
   * Whether `event` is sent to the node's GeoServer (on a node that has one). Another node's
   * event always is. An own event, on a queue's applier, only when the GeoServer's copy of its
   * object may lack it: a REST call sends the object's whole state as the store holds it, so a
   * call made after the gateway forwarded the own event (another master's earlier event, sent
   * while the node was behind) undid it there. That is so when the event's sequence is at or
   * below the log head read right after the object's last REST call (`sentThrough`: it was
   * allocated, so forwarded, before that read), or when this applier already sent the object
   * (every event it holds was committed, and so forwarded, before its REST calls).
   */
  private sendsToGeoServer(event: ConfigEvent, existing: StoredObject | undefined): boolean {
    if (!this.ownEventsInGeoServer || event.origin !== this.context.node) return true;
    return this.sentToGeoServer.has(objectStorageKey(event.object)) || (existing?.sentThrough ?? 0) >= event.sequence;
  }

  /** Whether a commit of an object written unread was refused (it must be read). */
  unreadWasRefused(): boolean {
    return this.unreadRefused;
  }

  /** Reads every object from now on (another applier's unread commit of them was refused). */
  refuseUnread(): void {
    this.unreadRefused = true;
  }

  /** The cursor as the store last showed it to this applier; none while only assumed. */
  cursorFromStore(): number | undefined {
    return this.cursorChecked ? this.knownCursor : undefined;
  }

  /**
   * Whether `event` may be applied without reading its object first: an add or a remove in
   * hand (its result is the same whatever the store held), on a node without a GeoServer
   * (whose REST calls need the object as it was), unless such a commit was refused already.
   * The commit then also checks what the read would have shown (`BatchCommit` `unread`).
   */
  private canWriteUnread(event: DeliveredEvent): boolean {
    return !this.deps.geoserver && !this.unreadRefused && writableUnread(event);
  }

  /** An event `applyNext` would apply without reading anything: written unread, object not read yet. */
  private readsNothing(event: DeliveredEvent): boolean {
    return event.object !== undefined && !this.objects.has(objectStorageKey(event.object)) && this.canWriteUnread(event);
  }

  /**
   * The objects of `events` to read before applying them: all of them, unless `events` is one
   * event that can be written unread. Only a lone event is: a run of several is committed in
   * one transaction (`applyRun`), where a parking check per object would halve the objects a
   * transaction takes, and one read of them all costs less than the second transaction.
   */
  objectsToRead(events: readonly DeliveredEvent[]): ObjectRef[] {
    const [only] = events;
    if (events.length === 1 && only !== undefined && this.canWriteUnread(only)) return [];
    return events.flatMap((event) => (event.object === undefined ? [] : [event.object]));
  }

  /** The cursor as this applier last read or committed it, if it did. */
  knownCursorValue(): number | undefined {
    return this.knownCursor;
  }

  async cursor(): Promise<number> {
    if (this.knownCursor === undefined) {
      this.knownCursor = await this.deps.store.readCursor(this.context.node);
      this.cursorChecked = true;
    }
    return this.knownCursor;
  }

  async prefetch(refs: readonly ObjectRef[]): Promise<void> {
    const wanted = new Map<string, ObjectRef>();
    for (const ref of refs) {
      const key = objectStorageKey(ref);
      if (!this.objects.has(key)) wanted.set(key, { type: ref.type, id: ref.id });
    }
    const pending = [...wanted.values()];
    for (let start = 0; start < pending.length; start += OBJECT_READ_BATCH) {
      const chunk = pending.slice(start, start + OBJECT_READ_BATCH);
      const found = await this.deps.store.readApplyState(
        this.context.node,
        chunk,
        chunk.map((ref) => parkingKey(ref, 0)),
        this.knownCursor === undefined,
      );
      for (const ref of chunk) {
        this.objects.set(objectStorageKey(ref), null);
        this.parked.set(objectStorageKey(ref), false);
      }
      for (const object of found.objects) this.objects.set(objectStorageKey(object), object);
      // Read with the objects: the first read of an invocation needs no read of its own.
      this.knownCursor ??= found.cursor;
      for (const record of found.parked) if (record.object) this.parked.set(objectStorageKey(record.object), true);
    }
  }

  private forget(ref: ObjectRef): void {
    this.objects.delete(objectStorageKey(ref));
    this.parked.delete(objectStorageKey(ref));
  }

  async deliver(event: DeliveredEvent): Promise<DeliveryResult> {
    const { node, cluster } = this.context;
    if (event.cluster !== cluster) throw new WrongClusterError(node, cluster, event.cluster, `Event ${event.sequence}`);
    const known = await this.cursor();
    switch (classifyDelivery(known, event).kind) {
      case 'duplicate':
        return { disposition: 'duplicate', sequence: event.sequence, applied: [], cursor: known };
      case 'next':
      case 'gap': {
        const { applied, cursor } = await this.advanceTo(event.sequence, this.inHand([event]));
        // A concurrent invocation may have applied it while this one filled the gap.
        const appliedHere = applied.some((step) => step.sequence === event.sequence);
        return { disposition: appliedHere ? 'applied' : 'duplicate', sequence: event.sequence, applied, cursor };
      }
    }
  }

  /**
   * Delivers consecutive events together: one `advanceTo` the last of
   * them, then a result per event, each listing the steps up to its own sequence that no
   * earlier result listed.
   */
  async deliverRun(events: readonly DeliveredEvent[]): Promise<DeliveryResult[]> {
    const { node, cluster } = this.context;
    for (const event of events) {
      if (event.cluster !== cluster) throw new WrongClusterError(node, cluster, event.cluster, `Event ${event.sequence}`);
    }
    const last = events[events.length - 1];
    if (last === undefined) return [];
    const before = await this.cursor();
    const { applied, cursor } = await this.advanceTo(last.sequence, this.inHand(events));
    return resultsOf(events, before, applied, cursor);
  }

  /** Where `progressSince` starts: the steps this applier has applied so far. */
  progressMark(): number {
    return this.progress.length;
  }

  /** Every step applied since `mark`, in order, including those of a call that then failed. */
  progressSince(mark: number): AppliedEvent[] {
    return this.progress.slice(mark);
  }

  /**
   * Moves the cursor to `target`, taking the events `inHand` for their own sequences (on the
   * queue's applier, the log's events there, each copy in hand compared with it) and every other
   * event from the log. Consecutive events that need nothing
   * but a store write and, on a GeoServer node, their REST calls (readable, their object not
   * parked) are committed together, up to `MAX_RUN` per transaction (`applyRun`); anything
   * else, or a run the store refuses, goes one event at a time (`applyNext`), with parking and
   * failure counting. When a commit finds the cursor moved (another invocation is applying the
   * same events), it re-reads the cursor and goes on from there.
   */
  async advanceTo(
    target: number,
    inHand: ReadonlyMap<number, DeliveredEvent> = new Map(),
    /** No event starts after this time (epoch ms): the cursor returned may then be below `target`. */
    until?: number,
  ): Promise<{ applied: AppliedEvent[]; cursor: number }> {
    const applied: AppliedEvent[] = [];
    const record = (...steps: AppliedEvent[]) => {
      applied.push(...steps);
      this.progress.push(...steps);
    };
    let fromLog: DeliveredEvent[] = [];
    let cursor = await this.cursor();
    if (this.checksInHand) this.forgetLogThrough(cursor);
    const nextInHand = (after: number) => {
      let next = Infinity;
      for (const sequence of inHand.keys()) if (sequence > after && sequence < next) next = sequence;
      return next;
    };
    while (cursor < target) {
      if (until !== undefined && Date.now() >= until) break;
      const sequence = cursor + 1;
      fromLog = fromLog.filter((candidate) => candidate.sequence >= sequence);
      if (this.checksInHand && this.logCopies.size > 2 * LOG_PAGE_SIZE) this.forgetLogThrough(cursor);
      // A copy to check in its commit, when the applier holds no log event there.
      const unchecked = !this.checksInHand || !this.logCopies.has(sequence) ? this.toCheckInCommit.get(sequence) : undefined;
      const logCheck: LogItemCheck | undefined =
        unchecked !== undefined && inHand.get(sequence) === unchecked ? { cluster: this.context.cluster, sequence, digest: eventDigest(unchecked) } : undefined;
      let event = logCheck ? unchecked : this.checksInHand ? await this.logEventAt(sequence, Math.min(target, sequence + LOG_PAGE_SIZE - 1)) : inHand.get(sequence);
      if (this.checksInHand && event === undefined) {
        if (this.once) break;
        throw new EventsMissingFromLogError(this.context.cluster, this.context.node, [sequence]);
      }
      if (event === undefined) {
        const wanted = Math.min(target, nextInHand(sequence) - 1, sequence + LOG_PAGE_SIZE - 1);
        // Read a page, or the next one when only this event is left of the last page (so a
        // run is not cut at a page boundary).
        if (fromLog[0]?.sequence !== sequence || (fromLog.length === 1 && wanted > sequence)) {
          fromLog = await this.readLog(sequence, wanted);
        }
        event = fromLog[0];
        // One pass leaves a missing sequence to the asynchronous catch-up.
        if (event === undefined && this.once) break;
        if (event === undefined) throw new EventsMissingFromLogError(this.context.cluster, this.context.node, [sequence]);
      }
      if (this.checksInHand && !logCheck) this.compareWithLog(inHand.get(sequence), event);
      // The events in hand right after this one, in order (none after a copy checked in its own commit).
      const run: DeliveredEvent[] = [event];
      const buffered = new Map(fromLog.map((candidate) => [candidate.sequence, candidate]));
      for (let next = sequence + 1; next <= target && run.length < MAX_RUN && !logCheck; next += 1) {
        const candidate = this.checksInHand ? this.logCopies.get(next) : (inHand.get(next) ?? buffered.get(next));
        if (candidate === undefined) break;
        if (this.checksInHand) this.compareWithLog(inHand.get(next), candidate);
        run.push(candidate);
      }
      if (run.length > 1) {
        const outcome = await this.applyRun(cursor, run, inHand);
        if (outcome === 'cursor-moved') {
          if (this.once) return { applied, cursor: await this.readCursorAgain() };
          cursor = await this.reReadCursor(cursor, sequence);
          continue;
        }
        const lastStep = outcome.steps[outcome.steps.length - 1];
        if (lastStep !== undefined) {
          record(...outcome.steps);
          cursor = lastStep.sequence;
        }
        if (outcome.failure) {
          // The GeoServer failed the event right after the committed prefix: counted, thrown
          // or parked as `applyNext` would, without calling the GeoServer a second time.
          const failing = outcome.failure.event;
          const step = await this.failed(cursor, failing, refOf(failing), outcome.failure.error, stepOf(failing, !this.deliveredAt(inHand, failing.sequence)));
          if (step === 'cursor-moved') {
            if (this.once) return { applied, cursor: await this.readCursorAgain() };
            cursor = await this.reReadCursor(cursor, failing.sequence);
            continue;
          }
          record(step);
          cursor = step.sequence;
          continue;
        }
        if (lastStep !== undefined) continue;
      }
      // An assumed cursor is never taken to read objects against: only unread commits check it.
      if (this.unreadOnly && !this.cursorChecked && !this.readsNothing(event)) break;
      const step = await this.applyNext(cursor, event, !this.deliveredAt(inHand, sequence), logCheck);
      if (step === 'log-differs') {
        // Not proved the log's event (`checkCopyInCommit`): the caller compares it with the log.
        if (!this.checksInHand) break;
        // Read the log's event at this sequence, compare the copy with it, and apply it.
        this.toCheckInCommit.delete(sequence);
        continue;
      }
      if (step === 'unread-refused') break;
      if (step === 'paused') {
        // Only a copy committed `unlessPaused` (`commitCheckedCopy`) is refused so.
        this.pausedSeen = true;
        break;
      }
      if (step === 'cursor-moved') {
        if (this.once) return { applied, cursor: await this.readCursorAgain() };
        cursor = await this.reReadCursor(cursor, sequence);
        continue;
      }
      record(step);
      cursor = sequence;
    }
    return { applied, cursor };
  }

  /** The cursor as it stands after a lost commit, for a pass that ends there (`once`). */
  private async readCursorAgain(): Promise<number> {
    this.knownCursor = undefined;
    return this.cursor();
  }

  private async reReadCursor(cursor: number, sequence: number): Promise<number> {
    this.knownCursor = undefined;
    const moved = await this.cursor();
    if (moved === cursor) throw new CursorContentionError(this.context.node, cursor, sequence);
    return moved;
  }

  /**
   * Applies the longest prefix of `run` (consecutive events from `cursor + 1`) that needs
   * nothing but store writes and GeoServer REST calls, in one `commitBatch`: each object
   * written once with its final state, the cursor moved to the prefix's last sequence.
   *
   * On a GeoServer node each event's REST calls are made first, in order, each from the state
   * the events before it in the run left (as `applyNext` would); then the one commit. So the
   * GeoServer has every event of the run before the cursor moves past any of them, and a crash
   * in between applies the run again (every REST call is idempotent, and each sends the state
   * after its event, so replaying the run from its start ends where it ended). A REST call that
   * fails ends the prefix before its event: the prefix is committed and the failure returned
   * for its event, which the caller counts, throws or parks exactly as `applyNext` would. No
   * REST call starts once the run has spent `GEOSERVER_RUN_BUDGET_MS`.
   *
   * Returns the steps applied (none when the first event needs the one-at-a-time path, or the
   * store refused the batch for a reason the one-at-a-time path reports precisely), or
   * `cursor-moved`.
   */
  private async applyRun(
    cursor: number,
    run: readonly DeliveredEvent[],
    inHand: ReadonlyMap<number, DeliveredEvent>,
  ): Promise<{ steps: AppliedEvent[]; failure?: { event: DeliveredEvent; error: unknown } } | 'cursor-moved'> {
    await this.prefetch(run.flatMap((event) => (event.object === undefined ? [] : [event.object])));
    const geoserver = this.deps.geoserver;
    const started = Date.now();
    const steps: AppliedEvent[] = [];
    /** Object key -> its final state in this run and the sequence of its first event in it. */
    const writes = new Map<string, { object: StoredObject; since: number; bytes: number }>();
    /** Keys of the objects this run sent to the GeoServer (`withSentThrough` before the commit). */
    const sentInRun = new Set<string>();
    const states = new Map<string, StoredObject | undefined>();
    let bytes = 0;
    let failure: { event: DeliveredEvent; error: unknown } | undefined;
    for (const event of run) {
      const base = { sequence: event.sequence, origin: event.origin, fromLog: !this.deliveredAt(inHand, event.sequence) };
      if (isVoided(event)) {
        steps.push({ ...base, effect: 'void' });
        continue;
      }
      if (isUnreadable(event)) break;
      const key = objectStorageKey(event.object);
      if (this.parked.get(key) !== false) break;
      let change: ObjectChange;
      let complete: ConfigEvent;
      let existing: StoredObject | undefined;
      try {
        complete = await resolveBody(this.deps.bodies, event);
        existing = states.has(key) ? states.get(key) : (this.objects.get(key) ?? undefined);
        change = applyChange(existing, complete);
      } catch {
        break; // the one-at-a-time path counts and reports it
      }
      // Measured once: the run's bound is checked with it before the event, and counts it after.
      // The commit writes each object's final state, so an object the run writes again counts
      // with its new size in place of its earlier one: one that grows can break the bound too.
      const size = change.object ? serializedBytes(change.object.properties) : 0;
      const earlier = writes.get(key);
      if (change.object && ((!earlier && writes.size >= MAX_RUN_OBJECTS) || bytes - (earlier?.bytes ?? 0) + size > MAX_RUN_BYTES)) break;
      let answer: GeoServerOutcome | undefined;
      if (geoserver && change.object !== undefined && this.sendsToGeoServer(complete, existing)) {
        if (steps.length > 0 && Date.now() - started >= (geoserver.runBudgetMs ?? GEOSERVER_RUN_BUDGET_MS)) break;
        this.sentToGeoServer.add(key);
        try {
          answer = await applyToGeoServerOrThrow(geoserver, complete, existing, change.object);
        } catch (error) {
          failure = { event, error };
          break;
        }
        sentInRun.add(key);
      }
      if (change.object) {
        bytes += size - (earlier?.bytes ?? 0);
        states.set(key, change.object);
        writes.set(key, { object: change.object, since: earlier?.since ?? event.sequence, bytes: size });
      }
      const step: AppliedEvent = { ...base, object: { type: event.object.type, id: event.object.id }, effect: change.effect };
      steps.push(answer === undefined ? step : { ...step, geoserver: answer });
    }
    const last = steps[steps.length - 1];
    // Without a GeoServer a single event takes the one-at-a-time path, which costs the same;
    // with one, its REST calls are made already.
    if (last === undefined || (steps.length < 2 && !geoserver)) return failure ? { steps: [], failure } : { steps: [] };
    // One read of the log's head after every REST call of the run serves each object it sent.
    const head = sentInRun.size > 0 ? await this.deps.log.head(this.context.cluster) : 0;
    for (const key of sentInRun) {
      const write = writes.get(key);
      if (write) writes.set(key, { ...write, object: withSentThrough(write.object, head) });
    }
    let outcome: CommitOutcome;
    try {
      outcome = await this.deps.store.commitBatch(this.context.node, {
        expectedCursor: cursor,
        sequence: last.sequence,
        objects: [...writes.values()].map(({ object, since }) => ({ object, since })),
      });
    } catch (error) {
      if (isTransientFailure(error)) throw error;
      return { steps: [] };
    }
    if (outcome === 'cursor-moved') return this.cursorMoved();
    if (outcome === 'object-moved') {
      for (const { object } of writes.values()) this.forget(object);
      return { steps: [] };
    }
    this.knownCursor = last.sequence;
    this.cursorChecked = true;
    for (const [key, { object }] of writes) this.objects.set(key, object);
    return failure ? { steps, failure } : { steps };
  }

  /**
   * With `logCheck` (`event` a delivered copy, not read from the log), the commit holds only if the
   * log's item carries the copy's digest; `log-differs` when it does not, and also, with nothing
   * written or counted, whenever the copy would not simply be committed (its object parked, its
   * change failing): the caller then reads the log's event and applies that.
   */
  private async applyNext(
    cursor: number,
    event: DeliveredEvent,
    fromLog: boolean,
    logCheck?: LogItemCheck,
  ): Promise<AppliedEvent | 'cursor-moved' | 'unread-refused' | 'log-differs' | 'paused'> {
    const ref = refOf(event);
    const step = stepOf(event, fromLog);
    let geoserver: GeoServerOutcome | undefined;
    if (logCheck && (this.deps.geoserver || !checkableInCommit(event))) return 'log-differs';
    for (let attempt = 1; ; attempt += 1) {
      // An add or a remove whose object was not read is written unread: the commit checks what
      // the read would have shown (no parking record, an older version, inline properties).
      const unread = this.readsNothing(event);
      if (ref && !unread) await this.prefetch([ref]);
      if (ref && !unread && this.parked.get(objectStorageKey(ref)) === true) {
        // Only the log's event is parked.
        if (logCheck) return 'log-differs';
        // An earlier event of this object is parked here: this one waits behind it.
        const outcome = await this.deps.store.park(this.context.node, {
          expectedCursor: cursor,
          sequence: event.sequence,
          key: parkingKey(ref, event.sequence),
          object: ref,
        });
        if (outcome === 'unparked') {
          // A redrive cleared the record meanwhile: read the object again and apply normally.
          this.forget(ref);
          if (attempt >= MAX_OBJECT_MOVED_RETRIES) throw new CursorContentionError(this.context.node, cursor, event.sequence);
          continue;
        }
        if (outcome === 'cursor-moved') return this.cursorMoved();
        this.knownCursor = event.sequence;
        return step('parked');
      }
      if (isVoided(event)) {
        // A hole closed in the log: nothing to apply, the cursor moves past it.
        const moved = await this.deps.store.commit(this.context.node, { expectedCursor: cursor, sequence: event.sequence });
        if (moved !== 'committed') return this.cursorMoved();
        this.knownCursor = event.sequence;
        return step('void');
      }
      let change: ObjectChange;
      let outcome: CheckedCommitOutcome;
      try {
        if (isUnreadable(event)) throw new InvalidConfigEventError([{ field: 'event', message: event.reason }]);
        const complete = await resolveBody(this.deps.bodies, event);
        const existing = unread ? undefined : (this.objects.get(objectStorageKey(complete.object)) ?? undefined);
        change = applyChange(existing, complete);
        if (unread && change.effect === 'created') change = { ...change, effect: 'written' };
        // The node's GeoServer first: if the commit never happens (crash, contention), the
        // event is applied again, and every GeoServer call is idempotent. A GeoServer that is
        // down throws a transient error (the queue retries it); a refusal parks the event.
        if (this.deps.geoserver && geoserver === undefined && change.object !== undefined && this.sendsToGeoServer(complete, existing)) {
          this.sentToGeoServer.add(objectStorageKey(complete.object));
          geoserver = await applyToGeoServerOrThrow(this.deps.geoserver, complete, existing, change.object);
        }
        if (geoserver !== undefined && change.object !== undefined) change = { ...change, object: withSentThrough(change.object, await this.deps.log.head(this.context.cluster)) };
        outcome = await this.deps.store.commit(this.context.node, {
          expectedCursor: cursor,
          sequence: complete.sequence,
          object: change.object,
          ...(unread ? { unread: true } : {}),
          ...(logCheck ? { logCheck } : {}),
          ...(logCheck && this.copyUnlessPaused ? { unlessPaused: true } : {}),
        });
      } catch (error) {
        // A copy's failure is never counted (it may be no event of the log): the log's event is read.
        // Reported, as a commit that fails for the check itself (a missing grant) would cost every delivery a read again.
        if (logCheck && !isTransientFailure(error)) {
          (this.deps.warn ?? consoleWarn)("a delivered copy's commit failed; applying the log's event instead", { node: this.context.node, sequence: event.sequence, error: describeFailure(error) });
          return 'log-differs';
        }
        return this.failed(cursor, event, ref, error, step);
      }
      if (outcome === 'log-differs' || outcome === 'paused') return outcome;
      if (outcome === 'object-moved') {
        // A bootstrap stored a newer version meanwhile, or (written unread) the object is parked
        // or has its properties in the body store: read it, and apply the event as usual.
        if (ref) this.forget(ref);
        if (unread) {
          this.unreadRefused = true;
          // Never read an object against an assumed cursor.
          if (this.unreadOnly && !this.cursorChecked) return 'unread-refused';
          continue;
        }
        if (attempt >= MAX_OBJECT_MOVED_RETRIES) throw new CursorContentionError(this.context.node, cursor, event.sequence);
        continue;
      }
      if (outcome === 'cursor-moved') return this.cursorMoved();
      this.knownCursor = event.sequence;
      this.cursorChecked = true;
      if (ref && unread) this.parked.set(objectStorageKey(ref), false);
      if (ref && change.object) this.objects.set(objectStorageKey(ref), change.object);
      return geoserver === undefined ? step(change.effect) : { ...step(change.effect), geoserver };
    }
  }

  private cursorMoved(): 'cursor-moved' {
    // What we read may be older than what the other invocation wrote.
    this.objects.clear();
    this.parked.clear();
    return 'cursor-moved';
  }

  /**
   * An attempt at `cursor + 1` failed: a transient failure is thrown as it is (the queue
   * retries it); any other is counted, thrown again while under `MAX_APPLY_ATTEMPTS`, and
   * then parks the event.
   */
  private async failed(
    cursor: number,
    event: DeliveredEvent,
    ref: ObjectRef | undefined,
    error: unknown,
    step: (effect: ObjectEffect) => AppliedEvent,
  ): Promise<AppliedEvent | 'cursor-moved'> {
    if (isTransientFailure(error)) throw error;
    const { node } = this.context;
    const reason = describeFailure(error);
    const at = (this.deps.now?.() ?? new Date()).toISOString();
    const attempts = await this.deps.store.recordFailure(node, cursor, { sequence: event.sequence, reason, at });
    if (attempts === 'cursor-moved') return this.cursorMoved();
    // A GeoServer refusal was already retried where it happened (geoserver/apply.ts).
    if (attempts < MAX_APPLY_ATTEMPTS && !(error instanceof GeoServerRejectedError)) throw error;
    const outcome = await this.deps.store.park(node, {
      expectedCursor: cursor,
      sequence: event.sequence,
      key: parkingKey(ref, event.sequence),
      ...(ref ? { object: ref } : {}),
      cause: { reason, attempts, parkedAt: at },
    });
    if (outcome === 'cursor-moved') return this.cursorMoved();
    if (outcome === 'unparked') throw new Error(`Node ${node}: the store answered "unparked" to the parking of event ${event.sequence}`);
    (this.deps.warn ?? consoleWarn)('event parked', { node, sequence: event.sequence, object: ref, attempts, reason });
    this.knownCursor = event.sequence;
    if (ref) this.parked.set(objectStorageKey(ref), true);
    if (error instanceof GeoServerRejectedError) return { ...step('parked'), geoserver: error.outcome };
    // Shown with the changes the GeoServer refused (GET /nodes), though it never answered this one.
    if (error instanceof GeoServerCallTimedOutError) return { ...step('parked'), geoserver: { ...error.outcome, attempts } };
    return step('parked');
  }

  /**
   * Log events `from..to`, which must start at `from`. A missing sequence below the head is a
   * hole: a publisher allocated it and has not written it yet (it usually follows within
   * milliseconds) or never will (it died). Young holes are waited for, up to
   * `HOLE_WAIT_MS` (then `EventsNotYetWrittenError`, transient: the queue retries); old ones
   * are closed as void by the log (`EventLog.closeHoles`) and read back as such. Anything else
   * missing was trimmed: the node must resync.
   */
  private async readLog(from: number, to: number): Promise<DeliveredEvent[]> {
    const { cluster, node } = this.context;
    const started = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      const events = (await this.deps.log.readRange(cluster, from, to)).filter(
        (event) => event.sequence >= from && event.sequence <= to,
      );
      const first = events[0];
      if (first?.sequence === from) return events;
      // One pass neither waits for a young hole nor closes an old one: the catch-up does.
      if (this.once) return [];
      const missingUpTo = first === undefined ? to : first.sequence - 1;
      const closing = await this.deps.log.closeHoles(cluster, from, missingUpTo);
      if (closing.voided > 0) continue;
      if (closing.waiting === 0) throw new EventsMissingFromLogError(cluster, node, range(from, missingUpTo));
      if (Date.now() - started > (this.deps.holeWaitMs ?? HOLE_WAIT_MS)) {
        throw new EventsNotYetWrittenError(cluster, node, range(from, missingUpTo));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 5 * 2 ** attempt)));
    }
  }
}

/** `object` as sent to the GeoServer: `sentThrough` the log head read after the call, never lowered. */
function withSentThrough(object: StoredObject, head: number): StoredObject {
  return { ...object, sentThrough: Math.max(head, object.sentThrough ?? 0) };
}

/** The complete event: an offloaded event's change fetched from the body store. */
export async function resolveBody(bodies: EventBodyStore, event: PublishedEvent): Promise<ConfigEvent> {
  if (!isOffloaded(event)) return event;
  const change = parseStoredChange(await bodies.get(event.bodyRef));
  if (
    change.kind !== event.kind ||
    change.object.type !== event.object.type ||
    change.object.id !== event.object.id
  ) {
    throw new InvalidConfigEventError([
      {
        field: 'bodyRef',
        message:
          `holds a ${change.kind} of ${change.object.type} ${change.object.id}, ` +
          `not the event's ${event.kind} of ${event.object.type} ${event.object.id}`,
      },
    ]);
  }
  const metadata: EventMetadata = {
    sequence: event.sequence,
    cluster: event.cluster,
    origin: event.origin,
    publishedAt: event.publishedAt,
  };
  return { ...metadata, ...change };
}

// ---------------------------------------------------------------------------------------------
// Parked events: failures, and the redrive that clears them

/** Error names of AWS and network failures that pass by themselves: retried, never counted. */
const TRANSIENT_ERROR_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'SlowDown',
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const TRANSIENT_CANCELLATION_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/**
 * Whether a failure may pass by itself (and so never counts toward parking): an error that
 * says so (`transient: true`; `transient: false` says the opposite, for callers that know
 * better), the SDK's retryable errors, throttling, server-side (5xx) and network failures, a
 * transaction cancelled only by conflicts or throttling. Everything else (an invalid event,
 * a refused write, an exhausted stack) would fail the same way again.
 */
export function isTransientFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as {
    name?: unknown;
    transient?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    CancellationReasons?: { Code?: string }[];
    cause?: unknown;
  };
  if (typeof candidate.transient === 'boolean') return candidate.transient;
  if (candidate.$retryable) return true;
  if ((candidate.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (typeof candidate.name === 'string' && TRANSIENT_ERROR_NAMES.has(candidate.name)) return true;
  if (candidate.name === 'TransactionCanceledException') {
    const codes = (candidate.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None').filter((code) => code !== 'None');
    return codes.length > 0 && codes.every((code) => TRANSIENT_CANCELLATION_CODES.has(code));
  }
  // fetch() rejects with a TypeError whose cause is the socket error.
  if (error instanceof TypeError && candidate.cause !== undefined) return true;
  return false;
}

/**
 * The reason recorded for a failure, which `GET /nodes` shows (and the console): the error's
 * name and message, without AWS resource names (`withoutArns`), which the function's log keeps.
 */
function describeFailure(error: unknown): string {
  const text = withoutArns(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  return text.length > MAX_REASON_LENGTH ? truncate(text, MAX_REASON_LENGTH - 1) : text;
}

export interface RetryParkedResult {
  /** Sequences applied (or found stale, or superseded by a later add or remove of their object) and removed from their records. */
  readonly cleared: readonly number[];
  /** Records that still hold events, with the reason of the last failure. */
  readonly stillParked: readonly ParkedObject[];
  /**
   * The deadline came before every record was retried: those not done are in `stillParked`
   * as they stand (a redrive goes on from there).
   */
  readonly more?: true;
}

/**
 * The redrive of a node's parked events: each record's sequences are read from the log and
 * applied to their object in order, each removed from the record as it commits. No step starts
 * after `deadline` (epoch ms): the answer then says `more`, and the next redrive goes on. A
 * record whose head fails again keeps it (with the new reason) and the rest behind it. Runs concurrently
 * with the node's applier: a follower parked meanwhile joins the record and is applied here
 * too; once the record is removed, the applier applies the object's events itself. Records
 * are retried oldest first (by their first sequence), so an object is retried after those it
 * was published after (a workspace before its stores).
 *
 * A head that fails again is dropped, with the changes right behind it, when a later change of
 * the object in the record makes them moot (`supersededByLaterChange`): modifies followed by an
 * add (an add carries the whole object, whatever it held), or adds and modifies followed by a
 * remove (which is then applied as usual). So a modify published before its object's add, which
 * a GeoServer refuses (its PUT finds no object, and a patch cannot create one), does not hold
 * the add; nor does an add a GeoServer now refuses (a layer group whose layers a later recursive
 * remove already took there, when a batch was sent again after its store write failed) hold
 * its object's removal.
 */
export async function retryParked(deps: ApplyDeps, context: NodeContext, deadline = Number.POSITIVE_INFINITY): Promise<RetryParkedResult> {
  const { store, log } = deps;
  const { node, cluster } = context;
  const cleared: number[] = [];
  const stillParked: ParkedObject[] = [];
  const records = (await store.listParked(node)).sort((a, b) => (a.sequences[0] ?? a.overflow?.from ?? 0) - (b.sequences[0] ?? b.overflow?.from ?? 0));
  for (const [index, listed] of records.entries()) {
    /** Records why the record stays (its head `head` failed again, or its refill when undefined), and lists it as it now stands. */
    const stays = async (head: number | undefined, error: unknown): Promise<void> => {
      await store.noteParkedFailure(node, listed.key, head, describeFailure(error));
      const fresh = await store.readParked(node, listed.key);
      if (fresh) stillParked.push(fresh);
    };
    let record: ParkedObject | undefined = listed;
    for (let rounds = 0; record !== undefined; rounds += 1) {
      const sequence = record.sequences[0];
      // An emptied record goes whatever the time: left in place, it would park the object's
      // next events behind it.
      if (sequence === undefined && record.overflow === undefined) {
        if (await store.removeParked(node, record.key)) break;
        record = await store.readParked(node, listed.key);
        continue;
      }
      if (Date.now() >= deadline || rounds >= MAX_REDRIVE_ROUNDS) {
        // Each step is committed: what is left is where the next redrive starts.
        const left = [record, ...(await Promise.all(records.slice(index + 1).map((later) => store.readParked(node, later.key))))];
        stillParked.push(...left.filter((candidate): candidate is ParkedObject => candidate !== undefined));
        return { cleared, stillParked, more: true };
      }
      if (sequence === undefined) {
        try {
          await refillParked(deps, context, record, deadline);
        } catch (error) {
          await stays(undefined, error);
          break;
        }
        record = await store.readParked(node, listed.key);
        continue;
      }
      let outcome: 'committed' | 'moved';
      try {
        const [event] = (await log.readRange(cluster, sequence, sequence)).filter((candidate) => candidate.sequence === sequence);
        if (event === undefined) throw new EventsMissingFromLogError(cluster, node, [sequence]);
        if (isVoided(event)) throw new InvalidConfigEventError([{ field: 'event', message: `sequence ${sequence} is void in the log` }]);
        if (isUnreadable(event)) throw new InvalidConfigEventError([{ field: 'event', message: event.reason }]);
        if (event.cluster !== cluster) throw new WrongClusterError(node, cluster, event.cluster, `Event ${sequence}`);
        const complete = await resolveBody(deps.bodies, event);
        const [existing] = await store.readObjects(node, [complete.object]);
        const change = applyChange(existing, complete);
        // A GeoServer node's parked events are retried by its apply function (which can
        // reach the GeoServer): the GeoServer first, as in the applier. Not an object that a
        // later remove with `recurse` of its container took (liveness.ts): the GeoServer removed
        // it with that container, as every other node did.
        const sent = deps.geoserver && change.object !== undefined ? change.object : undefined;
        const taken = sent !== undefined && !sent.deleted && (await new Liveness((refs) => store.readObjects(node, refs)).taken([sent]))[0] === true;
        if (deps.geoserver && sent !== undefined && !taken) {
          // Applied out of cursor order, a remove with `recurse` would take on the GeoServer what
          // the node applied inside its object after it (the object added again and filled), or
          // reset the layers and groups the node switched to a style of the same name after it,
          // which the node's store and the master keep: it stays parked, naming them, for a resync.
          if (complete.kind === 'remove' && complete.recurse === true && existing !== undefined && !existing.deleted) {
            const later =
              complete.object.type === 'style'
                ? await styleUsersAppliedAfter(store, node, complete.object.id, sequence)
                : await appliedInsideAfter(store, node, complete.object, sequence);
            if (later.length > 0) throw new RecursiveRemoveWouldTakeLaterObjectsError(node, sequence, complete.object, later);
          }
          await applyToGeoServerOrThrow(deps.geoserver, complete, existing, sent);
        }
        outcome = await store.applyParked(node, { key: record.key, sequence, ...(change.object ? { object: change.object } : {}) });
      } catch (error) {
        const moot = await supersededByLaterChange(log, context, record, deadline).catch((): number[] => []);
        if (moot.length > 0) {
          for (const superseded of moot) {
            if (Date.now() >= deadline || (await store.applyParked(node, { key: record.key, sequence: superseded })) !== 'committed') break;
            cleared.push(superseded);
          }
          record = await store.readParked(node, listed.key);
          continue;
        }
        // Cut short by the deadline, the look for a superseding change decided nothing: the next redrive tries again.
        if (Date.now() >= deadline) continue;
        await stays(sequence, error);
        break;
      }
      if (outcome === 'committed') cleared.push(sequence);
      record = await store.readParked(node, listed.key);
    }
  }
  return { cleared, stillParked };
}

/**
 * The objects the node holds inside `container` (a workspace, a store or a resource: what GeoServer's
 * recursive delete takes with it, `parentsOf` transitively) whose last event came after `sequence`.
 * Everything inside a container is named in its workspace (`ws:...`, or `ws` for its namespace and
 * settings), so only that range of each type that can be inside it is read.
 */
async function appliedInsideAfter(store: NodeStore, node: string, container: ObjectRef, sequence: number): Promise<ObjectRef[]> {
  const types: readonly ObjectType[] =
    container.type === 'workspace'
      ? [...CATALOG_OBJECT_TYPES.filter((type) => type !== 'workspace'), 'workspaceSettings', 'service']
      : isStoreType(container.type)
        ? [RESOURCE_OF[container.type], 'layer']
        : isResourceType(container.type)
          ? ['layer']
          : [];
  const workspace = container.type === 'workspace' ? container.id : splitObjectId(container.id).workspace;
  if (types.length === 0 || workspace === undefined) return [];
  const catalog = catalogInStore(store, node);
  const held = new Map<string, CatalogObject>();
  const hold = (object: CatalogObject | undefined) => object && held.set(objectStorageKey(object), object);
  if (container.type === 'workspace') {
    hold(await catalog.get('namespace', workspace));
    hold(await catalog.get('workspaceSettings', workspace));
  }
  for (const type of types) for (const object of await catalog.list(type, `${workspace}:`)) hold(object);
  const containerKey = objectStorageKey(container);
  const inside = (object: CatalogObject, depth: number): boolean =>
    depth <= 3 &&
    parentsOf(object).some((parent) => {
      const key = objectStorageKey(parent);
      const found = held.get(key);
      return key === containerKey || (found !== undefined && inside(found, depth + 1));
    });
  return [...held.values()]
    .filter((object) => object.lastSequence > sequence && inside(object, 0))
    .sort((a, b) => a.lastSequence - b.lastSequence)
    .map((object) => ({ type: object.type, id: object.id }));
}

/**
 * The layers and layer groups the node holds that name the style `styleId` (style-users.ts) and
 * whose last event came after `sequence`: what GeoServer's recursive style delete resets (a layer
 * to another default style and out of its style list, a group's entry and root layer style to
 * their layer's default) although the node applied them after the remove. Those taken by a
 * remove with `recurse` of something they live in are not on the GeoServer, and not named.
 */
async function styleUsersAppliedAfter(store: NodeStore, node: string, styleId: string, sequence: number): Promise<ObjectRef[]> {
  const later = (await styleUsersInStore(store, node).of(styleId)).filter((user) => user.lastSequence > sequence);
  const taken = await new Liveness((refs) => store.readObjects(node, refs)).taken(later);
  return later
    .filter((_, index) => !taken[index])
    .sort((a, b) => a.lastSequence - b.lastSequence)
    .map((object) => ({ type: object.type, id: object.id }));
}

/** Steps (an event applied, a refill) of one record in one redrive at most: past it, the redrive answers `more`. */
const MAX_REDRIVE_ROUNDS = 100_000;

/** Log sequences read at a time from a record's overflow (`EventLog.readRange` answers at most 100). */
const OVERFLOW_WINDOW = 100;
/** Log sequences of an overflow one pass reads at most (a refill then records how far it got). */
const OVERFLOW_SPAN = 10_000;

/**
 * Reads a record's overflow from the log, from `from` on, and hands `visit` each event of the
 * record's object in order, until `visit` answers false, the overflow ends, `OVERFLOW_SPAN`
 * sequences were read, or the deadline passed. Every sequence there is at or below the node's cursor, so each is in the
 * log (voids included) unless trimmed: a missing one throws (the node must resync).
 * @returns the first sequence not looked at
 */
async function scanOverflow(
  log: EventLog,
  context: NodeContext,
  record: ParkedObject,
  overflow: NonNullable<ParkedObject['overflow']>,
  deadline: number,
  visit: (event: DeliveredEvent) => boolean,
): Promise<number> {
  const { cluster, node } = context;
  let next = overflow.from;
  while (next <= overflow.through && next - overflow.from < OVERFLOW_SPAN && Date.now() < deadline) {
    const to = Math.min(overflow.through, next + OVERFLOW_WINDOW - 1);
    const events = (await log.readRange(cluster, next, to)).filter((event) => event.sequence >= next && event.sequence <= to);
    if (events.length !== to - next + 1) {
      const present = new Set(events.map((event) => event.sequence));
      const missing = Array.from({ length: to - next + 1 }, (_, index) => next + index).filter((candidate) => !present.has(candidate));
      throw new EventsMissingFromLogError(cluster, node, missing);
    }
    for (const event of events) {
      if (isVoided(event) || parkingKey(refOf(event), event.sequence) !== record.key) continue;
      if (!visit(event)) return event.sequence + 1;
    }
    next = to + 1;
  }
  return next;
}

/**
 * Moves the first events of a record's overflow into its emptied list: up to `PARKED_LIST_MAX`
 * of the object's events, read from the log (`scanOverflow`). A refill that loses its condition
 * (a follower joined the overflow) writes nothing; the caller reads the record again and refills
 * from there.
 */
async function refillParked(deps: ApplyDeps, context: NodeContext, record: ParkedObject, deadline: number): Promise<void> {
  const { overflow } = record;
  if (overflow === undefined) return;
  const found: number[] = [];
  const next = await scanOverflow(deps.log, context, record, overflow, deadline, (event) => found.push(event.sequence) < PARKED_LIST_MAX);
  await deps.store.refillParked(context.node, { key: record.key, from: overflow.from, through: overflow.through, sequences: found, next });
}

/**
 * The sequences at the head of a parked record that a later change of its object makes moot:
 * - modifies only, up to the first add: an add carries the whole object, whatever it held;
 * - adds and modifies, up to the first remove: the remove leaves nothing of what they wrote
 *   (the remove itself is not among them: it is still applied, and a GeoServer's DELETE that
 *   answers 404 counts as done).
 * Empty when a remove comes first (one with `recurse` may take other objects: it must still be
 * applied), something unreadable or void comes before the superseding change, none follows, or
 * the deadline passed before one was found. Past the listed sequences, the superseding change
 * may be in the overflow: read from the log (up to `OVERFLOW_SPAN` of it); only the listed
 * sequences are returned (the redrive refills the list and looks again).
 */
async function supersededByLaterChange(log: EventLog, context: NodeContext, record: ParkedObject, deadline: number): Promise<number[]> {
  const moot: number[] = [];
  /** Whether `moot` holds an add (then only a remove supersedes it). */
  let holdsAdd = false;
  /** What a change of the object says: it ends the run (`moot` superseded, or nothing), or joins it. */
  const judge = (event: DeliveredEvent | undefined): 'superseded' | 'undecided' | 'joins' => {
    if (event === undefined || isVoided(event) || isUnreadable(event)) return 'undecided';
    if (event.kind === 'remove') return 'superseded';
    if (event.kind === 'add' && !holdsAdd && moot.length > 0) return 'superseded';
    if (event.kind === 'add') holdsAdd = true;
    return 'joins';
  };
  for (const sequence of record.sequences) {
    if (Date.now() >= deadline) return [];
    const [event] = (await log.readRange(context.cluster, sequence, sequence)).filter((candidate) => candidate.sequence === sequence);
    const verdict = judge(event);
    if (verdict === 'superseded') return moot;
    if (verdict === 'undecided') return [];
    moot.push(sequence);
  }
  if (record.overflow === undefined) return [];
  // Read up to `OVERFLOW_SPAN` or the deadline without an end to the run: nothing decided.
  let superseded = false;
  await scanOverflow(log, context, record, record.overflow, deadline, (event) => {
    const verdict = judge(event);
    superseded = verdict === 'superseded';
    return verdict === 'joins';
  });
  return superseded ? moot : [];
}

/**
 * Applies an event's effect to the node's GeoServer; a refusal (after the retries the apply
 * makes) is thrown as `GeoServerRejectedError`, which parks the event at once.
 */
async function applyToGeoServerOrThrow(
  geoserver: NonNullable<ApplyDeps['geoserver']>,
  event: ConfigEvent,
  before: StoredObject | undefined,
  after: StoredObject,
): Promise<GeoServerOutcome> {
  const outcome = await applyToGeoServer(geoserver.rest, geoServerStep(event, before, after), geoserver.options);
  if (outcome.kind === 'rejected') throw new GeoServerRejectedError(geoserver.rest.url, outcome);
  return outcome;
}

/**
 * The properties a GeoServer holds once for a layer and its resource (LayerInfoImpl reads and writes
 * `enabled` and `advertised` on its resource): a change of either object sets them for both.
 */
export const SHARED_LAYER_FLAGS = ['enabled', 'advertised'] as const;

/** The GeoServer calls an event's effect on the store stands for. */
function geoServerStep(event: ConfigEvent, before: StoredObject | undefined, after: StoredObject): GeoServerStep {
  const { type, id } = event.object;
  if (after.deleted) {
    return {
      kind: 'remove',
      type,
      id,
      properties: before?.properties ?? {},
      recurse: event.kind === 'remove' && event.recurse === true,
      held: before !== undefined && !before.deleted,
    };
  }
  const live = before !== undefined && !before.deleted ? before.properties : {};
  // A resource the master moved to another store is still under the former one on this node's GeoServer.
  const storeOf = (properties: JsonObject) => {
    const name = referencedName(properties.store);
    return name === undefined ? undefined : localName(name);
  };
  const formerStore = isResourceType(type) ? storeOf(live) : undefined;
  const movedFrom = formerStore !== undefined && formerStore !== storeOf(after.properties) ? formerStore : undefined;
  // A layer's flags are its resource's on a GeoServer: a modify not stating them leaves them as the
  // GeoServer holds them (set last by the layer's or the resource's change), not as this object held them.
  const unstated =
    event.kind === 'modify' && (type === 'layer' || isResourceType(type)) ? SHARED_LAYER_FLAGS.filter((flag) => !Object.hasOwn(event.patch, flag)) : [];
  return {
    kind: 'upsert',
    type,
    id,
    properties: after.properties,
    ...(movedFrom === undefined ? {} : { formerStore: movedFrom }),
    ...(unstated.length === 0 ? {} : { unstated }),
    // Settings are only ever modified: the store never holds them whole, and they need not be.
    incomplete: after.incomplete && !isConfigurationType(type),
    deleted: event.kind === 'modify' ? deletedPaths(live, event.patch) : [],
  };
}

/**
 * A delivered copy that may be applied as it came in a commit checking the log's item
 * (`NodeApplier.checkInCommit`): an inline event (an offloaded one's body would be fetched by a
 * reference nothing has checked yet), neither void nor unreadable.
 */
function checkableInCommit(event: DeliveredEvent): boolean {
  return !isVoided(event) && !isUnreadable(event) && !isOffloaded(event);
}

/** An event whose result does not depend on its object's stored state: an add or a remove in hand. */
function writableUnread(event: DeliveredEvent): boolean {
  return !isVoided(event) && !isUnreadable(event) && !isOffloaded(event) && (event.kind === 'add' || event.kind === 'remove');
}

/**
 * Events in hand by sequence, to be applied for their sequences, but for one that cannot be read
 * (the log's event there is read and applied instead, parked when unreadable there too). For
 * events the caller read from the log or wrote to it; the queue's copies are only compared with
 * the log's (`NodeApplier.inHand`).
 */
function inHandOf(events: readonly DeliveredEvent[]): Map<number, DeliveredEvent> {
  return new Map(events.flatMap((event): [number, DeliveredEvent][] => (isUnreadable(event) ? [] : [[event.sequence, event]])));
}

/**
 * Why a delivered copy is not the log's event at its sequence (naming the first field that
 * differs), or undefined when it is that event. What is compared is the event as parsed (`parseEventMessage`,
 * as the log's items are): its JSON formatting (key order, spacing, escapes) does not count. An
 * offloaded event is compared as the message carries it, its `bodyRef` included: the log's event
 * names the one body its publisher stored (no body is ever stored twice under one reference), so
 * neither body is fetched to compare (one of up to 1 MiB, or a stranger's reference, is not
 * read for that), and the applier fetches the log's as it would have fetched the copy's.
 */
export function differenceFromLog(delivered: DeliveredEvent, logged: DeliveredEvent): string | undefined {
  const field = fieldDifferingFromLog(delivered, logged);
  return field === undefined
    ? undefined
    : `a message numbered ${delivered.sequence} differs from the log's event ${logged.sequence} (${field}): only the log's event is applied at that sequence`;
}

function fieldDifferingFromLog(delivered: DeliveredEvent, logged: DeliveredEvent): string | undefined {
  if (isDeepStrictEqual(delivered, logged)) return undefined;
  // As JSON values only: an adapter's objects may come with another prototype (another realm, a
  // structured clone), which is no difference of content.
  const copy = asJson(delivered);
  const original = asJson(logged);
  for (const field of new Set([...Object.keys(original), ...Object.keys(copy)])) {
    if (!isDeepStrictEqual(copy[field], original[field])) return field;
  }
  return undefined;
}

function asJson(event: DeliveredEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}

function refOf(event: DeliveredEvent): ObjectRef | undefined {
  return event.object === undefined ? undefined : { type: event.object.type, id: event.object.id };
}

/** The step an event's `effect` makes, as `AppliedEvent` reports it. */
function stepOf(event: DeliveredEvent, fromLog: boolean): (effect: ObjectEffect) => AppliedEvent {
  const ref = refOf(event);
  return (effect) => ({ sequence: event.sequence, origin: event.origin, ...(ref ? { object: ref } : {}), effect, fromLog });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}
