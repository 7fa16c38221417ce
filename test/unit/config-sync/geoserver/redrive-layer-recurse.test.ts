// A parked change of a feature type, then its layer removed with recurse (which takes the feature
// type on every GeoServer, CascadeDeleteVisitor.visit(LayerInfo)) and the feature type's removal
// the gateway publishes after it (cascade.ts `cascadedAfter`, with recurse): the redrive, which
// applies the parked change out of order and so creates the feature type (and its layer) again,
// must end with neither on the GeoServer, and nothing parked.
import { applyDeliveredEvent, retryParked, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import type { GeoServerRest, RestRequest } from '../../../../lambdas/config-sync/geoserver/ports';
import { add, applyDeps, harness, modify } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';

const NODE = { cluster: 'test-cluster', node: 'gs-1' };
const standIn = standInPerTest();

test('a redrive after DELETE /layers/topp:roads?recurse=true leaves no feature type nor layer on the GeoServer, and nothing parked', async () => {
  const { geoserver, rest } = standIn;
  let failPut = 1;
  const flaky: GeoServerRest = {
    url: rest.url,
    async send(request: RestRequest) {
      if (failPut > 0 && request.method === 'PUT' && request.path.includes('/featuretypes/roads') && JSON.stringify(request.body ?? {}).includes('Roads')) {
        failPut -= 1;
        return { status: 500, text: 'Error occurred saving feature type: connection refused' };
      }
      return rest.send(request);
    },
  } as GeoServerRest;
  const h = harness();
  const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: flaky, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'generic' } }),
    modify('featureType', 'topp:roads', { title: 'Roads' }), // refused with a 500: parked
    { kind: 'remove', object: { type: 'layer', id: 'topp:roads' }, recurse: true } as ConfigChange,
    { kind: 'remove', object: { type: 'featureType', id: 'topp:roads' }, recurse: true } as ConfigChange, // as cascadedAfter publishes it
  ]);
  for (const event of events) await applyDeliveredEvent(deps, NODE, event);
  expect((await h.store.listParked('gs-1')).length).toBe(1);

  const result = await retryParked(deps, NODE);

  expect({
    featureTypes: [...geoserver.catalog.objects.featureType.keys()],
    layers: [...geoserver.catalog.objects.layer.keys()],
    stillParked: result.stillParked.map((record) => record.reason ?? record),
  }).toEqual({ featureTypes: [], layers: [], stillParked: [] });
});
