// Layer groups holding other layer groups, added: GeoServer drops an entry of a layer group naming
// a group it lacks (refusing a group left with none), so whatever adds nested groups must add the inner
// one first and never both at once, and write a group changed to name a new group only after that
// one's add. A capture of a master whose web UI made them publishes each inner group's add first
// (each applies on a slave's GeoServer); a reconcile of a GeoServer lacking them POSTs each inner
// group first, in a batch before the outer one's.
import { innerGroupsFirst, outerGroupsFirst, type DriftEntry } from '../../../../lambdas/config-sync/geoserver/drift';
import { catchUp } from '../../../../lambdas/config-sync/apply';
import { add, applyDeps, CLUSTER, harness } from '../fixtures';
import { captureOnASlave, groupEntry, ROADS_AND_RIVERS, runJobOn, seedRoadsAndRivers } from './capture-on-a-slave';
import { standInPerTest } from '../../../support/standin-per-test';

const standIn = standInPerTest();

const entry = groupEntry;
// Named so that their ids sort outer before inner: an order by id alone adds the outer one first.
const INNER = { name: 'b-inner', mode: 'SINGLE', publishables: { published: [entry('layer', 'topp:roads')] } };
const OUTER = { name: 'a-outer', mode: 'SINGLE', publishables: { published: [entry('layerGroup', 'b-inner'), entry('layer', 'topp:rivers')] } };
// A workspace's group, held by a global one by its qualified name.
const WS_INNER = { name: 'd-inner', mode: 'SINGLE', publishables: { published: [entry('layer', 'topp:rivers')] } };
const TOP = { name: 'e-top', mode: 'SINGLE', publishables: { published: [entry('layerGroup', 'topp:d-inner')] } };
// A group both hold, changed to name the new inner group as well.
const CHANGED = { name: 'c-changed', mode: 'SINGLE', publishables: { published: [entry('layer', 'topp:roads')] } };
const CHANGED_NOW = { ...CHANGED, publishables: { published: [entry('layer', 'topp:roads'), entry('layerGroup', 'b-inner')] } };

const HISTORY = ROADS_AND_RIVERS;

/** A GeoServer's catalog: the history, `c-changed` as `changed`, and the nested groups or not. */
function seed(catalog: typeof standIn.geoserver.catalog, changed: typeof CHANGED, groups: boolean): void {
  seedRoadsAndRivers(catalog);
  if (groups) {
    // Inner first, as GeoServer requires.
    catalog.addLayerGroup(undefined, INNER);
    catalog.addLayerGroup(undefined, OUTER);
    catalog.addLayerGroup('topp', WS_INNER);
    catalog.addLayerGroup(undefined, TOP);
  }
  catalog.addLayerGroup(undefined, changed);
}

test("a capture of a master whose web UI made nested layer groups publishes each inner group's add before the groups naming it: every add applies on a slave's GeoServer", async () => {
  await captureOnASlave(
    standIn,
    [...HISTORY, add('layerGroup', 'c-changed', CHANGED)],
    // The master's GeoServer: the history, with the groups made in its web UI and c-changed naming one.
    async () => seed(standIn.geoserver.catalog, CHANGED_NOW, true),
    undefined,
    async ({ ran, published, h, slaveGeoServer }) => {
      const groups = published.filter((change) => change.includes(' layerGroup/'));
      expect({ state: ran.state, failures: ran.failures, groups: [...groups].sort() }).toEqual({
        state: 'succeeded',
        failures: [],
        groups: ['add layerGroup/a-outer', 'add layerGroup/b-inner', 'add layerGroup/e-top', 'add layerGroup/topp:d-inner', 'modify layerGroup/c-changed'],
      });
      expect(groups.indexOf('add layerGroup/b-inner')).toBeLessThan(groups.indexOf('add layerGroup/a-outer'));
      expect(groups.indexOf('add layerGroup/b-inner')).toBeLessThan(groups.indexOf('modify layerGroup/c-changed'));
      expect(groups.indexOf('add layerGroup/topp:d-inner')).toBeLessThan(groups.indexOf('add layerGroup/e-top'));
      expect({ parked: await h.store.listParked('gs-1'), groups: [...slaveGeoServer.catalog.objects.layerGroup.keys()].sort() }).toEqual({
        parked: [],
        groups: ['a-outer', 'b-inner', 'c-changed', 'e-top', 'topp:d-inner'],
      });
      expect(slaveGeoServer.catalog.get('layerGroup', 'c-changed')).toMatchObject({ publishables: CHANGED_NOW.publishables });
    },
  );
});

test('a reconcile of a GeoServer lacking nested layer groups the store holds adds each inner group before the groups naming it, and reports all fixed', async () => {
  const h = harness();
  await h.appendAll([
    ...HISTORY,
    add('layerGroup', 'b-inner', INNER),
    add('layerGroup', 'a-outer', OUTER),
    add('layerGroup', 'topp:d-inner', { ...WS_INNER, workspace: { name: 'topp' } }),
    add('layerGroup', 'e-top', TOP),
    add('layerGroup', 'c-changed', CHANGED_NOW),
  ]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  // The GeoServer lost the nested groups, and holds c-changed as it was before it named one.
  seed(standIn.geoserver.catalog, CHANGED, false);
  const before = standIn.geoserver.requests.length;

  const ran = await runJobOn(standIn, h, 'reconcile', 'gs-1', 'reconcile-1');

  expect({ state: ran.state, progress: ran.progress, failures: ran.failures }).toEqual({
    state: 'succeeded',
    progress: expect.objectContaining({ missing: 4, different: 1, toFix: 5, fixed: 5, failed: 0 }),
    failures: [],
  });
  // No write was refused on the way (a POST of an outer group before its inner one is, and the
  // apply's fallback may then add it only by the luck of a parallel batch).
  const refused = standIn.geoserver.requests.slice(before).filter((request) => request.method !== 'GET' && request.status >= 400);
  expect(refused.map((request) => `${request.method} ${request.path} ${request.status}`)).toEqual([]);
  expect([...standIn.geoserver.catalog.objects.layerGroup.keys()].sort()).toEqual(['a-outer', 'b-inner', 'c-changed', 'e-top', 'topp:d-inner']);
  expect(standIn.geoserver.catalog.get('layerGroup', 'a-outer')).toMatchObject({ publishables: OUTER.publishables });
  expect(standIn.geoserver.catalog.get('layerGroup', 'c-changed')).toMatchObject({ publishables: CHANGED_NOW.publishables });
});

test('groups that hold one another in a loop (a malformed catalog) keep the order given, whichever way they are sorted', () => {
  const group = (id: string, holds: string[]) => ({ kind: 'missing', type: 'layerGroup', id, holds }) as DriftEntry;
  const loop = [group('a', ['b']), group('b', ['c']), group('c', ['a']), group('d', ['a'])];
  expect(innerGroupsFirst(loop)).toEqual(loop);
  expect(outerGroupsFirst(loop)).toEqual(loop);
  // Without the loop, inner first.
  const chain = [group('a', ['b']), group('b', ['c']), group('c', [])];
  expect(innerGroupsFirst(chain).map((entry) => entry.id)).toEqual(['c', 'b', 'a']);
});
