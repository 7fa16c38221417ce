/**
 * The apply's handling of answers GeoServer gives where the REST reference is silent, run
 * against the stand-in (which answers as GeoServer's controllers do) rather than a fake:
 * - a PUT of a style or layer group the GeoServer lacks answers 500, not 404
 *   (StyleController.stylePut, LayerGroupController.layerGroupPut): the object is still created;
 *   of a layer (LayerController.layerPut) too: the modify is refused as one of a missing layer;
 * - a resource's recursive DELETE whose layer a group names answers 500 (FeatureTypeController
 *   removes the layer without the cascade): refused, not taken for an unavailable GeoServer;
 * - a POST enables the store or resource it creates whatever the body says (DataStoreController,
 *   FeatureTypeController, WMSStoreController, ...): an object the node holds disabled is
 *   disabled on the GeoServer too;
 * - a DELETE of a namespace a resource belongs to answers 401 "Namespace not empty"
 *   (NamespaceController.namespaceDelete): the change is refused, not taken for refused credentials.
 */
import { applyToGeoServer, type GeoServerStep } from '../../../../lambdas/config-sync/geoserver/apply';
import type { ObjectType } from '../../../../lambdas/config-sync/events';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import { standInPerTest } from '../../../support/standin-per-test';

const standIn = standInPerTest();
const OPTIONS = { sleep: async () => undefined };

const SLD =
  '<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld">' +
  '<NamedLayer><Name>roads</Name><UserStyle><Title>Roads</Title></UserStyle></NamedLayer></StyledLayerDescriptor>';

const upsert = (type: ObjectType, id: string, properties: JsonObject, absent?: boolean): GeoServerStep => ({
  kind: 'upsert',
  type,
  id,
  properties,
  incomplete: false,
  deleted: [],
  ...(absent === undefined ? {} : { absent }),
});

async function apply(step: GeoServerStep) {
  return applyToGeoServer(standIn.rest, step, OPTIONS);
}

async function seedWorkspaceWithRoads(): Promise<void> {
  expect(await apply(upsert('workspace', 'topp', { name: 'topp' }))).toMatchObject({ kind: 'applied' });
  const store = { name: 'pg', type: 'PostGIS', enabled: true, workspace: { name: 'topp' }, connectionParameters: { entry: [{ '@key': 'host', $: 'db' }] } };
  expect(await apply(upsert('dataStore', 'topp:pg', store))).toMatchObject({ kind: 'applied' });
  const roads = { name: 'roads', nativeName: 'roads', enabled: true, store: { '@class': 'dataStore', name: 'topp:pg' } };
  expect(await apply(upsert('featureType', 'topp:roads', roads))).toMatchObject({ kind: 'applied' });
}

test('a style or layer group the GeoServer lacks, global or of a workspace, is created though its PUT answers 500', async () => {
  await seedWorkspaceWithRoads();
  const style = (name: string) => ({ name, format: 'sld', languageVersion: { version: '1.0.0' }, body: SLD });
  expect(await apply(upsert('style', 'topp:roads', style('roads')))).toMatchObject({ kind: 'applied' });
  expect(await apply(upsert('style', 'lines', style('lines')))).toMatchObject({ kind: 'applied' });
  const group = (name: string) => ({ name, publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } });
  expect(await apply(upsert('layerGroup', 'topp:base', { ...group('base'), workspace: { name: 'topp' } }))).toMatchObject({ kind: 'applied' });
  expect(await apply(upsert('layerGroup', 'overview', group('overview')))).toMatchObject({ kind: 'applied' });

  const { catalog, requests } = standIn.geoserver;
  expect([...catalog.objects.style.keys()].sort()).toEqual(['lines', 'topp:roads']);
  expect(catalog.styleBodies.get('topp:roads')?.bytes.toString('utf8')).toBe(SLD);
  expect([...catalog.objects.layerGroup.keys()].sort()).toEqual(['overview', 'topp:base']);
  // Each went PUT (500), GET (404), POST.
  const statuses = (path: string) => requests.filter((request) => request.path === `/geoserver/rest${path}`).map((request) => `${request.method} ${request.status}`);
  expect(statuses('/workspaces/topp/layergroups/base')).toEqual(['PUT 500', 'GET 404']);
  expect(statuses('/styles/lines')).toEqual(['PUT 500', 'GET 404', 'PUT 200']);
});

test('a layer group or style removal the GeoServer already took is applied', async () => {
  expect(await apply({ kind: 'remove', type: 'layerGroup', id: 'gone', properties: {}, recurse: false })).toMatchObject({ kind: 'applied' });
  expect(await apply({ kind: 'remove', type: 'style', id: 'gone', properties: {}, recurse: false })).toMatchObject({ kind: 'applied' });
});

test.each([false, true])('stores and resources the node holds disabled are disabled on the GeoServer after the POST enables them (absent known: %s)', async (absent) => {
  expect(await apply(upsert('workspace', 'topp', { name: 'topp' }))).toMatchObject({ kind: 'applied' });
  const workspace = { name: 'topp' };
  const steps: [ObjectType, string, JsonObject][] = [
    ['dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', enabled: false, workspace, connectionParameters: { entry: [{ '@key': 'host', $: 'db' }] } }],
    ['featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', enabled: false, store: { '@class': 'dataStore', name: 'topp:pg' } }],
    ['coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', enabled: false, url: 'file:data/dem.tif', workspace }],
    ['coverage', 'topp:elevation', { name: 'elevation', enabled: false, store: { '@class': 'coverageStore', name: 'topp:dem' } }],
    ['wmsStore', 'topp:remote', { name: 'remote', enabled: false, capabilitiesURL: 'https://wms.example.org?request=GetCapabilities', workspace }],
    ['wmsLayer', 'topp:weather', { name: 'weather', enabled: false, store: { '@class': 'wmsStore', name: 'topp:remote' } }],
    ['wmtsStore', 'topp:tiles', { name: 'tiles', enabled: false, capabilitiesURL: 'https://wmts.example.org/caps.xml', workspace }],
    ['wmtsLayer', 'topp:osm', { name: 'osm', enabled: false, store: { '@class': 'wmtsStore', name: 'topp:tiles' } }],
  ];
  for (const [type, id, properties] of steps) expect(await apply(upsert(type, id, properties, absent))).toMatchObject({ kind: 'applied' });
  const { objects } = standIn.geoserver.catalog;
  expect(steps.map(([type, id]) => [type, objects[type].get(id)?.enabled])).toEqual(steps.map(([type]) => [type, false]));
});

test('a namespace a resource belongs to is refused removal (401 "Namespace not empty"), not taken for refused credentials', async () => {
  await seedWorkspaceWithRoads();
  const outcome = await apply({ kind: 'remove', type: 'namespace', id: 'topp', properties: { prefix: 'topp' }, recurse: false });
  expect(outcome).toMatchObject({ kind: 'rejected', status: 401, answer: expect.stringContaining('Namespace not empty') });
  expect(standIn.geoserver.catalog.objects.namespace.has('topp')).toBe(true);
});

test('a coverage store holding a coverage is refused removal (401 "coveragestore not empty"), not taken for refused credentials', async () => {
  expect(await apply(upsert('workspace', 'topp', { name: 'topp' }))).toMatchObject({ kind: 'applied' });
  expect(await apply(upsert('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', url: 'file:data/dem.tif', workspace: { name: 'topp' } }))).toMatchObject({ kind: 'applied' });
  expect(await apply(upsert('coverage', 'topp:elevation', { name: 'elevation', store: { '@class': 'coverageStore', name: 'topp:dem' } }))).toMatchObject({ kind: 'applied' });
  const outcome = await apply({ kind: 'remove', type: 'coverageStore', id: 'topp:dem', properties: { name: 'dem', workspace: { name: 'topp' } }, recurse: false });
  expect(outcome).toMatchObject({ kind: 'rejected', status: 401, answer: expect.stringContaining('coveragestore not empty') });
  expect(standIn.geoserver.catalog.objects.coverageStore.has('topp:dem')).toBe(true);
});

// LayerController.layerPut dereferences the layer it looked up: a PUT of one the GeoServer lacks
// answers 500. A layer cannot be POSTed, so the modify is refused as one of a missing layer, not
// held as a GeoServer that fails.
test('a layer modify the GeoServer lacks the layer for is refused as missing (its PUT answers 500, a GET 404), not taken for an unavailable GeoServer', async () => {
  await seedWorkspaceWithRoads();
  const outcome = await apply(upsert('layer', 'topp:ghost', { name: 'ghost', defaultStyle: { name: 'line' } }));
  expect(outcome).toMatchObject({ kind: 'rejected', status: 404, answer: 'the GeoServer has no layer topp:ghost' });
  expect([...standIn.geoserver.catalog.objects.layer.keys()]).toEqual(['topp:roads']);
});

// FeatureTypeController.featureTypeDelete removes the layers with catalog.remove, no cascade:
// CatalogImpl.remove(LayerInfo) refuses a layer a group names (500). The change is refused, not
// taken for an unavailable GeoServer, and nothing is removed.
test("a feature type's recursive removal whose layer a group names is refused (500, naming the group), not taken for an unavailable GeoServer", async () => {
  await seedWorkspaceWithRoads();
  expect(await apply(upsert('layerGroup', 'base', { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } }))).toMatchObject({ kind: 'applied' });
  const outcome = await apply({ kind: 'remove', type: 'featureType', id: 'topp:roads', properties: { name: 'roads', store: { '@class': 'dataStore', name: 'topp:pg' } }, recurse: true });
  expect(outcome).toMatchObject({ kind: 'rejected', status: 500, answer: expect.stringContaining("Unable to delete layer referenced by layer group 'base'") });
  const { objects } = standIn.geoserver.catalog;
  expect([objects.featureType.has('topp:roads'), objects.layer.has('topp:roads'), objects.layerGroup.has('base')]).toEqual([true, true, true]);
});
