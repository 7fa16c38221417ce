import {
  applyChange,
  applyDeliveredBatch,
  applyDeliveredEvent,
  batchSteps,
  catchUp,
  catchUpOnce,
  classifyDelivery,
  isTransientFailure,
  type ApplyDeps,
  type DeliveryResult,
  type NodeContext,
} from '../../../lambdas/config-sync/apply';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import {
  CursorContentionError,
  EventsMissingFromLogError,
  EventsNotYetWrittenError,
  InvalidConfigEventError,
  WrongClusterError,
} from '../../../lambdas/config-sync/errors';
import { parkingKey, type ConfigEvent, type ObjectRef } from '../../../lambdas/config-sync/events';
import type { BatchCommit, CheckedCommitOutcome, CommitOutcome, StoreCommit, StoredObject } from '../../../lambdas/config-sync/ports';
import { add, applyDeps, CLUSTER, harness, modify, ref, remove } from './fixtures';

const SLAVE: NodeContext = { cluster: CLUSTER, node: 'slave-1' };

function applied(result: DeliveryResult): number[] {
  return 'applied' in result ? result.applied.map((step) => step.sequence) : [];
}

/** An event on layer topp:states; `extra` carries its properties or patch. */
function event(sequence: number, kind: ConfigEvent['kind'], extra: object): ConfigEvent {
  const metadata = { sequence, cluster: CLUSTER, origin: 'master-1', publishedAt: '2025-01-01T00:00:00.000Z' };
  return { ...metadata, kind, object: ref('layer', 'topp:states'), ...extra } as ConfigEvent;
}

const stored = (overrides: Partial<StoredObject> = {}): StoredObject => ({
  type: 'layer',
  id: 'topp:states',
  properties: { title: 'States', enabled: true },
  lastSequence: 3,
  lastOrigin: 'master-1',
  updatedAt: '2025-01-01T00:00:00.000Z',
  deleted: false,
  incomplete: false,
  ...overrides,
});

describe('classifyDelivery', () => {
  const at = (sequence: number, origin = 'master-1') => ({ sequence, origin, cluster: CLUSTER, publishedAt: '' });

  it.each([
    [5, at(6), { kind: 'next' }],
    [5, at(5), { kind: 'duplicate' }],
    [5, at(2), { kind: 'duplicate' }],
    [5, at(9), { kind: 'gap', from: 6, to: 8 }],
    [0, at(1), { kind: 'next' }],
    [0, at(4), { kind: 'gap', from: 1, to: 3 }],
    // A node's own event is classified like any other.
    [5, at(6, 'both-1'), { kind: 'next' }],
    [5, at(5, 'both-1'), { kind: 'duplicate' }],
  ])('cursor %i, event %j → %j', (cursor, metadata, expected) => {
    expect(classifyDelivery(cursor, metadata)).toEqual(expected);
  });
});

describe('applyChange (the per-object rule)', () => {
  it('add creates an unknown object', () => {
    const change = applyChange(undefined, event(4, 'add', { properties: { title: 'New' } }));
    expect(change).toEqual({
      effect: 'created',
      object: stored({ properties: { title: 'New' }, lastSequence: 4 }),
    });
  });

  it('add replaces a known object whole', () => {
    const change = applyChange(stored(), event(4, 'add', { properties: { title: 'New' } }));
    expect(change.effect).toBe('replaced');
    expect(change.object?.properties).toEqual({ title: 'New' });
  });

  it('add over a tombstone creates the object again', () => {
    const change = applyChange(stored({ deleted: true, properties: {} }), event(4, 'add', { properties: { a: 1 } }));
    expect(change).toMatchObject({ effect: 'created', object: { deleted: false, properties: { a: 1 } } });
  });

  it('add completes an incomplete object', () => {
    const change = applyChange(stored({ incomplete: true }), event(4, 'add', { properties: { a: 1 } }));
    expect(change.object).toMatchObject({ incomplete: false, properties: { a: 1 } });
  });

  it('modify merge-patches a known object', () => {
    const change = applyChange(stored(), event(4, 'modify', { patch: { enabled: null, style: { name: 'polygon' } } }));
    expect(change).toMatchObject({ effect: 'patched', object: { properties: { title: 'States', style: { name: 'polygon' } }, lastSequence: 4 } });
  });

  it('modify of an unknown object is recorded as incomplete, not dropped', () => {
    const change = applyChange(undefined, event(4, 'modify', { patch: { title: 'T', gone: null } }));
    expect(change).toEqual({
      effect: 'recorded-incomplete',
      object: stored({ properties: { title: 'T' }, lastSequence: 4, incomplete: true }),
    });
  });

  it('modify of a removed object records it again as incomplete (last writer wins)', () => {
    const change = applyChange(stored({ deleted: true, properties: {} }), event(4, 'modify', { patch: { title: 'T' } }));
    expect(change).toMatchObject({ effect: 'recorded-incomplete', object: { deleted: false, incomplete: true, properties: { title: 'T' } } });
  });

  it('modify of an incomplete object keeps it incomplete', () => {
    const change = applyChange(stored({ incomplete: true }), event(4, 'modify', { patch: { b: 2 } }));
    expect(change.object).toMatchObject({ incomplete: true, properties: { title: 'States', enabled: true, b: 2 } });
  });

  it('remove leaves a tombstone, known object or not', () => {
    for (const existing of [stored(), undefined, stored({ deleted: true })]) {
      expect(applyChange(existing, event(4, 'remove', {}))).toEqual({
        effect: 'removed',
        object: stored({ properties: {}, lastSequence: 4, deleted: true }),
      });
    }
  });

  it.each(['add', 'modify', 'remove'] as const)('%s at or below the object’s last sequence is stale', (kind) => {
    const extra = kind === 'add' ? { properties: {} } : kind === 'modify' ? { patch: { a: 1 } } : {};
    expect(applyChange(stored({ lastSequence: 4 }), event(4, kind, extra))).toEqual({ effect: 'stale' });
    expect(applyChange(stored({ lastSequence: 4 }), event(2, kind, extra))).toEqual({ effect: 'stale' });
    expect(applyChange(stored({ lastSequence: 4, deleted: true }), event(3, kind, extra))).toEqual({ effect: 'stale' });
  });

  it('stamps the object with the event’s sequence, origin and time', () => {
    const change = applyChange(undefined, { ...event(9, 'add', { properties: {} }), origin: 'both-2', publishedAt: '2025-02-02T00:00:00.000Z' });
    expect(change.object).toMatchObject({ lastSequence: 9, lastOrigin: 'both-2', updatedAt: '2025-02-02T00:00:00.000Z' });
  });
});

describe('applying delivered events', () => {
  it('applies the next event and advances the cursor', async () => {
    const h = harness();
    const [first] = await h.appendAll([add('workspace', 'topp', { isolated: false })]);
    const result = await applyDeliveredEvent(applyDeps(h), SLAVE, first!);
    expect(result).toEqual({
      disposition: 'applied',
      sequence: 1,
      cursor: 1,
      // A lone add is written without reading its object first: created or replaced is not known.
      applied: [{ sequence: 1, origin: 'master-1', object: ref('workspace', 'topp'), effect: 'written', fromLog: false }],
    });
    expect(await h.store.readCursor('slave-1')).toBe(1);
    expect(h.store.liveObjects('slave-1')).toEqual([
      {
        type: 'workspace',
        id: 'topp',
        properties: { isolated: false },
        lastSequence: 1,
        lastOrigin: 'master-1',
        updatedAt: first!.publishedAt,
        deleted: false,
        incomplete: false,
      },
    ]);
  });

  it('ignores a duplicate: nothing changes', async () => {
    const h = harness();
    const events = await h.appendAll([add('workspace', 'topp'), modify('workspace', 'topp', { a: 1 })]);
    for (const e of events) await applyDeliveredEvent(applyDeps(h), SLAVE, e);
    const before = h.store.allObjects('slave-1');
    for (const e of [...events, ...events]) {
      const result = await applyDeliveredEvent(applyDeps(h), SLAVE, e);
      expect(result).toMatchObject({ disposition: 'duplicate', applied: [], cursor: 2 });
    }
    expect(h.store.allObjects('slave-1')).toEqual(before);
  });

  it('applies an older event delivered after a newer one only once, in order', async () => {
    const h = harness();
    const events = await h.appendAll([
      add('dataStore', 'topp:shp', { type: 'Shapefile' }),
      add('featureType', 'topp:states', { store: { '@class': 'dataStore', name: 'topp:shp' } }),
      add('layer', 'topp:states', { resource: { '@class': 'featureType', name: 'topp:states' } }),
    ]);
    // Under load GeoServer's JMS delivered a layer before its store; here the layer's
    // arrival fills the store and resource from the log first.
    const third = await applyDeliveredEvent(applyDeps(h), SLAVE, events[2]!);
    expect(third).toMatchObject({ disposition: 'applied', cursor: 3 });
    expect('applied' in third && third.applied.map((step) => [step.sequence, step.fromLog])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    for (const late of [events[0]!, events[1]!]) {
      expect(await applyDeliveredEvent(applyDeps(h), SLAVE, late)).toMatchObject({ disposition: 'duplicate', applied: [] });
    }
    expect(h.store.liveObjects('slave-1').map((o) => `${o.type}/${o.id}@${o.lastSequence}`)).toEqual([
      'dataStore/topp:shp@1',
      'featureType/topp:states@2',
      'layer/topp:states@3',
    ]);
  });

  it('fills a gap larger than one log page', async () => {
    const h = harness();
    const events = await h.appendAll(Array.from({ length: 250 }, (_, i) => modify('global', 'global', { counter: i + 1 })));
    const result = await applyDeliveredEvent(applyDeps(h), SLAVE, events[249]!);
    expect(applied(result)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(h.store.liveObjects('slave-1')[0]).toMatchObject({ properties: { counter: 250 }, lastSequence: 250 });
  });

  it('applies its own event delivered by the queue when its publish request did not', async () => {
    const h = harness();
    const both: NodeContext = { cluster: CLUSTER, node: 'both-1' };
    const [own] = await h.appendAll([add('workspace', 'mine')], 'both-1');
    expect(await applyDeliveredEvent(applyDeps(h), both, own!)).toMatchObject({ disposition: 'applied', sequence: 1, cursor: 1 });
    expect(h.store.liveObjects('both-1').map((o) => o.id)).toEqual(['mine']);
    // Delivered again (the usual case: its request applied it): nothing changes.
    expect(await applyDeliveredEvent(applyDeps(h), both, own!)).toEqual({ disposition: 'duplicate', sequence: 1, applied: [], cursor: 1 });
  });

  it('fills a gap made of its own events from the log (the deferred local write)', async () => {
    const h = harness();
    const both: NodeContext = { cluster: CLUSTER, node: 'both-1' };
    const events = [
      await h.append(add('workspace', 'a'), 'master-1'),
      await h.append(add('workspace', 'b'), 'both-1'),
      await h.append(modify('workspace', 'b', { x: 1 }), 'both-1'),
      await h.append(add('workspace', 'c'), 'master-1'),
    ];
    await applyDeliveredEvent(applyDeps(h), both, events[0]!);
    // Events 2 and 3 are late in the queue (their publish request reached SNS after 4's).
    const result = await applyDeliveredEvent(applyDeps(h), both, events[3]!);
    expect(result).toMatchObject({ disposition: 'applied', cursor: 4 });
    expect('applied' in result && result.applied.map((step) => [step.sequence, step.origin, step.fromLog])).toEqual([
      [2, 'both-1', true],
      [3, 'both-1', true],
      [4, 'master-1', false],
    ]);
    expect(h.store.liveObjects('both-1').map((o) => [o.id, o.properties])).toEqual([
      ['a', {}],
      ['b', { x: 1 }],
      ['c', {}],
    ]);
  });

  it('applies a remove of an object that others still reference, as the master stated it', async () => {
    const h = harness();
    const events = await h.appendAll([
      add('dataStore', 'topp:shp', { type: 'Shapefile' }),
      add('featureType', 'topp:states', { store: { '@class': 'dataStore', name: 'topp:shp' } }),
      add('layer', 'topp:states', { resource: { '@class': 'featureType', name: 'topp:states' } }),
      remove('dataStore', 'topp:shp'),
    ]);
    const result = await applyDeliveredEvent(applyDeps(h), SLAVE, events[3]!);
    expect('applied' in result && result.applied.map((step) => step.effect)).toEqual(['created', 'created', 'created', 'removed']);
    expect(h.store.liveObjects('slave-1').map((o) => `${o.type}/${o.id}`)).toEqual(['featureType/topp:states', 'layer/topp:states']);
    const page = await h.store.listObjects('slave-1', { limit: 10, includeDeleted: true });
    expect(page.objects.find((o) => o.type === 'dataStore')).toMatchObject({ deleted: true, lastSequence: 4, properties: {} });
  });

  it('records a modify of an unknown object instead of dropping it', async () => {
    const h = harness();
    const events = await h.appendAll([
      modify('featureType', 'topp:roads', { title: 'Roads', abstract: null }),
      modify('featureType', 'topp:roads', { keywords: ['roads'] }),
      add('featureType', 'topp:roads', { title: 'Roads', srs: 'EPSG:4326' }),
    ]);
    await applyDeliveredEvent(applyDeps(h), SLAVE, events[1]!);
    expect(h.store.liveObjects('slave-1')).toEqual([
      expect.objectContaining({ properties: { title: 'Roads', keywords: ['roads'] }, incomplete: true, lastSequence: 2 }),
    ]);
    await applyDeliveredEvent(applyDeps(h), SLAVE, events[2]!);
    expect(h.store.liveObjects('slave-1')).toEqual([
      expect.objectContaining({ properties: { title: 'Roads', srs: 'EPSG:4326' }, incomplete: false, lastSequence: 3 }),
    ]);
  });

  it('applies modify as a JSON merge patch', async () => {
    const h = harness();
    const events = await h.appendAll([
      modify('service', 'WMS', { title: 'WMS', metadata: { cache: { enabled: true, maxAge: 60 } }, srs: ['EPSG:4326'] }),
      modify('service', 'WMS', { metadata: { cache: { maxAge: null, size: 10 } }, srs: ['EPSG:3857'], title: null }),
    ]);
    for (const e of events) await applyDeliveredEvent(applyDeps(h), SLAVE, e);
    expect(h.store.liveObjects('slave-1')[0]?.properties).toEqual({
      metadata: { cache: { enabled: true, size: 10 } },
      srs: ['EPSG:3857'],
    });
  });

  it('fetches an offloaded body transparently', async () => {
    const h = harness();
    const sld = `<StyledLayerDescriptor>${'x'.repeat(300 * 1024)}</StyledLayerDescriptor>`;
    const change = add('style', 'big', { body: sld, format: 'sld' });
    const bodyRef = await h.bodies.put(CLUSTER, change);
    const offloaded = await h.log.append({
      cluster: CLUSTER,
      origin: 'master-1',
      publishedAt: '2025-01-01T00:00:00.000Z',
      kind: 'add',
      object: ref('style', 'big'),
      bodyRef,
    });
    await applyDeliveredEvent(applyDeps(h), SLAVE, offloaded);
    expect(h.store.liveObjects('slave-1')[0]?.properties).toEqual({ body: sld, format: 'sld' });
  });

  it('applies an offloaded body the publish took before a later representation rule, as it does an inline event', async () => {
    // A layer group of three entries with a lone null style: the publish check once counted that
    // as no styles and took it; it now counts one. The log's events are not judged again by later
    // rules, and an offloaded body is part of its event.
    const h = harness();
    await h.appendAll([add('workspace', 'ws')]);
    const entries = ['ws:a', 'ws:b', 'ws:c'].map((name) => ({ '@type': 'layer', name }));
    const properties = { mode: 'SINGLE', publishables: { published: entries }, styles: { style: null }, title: 'x'.repeat(300 * 1024) };
    const bodyRef = await h.bodies.put(CLUSTER, add('layerGroup', 'ws:group', properties));
    const offloaded = await h.log.append({
      cluster: CLUSTER,
      origin: 'master-1',
      publishedAt: '2025-01-01T00:00:00.000Z',
      kind: 'add',
      object: ref('layerGroup', 'ws:group'),
      bodyRef,
    });
    await applyDeliveredEvent(applyDeps(h), SLAVE, (await h.log.readRange(CLUSTER, 1, 1))[0]!);
    await applyDeliveredEvent(applyDeps(h), SLAVE, offloaded);
    expect(await h.store.readCursor('slave-1')).toBe(offloaded.sequence);
    expect(h.store.liveObjects('slave-1').find((object) => object.type === 'layerGroup')?.properties).toMatchObject({ publishables: { published: entries } });
  });

  it('refuses an offloaded body that does not match its event', async () => {
    const h = harness();
    const bodyRef = await h.bodies.put(CLUSTER, add('style', 'other', { format: 'sld', body: '<sld/>' }));
    const offloaded = await h.log.append({
      cluster: CLUSTER,
      origin: 'master-1',
      publishedAt: '2025-01-01T00:00:00.000Z',
      kind: 'add',
      object: ref('style', 'big'),
      bodyRef,
    });
    await expect(applyDeliveredEvent(applyDeps(h), SLAVE, offloaded)).rejects.toMatchObject({
      constructor: InvalidConfigEventError,
      field: 'bodyRef',
    });
    expect(await h.store.readCursor('slave-1')).toBe(0);
  });

  it('asks for a resync when the events of a gap are no longer in the log', async () => {
    const h = harness();
    const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c'), add('workspace', 'd')]);
    await applyDeliveredEvent(applyDeps(h), SLAVE, events[0]!);
    h.log.trimThrough(CLUSTER, 3);
    const attempt = applyDeliveredEvent(applyDeps(h), SLAVE, events[3]!);
    await expect(attempt).rejects.toBeInstanceOf(EventsMissingFromLogError);
    await expect(applyDeliveredEvent(applyDeps(h), SLAVE, events[3]!)).rejects.toMatchObject({
      status: 409,
      code: 'RESYNC_REQUIRED',
      details: { missing: [2, 3] },
      message: `Events 2..3 of cluster ${CLUSTER} are missing from the event log; node slave-1 must resync from a snapshot`,
    });
    expect(await h.store.readCursor('slave-1')).toBe(1);
  });

  it('a hole its publisher may still write is waited for, then retried as transient, never a resync', async () => {
    const h = harness();
    const [first] = await h.appendAll([add('workspace', 'a')]);
    h.log.abandonAllocation(CLUSTER, 2);
    const [fourth] = await h.appendAll([add('workspace', 'd')]);
    await applyDeliveredEvent(applyDeps(h), SLAVE, first!);
    // A log whose holes 2..3 stay younger than the grace period (the memory log closes them at once).
    let closings = 0;
    const log = Object.assign(Object.create(h.log) as typeof h.log, {
      closeHoles: async () => {
        closings += 1;
        return { voided: 0, waiting: 2 };
      },
    });
    const error: unknown = await applyDeliveredEvent({ ...applyDeps(h), log, holeWaitMs: 50 }, SLAVE, fourth!).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({
      constructor: EventsNotYetWrittenError,
      status: 503,
      code: 'EVENTS_NOT_YET_WRITTEN',
      details: { waiting: [2, 3] },
    });
    expect(isTransientFailure(error)).toBe(true);
    expect(closings).toBeGreaterThan(1);
    expect(await h.store.readCursor('slave-1')).toBe(1);
    // Once the log closes them (here at once), the same delivery applies through them.
    const result = await applyDeliveredEvent(applyDeps(h), SLAVE, fourth!);
    expect(applied(result)).toEqual([2, 3, 4]);
    expect(await h.store.readCursor('slave-1')).toBe(4);
  });

  it('refuses an event of another cluster', async () => {
    const h = harness();
    const [e] = await h.appendAll([add('workspace', 'a')]);
    await expect(applyDeliveredEvent(applyDeps(h), SLAVE, { ...e!, cluster: 'other' })).rejects.toBeInstanceOf(WrongClusterError);
    expect(await h.store.readCursor('slave-1')).toBe(0);
  });
});

describe('concurrent application', () => {
  /** A store that lets `interloper` run to completion just before the first commit. */
  class InterleavingStore extends MemoryNodeStore {
    interloper: (() => Promise<unknown>) | undefined;
    override async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
      const run = this.interloper;
      this.interloper = undefined;
      if (run) await run();
      return super.commit(node, commit);
    }
    override async commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome> {
      const run = this.interloper;
      this.interloper = undefined;
      if (run) await run();
      return super.commitBatch(node, commit);
    }
  }

  it('applies each event once when two invocations race on the same events', async () => {
    const h = harness();
    const store = new InterleavingStore();
    const deps: ApplyDeps = { store, log: h.log, bodies: h.bodies };
    const events = await h.appendAll([add('workspace', 'a'), modify('workspace', 'a', { n: 1 }), modify('workspace', 'a', { m: 2 })]);
    let other: DeliveryResult | undefined;
    store.interloper = async () => {
      other = await applyDeliveredEvent(deps, SLAVE, events[1]!);
    };
    const first = await applyDeliveredEvent(deps, SLAVE, events[2]!);
    // The interloper applied 1 and 2; the first invocation's commit of 1 found the cursor
    // moved, re-read it and went on with 3 only.
    expect(other && applied(other)).toEqual([1, 2]);
    expect(applied(first)).toEqual([3]);
    expect(store.liveObjects('slave-1')).toEqual([expect.objectContaining({ properties: { n: 1, m: 2 }, lastSequence: 3 })]);
  });

  it('reports a delivered event applied by a concurrent invocation as a duplicate', async () => {
    const h = harness();
    const store = new InterleavingStore();
    const deps: ApplyDeps = { store, log: h.log, bodies: h.bodies };
    const [e] = await h.appendAll([add('workspace', 'a')]);
    store.interloper = () => applyDeliveredEvent(deps, SLAVE, e!);
    expect(await applyDeliveredEvent(deps, SLAVE, e!)).toEqual({ disposition: 'duplicate', sequence: 1, applied: [], cursor: 1 });
  });

  it('gives up with a conflict when the store refuses a commit without the cursor moving', async () => {
    class StuckStore extends MemoryNodeStore {
      override async commit(): Promise<CheckedCommitOutcome> {
        return 'cursor-moved';
      }
    }
    const h = harness();
    const [e] = await h.appendAll([add('workspace', 'a')]);
    const attempt = applyDeliveredEvent({ store: new StuckStore(), log: h.log, bodies: h.bodies }, SLAVE, e!);
    await expect(attempt).rejects.toBeInstanceOf(CursorContentionError);
    await expect(applyDeliveredEvent({ store: new StuckStore(), log: h.log, bodies: h.bodies }, SLAVE, e!)).rejects.toMatchObject({
      status: 409,
      code: 'CURSOR_CONFLICT',
    });
  });
});

describe('a lone add or remove, written without reading its object', () => {
  /** Counts the store calls a delivery makes. */
  class CountingStore extends MemoryNodeStore {
    calls: string[] = [];
    override async readCursor(node: string): Promise<number> {
      this.calls.push('readCursor');
      return super.readCursor(node);
    }
    override async readApplyState(...args: Parameters<MemoryNodeStore['readApplyState']>) {
      this.calls.push('readApplyState');
      return super.readApplyState(...args);
    }
    override async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
      const outcome = await super.commit(node, commit);
      this.calls.push(`commit${commit.unread ? ' unread' : ''} ${outcome}`);
      return outcome;
    }
    override async park(...args: Parameters<MemoryNodeStore['park']>) {
      this.calls.push('park');
      return super.park(...args);
    }
  }

  async function setUp(changes: Parameters<ReturnType<typeof harness>['appendAll']>[0]) {
    const h = harness();
    const store = new CountingStore();
    const events = await h.appendAll(changes);
    return { h, store, deps: { store, log: h.log, bodies: h.bodies } as ApplyDeps, messages: events.map((e) => JSON.stringify(e)) };
  }

  it('is one commit when the consumer knows the cursor: no cursor read, no object read', async () => {
    const { h, store, deps, messages } = await setUp([add('workspace', 'a')]);
    const first = await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    expect(store.calls).toEqual(['readCursor', 'commit unread committed']);
    store.calls = [];
    const [removed] = await h.appendAll([remove('workspace', 'a')]);
    const second = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(removed)], { knownCursor: first.cursor! });
    expect(store.calls).toEqual(['commit unread committed']);
    expect(second.results[0]).toMatchObject({ disposition: 'applied', applied: [{ sequence: 2, effect: 'removed' }] });
    expect(await store.readCursor('slave-1')).toBe(2);
    expect((await store.readObjects('slave-1', [ref('workspace', 'a')]))[0]).toMatchObject({ deleted: true, lastSequence: 2 });
  });

  it('still waits behind a parked earlier event of its object: the commit is refused, the object read, the event parked behind it', async () => {
    const { store, deps, messages } = await setUp([add('dataStore', 'topp:pg', { v: 1 }), add('dataStore', 'topp:pg', { v: 2 })]);
    // Its first event is parked on this node.
    await store.park('slave-1', { expectedCursor: 0, sequence: 1, key: parkingKey(ref('dataStore', 'topp:pg'), 1), object: ref('dataStore', 'topp:pg'), cause: { reason: 'refused', attempts: 3, parkedAt: '2025-01-01T00:00:00Z' } });
    store.calls = [];
    const result = await applyDeliveredBatch(deps, SLAVE, [messages[1]!], { knownCursor: 1 });
    expect(result.failure).toBeUndefined();
    expect(store.calls).toEqual(['commit unread object-moved', 'readApplyState', 'park']);
    expect(result.results[0]).toMatchObject({ applied: [{ sequence: 2, effect: 'parked' }] });
    expect(await store.listParked('slave-1')).toEqual([expect.objectContaining({ sequences: [1, 2] })]);
    expect(await store.readObjects('slave-1', [ref('dataStore', 'topp:pg')])).toEqual([]);
  });

  it('never replaces a newer version (a snapshot wrote it): the commit is refused, the object read, the event found stale', async () => {
    const { store, deps, messages } = await setUp([add('workspace', 'a', { v: 1 })]);
    await store.replaceWithSnapshot('slave-1', {
      cluster: CLUSTER,
      sourceNode: 'master-1',
      sequence: 0,
      objects: [{ type: 'workspace', id: 'a', properties: { v: 2 }, lastSequence: 2, lastOrigin: 'master-1', updatedAt: '2025-01-01T00:00:00Z', deleted: false, incomplete: false }],
    });
    const result = await applyDeliveredBatch(deps, SLAVE, [messages[0]!], { knownCursor: 0 });
    expect(store.calls).toEqual(['commit unread object-moved', 'readApplyState', 'commit committed']);
    expect(result.results[0]).toMatchObject({ applied: [{ sequence: 1, effect: 'stale' }] });
    expect((await store.readObjects('slave-1', [ref('workspace', 'a')]))[0]).toMatchObject({ properties: { v: 2 }, lastSequence: 2 });
    expect(await store.readCursor('slave-1')).toBe(1);
  });

  it('reads the object of a modify first, and of every event of a batch of several', async () => {
    const { h, store, deps, messages } = await setUp([add('workspace', 'a', { v: 1 })]);
    await applyDeliveredBatch(deps, SLAVE, [messages[0]!]);
    store.calls = [];
    const [modified] = await h.appendAll([modify('workspace', 'a', { v: 2 })]);
    await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(modified)], { knownCursor: 1 });
    expect(store.calls).toEqual(['readApplyState', 'commit committed']);
    store.calls = [];
    const more = await h.appendAll([add('workspace', 'b'), add('workspace', 'c')]);
    await applyDeliveredBatch(deps, SLAVE, more.map((event) => JSON.stringify(event)), { knownCursor: 2 });
    expect(store.calls).toEqual(['readApplyState']);
    expect(await store.readCursor('slave-1')).toBe(4);
  });

  describe("a pure master's lone publish, assumed right after its store's cursor (catchUpOnce assumeNext)", () => {
    const MASTER_STORE: NodeContext = { cluster: CLUSTER, node: 'master-1' };

    it('is one commit when the assumption holds, and a failed commit and a cursor read when it does not', async () => {
      const { h, store } = await setUp([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
      const deps = { store, log: h.log, bodies: h.bodies };
      const events = await h.log.readRange(CLUSTER, 1, 3);
      const first = await catchUpOnce(deps, MASTER_STORE, 1, [events[0]!], { onlyWhenNext: true, assumeNext: true });
      expect(first).toMatchObject({ settled: true, cursor: 1, applied: [{ sequence: 1, effect: 'written' }] });
      expect(store.calls).toEqual(['commit unread committed']);
      // Event 2 was never applied here: the store is not right before event 3.
      store.calls = [];
      const third = await catchUpOnce(deps, MASTER_STORE, 3, [events[2]!], { onlyWhenNext: true, assumeNext: true });
      expect(third).toMatchObject({ settled: false, cursor: 1, applied: [] });
      expect(store.calls).toEqual(['commit unread cursor-moved', 'readCursor']);
      expect(await store.readObjects('master-1', [ref('workspace', 'c')])).toEqual([]);
    });

    it('reads the cursor before any object when the commit finds the object parked', async () => {
      const { h, store } = await setUp([add('workspace', 'a', { v: 1 }), add('workspace', 'a', { v: 2 })]);
      const deps = { store, log: h.log, bodies: h.bodies };
      await store.park('master-1', { expectedCursor: 0, sequence: 1, key: parkingKey(ref('workspace', 'a'), 1), object: ref('workspace', 'a'), cause: { reason: 'refused', attempts: 3, parkedAt: '2025-01-01T00:00:00Z' } });
      store.calls = [];
      const [, second] = await h.log.readRange(CLUSTER, 1, 2);
      const result = await catchUpOnce(deps, MASTER_STORE, 2, [second!], { onlyWhenNext: true, assumeNext: true });
      expect(store.calls).toEqual(['commit unread object-moved', 'readCursor', 'readApplyState', 'park']);
      expect(result).toMatchObject({ settled: true, cursor: 2, applied: [{ sequence: 2, effect: 'parked' }] });
    });

    it('never commits on the assumption while a resync holds the store', async () => {
      const { h, store } = await setUp([add('workspace', 'a')]);
      const deps = { store, log: h.log, bodies: h.bodies };
      await store.holdForResync('master-1', 'resync-1', Date.now() + 60_000);
      const events = await h.log.readRange(CLUSTER, 1, 1);
      const result = await catchUpOnce(deps, MASTER_STORE, 1, events, { onlyWhenNext: true, assumeNext: true });
      expect(result.settled).toBe(false);
      expect(store.calls).toEqual(['commit unread cursor-moved', 'readCursor']);
      expect(await store.readObjects('master-1', [ref('workspace', 'a')])).toEqual([]);
    });
  });
});

describe('applying an SQS batch', () => {
  class CountingStore extends MemoryNodeStore {
    objectReads = 0;
    cursorReads = 0;
    failCommitOf: number | undefined;
    override async readObjects(node: string, objects: readonly ObjectRef[]): Promise<StoredObject[]> {
      this.objectReads += 1;
      return super.readObjects(node, objects);
    }
    override async readCursor(node: string): Promise<number> {
      this.cursorReads += 1;
      return super.readCursor(node);
    }
    override async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
      if (commit.sequence === this.failCommitOf) throw new Error('DynamoDB is unavailable');
      return super.commit(node, commit);
    }
    override async commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome> {
      const failing = this.failCommitOf;
      if (failing !== undefined && failing > commit.expectedCursor && failing <= commit.sequence) throw new Error('DynamoDB is unavailable');
      return super.commitBatch(node, commit);
    }
  }

  async function setUp(count: number) {
    const h = harness();
    const store = new CountingStore({ log: h.log });
    const events = await h.appendAll(Array.from({ length: count }, (_, i) => add('layer', `topp:layer${i + 1}`, { i })));
    return { h, store, deps: { store, log: h.log, bodies: h.bodies } as ApplyDeps, messages: events.map((e) => JSON.stringify(e)) };
  }

  /** `h`'s log, counting the ranges read from it. */
  const countingLog = (h: ReturnType<typeof harness>) => {
    const reads: [number, number][] = [];
    const log = Object.assign(Object.create(h.log) as typeof h.log, {
      readRange: (cluster: string, from: number, to: number) => {
        reads.push([from, to]);
        return h.log.readRange(cluster, from, to);
      },
    });
    return { log, reads };
  };

  it("reads nothing of the log on a node keeping up whose deliveries are the log's events: each commit checks the log's item instead", async () => {
    const { h, store, messages } = await setUp(3);
    const [modified] = await h.appendAll([modify('layer', 'topp:layer1', { i: 'changed' })]);
    const { log, reads } = countingLog(h);
    const deps: ApplyDeps = { store, log, bodies: h.bodies };
    let cursor = 0;
    for (const message of [...messages, JSON.stringify(modified)]) {
      const batch = await applyDeliveredBatch(deps, SLAVE, [message], { knownCursor: cursor, readAhead: false });
      expect({ failure: batch.failure, setAside: batch.setAside, results: batch.results.map((r) => [r.sequence, r.disposition]) }).toEqual({
        failure: undefined,
        setAside: undefined,
        results: [[cursor + 1, 'applied']],
      });
      expect(batchSteps(batch).map((step) => step.fromLog)).toEqual([false]);
      cursor = batch.cursor!;
    }
    expect(reads).toEqual([]);
    expect(await store.readCursor('slave-1')).toBe(4);
    expect((await store.readObjects('slave-1', [ref('layer', 'topp:layer1')]))[0]?.properties).toEqual({ i: 'changed' });
  });

  it("reads the log's item when its commit's check fails for a delivery that is the log's event (an item written before items carried a digest)", async () => {
    const { h, store, messages } = await setUp(1);
    await applyDeliveredBatch({ store, log: h.log, bodies: h.bodies }, SLAVE, [messages[0]!], { knownCursor: 0, readAhead: false });
    const old = h.log.appendAsLogged(CLUSTER, { origin: 'master-1', publishedAt: '2025-01-01T00:00:00.000Z', kind: 'add', object: ref('layer', 'topp:old'), properties: { old: true } });
    const { log, reads } = countingLog(h);
    const batch = await applyDeliveredBatch({ store, log, bodies: h.bodies }, SLAVE, [JSON.stringify(old)], { knownCursor: 1, readAhead: false });
    expect({ failure: batch.failure, setAside: batch.setAside, results: batch.results.map((r) => [r.sequence, r.disposition]) }).toEqual({
      failure: undefined,
      setAside: undefined,
      results: [[2, 'applied']],
    });
    expect(reads).toEqual([[2, 2]]);
    expect((await store.readObjects('slave-1', [ref('layer', 'topp:old')]))[0]?.properties).toEqual({ old: true });
  });

  it("reads the log's event, reporting why, when a commit checking the log's item fails outright (a grant missing): nothing counted or parked", async () => {
    const h = harness();
    class RefusingCheck extends MemoryNodeStore {
      override async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
        if (commit.logCheck) throw Object.assign(new Error('not authorized to perform: dynamodb:ConditionCheckItem'), { name: 'AccessDeniedException' });
        return super.commit(node, commit);
      }
    }
    const store = new RefusingCheck({ log: h.log });
    const [event] = await h.appendAll([add('layer', 'topp:layer1', { i: 1 })]);
    const { log, reads } = countingLog(h);
    const warnings: unknown[] = [];
    const deps: ApplyDeps = { store, log, bodies: h.bodies, warn: (message, fields) => warnings.push({ message, ...fields }) };
    const batch = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(event)], { knownCursor: 0, readAhead: false });
    expect({ failure: batch.failure, setAside: batch.setAside, results: batch.results.map((r) => r.disposition) }).toEqual({ failure: undefined, setAside: undefined, results: ['applied'] });
    expect(reads).toEqual([[1, 1]]);
    expect(warnings).toEqual([expect.objectContaining({ sequence: 1, error: expect.stringContaining('ConditionCheckItem') })]);
    expect(await store.readProgress('slave-1')).toEqual({ cursor: 1 });
  });

  it('applies a batch of 10 with one read (the objects and the cursor together)', async () => {
    const { store, deps, messages } = await setUp(10);
    const batch = await applyDeliveredBatch(deps, SLAVE, messages);
    expect(batch.failure).toBeUndefined();
    expect(batch.setAside).toBeUndefined();
    expect(batch.results.map((r) => r.disposition)).toEqual(Array(10).fill('applied'));
    // The cursor comes with the objects' read (readApplyState): no read of its own.
    expect(store.cursorReads).toBe(0);
    expect(store.objectReads).toBe(1);
    expect(await store.readCursor('slave-1')).toBe(10);
  });

  it('sets aside at once a message that is not an event of its cluster (no JSON, no sequence, another cluster) and applies every later one', async () => {
    const { store, deps, messages } = await setUp(4);
    const foreign = JSON.stringify({ ...(JSON.parse(messages[2]!) as object), cluster: 'other' });
    const batch = await applyDeliveredBatch(deps, SLAVE, [messages[0]!, 'not json', messages[1]!, '{"kind":"add"}', foreign, messages[2]!, messages[3]!]);
    expect(batch.failure).toBeUndefined();
    expect(batch.setAside).toEqual([
      { index: 1, reason: expect.stringContaining('is not valid JSON') },
      { index: 3, reason: expect.stringContaining('sequence') },
      { index: 4, reason: expect.stringContaining('cluster other') },
    ]);
    // One result per message applied, in order: the set-aside ones have none.
    expect(batch.results.map((r) => [r.sequence, r.disposition])).toEqual([[1, 'applied'], [2, 'applied'], [3, 'applied'], [4, 'applied']]);
    expect(await store.readCursor('slave-1')).toBe(4);
    expect(await store.listParked('slave-1')).toEqual([]);
  });

  it('sets aside an event numbered past the log head (no publisher allocated it) without moving the cursor past the head, and applies the real event there later', async () => {
    const { h, store, deps, messages } = await setUp(2);
    const forged = JSON.stringify({ ...(JSON.parse(messages[1]!) as object), sequence: 5 });
    const garbledPastHead = JSON.stringify({ ...(JSON.parse(messages[1]!) as object), sequence: 3, kind: 'rename' });
    const batch = await applyDeliveredBatch(deps, SLAVE, [messages[0]!, garbledPastHead, forged, messages[1]!]);
    expect(batch.failure).toBeUndefined();
    expect(batch.setAside).toEqual([
      { index: 1, reason: expect.stringContaining('past the head of the event log (2)') },
      { index: 2, reason: expect.stringContaining('past the head of the event log (2)') },
    ]);
    expect(await store.readCursor('slave-1')).toBe(2);
    // The real events 3 to 5 come later, and apply as any.
    const real = await h.appendAll([add('workspace', 'c'), add('workspace', 'd'), add('workspace', 'e')]);
    const later = await applyDeliveredBatch(deps, SLAVE, real.map((event) => JSON.stringify(event)));
    expect({ failure: later.failure, setAside: later.setAside, cursor: await store.readCursor('slave-1') }).toEqual({ failure: undefined, setAside: undefined, cursor: 5 });
    expect(store.liveObjects('slave-1').map((o) => o.id).sort()).toEqual(['c', 'd', 'e', 'topp:layer1', 'topp:layer2']);
  });

  describe('a forged message of the cluster, numbered at or below the log head and above the cursor', () => {
    /** Message `index` of `messages` with its change replaced: what anyone allowed to send to the queue can make. */
    const forge = (messages: readonly string[], index: number, change: object) => {
      const { properties: _properties, patch: _patch, kind: _kind, ...metadata } = JSON.parse(messages[index]!) as Record<string, unknown>;
      return JSON.stringify({ ...metadata, ...change });
    };

    it('is never applied, alone on a node keeping up (no read ahead): set aside, and the log\'s event at its sequence applied', async () => {
      const { store, deps, messages } = await setUp(3);
      await applyDeliveredBatch(deps, SLAVE, [messages[0]!], { knownCursor: 0, readAhead: false });
      const forged = forge(messages, 1, { kind: 'add', properties: { forged: true } });
      const batch = await applyDeliveredBatch(deps, SLAVE, [forged], { knownCursor: 1, readAhead: false });
      expect(batch.failure).toBeUndefined();
      expect(batch.setAside).toEqual([{ index: 0, reason: expect.stringContaining("differs from the log's event 2") }]);
      expect(batch.results).toEqual([]);
      expect(batchSteps(batch).map((step) => [step.sequence, step.fromLog])).toEqual([[2, true]]);
      expect((await store.readObjects('slave-1', [ref('layer', 'topp:layer2')]))[0]?.properties).toEqual({ i: 1 });
      expect(await store.readCursor('slave-1')).toBe(2);
    });

    it('is never applied within a backlog: set aside, the log\'s event applied in its place, the real messages applied around it', async () => {
      const { store, deps, messages } = await setUp(4);
      const forged = forge(messages, 1, { kind: 'remove' });
      const batch = await applyDeliveredBatch(deps, SLAVE, [messages[0]!, forged, messages[2]!]);
      expect(batch.failure).toBeUndefined();
      expect(batch.setAside).toEqual([{ index: 1, reason: expect.stringContaining("differs from the log's event 2") }]);
      expect(batch.results.map((r) => [r.sequence, r.disposition])).toEqual([[1, 'applied'], [3, 'applied']]);
      expect(batchSteps(batch).map((step) => step.sequence)).toEqual([1, 2, 3, 4]);
      expect(store.liveObjects('slave-1').map((o) => o.id).sort()).toEqual(['topp:layer1', 'topp:layer2', 'topp:layer3', 'topp:layer4']);
      expect(await store.readCursor('slave-1')).toBe(4);
    });

    it('with a gap before it on a trusted cursor, and at the end of a run', async () => {
      const { store, deps, messages } = await setUp(4);
      await applyDeliveredBatch(deps, SLAVE, [messages[0]!], { knownCursor: 0, readAhead: false });
      const forged = forge(messages, 3, { kind: 'modify', patch: { i: 'forged' } });
      const batch = await applyDeliveredBatch(deps, SLAVE, [messages[2]!, forged], { knownCursor: 1, readAhead: false });
      expect(batch.setAside).toEqual([{ index: 1, reason: expect.stringContaining("differs from the log's event 4") }]);
      expect(batch.results.map((r) => [r.sequence, r.disposition])).toEqual([[3, 'applied']]);
      expect((await store.readObjects('slave-1', [ref('layer', 'topp:layer4')]))[0]?.properties).toEqual({ i: 3 });
      expect(await store.readCursor('slave-1')).toBe(4);
    });

    it('differing only in formatting (key order, spacing) from the log\'s event is the log\'s event: applied, nothing set aside', async () => {
      const { store, deps, messages } = await setUp(2);
      const reordered = Object.fromEntries(Object.entries(JSON.parse(messages[1]!) as object).reverse());
      const batch = await applyDeliveredBatch(deps, SLAVE, [messages[0]!, JSON.stringify(reordered, null, 2)]);
      expect({ setAside: batch.setAside, results: batch.results.map((r) => r.disposition) }).toEqual({ setAside: undefined, results: ['applied', 'applied'] });
      expect(await store.readCursor('slave-1')).toBe(2);
    });

    it('of an offloaded event (its body in the body store) is told from the log\'s by what the message carries, without fetching either body', async () => {
      const h = harness();
      const reads: string[] = [];
      const bodies = Object.assign(Object.create(h.bodies) as typeof h.bodies, {
        get: (key: string) => {
          reads.push(key);
          return h.bodies.get(key);
        },
      });
      const deps: ApplyDeps = { store: h.store, log: h.log, bodies };
      const bodyRef = await h.bodies.put(CLUSTER, { kind: 'add', object: ref('style', 'big'), properties: { body: 'x'.repeat(1000) } });
      const real = await h.log.append({ cluster: CLUSTER, origin: 'master-1', publishedAt: '2025-01-01T00:00:00.000Z', kind: 'add', object: ref('style', 'big'), bodyRef });
      const otherRef = await h.bodies.put(CLUSTER, { kind: 'add', object: ref('style', 'big'), properties: { body: 'forged' } });
      const batch = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify({ ...real, bodyRef: otherRef })]);
      expect(batch.setAside).toEqual([{ index: 0, reason: expect.stringContaining("differs from the log's event 1 (bodyRef)") }]);
      expect(reads).toEqual([bodyRef]);
      expect((await h.store.readObjects('slave-1', [ref('style', 'big')]))[0]?.properties).toEqual({ body: 'x'.repeat(1000) });
      // The real message, delivered later, is a duplicate.
      const again = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(real)]);
      expect({ setAside: again.setAside, results: again.results.map((r) => r.disposition) }).toEqual({ setAside: undefined, results: ['duplicate'] });
    });
  });

  it('never takes a delivered event it cannot read for the log\'s: the valid event there is applied, nothing parked or counted, the message set aside', async () => {
    const { store, deps, messages } = await setUp(3);
    const garbled = JSON.stringify({ ...(JSON.parse(messages[1]!) as object), properties: 'not an object' });
    const batch = await applyDeliveredBatch(deps, SLAVE, [messages[0]!, garbled, messages[2]!]);
    expect(batch.failure).toBeUndefined();
    expect(batch.setAside).toEqual([{ index: 1, reason: expect.stringContaining("differs from the log's event 2") }]);
    expect(batch.results.map((r) => [r.sequence, r.disposition])).toEqual([[1, 'applied'], [3, 'applied']]);
    expect(await store.readCursor('slave-1')).toBe(3);
    expect(await store.listParked('slave-1')).toEqual([]);
    expect((await store.readObjects('slave-1', [ref('layer', 'topp:layer2')]))[0]?.properties).toEqual({ i: 1 });
  });

  it('stops at the first message that fails to apply', async () => {
    const { store, deps, messages } = await setUp(5);
    store.failCommitOf = 3;
    const batch = await applyDeliveredBatch(deps, SLAVE, messages);
    expect(batch.results.map((r) => r.sequence)).toEqual([1, 2]);
    expect(batch.failure).toMatchObject({ index: 2, error: new Error('DynamoDB is unavailable') });
    expect(await store.readCursor('slave-1')).toBe(2);
    // The queue redelivers the failed messages; the batch then completes.
    store.failCommitOf = undefined;
    const retry = await applyDeliveredBatch(deps, SLAVE, messages.slice(2));
    expect(retry.failure).toBeUndefined();
    expect(await store.readCursor('slave-1')).toBe(5);
  });

  it('handles duplicates, reordering and own events within one batch', async () => {
    const h = harness();
    const events = [
      await h.append(add('workspace', 'a'), 'master-1'),
      await h.append(add('workspace', 'b'), 'both-1'),
      await h.append(add('workspace', 'c'), 'master-1'),
    ];
    const both: NodeContext = { cluster: CLUSTER, node: 'both-1' };
    const batch = await applyDeliveredBatch(
      applyDeps(h),
      both,
      [events[2]!, events[0]!, events[1]!, events[2]!].map((e) => JSON.stringify(e)),
    );
    expect(batch.results.map((r) => r.disposition)).toEqual(['applied', 'duplicate', 'duplicate', 'duplicate']);
    expect(applied(batch.results[0]!)).toEqual([1, 2, 3]);
    expect(h.store.liveObjects('both-1').map((o) => o.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('catchUp', () => {
  it('applies the log up to its head, or up to a given sequence', async () => {
    const h = harness();
    await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    expect(await catchUp(applyDeps(h), SLAVE, 2)).toMatchObject({ fromCursor: 0, cursor: 2 });
    const rest = await catchUp(applyDeps(h), SLAVE);
    expect(rest).toMatchObject({ fromCursor: 2, cursor: 3 });
    expect(rest.applied.map((step) => step.sequence)).toEqual([3]);
    expect(await catchUp(applyDeps(h), SLAVE)).toEqual({ fromCursor: 3, cursor: 3, applied: [] });
  });
});
