/**
 * A workspace or store renamed through the gateway while it holds objects: what the gateway finds
 * moved in the master's store, what it publishes and in which order. Over real HTTP against two
 * stand-in GeoServers: the master behind the gateway, and another node whose GeoServer every
 * published change is applied to as a node applies it (geoserver/apply.ts), so the order is held
 * to what a GeoServer accepts (a non-empty workspace or store refused without recurse, a second
 * namespace with the same URI refused). After each rename the other node equals the master.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { CachedCredentials, HttpGeoServer } from '../../../../lambdas/config-sync/adapters/geoserver-http';
import { objectStorageKey, type ConfigChange } from '../../../../lambdas/config-sync/events';
import { applyToGeoServer } from '../../../../lambdas/config-sync/geoserver/apply';
import { handleGatewayCall, type GatewayRequest } from '../../../../lambdas/config-sync/gateway/gateway';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { mentionsWorkspace, movedChildren } from '../../../../lambdas/config-sync/gateway/moved-children';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { mergePatchObject, type JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

let master: GeoServerStandIn;
let other: GeoServerStandIn;
let storing: ReturnType<typeof storingPublisher>;
/** What the other node's store holds: its GeoServer is sent each change's whole object, as apply.ts does. */
let otherStore: Map<string, JsonObject>;

beforeEach(async () => {
  master = await startGeoServerStandIn();
  other = await startGeoServerStandIn();
  storing = storingPublisher();
  otherStore = new Map();
});
afterEach(async () => {
  const violations = [...master.violations, ...other.violations];
  await master.close();
  await other.close();
  expect(violations).toEqual([]);
});

/** Publishes to the master's store, and applies the change to the other node's GeoServer (refusals fail the test). */
const publisher = {
  async publish(change: ConfigChange): Promise<number> {
    const sequence = await storing.publish(change);
    const rest = new HttpGeoServer({ url: other.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })) });
    const key = objectStorageKey(change.object);
    const before = otherStore.get(key);
    const { type, id } = change.object;
    const outcome =
      change.kind === 'remove'
        ? await applyToGeoServer(rest, { kind: 'remove', type, id, properties: before ?? {}, recurse: change.recurse === true }, { rejectionAttempts: 1 })
        : await applyToGeoServer(
            rest,
            {
              kind: 'upsert',
              type,
              id,
              properties: change.kind === 'add' ? change.properties : mergePatchObject(before, change.patch),
              incomplete: false,
              deleted: [],
            },
            { rejectionAttempts: 1 },
          );
    if (outcome.kind === 'rejected') throw new Error(`the other GeoServer refused ${change.kind} ${type} ${id}: ${outcome.status} ${outcome.answer}`);
    if (change.kind === 'remove') otherStore.delete(key);
    else otherStore.set(key, change.kind === 'add' ? change.properties : mergePatchObject(before, change.patch));
    return sequence;
  },
};

function send(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const [pathPart, query = ''] = path.split('?') as [string, string?];
  const request: GatewayRequest = {
    method,
    path: pathPart,
    query,
    headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
  const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
  return handleGatewayCall(upstream, publisher, request, {
    styleUsers: styleUsersInStore(storing.store, MASTER_NODE),
    catalog: catalogInStore(storing.store, MASTER_NODE),
    readBack: masterView(upstream),
  });
}

async function ok(method: string, path: string, body?: unknown, contentType?: string) {
  const answer = await send(method, path, body, contentType);
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.body.toString('utf8')}`);
  return answer;
}

/** Every object of a stand-in's catalog, links left out (they carry each GeoServer's host). */
function snapshot(geoserver: GeoServerStandIn): unknown {
  return JSON.parse(
    JSON.stringify(Object.fromEntries(Object.entries(geoserver.catalog.objects).map(([type, map]) => [type, Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)))])), (key, value) =>
      key === 'href' ? undefined : value,
    ),
  );
}

/** A workspace with a store, two feature types and their layers, a workspace style, a workspace group, workspace settings; a global group naming one of its layers. */
async function seed(): Promise<void> {
  await ok('POST', '/workspaces', { workspace: { name: 'topp' } });
  await ok('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await ok('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads' } });
  await ok('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } });
  await ok('POST', '/workspaces/topp/styles?name=thin&raw=true', '<StyledLayerDescriptor version="1.0.0"/>', 'application/vnd.ogc.sld+xml');
  await ok('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'transport', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } });
  await ok('POST', '/layergroups', { layerGroup: { name: 'water', publishables: { published: [{ '@type': 'layer', name: 'topp:rivers' }] } } });
  await ok('POST', '/workspaces/topp/settings', { settings: { charset: 'UTF-8', numDecimals: 4 } });
  expect(snapshot(other)).toEqual(snapshot(master));
  storing.published.length = 0;
}

const listed = (changes: readonly ConfigChange[]) => changes.map((change) => `${change.kind} ${change.object.type}/${change.object.id}${change.kind === 'remove' && change.recurse ? ' recurse' : ''}`);

describe('a store rename', () => {
  it('publishes the new store, the old one removed with recurse, its resources and layers under the new store, then the groups naming them', async () => {
    await seed();
    const answer = await ok('PUT', '/workspaces/topp/datastores/pg', { dataStore: { name: 'pg2' } });
    expect(answer.replication).toBe('published');
    expect(listed(storing.published)).toEqual([
      'add dataStore/topp:pg2',
      'remove dataStore/topp:pg recurse',
      'add featureType/topp:rivers',
      'add featureType/topp:roads',
      'add layer/topp:rivers',
      'add layer/topp:roads',
      'modify layerGroup/topp:transport',
      'modify layerGroup/water',
    ]);
    expect(storing.published[2]).toMatchObject({ properties: { store: { name: 'topp:pg2' } } });
    // every group the removal took the layers out of is whole again, as the master holds it
    expect(snapshot(other)).toEqual(snapshot(master));
    expect(answer.headers['x-cluster-sequence']?.split(',')).toHaveLength(8);
  });
});

describe('a workspace rename', () => {
  it('publishes the new workspace, everything in it under the new name, the groups elsewhere naming it, the old one removed with recurse, then the namespace', async () => {
    await seed();
    const answer = await ok('PUT', '/workspaces/topp', { workspace: { name: 'tipp' } });
    expect(answer.replication).toBe('published');
    expect(listed(storing.published)).toEqual([
      'add workspace/tipp',
      'add dataStore/tipp:pg',
      'add style/tipp:thin',
      'add featureType/tipp:rivers',
      'add featureType/tipp:roads',
      'add layer/tipp:rivers',
      'add layer/tipp:roads',
      'add layerGroup/tipp:transport',
      'modify workspaceSettings/tipp',
      'modify layerGroup/water',
      'remove workspace/topp recurse',
      'remove namespace/topp',
      // it keeps the URI the old one had, which no other namespace may hold at the same time
      'add namespace/tipp',
    ]);
    expect(storing.published.at(-1)).toMatchObject({ properties: { prefix: 'tipp', uri: 'http://topp' } });
    expect(storing.published.find((change) => change.object.id === 'water')).toMatchObject({ patch: { publishables: { published: [{ name: 'tipp:rivers' }] } } });
    // the style is published with its document
    expect(storing.published[2]).toMatchObject({ properties: { body: '<StyledLayerDescriptor version="1.0.0"/>' } });
    expect(snapshot(other)).toEqual(snapshot(master));
    expect(other.catalog.styleBodies.get('tipp:thin')?.bytes.toString('utf8')).toBe('<StyledLayerDescriptor version="1.0.0"/>');
  });

  it('without the lookup (the former behaviour) the other GeoServer refuses the removal of the old, non-empty workspace (403 Workspace not empty)', async () => {
    await seed();
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const bare = await handleGatewayCall(
      upstream,
      publisher,
      { method: 'PUT', path: '/workspaces/topp', query: '', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ workspace: { name: 'tipp' } })) },
      { readBack: masterView(upstream) },
    );
    expect({ replication: bare.replication, error: bare.error }).toEqual({ replication: 'publish-failed', error: expect.stringContaining('refused remove workspace topp: 403 Workspace not empty') });
  });
});

describe('what moved, found in the master store', () => {
  it('reads one workspace as a key range and leaves out objects of workspaces whose name it begins', async () => {
    await seed();
    await ok('POST', '/workspaces', { workspace: { name: 'toppings' } });
    await ok('POST', '/workspaces/toppings/datastores', { dataStore: { name: 'pg' } });
    const moved = await movedChildren(catalogInStore(storing.store, MASTER_NODE), { type: 'workspace', from: 'topp', to: 'tipp' });
    expect(moved.map((child) => `${child.type}/${child.oldId}>${child.id} ${child.path}`)).toEqual([
      'dataStore/topp:pg>tipp:pg /workspaces/tipp/datastores/pg',
      'style/topp:thin>tipp:thin /workspaces/tipp/styles/thin',
      'featureType/topp:rivers>tipp:rivers /workspaces/tipp/datastores/pg/featuretypes/rivers',
      'featureType/topp:roads>tipp:roads /workspaces/tipp/datastores/pg/featuretypes/roads',
      'layer/topp:rivers>tipp:rivers /layers/tipp%3Arivers',
      'layer/topp:roads>tipp:roads /layers/tipp%3Aroads',
      'layerGroup/topp:transport>tipp:transport /workspaces/tipp/layergroups/transport',
      'workspaceSettings/topp>tipp /workspaces/tipp/settings',
    ]);
  });

  it('tells a reference into a workspace from a name that only begins like it', () => {
    expect(mentionsWorkspace({ publishables: { published: [{ name: 'topp:roads' }] } }, 'topp')).toBe(true);
    expect(mentionsWorkspace({ styles: { style: [{ name: 'thin', workspace: { name: 'topp' } }] } }, 'topp')).toBe(true);
    expect(mentionsWorkspace({ publishables: { published: [{ name: 'toppings:roads' }] }, workspace: { name: 'toppings' } }, 'topp')).toBe(false);
  });
});
