// A feature type the master moved to another store of its workspace (a resource PUT naming that
// store, gateway/resource-store.ts) arrives as a modify whose `store` names the new one: the node's
// GeoServer, which holds it under the former store, must end with it under the new one, its layer
// kept, and the node's store agreeing; applying the modify again changes nothing.
import { applyDeliveredEvent, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import { add, applyDeps, harness, modify } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';

const NODE = { cluster: 'test-cluster', node: 'gs-1' };
const standIn = standInPerTest();

/** A GeoServer node applying against the stand-in: its log, its store and its apply deps. */
function node() {
  const h = harness();
  const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
  return { geoserver: standIn.geoserver, h, deps };
}

test('a modify moving a feature type to another store moves it on the GeoServer (PUT to the former store naming the new one), its layer kept', async () => {
  const { geoserver, h, deps } = node();
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('dataStore', 'topp:pg2', { name: 'pg2', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'generic' } }),
    modify('featureType', 'topp:roads', { title: 'Moved roads', store: { '@class': 'dataStore', name: 'topp:pg2' } }),
  ]);
  for (const event of events) await applyDeliveredEvent(deps, NODE, event);
  // once more, as a redelivery after a crash before the commit would
  await applyDeliveredEvent(deps, NODE, events.at(-1)!);

  expect({
    featureType: geoserver.catalog.objects.featureType.get('topp:roads'),
    layer: geoserver.catalog.objects.layer.get('topp:roads')?.resource,
    parked: (await h.store.listParked('gs-1')).length,
    stored: (await h.store.readObjects('gs-1', [{ type: 'featureType', id: 'topp:roads' }]))[0]?.properties.store,
  }).toEqual({
    featureType: expect.objectContaining({ title: 'Moved roads', store: expect.objectContaining({ name: 'topp:pg2' }) }),
    layer: expect.objectContaining({ name: 'topp:roads' }),
    parked: 0,
    stored: { '@class': 'dataStore', name: 'topp:pg2' },
  });
});

// The node's GeoServer lacks the new store (its add was parked, or the GeoServer lost it): a PUT
// naming it answers 200 and keeps the resource where it was (the reference does not resolve, and
// OwsUtils.copy skips the null). That is no move: the event must not pass for applied.
test('a move to a store the node GeoServer lacks is not taken for applied', async () => {
  const { geoserver, h, deps } = node();
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    modify('featureType', 'topp:roads', { title: 'Moved roads', store: { '@class': 'dataStore', name: 'topp:pg2' } }),
  ]);
  for (const event of events) await applyDeliveredEvent(deps, NODE, event).catch(() => undefined);

  expect({
    featureTypeStore: geoserver.catalog.objects.featureType.get('topp:roads')?.store,
    parked: (await h.store.listParked('gs-1')).flatMap((parked) => parked.sequences),
  }).toEqual({
    featureTypeStore: expect.objectContaining({ name: 'topp:pg' }),
    parked: [events.at(-1)!.sequence],
  });
});
