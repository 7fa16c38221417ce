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
 *
 * In a cluster with a pure master, the master-stores queue (subscribed to every event) does
 * two things after the answer that the request would otherwise wait for: its consumer brings
 * the pure masters' stores up (a pure master's own events included) and marks the events it
 * receives published (master-stores.ts). The request is then the log append and the topic's
 * acceptance, the part of the path no log-first design can leave out.
 */
import { catchUpOnce, type ApplyDeps } from './apply';
import { nodeMetrics, recordApplied } from './apply-metrics';
import { consumes, type ClusterNode } from '../shared/cluster-model';
import { assertCanPublish } from './cluster';
import { consecutiveRuns, isOffloaded, isUnreadable, isVoided, mustOffload, parseConfigChange, type ConfigChange, type DeliveredEvent, type ObjectRef, type PublishedEvent } from './events';
import { ChangeSetTooLargeError, IdempotencyKeyReusedError, IdempotencyKeyTakenError, IdempotentRequestInProgressError, InvalidConfigEventError, type FieldIssue } from './errors';
import { MAX_CHANGE_SET_ITEMS } from './change-set-limits';
import { dependencyOrderIssues } from './change-set-order';
import { withPartnerFlags, type ExpandedChanges } from './layer-flags';
import { isJsonObject, mergePatchObject, type JsonObject } from './merge-patch';
import { patchedGroupStylesIssue } from './representations';
import { eventsBetween, HELD_CURSOR, isAppendStoredNothing, type EventDraft, type EventLog, type EventTopic, type IdempotencyClaim, type IdempotencyRecord } from './ports';
import { NodePausedError, type NodePauses } from './pause';
import { consoleWarn } from '../shared/warn';

export interface PublishDeps extends ApplyDeps {
  readonly topic: EventTopic;
  readonly now: () => Date;
  /**
   * Where pauses are recorded: with it, a paused node's publish is refused (409 NODE_PAUSED)
   * with nothing stored, checked in the log append itself (`AppendGuard`).
   */
  readonly pauses?: NodePauses;
  /**
   * The cluster has the master-stores queue (its construct builds one whenever the cluster has
   * a pure master), subscribed to every event. Its consumer brings every pure master's store
   * up, and marks what it receives published, since a delivered event is one the topic accepted
   * (master-stores.ts). The request then leaves both to it: a pure master's answer says
   * `appliedLocally: false` (its store follows within about a delivery), and until the delivery
   * the events look unpublished to `republishPending`, whose resend the topic drops by its
   * deduplication id. Without the queue the request marks its events and applies them to its
   * node's store itself.
   */
  readonly masterStoresQueued?: boolean;
  /**
   * The cluster has nodes with a GeoServer: a change set out of dependency order is refused (400),
   * since each of them applies it in the order listed (change-set-order.ts). A cluster of stores
   * alone takes any order; a GeoServer node added later starts from a resync, whose reconcile
   * goes in dependency order.
   */
  readonly appliesToGeoServers?: boolean;
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

export interface ChangeSetResult {
  /** The events as the log stored them: one contiguous range of sequences, in request order. */
  readonly events: readonly PublishedEvent[];
  readonly published: boolean;
  readonly appliedLocally: boolean;
  readonly deferredFailures: readonly DeferredFailure[];
}

/** Bodies stored in S3 at once for one change set. */
const OFFLOAD_CONCURRENCY = 8;

/** A publish request: one change (the original form) or an ordered change set. */
export type PublishRequest =
  | { readonly form: 'single'; readonly change: ConfigChange }
  | { readonly form: 'set'; readonly changes: readonly ConfigChange[] };

/**
 * Reads a publish body: `{"changes": [...]}` is a change set, anything else a single change.
 * Every change is validated before anything is written; errors name the item, e.g.
 * `changes[3].object.type` (every item's first problem, in `issues`).
 */
export function parsePublishRequest(body: unknown): PublishRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, 'changes')) {
    return { form: 'single', change: parseConfigChange(body) };
  }
  const record = body as Record<string, unknown>;
  const extra = Object.keys(record).find((key) => key !== 'changes');
  if (extra !== undefined) throw new InvalidConfigEventError([{ field: extra, message: 'is not a known field of a change set (only "changes")' }]);
  const list = record.changes;
  if (!Array.isArray(list)) throw new InvalidConfigEventError([{ field: 'changes', message: 'must be a list of changes' }]);
  if (list.length === 0) throw new InvalidConfigEventError([{ field: 'changes', message: 'must hold at least one change' }]);
  if (list.length > MAX_CHANGE_SET_ITEMS) {
    throw new InvalidConfigEventError([
      { field: 'changes', message: `holds ${list.length} changes, over the limit of ${MAX_CHANGE_SET_ITEMS} per request; send several change sets` },
    ]);
  }
  const changes: ConfigChange[] = [];
  const issues: FieldIssue[] = [];
  for (const [index, item] of list.entries()) {
    try {
      changes.push(parseConfigChange(item));
    } catch (error) {
      if (!(error instanceof InvalidConfigEventError)) throw error;
      const prefix = `changes[${index}]`;
      const [first] = error.issues;
      // One issue per bad item (its first), enough to find it.
      if (first) issues.push({ field: first.field === 'body' ? prefix : `${prefix}.${first.field}`, message: first.message });
    }
  }
  const [first, ...rest] = issues;
  if (first) throw new InvalidConfigEventError([first, ...rest]);
  return { form: 'set', changes };
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
  const { events, ...rest } = await publishChanges(deps, context, [change], claim);
  return { event: events[0] as PublishedEvent, ...rest };
}

/**
 * Publishes validated changes as one change set: bodies too large for a message go to the
 * body store first, then the log commits them all under one contiguous range of sequences
 * (the commit point: all or nothing), then the topic gets them in batches while the node's
 * own store is brought up to the last one.
 */
export async function publishChanges(
  deps: PublishDeps,
  context: PublishContext,
  changes: readonly ConfigChange[],
  claim?: IdempotencyClaim,
): Promise<ChangeSetResult> {
  assertCanPublish(context.node);
  const metadata = { cluster: context.cluster, origin: context.node.name, publishedAt: deps.now().toISOString() };
  const guard = deps.pauses ? { unlessPaused: context.node.name, pauses: deps.pauses } : undefined;
  // A body is stored before the log append, which stays the single commit point. What the append
  // would refuse without committing (a retry under a taken key, a paused node) is read first
  // when there is a body to store, so such a request stores none; a body stored for an append
  // that then fails at write time (a pause taken since, a range voided first, a DynamoDB error)
  // is deleted (`storedBodiesDropped`).
  const offloaded = changes.map((change) => mustOffload(change, metadata));
  if (offloaded.includes(true)) {
    const existing = claim ? await deps.log.readIdempotencyClaim(context.cluster, claim) : undefined;
    if (existing) throw new IdempotencyKeyTakenError(existing);
    const paused = guard ? await guard.pauses.read(guard.unlessPaused) : undefined;
    if (guard && paused) throw new NodePausedError(guard.unlessPaused, paused);
  }
  const drafts: EventDraft[] = new Array(changes.length);
  const stored: string[] = [];
  let next = 0;
  let failed = false;
  // Every worker runs to its end (none starts a put after a failure), so the bodies stored
  // before a put failed are all known, and deleted, before the request answers.
  const workers = await Promise.allSettled(
    Array.from({ length: Math.min(OFFLOAD_CONCURRENCY, changes.length) }, async () => {
      while (next < changes.length && !failed) {
        const index = next++;
        const change = changes[index] as ConfigChange;
        if (offloaded[index] !== true) {
          drafts[index] = { ...metadata, ...change };
          continue;
        }
        try {
          const bodyRef = await deps.bodies.put(context.cluster, change);
          stored.push(bodyRef);
          drafts[index] = { ...metadata, kind: change.kind, object: change.object, bodyRef };
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    }),
  );
  const putFailure = workers.find((worker): worker is PromiseRejectedResult => worker.status === 'rejected');
  if (putFailure) {
    await storedBodiesDropped(deps, stored);
    throw putFailure.reason;
  }
  let events: PublishedEvent[];
  try {
    events = await deps.log.appendAll(drafts, claim, guard);
  } catch (error) {
    // Only when the log knows it stored nothing: after a commit that may have gone through (a
    // timeout), an event may refer to the bodies, and they stay. Each body is this request's
    // own (a new key per put), so no other request's event refers to it either.
    if (isAppendStoredNothing(error)) await storedBodiesDropped(deps, stored);
    throw error;
  }
  const first = events[0] as PublishedEvent;
  const last = events[events.length - 1] as PublishedEvent;

  // Once the events are in the log, publishing them and the master's own store are
  // independent: run them together so the request pays for the slower one only.
  const deferredFailures: DeferredFailure[] = [];
  const ownStore = { cluster: context.cluster, node: context.node.name };
  const [published, appliedLocally] = await Promise.all([
    (async () => {
      await deps.topic.publishBatch(events);
      if (deps.masterStoresQueued !== true) await deps.log.markPublished(context.cluster, first.sequence, last.sequence);
    })().then(
      () => true,
      (error: unknown) => {
        deferredFailures.push({ stage: 'publish', error });
        return false;
      },
    ),
    // The master keeps its own configuration, in sequence order. A `both` node's queue
    // delivers its own events too, so the request commits them only when its store is right
    // before them (one pass, `onlyWhenNext`), which is also all it may do: the events of
    // other masters before them must reach the node's GeoServer, if it has one, and only its
    // apply function does that. Otherwise the queue brings them, with the events before them.
    // A pure master's store has catch-ups of its own (the master-stores queue's consumer, the
    // republish schedule's): with the queue the request leaves its events to it; without, it
    // makes one pass that neither waits for a concurrent publisher's range nor races it for
    // the cursor (`catchUpOnce`).
    (consumes(context.node.role)
      ? catchUpOnce(deps, ownStore, last.sequence, events, { onlyWhenNext: true, assumeNext: true })
      : deps.masterStoresQueued === true
        ? Promise.resolve(undefined)
        : catchUpOnce(deps, ownStore, last.sequence, events)
    ).then(
      (result) => {
        // Counted in the node's EventsApplied here, where they are committed: the node's queue
        // (a `both` node's) then finds them applied, and no other catch-up applies them again.
        if (result !== undefined && result.applied.length > 0) recordApplied(nodeMetrics(context.node.name), result.applied);
        // A store held by its resync (HELD_CURSOR) applies nothing now: the job's catch-up will.
        return result !== undefined && result.cursor !== HELD_CURSOR && result.cursor >= last.sequence;
      },
      (error: unknown) => {
        deferredFailures.push({ stage: 'apply-locally', error });
        return false;
      },
    ),
  ]);
  return { events, published, appliedLocally, deferredFailures };
}

/**
 * Deletes bodies no event refers to, all at once; one that cannot be deleted is reported, and
 * stays (the request answers its own failure all the same).
 */
async function storedBodiesDropped(deps: Pick<PublishDeps, 'bodies' | 'warn'>, bodyRefs: readonly string[]): Promise<void> {
  await Promise.all(
    bodyRefs.map((bodyRef) =>
      deps.bodies.delete(bodyRef).catch((error: unknown) => {
        (deps.warn ?? consoleWarn)('event body left after a failed append', { bodyRef, error: String(error) });
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Layer group patches judged against the group the master holds

/** Objects `readObjects` answers at once. */
const READ_OBJECTS_MAX = 100;

/**
 * Refuses (400, nothing stored) a layer group patch stating its entries or its styles alone whose
 * merge with the group leaves styles that are not one per entry: every node would write that
 * group and its GeoServer refuse it (patchedGroupStylesIssue). The group is read from the
 * publishing master's own store, once per request and only when the request holds such a patch,
 * then carried through the request's earlier changes of it. A group the store lacks or holds
 * only as a patch is not judged (its nodes write such a patch as stated, keeping their styles).
 * The store follows the log (a delivery later with the master-stores queue, or a `both` node's
 * queue), so it is judged only when its cursor, read before the group, is at the log head read
 * after it: a store that trails may hold the group as it was before changes already in the log
 * (the same client's previous request, often), and a patch right for the group the log holds
 * would be refused. A store held by its resync is not judged either. Unjudged, the nodes judge
 * what gets through, as before. Only `POST /config/events` is judged so: the gateway publishes
 * what its master's GeoServer already took, and checks that itself.
 */
async function refuseGroupStylesNodesWouldRefuse(
  deps: Pick<PublishDeps, 'store' | 'log'>,
  context: PublishContext,
  form: PublishRequest['form'],
  changes: readonly ConfigChange[],
): Promise<void> {
  const { store } = deps;
  const node = context.node.name;
  const judged = (change: ConfigChange): change is ConfigChange & { kind: 'modify' } =>
    change.kind === 'modify' && change.object.type === 'layerGroup' && ((isJsonObject(change.patch.publishables) && 'published' in change.patch.publishables) || change.patch.styles !== undefined);
  if (!changes.some(judged)) return;
  const cursor = await store.readCursor(node);
  if (cursor === HELD_CURSOR) return;
  const ids = [...new Set(changes.filter(judged).map((change) => change.object.id))];
  const held = new Map<string, JsonObject | undefined>();
  for (let start = 0; start < ids.length; start += READ_OBJECTS_MAX) {
    const refs = ids.slice(start, start + READ_OBJECTS_MAX).map((id) => ({ type: 'layerGroup' as const, id }));
    for (const object of await store.readObjects(node, refs)) {
      held.set(object.id, object.deleted || object.incomplete ? undefined : object.properties);
    }
  }
  if (cursor < (await deps.log.head(context.cluster))) return;
  const issues: FieldIssue[] = [];
  for (const [index, change] of changes.entries()) {
    if (change.object.type !== 'layerGroup' || !ids.includes(change.object.id)) continue;
    const group = held.get(change.object.id);
    if (change.kind === 'add') held.set(change.object.id, change.properties);
    else if (change.kind === 'remove') held.set(change.object.id, undefined);
    else if (group !== undefined) {
      const issue = patchedGroupStylesIssue(group, change.patch);
      if (issue !== undefined) {
        const field = ['patch', ...issue.path].join('.');
        issues.push({ field: form === 'set' ? `changes[${index}].${field}` : field, message: issue.message });
      }
      held.set(change.object.id, mergePatchObject(group, change.patch));
    }
  }
  const [first, ...rest] = issues;
  if (first) throw new InvalidConfigEventError([first, ...rest]);
}

// ---------------------------------------------------------------------------------------------
// Idempotency-Key

/** How long a key binds its answer: a client retrying a timed-out publish does so within a day. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** A claim without a recorded answer younger than this may belong to a request still running (API Gateway waits at most 30 s). */
const IN_PROGRESS_WINDOW_MS = 60_000;

/**
 * An event the events API added to a request, right after the change it follows: the layer's or
 * resource's partner taking the flags GeoServer holds once for both (layer-flags.ts).
 */
export interface DerivedEventAnswer {
  readonly sequence: number;
  /** The index in the request's `changes` of the change it follows (0 for a single change). */
  readonly derivedFrom: number;
  readonly object: ObjectRef;
  readonly patch: JsonObject;
}

/** The answer of `POST /config/events` for one change, as JSON; what a retry with the same key gets again. */
export interface PublishAnswer {
  readonly sequence: number;
  readonly event: unknown;
  readonly published: boolean;
  readonly appliedLocally: boolean;
  /** The events derived from the change, after it (only when there are any). */
  readonly derived?: DerivedEventAnswer[];
}

/** The answer for a change set: its range of sequences (the request's events in order, each derived one right after its change). */
export interface ChangeSetAnswer {
  readonly firstSequence: number;
  readonly lastSequence: number;
  /** The events committed: the request's changes plus the derived ones. */
  readonly count: number;
  /** The node that published the set and when (every event of the set carries both). */
  readonly origin: string;
  readonly publishedAt: string;
  readonly published: boolean;
  readonly appliedLocally: boolean;
  /** The events derived from the set's changes, each right after its change (only when there are any). */
  readonly derived?: DerivedEventAnswer[];
}

export type IdempotentPublish<A = PublishAnswer | ChangeSetAnswer> =
  | { readonly replayed: false; readonly result: ChangeSetResult; readonly answer: A }
  | { readonly replayed: true; readonly answer: A };

export function answerOf(result: PublishResult): PublishAnswer {
  return { sequence: result.event.sequence, event: result.event, published: result.published, appliedLocally: result.appliedLocally };
}

function answerFor(request: PublishRequest, result: ChangeSetResult, expanded: ExpandedChanges): PublishAnswer | ChangeSetAnswer {
  const first = result.events[0] as PublishedEvent;
  const derived = expanded.changes.flatMap((change, index): DerivedEventAnswer[] => {
    const from = expanded.derivedFrom[index];
    return from === undefined || change.kind !== 'modify' ? [] : [{ sequence: first.sequence + index, derivedFrom: from, object: change.object, patch: change.patch }];
  });
  const listed = derived.length === 0 ? {} : { derived };
  if (request.form === 'single') return { sequence: first.sequence, event: first, published: result.published, appliedLocally: result.appliedLocally, ...listed };
  return {
    firstSequence: first.sequence,
    lastSequence: first.sequence + result.events.length - 1,
    count: result.events.length,
    origin: first.origin,
    publishedAt: first.publishedAt,
    published: result.published,
    appliedLocally: result.appliedLocally,
    ...listed,
  };
}

/**
 * The derived events of a request whose answer was never recorded, from the offsets its claim
 * holds and the events the log holds there. Read a page at a time: a set may derive as many events
 * as it has changes, and a read of one event inside a chunk item reads the whole item.
 */
async function rebuiltDerived(deps: Pick<PublishDeps, 'log'>, cluster: string, record: IdempotencyRecord): Promise<{ derived?: DerivedEventAnswer[] }> {
  const offsets = record.derived ?? [];
  if (offsets.length === 0) return {};
  const first = record.sequence + Math.min(...offsets);
  const last = record.sequence + Math.max(...offsets);
  const events = new Map<number, DeliveredEvent>();
  for await (const event of eventsBetween(deps.log, cluster, first, last)) events.set(event.sequence, event);
  const derived: DerivedEventAnswer[] = [];
  for (const offset of offsets) {
    const sequence = record.sequence + offset;
    const event = events.get(sequence);
    if (!event || isVoided(event) || isUnreadable(event) || isOffloaded(event) || event.kind !== 'modify') continue;
    // The request's changes before it: every offset below it that is not derived.
    const derivedFrom = offset - offsets.filter((other) => other < offset).length - 1;
    derived.push({ sequence, derivedFrom, object: event.object, patch: event.patch });
  }
  return { derived };
}

/**
 * A set refused on its stored size with partner changes taken along (layer-flags.ts): the sizes
 * the log names are of more than the client sent, so the refusal says so.
 */
function namingTakenAlong(error: unknown, expanded: ExpandedChanges): unknown {
  const taken = expanded.derivedFrom.filter((from) => from !== undefined).length;
  if (!(error instanceof ChangeSetTooLargeError) || taken === 0) return error;
  return new ChangeSetTooLargeError(
    `${error.message}. That counts the ${taken} partner change${taken === 1 ? '' : 's'} the set takes along (a layer's or resource's enabled/advertised, stated for one, changes the other too); send the changes in smaller sets`,
  );
}

/**
 * A publish request (one change or a change set, `parsePublishRequest`) under an
 * `Idempotency-Key` (when `idempotency` is given): the key is claimed in the log append's own
 * transaction, so a change set is committed with its key or not at all. A retry with the same
 * key and body gets the first answer again, without publishing anything; the same key with
 * another body is a 422. If the first request committed but never recorded its answer (still
 * running: 409, retry; or its function died after the commit: the answer is rebuilt from the
 * log, with `published`/`appliedLocally` false because this answer cannot confirm them; the
 * republish schedule and catch-up complete both in any case).
 */
export async function publishIdempotently(
  deps: PublishDeps,
  context: PublishContext,
  body: unknown,
  idempotency?: { readonly key: string; readonly bodyHash: string },
): Promise<IdempotentPublish> {
  assertCanPublish(context.node);
  const request = parsePublishRequest(body);
  const changes = request.form === 'single' ? [request.change] : request.changes;
  if (deps.appliesToGeoServers === true) {
    const [first, ...rest] = dependencyOrderIssues(changes);
    if (first) throw new InvalidConfigEventError([first, ...rest]);
  }
  // In a cluster with GeoServer nodes, a change stating a layer's or resource's enabled/advertised
  // takes its partner's along, as GeoServer does (layer-flags.ts); the checks above and below
  // judge the request's own changes, so their issues name the request's indexes.
  const expand = (): Promise<ExpandedChanges> =>
    deps.appliesToGeoServers === true
      ? withPartnerFlags(deps, context.cluster, context.node.name, changes)
      : Promise.resolve({ changes, derivedFrom: changes.map(() => undefined) });
  if (!idempotency) {
    await refuseGroupStylesNodesWouldRefuse(deps, context, request.form, changes);
    const expanded = await expand();
    const result = await publishChanges(deps, context, expanded.changes).catch((error: unknown) => Promise.reject(namingTakenAlong(error, expanded)));
    return { replayed: false, result, answer: answerFor(request, result, expanded) };
  }
  const now = deps.now();
  try {
    await refuseGroupStylesNodesWouldRefuse(deps, context, request.form, changes);
  } catch (error) {
    // The check reads the group as the master holds it now: a retry of a request already taken
    // (its key claimed) is answered below as the first was (or 422 for another body), not judged
    // against what the group became since, by this request or a later one.
    if (!(error instanceof InvalidConfigEventError) || (await deps.log.readIdempotencyClaim(context.cluster, claimOf(context.node.name, idempotency, now, changes.length))) === undefined) throw error;
  }
  // Derived from the store as it is now: a retry of a request already taken derives what it
  // may (its append is refused for the key), and is answered from the first request's record.
  const expanded = await expand();
  const derivedOffsets = expanded.derivedFrom.flatMap((from, offset) => (from === undefined ? [] : [offset]));
  const claim: IdempotencyClaim = { ...claimOf(context.node.name, idempotency, now, expanded.changes.length), ...(derivedOffsets.length === 0 ? {} : { derived: derivedOffsets }) };
  let result: ChangeSetResult;
  try {
    result = await publishChanges(deps, context, expanded.changes, claim);
  } catch (error) {
    let record: IdempotencyRecord;
    if (error instanceof IdempotencyKeyTakenError) record = error.record;
    else {
      // The size is checked before the key: a retry that derives more than the first request did
      // (a partner's flags changed since, layer-flags.ts) may be refused on it, and is answered
      // from the first request's record all the same, as above.
      const claimed = error instanceof ChangeSetTooLargeError ? await deps.log.readIdempotencyClaim(context.cluster, claim) : undefined;
      if (claimed === undefined) throw namingTakenAlong(error, expanded);
      record = claimed;
    }
    if (record.bodyHash !== idempotency.bodyHash) throw new IdempotencyKeyReusedError(idempotency.key, record.sequence);
    if (record.answer !== undefined) return { replayed: true, answer: JSON.parse(record.answer) as PublishAnswer | ChangeSetAnswer };
    if (now.getTime() - Date.parse(record.createdAt) < IN_PROGRESS_WINDOW_MS) {
      throw new IdempotentRequestInProgressError(idempotency.key, record.sequence);
    }
    const [event] = await deps.log.readRange(context.cluster, record.sequence, record.sequence);
    const derived = await rebuiltDerived(deps, context.cluster, record);
    if (request.form === 'set') {
      const count = record.count ?? changes.length;
      return {
        replayed: true,
        answer: {
          firstSequence: record.sequence,
          lastSequence: record.sequence + count - 1,
          count,
          origin: event?.origin ?? context.node.name,
          publishedAt: event?.publishedAt ?? record.createdAt,
          published: false,
          appliedLocally: false,
          ...derived,
        },
      };
    }
    return { replayed: true, answer: { sequence: record.sequence, event, published: false, appliedLocally: false, ...derived } };
  }
  const answer = answerFor(request, result, expanded);
  try {
    await deps.log.saveIdempotentAnswer(context.cluster, context.node.name, idempotency.key, JSON.stringify(answer));
  } catch (failure) {
    // The change is committed; a retry rebuilds the answer from the log instead.
    return { replayed: false, result: { ...result, deferredFailures: [...result.deferredFailures, { stage: 'record-answer', error: failure }] }, answer };
  }
  return { replayed: false, result, answer };
}

/** The claim of an `Idempotency-Key` for a request committing `count` events. */
function claimOf(node: string, idempotency: { readonly key: string; readonly bodyHash: string }, now: Date, count: number): IdempotencyClaim {
  return {
    node,
    key: idempotency.key,
    bodyHash: idempotency.bodyHash,
    createdAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
    count,
  };
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
  const events = await deps.log.listUnpublished(cluster, limit);
  // Consecutive runs go out as batches and are marked as one range.
  for (const run of consecutiveRuns(events, (event) => event.sequence)) {
    await deps.topic.publishBatch(run);
    await deps.log.markPublished(cluster, (run[0] as PublishedEvent).sequence, (run[run.length - 1] as PublishedEvent).sequence);
    sent.push(...run.map((event) => event.sequence));
  }
  return sent;
}
