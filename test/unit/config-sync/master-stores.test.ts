import { catchUpOnce } from '../../../lambdas/config-sync/apply';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { catchUpFromQueue, catchUpMasterStores, deliveryTarget, markDelivered, readDelivered, type MasterStoresMessage } from '../../../lambdas/config-sync/master-stores';
import type { CheckedCommitOutcome } from '../../../lambdas/config-sync/ports';
import { publishChange, publishChanges, republishPending, type PublishContext } from '../../../lambdas/config-sync/publish';
import { add, CLUSTER, harness, MemoryNodePauses as Pauses } from './fixtures';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };

describe("the pure masters' stores' catch-up (the master-stores queue's consumer and the republish schedule)", () => {
  it('brings every pure master up to the sequence given, in log order, each exactly once in effect', async () => {
    const h = harness();
    const pauses = new Pauses();
    await h.append(add('workspace', 'a'), 'master-1');
    await h.append(add('workspace', 'b'), 'master-2');
    await h.append(add('workspace', 'c'), 'master-1');
    const first = await catchUpMasterStores({ ...h.deps, pauses }, CLUSTER, ['master-1', 'master-2'], 2);
    expect(first).toEqual({ caughtUp: { 'master-1': 2, 'master-2': 2 }, paused: [], failures: [] });
    expect(await h.store.readCursor('master-1')).toBe(2);
    // A second delivery of the same batch, then the schedule's run to the head.
    expect((await catchUpMasterStores({ ...h.deps, pauses }, CLUSTER, ['master-1', 'master-2'], 2)).caughtUp).toEqual({ 'master-1': 0, 'master-2': 0 });
    expect((await catchUpMasterStores({ ...h.deps, pauses }, CLUSTER, ['master-1', 'master-2'])).caughtUp).toEqual({ 'master-1': 1, 'master-2': 1 });
    for (const node of ['master-1', 'master-2']) {
      expect(h.store.liveObjects(node).map((object) => [object.id, object.lastSequence])).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
    }
  });

  it('leaves a paused master as it is, and reports one master’s failure without holding the others', async () => {
    const h = harness();
    const pauses = new Pauses();
    await pauses.write('master-2', { since: '2025-01-01T00:00:00.000Z', by: 'master-2' });
    class FailingFor extends MemoryNodeStore {
      override async commit(node: string, ...rest: Parameters<MemoryNodeStore['commit']> extends [string, ...infer R] ? R : never): Promise<CheckedCommitOutcome> {
        if (node === 'master-3') throw new Error('throttled');
        return super.commit(node, ...rest);
      }
    }
    const store = new FailingFor();
    await h.append(add('workspace', 'a'));
    const result = await catchUpMasterStores({ ...h.deps, store, pauses }, CLUSTER, ['master-1', 'master-2', 'master-3']);
    expect(result.caughtUp).toEqual({ 'master-1': 1 });
    expect(result.paused).toEqual(['master-2']);
    expect(result.failures).toEqual([{ node: 'master-3', error: new Error('throttled') }]);
    expect(await store.readCursor('master-2')).toBe(0);
  });

  it("reads a batch's events in sequence order, once each, skipping bodies that are not events", async () => {
    const h = harness();
    const [one, two] = await h.appendAll([add('workspace', 'a'), add('workspace', 'b')]);
    const bodies = [JSON.stringify(two), 'not json', JSON.stringify(one), '{"sequence":12}', 'null', JSON.stringify(two)];
    const batch = await readDelivered(h.log, CLUSTER, bodies);
    expect(batch.events.map((event) => event.sequence)).toEqual([1, 2]);
    expect(batch.skipped.map((message) => message.index)).toEqual([1, 3, 4]);
    expect((await readDelivered(h.log, CLUSTER, ['garbage', '{}'])).events).toEqual([]);
  });

  it("ignores an event of another cluster: the store gets the log's event at that sequence, never the stranger's", async () => {
    const h = harness();
    const [logged] = await h.appendAll([add('workspace', 'logged')]);
    // Shaped as ours, numbered as the log's next event, from another cluster's topic or a sender allowed on this queue.
    const stranger = { ...logged!, cluster: 'other-cluster', object: { type: 'workspace', id: 'stranger' }, properties: { name: 'stranger' } };
    const { events: delivered, skipped } = await readDelivered(h.log, CLUSTER, [JSON.stringify(stranger)]);
    expect(delivered).toEqual([]);
    expect(skipped).toEqual([{ index: 0, reason: expect.stringContaining('cluster other-cluster') }]);
    const result = await catchUpMasterStores({ ...h.deps, pauses: new Pauses() }, CLUSTER, ['master-1'], logged!.sequence, delivered);
    expect(result.failures).toEqual([]);
    expect(h.store.allObjects('master-1').map((object) => object.id)).toEqual(['logged']);
  });
});

describe("a master-stores batch read against the log (readDelivered)", () => {
  /** The log with its calls counted. */
  function countedLog(h: ReturnType<typeof harness>) {
    const calls = { readRange: 0, head: 0 };
    const log = {
      readRange: (...args: Parameters<typeof h.log.readRange>) => {
        calls.readRange += 1;
        return h.log.readRange(...args);
      },
      head: (cluster: string) => {
        calls.head += 1;
        return h.log.head(cluster);
      },
    };
    return { log, calls };
  }

  it("takes the log's events, with one read of the log and no read of its head", async () => {
    const h = harness();
    const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    const { log, calls } = countedLog(h);
    const batch = await readDelivered(log, CLUSTER, events.map((event) => JSON.stringify(event)).reverse());
    expect(batch).toEqual({ events: await h.log.readRange(CLUSTER, 1, 3), skipped: [] });
    expect(calls).toEqual({ readRange: 1, head: 0 });
  });

  it("skips an event numbered past the log's head (no publisher allocated it), so the batch's target stays within the log and the stores reach it", async () => {
    const h = harness();
    const pauses = new Pauses();
    const [first, second] = await h.appendAll([add('workspace', 'a'), add('workspace', 'b')]);
    const { log, calls } = countedLog(h);
    const pastHead = (sequence: number) => JSON.stringify({ ...second!, sequence, object: { type: 'workspace', id: `forged${sequence}` }, properties: {} });
    const batch = await readDelivered(log, CLUSTER, [JSON.stringify(first), pastHead(3), JSON.stringify(second), pastHead(900)]);
    expect(batch.skipped).toEqual([
      { index: 1, reason: expect.stringContaining('past the head of the event log (2)') },
      { index: 3, reason: expect.stringContaining('past the head of the event log (2)') },
    ]);
    expect(calls).toEqual({ readRange: 2, head: 1 });
    const sequences = batch.events.map((event) => event.sequence);
    expect(sequences).toEqual([1, 2]);
    const result = await catchUpMasterStores({ ...h.deps, pauses }, CLUSTER, ['master-1'], deliveryTarget(sequences, undefined), batch.events);
    expect(result).toEqual({ caughtUp: { 'master-1': 2 }, paused: [], failures: [] });
    expect(await h.store.readCursor('master-1')).toBe(2);
  });

  it("catches up to the log's head when a batch's target is past it (a change set's end announced by no publisher's message), instead of failing the batch", async () => {
    const h = harness();
    const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b')]);
    const warnings: string[] = [];
    const deps = { ...h.deps, pauses: new Pauses(), warn: (message: string) => warnings.push(message) };
    // A real message, with a `rangeLast` attribute no publisher set.
    const batch = await readDelivered(h.log, CLUSTER, [JSON.stringify(events[0])]);
    const result = await catchUpMasterStores(deps, CLUSTER, ['master-1', 'master-2'], deliveryTarget([1], 50), batch.events);
    expect(result).toEqual({ caughtUp: { 'master-1': expect.any(Number), 'master-2': expect.any(Number) }, paused: [], failures: [] });
    expect([await h.store.readCursor('master-1'), await h.store.readCursor('master-2')]).toEqual([2, 2]);
    expect(warnings).toEqual([expect.stringContaining('past the head of the event log'), expect.stringContaining('past the head of the event log')]);
  });

  it("skips a copy that differs from the log's event at its sequence, and one at a sequence the log lacks below its head", async () => {
    const h = harness();
    const [logged] = await h.appendAll([add('workspace', 'logged')]);
    // Sequence 2 allocated, never written.
    const [allocated] = h.log.abandonAllocation(CLUSTER, 1);
    const differing = JSON.stringify({ ...logged!, properties: { name: 'forged' } });
    const unwritten = JSON.stringify({ ...logged!, sequence: allocated });
    const batch = await readDelivered(h.log, CLUSTER, [differing, unwritten]);
    expect(batch).toEqual({
      events: [],
      skipped: [
        { index: 0, reason: expect.stringContaining("differs from the log's event 1 (properties)") },
        { index: 1, reason: expect.stringContaining('holds no event 2 (below its head, 2)') },
      ],
    });
    // What the skipped copy would have brought, the store gets from the log.
    await catchUpMasterStores({ ...h.deps, pauses: new Pauses() }, CLUSTER, ['master-1'], 1, batch.events);
    expect(h.store.allObjects('master-1').map((object) => [object.id, object.properties])).toEqual([['logged', {}]]);
  });
});

describe("a pure master's store with the master-stores queue: the publish leaves it to the queue's consumer, which applies the delivered events from hand", () => {
  /** The log and store with their calls counted. */
  function counted(h: ReturnType<typeof harness>) {
    const calls = { logReads: 0, cursorReads: 0, objectReads: 0, commits: 0 };
    const log = h.log;
    const countingLog = Object.assign(Object.create(Object.getPrototypeOf(log)) as typeof log, log, {
      readRange: async (...args: Parameters<typeof log.readRange>) => {
        calls.logReads += 1;
        return log.readRange(...args);
      },
    });
    const store = h.store;
    const readCursor = store.readCursor.bind(store);
    const readApplyState = store.readApplyState.bind(store);
    const commit = store.commit.bind(store);
    store.readCursor = async (...args) => {
      calls.cursorReads += 1;
      return readCursor(...args);
    };
    store.readApplyState = async (...args) => {
      calls.objectReads += 1;
      return readApplyState(...args);
    };
    store.commit = async (...args) => {
      calls.commits += 1;
      return commit(...args);
    };
    return { calls, deps: { ...h.deps, log: countingLog, pauses: new Pauses() } };
  }

  it('answers without touching the store; the delivery applies the event with no read, one after another', async () => {
    const h = harness();
    const { calls, deps } = counted(h);
    for (const id of ['one', 'two', 'three']) {
      const result = await publishChange({ ...deps, masterStoresQueued: true }, MASTER, add('workspace', id));
      expect(result).toMatchObject({ published: true, appliedLocally: false, deferredFailures: [] });
      expect(calls.commits).toBe(h.topic.published.length - 1);
      const batch = (await readDelivered(deps.log, CLUSTER, [JSON.stringify(result.event)])).events;
      expect(await catchUpMasterStores(deps, CLUSTER, ['master-1'], result.event.sequence, batch)).toEqual({ caughtUp: { 'master-1': 1 }, paused: [], failures: [] });
    }
    expect(h.store.liveObjects('master-1').map((object) => [object.id, object.lastSequence])).toEqual([
      ['one', 1],
      ['three', 3],
      ['two', 2],
    ]);
    // Each delivery: its message compared with the log's event (one read of the log, shared by
    // every pure master), one commit, nothing read from the store (the first on the assumption
    // too, which held).
    expect(calls).toEqual({ logReads: 3, cursorReads: 0, objectReads: 0, commits: 3 });
  });

  it('catches a store behind the delivered events up from the log, in order, then applies them', async () => {
    const h = harness();
    const { calls, deps } = counted(h);
    await h.append(add('workspace', 'other'), 'master-2');
    const mine = await publishChange({ ...deps, masterStoresQueued: true }, MASTER, add('workspace', 'mine'));
    expect(mine.appliedLocally).toBe(false);
    // Only the master's own event is delivered here; the other master's is still on its way.
    const result = await catchUpMasterStores(deps, CLUSTER, ['master-1'], mine.event.sequence, (await readDelivered(deps.log, CLUSTER, [JSON.stringify(mine.event)])).events);
    expect(result.caughtUp).toEqual({ 'master-1': 2 });
    expect(calls.logReads).toBeGreaterThan(0);
    expect(h.store.liveObjects('master-1').map((object) => [object.id, object.lastSequence])).toEqual([
      ['mine', 2],
      ['other', 1],
    ]);
    // The other master's event delivered late changes nothing.
    const late = await h.log.readRange(CLUSTER, 1, 1);
    expect((await catchUpMasterStores(deps, CLUSTER, ['master-1'], 1, late)).caughtUp).toEqual({ 'master-1': 0 });
    expect(await h.store.readCursor('master-1')).toBe(2);
  });

  it('applies a batch of several delivered events, and each exactly once when delivered again', async () => {
    const h = harness();
    const { deps } = counted(h);
    const set = await publishChanges({ ...deps, masterStoresQueued: true }, MASTER, [add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    const bodies = set.events.map((event) => JSON.stringify(event));
    expect((await catchUpMasterStores(deps, CLUSTER, ['master-1'], 3, (await readDelivered(deps.log, CLUSTER, bodies)).events)).caughtUp).toEqual({ 'master-1': 3 });
    expect((await catchUpMasterStores(deps, CLUSTER, ['master-1'], 3, (await readDelivered(deps.log, CLUSTER, bodies)).events)).caughtUp).toEqual({ 'master-1': 0 });
    expect(h.store.liveObjects('master-1').map((object) => object.lastSequence)).toEqual([1, 2, 3]);
  });

  it("follows a change set whole from its first delivery (the messages' rangeLast); the set's later messages find their events applied", async () => {
    const h = harness();
    const { calls, deps } = counted(h);
    const changes = Array.from({ length: 250 }, (_, i) => add('workspace', `ws${i}`));
    const set = await publishChanges({ ...deps, masterStoresQueued: true }, MASTER, changes);
    const last = set.events.at(-1)!.sequence;
    const first = (await readDelivered(deps.log, CLUSTER, [JSON.stringify(set.events[0])])).events;
    expect(await catchUpMasterStores(deps, CLUSTER, ['master-1'], deliveryTarget([1], last), first)).toEqual({ caughtUp: { 'master-1': 250 }, paused: [], failures: [] });
    expect(await h.store.readCursor('master-1')).toBe(250);
    calls.logReads = 0;
    // One message a batch, as a FIFO queue may hand them over.
    for (const event of set.events.slice(1)) {
      const batch = (await readDelivered(deps.log, CLUSTER, [JSON.stringify(event)])).events;
      expect((await catchUpMasterStores(deps, CLUSTER, ['master-1'], deliveryTarget([event.sequence], last), batch)).caughtUp).toEqual({ 'master-1': 0 });
    }
    // The messages are compared with the log's events read READ_RANGE_MAX at a time (the first
    // message's read held 1..100, then 101..200, 201..300), not one read each: a set of a
    // thousand in one log item otherwise had every message fetch and parse the whole item, and
    // the queue drained so slowly that the store waited minutes for the events after the set.
    expect(calls.logReads).toBe(2);
    expect(h.store.liveObjects('master-1')).toHaveLength(250);
  });

  it("follows the log past a change set's end while the queue still delivers the set's messages, found applied", async () => {
    const h = harness();
    const deps = { ...h.deps, pauses: new Pauses() };
    const set = await h.appendAll(Array.from({ length: 20 }, (_, i) => add('workspace', `ws${i}`)));
    const deliver = async (event: (typeof set)[number]) => {
      const batch = await readDelivered(h.log, CLUSTER, [JSON.stringify(event)]);
      return catchUpMasterStores(deps, CLUSTER, ['master-1'], deliveryTarget([event.sequence], 20), batch.events);
    };
    await deliver(set[0]!);
    expect(await h.store.readCursor('master-1')).toBe(20);
    // Published after the set: its message waits behind the set's 19 others in the queue's one group.
    await h.append(add('workspace', 'after'));
    expect(await deliver(set[1]!)).toEqual({ caughtUp: { 'master-1': 1 }, paused: [], failures: [] });
    expect(await h.store.readCursor('master-1')).toBe(21);
    expect(h.store.liveObjects('master-1').map((object) => object.id)).toContain('after');
  });

  it("catches the stores up to what the log holds when a batch had a skipped message, which may have stood for the only message of a real event", async () => {
    const h = harness();
    const deps = { ...h.deps, pauses: new Pauses() };
    const [one, two] = await h.appendAll([add('workspace', 'one'), add('workspace', 'two')]);
    // Event 2's copy with other content, taken by the queue in place of the real message (one deduplication id).
    const forged = JSON.stringify({ ...two!, properties: { name: 'forged' } });
    const batch = await readDelivered(h.log, CLUSTER, [JSON.stringify(one), forged]);
    expect(batch.skipped).toEqual([{ index: 1, reason: expect.stringContaining('differs from the log') }]);
    const result = await catchUpMasterStores(deps, CLUSTER, ['master-1', 'master-2'], deliveryTarget([1], undefined), batch.events, { skipped: true });
    expect(result).toEqual({ caughtUp: { 'master-1': 2, 'master-2': 2 }, paused: [], failures: [] });
    for (const node of ['master-1', 'master-2']) {
      expect(h.store.liveObjects(node).map((object) => [object.id, object.properties])).toEqual([
        ['one', {}],
        ['two', {}],
      ]);
    }
    // A batch of skipped messages alone (one numbered past the head): the stores follow the log, and the batch does not fail.
    await h.append(add('workspace', 'three'));
    const pastHead = await readDelivered(h.log, CLUSTER, [JSON.stringify({ ...two!, sequence: 40 })]);
    expect(pastHead.events).toEqual([]);
    expect(await catchUpMasterStores(deps, CLUSTER, ['master-1'], undefined, [], { skipped: true })).toEqual({ caughtUp: { 'master-1': 1 }, paused: [], failures: [] });
    expect(await h.store.readCursor('master-1')).toBe(3);
  });

  it("takes a batch to its highest sequence, or to its change set's end at most MAX_AHEAD past it", () => {
    expect(deliveryTarget([], 9)).toBeUndefined();
    expect(deliveryTarget([3, 7, 5], undefined)).toBe(7);
    expect(deliveryTarget([3, 7], 6)).toBe(7);
    expect(deliveryTarget([3, 7], 900)).toBe(900);
    expect(deliveryTarget([3, 7], 5000)).toBe(1007);
  });

  it('without the queue, a pure master publish applies its store itself', async () => {
    const h = harness();
    const result = await publishChange(h.deps, MASTER, add('workspace', 'one'));
    expect(result.appliedLocally).toBe(true);
    expect(await h.store.readCursor('master-1')).toBe(1);
  });

  it('answers true when the consumer was first: the store already holds the events', async () => {
    const h = harness();
    const appended = await h.append(add('workspace', 'x'));
    await catchUpMasterStores({ ...h.deps, pauses: new Pauses() }, CLUSTER, ['master-1'], appended.sequence);
    const outcome = await catchUpOnce(h.deps, { cluster: CLUSTER, node: 'master-1' }, appended.sequence, [appended], { onlyWhenNext: true });
    expect(outcome).toMatchObject({ settled: true, applied: [], cursor: 1 });
  });
});

describe('the master-stores queue marks delivered events published, which publish requests leave to it', () => {
  it('a request answers published once the topic accepted the events; they stay unpublished in the log until delivered', async () => {
    const h = harness();
    const deps = { ...h.deps, masterStoresQueued: true };
    const one = await publishChange(deps, MASTER, add('workspace', 'one'));
    const set = await publishChanges(deps, MASTER, [add('workspace', 'two'), add('workspace', 'three')]);
    expect([one.published, set.published]).toEqual([true, true]);
    expect(h.topic.published.map((event) => event.sequence)).toEqual([1, 2, 3]);
    expect((await h.log.listUnpublished(CLUSTER, 10)).map((event) => event.sequence)).toEqual([1, 2, 3]);
    // The queue delivers the topic's messages (a batch may hold them out of order).
    const bodies = h.topic.published.map((event) => JSON.stringify(event)).reverse();
    await markDelivered(h.log, CLUSTER, (await readDelivered(h.log, CLUSTER, bodies)).events.map((event) => event.sequence));
    expect(await h.log.listUnpublished(CLUSTER, 10)).toEqual([]);
    // Nothing is left for the republish schedule to send again.
    expect(await republishPending(h.deps, CLUSTER)).toEqual([]);
  });

  it('without the queue, the request marks its events itself', async () => {
    const h = harness();
    const result = await publishChange(h.deps, MASTER, add('workspace', 'one'));
    expect(result.published).toBe(true);
    expect(await h.log.listUnpublished(CLUSTER, 10)).toEqual([]);
  });

  it('marks each run of consecutive sequences with one log call, oldest first, and leaves what was not delivered', async () => {
    const h = harness();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) await h.append(add('workspace', id));
    const calls: [number, number | undefined][] = [];
    const log = { markPublished: async (cluster: string, from: number, to?: number) => { calls.push([from, to]); await h.log.markPublished(cluster, from, to); } };
    await markDelivered(log, CLUSTER, [1, 2, 3, 5, 6]);
    expect(calls).toEqual([
      [1, 3],
      [5, 6],
    ]);
    expect((await h.log.listUnpublished(CLUSTER, 10)).map((event) => event.sequence)).toEqual([4]);
  });
});

describe("a batch of the master-stores queue, from its messages (catchUpFromQueue)", () => {
  /** The consumer's ports with the log's reads, the store's reads and commits and the marks counted, in order. */
  function consumer(h: ReturnType<typeof harness>) {
    const calls: string[] = [];
    const log = h.log;
    const countingLog = Object.assign(Object.create(Object.getPrototypeOf(log)) as typeof log, log, {
      readRange: async (...args: Parameters<typeof log.readRange>) => {
        calls.push('readRange');
        return log.readRange(...args);
      },
      head: async (cluster: string) => {
        calls.push('head');
        return log.head(cluster);
      },
    });
    const store = h.store;
    for (const name of ['readCursor', 'readApplyState', 'commit', 'commitBatch'] as const) {
      const original = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
      (store as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        calls.push(name);
        return original(...args);
      };
    }
    const pauses = new Pauses();
    const read = pauses.read.bind(pauses);
    pauses.read = async (node: string) => {
      calls.push('pause');
      return read(node);
    };
    const marked: number[][] = [];
    const mark = async (sequences: readonly number[]) => {
      calls.push('mark');
      marked.push([...sequences]);
      await markDelivered(h.log, CLUSTER, sequences);
    };
    const deps = { ...h.deps, log: countingLog, pauses };
    const deliver = (messages: readonly (MasterStoresMessage | string)[]) =>
      catchUpFromQueue(deps, CLUSTER, ['master-1'], messages.map((message) => (typeof message === 'string' ? { body: message } : message)), mark);
    return { calls, marked, deliver, pauses };
  }

  it("commits a lone change delivered to a store right before it checking the log's item, reading nothing of the log, and marks it after the commit", async () => {
    const h = harness();
    const { calls, marked, deliver } = consumer(h);
    for (const id of ['one', 'two', 'three']) {
      const event = await h.append(add('workspace', id));
      calls.splice(0);
      expect(await deliver([JSON.stringify(event)])).toMatchObject({ caughtUp: { 'master-1': 1 }, paused: [], failures: [], batch: { events: [event], skipped: [] }, toSequence: event.sequence });
      // The first delivery too: a store never applied to is taken as right before the log's first event.
      expect(calls).toEqual(['pause', 'commit', 'mark']);
    }
    expect(marked).toEqual([[1], [2], [3]]);
    expect(await h.log.listUnpublished(CLUSTER, 10)).toEqual([]);
    expect(h.store.liveObjects('master-1').map((object) => [object.id, object.lastSequence])).toEqual([
      ['one', 1],
      ['three', 3],
      ['two', 2],
    ]);
  });

  it("reads no pause first on a store whose commit checks it: one commit per change, refused while the master is paused", async () => {
    const h = harness();
    const pauses = new Pauses();
    const store = new MemoryNodeStore({ log: h.log, paused: (node) => pauses.states.has(node) });
    const calls: string[] = [];
    const read = pauses.read.bind(pauses);
    pauses.read = async (node: string) => {
      calls.push('pause');
      return read(node);
    };
    const commit = store.commit.bind(store);
    store.commit = async (...args) => {
      calls.push('commit');
      return commit(...args);
    };
    const deps = { ...h.deps, store, pauses };
    const deliver = (event: unknown) => catchUpFromQueue(deps, CLUSTER, ['master-1'], [{ body: JSON.stringify(event) }], async () => undefined);
    const [one, two] = await h.appendAll([add('workspace', 'one'), add('workspace', 'two')]);
    expect(await deliver(one)).toMatchObject({ caughtUp: { 'master-1': 1 }, paused: [] });
    expect(calls).toEqual(['commit']);
    await pauses.write('master-1', { since: '2025-01-01T00:00:00.000Z', by: 'master-1' });
    calls.splice(0);
    expect(await deliver(two)).toMatchObject({ caughtUp: {}, paused: ['master-1'], failures: [] });
    expect(calls).toEqual(['commit']);
    expect(await store.readCursor('master-1')).toBe(1);
    // Resumed, it catches up from the log (the republish schedule's run, or a later delivery).
    await pauses.write('master-1', undefined);
    expect((await catchUpMasterStores(deps, CLUSTER, ['master-1'])).caughtUp).toEqual({ 'master-1': 1 });
    expect(store.liveObjects('master-1').map((object) => object.id)).toEqual(['one', 'two']);
  });

  it("reads no head for a batch found applied with the store at most a batch of the queue past it, which the queue's next messages reach", async () => {
    const h = harness();
    const { calls, deliver } = consumer(h);
    // Three publishers' events, their messages in the queue out of sequence order.
    const [one, two, three] = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    await deliver([JSON.stringify(three)]);
    expect(await h.store.readCursor('master-1')).toBe(3);
    // Found applied, the store 1 and 2 past them: the queue's later messages bring what follows.
    for (const late of [two, one]) {
      calls.splice(0);
      expect((await deliver([JSON.stringify(late)])).caughtUp).toEqual({ 'master-1': 0 });
      expect(calls).not.toContain('head');
    }
    const [four] = await h.appendAll([add('workspace', 'd')]);
    expect((await deliver([JSON.stringify(four)])).caughtUp).toEqual({ 'master-1': 1 });
    expect(await h.store.readCursor('master-1')).toBe(4);
  });

  it('takes a message that came late (at or below the cursor its last batch left the store at) as found applied, reading neither the store nor the pause', async () => {
    const h = harness();
    const { calls, marked, deliver } = consumer(h);
    const [one, two, three] = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    await deliver([JSON.stringify(one)]);
    await deliver([JSON.stringify(three)]);
    expect(await h.store.readCursor('master-1')).toBe(3);
    calls.splice(0);
    expect(await deliver([JSON.stringify(two)])).toMatchObject({ caughtUp: { 'master-1': 0 }, paused: [], failures: [], batch: { events: [two], skipped: [] } });
    // Compared with the log (the message must be the log's event to be marked), and marked: nothing else.
    expect(calls.filter((call) => call !== 'readRange')).toEqual(['mark']);
    expect(marked[marked.length - 1]).toEqual([2]);
    // The next one goes the usual way: one commit assuming the store right before it.
    const [four] = await h.appendAll([add('workspace', 'd')]);
    calls.splice(0);
    expect((await deliver([JSON.stringify(four)])).caughtUp).toEqual({ 'master-1': 1 });
    expect(calls).toEqual(['pause', 'commit', 'mark']);
  });

  it("a store set below the cursor the consumer knows behind its back (a pure master's resync's finish): a late message is taken as found applied, and the next one fills the gap from the log", async () => {
    const h = harness();
    const { deliver } = consumer(h);
    const [one, two, three] = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    await deliver([JSON.stringify(one)]);
    await deliver([JSON.stringify(three)]);
    await h.store.finishSnapshot('master-1', 1);
    expect((await deliver([JSON.stringify(two)])).caughtUp).toEqual({ 'master-1': 0 });
    expect(await h.store.readCursor('master-1')).toBe(1);
    const [four] = await h.appendAll([add('workspace', 'd')]);
    expect((await deliver([JSON.stringify(four)])).caughtUp).toEqual({ 'master-1': 3 });
    expect(await h.store.readCursor('master-1')).toBe(4);
  });

  it('a paused master: a message that came late is taken as found applied and writes nothing, one past the cursor known is refused for the pause, and once resumed the next one catches the store up', async () => {
    const h = harness();
    const { calls, deliver, pauses } = consumer(h);
    const [one, two, three] = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    await deliver([JSON.stringify(one)]);
    await deliver([JSON.stringify(three)]);
    expect(await h.store.readCursor('master-1')).toBe(3);
    await pauses.write('master-1', { since: '2026-12-07T00:00:00.000Z', by: 'master-1' });
    const objects = h.store.allObjects('master-1');
    calls.splice(0);
    expect(await deliver([JSON.stringify(two)])).toMatchObject({ caughtUp: { 'master-1': 0 }, failures: [] });
    expect(calls.filter((call) => call !== 'readRange')).toEqual(['mark']);
    // Past the cursor known: the pause is read, and nothing is written.
    const [four, five] = await h.appendAll([add('workspace', 'd'), add('workspace', 'e')]);
    expect(await deliver([JSON.stringify(four)])).toMatchObject({ caughtUp: {}, paused: ['master-1'], failures: [] });
    expect(calls).toContain('pause');
    expect(calls).not.toContain('commit');
    expect(h.store.allObjects('master-1')).toEqual(objects);
    expect(await h.store.readCursor('master-1')).toBe(3);
    // Resumed: the next message finds the store behind it and applies 4 and 5 from the log.
    await pauses.write('master-1', undefined);
    expect((await deliver([JSON.stringify(five)])).caughtUp).toEqual({ 'master-1': 2 });
    expect(await h.store.readCursor('master-1')).toBe(5);
  });

  it("a pure master's resync that stopped after its finish (a store below the cursor the consumer knows, and no message after): the late messages taken as found applied are the republish schedule's, which catches the store up to the head", async () => {
    const h = harness();
    const { deliver } = consumer(h);
    const [one, two, three] = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    await deliver([JSON.stringify(one)]);
    await deliver([JSON.stringify(three)]);
    const whole = h.store.allObjects('master-1');
    // Its snapshot (from a source at 1) written and finished; the requests that would go on with the catch-up never came.
    await h.store.finishSnapshot('master-1', 1);
    expect((await deliver([JSON.stringify(two)])).caughtUp).toEqual({ 'master-1': 0 });
    expect(await h.store.readCursor('master-1')).toBe(1);
    // The schedule's run (its own function: another consumer of the stores, to the log head).
    expect(await catchUpMasterStores({ ...h.deps, pauses: new Pauses() }, CLUSTER, ['master-1'])).toEqual({ caughtUp: { 'master-1': 2 }, paused: [], failures: [] });
    expect(await h.store.readCursor('master-1')).toBe(3);
    expect(h.store.allObjects('master-1')).toEqual(whole);
  });

  it("skips a forged copy of the next event, which its commit's check refuses: nothing written or marked for it, the log's event applied", async () => {
    const h = harness();
    const { calls, marked, deliver } = consumer(h);
    const real = await h.append(add('workspace', 'real'));
    const forged = JSON.stringify({ ...real, properties: { name: 'forged' } });
    const result = await deliver([forged]);
    expect(result.batch).toEqual({ events: [], skipped: [{ index: 0, reason: expect.stringContaining("differs from the log's event 1 (properties)") }] });
    expect(result.failures).toEqual([]);
    // The refused commit, then the batch read against the log as any other: the store follows the log.
    expect(calls.slice(0, 3)).toEqual(['pause', 'commit', 'readRange']);
    expect(marked).toEqual([[]]);
    expect((await h.log.listUnpublished(CLUSTER, 10)).map((event) => event.sequence)).toEqual([1]);
    expect(h.store.liveObjects('master-1').map((object) => [object.id, object.properties])).toEqual([['real', {}]]);
    // The real message, delivered after, finds its event applied, and marks it.
    expect((await deliver([JSON.stringify(real)])).batch.events).toEqual([real]);
    expect(await h.log.listUnpublished(CLUSTER, 10)).toEqual([]);
  });

  it('reads the batch against the log first for a change set\'s message, a batch of several, a store not right before it, or a paused master', async () => {
    const h = harness();
    const { calls, deliver, pauses } = consumer(h);
    const set = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    // A change set's first message: its item is a chunk, which no check could pass.
    calls.splice(0);
    await deliver([{ body: JSON.stringify(set[0]), messageAttributes: { rangeLast: { stringValue: '3' } } }]);
    expect(calls[0]).toBe('readRange');
    expect(await h.store.readCursor('master-1')).toBe(3);
    // The set's later message: the window read for the first holds its event, so comparing it costs nothing.
    calls.splice(0);
    await deliver([JSON.stringify(set[1])]);
    expect(calls).not.toContain('readRange');
    expect(await h.store.readCursor('master-1')).toBe(3);
    // A message past the store's next event: the checked commit loses to the cursor, the batch is
    // read against the log, and the store caught up from it.
    const [fourth, fifth] = await h.appendAll([add('workspace', 'd'), add('workspace', 'e')]);
    calls.splice(0);
    expect((await deliver([JSON.stringify(fifth)])).caughtUp).toEqual({ 'master-1': 2 });
    expect(calls.slice(0, 4)).toEqual(['pause', 'commit', 'readCursor', 'readRange']);
    // The next delivery, after one that found the store behind: read against the log first.
    calls.splice(0);
    await deliver([JSON.stringify(fourth)]);
    expect(calls[0]).toBe('readRange');
    expect(await h.store.readCursor('master-1')).toBe(5);
    // Two messages in one batch.
    const two = await h.appendAll([add('workspace', 'f'), add('workspace', 'g')]);
    calls.splice(0);
    await deliver(two.map((event) => JSON.stringify(event)));
    expect(calls[0]).toBe('readRange');
    expect(await h.store.readCursor('master-1')).toBe(7);
    // A paused master: nothing committed, the batch read against the log and marked.
    await pauses.write('master-1', { since: '2025-01-01T00:00:00.000Z', by: 'master-1' });
    const [later] = await h.appendAll([add('workspace', 'h')]);
    calls.splice(0);
    expect(await deliver([JSON.stringify(later)])).toMatchObject({ caughtUp: {}, paused: ['master-1'], batch: { events: [later] } });
    expect(calls).toEqual(['pause', 'readRange', 'mark']);
    expect(await h.store.readCursor('master-1')).toBe(7);
  });
});
