/**
 * A style's info written without a file name through the gateway. GeoServer refuses a style whose
 * filename is absent or blank (CatalogImpl.validate: "Style fileName must not be null", answered
 * 500), so the gateway refuses those writes first, with 400 naming `filename`: nothing reaches the
 * master, nothing is published. A PUT that leaves the filename out keeps it
 * (CatalogBuilder.updateStyle), and a style file uploaded in one step needs none.
 */
import { standInPerTest } from '../../../support/standin-per-test';
import { adminRequest as request, recordingGateway } from './recording-gateway';

const SLD = '<?xml version="1.0"?>\n<StyledLayerDescriptor version="1.0.0"/>\n';
const standIn = standInPerTest();

const setUp = () => recordingGateway(standIn.geoserver);

test.each([
  ['POST', '/styles', '{"style":{"name":"lines"}}', 'application/json'],
  ['POST', '/styles', '{"style":{"name":"lines","filename":null}}', 'application/json'],
  ['POST', '/styles', '{"style":{"name":"lines","filename":" "}}', 'text/json'],
  ['POST', '/workspaces/topp/styles', '{"style":{"name":"lines","format":"sld"}}', 'application/json'],
  ['POST', '/styles', '<style><name>lines</name></style>', 'application/xml'],
  ['POST', '/workspaces/topp/styles.xml', '<style><name>lines</name><filename></filename></style>', 'text/xml'],
  ['PUT', '/styles/roads', '{"style":{"filename":""}}', 'application/json'],
  ['PUT', '/styles/roads.xml', '<style><filename/></style>', 'application/xml'],
  // GeoServer's JSON reader gives the field the text of its element: none for null or an object
  // without "$", so "" reaches the catalog, which refuses it on a PUT too.
  ['PUT', '/styles/roads', '{"style":{"filename":null}}', 'application/json'],
  ['PUT', '/workspaces/topp/styles/roads', '{"style":{"filename":null}}', 'application/json'],
  ['PUT', '/styles/roads', '{"style":{"filename":{}}}', 'application/json'],
  ['PUT', '/styles/roads', '{"style":{"filename":{"file":"roads.sld"}}}', 'text/json'],
  ['POST', '/styles', '{"style":{"name":"lines","filename":{"a":1}}}', 'application/json'],
])('%s %s %s: 400 naming filename, nothing sent or published', async (method, path, body, contentType) => {
  const { storing, sent, send, master } = setUp();
  master.catalog.addWorkspace({ name: 'topp' });
  master.catalog.addStyleInfo(undefined, { name: 'roads', filename: 'roads.sld' });
  const before = structuredClone([...master.catalog.objects.style]);
  await expect(send(request(method, path, body, contentType))).rejects.toMatchObject({
    status: 400,
    field: 'filename',
    message: expect.stringMatching(/^filename: .*Style fileName must not be null/),
  });
  expect(sent).toEqual([]);
  expect(storing.published).toEqual([]);
  expect([...master.catalog.objects.style]).toEqual(before);
});

test.each([
  ['POST', '/styles', '{"style":{"name":"lines","filename":"../lines.sld"}}', 'application/json'],
  ['POST', '/workspaces/topp/styles', '{"style":{"name":"lines","filename":"/etc/lines.sld"}}', 'application/json'],
  ['POST', '/styles', '<style><name>lines</name><filename>sub/lines.sld</filename></style>', 'application/xml'],
  ['POST', '/styles', '{"style":{"name":"lines","filename":"..\\\\lines.sld"}}', 'application/json'],
  ['PUT', '/styles/roads', '{"style":{"filename":".."}}', 'application/json'],
])("%s %s %s: a filename that is not one file of the styles folder is 400 naming filename, nothing sent or published", async (method, path, body, contentType) => {
  const { storing, sent, send, master } = setUp();
  master.catalog.addWorkspace({ name: 'topp' });
  master.catalog.addStyleInfo(undefined, { name: 'roads', filename: 'roads.sld' });
  const before = structuredClone([...master.catalog.objects.style]);
  await expect(send(request(method, path, body, contentType))).rejects.toMatchObject({ status: 400, field: 'filename', message: expect.stringMatching(/^filename: the filename /) });
  expect(sent).toEqual([]);
  expect(storing.published).toEqual([]);
  expect([...master.catalog.objects.style]).toEqual(before);
});

test.each([
  ['PUT', '/styles/roads', '{"style":{"filename":7}}'],
  ['PUT', '/styles/roads', '{"style":{"filename":{"$":"roads-v2.sld"}}}'],
  ['PUT', '/styles/roads', '{"style":{"filename":["roads.sld"]}}'],
  ['POST', '/styles', '{"style":{"name":"lines","filename":true}}'],
])('%s %s %s: a filename that is not a JSON string is 400 naming filename, nothing sent or published', async (method, path, body) => {
  const { storing, sent, send, master } = setUp();
  master.catalog.addStyleInfo(undefined, { name: 'roads', filename: 'roads.sld' });
  await expect(send(request(method, path, body))).rejects.toMatchObject({ status: 400, field: 'filename', message: expect.stringMatching(/^filename: the filename is not a JSON string/) });
  expect(sent).toEqual([]);
  expect(storing.published).toEqual([]);
  expect(master.catalog.objects.style.get('roads')).toEqual({ format: 'sld', name: 'roads', filename: 'roads.sld' });
});

test("a POST of a style's info with its filename reaches the master, and a PUT leaving it out keeps it", async () => {
  const { sent, send, master } = setUp();
  expect((await send(request('POST', '/styles', '{"style":{"name":"lines","filename":"lines.sld"}}'))).status).toBe(201);
  expect((await send(request('PUT', '/styles/lines', '{"style":{"format":"sld"}}'))).status).toBe(200);
  expect(master.catalog.objects.style.get('lines')).toMatchObject({ filename: 'lines.sld' });
  expect(master.violations).toEqual([]);
  expect(sent.map((call) => `${call.method} ${call.path}`)).toEqual(expect.arrayContaining(['POST /styles', 'PUT /styles/lines']));
});

test('a style file uploaded in one step names no filename and is not refused for it', async () => {
  const { send, master } = setUp();
  expect((await send(request('POST', '/styles', SLD, 'application/vnd.ogc.sld+xml', 'name=lines&raw=true'))).status).toBe(201);
  expect(master.catalog.objects.style.get('lines')).toMatchObject({ filename: 'lines.sld' });
});
