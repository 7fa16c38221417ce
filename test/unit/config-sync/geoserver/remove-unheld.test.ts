// A remove of a feature type the node's store does not hold (never added, or removed already:
// a tombstone keeps no properties) has no REST path (it goes through the resource's store, which
// only the properties name). It is nothing to do on the node's GeoServer, not a refusal to park:
// parked, it held every later event of the object, the add that creates it again included.
import { applyDeliveredEvent, retryParked, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { add, applyDeps, harness, type Harness } from '../fixtures';
import { FakeGeoServer } from './fake-geoserver';

const GS_NODE = { cluster: 'test-cluster', node: 'gs-1' };
const PLAIN_NODE = { cluster: 'test-cluster', node: 'slave-2' };

function withGeoServer(h: Harness, geoserver: FakeGeoServer): ApplyDeps {
  return { ...applyDeps(h), geoserver: { rest: geoserver, options: { sleep: async () => undefined } }, warn: () => undefined };
}

const removeOf = (type: ConfigChange['object']['type'], id: string): ConfigChange => ({ kind: 'remove', object: { type, id } });
const ROADS = { name: 'roads', nativeName: 'roads', srs: 'EPSG:4326', store: { '@class': 'dataStore', name: 'topp:pg' } };

async function seedGeoServer(geoserver: FakeGeoServer) {
  geoserver.objects.set('/workspaces/topp', { workspace: { name: 'topp' } });
  geoserver.objects.set('/workspaces/topp/datastores/pg', { dataStore: { name: 'pg' } });
}

describe('a remove of a resource the node does not hold, on a GeoServer node', () => {
  it('"delete if exists, then create": the add reaches the GeoServer node (and a redrive can clear what parked)', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    await seedGeoServer(geoserver);
    const gsDeps = withGeoServer(h, geoserver);
    const events = await h.appendAll([removeOf('featureType', 'topp:roads'), add('featureType', 'topp:roads', ROADS)]);
    for (const event of events) {
      await applyDeliveredEvent(gsDeps, GS_NODE, event);
      await applyDeliveredEvent(applyDeps(h), PLAIN_NODE, event);
    }
    await retryParked(gsDeps, GS_NODE);
    // The node without a GeoServer holds the feature type...
    expect(h.store.liveObjects('slave-2').map((o) => `${o.type}/${o.id}`)).toEqual(['featureType/topp:roads']);
    // ...and so should the GeoServer node (store and GeoServer), with nothing parked.
    expect(await h.store.listParked('gs-1')).toEqual([]);
    expect(h.store.liveObjects('gs-1').map((o) => `${o.type}/${o.id}`)).toEqual(['featureType/topp:roads']);
    expect(geoserver.objects.has('/workspaces/topp/datastores/pg/featuretypes/roads')).toBe(true);
  });

  it('a remove sent twice, then the object added again: the add reaches the GeoServer node', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    await seedGeoServer(geoserver);
    const gsDeps = withGeoServer(h, geoserver);
    const events = await h.appendAll([
      add('featureType', 'topp:roads', ROADS),
      removeOf('featureType', 'topp:roads'),
      removeOf('featureType', 'topp:roads'),
      add('featureType', 'topp:roads', { ...ROADS, title: 'v2' }),
    ]);
    for (const event of events) await applyDeliveredEvent(gsDeps, GS_NODE, event);
    const retried = await retryParked(gsDeps, GS_NODE);
    expect(retried.stillParked).toEqual([]);
    expect(h.store.liveObjects('gs-1').map((o) => `${o.type}/${o.id}`)).toEqual(['featureType/topp:roads']);
    expect(geoserver.objects.has('/workspaces/topp/datastores/pg/featuretypes/roads')).toBe(true);
  });
});
