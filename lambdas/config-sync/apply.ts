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
 * events from the event log (which holds every sequence, see `EventLog.append`) and applies
 * them first.
 *
 * Own events. A node never applies its own event from its queue (the subscription filter
 * drops it; the applier drops it too, because filter policy changes take minutes). A master
 * keeps its own configuration, so its own change must still enter its store, in sequence
 * order: the publish path applies it right after the log accepts it, catching up on the
 * events before it first (`catchUp(..., event.sequence)`). If that local write was
 * interrupted, the own event is simply one more missing sequence, and the next gap fill or
 * catch-up applies it from the log. So a gap made of a node's own events is filled like any
 * other, and the cursor never has to skip a sequence.
 */
import { CursorContentionError, EventsMissingFromLogError, InvalidConfigEventError, WrongClusterError } from './errors';
import {
  isOffloaded,
  objectStorageKey,
  parseConfigChange,
  parseEventMessage,
  type ConfigEvent,
  type EventMetadata,
  type ObjectRef,
  type PublishedEvent,
} from './events';
import { mergePatchObject } from './merge-patch';
import type { CommitOutcome, EventBodyStore, EventLog, NodeStore, StoredObject } from './ports';

export interface ApplyDeps {
  readonly store: NodeStore;
  readonly log: EventLog;
  readonly bodies: EventBodyStore;
}

/** The node whose store is being written, and its cluster. */
export interface NodeContext {
  readonly cluster: string;
  readonly node: string;
}

// ---------------------------------------------------------------------------------------------
// Pure rules

/** What a delivered event means for a node whose cursor is `cursor`. */
export type Delivery =
  | { readonly kind: 'own-event' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'next' }
  /** Events `from..to` must be applied first. */
  | { readonly kind: 'gap'; readonly from: number; readonly to: number };

export function classifyDelivery(node: string, cursor: number, event: EventMetadata): Delivery {
  if (event.origin === node) return { kind: 'own-event' };
  if (event.sequence <= cursor) return { kind: 'duplicate' };
  if (event.sequence === cursor + 1) return { kind: 'next' };
  return { kind: 'gap', from: cursor + 1, to: event.sequence - 1 };
}

export type ObjectEffect =
  /** `add` of an object the node did not hold (or held as removed). */
  | 'created'
  /** `add` of an object the node holds: the new properties replace the old ones. */
  | 'replaced'
  /** `modify` of an object the node holds: merge patch. */
  | 'patched'
  /** `modify` of an object the node does not hold: recorded as an incomplete object. */
  | 'recorded-incomplete'
  /** `remove`: a tombstone, whatever still references the object (the master decided). */
  | 'removed'
  /** The object already reflects this or a later event: nothing to write. */
  | 'stale';

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
              properties: mergePatchObject(live.properties, event.patch),
              deleted: false,
              incomplete: live.incomplete,
            },
          }
        : {
            effect: 'recorded-incomplete',
            object: { ...stamp, properties: mergePatchObject({}, event.patch), deleted: false, incomplete: true },
          };
    case 'remove':
      return { effect: 'removed', object: { ...stamp, properties: {}, deleted: true, incomplete: false } };
  }
}

// ---------------------------------------------------------------------------------------------
// The applier

export interface AppliedEvent {
  readonly sequence: number;
  readonly origin: string;
  readonly object: ObjectRef;
  readonly effect: ObjectEffect;
  /** Read from the event log to close a gap, rather than delivered. */
  readonly fromLog: boolean;
}

/** What happened to one delivered event. `applied` lists, in order, every event this call applied. */
export type DeliveryResult =
  | { readonly disposition: 'own-event'; readonly sequence: number }
  | {
      readonly disposition: 'applied' | 'duplicate';
      readonly sequence: number;
      readonly applied: readonly AppliedEvent[];
      /** The node's cursor afterwards. */
      readonly cursor: number;
    };

export interface BatchResult {
  /** One result per message processed, in order. */
  readonly results: readonly DeliveryResult[];
  /**
   * The first message that failed. With FIFO queues, that message and every later one must be
   * reported as failed (`batchItemFailures`), so they are retried in order.
   */
  readonly failure?: { readonly index: number; readonly error: unknown };
}

export interface CatchUpResult {
  readonly fromCursor: number;
  readonly cursor: number;
  readonly applied: readonly AppliedEvent[];
}

/** Events read from the log per request while filling a gap or catching up. */
const LOG_PAGE_SIZE = 100;
/** BatchGetItem's limit. */
const OBJECT_READ_BATCH = 100;
/** A re-read object is newer than the event, so one retry settles it; more means a faulty store. */
const MAX_OBJECT_MOVED_RETRIES = 3;

/**
 * Applies one event delivered by the node's queue: drops it if it is the node's own,
 * ignores it if already applied, fills any gap before it from the log, then applies it.
 */
export async function applyDeliveredEvent(
  deps: ApplyDeps,
  context: NodeContext,
  event: PublishedEvent,
): Promise<DeliveryResult> {
  return new NodeApplier(deps, context).deliver(event);
}

/**
 * Applies an SQS batch (message bodies, in queue order). Stops at the first message that
 * fails, poison messages included, as FIFO partial batch failure requires.
 */
export async function applyDeliveredBatch(
  deps: ApplyDeps,
  context: NodeContext,
  messages: readonly string[],
): Promise<BatchResult> {
  const applier = new NodeApplier(deps, context);
  const events: PublishedEvent[] = [];
  let parseFailure: BatchResult['failure'];
  for (const [index, message] of messages.entries()) {
    try {
      events.push(parseEventMessage(message));
    } catch (error) {
      parseFailure = { index, error };
      break;
    }
  }
  const results: DeliveryResult[] = [];
  try {
    await applier.prefetch(events.filter((event) => event.origin !== context.node).map((event) => event.object));
  } catch (error) {
    return { results, failure: { index: 0, error } };
  }
  for (const [index, event] of events.entries()) {
    try {
      results.push(await applier.deliver(event));
    } catch (error) {
      return { results, failure: { index, error } };
    }
  }
  return parseFailure ? { results, failure: parseFailure } : { results };
}

/**
 * Applies every event from the node's cursor up to `toSequence` (default: the log's head)
 * from the log. Used by the publish path (a master's own store), after a bootstrap, and by
 * any repair job.
 */
export async function catchUp(deps: ApplyDeps, context: NodeContext, toSequence?: number): Promise<CatchUpResult> {
  const applier = new NodeApplier(deps, context);
  const fromCursor = await applier.cursor();
  const target = toSequence ?? (await deps.log.head(context.cluster));
  const { applied, cursor } = await applier.advanceTo(target);
  return { fromCursor, cursor, applied };
}

/**
 * One applier per invocation: it remembers the cursor and the objects it has read, so a
 * batch costs one cursor read, one batched object read and one commit per event.
 */
class NodeApplier {
  /** `null`: known to be absent from the store. */
  private readonly objects = new Map<string, StoredObject | null>();
  private knownCursor: number | undefined;

  constructor(
    private readonly deps: ApplyDeps,
    private readonly context: NodeContext,
  ) {}

  async cursor(): Promise<number> {
    this.knownCursor ??= await this.deps.store.readCursor(this.context.node);
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
      const found = await this.deps.store.readObjects(this.context.node, chunk);
      for (const ref of chunk) this.objects.set(objectStorageKey(ref), null);
      for (const object of found) this.objects.set(objectStorageKey(object), object);
    }
  }

  async deliver(event: PublishedEvent): Promise<DeliveryResult> {
    const { node, cluster } = this.context;
    if (event.cluster !== cluster) throw new WrongClusterError(node, cluster, event.cluster, `Event ${event.sequence}`);
    const known = await this.cursor();
    switch (classifyDelivery(node, known, event).kind) {
      case 'own-event':
        return { disposition: 'own-event', sequence: event.sequence };
      case 'duplicate':
        return { disposition: 'duplicate', sequence: event.sequence, applied: [], cursor: known };
      case 'next':
      case 'gap': {
        const { applied, cursor } = await this.advanceTo(event.sequence, event);
        // A concurrent invocation may have applied it while this one filled the gap.
        const appliedHere = applied.some((step) => step.sequence === event.sequence);
        return { disposition: appliedHere ? 'applied' : 'duplicate', sequence: event.sequence, applied, cursor };
      }
    }
  }

  /**
   * Moves the cursor to `target`, one event at a time, taking `delivered` for its own
   * sequence and every other event from the log. When a commit finds the cursor moved
   * (another invocation is applying the same events), it re-reads the cursor and goes on
   * from there.
   */
  async advanceTo(target: number, delivered?: PublishedEvent): Promise<{ applied: AppliedEvent[]; cursor: number }> {
    const applied: AppliedEvent[] = [];
    const lastFromLog = delivered ? delivered.sequence - 1 : target;
    let fromLog: PublishedEvent[] = [];
    let cursor = await this.cursor();
    while (cursor < target) {
      const sequence = cursor + 1;
      let event: PublishedEvent;
      if (delivered && sequence === delivered.sequence) {
        event = delivered;
      } else {
        fromLog = fromLog.filter((candidate) => candidate.sequence >= sequence);
        if (fromLog[0]?.sequence !== sequence) {
          fromLog = await this.readLog(sequence, Math.min(lastFromLog, sequence + LOG_PAGE_SIZE - 1));
        }
        const next = fromLog.shift();
        if (next === undefined) {
          throw new EventsMissingFromLogError(this.context.cluster, this.context.node, [sequence]);
        }
        event = next;
      }
      const step = await this.applyNext(cursor, event, event !== delivered);
      if (step === 'cursor-moved') {
        this.knownCursor = undefined;
        const moved = await this.cursor();
        if (moved === cursor) throw new CursorContentionError(this.context.node, cursor, sequence);
        cursor = moved;
        continue;
      }
      applied.push(step);
      cursor = sequence;
    }
    return { applied, cursor };
  }

  private async applyNext(
    cursor: number,
    event: PublishedEvent,
    fromLog: boolean,
  ): Promise<AppliedEvent | 'cursor-moved'> {
    const complete = await resolveBody(this.deps.bodies, event);
    const key = objectStorageKey(complete.object);
    let change: ObjectChange;
    let outcome: CommitOutcome;
    for (let attempt = 1; ; attempt += 1) {
      await this.prefetch([complete.object]);
      change = applyChange(this.objects.get(key) ?? undefined, complete);
      outcome = await this.deps.store.commit(this.context.node, {
        expectedCursor: cursor,
        sequence: complete.sequence,
        object: change.object,
      });
      if (outcome !== 'object-moved') break;
      // A bootstrap stored a newer version meanwhile: read it; the event is now stale for it.
      this.objects.delete(key);
      if (attempt >= MAX_OBJECT_MOVED_RETRIES) {
        throw new CursorContentionError(this.context.node, cursor, complete.sequence);
      }
    }
    if (outcome === 'cursor-moved') {
      // What we read may be older than what the other invocation wrote.
      this.objects.clear();
      return outcome;
    }
    this.knownCursor = complete.sequence;
    if (change.object) this.objects.set(key, change.object);
    return {
      sequence: complete.sequence,
      origin: complete.origin,
      object: { type: complete.object.type, id: complete.object.id },
      effect: change.effect,
      fromLog,
    };
  }

  /** Log events `from..to`, which must start at `from` (the log has no holes unless trimmed). */
  private async readLog(from: number, to: number): Promise<PublishedEvent[]> {
    const { cluster, node } = this.context;
    const events = (await this.deps.log.readRange(cluster, from, to)).filter(
      (event) => event.sequence >= from && event.sequence <= to,
    );
    const first = events[0];
    if (first?.sequence !== from) {
      const missingUpTo = first === undefined ? to : first.sequence - 1;
      throw new EventsMissingFromLogError(cluster, node, range(from, missingUpTo));
    }
    return events;
  }
}

/** The complete event: an offloaded event's change fetched from the body store. */
export async function resolveBody(bodies: EventBodyStore, event: PublishedEvent): Promise<ConfigEvent> {
  if (!isOffloaded(event)) return event;
  const change = parseConfigChange(await bodies.get(event.bodyRef));
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

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}
