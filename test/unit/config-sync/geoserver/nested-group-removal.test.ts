// Layer groups holding other layer groups, removed: GeoServer refuses to remove a group another
// group still holds ("Unable to delete layer group referenced by layer group", 500), with or without
// `recurse`, so whatever removes nested groups must remove the outer one first and never both at
// once. A capture of a master whose web UI removed both publishes the outer one's removal first
// (each applies on a slave's GeoServer); a reconcile of a GeoServer holding both as extras deletes
// the outer one first, in a batch of its own.
import { catchUp } from '../../../../lambdas/config-sync/apply';
import { add, applyDeps, CLUSTER, harness } from '../fixtures';
import { captureOnASlave, groupEntry, ROADS_AND_RIVERS, runJobOn, seedRoadsAndRivers } from './capture-on-a-slave';
import { standInPerTest } from '../../../support/standin-per-test';

const standIn = standInPerTest();

const entry = groupEntry;
// Named so that their ids sort inner before outer: an order by id alone removes the inner one first.
const INNER = { name: 'a-inner', mode: 'SINGLE', publishables: { published: [entry('layer', 'topp:roads')] } };
const OUTER = { name: 'b-outer', mode: 'SINGLE', publishables: { published: [entry('layerGroup', 'a-inner'), entry('layer', 'topp:rivers')] } };
// Held by the outer one through a workspace's group, by its qualified name.
const WS_INNER = { name: 'c-inner', mode: 'SINGLE', publishables: { published: [entry('layer', 'topp:rivers')] } };
const TOP = { name: 'd-top', mode: 'SINGLE', publishables: { published: [entry('layerGroup', 'topp:c-inner')] } };

const HISTORY = ROADS_AND_RIVERS;
const GROUPS = [
  add('layerGroup', 'a-inner', INNER),
  add('layerGroup', 'b-outer', OUTER),
  add('layerGroup', 'topp:c-inner', { ...WS_INNER, workspace: { name: 'topp' } }),
  add('layerGroup', 'd-top', TOP),
];

/** A GeoServer's catalog as the history leaves it, with the nested groups or without them. */
function seed(catalog: typeof standIn.geoserver.catalog, groups: boolean): void {
  seedRoadsAndRivers(catalog);
  if (!groups) return;
  catalog.addLayerGroup(undefined, INNER);
  catalog.addLayerGroup(undefined, OUTER);
  catalog.addLayerGroup('topp', WS_INNER);
  catalog.addLayerGroup(undefined, TOP);
}

test("a capture of a master whose web UI removed nested layer groups publishes each outer group's removal before the inner one's: every removal applies on a slave's GeoServer", async () => {
  await captureOnASlave(
    standIn,
    [...HISTORY, ...GROUPS],
    // The master's GeoServer: the history, with the groups removed in its web UI (outer ones first, as it must).
    async () => seed(standIn.geoserver.catalog, false),
    undefined,
    async ({ ran, published, h, slaveGeoServer }) => {
      const removals = published.filter((change) => change.startsWith('remove layerGroup/'));
      expect({ state: ran.state, failures: ran.failures, removals: [...removals].sort() }).toEqual({
        state: 'succeeded',
        failures: [],
        removals: ['remove layerGroup/a-inner', 'remove layerGroup/b-outer', 'remove layerGroup/d-top', 'remove layerGroup/topp:c-inner'],
      });
      expect(removals.indexOf('remove layerGroup/b-outer')).toBeLessThan(removals.indexOf('remove layerGroup/a-inner'));
      expect(removals.indexOf('remove layerGroup/d-top')).toBeLessThan(removals.indexOf('remove layerGroup/topp:c-inner'));
      expect({ parked: await h.store.listParked('gs-1'), groups: [...slaveGeoServer.catalog.objects.layerGroup.keys()] }).toEqual({ parked: [], groups: [] });
    },
  );
});

test('a reconcile of a GeoServer holding nested layer groups the store lacks deletes each outer group before the inner one, and reports all fixed', async () => {
  const h = harness();
  await h.appendAll(HISTORY);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  seed(standIn.geoserver.catalog, true);

  const ran = await runJobOn(standIn, h, 'reconcile', 'gs-1', 'reconcile-1');

  expect({ state: ran.state, progress: ran.progress, failures: ran.failures }).toEqual({
    state: 'succeeded',
    progress: expect.objectContaining({ extra: 4, toFix: 4, fixed: 4, failed: 0 }),
    failures: [],
  });
  expect([...standIn.geoserver.catalog.objects.layerGroup.keys()]).toEqual([]);
  // What the store holds stays.
  expect(standIn.geoserver.catalog.get('layer', 'topp:roads')).toBeDefined();
});
