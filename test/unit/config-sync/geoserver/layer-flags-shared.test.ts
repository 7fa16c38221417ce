/**
 * A layer's `enabled` and `advertised` are its resource's on a GeoServer (LayerInfoImpl reads and
 * writes them on its resource), and a PUT keeps what its body leaves out (the REST reader starts
 * from the object held: XStreamPersister's AbstractCatalogInfoConverter). So a slave's GeoServer
 * ends with the flags of the last change stating them, as the master's GeoServer does: a modify of
 * a feature type or coverage that states neither leaves the flags a layer modify set, rather than
 * sending back the ones the node's store held for the resource before.
 */
import { catchUp } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { standInPerTest } from '../../../support/standin-per-test';
import { add, applyDeps, harness, modify } from '../fixtures';

const NODE = { cluster: 'test-cluster', node: 'gs-1' };
const standIn = standInPerTest();

/** A feature type and a coverage with their layers, each stated whole as a GeoServer answers them (flags included). */
const PUBLISHED: ConfigChange[] = [
  add('workspace', 'topp', { name: 'topp' }),
  add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
  add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', enabled: true, advertised: true, store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, enabled: true, advertised: true, queryable: true }),
  add('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', enabled: true, url: 'file:coverages/dem.tif' }),
  add('coverage', 'topp:elevation', { name: 'elevation', nativeName: 'dem', enabled: true, advertised: true, store: { '@class': 'coverageStore', name: 'topp:dem' } }),
  add('layer', 'topp:elevation', { name: 'elevation', resource: { '@class': 'coverage', name: 'topp:elevation' }, enabled: true, advertised: true }),
];

function flags(type: 'layer' | 'featureType' | 'coverage', id: string) {
  const held = standIn.geoserver.catalog.objects[type].get(id);
  return { enabled: held?.enabled, advertised: held?.advertised };
}

test("the stand-in holds a layer's enabled and advertised as its resource's, whichever of the two a PUT names", () => {
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'roads', nativeName: 'roads' });
  catalog.update('layer', 'topp:roads', { name: 'roads', enabled: false, advertised: false });
  expect(flags('featureType', 'topp:roads')).toEqual({ enabled: false, advertised: false });
  catalog.update('featureType', 'topp:roads', { name: 'roads', advertised: true });
  expect(flags('layer', 'topp:roads')).toEqual({ enabled: false, advertised: true });
  // A PUT stating neither keeps both.
  catalog.update('featureType', 'topp:roads', { name: 'roads', title: 'Roads' });
  expect(flags('layer', 'topp:roads')).toEqual({ enabled: false, advertised: true });
});

test.each([
  ['feature type', 'featureType', 'topp:roads'],
  ['coverage', 'coverage', 'topp:elevation'],
] as const)("a layer disabled and hidden, then its %s's title changed: the slave's GeoServer keeps the layer disabled and hidden", async (_, type, id) => {
  const h = harness();
  const deps = { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
  await h.appendAll([...PUBLISHED, modify('layer', id, { enabled: false, advertised: false }), modify(type, id, { title: 'Changed' })]);
  await catchUp(deps, NODE);
  expect(await h.store.listParked(NODE.node)).toEqual([]);
  expect(standIn.geoserver.catalog.objects[type].get(id)?.title).toBe('Changed');
  expect({ layer: flags('layer', id), resource: flags(type, id) }).toEqual({
    layer: { enabled: false, advertised: false },
    resource: { enabled: false, advertised: false },
  });
});

test("a modify of the resource stating its flags sets the layer's too; an add sends them whole", async () => {
  const h = harness();
  const deps = { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
  await h.appendAll([...PUBLISHED, modify('layer', 'topp:roads', { enabled: false }), modify('featureType', 'topp:roads', { enabled: true, advertised: false })]);
  await catchUp(deps, NODE);
  expect(flags('layer', 'topp:roads')).toEqual({ enabled: true, advertised: false });
});
