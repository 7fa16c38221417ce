/**
 * A namespace written without a URI through the gateway. GeoServer refuses a namespace whose URI
 * is absent or blank (CatalogImpl.validate: "Namespace uri must not be null", answered 500), so
 * the gateway refuses those writes first, with 400 naming `uri`: nothing reaches the master,
 * nothing is published. A PUT that leaves the URI out keeps it (CatalogBuilder.updateNamespace),
 * and publishes nothing when nothing else changed.
 */
import { standInPerTest } from '../../../support/standin-per-test';
import { adminRequest as request, recordingGateway } from './recording-gateway';
import { MASTER_NODE } from './storing-publisher';

const standIn = standInPerTest();

const setUp = () => recordingGateway(standIn.geoserver);

test.each([
  ['POST', '/namespaces', '{"namespace":{"prefix":"n1"}}', 'application/json'],
  ['POST', '/namespaces', '{"namespace":{"prefix":"n1","uri":null}}', 'application/json'],
  ['POST', '/namespaces', '{"namespace":{"prefix":"n1","uri":"  "}}', 'application/json'],
  ['POST', '/namespaces', '<namespace><prefix>n1</prefix></namespace>', 'application/xml'],
  ['POST', '/namespaces', '<namespace><prefix>n1</prefix><uri></uri></namespace>', 'application/xml'],
  ['PUT', '/namespaces/topp', '{"namespace":{"prefix":"topp","uri":""}}', 'application/json'],
  ['PUT', '/namespaces/topp.xml', '<namespace><uri/></namespace>', 'application/xml'],
])('%s %s %s: 400 naming uri, nothing sent or published', async (method, path, body, contentType) => {
  const { storing, sent, send, master } = setUp();
  master.catalog.addWorkspace({ name: 'topp' });
  await expect(send(request(method, path, body, contentType))).rejects.toMatchObject({ status: 400, field: 'uri', message: expect.stringMatching(/^uri: .*Namespace uri must not be null/) });
  expect(sent).toEqual([]);
  expect(storing.published).toEqual([]);
  expect(master.catalog.objects.namespace.get('topp')).toEqual({ prefix: 'topp', uri: 'http://topp', isolated: false });
});

test('a PUT that leaves the uri out keeps it: the master and the log agree', async () => {
  const { storing, send, master } = setUp();
  await send(request('POST', '/namespaces', '{"namespace":{"prefix":"n1","uri":"urn:n1"}}'));
  const answer = await send(request('PUT', '/namespaces/n1', '{"namespace":{"prefix":"n1","isolated":true}}'));
  expect(answer.status).toBe(200);
  const [held] = await storing.store.readObjects(MASTER_NODE, [{ type: 'namespace', id: 'n1' }]);
  expect(held?.properties).toEqual(master.catalog.objects.namespace.get('n1'));
  expect(held?.properties).toMatchObject({ uri: 'urn:n1', isolated: true });
});
