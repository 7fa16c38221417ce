import {
  MemoryEventBodyStore,
  MemoryEventLog,
  MemoryEventTopic,
  MemoryNodeStore,
} from '../../../lambdas/config-sync/adapters/memory';
import type { ApplyDeps } from '../../../lambdas/config-sync/apply';
import type { ConfigChange, ObjectRef, ObjectType, PublishedEvent } from '../../../lambdas/config-sync/events';
import type { JsonObject } from '../../../lambdas/config-sync/merge-patch';
import type { NodePauses, PauseState } from '../../../lambdas/config-sync/pause';
import type { PublishDeps } from '../../../lambdas/config-sync/publish';

export const CLUSTER = 'test-cluster';

export function ref(type: ObjectType, id: string): ObjectRef {
  return { type, id };
}

export function add(type: ObjectType, id: string, properties: JsonObject = {}): ConfigChange {
  return { kind: 'add', object: ref(type, id), properties };
}

export function modify(type: ObjectType, id: string, patch: JsonObject): ConfigChange {
  return { kind: 'modify', object: ref(type, id), patch };
}

export function remove(type: ObjectType, id: string): ConfigChange {
  return { kind: 'remove', object: ref(type, id) };
}

/** A clock that moves one second per reading, from a fixed start. */
export function steppingClock(start = Date.parse('2025-01-01T00:00:00.000Z')): () => Date {
  let next = start;
  return () => {
    const now = new Date(next);
    next += 1000;
    return now;
  };
}

export interface Harness {
  readonly store: MemoryNodeStore;
  readonly log: MemoryEventLog;
  readonly bodies: MemoryEventBodyStore;
  readonly topic: MemoryEventTopic;
  readonly deps: PublishDeps;
  /** Appends a change to the log as `origin` would publish it (no topic, no local apply). */
  append(change: ConfigChange, origin?: string): Promise<PublishedEvent>;
  appendAll(changes: readonly ConfigChange[], origin?: string): Promise<PublishedEvent[]>;
}

export function harness(): Harness {
  const log = new MemoryEventLog();
  // Its commits check the log's item as the apply function's do (a copy delivered to a node keeping up).
  const store = new MemoryNodeStore({ log });
  const bodies = new MemoryEventBodyStore();
  const topic = new MemoryEventTopic();
  const now = steppingClock();
  const deps: PublishDeps = { store, log, bodies, topic, now };
  const append = (change: ConfigChange, origin = 'master-1') =>
    log.append({ cluster: CLUSTER, origin, publishedAt: now().toISOString(), ...change });
  const appendAll = async (changes: readonly ConfigChange[], origin?: string) => {
    const events: PublishedEvent[] = [];
    for (const change of changes) events.push(await append(change, origin));
    return events;
  };
  return { store, log, bodies, topic, deps, append, appendAll };
}

/** The ports an applier needs, from a harness. */
export function applyDeps(h: Harness): ApplyDeps {
  return { store: h.store, log: h.log, bodies: h.bodies };
}

/** Node pauses held in memory, as the node store's pause items hold them. */
export class MemoryNodePauses implements NodePauses {
  readonly states = new Map<string, PauseState>();
  async read(node: string): Promise<PauseState | undefined> {
    return this.states.get(node);
  }
  async write(node: string, state: PauseState | undefined): Promise<void> {
    if (state) this.states.set(node, state);
    else this.states.delete(node);
  }
}

export { pick, seededRandom } from '../../support/random';
