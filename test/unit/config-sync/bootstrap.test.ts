import { applyDeliveredEvent, catchUp } from '../../../lambdas/config-sync/apply';
import { bootstrapNode, resyncFrom } from '../../../lambdas/config-sync/bootstrap';
import { EventsMissingFromLogError, WrongClusterError } from '../../../lambdas/config-sync/errors';
import type { ConfigChange } from '../../../lambdas/config-sync/events';
import { add, applyDeps, CLUSTER, harness, modify, remove } from './fixtures';

const MASTER = { cluster: CLUSTER, node: 'master-1' };
const NEWCOMER = { cluster: CLUSTER, node: 'slave-9' };

const history: ConfigChange[] = [
  add('workspace', 'topp'),
  add('dataStore', 'topp:shp', { type: 'Shapefile', connectionParameters: { url: 'file:a.shp' } }),
  add('featureType', 'topp:states', { store: 'topp:shp', title: 'States' }),
  add('layer', 'topp:states', { resource: 'topp:states', enabled: true }),
  modify('dataStore', 'topp:shp', { connectionParameters: { url: 'file:b.shp', charset: 'UTF-8' } }),
  add('style', 'polygon', { body: '<sld/>' }),
  remove('layer', 'topp:states'),
  modify('global', 'global', { proxyBaseUrl: 'https://maps.example.com' }),
  modify('service', 'topp:WMS', { title: 'Topp WMS' }),
  modify('featureType', 'topp:states', { title: null, abstract: 'US states' }),
];

describe('bootstrap from a snapshot', () => {
  it('gives a new node the same store as its source, then the log after the snapshot', async () => {
    const h = harness();
    await h.appendAll(history.slice(0, 6));
    await catchUp(applyDeps(h), MASTER);
    const snapshot = await h.store.readSnapshot('master-1', CLUSTER);
    expect(snapshot.sequence).toBe(6);
    await h.appendAll(history.slice(6));

    const result = await bootstrapNode(applyDeps(h), NEWCOMER, snapshot);
    expect(result).toMatchObject({ sourceNode: 'master-1', snapshotSequence: 6, cursor: 10 });
    expect(result.applied.map((step) => step.sequence)).toEqual([7, 8, 9, 10]);

    await catchUp(applyDeps(h), MASTER);
    expect(h.store.allObjects('slave-9')).toEqual(h.store.allObjects('master-1'));
    expect(await h.store.readCursor('slave-9')).toBe(10);
  });

  it('then follows its queue: events already in the snapshot or the log are duplicates', async () => {
    const h = harness();
    const events = await h.appendAll(history);
    await catchUp(applyDeps(h), MASTER, 5);
    await bootstrapNode(applyDeps(h), NEWCOMER, await h.store.readSnapshot('master-1', CLUSTER));
    for (const event of events) {
      expect(await applyDeliveredEvent(applyDeps(h), NEWCOMER, event)).toMatchObject({ disposition: 'duplicate' });
    }
    const next = await h.append(add('workspace', 'sf'));
    expect(await applyDeliveredEvent(applyDeps(h), NEWCOMER, next)).toMatchObject({ disposition: 'applied', cursor: 11 });
  });

  it('converges from a snapshot read while its source kept applying', async () => {
    const h = harness();
    await h.appendAll(history);
    await catchUp(applyDeps(h), MASTER, 4);
    const cursorReadFirst = await h.store.readCursor('master-1');
    // The scan of the objects runs while the source applies events 5..8.
    await catchUp(applyDeps(h), MASTER, 8);
    const objectsScannedLater = h.store.allObjects('master-1');
    const fuzzy = { cluster: CLUSTER, sourceNode: 'master-1', sequence: cursorReadFirst, objects: objectsScannedLater };

    const result = await bootstrapNode(applyDeps(h), NEWCOMER, fuzzy);
    // Events 5..8 are already in the objects they touch: skipped, cursor still moving.
    expect(result.applied.map((step) => [step.sequence, step.effect])).toEqual([
      [5, 'stale'],
      [6, 'stale'],
      [7, 'stale'],
      [8, 'stale'],
      [9, 'recorded-incomplete'],
      [10, 'patched'],
    ]);
    await catchUp(applyDeps(h), MASTER);
    expect(h.store.allObjects('slave-9')).toEqual(h.store.allObjects('master-1'));
  });

  it('replaces whatever the node held before', async () => {
    const h = harness();
    await h.appendAll(history);
    await catchUp(applyDeps(h), MASTER);
    // A node that drifted: a stray object, a cursor ahead of the snapshot's.
    await h.store.replaceWithSnapshot('slave-9', {
      cluster: CLUSTER,
      sourceNode: 'slave-9',
      sequence: 42,
      objects: [{ ...h.store.allObjects('master-1')[0]!, id: 'stray', lastSequence: 42 }],
    });
    await resyncFrom(applyDeps(h), NEWCOMER, 'master-1');
    expect(h.store.allObjects('slave-9')).toEqual(h.store.allObjects('master-1'));
    expect(await h.store.readCursor('slave-9')).toBe(10);
  });

  it('brings back a node that was away longer than the log keeps events', async () => {
    const h = harness();
    const events = await h.appendAll(history);
    await catchUp(applyDeps(h), MASTER);
    await catchUp(applyDeps(h), NEWCOMER, 2);
    h.log.trimThrough(CLUSTER, 8);
    await expect(applyDeliveredEvent(applyDeps(h), NEWCOMER, events[9]!)).rejects.toBeInstanceOf(EventsMissingFromLogError);

    const result = await resyncFrom(applyDeps(h), NEWCOMER, 'master-1');
    expect(result).toMatchObject({ snapshotSequence: 10, cursor: 10, applied: [] });
    expect(h.store.allObjects('slave-9')).toEqual(h.store.allObjects('master-1'));
    expect(await applyDeliveredEvent(applyDeps(h), NEWCOMER, events[9]!)).toMatchObject({ disposition: 'duplicate' });
  });

  it('keeps tombstones, so a stale event for a removed object stays stale', async () => {
    const h = harness();
    await h.appendAll(history);
    await catchUp(applyDeps(h), MASTER);
    const snapshot = await h.store.readSnapshot('master-1', CLUSTER);
    expect(snapshot.objects.find((o) => o.type === 'layer')).toMatchObject({ deleted: true, lastSequence: 7 });
    await bootstrapNode(applyDeps(h), NEWCOMER, snapshot);
    expect((await h.store.listObjects('slave-9', { type: 'layer', limit: 10 })).objects).toEqual([]);
  });

  it('refuses a snapshot of another cluster', async () => {
    const h = harness();
    const snapshot = { cluster: 'other', sourceNode: 'x', sequence: 3, objects: [] };
    await expect(bootstrapNode(applyDeps(h), NEWCOMER, snapshot)).rejects.toBeInstanceOf(WrongClusterError);
    await expect(bootstrapNode(applyDeps(h), NEWCOMER, snapshot)).rejects.toMatchObject({
      status: 409,
      message: `Snapshot at 3 of cluster other reached node slave-9 of cluster ${CLUSTER}`,
    });
    expect(await h.store.readCursor('slave-9')).toBe(0);
  });
});
