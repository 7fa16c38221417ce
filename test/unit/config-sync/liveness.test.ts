// What a node holds after removes with and without `recurse`, parents created again, and
// children added since: events applied by the real applier (one at a time, and as one catch-up
// in runs) to the in-memory store, then read through Liveness.
import { applyChange, applyDeliveredEvent, catchUp, type NodeContext } from '../../../lambdas/config-sync/apply';
import type { ConfigChange, ConfigEvent, ObjectType } from '../../../lambdas/config-sync/events';
import { Liveness } from '../../../lambdas/config-sync/liveness';
import { add, applyDeps, CLUSTER, harness, modify, remove, type Harness } from './fixtures';

const SLAVE: NodeContext = { cluster: CLUSTER, node: 'slave-1' };

const workspace = (name: string) => add('workspace', name, { name });
const dataStore = (ws: string, name: string) => add('dataStore', `${ws}:${name}`, { name, type: 'PostGIS', workspace: { name: ws } });
const featureType = (ws: string, store: string, name: string) =>
  add('featureType', `${ws}:${name}`, { name, title: name, store: { '@class': 'dataStore', name: `${ws}:${store}` } });
const layer = (ws: string, name: string) => add('layer', `${ws}:${name}`, { name, resource: { '@class': 'featureType', name: `${ws}:${name}` } });
const style = (ws: string, name: string) => add('style', `${ws}:${name}`, { name, filename: `${name}.sld` });
const removeRecursively = (type: ObjectType, id: string): ConfigChange => ({ ...remove(type, id), recurse: true }) as ConfigChange;

/** A workspace with a store, two feature types with their layers, and a style. */
const topp = (): ConfigChange[] => [
  workspace('topp'),
  dataStore('topp', 'pg'),
  featureType('topp', 'pg', 'roads'),
  layer('topp', 'roads'),
  featureType('topp', 'pg', 'rivers'),
  layer('topp', 'rivers'),
  style('topp', 'line'),
];

/** `type/id` of every object the node holds, in the store's order. */
async function held(h: Harness): Promise<string[]> {
  const { objects } = await h.store.listObjects(SLAVE.node, { limit: 1000 });
  const live = await new Liveness((refs) => h.store.readObjects(SLAVE.node, refs)).live(objects);
  return objects.filter((_, index) => live[index]).map((object) => `${object.type}/${object.id}`);
}

/** The changes applied to a fresh node, one delivery at a time or as one catch-up from the log. */
async function appliedTo(changes: readonly ConfigChange[], how: 'one by one' | 'catch-up'): Promise<Harness> {
  const h = harness();
  const events = await h.appendAll(changes);
  if (how === 'catch-up') await catchUp(applyDeps(h), SLAVE);
  else for (const event of events) await applyDeliveredEvent(applyDeps(h), SLAVE, event);
  expect((await h.store.readProgress(SLAVE.node)).cursor).toBe(events.length);
  return h;
}

describe.each(['one by one', 'catch-up'] as const)('what a node holds, events applied %s', (how) => {
  test('a workspace removed with recurse takes everything in it, also once it is created again; what is added since is held', async () => {
    const h = await appliedTo(
      [...topp(), removeRecursively('workspace', 'topp'), workspace('topp'), dataStore('topp', 'pg'), featureType('topp', 'pg', 'roads'), layer('topp', 'roads')],
      how,
    );
    expect(await held(h)).toEqual(['dataStore/topp:pg', 'featureType/topp:roads', 'layer/topp:roads', 'workspace/topp']);
  });

  test('a store removed with recurse takes its resources and their layers, not its workspace or the rest of it', async () => {
    const h = await appliedTo([...topp(), removeRecursively('dataStore', 'topp:pg'), dataStore('topp', 'pg'), featureType('topp', 'pg', 'rivers')], how);
    expect(await held(h)).toEqual(['dataStore/topp:pg', 'featureType/topp:rivers', 'style/topp:line', 'workspace/topp']);
  });

  test('a layer is gone with its resource even when the layer changed after the store was created again', async () => {
    const h = await appliedTo([...topp(), removeRecursively('dataStore', 'topp:pg'), dataStore('topp', 'pg'), modify('layer', 'topp:roads', { enabled: false })], how);
    expect(await held(h)).toEqual(['dataStore/topp:pg', 'style/topp:line', 'workspace/topp']);
  });

  test('a remove without recurse takes what the object contains only while it is removed', async () => {
    const h = await appliedTo([...topp(), remove('workspace', 'topp')], how);
    expect(await held(h)).toEqual([]);
    // A GeoServer refuses such a remove of a workspace that is not empty; created again, its contents are there.
    await h.append(workspace('topp'));
    await catchUp(applyDeps(h), SLAVE);
    expect(await held(h)).toEqual(['dataStore/topp:pg', 'featureType/topp:rivers', 'featureType/topp:roads', 'layer/topp:rivers', 'layer/topp:roads', 'style/topp:line', 'workspace/topp']);
  });

  test('a second recursive remove counts from its own sequence', async () => {
    const h = await appliedTo(
      [...topp(), removeRecursively('workspace', 'topp'), workspace('topp'), style('topp', 'fill'), removeRecursively('workspace', 'topp'), workspace('topp'), style('topp', 'dots')],
      how,
    );
    expect(await held(h)).toEqual(['style/topp:dots', 'workspace/topp']);
  });
});

describe('applyChange keeps the sequence of the last recursive remove', () => {
  const at = (sequence: number, change: ConfigChange): ConfigEvent => ({ sequence, cluster: CLUSTER, origin: 'master-1', publishedAt: '2025-01-01T00:00:00.000Z', ...change }) as ConfigEvent;

  test('set by a remove with recurse, kept by the adds, modifies and plain removes after it', () => {
    const removed = applyChange(applyChange(undefined, at(1, workspace('topp'))).object, at(2, removeRecursively('workspace', 'topp'))).object;
    expect(removed).toMatchObject({ deleted: true, cascadedAt: 2 });
    const added = applyChange(removed, at(3, workspace('topp'))).object;
    expect(added).toMatchObject({ deleted: false, cascadedAt: 2 });
    const patched = applyChange(added, at(4, modify('workspace', 'topp', { isolated: true }))).object;
    expect(patched).toMatchObject({ cascadedAt: 2, properties: { name: 'topp', isolated: true } });
    expect(applyChange(patched, at(5, remove('workspace', 'topp'))).object).toMatchObject({ deleted: true, cascadedAt: 2 });
    expect(applyChange(undefined, at(6, remove('workspace', 'other'))).object?.cascadedAt).toBeUndefined();
  });
});

describe('what the catalog routes leave out: what a remove with recurse took', () => {
  /** `type/id` of every stored object that is no tombstone and that a recursive remove took. */
  async function taken(h: Harness): Promise<string[]> {
    const { objects } = await h.store.listObjects(SLAVE.node, { limit: 1000 });
    const present = objects.filter((object) => !object.deleted);
    const flags = await new Liveness((refs) => h.store.readObjects(SLAVE.node, refs)).taken(present);
    return present.filter((_, index) => flags[index]).map((object) => `${object.type}/${object.id}`);
  }

  test('everything in a workspace removed with recurse, also once it is created again; not what was added since', async () => {
    const h = await appliedTo([...topp(), removeRecursively('workspace', 'topp'), workspace('topp'), dataStore('topp', 'pg'), featureType('topp', 'pg', 'roads')], 'catch-up');
    expect(await taken(h)).toEqual(['featureType/topp:rivers', 'layer/topp:rivers', 'layer/topp:roads', 'style/topp:line']);
  });

  test('a layer whose resource a store removed with recurse took, though the layer changed after the store was created again', async () => {
    const h = await appliedTo([...topp(), removeRecursively('dataStore', 'topp:pg'), dataStore('topp', 'pg'), modify('layer', 'topp:roads', { enabled: false })], 'one by one');
    expect(await taken(h)).toEqual(['featureType/topp:rivers', 'featureType/topp:roads', 'layer/topp:rivers', 'layer/topp:roads']);
  });

  test('nothing when containers are absent or removed without recurse: the store still holds those objects', async () => {
    const orphans = await appliedTo([dataStore('nowhere', 'pg'), featureType('nowhere', 'pg', 'roads'), layer('nowhere', 'roads')], 'catch-up');
    expect(await taken(orphans)).toEqual([]);
    const plain = await appliedTo([...topp(), remove('workspace', 'topp')], 'catch-up');
    expect(await taken(plain)).toEqual([]);
  });
});
