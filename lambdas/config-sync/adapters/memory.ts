/**
 * In-memory implementations of the configuration-sync ports, for unit tests and the local
 * runtime. They keep the contracts the AWS adapters keep (compare-and-swap commits, a
 * gap-free log, opaque body references) and copy values in and out, so a caller mutating
 * what it passed or got back cannot change stored state, as with a real database.
 */
import { eventDigest, isVoided, objectStorageKey, parkingKey, parseDeliveredEvent, type ConfigChange, type DeliveredEvent, type ObjectRef, type PublishedEvent, type UnreadableEvent, type VoidedEvent } from '../events';
import { IdempotencyKeyTakenError } from '../errors';
import { NodePausedError } from '../pause';
import type { DriftEntry } from '../geoserver/drift';
import { cancelledError, isFinal, keepsWaitingCapture, replacedStaleError, STALE_AFTER_MS, staleFollowError, type CancelOutcome, type FollowOutcome, type Job, type JobStore, type StartOutcome } from '../jobs';
import type { AcquireOptions, LeaseAttempt, LeaseStore, WriteIntent } from '../gateway/write-lease';
import type {
  AppendGuard,
  BatchCommit,
  ApplyFailure,
  IdempotencyClaim,
  IdempotencyRecord,
  CatalogPage,
  CatalogQuery,
  CheckedCommitOutcome,
  CommitOutcome,
  LogItemCheck,
  NodeProgress,
  ParkCommit,
  ParkedApply,
  ParkedObject,
  ParkedRefill,
  ParkOutcome,
  EventBodyStore,
  EventDraft,
  EventLog,
  EventTopic,
  HoleClosing,
  NodeStore,
  Snapshot,
  StoreCommit,
  StoredObject,
} from '../ports';
import { appendStoredNothing, HELD_CURSOR, PARKED_LIST_MAX } from '../ports';

interface NodeState {
  cursor: number;
  failing?: ApplyFailure;
  /** A resync's hold (`holdForResync`): the job, until when (epoch ms), and whether its copy began. */
  hold?: { readonly job: string; readonly until: number; readonly incomplete?: boolean };
  readonly objects: Map<string, StoredObject>;
  readonly parked: Map<string, ParkedObject>;
}

export class MemoryNodeStore implements NodeStore {
  private readonly nodes = new Map<string, NodeState>();
  /** With a log: `commit` takes a `logCheck`, checked against it (as DynamoNodeStore with `logTableName`). */
  readonly checksLog: boolean;
  /** With `paused` (whether a node is paused, as its pause item says): `commit` takes `unlessPaused`, as DynamoNodeStore's does. */
  readonly checksPauses: boolean;

  constructor(private readonly options: { readonly log?: MemoryEventLog; readonly paused?: (node: string) => boolean } = {}) {
    this.checksLog = options.log !== undefined;
    this.checksPauses = options.paused !== undefined;
  }
  /** Object keys whose writes this store refuses, per node (a test's stand-in for a refused write). */
  private readonly refusedWrites = new Map<string, Set<string>>();

  async readCursor(node: string): Promise<number> {
    return this.appliedAfter(this.state(node));
  }

  /** What `readCursor` answers. */
  private appliedAfter(state: NodeState): number {
    return this.heldBy(state) === undefined ? state.cursor : HELD_CURSOR;
  }

  async readProgress(node: string): Promise<NodeProgress> {
    const state = this.state(node);
    const { cursor, failing } = state;
    const job = this.heldBy(state);
    const held = job === undefined ? {} : { heldBy: job, ...(state.hold?.incomplete === true ? { storeIncomplete: true } : {}) };
    return failing && failing.sequence > cursor ? { cursor, failing: { ...failing }, ...held } : { cursor, ...held };
  }

  private heldBy(state: NodeState): string | undefined {
    return state.hold && (state.hold.incomplete === true || state.hold.until > Date.now()) ? state.hold.job : undefined;
  }

  async holdForResync(node: string, job: string, until: number, copying = false): Promise<void> {
    const state = this.state(node);
    state.hold = { job, until, ...(copying || state.hold?.incomplete === true ? { incomplete: true } : {}) };
  }

  async renewResyncHold(node: string, job: string, until: number, copying: boolean): Promise<boolean> {
    if (this.state(node).hold?.job !== job) return false;
    await this.holdForResync(node, job, until, copying);
    return true;
  }

  async releaseResyncHold(node: string, job: string): Promise<void> {
    const state = this.state(node);
    if (state.hold?.job === job && state.hold.incomplete !== true) delete state.hold;
  }

  async putSnapshotObjects(node: string, objects: readonly StoredObject[]): Promise<void> {
    const state = this.state(node);
    for (const object of objects) {
      this.assertWritable(node, object);
      const key = objectStorageKey(object);
      const stored = state.objects.get(key);
      if (!stored || stored.lastSequence <= object.lastSequence) state.objects.set(key, structuredClone(object));
    }
  }

  async removeUnlessNewer(node: string, objects: readonly ObjectRef[], sequence: number): Promise<number> {
    const state = this.state(node);
    let removed = 0;
    for (const object of objects) {
      const key = objectStorageKey(object);
      const stored = state.objects.get(key);
      if (stored && stored.lastSequence <= sequence) {
        state.objects.delete(key);
        removed += 1;
      }
    }
    return removed;
  }

  async finishSnapshot(node: string, sequence: number, parked: readonly ParkedObject[] = []): Promise<void> {
    const state = this.state(node);
    state.parked.clear();
    for (const record of parked) state.parked.set(record.key, structuredClone(record));
    delete state.failing;
    delete state.hold;
    state.cursor = sequence;
  }

  async readApplyState(
    node: string,
    objects: readonly ObjectRef[],
    parkingKeys: readonly string[],
    withCursor: boolean,
  ): Promise<{ objects: StoredObject[]; parked: ParkedObject[]; cursor?: number }> {
    const { parked } = this.state(node);
    return {
      ...(withCursor ? { cursor: this.appliedAfter(this.state(node)) } : {}),
      objects: await this.readObjects(node, objects),
      parked: parkingKeys.flatMap((key) => {
        const record = parked.get(key);
        return record ? [structuredClone(record)] : [];
      }),
    };
  }

  async recordFailure(node: string, expectedCursor: number, failure: Omit<ApplyFailure, 'attempts'>): Promise<number | 'cursor-moved'> {
    const state = this.state(node);
    if (state.cursor !== expectedCursor) return 'cursor-moved';
    const attempts = state.failing?.sequence === failure.sequence ? state.failing.attempts + 1 : 1;
    state.failing = { ...failure, attempts };
    return attempts;
  }

  async park(node: string, commit: ParkCommit): Promise<ParkOutcome> {
    const state = this.state(node);
    if (state.cursor !== commit.expectedCursor || this.heldBy(state) !== undefined) return 'cursor-moved';
    const existing = state.parked.get(commit.key);
    if (!existing && !commit.cause) return 'unparked';
    const listed = existing !== undefined && existing.overflow === undefined && existing.sequences.length < PARKED_LIST_MAX;
    const record: ParkedObject = existing
      ? listed
        ? { ...existing, sequences: [...existing.sequences, commit.sequence] }
        : { ...existing, overflow: { from: existing.overflow?.from ?? commit.sequence, through: commit.sequence } }
      : {
          key: commit.key,
          ...(commit.object ? { object: { ...commit.object } } : {}),
          sequences: [commit.sequence],
          reason: commit.cause!.reason,
          attempts: commit.cause!.attempts,
          parkedAt: commit.cause!.parkedAt,
        };
    state.parked.set(commit.key, record);
    state.cursor = commit.sequence;
    if (commit.cause) delete state.failing;
    return 'committed';
  }

  async listParked(node: string): Promise<ParkedObject[]> {
    return [...this.state(node).parked.values()]
      .sort((a, b) => compareStrings(a.key, b.key))
      .map((record) => structuredClone(record));
  }

  async readParked(node: string, key: string): Promise<ParkedObject | undefined> {
    const record = this.state(node).parked.get(key);
    return record === undefined ? undefined : structuredClone(record);
  }

  async refillParked(node: string, refill: ParkedRefill): Promise<'committed' | 'moved'> {
    const { parked } = this.state(node);
    const record = parked.get(refill.key);
    const overflow = record?.overflow;
    if (!record || !overflow || record.sequences.length > 0 || overflow.from !== refill.from) return 'moved';
    if (refill.next > refill.through && overflow.through !== refill.through) return 'moved';
    const { overflow: _ended, ...rest } = record;
    parked.set(
      refill.key,
      refill.next > refill.through
        ? { ...rest, sequences: [...refill.sequences] }
        : { ...record, sequences: [...refill.sequences], overflow: { from: refill.next, through: overflow.through } },
    );
    return 'committed';
  }

  async applyParked(node: string, apply: ParkedApply): Promise<'committed' | 'moved'> {
    const state = this.state(node);
    const record = state.parked.get(apply.key);
    if (!record || record.sequences[0] !== apply.sequence) return 'moved';
    if (apply.object) {
      this.assertWritable(node, apply.object);
      const key = objectStorageKey(apply.object);
      const stored = state.objects.get(key);
      if (!stored || stored.lastSequence < apply.object.lastSequence) state.objects.set(key, structuredClone(apply.object));
    }
    state.parked.set(apply.key, { ...record, sequences: record.sequences.slice(1) });
    return 'committed';
  }

  async noteParkedFailure(node: string, key: string, sequence: number | undefined, reason: string): Promise<void> {
    const record = this.state(node).parked.get(key);
    if (record && record.sequences[0] === sequence && (sequence !== undefined || record.overflow !== undefined)) {
      this.state(node).parked.set(key, { ...record, reason, attempts: record.attempts + 1 });
    }
  }

  async removeParked(node: string, key: string): Promise<boolean> {
    const { parked } = this.state(node);
    const record = parked.get(key);
    if (record && (record.sequences.length > 0 || record.overflow !== undefined)) return false;
    parked.delete(key);
    return true;
  }

  /** Tests: the store refuses every write of this object on this node (or stops refusing). */
  refuseWrites(node: string, object: ObjectRef, refuse = true): void {
    const keys = this.refusedWrites.get(node) ?? new Set<string>();
    if (refuse) keys.add(objectStorageKey(object));
    else keys.delete(objectStorageKey(object));
    this.refusedWrites.set(node, keys);
  }

  private assertWritable(node: string, object: ObjectRef): void {
    if (this.refusedWrites.get(node)?.has(objectStorageKey(object))) {
      throw Object.assign(new Error(`Writes of ${objectStorageKey(object)} on node ${node} are refused`), { name: 'AccessDeniedException' });
    }
  }

  async readObjects(node: string, objects: readonly ObjectRef[]): Promise<StoredObject[]> {
    const { objects: stored } = this.state(node);
    return objects.flatMap((ref) => {
      const object = stored.get(objectStorageKey(ref));
      return object ? [structuredClone(object)] : [];
    });
  }

  async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
    if (commit.logCheck && !this.logHolds(commit.logCheck)) return 'log-differs';
    if (commit.unlessPaused) {
      if (!this.options.paused) throw new Error('This memory store checks no pause: it was made without `paused`');
      if (this.options.paused(node)) return 'paused';
    }
    const state = this.state(node);
    if (state.cursor !== commit.expectedCursor || this.heldBy(state) !== undefined) return 'cursor-moved';
    if (commit.sequence !== commit.expectedCursor + 1) {
      throw new Error(`commit must advance the cursor by one (from ${commit.expectedCursor} to ${commit.sequence})`);
    }
    if (commit.object) {
      this.assertWritable(node, commit.object);
      if (commit.unread) {
        const stored = state.objects.get(objectStorageKey(commit.object));
        if (stored && (stored.lastSequence >= commit.object.lastSequence || stored.cascadedAt !== undefined)) return 'object-moved';
        if (state.parked.has(parkingKey(commit.object, 0))) return 'object-moved';
      }
      state.objects.set(objectStorageKey(commit.object), structuredClone(commit.object));
    }
    state.cursor = commit.sequence;
    return 'committed';
  }

  private logHolds(check: LogItemCheck): boolean {
    const { log } = this.options;
    if (!log) throw new Error('This store checks no log item: it was made without a log');
    return log.itemDigest(check.cluster, check.sequence) === check.digest;
  }

  async commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome> {
    const state = this.state(node);
    if (state.cursor !== commit.expectedCursor || this.heldBy(state) !== undefined) return 'cursor-moved';
    for (const { object, since, unread } of commit.objects) {
      this.assertWritable(node, object);
      const stored = state.objects.get(objectStorageKey(object));
      if (stored && stored.lastSequence >= since) return 'object-moved';
      if (unread && (state.parked.has(parkingKey(object, 0)) || stored?.cascadedAt !== undefined)) return 'object-moved';
    }
    for (const { object } of commit.objects) state.objects.set(objectStorageKey(object), structuredClone(object));
    state.cursor = commit.sequence;
    return 'committed';
  }

  async replaceWithSnapshot(node: string, snapshot: Snapshot): Promise<void> {
    this.nodes.set(node, {
      cursor: snapshot.sequence,
      objects: new Map(snapshot.objects.map((object) => [objectStorageKey(object), structuredClone(object)])),
      parked: new Map(),
    });
  }

  async readSnapshot(node: string, cluster: string): Promise<Snapshot> {
    // The stored cursor, held or not: the objects reflect it whatever the node applies now.
    const { cursor, objects } = this.state(node);
    const copies = sortedByKey([...objects.values()]).map((object) => structuredClone(object));
    return { cluster, sourceNode: node, sequence: cursor, objects: copies };
  }

  async listObjects(node: string, query: CatalogQuery): Promise<CatalogPage> {
    const matching = sortedByKey([...this.state(node).objects.values()]).filter(
      (object) =>
        (query.type === undefined || object.type === query.type) &&
        (query.includeDeleted === true || !object.deleted) &&
        (query.after === undefined || objectStorageKey(object) > query.after),
    );
    const page = matching.slice(0, query.limit).map((object) => structuredClone(object));
    const last = page[page.length - 1];
    return matching.length > page.length && last ? { objects: page, next: objectStorageKey(last) } : { objects: page };
  }

  /** Test and local-runtime view: the node's live objects (no tombstones), ordered by key. */
  liveObjects(node: string): StoredObject[] {
    return sortedByKey([...this.state(node).objects.values()].filter((object) => !object.deleted)).map((o) =>
      structuredClone(o),
    );
  }

  /** Test and local-runtime view: every object, tombstones included, ordered by key. */
  allObjects(node: string): StoredObject[] {
    return sortedByKey([...this.state(node).objects.values()]).map((o) => structuredClone(o));
  }

  private state(node: string): NodeState {
    let state = this.nodes.get(node);
    if (!state) {
      state = { cursor: 0, objects: new Map(), parked: new Map() };
      this.nodes.set(node, state);
    }
    return state;
  }
}

interface ClusterLog {
  /** Index = sequence; `undefined` below the retention floor or in a hole. */
  readonly events: (PublishedEvent | UnreadableEvent | VoidedEvent | undefined)[];
  readonly unpublished: Set<number>;
  /** Allocated, never written (a publisher that died between allocation and commit). */
  readonly holes: Set<number>;
  /** The digest (`eventDigest`) of each lone event appended, as DynamoEventLog stores it on its item. */
  readonly digests: Map<number, string>;
}

/** Where MemoryEventLog keeps the claim of an `Idempotency-Key`. */
const claimId = (cluster: string, claim: Pick<IdempotencyClaim, 'node' | 'key'>): string => `${cluster}\n${claim.node}\n${claim.key}`;

export class MemoryEventLog implements EventLog {
  private readonly clusters = new Map<string, ClusterLog>();

  private readonly claims = new Map<string, IdempotencyRecord>();

  async readIdempotencyClaim(cluster: string, claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    return this.liveClaim(cluster, claim);
  }

  private liveClaim(cluster: string, claim: IdempotencyClaim): IdempotencyRecord | undefined {
    const existing = this.claims.get(claimId(cluster, claim));
    return existing && existing.expiresAt >= Math.floor(Date.parse(claim.createdAt) / 1000) ? { ...existing } : undefined;
  }

  async append(draft: EventDraft, claim?: IdempotencyClaim): Promise<PublishedEvent> {
    const [event] = await this.appendAll([draft], claim);
    return event as PublishedEvent;
  }

  async appendAll(drafts: readonly EventDraft[], claim?: IdempotencyClaim, guard?: AppendGuard): Promise<PublishedEvent[]> {
    // Every refusal comes before the write, which cannot fail part way.
    return this.appendOrRefuse(drafts, claim, guard).catch((error: unknown) => Promise.reject(appendStoredNothing(error)));
  }

  private async appendOrRefuse(drafts: readonly EventDraft[], claim?: IdempotencyClaim, guard?: AppendGuard): Promise<PublishedEvent[]> {
    const cluster = drafts[0]?.cluster;
    if (cluster === undefined) return [];
    // In DynamoEventLog's order: a retry of a committed request is answered as it was (its
    // key taken) even when the node has been paused since; only then does a pause refuse.
    if (claim) {
      const existing = await this.readIdempotencyClaim(cluster, claim);
      if (existing) throw new IdempotencyKeyTakenError(existing);
    }
    if (guard) {
      const paused = await guard.pauses.read(guard.unlessPaused);
      if (paused) throw new NodePausedError(guard.unlessPaused, paused);
    }
    // Checked again where the write happens, with no await in between, as DynamoDB's commit
    // checks the claim's condition: two first attempts that both read the key free above must
    // not both commit.
    const taken = claim ? this.liveClaim(cluster, claim) : undefined;
    if (taken) throw new IdempotencyKeyTakenError(taken);
    const log = this.log(cluster);
    const first = log.events.length;
    if (claim) this.claims.set(claimId(cluster, claim), { ...claim, sequence: first });
    const events = drafts.map((draft, index): PublishedEvent => ({ ...structuredClone(draft), sequence: first + index }) as PublishedEvent);
    for (const event of events) {
      log.events.push(event);
      log.unpublished.add(event.sequence);
    }
    // As DynamoEventLog: the item of a lone event carries its digest, as read back (parsed from its JSON).
    const [lone] = events;
    if (events.length === 1 && lone) log.digests.set(lone.sequence, eventDigest(parseDeliveredEvent(JSON.parse(JSON.stringify(lone)))));
    return structuredClone(events);
  }

  /** The digest the log's item at `sequence` carries: none for a void, a trimmed or missing event, or one `appendAsLogged` wrote. */
  itemDigest(cluster: string, sequence: number): string | undefined {
    const log = this.log(cluster);
    const event = log.events[sequence];
    return event === undefined || isVoided(event) ? undefined : log.digests.get(sequence);
  }

  /**
   * Simulates an item an older version or a hand edit left in the log, at the next sequence:
   * `body` with that sequence, read back as DynamoEventLog reads an item (`parseDeliveredEvent`),
   * so one that is not a valid event comes back unreadable in its place.
   */
  appendAsLogged(cluster: string, body: Record<string, unknown>): DeliveredEvent {
    const log = this.log(cluster);
    const event = parseDeliveredEvent({ ...body, cluster, sequence: log.events.length });
    if (isVoided(event)) throw new Error('appendAsLogged writes events, not voids');
    log.events.push(event);
    return structuredClone(event);
  }

  /** Simulates a publisher that died after allocating `count` sequences: a hole in the log. */
  abandonAllocation(cluster: string, count: number): number[] {
    const log = this.log(cluster);
    const sequences: number[] = [];
    for (let index = 0; index < count; index += 1) {
      sequences.push(log.events.length);
      log.holes.add(log.events.length);
      log.events.push(undefined);
    }
    return sequences;
  }

  /** Memory holes are closed at once: no publisher can still be writing them. */
  async closeHoles(cluster: string, from: number, to: number): Promise<HoleClosing> {
    const log = this.log(cluster);
    let voided = 0;
    for (let sequence = Math.max(1, from); sequence <= Math.min(to, log.events.length - 1); sequence += 1) {
      if (!log.holes.delete(sequence)) continue;
      log.events[sequence] = { sequence, cluster, origin: 'log', publishedAt: new Date(0).toISOString(), voided: true };
      voided += 1;
    }
    return { voided, waiting: 0 };
  }

  async saveIdempotentAnswer(cluster: string, node: string, key: string, answer: string): Promise<void> {
    const id = claimId(cluster, { node, key });
    const existing = this.claims.get(id);
    if (existing) this.claims.set(id, { ...existing, answer });
  }

  async readRange(cluster: string, from: number, to: number): Promise<DeliveredEvent[]> {
    return this.log(cluster)
      .events.slice(Math.max(1, from), to + 1)
      .flatMap((event) => (event ? [structuredClone(event)] : []));
  }

  async head(cluster: string): Promise<number> {
    return this.log(cluster).events.length - 1;
  }

  async lastEvent(cluster: string, head: number): Promise<number> {
    const { events } = this.log(cluster);
    for (let sequence = Math.min(head, events.length - 1); sequence >= 1; sequence -= 1) {
      const event = events[sequence];
      if (event && !('voided' in event)) return sequence;
    }
    return 0;
  }

  async markPublished(cluster: string, from: number, to = from): Promise<void> {
    for (let sequence = from; sequence <= to; sequence += 1) this.log(cluster).unpublished.delete(sequence);
  }

  async listUnpublished(cluster: string, limit: number): Promise<PublishedEvent[]> {
    const log = this.log(cluster);
    return [...log.unpublished]
      .sort((a, b) => a - b)
      .slice(0, limit)
      .flatMap((sequence) => {
        const event = log.events[sequence];
        return event && !('voided' in event) && !('unreadable' in event) ? [structuredClone(event)] : [];
      });
  }

  /** Simulates retention: forgets events up to and including `sequence`. */
  trimThrough(cluster: string, sequence: number): void {
    const { events, unpublished } = this.log(cluster);
    for (let index = 1; index <= Math.min(sequence, events.length - 1); index += 1) {
      events[index] = undefined;
      unpublished.delete(index);
    }
  }

  private log(cluster: string): ClusterLog {
    let log = this.clusters.get(cluster);
    if (!log) {
      // Index 0 is a placeholder so that `events[sequence]` is the event: sequences start at 1.
      log = { events: [undefined], unpublished: new Set(), holes: new Set(), digests: new Map() };
      this.clusters.set(cluster, log);
    }
    return log;
  }
}

/** Keeps bodies as JSON text, as S3 would, and hands out opaque references. */
export class MemoryEventBodyStore implements EventBodyStore {
  private readonly bodies = new Map<string, string>();
  /** Bodies ever stored: a reference is never handed out twice, even after a delete. */
  private stored = 0;

  async put(cluster: string, change: ConfigChange): Promise<string> {
    this.stored += 1;
    const bodyRef = `memory://${cluster}/bodies/${this.stored}.json`;
    this.bodies.set(bodyRef, JSON.stringify(change));
    return bodyRef;
  }

  async delete(bodyRef: string): Promise<void> {
    this.bodies.delete(bodyRef);
  }

  async get(bodyRef: string): Promise<unknown> {
    const text = this.bodies.get(bodyRef);
    if (text === undefined) throw new Error(`No event body at ${bodyRef}`);
    return JSON.parse(text);
  }

  get size(): number {
    return this.bodies.size;
  }
}

/** Receives one message: the event's JSON text (raw delivery), and its `origin` attribute. */
export type TopicListener = (message: string, origin: string) => void;

/**
 * The topic, fanning out synchronously to its listeners (tests and the local runtime put
 * their queues behind it). `failNextPublishes` makes the next publishes throw, to exercise
 * recovery.
 */
export class MemoryEventTopic implements EventTopic {
  readonly published: PublishedEvent[] = [];
  private readonly listeners: TopicListener[] = [];
  private failuresToInject = 0;

  async publish(event: PublishedEvent): Promise<void> {
    if (this.failuresToInject > 0) {
      this.failuresToInject -= 1;
      throw new Error(`Injected publish failure for event ${event.sequence}`);
    }
    this.published.push(structuredClone(event));
    const message = JSON.stringify(event);
    for (const listener of this.listeners) listener(message, event.origin);
  }

  subscribe(listener: TopicListener): void {
    this.listeners.push(listener);
  }

  async publishBatch(events: readonly PublishedEvent[]): Promise<void> {
    for (const event of events) await this.publish(event);
  }

  failNextPublishes(count: number): void {
    this.failuresToInject = count;
  }
}

function sortedByKey(objects: StoredObject[]): StoredObject[] {
  return objects.sort((a, b) => compareStrings(objectStorageKey(a), objectStorageKey(b)));
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** A node's job lock, as the DynamoDB adapter's lock item. */
interface JobLock {
  active?: string;
  last?: string;
  lastScan?: string;
  heartbeat: number;
  next?: string;
  promotedFrom?: string;
}

/** Jobs in memory, with the DynamoDB adapter's lock rules (one running job per node, replaced only when stale). */
export class MemoryJobStore implements JobStore {
  /**
   * @param holds the node store whose resync holds a cancel of a resync gives back (`cancel`), as
   * DynamoJobStore's does on the node store table's cursor item. Without it, a resync is not cancelled.
   */
  constructor(private readonly holds?: Pick<NodeStore, 'readProgress' | 'releaseResyncHold'>) {}

  private readonly jobs = new Map<string, Job>();
  private readonly locks = new Map<string, JobLock>();
  private readonly differences = new Map<string, Map<number, DriftEntry[]>>();

  async start(job: Job, now: Date): Promise<StartOutcome> {
    const lock = this.locks.get(job.node);
    if (lock?.active !== undefined && lock.heartbeat >= now.getTime() - STALE_AFTER_MS) {
      return { started: false, active: structuredClone(this.jobs.get(`${job.node}/${lock.active}`)!) };
    }
    this.assertNewId(job);
    // The capture waiting to follow a replaced job follows `job` instead, or is failed and the next job cleared (jobs.ts, `keepsWaitingCapture`).
    const waiting = lock?.next === undefined ? undefined : this.jobs.get(`${job.node}/${lock.next}`);
    const keepWaiting = waiting?.state === 'queued' && keepsWaitingCapture(job.kind);
    if (waiting && !isFinal(waiting.state) && !keepWaiting) {
      const at = now.toISOString();
      this.jobs.set(`${job.node}/${waiting.id}`, { ...waiting, state: 'failed', updatedAt: at, finishedAt: at, error: staleFollowError(job.node, lock?.active, job) });
    }
    // The stale job itself ends failed, naming its replacement (jobs.ts, `replacedStaleError`).
    const replaced = lock?.active === undefined ? undefined : this.jobs.get(`${job.node}/${lock.active}`);
    if (replaced && !isFinal(replaced.state)) {
      const at = now.toISOString();
      this.jobs.set(`${job.node}/${replaced.id}`, { ...replaced, state: 'failed', updatedAt: at, finishedAt: at, error: replacedStaleError(job) });
    }
    const { next: _next, promotedFrom: _promotedFrom, ...kept } = lock ?? { heartbeat: 0 };
    this.locks.set(job.node, {
      ...kept,
      ...(keepWaiting ? { next: waiting.id } : {}),
      active: job.id,
      last: job.id,
      lastScan: job.kind === 'resync' ? lock?.lastScan : job.id,
      heartbeat: now.getTime(),
    });
    this.jobs.set(`${job.node}/${job.id}`, structuredClone(job));
    return { started: true };
  }

  async follow(job: Job, now: Date): Promise<FollowOutcome> {
    const started = await this.start(job, now);
    if (started.started) return { outcome: 'started' };
    const lock = this.locks.get(job.node)!;
    // A next job whose record is gone or that has ended waits for nothing: `job` takes its place.
    const waiting = lock.next === undefined ? undefined : this.jobs.get(`${job.node}/${lock.next}`);
    if (waiting?.state === 'queued') return { outcome: 'covered', by: structuredClone(waiting) };
    if (started.active.kind === 'capture' && started.active.state === 'queued') return { outcome: 'covered', by: started.active };
    this.assertNewId(job);
    lock.next = job.id;
    this.jobs.set(`${job.node}/${job.id}`, structuredClone(job));
    return { outcome: 'queued', after: started.active };
  }

  /** As the DynamoDB store refuses a job id its node already has (its put is conditioned on the id being new). */
  private assertNewId(job: Job): void {
    if (this.jobs.has(`${job.node}/${job.id}`)) throw new Error(`node ${job.node} already has a job ${job.id}: a job id is never reused`);
  }

  async successor(node: string, id: string): Promise<Job | undefined> {
    const lock = this.locks.get(node);
    if (lock?.promotedFrom !== id || lock.active === undefined) return undefined;
    const job = this.jobs.get(`${node}/${lock.active}`);
    return job && job.state === 'queued' && job.slices === 0 ? structuredClone(job) : undefined;
  }

  async follower(node: string, id: string): Promise<Job | undefined> {
    const lock = this.locks.get(node);
    if (lock?.active !== id || lock.next === undefined) return undefined;
    const job = this.jobs.get(`${node}/${lock.next}`);
    return job && !isFinal(job.state) ? structuredClone(job) : undefined;
  }

  async read(node: string, id: string): Promise<Job | undefined> {
    const job = this.jobs.get(`${node}/${id}`);
    return job && structuredClone(job);
  }

  async latest(node: string): Promise<Job | undefined> {
    const id = this.locks.get(node)?.last;
    return id === undefined ? undefined : this.read(node, id);
  }

  async latestScan(node: string): Promise<Job | undefined> {
    const id = this.locks.get(node)?.lastScan;
    return id === undefined ? undefined : this.read(node, id);
  }

  async save(job: Job): Promise<'saved' | 'superseded'> {
    const lock = this.locks.get(job.node);
    if (lock?.active !== job.id) return 'superseded';
    if (isFinal(job.state)) this.endActive(job.node, lock, job.id, Date.parse(job.updatedAt));
    else lock.heartbeat = Date.parse(job.updatedAt);
    this.jobs.set(`${job.node}/${job.id}`, structuredClone(job));
    return 'saved';
  }

  /**
   * Ends the lock's job `id` (a final save, a cancel): hands the node to the job waiting in `next`
   * unless that one has ended or its record is gone, else releases it; `next` is cleared either
   * way. Returns the job handed the node.
   */
  private endActive(node: string, lock: JobLock, id: string, at: number): Job | undefined {
    const waiting = lock.next === undefined ? undefined : this.jobs.get(`${node}/${lock.next}`);
    const handed = waiting !== undefined && !isFinal(waiting.state) ? waiting : undefined;
    if (handed) Object.assign(lock, { active: handed.id, last: handed.id, lastScan: handed.id, heartbeat: at, promotedFrom: id });
    else delete lock.active;
    delete lock.next;
    return handed;
  }

  async cancel(node: string, id: string, by: string, now: Date): Promise<CancelOutcome> {
    const job = this.jobs.get(`${node}/${id}`);
    if (!job) return { outcome: 'not-found' };
    if (job.state === 'cancelled') return { outcome: 'cancelled', job: structuredClone(job), again: true };
    if (isFinal(job.state)) return { outcome: 'ended', job: structuredClone(job) };
    const held = this.locks.get(node);
    if (held?.next === id && held.active !== undefined) return { outcome: 'waiting', job: structuredClone(job), after: held.active };
    if (job.kind === 'resync') {
      if (!this.holds) throw new Error('MemoryJobStore: a resync is cancelled only with the node store holding it (new MemoryJobStore(store))');
      const progress = await this.holds.readProgress(node);
      if (progress.heldBy === id && progress.storeIncomplete === true) return { outcome: 'copying', job: structuredClone(job) };
      await this.holds.releaseResyncHold(node, id);
    }
    const lock = this.locks.get(node);
    let successor: Job | undefined;
    if (lock?.active === id) {
      const handed = this.endActive(node, lock, id, now.getTime());
      if (handed?.state === 'queued' && handed.slices === 0) successor = structuredClone(handed);
    }
    const at = now.toISOString();
    const cancelled: Job = { ...job, state: 'cancelled', updatedAt: at, finishedAt: at, error: cancelledError(job, by) };
    this.jobs.set(`${node}/${id}`, structuredClone(cancelled));
    return { outcome: 'cancelled', job: cancelled, again: false, ...(successor ? { successor } : {}) };
  }

  async putDifferences(node: string, id: string, index: number, entries: readonly DriftEntry[]): Promise<void> {
    const key = `${node}/${id}`;
    const chunks = this.differences.get(key) ?? new Map<number, DriftEntry[]>();
    chunks.set(index, structuredClone([...entries]));
    this.differences.set(key, chunks);
  }

  async readDifferences(node: string, id: string): Promise<DriftEntry[]> {
    const chunks = this.differences.get(`${node}/${id}`) ?? new Map<number, DriftEntry[]>();
    return [...chunks.entries()].sort(([a], [b]) => a - b).flatMap(([, entries]) => structuredClone(entries));
  }

  async pruneDifferences(node: string, keep: string): Promise<void> {
    for (const key of [...this.differences.keys()]) if (key.startsWith(`${node}/`) && key !== `${node}/${keep}`) this.differences.delete(key);
  }
}

/** The cluster's write lease (gateway/write-lease.ts) in memory, with the DynamoDB adapter's rules: a conditional take (the sweep's mark too), an owner-checked renewal and release. */
export class MemoryWriteLease implements LeaseStore {
  holder: { owner: string; until: number } | undefined;
  /** The sweep's mark (`wantRecovery`): until when a taker that `yields` is refused. */
  recoveryWantedUntil: number | undefined;
  /** The intents recorded and not cleared, by owner. */
  readonly intents = new Map<string, WriteIntent>();

  async tryAcquire(owner: string, now: number, until: number, intent?: WriteIntent, options: AcquireOptions = {}): Promise<LeaseAttempt> {
    const held = this.holder && this.holder.until >= now ? this.holder.until : undefined;
    const wanted = options.yields && this.recoveryWantedUntil !== undefined && this.recoveryWantedUntil >= now ? this.recoveryWantedUntil : undefined;
    if (held !== undefined || wanted !== undefined) return { acquired: false, heldUntil: Math.max(held ?? 0, wanted ?? 0) };
    const pending = [...this.intents.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map((left) => structuredClone(left));
    this.holder = { owner, until };
    if (options.recovers) this.recoveryWantedUntil = undefined;
    if (intent) this.intents.set(owner, structuredClone(intent));
    return pending.length > 0 ? { acquired: true, pending } : { acquired: true };
  }

  async renew(owner: string, until: number): Promise<boolean> {
    if (this.holder?.owner !== owner) return false;
    this.holder = { owner, until };
    return true;
  }

  async release(owner: string, clear: readonly string[] = []): Promise<void> {
    if (this.holder?.owner !== owner) return;
    this.holder = undefined;
    for (const cleared of clear) this.intents.delete(cleared);
  }

  /** Asks holders that recover no intent to leave the lease to one that does until `until` (the sweep's mark). */
  async wantRecovery(until: number): Promise<void> {
    this.recoveryWantedUntil = until;
  }

  /** The intents left and, while someone holds the lease, who and until when (the sweep's read). */
  async pending(): Promise<{ readonly heldUntil?: number; readonly holder?: string; readonly intents: readonly WriteIntent[] }> {
    const intents = [...this.intents.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map((left) => structuredClone(left));
    return { ...(this.holder ? { heldUntil: this.holder.until, holder: this.holder.owner } : {}), intents };
  }
}
