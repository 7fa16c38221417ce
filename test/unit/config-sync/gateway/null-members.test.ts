/**
 * JSON nulls GeoServer does not ignore, and layer group styles that do not match their entries,
 * written through the gateway: refused with 400 naming the member before anything reaches the
 * master or the log. GeoServer's JSON reader makes a null text member "" and a null boolean false
 * (the stand-in reads them so: catalog.ts, readAsGeoServerDoes), and CatalogImpl.validate refuses
 * a layer group whose styles are not one per entry.
 */
import { standInPerTest } from '../../../support/standin-per-test';
import { adminRequest as request, recordingGateway } from './recording-gateway';

const standIn = standInPerTest();

const setUp = () => {
  const gateway = recordingGateway(standIn.geoserver);
  gateway.master.catalog.addWorkspace({ name: 'topp' });
  gateway.master.catalog.addStyleInfo(undefined, { name: 'roads', filename: 'roads.sld', format: 'sld' });
  return gateway;
};

test.each([
  ['PUT', '/namespaces/topp', '{"namespace":{"prefix":"topp","uri":null}}', 'uri'],
  ['PUT', '/namespaces/topp', '{"namespace":{"prefix":null}}', 'prefix'],
  ['PUT', '/namespaces/topp', '{"namespace":{"isolated":null}}', 'isolated'],
  ['PUT', '/workspaces/topp', '{"workspace":{"isolated":null}}', 'isolated'],
  ['PUT', '/styles/roads', '{"style":{"format":null}}', 'format'],
])('%s %s %s: 400 naming %s, nothing sent or published', async (method, path, body, field) => {
  const { storing, sent, send, master } = setUp();
  const before = structuredClone(master.catalog.objects.namespace.get('topp'));
  await expect(send(request(method, path, body))).rejects.toMatchObject({ status: 400, field, message: expect.stringContaining(`${field}: GeoServer reads a JSON null`) });
  expect(sent).toEqual([]);
  expect(storing.published).toEqual([]);
  expect(master.catalog.objects.namespace.get('topp')).toEqual(before);
  expect(master.catalog.objects.style.get('roads')).toMatchObject({ format: 'sld' });
});

test('a null GeoServer ignores (a reference) still goes through', async () => {
  const { send } = setUp();
  const answer = await send(request('PUT', '/styles/roads', '{"style":{"workspace":null}}'));
  expect(answer.status).toBe(200);
});

// A created workspace or namespace has no isolation to keep: GeoServer's false for a null is the
// default a body leaving isolated out gets.
test.each([
  ['/workspaces', '{"workspace":{"name":"w1","isolated":null}}', 'workspace', 'w1'],
  ['/namespaces', '{"namespace":{"prefix":"n1","uri":"urn:n1","isolated":null}}', 'namespace', 'n1'],
] as const)('POST %s %s: created, not isolated, and published', async (path, body, type, name) => {
  const { storing, send, master } = setUp();
  const answer = await send(request('POST', path, body));
  expect(answer.status).toBe(201);
  expect(master.catalog.objects[type].get(name)?.isolated ?? false).toBe(false);
  expect(storing.published.length).toBeGreaterThan(0);
});

const roads = { '@type': 'layer', name: 'topp:roads' };
test.each([
  ['POST', '/layergroups', { name: 'g', publishables: { published: [roads] }, styles: { style: [{ name: 'roads' }, { name: 'roads' }] } }],
  ['POST', '/workspaces/topp/layergroups', { name: 'g', publishables: { published: [roads, roads] }, styles: { style: { name: 'roads' } } }],
  ['PUT', '/layergroups/g', { publishables: { published: [roads, roads] }, styles: { style: [{}] } }],
])('%s %s with styles not one per entry: 400 naming styles, nothing sent', async (method, path, group) => {
  const { storing, sent, send } = setUp();
  await expect(send(request(method, path, JSON.stringify({ layerGroup: group })))).rejects.toMatchObject({ status: 400, field: 'styles', message: expect.stringContaining('one per entry') });
  expect(sent).toEqual([]);
  expect(storing.published).toEqual([]);
});

// GeoServer's PUT keeps the styles a group holds (one per entry, "" for a null one) when the body states none.
test('a layer group PUT changing its number of entries without styles: 400 naming styles, nothing sent; with them it goes through', async () => {
  const { storing, sent, send, master } = setUp();
  const json = (method: string, path: string, body: unknown) => send(request(method, path, JSON.stringify(body)));
  await json('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await json('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', srs: 'EPSG:4326' } });
  expect((await json('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published: [roads] } } })).status).toBe(201);
  const [sentBefore, publishedBefore, held] = [sent.length, storing.published.length, structuredClone(master.catalog.objects.layerGroup.get('g'))];
  await expect(json('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads, roads] } } })).rejects.toMatchObject({
    status: 400,
    field: 'styles',
    message: expect.stringContaining('keeps the 1 style the group holds'),
  });
  expect([sent.length, storing.published.length]).toEqual([sentBefore, publishedBefore]);
  expect(master.catalog.objects.layerGroup.get('g')).toEqual(held);
  // The same number of entries keeps its styles, and stating them changes the number.
  expect((await json('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads] } } })).status).toBe(200);
  expect((await json('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads, roads] }, styles: { style: ['', { name: 'roads' }] } } })).status).toBe(200);
  expect(master.catalog.objects.layerGroup.get('g')).toMatchObject({ styles: { style: ['null', { name: 'roads' }] } });
});
