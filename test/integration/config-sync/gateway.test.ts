/**
 * The cluster as a GeoServer REST endpoint, over real HTTP on a spawned local cluster: an
 * administrator's session of standard REST calls sent to `<cluster>/geoserver/rest/...` is
 * forwarded to the master's GeoServer (a stand-in that checks every request against GeoServer's
 * REST reference), what it applied is published, and every slave's GeoServer ends equal to the
 * master's. A refused write publishes nothing; an unmanaged path is forwarded and flagged.
 */
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { SyncCluster } from './scenario-support';

jest.setTimeout(120_000);

const MASTER = 'gs-main';
const SLAVES = ['gs-1', 'gs-2'];
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
    { gateway: { enabled: true } },
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  for (const geoserver of geoservers.values()) await geoserver.close();
});

async function rest(method: string, path: string, body?: string | object, contentType = 'application/json', authorization = ADMIN) {
  const response = await fetch(`${cluster.spawned.url}/geoserver/rest${path}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

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
  const head = (await cluster.api('GET', '/nodes')).body.head as number;
  await cluster.waitForNodes(`slaves applied every event up to ${head}`, (answer) =>
    SLAVES.every((name) => answer.nodes.find((node) => node.name === name)?.lastAppliedSequence === head),
  );
}

test("an administrator's REST session through the gateway configures every slave GeoServer like the master's", async () => {
  const before = (await cluster.api('GET', '/nodes')).body.head as number;

  await write('POST', '/workspaces', { workspace: { name: 'topp' } });
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
  const firstStep = await rest('POST', '/styles', { style: { name: 'rivers', filename: 'rivers.sld' } });
  expect(firstStep.status).toBe(201);
  await write('PUT', '/styles/rivers?raw=true', se11('rivers'), 'application/vnd.ogc.se+xml');
  await write('POST', '/workspaces/topp/styles?name=topp-lines&raw=true', sld10('topp-lines'), 'application/vnd.ogc.sld+xml');
  await write('PUT', '/layers/topp:roads', { layer: { defaultStyle: { name: 'roads' } } });
  await write('POST', '/layergroups', { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } });

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
  for (const slave of SLAVES) {
    expect(snapshot(geoservers.get(slave)!)).toEqual(master);
  }
  for (const geoserver of geoservers.values()) expect(geoserver.violations).toEqual([]);
  expect(((await cluster.api('GET', '/nodes')).body.head as number) - before).toBeGreaterThan(15);
});

test('a write the master refuses publishes nothing; an unmanaged path is forwarded and flagged', async () => {
  const head = (await cluster.api('GET', '/nodes')).body.head as number;
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

  expect((await cluster.api('GET', '/nodes')).body.head).toBe(head);
});
