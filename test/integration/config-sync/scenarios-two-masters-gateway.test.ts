/**
 * A GeoServer master behind the REST gateway beside a second master: a gateway write and the
 * other master's earlier change of the same object, applied late on the gateway's node (its
 * apply function paused for a moment), end the same on every GeoServer and in every store. The
 * other master's change reaches the master's GeoServer as a whole-object PUT that does not hold
 * the gateway's write yet, so the gateway's own event must go to that GeoServer again after it.
 */
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { FAST_RETRY_ENV, SyncCluster } from './scenario-support';

jest.setTimeout(180_000);

const MASTER = 'gs-main';
const OTHER_MASTER = 'admin';
const SLAVE = 'gs-1';
const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

let cluster: SyncCluster;
const geoservers = new Map<string, GeoServerStandIn>();

beforeAll(async () => {
  for (const node of [MASTER, SLAVE]) geoservers.set(node, await startGeoServerStandIn());
  cluster = await SyncCluster.start(
    'twomasters',
    [
      { name: MASTER, role: 'both', geoserver: { url: geoservers.get(MASTER)!.url, credentialsSecret: `local/${MASTER}` } },
      { name: OTHER_MASTER, role: 'master' },
      { name: SLAVE, role: 'slave', geoserver: { url: geoservers.get(SLAVE)!.url, credentialsSecret: `local/${SLAVE}` } },
    ],
    'config-sync-two-masters',
    { gateway: { enabled: true, allowedSourceIps: ['127.0.0.1/32', '::1'] } },
    FAST_RETRY_ENV,
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  for (const geoserver of geoservers.values()) {
    const { violations } = geoserver;
    await geoserver.close();
    expect(violations).toEqual([]);
  }
});

async function rest(method: string, path: string, body: object): Promise<number> {
  const response = await fetch(`${cluster.spawned.url}/geoserver/rest${path}`, {
    method,
    headers: { authorization: ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

async function everyNodeAt(head: number): Promise<void> {
  await cluster.waitForNodes(`every node at ${head}`, (answer) => answer.nodes.every((node) => node.lastAppliedSequence === head));
}

/** The data store `topp:pg` as a GeoServer stand-in holds it. */
function dataStoreIn(node: string): Record<string, unknown> {
  const stores = geoservers.get(node)!.catalog.objects.dataStore as unknown as Map<string, Record<string, unknown>>;
  const [only] = [...stores.values()];
  if (!only) throw new Error(`${node}'s GeoServer holds no data store`);
  return only;
}

test("a gateway write and another master's earlier change of the same object, applied late, end the same everywhere", async () => {
  expect(await rest('POST', '/workspaces', { workspace: { name: 'topp' } })).toBe(201);
  expect(await rest('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', type: 'PostGIS', enabled: true, connectionParameters: { entry: [{ '@key': 'host', $: 'db' }] } } })).toBe(201);
  await everyNodeAt((await cluster.status()).head);

  // gs-main's apply function falls behind for a moment (its poller stopped; its queue keeps receiving).
  await cluster.pause(MASTER);
  const other = await cluster.publish(OTHER_MASTER, { kind: 'modify', object: { type: 'dataStore', id: 'topp:pg' }, patch: { description: 'from admin' } });
  // An administrator disables the store through the gateway: forwarded to gs-main's GeoServer, published as gs-main's.
  expect(await rest('PUT', '/workspaces/topp/datastores/pg', { dataStore: { enabled: false } })).toBe(200);
  const head = (await cluster.status()).head;
  expect(head).toBeGreaterThan(other.sequence);
  await cluster.resume(MASTER);
  await everyNodeAt(head);

  for (const node of [MASTER, OTHER_MASTER, SLAVE]) {
    expect({ node, store: (await cluster.objectOf(node, 'dataStore', 'topp:pg')).body.properties }).toMatchObject({
      node,
      store: { enabled: false, description: 'from admin' },
    });
  }
  for (const node of [MASTER, SLAVE]) {
    expect({ node, geoserver: dataStoreIn(node) }).toMatchObject({ node, geoserver: { enabled: false, description: 'from admin' } });
  }
});
