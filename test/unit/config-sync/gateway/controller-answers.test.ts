/**
 * Writes through the gateway that GeoServer's controllers answer otherwise than the REST reference
 * suggests, against the stand-in master (which answers as they do):
 * - a POST creating a store or resource with "enabled": false creates it enabled (DataStoreController,
 *   FeatureTypeController, WMSStoreController, ... call setEnabled(true)): what is published is
 *   what the master holds, enabled, not the body's false;
 * - a PUT of a style or layer group the master lacks answers 500 (StyleController.stylePut,
 *   LayerGroupController.layerGroupPut): passed back, nothing published;
 * - a DELETE of a namespace a resource belongs to answers 401 "Namespace not empty"
 *   (NamespaceController.namespaceDelete): passed back, nothing published, the namespace kept.
 */
import { standInPerTest } from '../../../support/standin-per-test';
import { adminRequest as request, recordingGateway } from './recording-gateway';

const standIn = standInPerTest();

async function seeded() {
  const gateway = recordingGateway(standIn.geoserver);
  expect((await gateway.send(request('POST', '/workspaces', '{"workspace":{"name":"topp"}}'))).status).toBe(201);
  return gateway;
}

test('a store or resource POSTed disabled is published as the master holds it: enabled', async () => {
  const { send, storing, master } = await seeded();
  const posts: [string, string][] = [
    ['/workspaces/topp/datastores', '{"dataStore":{"name":"pg","type":"PostGIS","enabled":false,"connectionParameters":{"entry":[{"@key":"host","$":"db"}]}}}'],
    ['/workspaces/topp/datastores/pg/featuretypes', '{"featureType":{"name":"roads","nativeName":"roads","enabled":false}}'],
    ['/workspaces/topp/wmsstores', '{"wmsStore":{"name":"remote","enabled":false,"capabilitiesURL":"https://wms.example.org?request=GetCapabilities"}}'],
    ['/workspaces/topp/wmsstores/remote/wmslayers', '{"wmsLayer":{"name":"weather","enabled":false}}'],
  ];
  for (const [path, body] of posts) expect((await send(request('POST', path, body))).status).toBe(201);
  expect(master.catalog.objects.dataStore.get('topp:pg')?.enabled).toBe(true);
  const published = (type: string, id: string) =>
    storing.published.filter((change) => change.object.type === type && change.object.id === id).map((change) => (change.kind === 'add' ? change.properties.enabled : change.kind));
  expect({
    dataStore: published('dataStore', 'topp:pg'),
    featureType: published('featureType', 'topp:roads'),
    wmsStore: published('wmsStore', 'topp:remote'),
    wmsLayer: published('wmsLayer', 'topp:weather'),
  }).toEqual({ dataStore: [true], featureType: [true], wmsStore: [true], wmsLayer: [true] });
});

test.each([
  ['/styles/ghost', '{"style":{"name":"ghost","filename":"ghost.sld"}}'],
  ['/workspaces/topp/styles/ghost', '{"style":{"name":"ghost","filename":"ghost.sld"}}'],
  ['/layergroups/ghost', '{"layerGroup":{"name":"ghost","title":"none"}}'],
  ['/workspaces/topp/layergroups/ghost', '{"layerGroup":{"name":"ghost","title":"none"}}'],
])('PUT %s the master lacks: its 500 passed back, nothing published', async (path, body) => {
  const { send, storing } = await seeded();
  const before = storing.published.length;
  expect((await send(request('PUT', path, body))).status).toBe(500);
  expect(storing.published.length).toBe(before);
});

test('DELETE of a namespace a resource belongs to: the master\'s 401 passed back, nothing published, the namespace kept', async () => {
  const { send, storing, master } = await seeded();
  expect((await send(request('POST', '/workspaces/topp/datastores', '{"dataStore":{"name":"pg","type":"PostGIS"}}'))).status).toBe(201);
  expect((await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', '{"featureType":{"name":"roads","nativeName":"roads"}}'))).status).toBe(201);
  const before = storing.published.length;
  const answer = await send(request('DELETE', '/namespaces/topp', ''));
  expect(answer.status).toBe(401);
  expect(answer.body.toString('utf8')).toContain('Namespace not empty');
  expect(storing.published.length).toBe(before);
  expect(master.catalog.objects.namespace.has('topp')).toBe(true);
});
