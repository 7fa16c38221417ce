// Change sets on the in-memory ports: one contiguous range, all or nothing, validated item by
// item before anything is written; holes left by a publisher that died after allocating are
// closed as void and every node moves past them.
import { applyDeliveredBatch, applyDeliveredEvent, catchUp } from '../../../lambdas/config-sync/apply';
import { ChangeSetTooLargeError, IdempotencyKeyReusedError, InvalidConfigEventError } from '../../../lambdas/config-sync/errors';
import { parseEventMessage, type ConfigChange } from '../../../lambdas/config-sync/events';
import { MAX_CHANGE_SET_ITEMS } from '../../../lambdas/config-sync/change-set-limits';
import { parsePublishRequest, publishIdempotently, type PublishContext } from '../../../lambdas/config-sync/publish';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { parkingKey } from '../../../lambdas/config-sync/events';
import { HELD_CURSOR, type BatchCommit, type CheckedCommitOutcome, type CommitOutcome, type StoreCommit } from '../../../lambdas/config-sync/ports';
import { add, applyDeps, CLUSTER, harness, modify, ref, remove, type Harness } from './fixtures';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };
const SLAVE = { cluster: CLUSTER, node: 'slave-1' };

const workspaces = (count: number, from = 0): ConfigChange[] =>
  Array.from({ length: count }, (_, index) => add('workspace', `ws${from + index}`, { name: `ws${from + index}` }));

describe('change sets', () => {
  it('commits a change set as one contiguous range in request order, publishes it in order and every node applies it', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('workspace', 'before', { name: 'before' }));
    const changes = [...workspaces(25), modify('workspace', 'ws3', { isolated: true }), remove('workspace', 'ws4')];
    const outcome = await publishIdempotently(h.deps, MASTER, { changes });

    expect(outcome.answer).toEqual({ firstSequence: 2, lastSequence: 28, count: 27, origin: 'master-1', publishedAt: '2025-01-01T00:00:01.000Z', published: true, appliedLocally: true });
    const logged = await h.log.readRange(CLUSTER, 2, 28);
    expect(logged.map((event) => event.sequence)).toEqual(Array.from({ length: 27 }, (_, i) => i + 2));
    expect(logged.map((event) => ('object' in event ? event.object?.id : undefined))).toEqual(changes.map((change) => change.object.id));
    expect(h.topic.published.map((event) => event.sequence)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    expect(await h.log.listUnpublished(CLUSTER, 100)).toEqual([]);

    // A slave delivered the whole set in queue batches of 10 ends with the master's state.
    const messages = h.topic.published.map((event) => JSON.stringify(event));
    for (let start = 0; start < messages.length; start += 10) {
      const result = await applyDeliveredBatch(applyDeps(h), SLAVE, messages.slice(start, start + 10));
      expect(result.failure).toBeUndefined();
    }
    expect(await h.store.readCursor('slave-1')).toBe(28);
    expect(h.store.allObjects('slave-1')).toEqual(h.store.allObjects('master-1'));
    expect(h.store.allObjects('slave-1').find((object) => object.id === 'ws3')?.properties).toEqual({ name: 'ws3', isolated: true });
    expect(h.store.allObjects('slave-1').find((object) => object.id === 'ws4')?.deleted).toBe(true);
  });

  it('refuses a change set with any bad item (400 naming each item index and field) and writes nothing', async () => {
    const h = harness();
    const changes: unknown[] = [
      ...workspaces(3),
      { kind: 'add', object: { type: 'table', id: 'x' }, properties: {} },
      add('workspace', 'ok'),
      { kind: 'modify', object: { type: 'layer', id: 'topp:a' } },
    ];
    const attempt = publishIdempotently(h.deps, MASTER, { changes });
    await expect(attempt).rejects.toBeInstanceOf(InvalidConfigEventError);
    const error = (await attempt.catch((caught: unknown) => caught)) as InvalidConfigEventError;
    expect(error.status).toBe(400);
    expect(error.field).toBe('changes[3].object.type');
    expect(error.issues.map((issue) => issue.field)).toEqual(['changes[3].object.type', 'changes[5].patch']);
    expect(await h.log.head(CLUSTER)).toBe(0);
    expect(h.topic.published).toEqual([]);
    expect(h.store.allObjects('master-1')).toEqual([]);
  });

  it('answers 400 naming `changes` for an empty list, a list over the limit, a non-list, and another field beside it', () => {
    const fieldOf = (body: unknown) => {
      try {
        parsePublishRequest(body);
      } catch (error) {
        return { field: (error as InvalidConfigEventError).field, message: (error as Error).message };
      }
      throw new Error('accepted');
    };
    expect(fieldOf({ changes: [] })).toEqual({ field: 'changes', message: 'changes: must hold at least one change' });
    expect(fieldOf({ changes: workspaces(MAX_CHANGE_SET_ITEMS + 1) }).message).toContain(`over the limit of ${MAX_CHANGE_SET_ITEMS}`);
    expect(fieldOf({ changes: add('workspace', 'a') }).field).toBe('changes');
    expect(fieldOf({ changes: workspaces(1), atomic: true }).field).toBe('atomic');
    expect(parsePublishRequest({ changes: workspaces(MAX_CHANGE_SET_ITEMS) })).toMatchObject({ form: 'set' });
    // The single-change form is unchanged.
    expect(parsePublishRequest(add('workspace', 'a'))).toMatchObject({ form: 'single', change: { object: { id: 'a' } } });
  });

  it('replays a change set under the same Idempotency-Key without committing it again', async () => {
    const h = harness();
    const body = { changes: workspaces(5) };
    const first = await publishIdempotently(h.deps, MASTER, body, { key: 'set-1', bodyHash: 'h' });
    const again = await publishIdempotently(h.deps, MASTER, body, { key: 'set-1', bodyHash: 'h' });
    expect(again).toEqual({ replayed: true, answer: first.answer });
    expect(await h.log.head(CLUSTER)).toBe(5);
  });

  it('answers a retry the log refuses on size (it may derive more than the first did) as a replay when its key is taken, and passes the 413 on when not', async () => {
    const h = harness();
    const body = { changes: workspaces(5) };
    const first = await publishIdempotently(h.deps, MASTER, body, { key: 'set-1', bodyHash: 'h' });
    // The event log checks a set's stored size before its key (adapters/dynamo-event-log.ts).
    const tooLarge = () => Promise.reject(new ChangeSetTooLargeError('the change set would be 4,100,000 bytes stored'));
    const log = Object.assign(Object.create(Object.getPrototypeOf(h.log)) as typeof h.log, h.log, { appendAll: tooLarge });
    const deps = { ...h.deps, log };
    expect(await publishIdempotently(deps, MASTER, body, { key: 'set-1', bodyHash: 'h' })).toEqual({ replayed: true, answer: first.answer });
    await expect(publishIdempotently(deps, MASTER, body, { key: 'set-2', bodyHash: 'h' })).rejects.toBeInstanceOf(ChangeSetTooLargeError);
    await expect(publishIdempotently(deps, MASTER, body, { key: 'set-1', bodyHash: 'other' })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(await h.log.head(CLUSTER)).toBe(5);
  });
});

describe('applying runs of events in few store writes', () => {
  class CountingStore extends MemoryNodeStore {
    commits = 0;
    batches: number[] = [];
    override async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
      this.commits += 1;
      return super.commit(node, commit);
    }
    override async commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome> {
      const outcome = await super.commitBatch(node, commit);
      if (outcome === 'committed') this.batches.push(commit.sequence - commit.expectedCursor);
      return outcome;
    }
  }

  it('commits a queue batch of 10 consecutive events in one store write, one object written once with its last state', async () => {
    const h = harness();
    const store = new CountingStore();
    const events = await h.appendAll([...workspaces(8), modify('workspace', 'ws1', { a: 1 }), modify('workspace', 'ws1', { b: 2 })]);
    const result = await applyDeliveredBatch({ store, log: h.log, bodies: h.bodies }, SLAVE, events.map((event) => JSON.stringify(event)));
    expect(result.failure).toBeUndefined();
    expect(result.results.map((delivery) => delivery.disposition)).toEqual(Array(10).fill('applied'));
    expect(store.batches).toEqual([10]);
    expect(store.commits).toBe(0);
    expect(store.liveObjects('slave-1').find((object) => object.id === 'ws1')).toMatchObject({ properties: { name: 'ws1', a: 1, b: 2 }, lastSequence: 10 });
  });

  it('a catch-up of 1,000 events takes a few transactions, and an event of a parked object splits the run and waits behind its record', async () => {
    const h = harness();
    const store = new CountingStore();
    await h.appendAll(workspaces(1000));
    const result = await catchUp({ store, log: h.log, bodies: h.bodies }, SLAVE);
    expect(result.cursor).toBe(1000);
    expect(store.batches.reduce((sum, n) => sum + n, 0)).toBe(1000);
    expect(store.batches.length).toBeLessThanOrEqual(11);

    // ws5 is parked on this node (its change 1001): its next change 1004 waits behind it, the others around it are applied.
    await store.park('slave-1', { expectedCursor: 1000, sequence: 1001, key: parkingKey(ref('workspace', 'ws5'), 1001), object: ref('workspace', 'ws5'), cause: { reason: 'test', attempts: 3, parkedAt: '2025-01-01T00:00:00Z' } });
    await h.append(modify('workspace', 'ws5', { x: 1 }));
    await h.appendAll([modify('workspace', 'ws6', { x: 1 }), modify('workspace', 'ws7', { x: 1 }), modify('workspace', 'ws5', { y: 1 }), modify('workspace', 'ws8', { x: 1 }), modify('workspace', 'ws9', { x: 1 })]);
    const rest = await catchUp({ store, log: h.log, bodies: h.bodies }, SLAVE);
    expect(rest.applied.map((step) => [step.sequence, step.effect])).toEqual([[1002, 'patched'], [1003, 'patched'], [1004, 'parked'], [1005, 'patched'], [1006, 'patched']]);
    expect((await store.listParked('slave-1'))[0]?.sequences).toEqual([1001, 1004]);
  });
});

describe('a change set announced by its messages', () => {
  it('is applied ahead from the log by the first message that names its end; its later messages find their events applied', async () => {
    const h = harness();
    const store = new MemoryNodeStore();
    const events = await h.appendAll(workspaces(25));
    const deps = { store, log: h.log, bodies: h.bodies };
    const first = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[0])], { aheadTo: 25 });
    expect(first.failure).toBeUndefined();
    expect(await store.readCursor('slave-1')).toBe(25);
    const later = await applyDeliveredBatch(deps, SLAVE, events.slice(1, 11).map((event) => JSON.stringify(event)), { aheadTo: 25 });
    expect(later.results.map((delivery) => delivery.disposition)).toEqual(Array(10).fill('duplicate'));
    expect(store.liveObjects('slave-1')).toHaveLength(25);
  });
});

describe('applying ahead of the queue', () => {
  it('applies what the log already holds after the delivered messages; a GeoServer node does not', async () => {
    const h = harness();
    const events = await h.appendAll(workspaces(5));
    const store = new MemoryNodeStore();
    const result = await applyDeliveredBatch({ store, log: h.log, bodies: h.bodies }, SLAVE, [JSON.stringify(events[0])]);
    expect(result.results.map((delivery) => delivery.disposition)).toEqual(['applied']);
    expect(await store.readCursor('slave-1')).toBe(5);
    const rest = await applyDeliveredBatch({ store, log: h.log, bodies: h.bodies }, SLAVE, events.slice(1).map((event) => JSON.stringify(event)));
    expect(rest.results.map((delivery) => delivery.disposition)).toEqual(Array(4).fill('duplicate'));
  });

  /** A log whose range reads are counted. */
  const countingLog = (h: Harness) => {
    let reads = 0;
    const readRange = h.log.readRange.bind(h.log);
    h.log.readRange = async (...args) => {
      reads += 1;
      return readRange(...args);
    };
    return () => reads;
  };

  it('reads nothing ahead when the queue showed no backlog: the delivered event alone (its one read of the log: its own sequence, to apply the log\'s event), the later ones left to their messages', async () => {
    const h = harness();
    const events = await h.appendAll(workspaces(3));
    const reads = countingLog(h);
    const ranges: [number, number][] = [];
    const counted = h.log.readRange.bind(h.log);
    h.log.readRange = async (cluster, from, to) => {
      ranges.push([from, to]);
      return counted(cluster, from, to);
    };
    const deps = { store: new MemoryNodeStore(), log: h.log, bodies: h.bodies };
    const first = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[0])], { knownCursor: 0, readAhead: false });
    expect(first).toMatchObject({ cursor: 1, results: [{ disposition: 'applied', sequence: 1 }] });
    expect(reads()).toBe(1);
    const second = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[1])], { knownCursor: 1, readAhead: false });
    expect(second).toMatchObject({ cursor: 2, results: [{ disposition: 'applied', sequence: 2 }] });
    expect(reads()).toBe(2);
    expect(ranges).toEqual([[1, 1], [2, 2]]);
    expect(deps.store.allObjects('slave-1').map((object) => object.id)).toEqual(['ws0', 'ws1']);
  });

  it('after a gap of a page or more, still reads ahead from the highest delivered event (the gap, the event with it, read by the applier)', async () => {
    const h = harness();
    const events = await h.appendAll(workspaces(200));
    const deps = { store: new MemoryNodeStore(), log: h.log, bodies: h.bodies };
    await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[0])], { knownCursor: 0, readAhead: false });
    const far = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[149])], { knownCursor: 1 });
    expect(far).toMatchObject({ cursor: 200, results: [{ disposition: 'applied', sequence: 150 }] });
    expect(far.setAside).toBeUndefined();
  });

  it('reads ahead all the same when the delivered events show the node behind the log: past the next sequence, or at or below the known cursor', async () => {
    const h = harness();
    const events = await h.appendAll(workspaces(6));
    const reads = countingLog(h);
    const deps = { store: new MemoryNodeStore(), log: h.log, bodies: h.bodies };
    await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[0])], { knownCursor: 0, readAhead: false });
    // Event 3 arrives while the cursor is at 1: 2 is filled from the log, and 4..6 are read ahead.
    const gap = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[2])], { knownCursor: 1, readAhead: false });
    expect(gap).toMatchObject({ cursor: 6, results: [{ disposition: 'applied', sequence: 3 }] });
    const afterGap = reads();
    expect(afterGap).toBeGreaterThan(0);
    // Event 8 is published, then event 5's message arrives, applied already by that read.
    await h.appendAll(workspaces(2, 6));
    const late = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[4])], { knownCursor: 6, readAhead: false });
    expect(late).toMatchObject({ cursor: 8, results: [{ disposition: 'duplicate', sequence: 5 }] });
    expect(reads()).toBeGreaterThan(afterGap);
    expect(deps.store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [`ws${i}`, i + 1]));
  });
});

describe('holes left by a publisher that died between allocation and commit', () => {
  it('are closed as void: a slave that receives the next event moves its cursor past them and applies it', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('workspace', 'a', { name: 'a' }));
    const abandoned = h.log.abandonAllocation(CLUSTER, 3);
    expect(abandoned).toEqual([2, 3, 4]);
    await publishIdempotently(h.deps, MASTER, { changes: workspaces(2) });

    const delivered = h.topic.published.filter((event) => event.sequence === 5)[0];
    if (!delivered) throw new Error('sequence 5 was not published');
    const result = await applyDeliveredEvent(applyDeps(h), SLAVE, parseEventMessage(JSON.stringify(delivered)));
    expect(result).toMatchObject({ disposition: 'applied', cursor: 5 });
    // Event 1 is alone before the voids: written without reading its object first (an add's
    // result does not depend on it); 5 is committed in one run with the voids, read first.
    expect(result.applied.map((step) => [step.sequence, step.effect])).toEqual([
      [1, 'written'],
      [2, 'void'],
      [3, 'void'],
      [4, 'void'],
      [5, 'created'],
    ]);
    const log = await h.log.readRange(CLUSTER, 1, 6);
    expect(log.map((event) => ('voided' in event ? 'void' : event.sequence))).toEqual([1, 'void', 'void', 'void', 5, 6]);
    // The master's own store, caught up again, went past them too.
    expect((await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' })).cursor).toBe(6);
  });
});

describe("a queue consumer's known cursor", () => {
  // Each event is appended just before it is delivered: the applier also applies what the log
  // holds after the delivered events (apply-ahead), which would hide what these tests look at.
  /** A store that counts cursor reads (alone, or with the objects). */
  const countingStore = () => {
    const store = new MemoryNodeStore();
    let cursorReads = 0;
    const readCursor = store.readCursor.bind(store);
    const readApplyState = store.readApplyState.bind(store);
    store.readCursor = async (node) => {
      cursorReads += 1;
      return readCursor(node);
    };
    store.readApplyState = async (node, objects, parkingKeys, withCursor) => {
      if (withCursor) cursorReads += 1;
      return readApplyState(node, objects, parkingKeys, withCursor);
    };
    return { store, reads: () => cursorReads };
  };
  const deliver = async (h: Harness, id: string) => JSON.stringify(await h.append(add('workspace', id, { name: id })));
  /** A burst's log of `count` workspaces (ws0..), their messages not delivered yet, and a counting store. */
  const burstOf = async (count: number) => {
    const h = harness();
    const { store, reads } = countingStore();
    const messages: string[] = [];
    for (let i = 0; i < count; i += 1) messages.push(await deliver(h, `ws${i}`));
    return { h, store, reads, deps: { store, log: h.log, bodies: h.bodies }, messages };
  };

  it('spares the next batch its cursor read and applies every event once', async () => {
    const h = harness();
    const { store, reads } = countingStore();
    const deps = { store, log: h.log, bodies: h.bodies };
    const first = await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws0')]);
    expect(first.cursor).toBe(1);
    expect(reads()).toBe(1);
    const second = await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws1')], { knownCursor: first.cursor });
    expect(second).toMatchObject({ cursor: 2, results: [{ disposition: 'applied', sequence: 2 }] });
    expect(reads()).toBe(1);
    expect(await store.readCursor('slave-1')).toBe(2);
    expect(store.allObjects('slave-1').map((object) => object.id)).toEqual(['ws0', 'ws1']);
  });

  it('a stale one (another consumer applied meanwhile) fails the compare-and-swap and is read again: nothing applied twice', async () => {
    const h = harness();
    const deps = applyDeps(h);
    const first = await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws0')]);
    // Another instance applies 2..4.
    await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws1'), await deliver(h, 'ws2'), await deliver(h, 'ws3')]);
    const late = await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws4')], { knownCursor: first.cursor });
    expect(late).toMatchObject({ cursor: 5, results: [{ disposition: 'applied', sequence: 5 }] });
    expect(late.results[0] && 'applied' in late.results[0] ? late.results[0].applied.map((step) => step.sequence) : []).toEqual([5]);
    expect(h.store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([
      ['ws0', 1],
      ['ws1', 2],
      ['ws2', 3],
      ['ws3', 4],
      ['ws4', 5],
    ]);
  });

  it('a burst: messages the read ahead applied before the queue brought them cost no cursor read when the log holds what follows, whose commit against it proves it', async () => {
    const { h, store, reads, deps, messages } = await burstOf(5);
    // The first message's read ahead applies the whole log (1..5).
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(first.cursor).toBe(5);
    expect(reads()).toBe(1);
    await deliver(h, 'ws5');
    await deliver(h, 'ws6');
    // The queue now brings message 3, applied already.
    const late = await applyDeliveredBatch(deps, SLAVE, [messages[2]!], { knownCursor: first.cursor });
    expect(late).toMatchObject({ cursor: 7, results: [{ disposition: 'duplicate', sequence: 3 }] });
    expect(reads()).toBe(1);
    expect(store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => [`ws${i}`, i + 1]));
  });

  it('a message far behind the cursor (the queue still bringing a set applied ahead): the log is read from the cursor, not from the message', async () => {
    const { h, store, reads, deps, messages } = await burstOf(5);
    // The node applied 1..5 ahead of its queue; 200 more events were published since.
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(first.cursor).toBe(5);
    // Reported once, here (the node's metrics count them): their messages come as duplicates.
    expect(first.readAhead?.map((step) => step.sequence)).toEqual([2, 3, 4, 5]);
    for (let i = 5; i < 205; i += 1) await deliver(h, `ws${i}`);
    const before = reads();
    // The queue brings message 2: a page read from 2 holds nothing past 5, a page from 5 does.
    const late = await applyDeliveredBatch(deps, SLAVE, [messages[1]!], { knownCursor: first.cursor });
    expect(late).toMatchObject({ cursor: 104, results: [{ disposition: 'duplicate', sequence: 2 }] });
    expect(late.readAhead?.map((step) => step.sequence)).toEqual(Array.from({ length: 99 }, (_, i) => i + 6));
    expect(reads()).toBe(before);
    // The next one goes on from there.
    const next = await applyDeliveredBatch(deps, SLAVE, [messages[2]!], { knownCursor: late.cursor });
    expect(next.cursor).toBe(203);
    expect(reads()).toBe(before);
    const held = store.allObjects('slave-1').map((object) => [object.id, object.lastSequence]);
    expect(held.sort(([a], [b]) => Number(String(a).slice(2)) - Number(String(b).slice(2)))).toEqual(Array.from({ length: 203 }, (_, i) => [`ws${i}`, i + 1]));
  });

  it('a burst, with the cursor below what the consumer remembers (a resync on another instance ended there): the lost commit reads it, and the delivered event is applied from the log', async () => {
    const { store, reads, deps, messages } = await burstOf(7);
    await catchUp(deps, SLAVE, 2);
    const before = reads();
    const result = await applyDeliveredBatch(deps, SLAVE, [messages[3]!], { knownCursor: 5 });
    expect(result.cursor).toBe(7);
    expect(result.results).toEqual([expect.objectContaining({ disposition: 'applied', sequence: 4 })]);
    expect(result.results[0]?.applied.map((step) => step.sequence)).toEqual([3, 4]);
    expect(result.readAhead?.map((step) => step.sequence)).toEqual([5, 6, 7]);
    expect(reads()).toBe(before + 1);
    expect(store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => [`ws${i}`, i + 1]));
  });

  it('a burst: messages the read ahead applied, with nothing in the log after the cursor it left, are dropped with no cursor read', async () => {
    const { store, reads, deps, messages } = await burstOf(5);
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(first.cursor).toBe(5);
    const before = reads();
    for (const message of messages.slice(1)) {
      const late = await applyDeliveredBatch(deps, SLAVE, [message], { knownCursor: first.cursor });
      expect(late).toMatchObject({ cursor: 5, results: [{ disposition: 'duplicate' }] });
      expect(late.readAhead).toBeUndefined();
    }
    expect(reads()).toBe(before);
    expect(store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([0, 1, 2, 3, 4].map((i) => [`ws${i}`, i + 1]));
  });

  it('is never taken to drop an event when it is no sequence of the log: past its head, or the hold marker a read under a hold gave', async () => {
    const h = harness();
    await deliver(h, 'ws0');
    // The consumer remembers a cursor the log never reached (a log started over): checked against the stored cursor.
    const result = await applyDeliveredBatch(applyDeps(h), SLAVE, [await deliver(h, 'ws1')], { knownCursor: 3 });
    expect(result).toMatchObject({ cursor: 2, results: [{ disposition: 'applied', sequence: 2 }] });
    expect(await h.store.readCursor('slave-1')).toBe(2);
    expect(h.store.allObjects('slave-1').map((object) => object.id)).toEqual(['ws0', 'ws1']);
    // Its last batch ran under a resync's hold, which has ended since: every event is at or below the marker.
    const ws2 = await deliver(h, 'ws2');
    const afterHold = await applyDeliveredBatch(applyDeps(h), SLAVE, [ws2], { knownCursor: HELD_CURSOR });
    expect(afterHold).toMatchObject({ cursor: 3, results: [{ disposition: 'applied', sequence: 3 }] });
    expect(h.store.allObjects('slave-1').map((object) => object.id)).toEqual(['ws0', 'ws1', 'ws2']);
  });

  it('a store set below the cursor it knows behind its back: the duplicates are dropped, and the next event past it fills the gap', async () => {
    const { h, store, deps, messages } = await burstOf(4);
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(first.cursor).toBe(4);
    // Set back to 1 (as a resync's finish does, on another instance of the function).
    await store.finishSnapshot('slave-1', 1);
    const late = await applyDeliveredBatch(deps, SLAVE, [messages[2]!], { knownCursor: first.cursor });
    expect(late).toMatchObject({ cursor: 4, results: [{ disposition: 'duplicate', sequence: 3 }] });
    expect(await store.readCursor('slave-1')).toBe(1);
    // The next event's commit against 4 fails, the cursor is read, and 2..5 are applied from the log.
    const next = await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws4')], { knownCursor: late.cursor });
    expect(next).toMatchObject({ cursor: 5, results: [{ disposition: 'applied', sequence: 5 }] });
    expect(next.results[0]?.applied.map((step) => step.sequence)).toEqual([2, 3, 4, 5]);
    expect(await store.readCursor('slave-1')).toBe(5);
  });

  it("a store set below it behind its back, then a consumer keeping up (no backlog, each copy checked in its commit): the next event's lost commit fills the gap the dropped duplicates left", async () => {
    const h = harness();
    const messages: string[] = [];
    for (let i = 0; i < 4; i += 1) messages.push(await deliver(h, `ws${i}`));
    // The log's store checks its items in the commit, as DynamoDB's does: the path of a node keeping up.
    const deps = applyDeps(h);
    expect(h.store.checksLog).toBe(true);
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(first.cursor).toBe(4);
    // Another instance's resync finishes at a snapshot below it, and its catch-up has not run yet.
    await h.store.finishSnapshot('slave-1', 1);
    for (const message of messages.slice(1)) {
      const late = await applyDeliveredBatch(deps, SLAVE, [message], { knownCursor: first.cursor, readAhead: false });
      expect(late).toMatchObject({ cursor: 4, results: [{ disposition: 'duplicate' }] });
    }
    expect(await h.store.readCursor('slave-1')).toBe(1);
    // One message, the queue showing no backlog: no read ahead, the copy committed against 4 with the log's item checked.
    const next = await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws4')], { knownCursor: first.cursor, readAhead: false });
    expect(next).toMatchObject({ cursor: 5, results: [{ disposition: 'applied', sequence: 5 }] });
    expect(next.results[0]?.applied.map((step) => step.sequence)).toEqual([2, 3, 4, 5]);
    expect(h.store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([0, 1, 2, 3, 4].map((i) => [`ws${i}`, i + 1]));
  });

  it("a store set below it behind its back: a batch whose log read fails, or that announces a change set's end past it, is not dropped on it: the cursor is read and the gap filled", async () => {
    const { h, store, deps, messages } = await burstOf(4);
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(first.cursor).toBe(4);
    await store.finishSnapshot('slave-1', 1);
    // The read of the log from the known cursor fails once: nothing shows 4 a sequence of the log.
    let failures = 1;
    const log = Object.assign(Object.create(h.log) as typeof h.log, {
      readRange: (...args: Parameters<typeof h.log.readRange>) => (failures-- > 0 ? Promise.reject(new Error('log unreadable')) : h.log.readRange(...args)),
    });
    const unread = await applyDeliveredBatch({ ...deps, log }, SLAVE, [messages[2]!], { knownCursor: first.cursor });
    // 2 read as the gap before it; 4 is its own message's (the read ahead failed).
    expect(unread).toMatchObject({ cursor: 3, results: [{ disposition: 'applied', sequence: 3 }] });
    expect(unread.results[0]?.applied.map((step) => step.sequence)).toEqual([2, 3]);
    expect(await store.readCursor('slave-1')).toBe(3);
    // Set back again; a message of a change set whose end (6) is past the known cursor.
    await store.finishSnapshot('slave-1', 1);
    await deliver(h, 'ws4');
    await deliver(h, 'ws5');
    const set = await applyDeliveredBatch(deps, SLAVE, [messages[1]!], { knownCursor: unread.cursor, aheadTo: 6 });
    expect(set.failure).toBeUndefined();
    expect(await store.readCursor('slave-1')).toBe(6);
    expect(store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [`ws${i}`, i + 1]));
  });

  it('a store left held and incomplete by a resync that failed part way: the duplicates it drops apply nothing either way, and a new resync brings the node to the head', async () => {
    const { h, deps, messages } = await burstOf(4);
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(first.cursor).toBe(4);
    // A resync job (on another instance) took the hold and began its copy, then failed: the hold stays.
    await deps.store.holdForResync('slave-1', 'resync-1', Date.now() - 1, true);
    await deps.store.releaseResyncHold('slave-1', 'resync-1');
    expect(await deps.store.readCursor('slave-1')).toBe(HELD_CURSOR);
    const late = await applyDeliveredBatch(deps, SLAVE, [messages[2]!], { knownCursor: first.cursor });
    expect(late).toMatchObject({ cursor: 4, results: [{ disposition: 'duplicate', sequence: 3 }] });
    // Past it, under the hold: read, held, nothing applied; the marker is not kept as a cursor to drop on.
    const held = await applyDeliveredBatch(deps, SLAVE, [await deliver(h, 'ws4')], { knownCursor: late.cursor });
    expect(held.results.map((result) => result.disposition)).toEqual(['duplicate']);
    expect(held.cursor).toBe(HELD_CURSOR);
    expect(deps.store.allObjects('slave-1').map((object) => object.id)).not.toContain('ws4');
    // A new resync finishes (its snapshot below every cursor known), and its catch-up goes to the head.
    await deps.store.finishSnapshot('slave-1', 2);
    await catchUp(deps, SLAVE);
    const after = await applyDeliveredBatch(deps, SLAVE, [messages[3]!], { knownCursor: held.cursor });
    expect(after).toMatchObject({ results: [{ disposition: 'duplicate', sequence: 4 }] });
    expect(await deps.store.readCursor('slave-1')).toBe(5);
    expect(deps.store.allObjects('slave-1').map((object) => [object.id, object.lastSequence])).toEqual([0, 1, 2, 3, 4].map((i) => [`ws${i}`, i + 1]));
  });
});
