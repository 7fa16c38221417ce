/**
 * In-memory implementations of the configuration-sync ports, for unit tests and the local
 * runtime. They keep the contracts the AWS adapters keep (compare-and-swap commits, a
 * gap-free log, opaque body references) and copy values in and out, so a caller mutating
 * what it passed or got back cannot change stored state, as with a real database.
 */
import { objectStorageKey, type ConfigChange, type ObjectRef, type PublishedEvent } from '../events';
import type {
  CatalogPage,
  CatalogQuery,
  CommitOutcome,
  EventBodyStore,
  EventDraft,
  EventLog,
  EventTopic,
  NodeStore,
  Snapshot,
  StoreCommit,
  StoredObject,
} from '../ports';

interface NodeState {
  cursor: number;
  readonly objects: Map<string, StoredObject>;
}

export class MemoryNodeStore implements NodeStore {
  private readonly nodes = new Map<string, NodeState>();

  async readCursor(node: string): Promise<number> {
    return this.state(node).cursor;
  }

  async readObjects(node: string, objects: readonly ObjectRef[]): Promise<StoredObject[]> {
    const { objects: stored } = this.state(node);
    return objects.flatMap((ref) => {
      const object = stored.get(objectStorageKey(ref));
      return object ? [structuredClone(object)] : [];
    });
  }

  async commit(node: string, commit: StoreCommit): Promise<CommitOutcome> {
    const state = this.state(node);
    if (state.cursor !== commit.expectedCursor) return 'cursor-moved';
    if (commit.sequence !== commit.expectedCursor + 1) {
      throw new Error(`commit must advance the cursor by one (from ${commit.expectedCursor} to ${commit.sequence})`);
    }
    if (commit.object) state.objects.set(objectStorageKey(commit.object), structuredClone(commit.object));
    state.cursor = commit.sequence;
    return 'committed';
  }

  async replaceWithSnapshot(node: string, snapshot: Snapshot): Promise<void> {
    this.nodes.set(node, {
      cursor: snapshot.sequence,
      objects: new Map(snapshot.objects.map((object) => [objectStorageKey(object), structuredClone(object)])),
    });
  }

  async readSnapshot(node: string, cluster: string): Promise<Snapshot> {
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
      state = { cursor: 0, objects: new Map() };
      this.nodes.set(node, state);
    }
    return state;
  }
}

interface ClusterLog {
  /** Index = sequence; `undefined` below the retention floor. */
  readonly events: (PublishedEvent | undefined)[];
  readonly unpublished: Set<number>;
}

export class MemoryEventLog implements EventLog {
  private readonly clusters = new Map<string, ClusterLog>();

  async append(draft: EventDraft): Promise<PublishedEvent> {
    const log = this.log(draft.cluster);
    const sequence = log.events.length;
    const event: PublishedEvent = { ...structuredClone(draft), sequence };
    log.events.push(event);
    log.unpublished.add(sequence);
    return structuredClone(event);
  }

  async readRange(cluster: string, from: number, to: number): Promise<PublishedEvent[]> {
    return this.log(cluster)
      .events.slice(Math.max(1, from), to + 1)
      .flatMap((event) => (event ? [structuredClone(event)] : []));
  }

  async head(cluster: string): Promise<number> {
    return this.log(cluster).events.length - 1;
  }

  async markPublished(cluster: string, sequence: number): Promise<void> {
    this.log(cluster).unpublished.delete(sequence);
  }

  async listUnpublished(cluster: string, limit: number): Promise<PublishedEvent[]> {
    const log = this.log(cluster);
    return [...log.unpublished]
      .sort((a, b) => a - b)
      .slice(0, limit)
      .flatMap((sequence) => {
        const event = log.events[sequence];
        return event ? [structuredClone(event)] : [];
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
      log = { events: [undefined], unpublished: new Set() };
      this.clusters.set(cluster, log);
    }
    return log;
  }
}

/** Keeps bodies as JSON text, as S3 would, and hands out opaque references. */
export class MemoryEventBodyStore implements EventBodyStore {
  private readonly bodies = new Map<string, string>();

  async put(cluster: string, change: ConfigChange): Promise<string> {
    const bodyRef = `memory://${cluster}/bodies/${this.bodies.size + 1}.json`;
    this.bodies.set(bodyRef, JSON.stringify(change));
    return bodyRef;
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
