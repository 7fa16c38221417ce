// A remove with recurse parked on a GeoServer node, its object added again and filled on that node
// after it, then the node redriven: applied out of order, GeoServer's recursive delete would take
// what the node applied after it, which its store and the master keep. It stays parked, naming them.
import { applyDeliveredEvent, retryParked, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { add, applyDeps, harness } from '../fixtures';
import { FakeGeoServer } from './fake-geoserver';

const GS_NODE = { cluster: 'test-cluster', node: 'gs-1' };
const PG = { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } };
const featureType = (name: string) => ({ name, nativeName: name, store: { '@class': 'dataStore', name: 'topp:pg' } });
const DELETE_PG = (r: { method: string; path: string }) => r.method === 'DELETE' && r.path === '/workspaces/topp/datastores/pg';

async function parkedRemovalOfPg(afterwards: readonly ConfigChange[]) {
  const h = harness();
  const geoserver = new FakeGeoServer();
  const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: geoserver, options: { sleep: async () => undefined } }, warn: () => undefined };
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', PG),
    add('featureType', 'topp:before', featureType('before')),
    { kind: 'remove', object: { type: 'dataStore', id: 'topp:pg' }, recurse: true } as ConfigChange,
    add('dataStore', 'topp:pg', PG),
    ...afterwards,
  ]);
  // The GeoServer refuses the recursive delete (500 while it still answers reads): parked.
  geoserver.refuse(DELETE_PG, 500, "Unable to delete layer referenced by layer group 'overview'", 3);
  for (const event of events) await applyDeliveredEvent(deps, GS_NODE, event);
  const [record] = await h.store.listParked('gs-1');
  expect(record?.sequences).toEqual([events[3]?.sequence, events[4]?.sequence]);
  return { h, geoserver, deps, events };
}

test('a parked remove with recurse stays parked when its node applied objects inside it after it, and nothing is deleted', async () => {
  const { h, geoserver, deps, events } = await parkedRemovalOfPg([add('featureType', 'topp:fresh', featureType('fresh'))]);
  expect(geoserver.objects.has('/workspaces/topp/datastores/pg/featuretypes/fresh')).toBe(true);

  const result = await retryParked(deps, GS_NODE);

  expect(result.cleared).toEqual([]);
  expect(result.stillParked).toEqual([
    expect.objectContaining({
      sequences: [events[3]?.sequence, events[4]?.sequence],
      reason: expect.stringMatching(/^REMOVE_WOULD_TAKE_LATER_OBJECTS: .*featureType topp:fresh, which the node applied after it.*POST \/nodes\/gs-1\/resync/),
    }),
  ]);
  // Neither the feature type applied before the removal nor the one after it is named.
  expect(result.stillParked[0]?.reason).not.toContain('topp:before');
  // The three refused attempts when it was delivered; none from the redrive.
  expect(geoserver.requests.filter((request) => request.startsWith('DELETE /workspaces/topp/datastores/pg?'))).toHaveLength(3);
  expect(geoserver.objects.has('/workspaces/topp/datastores/pg/featuretypes/fresh')).toBe(true);
  expect((await h.store.readObjects('gs-1', [{ type: 'dataStore', id: 'topp:pg' }]))[0]).toMatchObject({ deleted: false, lastSequence: events[1]?.sequence });
});

test('a parked remove with recurse whose object holds only what came before it is redriven as usual', async () => {
  const { h, geoserver, deps, events } = await parkedRemovalOfPg([add('workspace', 'elsewhere', { name: 'elsewhere' })]);

  const result = await retryParked(deps, GS_NODE);

  expect(result).toEqual({ cleared: [events[3]?.sequence, events[4]?.sequence], stillParked: [] });
  expect(geoserver.requests).toContain('DELETE /workspaces/topp/datastores/pg?recurse=true');
  expect((await h.store.readObjects('gs-1', [{ type: 'dataStore', id: 'topp:pg' }]))[0]).toMatchObject({ deleted: false, lastSequence: events[4]?.sequence });
});
