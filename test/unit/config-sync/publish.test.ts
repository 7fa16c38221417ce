import { applyDeliveredEvent, catchUp } from '../../../lambdas/config-sync/apply';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import type { ClusterNode } from '../../../lambdas/shared/cluster-model';
import { InvalidConfigEventError, PureSlavePublishError } from '../../../lambdas/config-sync/errors';
import { isOffloaded, parseEventMessage, serializedBytes } from '../../../lambdas/config-sync/events';
import type { CheckedCommitOutcome, CommitOutcome } from '../../../lambdas/config-sync/ports';
import { publishChange, republishPending, type PublishContext } from '../../../lambdas/config-sync/publish';
import * as observability from '../../../lambdas/shared/observability';
import { add, applyDeps, CLUSTER, harness, modify } from './fixtures';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };
const BOTH: PublishContext = { cluster: CLUSTER, node: { name: 'both-1', role: 'both' } };
const PURE_SLAVE: ClusterNode = { name: 'slave-1', role: 'slave' };
const SLAVE_CONTEXT = { cluster: CLUSTER, node: 'slave-1' };

const SNS_MESSAGE_LIMIT = 256 * 1024;

/** A node store whose single-event commits fail (throttled) until told otherwise. */
class FailingStore extends MemoryNodeStore {
  failing = true;
  override async commit(...args: Parameters<MemoryNodeStore['commit']>): Promise<CheckedCommitOutcome> {
    if (this.failing) throw new Error('throttled');
    return super.commit(...args);
  }
}

describe('publishing a change', () => {
  it('refuses a pure slave with 403 and writes nothing', async () => {
    const h = harness();
    const attempt = publishChange(h.deps, { cluster: CLUSTER, node: PURE_SLAVE }, add('workspace', 'topp'));
    await expect(attempt).rejects.toBeInstanceOf(PureSlavePublishError);
    await expect(publishChange(h.deps, { cluster: CLUSTER, node: PURE_SLAVE }, add('workspace', 'topp'))).rejects.toMatchObject({
      status: 403,
      message: 'Node slave-1 is a pure slave: configuration changes must be published by a master',
    });
    expect(await h.log.head(CLUSTER)).toBe(0);
    expect(h.topic.published).toEqual([]);
    expect(h.bodies.size).toBe(0);
    expect(h.store.allObjects('slave-1')).toEqual([]);
  });

  it('refuses an invalid body with 400 naming the field, and publishes nothing', async () => {
    const h = harness();
    const attempt = publishChange(h.deps, MASTER, { kind: 'add', object: { type: 'table', id: 'x' }, properties: {} });
    await expect(attempt).rejects.toBeInstanceOf(InvalidConfigEventError);
    await expect(publishChange(h.deps, MASTER, { kind: 'modify', object: { type: 'layer', id: 'topp:a' } })).rejects.toMatchObject({
      status: 400,
      field: 'patch',
    });
    expect(await h.log.head(CLUSTER)).toBe(0);
    expect(h.topic.published).toEqual([]);
  });

  it('logs the event with a sequence, publishes it with its origin, and updates the master’s own store', async () => {
    const h = harness();
    const messages: [string, string][] = [];
    h.topic.subscribe((message, origin) => messages.push([message, origin]));
    const first = await publishChange(h.deps, MASTER, add('workspace', 'topp', { isolated: false }));
    const second = await publishChange(h.deps, MASTER, modify('workspace', 'topp', { isolated: true }));

    expect(first).toMatchObject({ published: true, appliedLocally: true, deferredFailures: [] });
    expect(first.event).toEqual({
      sequence: 1,
      cluster: CLUSTER,
      origin: 'master-1',
      publishedAt: '2025-01-01T00:00:00.000Z',
      kind: 'add',
      object: { type: 'workspace', id: 'topp' },
      properties: { isolated: false },
    });
    expect(second.event.sequence).toBe(2);
    expect(await h.log.readRange(CLUSTER, 1, 2)).toEqual([first.event, second.event]);
    expect(await h.log.listUnpublished(CLUSTER, 10)).toEqual([]);
    expect(messages.map(([message, origin]) => [parseEventMessage(message).sequence, origin])).toEqual([
      [1, 'master-1'],
      [2, 'master-1'],
    ]);
    expect(await h.store.readCursor('master-1')).toBe(2);
    expect(h.store.liveObjects('master-1')).toEqual([
      expect.objectContaining({ id: 'topp', properties: { isolated: true }, lastSequence: 2, lastOrigin: 'master-1' }),
    ]);
  });

  it('applies a both-node’s own event on the request when its store is right before it; its queue then delivers it as a duplicate', async () => {
    const h = harness();
    const result = await publishChange(h.deps, BOTH, add('workspace', 'mine', { name: 'mine' }));
    expect(result).toMatchObject({ appliedLocally: true, event: { sequence: 1 } });
    expect(h.store.liveObjects('both-1')).toEqual([expect.objectContaining({ id: 'mine', lastSequence: 1, lastOrigin: 'both-1' })]);
    const [delivered] = h.topic.published;
    expect(await applyDeliveredEvent(applyDeps(h), { cluster: CLUSTER, node: 'both-1' }, delivered!)).toEqual({
      disposition: 'duplicate',
      sequence: 1,
      applied: [],
      cursor: 1,
    });
  });

  it('counts the events the request commits to its node’s own store in the node’s EventsApplied, and none it leaves to the queue', async () => {
    const recorded = jest.spyOn(observability, 'addNodeMetric');
    try {
      const h = harness();
      await publishChange(h.deps, BOTH, add('workspace', 'mine', { name: 'mine' }));
      await publishChange(h.deps, MASTER, add('workspace', 'theirs', { name: 'theirs' }));
      // both-1's store is behind event 2 now: the request applies nothing of its event 3.
      const left = await publishChange(h.deps, BOTH, add('workspace', 'later', { name: 'later' }));
      expect(left.appliedLocally).toBe(false);
      const applied = (node: string) => recorded.mock.calls.filter(([name, of]) => name === 'EventsApplied' && of === node).map(([, , , value]) => value);
      expect(applied('both-1')).toEqual([1]);
      // A pure master without the master-stores queue: its request's pass applies both-1's event 1 and its own 2.
      expect(applied('master-1')).toEqual([2]);
    } finally {
      recorded.mockRestore();
    }
  });

  it('leaves a both-node’s own event to its queue when its store is behind it, which applies it after the others, in sequence order', async () => {
    const h = harness();
    await publishChange(h.deps, MASTER, add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, title: 'Roads' }));
    await publishChange(h.deps, MASTER, modify('layer', 'topp:roads', { title: 'Main roads' }));
    // both-1 has not consumed its queue yet: the request applies nothing (events 1 and 2, if
    // it has a GeoServer, must reach it, which only its apply function does).
    const result = await publishChange(h.deps, BOTH, modify('layer', 'topp:roads', { enabled: false }));
    expect(result).toMatchObject({ appliedLocally: false, event: { sequence: 3 } });
    expect(result.deferredFailures).toEqual([]);
    expect(h.store.allObjects('both-1')).toEqual([]);
    // Its queue delivers 1, 2 and its own 3.
    const both = { cluster: CLUSTER, node: 'both-1' };
    const dispositions = [];
    for (const event of h.topic.published) dispositions.push((await applyDeliveredEvent(applyDeps(h), both, event)).disposition);
    expect(dispositions).toEqual(['applied', 'applied', 'applied']);
    expect(h.store.liveObjects('both-1')).toEqual([
      expect.objectContaining({
        properties: { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, title: 'Main roads', enabled: false },
        lastSequence: 3,
        lastOrigin: 'both-1',
      }),
    ]);
  });

  it('gets a both-node’s own event into its store through its queue when the request’s own apply failed after the commit', async () => {
    const h = harness();
    const store = new FailingStore();
    const result = await publishChange({ ...h.deps, store }, BOTH, add('workspace', 'mine', { name: 'mine' }));
    expect(result).toMatchObject({ appliedLocally: false, published: true, event: { sequence: 1 } });
    expect(result.deferredFailures).toEqual([{ stage: 'apply-locally', error: new Error('throttled') }]);
    // Nothing else is published; the node's queue brings its own event all the same.
    store.failing = false;
    const [delivered] = h.topic.published;
    expect(await applyDeliveredEvent({ store, log: h.log, bodies: h.bodies }, { cluster: CLUSTER, node: 'both-1' }, delivered!)).toMatchObject({
      disposition: 'applied',
      cursor: 1,
    });
    expect(store.liveObjects('both-1').map((o) => o.id)).toEqual(['mine']);
  });

  it('keeps a committed event when publishing fails, and republishes it later', async () => {
    const h = harness();
    h.topic.failNextPublishes(1);
    const result = await publishChange(h.deps, MASTER, add('workspace', 'topp'));
    expect(result).toMatchObject({ published: false, appliedLocally: true, event: { sequence: 1 } });
    expect(result.deferredFailures).toEqual([{ stage: 'publish', error: new Error('Injected publish failure for event 1') }]);
    expect(h.topic.published).toEqual([]);
    expect((await h.log.listUnpublished(CLUSTER, 10)).map((e) => e.sequence)).toEqual([1]);

    // A later publish succeeds; a slave receiving it fills the unpublished event from the log.
    const later = await publishChange(h.deps, MASTER, add('workspace', 'sf'));
    expect(later.published).toBe(true);
    const applied = await applyDeliveredEvent(applyDeps(h), SLAVE_CONTEXT, later.event);
    expect('applied' in applied && applied.applied.map((step) => [step.sequence, step.fromLog])).toEqual([
      [1, true],
      [2, false],
    ]);

    // The recovery job sends what is still unpublished, in order.
    expect(await republishPending(h.deps, CLUSTER)).toEqual([1]);
    expect(h.topic.published.map((e) => e.sequence)).toEqual([2, 1]);
    expect(await h.log.listUnpublished(CLUSTER, 10)).toEqual([]);
    expect(await applyDeliveredEvent(applyDeps(h), SLAVE_CONTEXT, h.topic.published[1]!)).toMatchObject({
      disposition: 'duplicate',
    });
  });

  it('stops republishing at the first failure, keeping the rest for the next run', async () => {
    const h = harness();
    h.topic.failNextPublishes(3);
    for (const id of ['a', 'b', 'c']) await publishChange(h.deps, MASTER, add('workspace', id));
    h.topic.failNextPublishes(1);
    await expect(republishPending(h.deps, CLUSTER)).rejects.toThrow('Injected publish failure for event 1');
    expect(await republishPending(h.deps, CLUSTER)).toEqual([1, 2, 3]);
  });

  it('succeeds when the local write fails; the next catch-up applies the event', async () => {
    const h = harness();
    const store = new FailingStore();
    const result = await publishChange({ ...h.deps, store }, MASTER, add('workspace', 'topp'));
    expect(result).toMatchObject({ published: true, appliedLocally: false });
    expect(result.deferredFailures).toEqual([{ stage: 'apply-locally', error: new Error('throttled') }]);
    store.failing = false;
    await catchUp({ store, log: h.log, bodies: h.bodies }, { cluster: CLUSTER, node: 'master-1' });
    expect(store.liveObjects('master-1').map((o) => o.id)).toEqual(['topp']);
  });

  it('sends a style over 256 KiB through the body store, and a slave applies it whole', async () => {
    const h = harness();
    const sld = `<?xml version="1.0"?><StyledLayerDescriptor version="1.0.0">${'<Rule/>'.repeat(45_000)}</StyledLayerDescriptor>`;
    expect(sld.length).toBeGreaterThan(300 * 1024);
    const messages: string[] = [];
    h.topic.subscribe((message) => messages.push(message));

    const result = await publishChange(h.deps, MASTER, add('style', 'topp:roads', { body: sld, format: 'sld' }));
    expect(isOffloaded(result.event)).toBe(true);
    expect(result.event).not.toHaveProperty('properties');
    expect(h.bodies.size).toBe(1);
    expect(Buffer.byteLength(messages[0]!)).toBeLessThan(SNS_MESSAGE_LIMIT);
    expect(serializedBytes((await h.log.readRange(CLUSTER, 1, 1))[0])).toBeLessThan(1024);

    await applyDeliveredEvent(applyDeps(h), SLAVE_CONTEXT, parseEventMessage(messages[0]!));
    expect(h.store.liveObjects('slave-1')).toEqual([
      expect.objectContaining({ type: 'style', id: 'topp:roads', properties: { body: sld, format: 'sld' } }),
    ]);
    expect(h.store.liveObjects('master-1')).toEqual(h.store.liveObjects('slave-1'));

    // A patch replacing the document goes the same way.
    const patched = await publishChange(h.deps, MASTER, modify('style', 'topp:roads', { body: `${sld}<!-- v2 -->` }));
    expect(isOffloaded(patched.event)).toBe(true);
    await applyDeliveredEvent(applyDeps(h), SLAVE_CONTEXT, parseEventMessage(messages[1]!));
    expect(h.store.liveObjects('slave-1')[0]?.properties['body']).toBe(`${sld}<!-- v2 -->`);
  });

  it('keeps small changes inline', async () => {
    const h = harness();
    const result = await publishChange(h.deps, MASTER, add('style', 'point', { format: 'sld', body: '<StyledLayerDescriptor/>' }));
    expect(isOffloaded(result.event)).toBe(false);
    expect(h.bodies.size).toBe(0);
  });
});

describe("a publish on a node whose store a resync holds", () => {
  it('is in the log, but not reported as applied to the store, which the resync catches up from the log', async () => {
    const h = harness();
    const both: PublishContext = { cluster: CLUSTER, node: { name: 'hub', role: 'both' } };
    await h.store.holdForResync('hub', 'resync-1', Date.now() + 60_000);
    const held = await publishChange(h.deps, both, add('workspace', 'during-hold'));
    expect({ sequence: held.event.sequence, appliedLocally: held.appliedLocally }).toEqual({ sequence: 1, appliedLocally: false });
    expect(await h.store.readObjects('hub', [{ type: 'workspace', id: 'during-hold' }])).toEqual([]);
    await h.store.releaseResyncHold('hub', 'resync-1');
    // The store is still before event 1 (no catch-up ran here): the request leaves 2 to the queue.
    const after = await publishChange(h.deps, both, add('workspace', 'after-hold'));
    expect({ sequence: after.event.sequence, appliedLocally: after.appliedLocally }).toEqual({ sequence: 2, appliedLocally: false });
    const [, second] = h.topic.published;
    expect(await applyDeliveredEvent(applyDeps(h), { cluster: CLUSTER, node: 'hub' }, second!)).toMatchObject({ disposition: 'applied', cursor: 2 });
    expect(h.store.liveObjects('hub').map((o) => o.id)).toEqual(['after-hold', 'during-hold']);
  });
});

describe("a pure master's own store on the publish request: one pass, never waiting or chasing", () => {
  /** Counts the store's commits and lets a test run something just before the first one. */
  class ObservedStore extends MemoryNodeStore {
    commits = 0;
    beforeFirstCommit: (() => Promise<void>) | undefined;
    private async observe(): Promise<void> {
      this.commits += 1;
      const run = this.beforeFirstCommit;
      this.beforeFirstCommit = undefined;
      if (run) await run();
    }
    override async commit(...args: Parameters<MemoryNodeStore['commit']>): Promise<CheckedCommitOutcome> {
      await this.observe();
      return super.commit(...args);
    }
    override async commitBatch(...args: Parameters<MemoryNodeStore['commitBatch']>): Promise<CommitOutcome> {
      await this.observe();
      return super.commitBatch(...args);
    }
  }
  const MASTER_STORE = { cluster: CLUSTER, node: 'master-1' };

  it('applies the events the log holds before its own, in order (another master’s)', async () => {
    const h = harness();
    await h.append(add('workspace', 'other'), 'master-2');
    const result = await publishChange(h.deps, MASTER, add('workspace', 'mine'));
    expect(result).toMatchObject({ appliedLocally: true, event: { sequence: 2 } });
    expect(await h.store.readCursor('master-1')).toBe(2);
    expect(h.store.liveObjects('master-1').map((object) => [object.id, object.lastSequence])).toEqual([
      ['mine', 2],
      ['other', 1],
    ]);
  });

  it('ends at a commit lost to a concurrent publish, answers what the store holds then, and leaves the rest to the catch-up', async () => {
    const h = harness();
    const store = new ObservedStore();
    const deps = { ...h.deps, store };
    // Another request of the same master committed event 1 and is applying it to the store.
    const other = await h.append(add('workspace', 'first'));
    store.beforeFirstCommit = async () => {
      await catchUp({ store, log: h.log, bodies: h.bodies }, MASTER_STORE, other.sequence, [other]);
    };
    const result = await publishChange(deps, MASTER, add('workspace', 'second'));
    // Its commit of 1..2 found the cursor at 1: no second attempt, and the answer says the
    // store does not hold event 2 (it is in the log and was published).
    expect(result).toMatchObject({ published: true, appliedLocally: false, deferredFailures: [], event: { sequence: 2 } });
    expect(store.commits).toBe(2); // the other request's commit and this one's, none after
    expect(await store.readCursor('master-1')).toBe(1);
    // The asynchronous catch-up (the republish schedule's) applies it.
    await catchUp({ store, log: h.log, bodies: h.bodies }, MASTER_STORE);
    expect(await store.readCursor('master-1')).toBe(2);
    expect(store.liveObjects('master-1').map((object) => object.id)).toEqual(['first', 'second']);
  });

  it('answers appliedLocally true when the concurrent publish that won the commit applied this one’s events too', async () => {
    const h = harness();
    const store = new ObservedStore();
    const deps = { ...h.deps, store };
    store.beforeFirstCommit = async () => {
      // The other request read the log after this one's append: it applies 1 and beyond.
      await catchUp({ store, log: h.log, bodies: h.bodies }, MASTER_STORE);
    };
    const result = await publishChange(deps, MASTER, add('workspace', 'only'));
    expect(result).toMatchObject({ appliedLocally: true, deferredFailures: [] });
    expect(await store.readCursor('master-1')).toBe(1);
  });

  it('stops at a sequence missing from the log without waiting for it or closing it', async () => {
    const h = harness();
    let closings = 0;
    const log = h.log;
    const counting = Object.assign(Object.create(Object.getPrototypeOf(log)) as typeof log, log, {
      closeHoles: async (...args: Parameters<typeof log.closeHoles>) => {
        closings += 1;
        return log.closeHoles(...args);
      },
    });
    // A concurrent publisher allocated 1 and has not written it; waiting for it would take the
    // hour given here.
    h.log.abandonAllocation(CLUSTER, 1);
    const result = await publishChange({ ...h.deps, log: counting, holeWaitMs: 3_600_000 }, MASTER, add('workspace', 'after-hole'));
    expect(result).toMatchObject({ published: true, appliedLocally: false, deferredFailures: [], event: { sequence: 2 } });
    expect(closings).toBe(0);
    expect(await h.store.readCursor('master-1')).toBe(0);
    // The catch-up closes the hole (old enough in this log) and applies the event after it.
    const caughtUp = await catchUp({ store: h.store, log: h.log, bodies: h.bodies }, MASTER_STORE);
    expect(caughtUp.applied.map((step) => [step.sequence, step.effect])).toEqual([
      [1, 'void'],
      [2, 'created'],
    ]);
  });

  it('a both-node, whose own events no queue brings, still sees them applied when a commit is lost', async () => {
    const h = harness();
    const store = new ObservedStore();
    const other = await h.append(add('workspace', 'first'), 'both-1');
    store.beforeFirstCommit = async () => {
      await catchUp({ store, log: h.log, bodies: h.bodies }, { cluster: CLUSTER, node: 'both-1' }, other.sequence, [other]);
    };
    const result = await publishChange({ ...h.deps, store }, BOTH, add('workspace', 'second'));
    expect(result).toMatchObject({ appliedLocally: true, event: { sequence: 2 } });
    expect(await store.readCursor('both-1')).toBe(2);
  });
});
