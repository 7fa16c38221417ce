/**
 * What configuration sync needs from storage and messaging, as interfaces. The DynamoDB,
 * SNS and S3 adapters implement them for AWS; `adapters/memory.ts` implements them in
 * memory for unit tests and the local runtime. Domain code depends only on these.
 */
import type { ConfigChange, ConfigEvent, DeliveredEvent, ObjectRef, ObjectType, OffloadedEvent, PublishedEvent } from './events';
import type { JsonObject } from './merge-patch';
import type { NodePauses } from './pause';

// ---------------------------------------------------------------------------------------------
// A node's store

/** One configuration object as a node's store holds it. */
export interface StoredObject extends ObjectRef {
  readonly properties: JsonObject;
  /**
   * Sequence of the last event applied to this object. An event at or below it changes
   * nothing, which is what makes replaying the log over a snapshot harmless.
   */
  readonly lastSequence: number;
  /** Node that published that last event, and when (copied from the event, so equal on every node). */
  readonly lastOrigin: string;
  readonly updatedAt: string;
  /**
   * Tombstone: the object was removed. Kept (with `lastSequence`) rather than deleted so a
   * stale event for it is still recognised as stale, also across a snapshot.
   */
  readonly deleted: boolean;
  /**
   * Created by a `modify` of an object this node never saw added (GeoServer's JMS module
   * dropped such events): it holds only the patched properties until an `add` replaces it.
   */
  readonly incomplete: boolean;
  /**
   * On a node with a GeoServer: the log's head as read right after the object's last REST call
   * there. An own event at or below it may have been forwarded to that GeoServer before the call,
   * which sent the object's state without it, so the queue's applier sends it again (apply.ts,
   * "Own events"). Kept from version to version; never shown by the API.
   */
  readonly sentThrough?: number;
  /**
   * The sequence of the latest `remove` with `recurse` of this object: what it contained and
   * last changed before then is gone with it, even once the object is added again
   * (liveness.ts). Kept from version to version; never shown by the API.
   */
  readonly cascadedAt?: number;
}

/** An object as the API shows it: without the store's own bookkeeping (`sentThrough`, `cascadedAt`). */
export function shownObject(object: StoredObject): StoredObject {
  if (object.sentThrough === undefined && object.cascadedAt === undefined) return object;
  const { sentThrough: _sent, cascadedAt: _cascaded, ...shown } = object;
  return shown;
}

/** One event's effect on a node's store, committed atomically. */
export interface StoreCommit {
  /** The commit happens only if the node's cursor still equals this (compare-and-swap). */
  readonly expectedCursor: number;
  /** The new cursor: the sequence of the event being applied, `expectedCursor + 1`. */
  readonly sequence: number;
  /**
   * The object's new state (a put, tombstones included), or absent when the event is stale
   * for its object and only the cursor moves.
   */
  readonly object?: StoredObject;
  /** `object` was not read first: as `BatchCommit`'s `unread`. */
  readonly unread?: boolean;
  /**
   * Commit only if the event log holds this event's item (`NodeStore.checksLog`): the applier
   * took a delivered copy for the log's event without reading the log, and the commit proves it
   * (else `log-differs`, nothing written).
   */
  readonly logCheck?: LogItemCheck;
  /**
   * Commit only if the node is not paused (`NodeStore.checksPauses`: its pause item absent), else
   * `paused`, nothing written: for a caller that would otherwise read the pause before the commit.
   */
  readonly unlessPaused?: boolean;
}

/**
 * The event log's item at `sequence` of `cluster` is a lone event whose content has `digest`
 * (`eventDigest`), as its publisher stored it. An item of a change set's chunk, a void, or one
 * written before items carried a digest fails the check.
 */
export interface LogItemCheck {
  readonly cluster: string;
  readonly sequence: number;
  readonly digest: string;
}

/** A run of consecutive events committed together (`NodeStore.commitBatch`). */
export interface BatchCommit {
  readonly expectedCursor: number;
  /** The new cursor: the run's last sequence. */
  readonly sequence: number;
  /**
   * Each object the run changes, once, in its final state, with the sequence of its first
   * event in the run: the store must hold an older version of it (or none).
   */
  readonly objects: readonly {
    readonly object: StoredObject;
    readonly since: number;
    /**
     * The caller wrote it without reading it first (its first event in the run is an add or a
     * remove, whose result does not depend on what the store held): the store must also find
     * no parking record of the object, no `cascadedAt` on its stored version (which a read would
     * have carried over) and (DynamoDB) no properties of that version in the body store, whose
     * removal needs the reference a read would have given; else `object-moved`, and the caller
     * reads it and applies it as usual.
     */
    readonly unread?: boolean;
  }[];
}

/**
 * `committed`: object written and cursor advanced. `cursor-moved`: the cursor was not
 * `expectedCursor` (another invocation applied events meanwhile); nothing was written.
 * `object-moved`: the store already holds a version of the object at or above
 * `commit.sequence` (a bootstrap wrote it while this event was being applied); nothing was
 * written, and the applier reads the object again, which makes the event stale for it.
 */
export type CommitOutcome = 'committed' | 'cursor-moved' | 'object-moved';

/**
 * `NodeStore.commit`'s outcome: also `log-differs` when its `logCheck` failed (the log's item is
 * not the event checked, or has no digest); nothing was written. A commit whose cursor or object
 * condition failed too answers `log-differs` all the same: the caller reads the log first. Then
 * `paused` when it was `unlessPaused` and the node is paused (whatever else failed but the log's
 * check); nothing was written.
 */
export type CheckedCommitOutcome = CommitOutcome | 'log-differs' | 'paused';

/**
 * Everything up to and including `sequence` is reflected in `objects`. A snapshot may be
 * read while its source keeps applying events, so some objects may already reflect later
 * events (`lastSequence > sequence`); the per-object guard skips those events on replay.
 */
export interface Snapshot {
  readonly cluster: string;
  readonly sourceNode: string;
  readonly sequence: number;
  /** Live objects and tombstones. */
  readonly objects: readonly StoredObject[];
}

export interface CatalogQuery {
  readonly type?: ObjectType;
  /** Tombstones are hidden unless asked for. */
  readonly includeDeleted?: boolean;
  readonly limit: number;
  /** `next` of the previous page. */
  readonly after?: string;
}

export interface CatalogPage {
  /** Ordered by `objectStorageKey`. */
  readonly objects: readonly StoredObject[];
  /** Present when more objects follow. */
  readonly next?: string;
}

// ---------------------------------------------------------------------------------------------
// Parking (see apply.ts): events a node could not apply, held back per object

/** The event at `cursor + 1` that keeps failing on this node, until it applies or is parked. */
export interface ApplyFailure {
  readonly sequence: number;
  /** Failed attempts so far (each delivery or gap fill that tried it). */
  readonly attempts: number;
  readonly reason: string;
  readonly at: string;
}

/** Progress of a node: its cursor and, if any, the event that is failing right after it. */
export interface NodeProgress {
  /** The last sequence applied to the store (held or not). */
  readonly cursor: number;
  readonly failing?: ApplyFailure;
  /**
   * The resync job that holds the node (`NodeStore.holdForResync`): while it copies a snapshot
   * into the store, and after it failed or stopped with the copy unfinished (`storeIncomplete`).
   */
  readonly heldBy?: string;
  /**
   * The store holds part of a resync's snapshot: a copy began and has not finished. The node
   * applies no events until a resync finishes (the hold does not lapse meanwhile).
   */
  readonly storeIncomplete?: boolean;
}

/**
 * What `NodeStore.readCursor` answers while a resync holds the node (`holdForResync`): above
 * every sequence, so the applier takes every event its queue delivers as a duplicate and
 * acknowledges it without applying it (its publishes on a `both` node likewise leave the store
 * alone). Nothing is lost: every delivered event is in the log, and the resync applies the log
 * after its snapshot once the snapshot is in. Without the hold, events applied between the
 * slices of a snapshot copy would be applied from the node's old cursor on top of objects the
 * copy has not reached yet (a new node would even replay the whole log, one gap fill at a time).
 */
export const HELD_CURSOR = Number.MAX_SAFE_INTEGER;

/** The most events one `EventLog.readRange` call is asked for. */
export const READ_RANGE_MAX = 100;

/** The stored events with `from <= sequence <= to`, ascending, read from `log` READ_RANGE_MAX at a time. */
export async function* eventsBetween(log: EventLog, cluster: string, from: number, to: number): AsyncGenerator<DeliveredEvent> {
  for (let start = from; start <= to; start += READ_RANGE_MAX) {
    yield* await log.readRange(cluster, start, Math.min(to, start + READ_RANGE_MAX - 1));
  }
}

/**
 * The parked events of one object on one node. The first sequence is the one that failed;
 * every later event of the same object was parked behind it (never applied over it), while
 * the node's cursor moved on and other objects kept changing.
 */
export interface ParkedObject {
  /** Store key of the parking record: `parkingKey(object)`, or one per sequence when the object is unknown. */
  readonly key: string;
  /** Absent when the parked event is unreadable and names no valid object. */
  readonly object?: ObjectRef;
  /**
   * Ascending, at most `PARKED_LIST_MAX`. Empty only while `overflow` holds later events (an
   * emptied record is removed).
   */
  readonly sequences: readonly number[];
  /**
   * Later events of the object, parked once `sequences` was full: every event of the object in
   * the log from `from` through `through` (all above `sequences`). A record listed every
   * sequence once, and a DynamoDB item holds 400 KB: some 80,000 of them, and the next park
   * failed, stopping the node. The redrive finds them in the log (`refillParked`).
   */
  readonly overflow?: { readonly from: number; readonly through: number };
  /** Why `sequences[0]` could not be applied (the last error), and after how many attempts. */
  readonly reason: string;
  readonly attempts: number;
  readonly parkedAt: string;
}

/** A parking record as `GET /nodes` and the redrive show it (`ParkedEvents` in the API). */
export function parkedView({ object, sequences, overflow, reason, attempts, parkedAt }: ParkedObject): Record<string, unknown> {
  return { object: object ?? null, sequences, ...(overflow ? { overflow } : {}), reason, attempts, parkedAt };
}

/**
 * A parking record's events in a line of text (the CLI's notes, a refused resync's message): the
 * first listed sequences, how many more, and the overflow's range.
 */
export function parkedEventsText(record: Pick<ParkedObject, 'sequences' | 'overflow'>, shown = 10): string {
  const { sequences, overflow } = record;
  const more = sequences.length - shown;
  // "event 6" alone, "events 6, 9" for more: a person reads "event(s)" as not knowing which.
  const listed = sequences.length === 0 ? [] : [`${sequences.length === 1 ? 'event' : 'events'} ${sequences.slice(0, shown).join(', ')}${more > 0 ? ` and ${more} more` : ''}`];
  const range = !overflow ? [] : [overflow.from === overflow.through ? `its event ${overflow.from}` : `its events from ${overflow.from} to ${overflow.through}`];
  return [...listed, ...range].join(', then ');
}

/** The most sequences a parking record lists; later ones are held as a range (`ParkedObject.overflow`). */
export const PARKED_LIST_MAX = 1_000;

/**
 * Moves the first events of a record's overflow into its emptied list (`NodeStore.refillParked`):
 * `sequences`, the object's events in the log from `from` up to `next - 1`. The overflow then
 * starts at `next`, or is gone when `next` is past `through`.
 */
export interface ParkedRefill {
  readonly key: string;
  readonly from: number;
  readonly through: number;
  readonly sequences: readonly number[];
  readonly next: number;
}

/**
 * Parks `sequence` on a node and moves its cursor past it, atomically. `cause` is present for
 * the event that failed (it creates the record or joins an existing one); absent for a later
 * event of an object that is already parked, which only joins an existing record.
 */
export interface ParkCommit {
  readonly expectedCursor: number;
  readonly sequence: number;
  readonly key: string;
  readonly object?: ObjectRef;
  readonly cause?: { readonly reason: string; readonly attempts: number; readonly parkedAt: string };
}

/** `unparked`: a follower's record was cleared meanwhile (a redrive); nothing was written. */
export type ParkOutcome = 'committed' | 'cursor-moved' | 'unparked';

/**
 * Applies the first parked sequence of a record out of cursor order (a redrive): writes
 * `object` (unless absent: the event is stale for it) and removes `sequence` from the head of
 * the record, atomically, on condition that it is still the head.
 */
export interface ParkedApply {
  readonly key: string;
  readonly sequence: number;
  readonly object?: StoredObject;
}

/**
 * Each node's current configuration objects, keyed by (node, type, id), and its cursor: the
 * sequence of the last event applied, 0 before the first. In DynamoDB: partition key the
 * node, sort key `objectStorageKey(object)`, and one cursor item per node.
 */
export interface NodeStore {
  /**
   * The sequence after which the node applies events: its cursor, or `HELD_CURSOR` while a
   * resync holds the node. `readApplyState` answers the same.
   */
  readCursor(node: string): Promise<number>;
  /** The cursor (held or not), the failing event after it, if any, and the resync holding the node, if any. */
  readProgress(node: string): Promise<NodeProgress>;
  /** The stored objects among `objects` (tombstones included); at most 100 at a time. */
  readObjects(node: string, objects: readonly ObjectRef[]): Promise<StoredObject[]>;
  /**
   * What the applier needs before applying events of `objects`: their stored states and the
   * parking records among `parkingKeys`, and with `withCursor` the node's cursor (an applier
   * that knows it already does not need it again); at most 49 objects at a time. Every object
   * and parking record answered is at least as new as the cursor answered (the applier applies
   * `cursor + 1` on top of them, and the cursor's compare-and-swap only catches objects that
   * are newer).
   */
  readApplyState(
    node: string,
    objects: readonly ObjectRef[],
    parkingKeys: readonly string[],
    withCursor: boolean,
  ): Promise<{ objects: StoredObject[]; parked: ParkedObject[]; cursor?: number }>;
  /**
   * Counts one more failed attempt at `failure.sequence`, which must be `expectedCursor + 1`
   * (a failure of another sequence restarts the count at 1).
   * @returns the attempts so far, or `cursor-moved` when the cursor is no longer `expectedCursor`
   */
  recordFailure(node: string, expectedCursor: number, failure: Omit<ApplyFailure, 'attempts'>): Promise<number | 'cursor-moved'>;
  /**
   * See `ParkCommit`. Clears the failure record when it parks the failing event. The sequence
   * joins the record's list while that lists fewer than `PARKED_LIST_MAX` and no overflow is
   * held, else the overflow (which then ends at it).
   */
  park(node: string, commit: ParkCommit): Promise<ParkOutcome>;
  /** Every parking record of the node, by key. */
  listParked(node: string): Promise<ParkedObject[]>;
  /** One parking record, if it exists. */
  readParked(node: string, key: string): Promise<ParkedObject | undefined>;
  /**
   * See `ParkedRefill`. On condition that the record's list is empty and its overflow still
   * starts at `from` (and, when the refill ends it, still ends at `through`: a follower may have
   * joined it meanwhile). `moved`: the condition failed; nothing was written.
   */
  refillParked(node: string, refill: ParkedRefill): Promise<'committed' | 'moved'>;
  /** See `ParkedApply`. `moved`: the record's head is no longer `sequence`; nothing was written. */
  applyParked(node: string, apply: ParkedApply): Promise<'committed' | 'moved'>;
  /**
   * A retry of the record's head `sequence` failed again, or (`sequence` undefined) a refill of
   * its emptied list from its overflow failed: records why, and counts the attempt, on condition
   * that the head is still `sequence` (or the list still empty).
   */
  noteParkedFailure(node: string, key: string, sequence: number | undefined, reason: string): Promise<void>;
  /** Removes an emptied record. @returns false when it is not empty (a follower joined, or an overflow is left) */
  removeParked(node: string, key: string): Promise<boolean>;
  /**
   * Writes `commit.object` (if any) and moves the cursor from `expectedCursor` to `sequence`,
   * atomically (one TransactWriteItems: the object put plus a cursor update conditioned on
   * the expected value). This condition is what makes application exactly once in effect
   * under concurrent invocations and redelivery. A store whose snapshot writes can race with
   * commits (DynamoDB) also conditions the object put on the stored version being older than
   * `commit.sequence`, and answers `object-moved` when it is not.
   */
  commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome>;
  /**
   * Whether `commit` takes a `logCheck`: the store's commit can check an item of the event log
   * (DynamoDB: a `ConditionCheck` on the log table in the commit's transaction). Without it, the
   * applier reads the log's event before the commit.
   */
  readonly checksLog?: boolean;
  /** Whether `commit` takes `unlessPaused`: the store holds its nodes' pauses (DynamoDB: the node's pause item, checked in the commit's transaction). */
  readonly checksPauses?: boolean;
  /**
   * Several consecutive events' effect at once: every object of `commit.objects` written
   * (each only over a version older than `since`, else `object-moved`) and the cursor moved
   * from `expectedCursor` to `sequence`, atomically (in DynamoDB one TransactWriteItems: at
   * most 99 objects and 4 MB, which the caller keeps to).
   */
  commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome>;
  /**
   * Makes the node's store equal to the snapshot: its objects written, every other object
   * deleted, its parking records and failure record removed (the snapshot holds their effect,
   * or the log after it replays them), and the cursor set to `snapshot.sequence`, last. Need not be atomic: an
   * interrupted bootstrap is simply run again.
   */
  replaceWithSnapshot(node: string, snapshot: Snapshot): Promise<void>;
  /** The node's objects and cursor as a snapshot (read the cursor before the objects). */
  readSnapshot(node: string, cluster: string): Promise<Snapshot>;

  // A resync in slices (job-runner.ts): `replaceWithSnapshot` in steps a job can checkpoint.
  /**
   * Holds the node for resync job `job` until `until` (epoch ms): `readCursor` answers
   * `HELD_CURSOR` meanwhile. Renewed by every step of the copy (`renewResyncHold`). `copying`: the job is about to
   * write the snapshot into the store, which is incomplete from then until `finishSnapshot`;
   * the hold then stays past `until`, whatever becomes of the job (a half-copied store must not
   * apply events from its old cursor: its objects are partly the snapshot's and a GeoServer
   * would never get them). Before the copy, a hold whose job stopped renewing it lapses.
   */
  holdForResync(node: string, job: string, until: number, copying?: boolean): Promise<void>;
  /**
   * `holdForResync`, only while the node's hold is job `job`'s (lapsed or not): false, writing
   * nothing, once it is not (a `finishSnapshot` ended it, or another resync took the node). The
   * copy's steps renew the hold with it, so a slice running late beside another of its job (two
   * requests resyncing a pure master at once) cannot hold a node again once the other has
   * finished the resync: its store would be left incomplete, applying nothing, after a resync
   * that succeeded.
   */
  renewResyncHold(node: string, job: string, until: number, copying: boolean): Promise<boolean>;
  /**
   * Ends job `job`'s hold (a failed resync), unless the store is incomplete (a copy began):
   * that hold stays until a resync finishes. Another job's hold stays.
   */
  releaseResyncHold(node: string, job: string): Promise<void>;
  /**
   * Writes objects of a snapshot: each replaces the stored version only if that is the same
   * or older (a later event applied meanwhile is kept), as `replaceWithSnapshot` writes them.
   */
  putSnapshotObjects(node: string, objects: readonly StoredObject[]): Promise<void>;
  /**
   * Deletes the node's objects among `objects` that the snapshot at `sequence` does not hold,
   * unless a later event than the snapshot wrote them (their stored `lastSequence` is above it).
   * @returns how many were deleted
   */
  removeUnlessNewer(node: string, objects: readonly ObjectRef[], sequence: number): Promise<number>;
  /**
   * The last step of a snapshot's replacement: the node's parking records replaced with
   * `parked` (the source's, as of the snapshot: none by default), the failure record removed,
   * and the cursor set to `sequence`, last, which also ends any hold and marks the store
   * complete.
   */
  finishSnapshot(node: string, sequence: number, parked?: readonly ParkedObject[]): Promise<void>;
  listObjects(node: string, query: CatalogQuery): Promise<CatalogPage>;
}

// ---------------------------------------------------------------------------------------------
// The event log

/** An event before the log gives it its sequence. */
export type EventDraft = WithoutSequence<ConfigEvent> | WithoutSequence<OffloadedEvent>;

/** `Omit` applied to each member of a union, so kind-specific fields survive. */
type WithoutSequence<T> = T extends unknown ? Omit<T, 'sequence'> : never;

/**
 * A publisher's precondition: the append is refused (`NodePausedError`, nothing stored) while
 * `unlessPaused` is paused. A log that can checks it in the append's own atomic write; any
 * other reads `pauses` before it allocates.
 */
export interface AppendGuard {
  readonly unlessPaused: string;
  readonly pauses: NodePauses;
}

/**
 * The cluster's durable, gap-free event log: the source of truth a node fills gaps from and
 * bootstraps from.
 */
export interface EventLog {
  /**
   * Gives the draft the next sequence of its cluster and stores it, in one atomic write
   * (counter update conditioned on its current value plus the event put), so a sequence is
   * never allocated without its event: the log has no holes. The event starts unpublished.
   */
  append(draft: EventDraft, claim?: IdempotencyClaim): Promise<PublishedEvent>;
  /**
   * A change set: gives the drafts (all of one cluster, at most `MAX_CHANGE_SET_ITEMS`) one
   * contiguous range of sequences, in order, and stores them all or none. The allocation
   * takes no retry under contention (one atomic counter increment); the write of the range
   * is the commit point. A range whose write never happens (the publisher died in between)
   * is a hole that `closeHoles` fills with void sequences once it is old enough; a write that
   * finds its range already voided fails with nothing stored. Every error known to leave
   * nothing stored is marked so (`appendStoredNothing`).
   */
  appendAll(drafts: readonly EventDraft[], claim?: IdempotencyClaim, guard?: AppendGuard): Promise<PublishedEvent[]>;
  /**
   * Closes the holes among `from..to` (sequences allocated but never written) whose
   * allocation is older than the log's grace period, by storing them as void; younger holes
   * are left to their publisher. Safe against a publisher still writing: exactly one of its
   * write and the void succeeds.
   * @returns how many sequences were voided, and how many are holes still too young to void
   */
  closeHoles(cluster: string, from: number, to: number): Promise<HoleClosing>;
  /**
   * Records the answer given to the request that made `claim` (after the commit, so it may be
   * missing if the function died in between).
   */
  saveIdempotentAnswer(cluster: string, node: string, key: string, answer: string): Promise<void>;
  /**
   * The live claim of `claim`'s key by an earlier request of its node (one not expired at
   * `claim.createdAt`, as the append judges it), or undefined: whether an append with `claim`
   * would be refused as a retry (`IdempotencyKeyTakenError`).
   */
  readIdempotencyClaim(cluster: string, claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined>;
  /**
   * The stored events with `from <= sequence <= to`, ascending; the caller asks at most
   * READ_RANGE_MAX (`eventsBetween` pages a longer range). An item that is not a valid event
   * comes back as an `UnreadableEvent` in its place.
   */
  readRange(cluster: string, from: number, to: number): Promise<DeliveredEvent[]>;
  /** The highest sequence of the cluster, 0 when the log is empty. */
  head(cluster: string): Promise<number>;
  /**
   * The highest sequence up to `head` that holds an event (readable or not), 0 when none does:
   * the sequences above it are voids or allocated and never written, with nothing for a node to
   * apply. A node whose cursor is there has applied everything; it moves past them with the next
   * event. What a node's lag counts to.
   */
  lastEvent(cluster: string, head: number): Promise<number>;
  /** Marks the events `from..to` (default: `from` alone) published. */
  markPublished(cluster: string, from: number, to?: number): Promise<void>;
  /** The oldest events not yet marked published, ascending, at most `limit`. */
  listUnpublished(cluster: string, limit: number): Promise<PublishedEvent[]>;
}

/** The errors an append threw knowing it stored nothing (`appendStoredNothing`). */
const storedNothing = new WeakSet<object>();

/**
 * Marks `error`, thrown by an append, as one after which the log holds none of the append's
 * events, nor ever will (refused before any write, a transaction cancelled, a range voided
 * first), and returns it. A publisher may then remove what it stored for the append alone
 * (publish.ts: the bodies put in S3 for it). An error not marked (a commit that timed out, or
 * failed in a way that may follow a write) may have committed: what the append refers to stays.
 */
export function appendStoredNothing<E>(error: E): E {
  if (typeof error === 'object' && error !== null) storedNothing.add(error);
  return error;
}

/** Whether an append's error was marked `appendStoredNothing`. */
export function isAppendStoredNothing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && storedNothing.has(error);
}

export interface HoleClosing {
  readonly voided: number;
  /** Allocated, unwritten sequences younger than the grace period: their publisher may still write them. */
  readonly waiting: number;
}

/**
 * An `Idempotency-Key` claimed in the same transaction as the append it answers: the key,
 * scoped to the publishing node, with the hash of the request body, until `expiresAt`.
 */
export interface IdempotencyClaim {
  readonly node: string;
  readonly key: string;
  readonly bodyHash: string;
  /** Epoch seconds; an expired claim no longer binds its key. */
  readonly expiresAt: number;
  readonly createdAt: string;
  /** How many events the claiming request committed (a change set's size, derived events included). @default 1 */
  readonly count?: number;
  /**
   * The offsets in the committed range of the events the publish path derived (a layer's or
   * resource's partner taking its flags, layer-flags.ts), so that an answer rebuilt from the log
   * lists them as the first answer did. @default none
   */
  readonly derived?: readonly number[];
}

/** What an earlier request with the same key committed. */
export interface IdempotencyRecord extends IdempotencyClaim {
  readonly sequence: number;
  /** The answer's JSON body, once recorded. */
  readonly answer?: string;
}

// ---------------------------------------------------------------------------------------------
// Large event bodies

/** Where changes too large for a message go (S3 in AWS). */
export interface EventBodyStore {
  /**
   * Stores the change and returns the reference an `OffloadedEvent` carries: a new reference on
   * every call (never one handed out before, so no two appends ever share a body).
   */
  put(cluster: string, change: ConfigChange): Promise<string>;
  /** The stored body, unparsed: the domain validates it like any other input. */
  get(bodyRef: string): Promise<unknown>;
  /**
   * Removes a body no event refers to: one stored for an append that stored nothing
   * (`appendStoredNothing`). Removing a body that is not there is no error.
   */
  delete(bodyRef: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The topic

/**
 * The SNS FIFO topic. The adapter sends the event as the message body with
 * `messageGroupId(event.cluster)`, `deduplicationId(event)` and the `origin` attribute.
 */
export interface EventTopic {
  publish(event: PublishedEvent): Promise<void>;
  /**
   * Publishes the events in order (SNS `PublishBatch`, 10 per call, one call after the other so
   * the message group keeps their order). Throws if any was refused; a resend is harmless.
   */
  publishBatch(events: readonly PublishedEvent[]): Promise<void>;
}
