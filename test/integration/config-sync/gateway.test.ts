/**
 * The cluster as a GeoServer REST endpoint, over real HTTP on a spawned local cluster: an
 * administrator's session of standard REST calls sent to `<cluster>/geoserver/rest/...` is
 * forwarded to the master's GeoServer (a stand-in that checks every request against GeoServer's
 * REST reference), what it applied is published, and every slave's GeoServer ends equal to the
 * master's. A refused write publishes nothing; an unmanaged path is forwarded and flagged. The
 * caller's credentials are neither logged nor stored, and every answer is one the cluster's
 * OpenAPI document describes.
 */
import { DeleteItemCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gatewayLeasePartition } from '../../../lambdas/config-sync/adapters/dynamo-gateway-lease';
import { request as httpRequest } from 'node:http';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators';
import { answerProblem } from '../../support/answer-check';
import { intentOf } from '../../../lambdas/config-sync/gateway/recovery';
import { classifyRestPath, type ManagedPath } from '../../../lambdas/config-sync/gateway/rest-paths';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { seededRandom } from '../../support/random';
import { ebcdic } from '../../support/ebcdic';
import { FAST_RETRY_ENV, SyncCluster } from './scenario-support';

jest.setTimeout(120_000);

const MASTER = 'gs-main';
const SLAVES = ['gs-1', 'gs-2'];
const OPERATOR = 'gw-ops';
const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

let cluster: SyncCluster;
const geoservers = new Map<string, GeoServerStandIn>();

beforeAll(async () => {
  for (const node of [MASTER, ...SLAVES]) geoservers.set(node, await startGeoServerStandIn());
  cluster = await SyncCluster.start(
    'gateway',
    [
      { name: MASTER, role: 'both', geoserver: { url: geoservers.get(MASTER)!.url, credentialsSecret: `local/${MASTER}` } },
      ...SLAVES.map((name) => ({ name, role: 'slave' as const, geoserver: { url: geoservers.get(name)!.url, credentialsSecret: `local/${name}` } })),
    ],
    'config-sync-gateway',
    // Only this machine's loopback address may call the gateway (cluster.gateway.allowedSourceIps).
    // A read-only operator, whose token is a cluster token like a node's.
    { gateway: { enabled: true, allowedSourceIps: ['127.0.0.1/32', '::1'] }, operators: [{ name: OPERATOR }] },
    FAST_RETRY_ENV,
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  for (const geoserver of geoservers.values()) await geoserver.close();
});

/** A call through the gateway; its answer is held to the OpenAPI document the cluster serves (its gateway operations). */
async function rest(method: string, path: string, body?: string | object, contentType = 'application/json', authorization = ADMIN) {
  const response = await fetch(`${cluster.spawned.url}/geoserver/rest${path}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await response.text();
  await expectDocumented(method, `/geoserver/rest${path}`, response.status, response.headers.get('content-type'), text);
  return { status: response.status, headers: response.headers, text };
}

async function expectDocumented(method: string, path: string, status: number, contentType: string | null, text: string): Promise<void> {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  expect(await answerProblem(cluster.spawned.url, method, path, status, contentType, body)).toBeUndefined();
}

test('the cluster serves the gateway in its OpenAPI document: an operation per method, HTTP Basic passed through', async () => {
  const doc = (await cluster.api('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string; security: unknown }>> };
  const item = doc.paths['/geoserver/rest/{proxy+}'] ?? {};
  expect(Object.keys(item)).toEqual(['get', 'put', 'post', 'delete', 'options', 'head', 'patch']);
  expect(item.post).toMatchObject({ operationId: 'geoserverRestPost', security: [{ geoserverBasic: [] }] });
});

test("the master's answers are passed on sandboxed and never sniffed: the API's origin is the console's too", async () => {
  for (const path of ['/workspaces.json', '/about/version.html', '/workspaces/no-such-workspace.json']) {
    const answer = await rest('GET', path);
    expect({ path, status: answer.status < 500, csp: answer.headers.get('content-security-policy'), sniff: answer.headers.get('x-content-type-options') }).toEqual({
      path,
      status: true,
      csp: 'sandbox',
      sniff: 'nosniff',
    });
  }
});

async function write(method: string, path: string, body?: string | object, contentType?: string) {
  const answer = await rest(method, path, body, contentType);
  if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
  expect(answer.headers.get('x-cluster-replicated')).toBe('true');
  return answer;
}

const sld10 = (name: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"><NamedLayer><Name>${name}</Name><UserStyle><FeatureTypeStyle><Rule><LineSymbolizer/></Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n`;
const se11 = (name: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se"><NamedLayer><se:Name>${name}</se:Name></NamedLayer></StyledLayerDescriptor>\n`;

/** Every object, settings included, and every style document, as comparable JSON. */
function snapshot(geoserver: GeoServerStandIn): Record<string, unknown> {
  const objects = Object.fromEntries(
    Object.entries(geoserver.catalog.objects).map(([type, map]) => [type, Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)))]),
  );
  const bodies = Object.fromEntries([...geoserver.catalog.styleBodies.entries()].map(([id, body]) => [id, { text: body.bytes.toString('utf8'), contentType: body.contentType }]));
  return { objects, bodies };
}

async function converged(): Promise<void> {
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
  await cluster.waitForNodes(`slaves applied every event up to ${head}`, (answer) =>
    SLAVES.every((name) => answer.nodes.find((node) => node.name === name)?.lastAppliedSequence === head),
  );
}

test("an administrator's REST session through the gateway configures every slave GeoServer like the master's", async () => {
  const before = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;

  const created = await write('POST', '/workspaces', { workspace: { name: 'topp' } });
  // The created object's Location leads through the gateway, not to the master's own address (a client following that would bypass the cluster).
  expect(created.headers.get('location')).toBe(`${cluster.spawned.url}/geoserver/rest/workspaces/topp`);
  await write('PUT', '/namespaces/topp', { namespace: { prefix: 'topp', uri: 'http://example.org/topp' } });
  await write('POST', '/workspaces/topp/datastores', {
    dataStore: { name: 'pg', type: 'PostGIS', connectionParameters: { entry: [{ '@key': 'host', $: 'db' }, { '@key': 'database', $: 'gis' }] } },
  });
  const published = await write('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads', srs: 'EPSG:4326' } });
  expect(published.headers.get('x-cluster-sequence')).toMatch(/^\d+,\d+$/); // the feature type and its layer
  await write('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers', srs: 'EPSG:4326' } });
  await write('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'dem', type: 'GeoTIFF', url: 'file:data/dem.tif' } });
  await write('POST', '/workspaces/topp/coveragestores/dem/coverages', { coverage: { name: 'dem', title: 'Elevation' } });

  // styles: one step (SLD 1.0), two steps (SE 1.1), a workspace style
  await write('POST', '/styles?name=roads&raw=true', sld10('roads'), 'application/vnd.ogc.sld+xml');
  // The first step: GeoServer answers the style's document, not uploaded yet, with 200 and nothing;
  // nothing is published until the second step brings it, and nothing is reported as failed.
  const firstStep = await rest('POST', '/styles', { style: { name: 'rivers', filename: 'rivers.sld' } });
  expect([firstStep.status, firstStep.headers.get('x-cluster-replicated'), firstStep.headers.get('x-cluster-sequence')]).toEqual([201, 'true', null]);
  const secondStep = await write('PUT', '/styles/rivers?raw=true', se11('rivers'), 'application/vnd.ogc.se+xml');
  expect(secondStep.headers.get('x-cluster-sequence')).toMatch(/^\d+$/); // the style, added with its document
  await write('POST', '/workspaces/topp/styles?name=topp-lines&raw=true', sld10('topp-lines'), 'application/vnd.ogc.sld+xml');
  await write('PUT', '/layers/topp:roads', { layer: { defaultStyle: { name: 'roads' } } });
  await write('POST', '/layergroups', { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } });
  // groups holding the feature type renamed below, one through the other
  await write('POST', '/layergroups', { layerGroup: { name: 'rivers-only', publishables: { published: [{ '@type': 'layer', name: 'topp:rivers' }] } } });
  await write('POST', '/layergroups', {
    layerGroup: { name: 'nested', publishables: { published: [{ '@type': 'layerGroup', name: 'rivers-only' }, { '@type': 'layer', name: 'topp:roads' }] } },
  });

  // settings
  await write('PUT', '/settings', { global: { settings: { charset: 'UTF-8', numDecimals: 6 } } });
  await write('PUT', '/services/wms/settings', { wms: { title: 'Cluster WMS', maxBuffer: 25 } });
  await write('POST', '/workspaces/topp/settings', { settings: { charset: 'UTF-8', numDecimals: 4 } });
  await write('PUT', '/services/wfs/workspaces/topp/settings', { wfs: { title: 'Topp WFS' } });
  await write('PUT', '/logging', { logging: { level: 'PRODUCTION_LOGGING' } });

  // a change, a rename, a recursive delete
  await write('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'roads and rivers' } });
  await write('PUT', '/workspaces/topp/datastores/pg/featuretypes/rivers', { featureType: { name: 'waterways' } });
  await write('DELETE', '/workspaces/topp/coveragestores/dem?recurse=true');

  await converged();
  const master = snapshot(geoservers.get(MASTER)!);
  expect(Object.keys((master.objects as Record<string, object>).featureType ?? {})).toEqual(['topp:roads', 'topp:waterways']);
  expect(Object.keys((master.objects as Record<string, object>).layerGroup ?? {})).toEqual(['base', 'nested', 'rivers-only']);
  for (const slave of SLAVES) {
    expect(snapshot(geoservers.get(slave)!)).toEqual(master);
  }
  for (const geoserver of geoservers.values()) expect(geoserver.violations).toEqual([]);
  expect(((await cluster.api('GET', '/nodes', cluster.reader)).body.head as number) - before).toBeGreaterThan(15);
});

// LayerGroupController.layerGroupPut refuses another name (403): the master keeps the groups as
// they were, and the gateway publishes nothing.
test('a layer group rename is refused by the master (403) and publishes nothing: every slave holds the groups as the master does, nothing parked', async () => {
  const master = geoservers.get(MASTER)!;
  await write('POST', '/workspaces', { workspace: { name: 'lgren' } });
  await write('POST', '/workspaces/lgren/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await write('POST', '/workspaces/lgren/datastores/pg/featuretypes', { featureType: { name: 'parcels', srs: 'EPSG:4326' } });
  await write('POST', '/layergroups', { layerGroup: { name: 'lgren-inner', publishables: { published: [{ '@type': 'layer', name: 'lgren:parcels' }] } } });
  await write('POST', '/layergroups', { layerGroup: { name: 'lgren-outer', publishables: { published: [{ '@type': 'layerGroup', name: 'lgren-inner' }] } } });
  // a workspace group holding a workspace group by its local name
  await write('POST', '/workspaces/lgren/layergroups', { layerGroup: { name: 'ws-inner', publishables: { published: [{ '@type': 'layer', name: 'lgren:parcels' }] } } });
  await write('POST', '/workspaces/lgren/layergroups', { layerGroup: { name: 'ws-outer', publishables: { published: [{ '@type': 'layerGroup', name: 'ws-inner' }] } } });
  await converged();
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;

  const refusals = [await rest('PUT', '/layergroups/lgren-inner', { layerGroup: { name: 'lgren-renamed' } }), await rest('PUT', '/workspaces/lgren/layergroups/ws-inner', { layerGroup: { name: 'ws-renamed' } })];
  expect(refusals.map((answer) => ({ status: answer.status, text: answer.text }))).toEqual([
    { status: 403, text: "Can't change name of a layer group" },
    { status: 403, text: "Can't change name of a layer group" },
  ]);

  await converged();
  expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
  expect(publishedNames(master.catalog.get('layerGroup', 'lgren-outer'))).toEqual(['lgren-inner']);
  expect(publishedNames(master.catalog.get('layerGroup', 'lgren:ws-outer'))).toEqual(['ws-inner']);
  const expected = snapshot(master);
  for (const slave of SLAVES) expect(snapshot(geoservers.get(slave)!)).toEqual(expected);
  const nodes = (await cluster.api('GET', '/nodes', cluster.reader)).body.nodes as Array<{ name: string; parked?: unknown[] }>;
  for (const slave of SLAVES) expect([slave, nodes.find((node) => node.name === slave)?.parked ?? []]).toEqual([slave, []]);
  // the groups, left empty by the workspace's recursive removal, go with it
  await write('DELETE', '/workspaces/lgren?recurse=true');
  await converged();
  expect(master.catalog.objects.layerGroup.has('lgren-outer')).toBe(false);
  for (const slave of SLAVES) expect(snapshot(geoservers.get(slave)!)).toEqual(snapshot(master));
});

test("a feature type renamed that is a group's root layer: the group names the renamed layer as its root on every node", async () => {
  const master = geoservers.get(MASTER)!;
  await write('POST', '/workspaces', { workspace: { name: 'rootren' } });
  await write('POST', '/workspaces/rootren/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await write('POST', '/workspaces/rootren/datastores/pg/featuretypes', { featureType: { name: 'outline', srs: 'EPSG:4326' } });
  await write('POST', '/workspaces/rootren/datastores/pg/featuretypes', { featureType: { name: 'detail', srs: 'EPSG:4326' } });
  await write('POST', '/layergroups', {
    layerGroup: { name: 'rootren-eo', mode: 'EO', rootLayer: { name: 'rootren:outline' }, publishables: { published: [{ '@type': 'layer', name: 'rootren:detail' }] } },
  });

  await write('PUT', '/workspaces/rootren/datastores/pg/featuretypes/outline', { featureType: { name: 'boundary' } });

  await converged();
  // GeoServer holds a group's root layer by reference too: it names the renamed layer.
  expect((master.catalog.get('layerGroup', 'rootren-eo')?.rootLayer as { name?: unknown } | undefined)?.name).toBe('rootren:boundary');
  for (const slave of SLAVES) expect(snapshot(geoservers.get(slave)!)).toEqual(snapshot(master));
  await write('DELETE', '/layergroups/rootren-eo');
  await write('DELETE', '/workspaces/rootren?recurse=true');
  await converged();
});

function publishedNames(group: Record<string, unknown> | undefined): unknown[] {
  const published = (group?.publishables as { published?: unknown } | undefined)?.published;
  return (Array.isArray(published) ? published : published === undefined ? [] : [published]).map((entry) => (entry as { name?: unknown }).name);
}

test("more of the documented calls: styles in every format, a style's new document and rename, layer styles, groups, the contact, a workspace deleted recursively", async () => {
  const master = geoservers.get(MASTER)!;
  // styles.yaml: one-step uploads of SE 1.1 (in a workspace), CSS and MBStyle; YSLD in two steps
  await write('POST', '/workspaces/topp/styles?name=topp-se&raw=true', se11('topp-se'), 'application/vnd.ogc.se+xml');
  await write('POST', '/styles?name=roads-css&raw=true', '* { stroke: #333333; stroke-width: 2; }\n', 'application/vnd.geoserver.geocss+css');
  await write('POST', '/styles?name=roads-mb&raw=true', JSON.stringify({ version: 8, name: 'roads-mb', layers: [{ id: 'roads', type: 'line' }] }), 'application/vnd.geoserver.mbstyle+json');
  const firstStep = await rest('POST', '/styles', { style: { name: 'rivers-ysld', filename: 'rivers-ysld.yaml', format: 'ysld' } });
  expect([firstStep.status, firstStep.headers.get('x-cluster-replicated'), firstStep.headers.get('x-cluster-sequence')]).toEqual([201, 'true', null]);
  await write('PUT', '/styles/rivers-ysld?raw=true', 'feature-styles:\n- rules:\n  - symbolizers:\n    - line:\n        stroke-color: "#0000ff"\n', 'application/vnd.geoserver.ysld+yaml');
  // a style's document replaced, and a style renamed
  await write('PUT', '/styles/roads?raw=true', sld10('roads').replace('<LineSymbolizer/>', '<LineSymbolizer><Stroke/></LineSymbolizer>'), 'application/vnd.ogc.sld+xml');
  await write('POST', '/styles?name=scratch-style&raw=true', sld10('scratch-style'), 'application/vnd.ogc.sld+xml');
  await write('PUT', '/styles/scratch-style', { style: { name: 'renamed-style' } });
  // a layer's extra style, a layer group changed, a workspace layer group, the contact, WCS settings
  await write('POST', '/layers/topp:roads/styles', { style: { name: 'roads-css' } });
  await write('PUT', '/layergroups/base', { layerGroup: { title: 'Base map' } });
  await write('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'topp-base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } });
  await write('PUT', '/settings/contact', { contact: { contactPerson: 'GIS operations', contactOrganization: 'Example' } });
  await write('PUT', '/services/wcs/settings', { wcs: { title: 'Cluster WCS' } });
  // a style deleted recursively: the layer that had it as its default falls back to another
  await write('POST', '/styles?name=doomed&raw=true', sld10('doomed'), 'application/vnd.ogc.sld+xml');
  await write('PUT', '/layers/topp:waterways', { layer: { defaultStyle: { name: 'doomed' } } });
  await write('DELETE', '/styles/doomed?recurse=true');
  // a workspace with a store and a feature type in a global group, deleted recursively: the group, left empty, goes too
  await write('POST', '/workspaces', { workspace: { name: 'scratch' } });
  await write('POST', '/workspaces/scratch/datastores', { dataStore: { name: 'tmp', type: 'PostGIS' } });
  await write('POST', '/workspaces/scratch/datastores/tmp/featuretypes', { featureType: { name: 'tmp_lines', srs: 'EPSG:4326' } });
  await write('POST', '/layergroups', { layerGroup: { name: 'scratch-group', publishables: { published: [{ '@type': 'layer', name: 'scratch:tmp_lines' }] } } });
  await write('DELETE', '/workspaces/scratch?recurse=true');

  await converged();
  // Every node's store holds what the GeoServers hold (the master's and a slave's store alike).
  expect(master.catalog.get('layer', 'topp:waterways')?.defaultStyle).toEqual({ name: 'generic' });
  expect(master.catalog.objects.layerGroup.has('scratch-group')).toBe(false);
  for (const node of [MASTER, SLAVES[0]!]) {
    const layer = await cluster.api('GET', `/nodes/${node}/catalog/layer/topp:waterways`, cluster.reader);
    expect([node, (layer.body as { properties: Record<string, unknown> }).properties.defaultStyle]).toEqual([node, { name: 'generic' }]);
    expect([node, (await cluster.api('GET', `/nodes/${node}/catalog/layerGroup/scratch-group`, cluster.reader)).status]).toEqual([node, 404]);
  }
  expect(master.catalog.objects.workspace.has('scratch')).toBe(false);
  expect(master.catalog.objects.style.has('renamed-style')).toBe(true);
  expect(master.catalog.styleBodies.get('rivers-ysld')?.contentType).toBe('application/vnd.geoserver.ysld+yaml');
  const expected = snapshot(master);
  for (const slave of SLAVES) expect(snapshot(geoservers.get(slave)!)).toEqual(expected);
  // the SE 1.1 document arrives as SE 1.1, byte for byte, not converted to SLD 1.0
  for (const slave of SLAVES) {
    const body = geoservers.get(slave)!.catalog.styleBodies.get('topp:topp-se');
    expect(body?.contentType).toBe('application/vnd.ogc.se+xml');
    expect(body?.bytes.toString('utf8')).toBe(se11('topp-se'));
  }
  for (const geoserver of geoservers.values()) expect(geoserver.violations).toEqual([]);
});

test('a write the master refuses publishes nothing; an unmanaged path is forwarded and flagged', async () => {
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
  const duplicate = await rest('POST', '/workspaces', { workspace: { name: 'topp' } });
  expect(duplicate.status).toBe(409);
  expect(duplicate.headers.get('x-cluster-replicated')).toBeNull();
  const unauthenticated = await rest('POST', '/workspaces', { workspace: { name: 'other' } }, 'application/json', 'Basic ' + Buffer.from('admin:wrong').toString('base64'));
  expect(unauthenticated.status).toBe(401);
  expect(geoservers.get(MASTER)!.catalog.objects.workspace.has('other')).toBe(false);

  const about = await rest('GET', '/about/version.json');
  expect(about.status).toBe(200);
  expect(JSON.parse(about.text).about.resource[0]['@name']).toBe('GeoServer');
  expect(about.headers.get('x-cluster-replicated')).toBe('false');

  expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
});

test("an OPTIONS is forwarded to the master, whose answer and Allow come back: none reaches a slave, nothing the log", async () => {
  const master = geoservers.get(MASTER)!;
  const slaveRequests = new Map(SLAVES.map((name) => [name, geoservers.get(name)!.requests.length]));
  const requestsBefore = master.requests.length;
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;

  const collection = await rest('OPTIONS', '/workspaces');
  expect(collection.status).toBe(200);
  expect(collection.headers.get('allow')).toBe('GET,HEAD,POST,OPTIONS');
  expect(collection.headers.get('x-cluster-replicated')).toBeNull();
  expect(collection.text).toBe('');
  const item = await rest('OPTIONS', '/workspaces/topp.json');
  expect(item.status).toBe(200);
  expect(item.headers.get('allow')).toBe('GET,HEAD,PUT,DELETE,OPTIONS');
  // As the master's security decides: no rule of GeoServer's covers OPTIONS, wrong credentials are refused.
  const anonymous = await fetch(`${cluster.spawned.url}/geoserver/rest/layers`, { method: 'OPTIONS' });
  expect(anonymous.status).toBe(200);
  expect(anonymous.headers.get('allow')).toContain('GET');
  const wrong = await rest('OPTIONS', '/layers', undefined, undefined, 'Basic ' + Buffer.from('admin:wrong').toString('base64'));
  expect(wrong.status).toBe(401);

  expect(master.requests.slice(requestsBefore).map((request) => `${request.method} ${request.path} ${request.status}`)).toEqual([
    'OPTIONS /geoserver/rest/workspaces 200',
    'OPTIONS /geoserver/rest/workspaces/topp.json 200',
    'OPTIONS /geoserver/rest/layers 200',
    'OPTIONS /geoserver/rest/layers 401',
  ]);
  for (const [name, before] of slaveRequests) expect(geoservers.get(name)!.requests.slice(before).filter((request) => request.method === 'OPTIONS')).toEqual([]);
  expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
  for (const geoserver of geoservers.values()) expect(geoserver.violations).toEqual([]);
});

test("a PATCH, which GeoServer's REST API has not, is 405 with Allow before anything is read: nothing reaches the master or the log, paused or not", async () => {
  const master = geoservers.get(MASTER)!;
  const requestsBefore = master.requests.length;
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
  const patched = await rest('PATCH', '/workspaces/topp', { workspace: { name: 'patched' } });
  expect(patched.status).toBe(405);
  expect(patched.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST, PUT, DELETE');
  expect(JSON.parse(patched.text)).toMatchObject({ code: 'METHOD_NOT_ALLOWED', message: expect.stringContaining("PATCH is not a method of GeoServer's REST API") });
  // Paused, a PATCH is still 405: no resume would let it through.
  expect((await cluster.api('POST', `/nodes/${MASTER}/pause`, { node: MASTER })).status).toBe(200);
  try {
    expect((await rest('PATCH', '/security/acl/layers', { 'topp.*.r': '*' })).status).toBe(405);
  } finally {
    expect((await cluster.api('POST', `/nodes/${MASTER}/resume`, { node: MASTER })).status).toBe(200);
  }
  expect(master.requests.length).toBe(requestsBefore);
  expect(master.catalog.objects.workspace.has('patched')).toBe(false);
  expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
});

test('a path with a letter, digit or "-._~" percent-encoded is read as the master reads it, which decodes it before it routes: each is what it says on every node', async () => {
  await write('POST', '/workspaces', { workspace: { name: 'enc' } });
  await write('POST', '/workspaces/enc/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await write('POST', '/workspaces/enc/datastores', { dataStore: { name: 'pg~2', type: 'PostGIS' } });
  await converged();
  // The master takes ".json" off the decoded name and deletes store pg; so does every other node.
  for (const path of ['/workspaces/enc/datastores/pg%2Ejson', '/workspaces/enc/%64atastores/pg%7E2.j%73on']) {
    const removed = await rest('DELETE', path);
    expect({ path, status: removed.status, replicated: removed.headers.get('x-cluster-replicated') }).toEqual({ path, status: 200, replicated: 'true' });
  }
  await converged();
  for (const node of [MASTER, ...SLAVES]) {
    const stores = geoservers.get(node)!.catalog.objects.dataStore;
    expect({ node, pg: stores.has('enc:pg'), pg2: stores.has('enc:pg~2') }).toEqual({ node, pg: false, pg2: false });
  }
});

// The local API hands functions the path as an API Gateway HTTP API does: decoded. A name with
// "#" sent as %23 arrives as "#", and the gateway encodes it again for the master; a "+" sent as
// %2B arrives as "+", which the master would read as a space: refused, nothing sent.
test('a name with "#" (sent as %23, handed on decoded) is created, changed and removed on every node; one with "+" is refused, as %2B arrives as "+"', async () => {
  await write('POST', '/workspaces', { workspace: { name: 'dec' } });
  await write('POST', '/workspaces/dec/datastores', { dataStore: { name: 'pg#old', type: 'PostGIS' } });
  await converged();
  const changed = await rest('PUT', '/workspaces/dec/datastores/pg%23old', { dataStore: { description: 'kept for a month' } });
  expect([changed.status, changed.headers.get('x-cluster-replicated')]).toEqual([200, 'true']);
  await converged();
  for (const node of [MASTER, ...SLAVES]) {
    expect({ node, description: (geoservers.get(node)!.catalog.objects.dataStore.get('dec:pg#old') as { description?: string } | undefined)?.description }).toEqual({ node, description: 'kept for a month' });
  }
  expect((await rest('DELETE', '/workspaces/dec/datastores/pg%23old')).status).toBe(200);
  await converged();
  for (const node of [MASTER, ...SLAVES]) expect({ node, held: geoservers.get(node)!.catalog.objects.dataStore.has('dec:pg#old') }).toEqual({ node, held: false });

  const sent = geoservers.get(MASTER)!.requests.length;
  const refused = await rest('DELETE', '/workspaces/dec/datastores/a%2Bb');
  expect([refused.status, JSON.parse(refused.text).code]).toEqual([400, 'INVALID_PATH']);
  expect(JSON.parse(refused.text).message).toContain('a "+" in "a+b"');
  expect(geoservers.get(MASTER)!.requests.length).toBe(sent);
});

test("a style's filename the master would read as empty, or that names a file outside the styles folder, is 400 naming filename; every slave keeps the master's file name and document", async () => {
  const sld = '<?xml version="1.0"?>\n<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>coast</Name></NamedLayer></StyledLayerDescriptor>\n';
  expect((await rest('POST', '/styles', { style: { name: 'coast', filename: 'coast-v2.sld', format: 'sld' } })).status).toBe(201);
  expect((await rest('PUT', '/styles/coast?raw=true', sld, 'application/vnd.ogc.sld+xml')).status).toBe(200);
  await converged();
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
  const writes = geoservers.get(MASTER)!.applied.length;
  for (const [method, path, body] of [
    ['PUT', '/styles/coast', { style: { filename: null } }],
    ['PUT', '/styles/coast', { style: { filename: 7 } }],
    ['PUT', '/styles/coast', { style: { filename: '../coast.sld' } }],
    ['POST', '/styles', { style: { name: 'cliffs', filename: 'sub/cliffs.sld' } }],
  ] as const) {
    const refused = await rest(method, path, body);
    expect({ path, body, status: refused.status, field: JSON.parse(refused.text).field }).toEqual({ path, body, status: 400, field: 'filename' });
  }
  expect(geoservers.get(MASTER)!.applied.length).toBe(writes);
  expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
  for (const node of [MASTER, ...SLAVES]) {
    const catalog = geoservers.get(node)!.catalog;
    expect({ node, filename: catalog.objects.style.get('coast')?.filename, document: catalog.styleBodies.get('coast')?.bytes.toString('utf8') }).toEqual({ node, filename: 'coast-v2.sld', document: sld });
  }
});

/** A client that honours 503 + Retry-After (the gateway's answer when the write lease stayed busy), a few times. */
let busyRetries = 0;
async function writeRetryingWhenBusy(method: string, path: string, body: object) {
  for (let attempt = 0; ; attempt += 1) {
    const answer = await rest(method, path, body);
    if (answer.status !== 503 || attempt === 3) {
      if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
      expect(answer.headers.get('x-cluster-replicated')).toBe('true');
      return answer;
    }
    busyRetries += 1;
    await new Promise((resolve) => setTimeout(resolve, Number(answer.headers.get('retry-after')) * 1000));
  }
}

test('concurrent administrators: the log holds their writes in the order the master applied them, and every slave converges', async () => {
  await write('POST', '/workspaces', { workspace: { name: 'race' } });
  await write('POST', '/workspaces/race/datastores', { dataStore: { name: 'shared', type: 'PostGIS' } });
  const master = geoservers.get(MASTER)!;
  const random = seededRandom(20261201);
  // The master answers each write up to 40 ms after applying it: without serialization, answers
  // (and so publishes) overtake each other.
  master.setWriteAnswerDelay(() => Math.floor(random() * 40));
  const appliedBefore = master.applied.length;
  const ADMINISTRATORS = 6;
  const WRITES_EACH = 4;
  let answers: { label: string; sequences: number[] }[];
  try {
    answers = (
      await Promise.all(
        Array.from({ length: ADMINISTRATORS }, async (_, admin) => {
          const mine: { label: string; sequences: number[] }[] = [];
          for (let step = 0; step < WRITES_EACH; step += 1) {
            const label = `administrator ${admin} write ${step}`;
            // every administrator changes the same store; some also publish feature types (two events each)
            const answer =
              step % 2 === 0
                ? await writeRetryingWhenBusy('PUT', '/workspaces/race/datastores/shared', { dataStore: { description: label } })
                : await writeRetryingWhenBusy('POST', '/workspaces/race/datastores/shared/featuretypes', { featureType: { name: `a${admin}_s${step}`, title: label } });
            const sequences = (answer.headers.get('x-cluster-sequence') ?? '').split(',').map(Number);
            mine.push({ label, sequences });
          }
          return mine;
        }),
      )
    ).flat();
  } finally {
    master.setWriteAnswerDelay(null);
  }

  const appliedOrder = master.applied.slice(appliedBefore).map((applied) => {
    const body = JSON.parse(applied.body) as { dataStore?: { description: string }; featureType?: { title: string } };
    return body.dataStore?.description ?? body.featureType?.title;
  });
  const logOrder = [...answers].sort((a, b) => a.sequences[0]! - b.sequences[0]!).map((answer) => answer.label);
  expect(appliedOrder).toHaveLength(ADMINISTRATORS * WRITES_EACH);
  expect(logOrder).toEqual(appliedOrder);
  // one write's events are contiguous: no other write's event lands between a feature type and its layer
  const all = answers.flatMap((answer) => answer.sequences).sort((a, b) => a - b);
  for (const answer of answers) {
    expect(answer.sequences).toEqual(answer.sequences.map((_, i) => answer.sequences[0]! + i));
  }
  expect(all).toEqual(all.map((_, i) => all[0]! + i));

  await converged();
  const expected = snapshot(master);
  for (const slave of SLAVES) expect(snapshot(geoservers.get(slave)!)).toEqual(expected);
  expect(geoservers.get(SLAVES[0]!)!.catalog.get('dataStore', 'race:shared')?.description).toBe(appliedOrder.filter((label) => /write [02]$/.test(label!)).at(-1));
  for (const geoserver of geoservers.values()) expect(geoserver.violations).toEqual([]);
  // a refused (503) write reaches nothing: it is not among the applied writes, its retry is
  if (busyRetries > 0) console.log(`concurrent administrators: ${busyRetries} writes were answered 503 and retried`);
});

/** A resource's state on every slave: its GeoServer's feature type and layer, and the node's DynamoDB copy of the feature type, like the master's. */
async function expectEverySlaveHolds(id: string, store: string): Promise<void> {
  const master = geoservers.get(MASTER)!.catalog;
  expect(master.objects.featureType.get(id)).toMatchObject({ store: { name: store } });
  const mastersCopy = (await cluster.objectOf(MASTER, 'featureType', id)).body.properties;
  expect(mastersCopy).toMatchObject({ store: { name: store } });
  for (const slave of SLAVES) {
    const catalog = geoservers.get(slave)!.catalog;
    expect({ slave, featureType: catalog.objects.featureType.get(id), layer: catalog.objects.layer.get(id) }).toEqual({
      slave,
      featureType: master.objects.featureType.get(id),
      layer: master.objects.layer.get(id),
    });
    expect({ slave, copy: (await cluster.objectOf(slave, 'featureType', id)).body.properties }).toEqual({ slave, copy: mastersCopy });
  }
}

test("a feature type PUT naming another store of its workspace: every slave's GeoServer moves it there with its layer and groups, and every copy agrees", async () => {
  await write('POST', '/workspaces', { workspace: { name: 'mv' } });
  await write('POST', '/workspaces/mv/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await write('POST', '/workspaces/mv/datastores', { dataStore: { name: 'pg2', type: 'PostGIS' } });
  await write('POST', '/workspaces/mv/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads', srs: 'EPSG:4326' } });
  await write('POST', '/workspaces/mv/layergroups', { layerGroup: { name: 'mv-base', publishables: { published: [{ '@type': 'layer', name: 'mv:roads' }] } } });
  await converged();

  const moved = await write('PUT', '/workspaces/mv/datastores/pg/featuretypes/roads', { featureType: { title: 'Moved roads', store: { name: 'mv:pg2' } } });
  expect(moved.headers.get('x-cluster-sequence')).toMatch(/^\d+$/); // one modify

  await converged();
  await expectEverySlaveHolds('mv:roads', 'mv:pg2');
  for (const node of [MASTER, ...SLAVES]) {
    const catalog = geoservers.get(node)!.catalog;
    expect({ node, title: catalog.objects.featureType.get('mv:roads')?.title, group: catalog.objects.layerGroup.get('mv:mv-base') }).toEqual({
      node,
      title: 'Moved roads',
      group: geoservers.get(MASTER)!.catalog.objects.layerGroup.get('mv:mv-base'),
    });
  }
  // served under the new store only, on every GeoServer
  for (const geoserver of geoservers.values()) {
    const at = (store: string) => fetch(`${geoserver.restUrl}/workspaces/mv/datastores/${store}/featuretypes/roads.json`, { headers: { authorization: ADMIN } }).then((answer) => answer.status);
    expect([await at('pg'), await at('pg2')]).toEqual([404, 200]);
  }
  for (const slave of SLAVES) expect(snapshot(geoservers.get(slave)!)).toEqual(snapshot(geoservers.get(MASTER)!));
  for (const geoserver of geoservers.values()) expect(geoserver.violations).toEqual([]);
});

describe("the cluster's write lease", () => {
  let dynamo: DynamoDBClient;
  let table: string;
  const key = () => ({ cluster: { S: gatewayLeasePartition('gateway') }, sequence: { N: '0' } });

  beforeAll(async () => {
    dynamo = new DynamoDBClient({ endpoint: cluster.spawned.emulators.dynamo, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    for (const name of (await dynamo.send(new ListTablesCommand({}))).TableNames ?? []) {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.KeySchema?.some((part) => part.AttributeName === 'sequence')) table = name;
    }
    if (!table) throw new Error('no event log table in the local cluster');
  });
  afterAll(() => dynamo?.destroy());

  /** What a gateway function that died while holding the lease leaves behind. */
  const deadHolder = (leaseUntil: number) =>
    dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key(), owner: { S: 'gateway-instance-that-crashed' }, leaseUntil: { N: String(leaseUntil) }, acquiredAt: { S: new Date(leaseUntil - 35_000).toISOString() } },
      }),
    );

  test("a dead holder's lease blocks writes only until it expires, then the next write takes it over", async () => {
    await deadHolder(Date.now() + 3000);
    const started = Date.now();
    const created = await write('POST', '/workspaces', { workspace: { name: 'after-crash' } });
    const waited = Date.now() - started;
    expect(created.status).toBe(201);
    expect(waited).toBeGreaterThanOrEqual(2500);
    expect(waited).toBeLessThan(8000);
    expect(geoservers.get(MASTER)!.catalog.objects.workspace.has('after-crash')).toBe(true);
    // given back after the write: no owner left
    const lease = await dynamo.send(new GetItemCommand({ TableName: table, Key: key(), ConsistentRead: true }));
    expect(lease.Item?.owner).toBeUndefined();
    await converged();
    for (const slave of SLAVES) expect(geoservers.get(slave)!.catalog.objects.workspace.has('after-crash')).toBe(true);
  });

  test("a move to another store whose publication never happened (its process died after the master applied it): the next write's recovery moves it on every slave", async () => {
    await write('POST', '/workspaces', { workspace: { name: 'mvr' } });
    await write('POST', '/workspaces/mvr/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
    await write('POST', '/workspaces/mvr/datastores', { dataStore: { name: 'pg2', type: 'PostGIS' } });
    await write('POST', '/workspaces/mvr/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads', srs: 'EPSG:4326' } });
    await converged();
    // The dead write: the master moved the feature type; the intent the gateway recorded with the lease is left.
    const body = JSON.stringify({ featureType: { store: { name: 'mvr:pg2' } } });
    const direct = await fetch(`${geoservers.get(MASTER)!.restUrl}/workspaces/mvr/datastores/pg/featuretypes/roads`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body });
    expect(direct.status).toBe(200);
    const intent = intentOf(classifyRestPath('/workspaces/mvr/datastores/pg/featuretypes/roads') as ManagedPath, 'PUT', {
      method: 'PUT',
      path: '/workspaces/mvr/datastores/pg/featuretypes/roads',
      query: '',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body),
    });
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key(), intent_dead: { S: JSON.stringify({ ...intent, owner: 'dead', at: new Date(Date.now() - 60_000).toISOString() }) } },
      }),
    );

    await write('POST', '/workspaces/mvr/datastores', { dataStore: { name: 'other', type: 'PostGIS' } });
    await converged();
    await expectEverySlaveHolds('mvr:roads', 'mvr:pg2');
    const lease = await dynamo.send(new GetItemCommand({ TableName: table, Key: key(), ConsistentRead: true }));
    expect(lease.Item?.intent_dead).toBeUndefined();
    for (const slave of SLAVES) expect(geoservers.get(slave)!.catalog.objects.dataStore.has('mvr:other')).toBe(true);
  });

  test("while a write holds the lease, callers the master refuses (wrong credentials, none) get its 401 at once and hold nothing: the write after them runs", async () => {
    const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
    const master = geoservers.get(MASTER)!;
    await deadHolder(Date.now() + 60_000);
    try {
      const requestsBefore = master.requests.length;
      const started = Date.now();
      const strangers = await Promise.all(
        ['Basic ' + Buffer.from('admin:wrong').toString('base64'), 'Basic ' + Buffer.from('nobody:x').toString('base64'), undefined].map(async (authorization) => {
          const response = await fetch(`${cluster.spawned.url}/geoserver/rest/workspaces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
            body: JSON.stringify({ workspace: { name: 'stranger' } }),
          });
          const text = await response.text();
          await expectDocumented('POST', '/geoserver/rest/workspaces', response.status, response.headers.get('content-type'), text);
          return { status: response.status, challenge: response.headers.get('www-authenticate') };
        }),
      );
      // Answered before the held lease's wait (10 s) would have refused them with 503.
      expect(Date.now() - started).toBeLessThan(5000);
      for (const stranger of strangers) expect(stranger).toEqual({ status: 401, challenge: 'Basic realm="GeoServer Realm"' });
      // What reached the master: the check alone, with the caller's credentials; the object was never read.
      expect(new Set(master.requests.slice(requestsBefore).map((call) => `${call.method} ${call.path} ${call.status}`))).toEqual(new Set(['GET /geoserver/rest/about/version.json 401']));
      expect(master.catalog.objects.workspace.has('stranger')).toBe(false);
      // The lease is the dead holder's still: none of them took it or waited on it.
      const lease = await dynamo.send(new GetItemCommand({ TableName: table, Key: key(), ConsistentRead: true }));
      expect(lease.Item?.owner?.S).toBe('gateway-instance-that-crashed');
    } finally {
      await dynamo.send(new DeleteItemCommand({ TableName: table, Key: key() }));
    }
    const created = await write('POST', '/workspaces', { workspace: { name: 'after-strangers' } });
    expect(created.status).toBe(201);
    expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBeGreaterThan(head);
  });

  test('a write that cannot get the lease in time is refused with 503 and Retry-After and reaches nothing; reads are not held up', async () => {
    const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
    const master = geoservers.get(MASTER)!;
    await deadHolder(Date.now() + 60_000);
    try {
      const read = await rest('GET', '/workspaces/race.json');
      expect(read.status).toBe(200);
      const requestsBefore = master.requests.length;
      const refused = await rest('POST', '/workspaces', { workspace: { name: 'blocked' } });
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(5);
      expect(JSON.parse(refused.text)).toMatchObject({ code: 'GATEWAY_BUSY', message: expect.stringContaining('write lease') });
      // Nothing but the caller check, made before the lease (by an instance that had not asked yet).
      expect(master.requests.slice(requestsBefore).filter((call) => call.path !== '/geoserver/rest/about/version.json')).toEqual([]);
      expect(master.catalog.objects.workspace.has('blocked')).toBe(false);
    } finally {
      await dynamo.send(new DeleteItemCommand({ TableName: table, Key: key() }));
    }
    expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
  });
});

describe('limits', () => {
  const MiB = 1024 * 1024;
  const style = (bytes: number) => {
    const rule = '<Rule><LineSymbolizer><Stroke><CssParameter name="stroke">#333333</CssParameter></Stroke></LineSymbolizer></Rule>';
    const head = '<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"><NamedLayer><Name>big</Name><UserStyle><FeatureTypeStyle>';
    const tail = '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>';
    return head + rule.repeat(Math.ceil((bytes - head.length - tail.length) / rule.length)) + tail;
  };

  test('a body over the gateway limit is 413 naming the limit, and reaches nothing; over API Gateway\'s 10 MB the API refuses it', async () => {
    const master = geoservers.get(MASTER)!;
    const requestsBefore = master.requests.length;
    const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;

    const tooLarge = await rest('POST', '/styles?name=big&raw=true', style(5 * MiB + 1), 'application/vnd.ogc.sld+xml');
    expect(tooLarge.status).toBe(413);
    const error = JSON.parse(tooLarge.text);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'body' });
    expect(error.message).toContain('at most 5242880 bytes');
    expect(error.message).toMatch(/6 MB/);

    // the most the cluster replicates of one object: the master must not apply what no other node would
    const unreplicable = await rest('POST', '/styles?name=big&raw=true', style(MiB + 1), 'application/vnd.ogc.sld+xml');
    expect(unreplicable.status).toBe(413);
    expect(JSON.parse(unreplicable.text).message).toContain('at most 1048576 bytes');

    const overApiGateway = await rest('POST', '/styles?name=big&raw=true', style(10 * MiB + 1), 'application/vnd.ogc.sld+xml');
    expect(overApiGateway.status).toBe(413);

    expect(master.requests.length).toBe(requestsBefore);
    expect(master.catalog.objects.style.has('big')).toBe(false);
    expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);

    // under the limit it goes through and is published, document and all
    const fits = await write('POST', '/styles?name=big&raw=true', style(MiB - 64 * 1024), 'application/vnd.ogc.sld+xml');
    expect(fits.status).toBe(201);
    await converged();
    for (const slave of SLAVES) expect(geoservers.get(slave)!.catalog.styleBodies.get('big')?.bytes.equals(master.catalog.styleBodies.get('big')!.bytes)).toBe(true);
  });

  test('an answer of the master too large to return is 502 GEOSERVER_ANSWER_TOO_LARGE naming the limit, over the 20 MiB the gateway reads too: not GEOSERVER_UNAVAILABLE', async () => {
    const master = geoservers.get(MASTER)!;
    // Style documents uploaded to the master directly (the gateway takes no body that large).
    const direct = (method: string, path: string, body?: string) =>
      fetch(`${master.restUrl}${path}`, { method, headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/vnd.ogc.sld+xml' }) }, body });
    expect((await direct('POST', '/styles?name=over_returned&raw=true', style(5 * MiB))).status).toBe(201);
    expect((await direct('POST', '/styles?name=over_read&raw=true', style(21 * MiB))).status).toBe(201);
    try {
      const overReturned = await rest('GET', '/styles/over_returned.sld');
      expect(overReturned.status).toBe(502);
      expect(JSON.parse(overReturned.text)).toMatchObject({ code: 'GEOSERVER_ANSWER_TOO_LARGE', message: expect.stringContaining(`at most ${4 * MiB} bytes (4 MiB`) });
      const overRead = await rest('GET', '/styles/over_read.sld');
      expect(overRead.status).toBe(502);
      expect(JSON.parse(overRead.text)).toMatchObject({
        code: 'GEOSERVER_ANSWER_TOO_LARGE',
        message: expect.stringMatching(new RegExp(`answer to GET /styles/over_read.sld is .*over the ${20 * MiB} bytes \\(20 MiB\\) the gateway reads`)),
      });
    } finally {
      for (const name of ['over_returned', 'over_read']) expect((await direct('DELETE', `/styles/${name}?purge=true`)).status).toBe(200);
    }
  }, 60_000);

  test('a master that does not answer is 504 with a clear message before API Gateway gives up at 30 s', async () => {
    const master = geoservers.get(MASTER)!;
    const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
    await master.setDown('timeout');
    try {
      const started = Date.now();
      const [read, created] = await Promise.all([rest('GET', '/workspaces.json'), rest('POST', '/workspaces', { workspace: { name: 'never-answered' } })]);
      const elapsed = Date.now() - started;
      for (const answer of [read, created]) {
        expect(answer.status).toBe(504);
        expect(JSON.parse(answer.text)).toMatchObject({ code: 'GEOSERVER_TIMEOUT', message: expect.stringMatching(/did not answer .* within \d+ ms/) });
      }
      expect(JSON.parse(created.text).message).toMatch(/may still apply this write/);
      expect(elapsed).toBeLessThan(29_000);
    } finally {
      await master.setDown(null);
    }
    expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
  }, 60_000);
});

test('a caller outside cluster.gateway.allowedSourceIps is refused with 403 before anything reaches the master', async () => {
  const master = geoservers.get(MASTER)!;
  const requestsBefore = master.requests.length;
  const url = new URL(`${cluster.spawned.url}/geoserver/rest/workspaces.json`);
  // Linux routes all of 127/8 to the loopback interface: this connection comes from 127.0.0.2.
  const answer = await new Promise<{ status: number; contentType: string | null; body: string }>((resolve, reject) => {
    const request = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'GET', localAddress: '127.0.0.2', headers: { authorization: ADMIN, 'x-forwarded-for': '127.0.0.1' } },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'] ?? null, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
  expect(answer.status).toBe(403);
  expect(JSON.parse(answer.body)).toMatchObject({ code: 'SOURCE_NOT_ALLOWED', message: expect.stringContaining('127.0.0.2') });
  await expectDocumented('GET', url.pathname, answer.status, answer.contentType, answer.body);
  expect(master.requests.length).toBe(requestsBefore);
  // from the allowed address, the same call is forwarded
  expect((await rest('GET', '/workspaces.json')).status).toBe(200);
});

test("a node's cluster token sent to the gateway is refused with 401 CLUSTER_TOKEN and never reaches the master", async () => {
  const master = geoservers.get(MASTER)!;
  const requestsBefore = master.requests.length;
  const token = cluster.spawned.tokens[MASTER];
  expect(token).toBeDefined();
  const answer = await rest('POST', '/workspaces', { workspace: { name: 'by-token' } }, 'application/json', `Bearer ${token}`);
  expect(answer.status).toBe(401);
  expect(JSON.parse(answer.text)).toMatchObject({ code: 'CLUSTER_TOKEN', message: expect.stringContaining(`node ${MASTER}'s cluster token`) });
  expect(answer.text).not.toContain(token!.split('.')[1]);
  expect(master.requests.length).toBe(requestsBefore);
});

test("an operator's cluster token sent to the gateway is refused with 401 CLUSTER_TOKEN and never reaches the master either", async () => {
  const master = geoservers.get(MASTER)!;
  const requestsBefore = master.requests.length;
  const token = cluster.spawned.tokens[OPERATOR];
  expect(token).toBeDefined();
  const answer = await rest('GET', '/workspaces.json', undefined, 'application/json', `Bearer ${token}`);
  expect(answer.status).toBe(401);
  expect(JSON.parse(answer.text)).toMatchObject({ code: 'CLUSTER_TOKEN', message: expect.stringContaining(`${OPERATOR}'s cluster token`) });
  expect(answer.text).not.toContain(token!.split('.')[1]);
  expect(master.requests.length).toBe(requestsBefore);
});

test('an XML body in EBCDIC, which the DOCTYPE check cannot read, is refused with 400 XML_ENCODING on a path the cluster does not replicate, and never reaches the master', async () => {
  const master = geoservers.get(MASTER)!;
  const requestsBefore = master.requests.length;
  // Java's XML reader takes 4C 6F A7 94 ("<?xm" in EBCDIC) for EBCDIC and would expand the entity.
  const body = ebcdic('<?xml version="1.0" encoding="IBM037"?><!DOCTYPE user [<!ENTITY x SYSTEM "file:///etc/passwd">]><user><userName>&x;</userName><password>p</password></user>');
  for (const contentType of ['application/xml', 'text/plain']) {
    const answer = await rest('POST', '/security/usergroup/users', body, contentType);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ code: 'XML_ENCODING', field: 'body', message: expect.stringContaining('EBCDIC') });
  }
  expect(master.requests.length).toBe(requestsBefore);
});

test('a node with a GeoServer publishing through the JSON API is refused with 403 GEOSERVER_NODE: nothing is logged, so nothing can miss its GeoServer', async () => {
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
  const refused = await cluster.api('POST', '/config/events', { node: MASTER, json: { kind: 'add', object: { type: 'workspace', id: 'api_only' }, properties: { name: 'api_only' } } });
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({ code: 'GEOSERVER_NODE', message: expect.stringContaining('/geoserver/rest') });
  expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
});

test("a paused master's writes are refused with 409 NODE_PAUSED before they reach its GeoServer; reads still pass; resumed, writes are published again", async () => {
  const master = geoservers.get(MASTER)!;
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
  const paused = await cluster.api('POST', `/nodes/${MASTER}/pause`, { node: MASTER });
  expect(paused.status).toBe(200);
  try {
    const requestsBefore = master.requests.length;
    const refused = await rest('POST', '/workspaces', { workspace: { name: 'while_paused' } });
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'NODE_PAUSED', message: expect.stringContaining(`POST /nodes/${MASTER}/resume`) });
    // Nothing reached the master GeoServer, so nothing it applied can go unpublished.
    expect(master.requests.length).toBe(requestsBefore);
    expect(master.catalog.objects.workspace.has('while_paused')).toBe(false);
    // Reads change nothing and are forwarded as usual.
    expect((await rest('GET', '/workspaces.json')).status).toBe(200);
    expect((await cluster.api('GET', '/nodes', cluster.reader)).body.head).toBe(head);
  } finally {
    expect((await cluster.api('POST', `/nodes/${MASTER}/resume`, { node: MASTER })).status).toBe(200);
  }
  const accepted = await write('POST', '/workspaces', { workspace: { name: 'after_resume' } });
  // The workspace and the namespace GeoServer created with it, right after the head of before the pause.
  expect(accepted.headers.get('x-cluster-sequence')).toBe(`${head + 1},${head + 2}`);
  await converged();
  for (const slave of SLAVES) expect(geoservers.get(slave)!.catalog.objects.workspace.has('after_resume')).toBe(true);
});

test("the gateway keeps none of the caller's credentials: not in the functions' logs, not in any table", async () => {
  // A distinctive password the master refuses, and the administrator's own, both sent through the gateway.
  const stranger = 'Basic ' + Buffer.from('mallory:gw-secret-7f3a9c').toString('base64');
  const refused = await rest('POST', '/workspaces', { workspace: { name: 'creds_probe' } }, 'application/json', stranger);
  expect(refused.status).toBe(401);
  const created = await write('POST', '/workspaces', { workspace: { name: 'creds_probe' } });
  expect(created.status).toBe(201);
  const secrets = [ADMIN.slice('Basic '.length), stranger.slice('Basic '.length), 'gw-secret-7f3a9c', 'admin:geoserver'];

  // The local runtime writes every function's log lines to this file, as CloudWatch Logs would keep them.
  const logFile = path.resolve(__dirname, '..', '..', '..', '.local', 'integration-config-sync-gateway-cluster.log');
  let logged = '';
  for (let waited = 0; waited < 5000 && !logged.includes('/workspaces'); waited += 100) {
    logged = readFileSync(logFile, 'utf8').split('\n').filter((line) => line.includes('geoserver gateway call')).join('\n');
    if (!logged.includes('/workspaces')) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Not vacuous: the gateway logged these calls (method, path, status), just not who sent them.
  expect(logged).toContain('"path":"/workspaces"');
  for (const secret of secrets) expect({ secret, inLogs: readFileSync(logFile, 'utf8').includes(secret) }).toEqual({ secret, inLogs: false });

  const dynamo = new DynamoDBClient({ endpoint: cluster.spawned.emulators.dynamo, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    let items = 0;
    for (const table of (await dynamo.send(new ListTablesCommand({}))).TableNames ?? []) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        const text = JSON.stringify(page.Items ?? []);
        items += page.Items?.length ?? 0;
        for (const secret of secrets) expect({ table, secret, stored: text.includes(secret) }).toEqual({ table, secret, stored: false });
        start = page.LastEvaluatedKey;
      } while (start);
    }
    expect(items).toBeGreaterThan(0); // the log, the stores and the lease were read
  } finally {
    dynamo.destroy();
  }
});
