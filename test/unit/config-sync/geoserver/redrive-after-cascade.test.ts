// A change parked on a GeoServer node (a 500 from a GeoServer that still answers reads parks it),
// then the store it lives in removed with recurse and created again, then the node redriven: the
// redrive applies the parked change out of order, and must not send the GeoServer what the later
// recursive remove took from it (and from every other node).
import { applyDeliveredEvent, retryParked, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { Liveness } from '../../../../lambdas/config-sync/liveness';
import { add, applyDeps, harness } from '../fixtures';
import { FakeGeoServer } from './fake-geoserver';

const GS_NODE = { cluster: 'test-cluster', node: 'gs-1' };
const ROADS = { name: 'roads', nativeName: 'roads', store: { '@class': 'dataStore', name: 'topp:pg' } };
const PG = { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } };

test('a redrive does not bring back on the GeoServer what a later recursive remove took', async () => {
  const h = harness();
  const geoserver = new FakeGeoServer();
  const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: geoserver, options: { sleep: async () => undefined } }, warn: () => undefined };
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', PG),
    add('featureType', 'topp:roads', ROADS),
    { kind: 'remove', object: { type: 'dataStore', id: 'topp:pg' }, recurse: true } as ConfigChange,
    add('dataStore', 'topp:pg', PG),
  ]);
  // The feature type's POST fails with 500 (its database is down) while /about/version answers.
  geoserver.refuse((r) => r.method === 'POST' && r.path.endsWith('/featuretypes'), 500, 'Error occurred creating feature type: connection refused', 3);
  geoserver.refuse((r) => r.method === 'PUT' && r.path.endsWith('/featuretypes/roads'), 404, 'No such feature type', 3);
  for (const event of events) await applyDeliveredEvent(deps, GS_NODE, event);
  expect((await h.store.listParked('gs-1')).length).toBe(1);

  await retryParked(deps, GS_NODE);

  const { objects } = await h.store.listObjects('gs-1', { limit: 100 });
  const live = await new Liveness((refs) => h.store.readObjects('gs-1', refs)).live(objects);
  const held = objects.filter((_, i) => live[i]).map((o) => `${o.type}/${o.id}`);
  const onGeoServer = [...geoserver.objects.keys()].filter((path) => path.includes('featuretypes'));
  expect({ held, onGeoServer }).toEqual({ held: ['dataStore/topp:pg', 'workspace/topp'], onGeoServer: [] });
});
