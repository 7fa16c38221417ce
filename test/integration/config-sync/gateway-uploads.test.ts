/**
 * File uploads into stores through the gateway, over real HTTP on a spawned local cluster: what
 * GeoServer makes of an upload (the store, its feature type or coverage, and its layer) is known
 * only on the master, so a successful upload starts a capture of the master, named in the answer,
 * and once that job ends every slave's GeoServer holds what the master's made. A refused upload
 * starts no job.
 */
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { SyncCluster } from './scenario-support';

jest.setTimeout(180_000);

const MASTER = 'gs-main';
const SLAVE = 'gs-1';
const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

let cluster: SyncCluster;
const geoservers = new Map<string, GeoServerStandIn>();

beforeAll(async () => {
  for (const node of [MASTER, SLAVE]) geoservers.set(node, await startGeoServerStandIn());
  cluster = await SyncCluster.start(
    'uploads',
    [
      { name: MASTER, role: 'both', geoserver: { url: geoservers.get(MASTER)!.url, credentialsSecret: `local/${MASTER}` } },
      { name: SLAVE, role: 'slave', geoserver: { url: geoservers.get(SLAVE)!.url, credentialsSecret: `local/${SLAVE}` } },
    ],
    'config-sync-uploads',
    { gateway: { enabled: true } },
  );
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  for (const geoserver of geoservers.values()) {
    expect(geoserver.violations).toEqual([]);
    await geoserver.close();
  }
});

async function rest(method: string, path: string, body?: string | object, contentType = 'application/json') {
  const response = await fetch(`${cluster.spawned.url}/geoserver/rest${path}`, {
    method,
    headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Waits until the job has ended (SyncCluster.jobEnded). */
const jobEnded = (node: string, id: string, timeoutMs?: number) => cluster.jobEnded(node, id, timeoutMs);

async function converged(): Promise<void> {
  const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
  await cluster.waitForNodes(`${SLAVE} applied every event up to ${head}`, (answer) => answer.nodes.find((node) => node.name === SLAVE)?.lastAppliedSequence === head);
}

test("an upload through the gateway ends with the slave's GeoServer holding the new store, feature type and layer, through a capture of the master", async () => {
  expect((await rest('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);

  const upload = await rest('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp', 'text/plain');
  expect(upload.status).toBe(201);
  expect(upload.headers.get('x-cluster-replicated')).toBe('capture');
  const id = upload.headers.get('x-cluster-job');
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  // A second upload right after: joined to that capture while it has not begun, queued after it otherwise.
  const raster = await rest('PUT', '/workspaces/topp/coveragestores/dem/url.geotiff', 'https://data.example.org/dem.tif', 'text/plain');
  expect([raster.status, raster.headers.get('x-cluster-replicated')]).toEqual([201, 'capture']);
  const rasterJob = raster.headers.get('x-cluster-job')!;

  const ended = await jobEnded(MASTER, id!);
  expect(ended).toMatchObject({ kind: 'capture', state: 'succeeded', requestedBy: MASTER, error: null });
  if (rasterJob !== id) expect(await jobEnded(MASTER, rasterJob)).toMatchObject({ kind: 'capture', state: 'succeeded' });
  await converged();

  const slave = geoservers.get(SLAVE)!.catalog.objects;
  expect(slave.dataStore.get('topp:roads')).toMatchObject({ type: 'Shapefile', connectionParameters: { entry: expect.arrayContaining([{ '@key': 'url', $: 'file:/srv/gis/roads.shp' }]) } });
  expect(slave.featureType.get('topp:roads')).toMatchObject({ name: 'roads', store: { name: 'topp:roads' } });
  expect(slave.layer.get('topp:roads')).toMatchObject({ resource: { name: 'topp:roads' } });
  expect(slave.coverageStore.get('topp:dem')).toMatchObject({ type: 'GeoTIFF', url: 'file:data/dem.geotiff' });
  expect(slave.coverage.has('topp:dem')).toBe(true);
  expect(slave.layer.has('topp:dem')).toBe(true);
});

test('a refused upload starts no job', async () => {
  const masterJob = async (): Promise<{ id: string } | null> => ((await cluster.api('GET', '/nodes', cluster.reader)).body.nodes as any[]).find((node) => node.name === MASTER)?.job;
  const before = await masterJob();
  const refused = await rest('PUT', '/workspaces/topp/datastores/rivers/external.dwg', '/srv/gis/rivers.dwg', 'text/plain');
  expect(refused.status).toBe(400);
  expect(refused.text).toContain('Unsupported format: dwg');
  expect(refused.headers.get('x-cluster-replicated')).toBe('false');
  expect(refused.headers.get('x-cluster-job')).toBeNull();
  const after = await masterJob();
  expect(after?.id).toBe(before?.id);
  expect(geoservers.get(MASTER)!.catalog.objects.dataStore.has('topp:rivers')).toBe(false);
});

test('an upload into a store the cluster cannot name (white space, a "+" the master reads as a space, a ":") is 400 naming the store, reaches nothing and starts no job', async () => {
  const masterJob = async (): Promise<{ id: string } | null> => ((await cluster.api('GET', '/nodes', cluster.reader)).body.nodes as any[]).find((node) => node.name === MASTER)?.job;
  expect((await rest('POST', '/workspaces', { workspace: { name: 'named' } })).status).toBe(201);
  const before = await masterJob();
  const master = geoservers.get(MASTER)!;
  const requestsBefore = master.requests.length;
  for (const [path, store] of [
    ['/workspaces/named/datastores/my%20roads/external.shp', 'named:my roads'],
    ['/workspaces/named/datastores/my+roads/external.shp', 'named:my roads'],
    ['/workspaces/named/coveragestores/my:dem/url.geotiff', 'named:my:dem'],
  ] as const) {
    const refused = await rest('PUT', path, path.includes('coveragestores') ? 'https://data.example.org/dem.tif' : '/srv/gis/roads.shp', 'text/plain');
    expect({ path, status: refused.status, job: refused.headers.get('x-cluster-job'), text: refused.text }).toEqual({
      path,
      status: 400,
      job: null,
      // naming the store as the path gives it, or as the master would read it
      text: expect.stringMatching(/"code":"(NOT_REPLICABLE|INVALID_PATH)".*my(\+| |:)(roads|dem)/),
    });
    expect(master.catalog.objects.dataStore.has(store) || master.catalog.objects.coverageStore.has(store)).toBe(false);
  }
  expect(master.requests.length).toBe(requestsBefore);
  expect((await masterJob())?.id).toBe(before?.id);
});
