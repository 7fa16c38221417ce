/**
 * Property-style test: a random mixed sequence of 500 events, published by two masters,
 * delivered to every consumer's queue (a `both` node's own events too) with duplicates,
 * reordering, redelivery of old messages, lost messages and failed publishes,
 * plus a node joining half-way from a snapshot read while its source kept applying. All
 * stores must end identical to the master's and to an independent replay of the log, with
 * every event committed exactly once per node. Seeded, so a failure reproduces.
 */
import { applyDeliveredBatch, catchUp, type DeliveryResult, type NodeContext } from '../../../lambdas/config-sync/apply';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { bootstrapNode } from '../../../lambdas/config-sync/bootstrap';
import type { ClusterNode } from '../../../lambdas/shared/cluster-model';
import {
  isOffloaded,
  objectStorageKey,
  OBJECT_TYPES,
  isUnreadable,
  isVoided,
  parseConfigChange,
  type ConfigChange,
  type ObjectType,
} from '../../../lambdas/config-sync/events';
import { mergePatchObject, type JsonObject, type JsonValue } from '../../../lambdas/config-sync/merge-patch';
import type { BatchCommit, CheckedCommitOutcome, CommitOutcome, StoreCommit } from '../../../lambdas/config-sync/ports';
import { publishChange, republishPending, type PublishDeps } from '../../../lambdas/config-sync/publish';
import { CLUSTER, harness, pick, seededRandom } from './fixtures';

const EVENT_COUNT = 500;
const MASTERS: ClusterNode[] = [
  { name: 'master-1', role: 'master' },
  { name: 'both-1', role: 'both' },
];
const INITIAL_CONSUMERS = ['both-1', 'slave-1', 'slave-2', 'slave-3'];
const LATE_JOINER = 'slave-4';

/** Counts every committed (node, sequence), to prove each event is applied once per node. */
class RecordingStore extends MemoryNodeStore {
  readonly commits = new Map<string, number[]>();
  override async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
    const outcome = await super.commit(node, commit);
    if (outcome === 'committed') this.commits.set(node, [...(this.commits.get(node) ?? []), commit.sequence]);
    return outcome;
  }
  /** A run committed at once counts as each of its sequences committed once. */
  override async commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome> {
    const outcome = await super.commitBatch(node, commit);
    if (outcome === 'committed') {
      const sequences = Array.from({ length: commit.sequence - commit.expectedCursor }, (_, i) => commit.expectedCursor + 1 + i);
      this.commits.set(node, [...(this.commits.get(node) ?? []), ...sequences]);
    }
    return outcome;
  }
}

interface Queue {
  readonly node: string;
  readonly messages: string[];
  readonly delivered: string[];
}

const WORKSPACES = ['topp', 'sf', 'nurc'];
const NAMES = ['roads', 'states', 'rivers'];
const KEYS = ['title', 'enabled', 'metadata', 'keywords', 'srs', 'abstract'];
const SERVICES = ['WMS', 'WFS', 'WCS', 'WMTS'];

class RandomChanges {
  private bigStylesLeft = 3;

  constructor(private readonly random: () => number) {}

  next(): ConfigChange {
    const type = pick(this.random, OBJECT_TYPES);
    const object = { type, id: this.id(type) };
    const roll = this.random();
    if (type === 'global' || type === 'logging' || type === 'workspaceSettings' || type === 'service' || roll < 0.4) {
      return { kind: 'modify', object, patch: this.patch(type) };
    }
    if (roll < 0.8) return { kind: 'add', object, properties: this.properties(type) };
    return { kind: 'remove', object };
  }

  private id(type: ObjectType): string {
    const workspace = pick(this.random, WORKSPACES);
    const name = pick(this.random, NAMES);
    switch (type) {
      case 'global':
      case 'logging':
        return type;
      case 'workspace':
      case 'namespace':
      case 'workspaceSettings':
        return workspace;
      case 'service':
        return this.random() < 0.5 ? pick(this.random, SERVICES) : `${workspace}:${pick(this.random, SERVICES)}`;
      case 'style':
      case 'layerGroup':
        return this.random() < 0.5 ? name : `${workspace}:${name}`;
      default:
        return `${workspace}:${name}`;
    }
  }

  private properties(type: ObjectType): JsonObject {
    const properties: JsonObject = {};
    for (const key of KEYS) if (this.random() < 0.5) properties[key] = this.value(2);
    // What a GeoServer needs to apply each type (representations.ts).
    if (type === 'featureType' || type === 'coverage' || type === 'wmsLayer' || type === 'wmtsLayer') {
      properties['store'] = { name: 'shp' };
    }
    if (type === 'layer') properties['resource'] = { name: 'resource' };
    if (type === 'layerGroup') properties['publishables'] = { published: { '@type': 'layer', name: 'resource' } };
    if (type === 'style') {
      properties['format'] = 'sld';
      properties['body'] = this.styleBody();
    }
    return properties;
  }

  private patch(type: ObjectType): JsonObject {
    const patch: JsonObject = {};
    const count = 1 + Math.floor(this.random() * 3);
    for (let i = 0; i < count; i += 1) patch[pick(this.random, KEYS)] = this.random() < 0.25 ? null : this.patchValue(2);
    if (type === 'style' && this.random() < 0.3) patch['body'] = this.styleBody();
    return patch;
  }

  /** Values that may hold nested nulls, which a merge patch reads as deletions. */
  private patchValue(depth: number): JsonValue {
    if (depth > 0 && this.random() < 0.4) {
      const nested: JsonObject = {};
      for (const key of ['a', 'b', 'c']) if (this.random() < 0.6) nested[key] = this.random() < 0.3 ? null : this.patchValue(depth - 1);
      return nested;
    }
    return this.value(depth);
  }

  private value(depth: number): JsonValue {
    const roll = this.random();
    if (depth > 0 && roll < 0.2) return { a: this.value(depth - 1), b: this.value(depth - 1) };
    if (depth > 0 && roll < 0.35) return [this.value(depth - 1), this.value(depth - 1)];
    if (roll < 0.55) return Math.floor(this.random() * 100);
    if (roll < 0.7) return this.random() < 0.5;
    return `v${Math.floor(this.random() * 1000)}`;
  }

  private styleBody(): string {
    if (this.bigStylesLeft > 0 && this.random() < 0.1) {
      this.bigStylesLeft -= 1;
      return `<StyledLayerDescriptor>${'<Rule/>'.repeat(40_000)}${this.bigStylesLeft}</StyledLayerDescriptor>`;
    }
    return `<StyledLayerDescriptor name="s${Math.floor(this.random() * 1000)}"/>`;
  }
}

class Simulation {
  readonly random: () => number;
  readonly h = harness();
  readonly store = new RecordingStore();
  readonly deps: PublishDeps;
  readonly queues = new Map<string, Queue>();
  readonly results = new Map<string, DeliveryResult[]>();
  readonly changes: RandomChanges;
  readonly stats = { lost: 0, duplicated: 0, redelivered: 0, reordered: 0, publishFailures: 0 };
  /** Publishes of the `both` node, by whether its request applied them to its own store. */
  readonly bothAppliedLocally = { true: 0, false: 0 };
  lateJoinerSnapshotSequence = 0;

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.changes = new RandomChanges(this.random);
    this.deps = { ...this.h.deps, store: this.store };
    for (const node of INITIAL_CONSUMERS) this.addQueue(node);
    // The SNS subscriptions: each queue gets every event, its node's own too.
    this.h.topic.subscribe((message) => {
      for (const queue of this.queues.values()) {
        queue.messages.push(message);
        if (this.random() < 0.1) {
          queue.messages.push(message);
          this.stats.duplicated += 1;
        }
      }
    });
  }

  addQueue(node: string): void {
    this.queues.set(node, { node, messages: [], delivered: [] });
    this.results.set(node, []);
  }

  context(node: string): NodeContext {
    return { cluster: CLUSTER, node };
  }

  async publish(): Promise<void> {
    if (this.random() < 0.03) {
      this.h.topic.failNextPublishes(1);
      this.stats.publishFailures += 1;
    }
    const publisher = pick(this.random, MASTERS);
    const result = await publishChange(this.deps, { cluster: CLUSTER, node: publisher }, this.changes.next());
    // A pure master (no master-stores queue here) catches up on its request; a `both` node
    // only when its store is right before its event, its queue bringing the rest.
    if (publisher.role === 'master') expect(result.appliedLocally).toBe(true);
    else this.bothAppliedLocally[`${result.appliedLocally}`] += 1;
  }

  /** One invocation of a node's apply function on a batch from its queue. */
  async consume(node: string, allowLoss: boolean): Promise<void> {
    const queue = this.queues.get(node);
    if (!queue || queue.messages.length === 0) return;
    if (this.random() < 0.3 && queue.messages.length > 1) {
      // Concurrent publishers reach SNS out of sequence order.
      const window = Math.min(queue.messages.length, 15);
      const [i, j] = [Math.floor(this.random() * window), Math.floor(this.random() * window)];
      [queue.messages[i], queue.messages[j]] = [queue.messages[j]!, queue.messages[i]!];
      this.stats.reordered += 1;
    }
    if (allowLoss && this.random() < 0.03 && hasLaterSequence(queue.messages)) {
      // An event missing from the queue. Only one that a later message will reveal as a gap:
      // nothing can reveal a lost last event (and SQS does not lose messages).
      queue.messages.shift();
      this.stats.lost += 1;
    }
    const batch = queue.messages.splice(0, 1 + Math.floor(this.random() * 10));
    if (queue.delivered.length > 0 && this.random() < 0.1) {
      batch.splice(Math.floor(this.random() * (batch.length + 1)), 0, pick(this.random, queue.delivered));
      this.stats.redelivered += 1;
    }
    const outcome = await applyDeliveredBatch(this.deps, this.context(node), batch.slice(0, 10));
    if (outcome.failure) throw outcome.failure.error;
    queue.messages.unshift(...batch.slice(10));
    queue.delivered.push(...batch.slice(0, 10));
    this.results.get(node)!.push(...outcome.results);
  }

  /** A node joins: its queue starts now; it bootstraps from a snapshot read while its source applies. */
  async join(node: string): Promise<void> {
    this.addQueue(node);
    const source = pick(this.random, INITIAL_CONSUMERS);
    const sequence = await this.store.readCursor(source);
    await this.consume(source, false);
    const objects = this.store.allObjects(source);
    this.lateJoinerSnapshotSequence = sequence;
    await bootstrapNode(this.deps, this.context(node), { cluster: CLUSTER, sourceNode: source, sequence, objects });
  }

  async run(): Promise<void> {
    for (let i = 0; i < EVENT_COUNT; i += 1) {
      if (i === EVENT_COUNT / 2) await this.join(LATE_JOINER);
      await this.publish();
      const steps = Math.floor(this.random() * 4);
      for (let s = 0; s < steps; s += 1) await this.consume(pick(this.random, [...this.queues.keys()]), true);
      if (this.random() < 0.1) await republishPending(this.deps, CLUSTER);
    }
    while ((await this.h.log.listUnpublished(CLUSTER, 1)).length > 0) await republishPending(this.deps, CLUSTER);
    while ([...this.queues.values()].some((queue) => queue.messages.length > 0)) {
      for (const node of this.queues.keys()) await this.consume(node, false);
    }
    // A pure master has no queue: it catches up when it publishes, and here once more at the end.
    await catchUp(this.deps, this.context('master-1'));
  }

  /** An independent replay of the log: the state every store must reach. */
  async expectedLiveObjects(): Promise<{ type: ObjectType; id: string; properties: JsonObject; incomplete: boolean }[]> {
    const state = new Map<string, { type: ObjectType; id: string; properties: JsonObject; incomplete: boolean }>();
    const head = await this.h.log.head(CLUSTER);
    for (const stored of await this.h.log.readRange(CLUSTER, 1, head)) {
      if (isUnreadable(stored)) throw new Error(`the log holds an unreadable event at ${stored.sequence}: ${stored.reason}`);
      if (isVoided(stored)) continue;
      const change = isOffloaded(stored) ? parseConfigChange(await this.h.bodies.get(stored.bodyRef)) : stored;
      const key = objectStorageKey(change.object);
      const existing = state.get(key);
      const { type, id } = change.object;
      if (change.kind === 'add') state.set(key, { type, id, properties: change.properties, incomplete: false });
      else if (change.kind === 'remove') state.delete(key);
      else if (existing) state.set(key, { ...existing, properties: mergePatchObject(existing.properties, change.patch) });
      else state.set(key, { type, id, properties: mergePatchObject({}, change.patch), incomplete: true });
    }
    return [...state.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, object]) => object);
  }
}

function sequenceOf(message: string): number {
  return (JSON.parse(message) as { sequence: number }).sequence;
}

/** Whether a message after the first carries a higher sequence than the first. */
function hasLaterSequence(messages: readonly string[]): boolean {
  const [first, ...rest] = messages;
  return first !== undefined && rest.some((message) => sequenceOf(message) > sequenceOf(first));
}

describe('convergence under redelivery, reordering and loss', () => {
  it.each([1, 7, 2025])('seed %i: every store ends identical to the master’s', async (seed) => {
    const simulation = new Simulation(seed);
    await simulation.run();
    const { store, h } = simulation;
    const head = await h.log.head(CLUSTER);
    expect(head).toBe(EVENT_COUNT);

    const nodes = ['master-1', ...INITIAL_CONSUMERS, LATE_JOINER];
    const masterObjects = store.allObjects('master-1');
    const expected = await simulation.expectedLiveObjects();
    expect(store.liveObjects('master-1').map(({ type, id, properties, incomplete }) => ({ type, id, properties, incomplete }))).toEqual(
      expected,
    );
    for (const node of nodes) {
      expect({ node, cursor: await store.readCursor(node) }).toEqual({ node, cursor: head });
      // Tombstones, sequences, origins and times included.
      expect({ node, objects: store.allObjects(node) }).toEqual({ node, objects: masterObjects });
    }

    // Exactly once: every sequence committed once per node (the late joiner from its snapshot on).
    const everySequence = (from: number) => Array.from({ length: head - from }, (_, i) => from + i + 1);
    for (const node of nodes) {
      const from = node === LATE_JOINER ? simulation.lateJoinerSnapshotSequence : 0;
      expect({ node, commits: store.commits.get(node) }).toEqual({ node, commits: everySequence(from) });
    }

    // The run exercised what it claims to.
    const all = [...simulation.results.values()].flat();
    const steps = all.flatMap((result) => result.applied);
    expect(all.filter((r) => r.disposition === 'duplicate').length).toBeGreaterThan(50);
    // The `both` node's own events: most applied by their request (delivered as duplicates),
    // some left to its queue, which applied them (delivered, or read from the log first).
    const bothResults = simulation.results.get('both-1') ?? [];
    const own = (result: DeliveryResult) => result.applied.some((step) => step.sequence === result.sequence && step.origin === 'both-1');
    expect(simulation.bothAppliedLocally.true).toBeGreaterThan(0);
    expect(simulation.bothAppliedLocally.false).toBeGreaterThan(0);
    expect(bothResults.filter(own).length).toBeGreaterThan(0);
    expect(steps.filter((step) => step.fromLog).length).toBeGreaterThan(10);
    expect(steps.filter((step) => step.effect === 'recorded-incomplete').length).toBeGreaterThan(0);
    expect(steps.filter((step) => step.effect === 'removed').length).toBeGreaterThan(0);
    expect(steps.filter((step) => step.effect === 'patched').length).toBeGreaterThan(0);
    expect(simulation.stats.lost).toBeGreaterThan(0);
    expect(simulation.stats.redelivered).toBeGreaterThan(0);
    expect(simulation.stats.reordered).toBeGreaterThan(0);
    expect(simulation.stats.publishFailures).toBeGreaterThan(0);
    expect(h.bodies.size).toBeGreaterThan(0);
  });
});
