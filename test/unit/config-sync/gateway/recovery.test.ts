/**
 * The gateway's crash window closed by the next holder of the write lease (gateway/recovery.ts):
 * a write records its intent with the lease before it is forwarded and clears it once its changes
 * are in the log; one left behind is published, from what the master holds, before the next
 * write's own changes. Against a stand-in master GeoServer over real HTTP, the lease in memory
 * with the DynamoDB adapter's rules, and a master store that follows each publish.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { handleGatewayCall, readerFor, type GatewayRequest, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { gatewayRecovery, intentOf, staleIntents, uploadIntentOf } from '../../../../lambdas/config-sync/gateway/recovery';
import { classifyRestPath, type ManagedPath, type UnmanagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import { STALE_INTENT_MS, UPLOAD_SETTLE_MS } from '../../../../lambdas/config-sync/gateway/limits';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
const SLD = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';

function request(method: string, path: string, body?: unknown, contentType = 'application/json', authorization = ADMIN): GatewayRequest {
  const [pathPart, query = ''] = path.split('?') as [string, string?];
  return {
    method,
    path: pathPart,
    query,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

describe('what a write records before it is forwarded', () => {
  const intent = (method: string, path: string, body?: unknown, contentType?: string) => {
    const call = request(method, path, body, contentType);
    return intentOf(classifyRestPath(call.path) as ManagedPath, method, call);
  };

  it('a POST naming its object: the object, with what GeoServer creates along', () => {
    expect(intent('POST', '/workspaces', { workspace: { name: 'topp' } })).toEqual({
      method: 'POST',
      path: '/workspaces',
      objects: [
        { type: 'workspace', id: 'topp', path: '/workspaces/topp' },
        { type: 'namespace', id: 'topp', path: '/namespaces/topp' },
      ],
    });
    expect(intent('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } }).objects).toEqual([
      { type: 'featureType', id: 'topp:roads', path: '/workspaces/topp/datastores/pg/featuretypes/roads' },
      { type: 'layer', id: 'topp:roads', path: '/layers/topp%3Aroads' },
    ]);
    expect(intent('POST', '/workspaces/topp/styles?name=lines&raw=true', SLD, 'application/vnd.ogc.sld+xml').objects).toEqual([
      { type: 'style', id: 'topp:lines', path: '/workspaces/topp/styles/lines' },
    ]);
  });

  it('a POST whose name it cannot read beforehand: the collection', () => {
    expect(intent('POST', '/workspaces', '<workspace><name>topp</name></workspace>', 'application/xml')).toEqual({
      method: 'POST',
      path: '/workspaces',
      objects: [],
      collections: ['/workspaces'],
    });
    expect(intent('POST', '/styles?raw=true', SLD, 'application/vnd.ogc.sld+xml').collections).toEqual(['/styles']);
    // GeoServer reads ?name= for a style file only: a representation's name is in its body.
    expect(intent('POST', '/styles?name=ok', '<style><name>lines</name></style>', 'application/xml')).toEqual({
      method: 'POST',
      path: '/styles',
      objects: [],
      collections: ['/styles'],
    });
  });

  it('a PUT: the object, what a JSON body renames it to, or its collection when an XML body may rename it', () => {
    expect(intent('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'x' } }).objects).toEqual([
      { type: 'dataStore', id: 'topp:pg', path: '/workspaces/topp/datastores/pg' },
    ]);
    expect(intent('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { name: 'streets' } }).objects.map((o) => `${o.type}/${o.id}`)).toEqual([
      'featureType/topp:roads',
      'layer/topp:roads',
      'featureType/topp:streets',
      'layer/topp:streets',
    ]);
    expect(intent('PUT', '/styles/roads.xml', '<style><name>streets</name></style>', 'application/xml')).toMatchObject({
      objects: [{ type: 'style', id: 'roads' }],
      collections: ['/styles'],
    });
    // A new name ending as an extension does is that whole name, as the gateway publishes it.
    expect(intent('PUT', '/workspaces/topp/datastores/pg', { dataStore: { name: 'pg.xml' } }).objects).toEqual([
      { type: 'dataStore', id: 'topp:pg', path: '/workspaces/topp/datastores/pg' },
      { type: 'dataStore', id: 'topp:pg.xml', path: '/workspaces/topp/datastores/pg.xml' },
    ]);
    expect(intent('POST', '/workspaces', { workspace: { name: 'w.css' } }).objects.map((o) => `${o.type}/${o.id}`)).toEqual(['workspace/w.css', 'namespace/w.css']);
    // a style's document is not its info: no rename
    expect(intent('PUT', '/styles/roads?raw=true', SLD, 'application/vnd.ogc.sld+xml').collections).toBeUndefined();
    expect(intent('PUT', '/settings/contact', { contact: { contactPerson: 'Ops' } }).objects).toEqual([{ type: 'global', id: 'global', path: '/settings' }]);
  });

  it('a DELETE: the object and its recurse', () => {
    expect(intent('DELETE', '/workspaces/topp?recurse=true')).toEqual({ method: 'DELETE', path: '/workspaces/topp', recurse: true, objects: [{ type: 'workspace', id: 'topp', path: '/workspaces/topp' }, { type: 'namespace', id: 'topp', path: '/namespaces/topp' }] });
    // As GeoServer binds it: any spelling of true.
    expect(intent('DELETE', '/workspaces/topp?recurse=On').recurse).toBe(true);
  });
});

describe('an unfinished write is published by the next holder of the lease', () => {
  let master: GeoServerStandIn;
  let lease: MemoryWriteLease;
  let storing: ReturnType<typeof storingPublisher>;
  let failures: unknown[];

  beforeEach(async () => {
    master = await startGeoServerStandIn();
    lease = new MemoryWriteLease();
    storing = storingPublisher();
    failures = [];
  });
  afterEach(async () => {
    expect(master.violations).toEqual([]);
    await master.close();
  });

  function gateway(upstream: Upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024)) {
    const writes = leaseSerializer(lease, { waitMs: 1000, ttlMs: 30_000, onRecoveryFailure: (error) => failures.push(error) });
    const styleUsers = styleUsersInStore(storing.store, MASTER_NODE);
    const catalog = catalogInStore(storing.store, MASTER_NODE);
    const recovery = gatewayRecovery({ stored: (refs) => storing.store.readObjects(MASTER_NODE, refs), styleUsers, catalog, publisher: storing });
    return (call: GatewayRequest) => handleGatewayCall(upstream, storing, call, { writes, styleUsers, catalog, recovery, readBack: masterView(upstream) });
  }
  const changes = () => storing.published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`);
  /** A write that reached the master and died there: its intent left under an expired lease. */
  const die = async (method: string, path: string, body?: unknown) => {
    const dead = request(method, path, body);
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, method, dead);
    const init = { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: dead.body };
    expect((await fetch(`${master.restUrl}${path}`, init)).status).toBeLessThan(300);
    lease.holder = { owner: 'dead', until: 0 };
    lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString() });
  };

  it('a write whose log append failed keeps its intent; the next write publishes its change first, then its own', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    expect(lease.intents.size).toBe(0); // finished writes leave nothing
    storing.published.length = 0;

    storing.failing = new Error('log unavailable');
    const failed = await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'lost' } }));
    expect(failed).toMatchObject({ status: 200, replication: 'publish-failed' });
    expect([...lease.intents.values()]).toEqual([expect.objectContaining({ method: 'PUT', path: '/workspaces/topp/datastores/pg', objects: [{ type: 'dataStore', id: 'topp:pg', path: '/workspaces/topp/datastores/pg' }] })]);
    expect(lease.holder).toBeUndefined();

    storing.failing = undefined;
    const next = await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'other' } }));
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add dataStore/topp:other']);
    expect(storing.published[0]).toMatchObject({ patch: { description: 'lost' } });
    expect(next).toMatchObject({ replication: 'published', sequences: [5], recovered: { intents: 1, sequences: [4] } });
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it('a move to another store whose log append failed: the next write publishes the resource read under its new store, never its removal', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg2' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads' } }));
    storing.published.length = 0;

    storing.failing = new Error('log unavailable');
    const moved = await send(request('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { store: { name: 'topp:pg2' } } }));
    expect(moved).toMatchObject({ status: 200, replication: 'publish-failed' });
    expect([...lease.intents.values()][0]?.objects[0]).toEqual({
      type: 'featureType',
      id: 'topp:roads',
      path: '/workspaces/topp/datastores/pg/featuretypes/roads',
      movedTo: '/workspaces/topp/datastores/pg2/featuretypes/roads',
    });

    storing.failing = undefined;
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'other' } }));
    expect(changes()).toEqual(['modify featureType/topp:roads', 'add dataStore/topp:other']);
    expect(storing.published[0]).toMatchObject({ patch: { store: { name: 'topp:pg2' } } });
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it("a write whose process died after the master applied it (its lease expired, its intent left): the next write publishes the master's state first", async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    storing.published.length = 0;
    // The dead write: a feature type created, its lease (expired) and intent left.
    const dead = request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads' } });
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, 'POST', dead);
    expect((await fetch(`${master.restUrl}/workspaces/topp/datastores/pg/featuretypes`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: dead.body })).status).toBe(201);
    lease.holder = { owner: 'dead', until: 0 };
    lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString() });

    await send(request('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { title: 'Main roads' } }));
    // the dead write's feature type and layer, as the master holds them now, then this write's change
    expect(changes()).toEqual(['add featureType/topp:roads', 'add layer/topp:roads', 'modify featureType/topp:roads']);
    expect(storing.published[0]).toMatchObject({ properties: { name: 'roads', title: 'Roads' } });
    expect(lease.intents.size).toBe(0);
  });

  // LayerGroupController.layerGroupPut refuses another name (403, "Can't change name of a layer
  // group"): such a write never changes the master, so it leaves nothing to recover.
  it('a layer group rename is refused by the master (403) and publishes nothing, leaving no intent', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } }));
    await send(request('POST', '/layergroups', { layerGroup: { name: 'inner', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } }));
    await send(request('POST', '/layergroups', { layerGroup: { name: 'outer', publishables: { published: [{ '@type': 'layerGroup', name: 'inner' }] } } }));
    storing.published.length = 0;
    const refused = await send(request('PUT', '/layergroups/inner', { layerGroup: { name: 'renamed' } }));
    expect({ status: refused.status, body: String(refused.body) }).toEqual({ status: 403, body: "Can't change name of a layer group" });
    await send(request('POST', '/workspaces', { workspace: { name: 'sf' } }));
    expect(changes()).toEqual(['add workspace/sf', 'add namespace/sf']);
    expect([...master.catalog.objects.layerGroup.keys()].sort()).toEqual(['inner', 'outer']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it('a feature type rename that died: recovery publishes the new one and its layer, the groups that held the old layer naming the new one, then the old ones removed', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } }));
    await send(request('POST', '/layergroups', { layerGroup: { name: 'entries', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } }));
    await send(request('POST', '/layergroups', { layerGroup: { name: 'eo', mode: 'EO', rootLayer: { name: 'topp:roads' }, publishables: { published: [{ '@type': 'layer', name: 'topp:rivers' }] } } }));
    storing.published.length = 0;
    await die('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { name: 'streets' } });
    await send(request('POST', '/workspaces', { workspace: { name: 'sf' } }));
    expect(changes()).toEqual([
      'add featureType/topp:streets',
      'add layer/topp:streets',
      'modify layerGroup/entries',
      'modify layerGroup/eo',
      'remove layer/topp:roads',
      'remove featureType/topp:roads',
      'add workspace/sf',
      'add namespace/sf',
    ]);
    expect(storing.published[3]).toMatchObject({ patch: { rootLayer: { name: 'topp:streets' } } });
    expect(failures).toEqual([]);
  });

  it("a namespace's POST and DELETE that died: recovery publishes the workspace GeoServer created and removed with it, in the gateway's order", async () => {
    const send = gateway();
    await die('POST', '/namespaces', { namespace: { prefix: 'sf', uri: 'urn:sf' } });
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    expect(changes()).toEqual(['add workspace/sf', 'add namespace/sf', 'add workspace/topp', 'add namespace/topp']);
    storing.published.length = 0;
    await die('DELETE', '/namespaces/sf');
    await send(request('DELETE', '/workspaces/topp'));
    expect(changes()).toEqual(['remove namespace/sf', 'remove workspace/sf', 'remove workspace/topp', 'remove namespace/topp']);
    expect(lease.intents.size).toBe(0);
  });

  it("a namespace PUT and a workspace DELETE that died: recovery publishes what GeoServer's consistency listener changed along, in the gateway's order", async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'sf' } }));
    const shp = { name: 'shp', connectionParameters: { entry: [{ '@key': 'namespace', $: 'http://sf' }] } };
    await send(request('POST', '/workspaces/sf/datastores', { dataStore: shp }));
    await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } }));
    storing.published.length = 0;
    await die('PUT', '/namespaces/sf', { namespace: { uri: 'urn:sf', isolated: true } });
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    expect(changes()).toEqual(['modify workspace/sf', 'modify namespace/sf', 'modify dataStore/sf:shp', 'add workspace/topp', 'add namespace/topp']);
    storing.published.length = 0;
    await die('DELETE', '/workspaces/sf?recurse=true');
    await send(request('DELETE', '/workspaces/topp'));
    expect(changes()).toEqual(['remove workspace/sf', 'remove namespace/sf', 'remove workspace/topp', 'remove namespace/topp']);
    expect(lease.intents.size).toBe(0);
  });

  it("a layer PUT that died having disabled the layer: recovery publishes its resource's flags too, which GeoServer changed with it", async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'sf' } }));
    await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } }));
    await send(request('POST', '/workspaces/sf/datastores/pg/featuretypes', { featureType: { name: 'roads', nativeName: 'roads' } }));
    storing.published.length = 0;
    await die('PUT', '/layers/sf:roads', { layer: { enabled: false } });
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    expect(changes()).toEqual(['modify featureType/sf:roads', 'modify layer/sf:roads', 'add workspace/topp', 'add namespace/topp']);
    expect(storing.published[0]).toMatchObject({ patch: { enabled: false } });
    const [resource] = await storing.store.readObjects(MASTER_NODE, [{ type: 'featureType', id: 'sf:roads' }]);
    expect(resource?.properties.enabled).toBe(false);
    expect(lease.intents.size).toBe(0);
  });

  it('a style rename that died: its recovery publishes the new style, the layers and groups moved to it, then the old one removed', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } }));
    await send(request('POST', '/styles?name=roads&raw=true', SLD, 'application/vnd.ogc.sld+xml'));
    await send(request('PUT', '/layers/topp:roads', { layer: { defaultStyle: { name: 'roads' } } }));
    await send(request('POST', '/layergroups', { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] }, styles: { style: [{ name: 'roads' }] } } }));
    storing.published.length = 0;
    const dead = request('PUT', '/styles/roads', { style: { name: 'streets' } });
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, 'PUT', dead);
    expect((await fetch(`${master.restUrl}/styles/roads`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: dead.body })).status).toBe(200);
    lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString() });

    await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));
    expect(changes()).toEqual([
      'add style/streets',
      'modify layer/topp:roads',
      'modify layerGroup/base',
      'remove style/roads',
      'add workspace/later',
      'add namespace/later',
    ]);
    expect(storing.published[3]).toMatchObject({ recurse: false });
  });

  it('a workspace rename that died: its recovery publishes what the rename through the gateway does (what moved, then the old one removed with recurse)', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } }));
    storing.published.length = 0;
    const dead = request('PUT', '/workspaces/topp', { workspace: { name: 'tipp' } });
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, 'PUT', dead);
    expect((await fetch(`${master.restUrl}/workspaces/topp`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: dead.body })).status).toBe(200);
    lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString() });

    await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));
    expect(changes()).toEqual([
      'add workspace/tipp',
      'add dataStore/tipp:pg',
      'add featureType/tipp:roads',
      'add layer/tipp:roads',
      'remove workspace/topp',
      'remove namespace/topp',
      'add namespace/tipp',
      'add workspace/later',
      'add namespace/later',
    ]);
    expect(storing.published[4]).toMatchObject({ recurse: true });
    expect(lease.intents.size).toBe(0);
  });

  it('a store rename whose publish failed midway: the next write publishes the rest, so every resource and layer is there under the new store', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } }));
    await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } }));
    storing.published.length = 0;
    // The log refuses every append after the first three: the new store, the old one's removal, one feature type.
    const publish = storing.publish.bind(storing);
    storing.publish = async (change) => {
      if (storing.published.length >= 3) throw new Error('log unavailable');
      return publish(change);
    };
    const failed = await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { name: 'pg2' } }));
    expect(failed).toMatchObject({ status: 200, replication: 'publish-failed' });
    expect(changes()).toEqual(['add dataStore/topp:pg2', 'remove dataStore/topp:pg', 'add featureType/topp:rivers']);
    storing.publish = publish;
    storing.published.length = 0;

    await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));
    expect(changes()).toEqual([
      'add dataStore/topp:pg2',
      'remove dataStore/topp:pg',
      'add featureType/topp:rivers',
      'add featureType/topp:roads',
      'add layer/topp:rivers',
      'add layer/topp:roads',
      'add workspace/later',
      'add namespace/later',
    ]);
    expect(storing.published[3]).toMatchObject({ properties: { store: { name: 'topp:pg2' } } });
    expect(lease.intents.size).toBe(0);
  });

  it('an intent whose write never reached the master publishes nothing and is cleared; a recovery that fails leaves it and lets the write go on', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    storing.published.length = 0;
    lease.intents.set('never', { owner: 'never', at: new Date(0).toISOString(), method: 'POST', path: '/workspaces', objects: [{ type: 'workspace', id: 'ghost', path: '/workspaces/ghost' }] });
    await send(request('PUT', '/workspaces/topp', { workspace: { name: 'topp' } }));
    expect(changes()).toEqual([]);
    expect(lease.intents.size).toBe(0);

    // A master that fails the recovery's read: the recovery fails, the intent stays for the next holder, and the write goes on.
    master.catalog.objects.workspace.set('ghost', { name: 'ghost' });
    lease.intents.set('left', { owner: 'left', at: new Date(0).toISOString(), method: 'POST', path: '/workspaces', objects: [{ type: 'workspace', id: 'ghost', path: '/workspaces/ghost' }] });
    master.rejectNext((call) => call.method === 'GET' && call.path.endsWith('/workspaces/ghost.json'), 500, 'Internal error');
    const next = await send(request('POST', '/workspaces', { workspace: { name: 'x' } }));
    expect(next).toMatchObject({ status: 201, replication: 'published' });
    expect(failures).toHaveLength(1);
    expect([...lease.intents.keys()]).toEqual(['left']);
    await send(request('PUT', '/workspaces/topp', { workspace: { name: 'topp' } }));
    expect(changes()).toEqual(['add workspace/x', 'add namespace/x', 'add workspace/ghost']);
    expect(lease.intents.size).toBe(0);
  });

  it('an intent whose change the cluster refuses is given up, reported, and does not hold back the intents after it', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    storing.published.length = 0;
    // A style the master holds under a name no object id can carry (made there directly), whose write died.
    master.catalog.addStyleWithBody(undefined, 'my style', { bytes: Buffer.from(SLD), contentType: 'application/vnd.ogc.sld+xml', raw: true });
    lease.intents.set('poison', { owner: 'poison', at: new Date(0).toISOString(), method: 'POST', path: '/styles', objects: [{ type: 'style', id: 'my style', path: '/styles/my%20style' }] });
    // The next write, whose own log append fails: its recovery gives the poisoned intent up, and reports it.
    storing.failing = new Error('log unavailable');
    expect(await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'kept' } }))).toMatchObject({
      replication: 'publish-failed',
      recovered: { intents: 1, sequences: [], refused: [{ method: 'POST', path: '/styles', reason: expect.stringContaining('object.id') }] },
    });
    storing.failing = undefined;
    expect([...lease.intents.values()].map((intent) => intent.path)).toEqual(['/workspaces/topp/datastores/pg']);

    // Another poisoned intent left before the failed one: given up, and the failed one behind it is recovered.
    lease.intents.set('poison-2', { owner: 'poison-2', at: new Date(0).toISOString(), method: 'POST', path: '/styles', objects: [{ type: 'style', id: 'my style', path: '/styles/my%20style' }] });
    const next = await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'other' } }));
    expect(next).toMatchObject({ replication: 'published', recovered: { intents: 2, refused: [{ path: '/styles' }] } });
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add dataStore/topp:other']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it("an upload whose capture could not be asked for keeps its intent: the next holder publishes the store, feature type and layer the master made of it", async () => {
    const writes = leaseSerializer(lease, { waitMs: 1000, ttlMs: 30_000, onRecoveryFailure: (error) => failures.push(error) });
    const catalog = catalogInStore(storing.store, MASTER_NODE);
    const styleUsers = styleUsersInStore(storing.store, MASTER_NODE);
    const recovery = gatewayRecovery({ stored: (refs) => storing.store.readObjects(MASTER_NODE, refs), styleUsers, catalog, publisher: storing });
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const captureUpload = async (): Promise<never> => {
      throw new Error('job store unavailable');
    };
    const send = (call: GatewayRequest) => handleGatewayCall(upstream, storing, call, { writes, styleUsers, catalog, recovery, captureUpload, readBack: masterView(upstream) });
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    storing.published.length = 0;

    const uploaded = await send(request('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp', 'text/plain'));
    expect(uploaded).toMatchObject({ status: 201, replication: 'publish-failed' });
    expect([...lease.intents.values()]).toEqual([expect.objectContaining({ method: 'PUT', path: '/workspaces/topp/datastores/roads/external.shp' })]);
    expect(lease.holder).toBeUndefined();

    // The next write publishes what the upload made on the master first, then its own change.
    await send(request('PUT', '/workspaces/topp', { workspace: { name: 'topp' } }));
    expect(changes()).toEqual(['add dataStore/topp:roads', 'add featureType/topp:roads', 'add layer/topp:roads']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it('an upload the master refused, or whose capture was asked for, leaves no intent', async () => {
    const writes = leaseSerializer(lease, { waitMs: 1000, ttlMs: 30_000 });
    const recovery = gatewayRecovery({ stored: (refs) => storing.store.readObjects(MASTER_NODE, refs), publisher: storing });
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const captureUpload = async () => ({ job: 'capture-1', outcome: 'started' as const });
    const send = (call: GatewayRequest) => handleGatewayCall(upstream, storing, call, { writes, recovery, captureUpload, readBack: masterView(upstream) });
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    expect(await send(request('PUT', '/workspaces/topp/datastores/roads/external.shp', 'not/absolute', 'text/plain'))).toMatchObject({ status: 400, replication: 'not-replicated' });
    expect(lease.intents.size).toBe(0);
    expect(await send(request('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp', 'text/plain'))).toMatchObject({ status: 201, replication: 'capture' });
    expect(lease.intents.size).toBe(0);
  });

  it("an upload whose process died after the master took it (no capture asked for): the next holder publishes what the master made of it", async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    storing.published.length = 0;
    const dead = request('PUT', '/workspaces/topp/coveragestores/dem/external.geotiff', '/srv/gis/dem.tif', 'text/plain');
    const intent = uploadIntentOf(classifyRestPath(dead.path) as UnmanagedPath, 'PUT');
    expect((await fetch(`${master.restUrl}${dead.path}`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: dead.body })).status).toBe(201);
    lease.holder = { owner: 'dead', until: 0 };
    lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString() });

    await send(request('PUT', '/workspaces/topp', { workspace: { name: 'topp' } }));
    expect(changes()).toEqual(['add coverageStore/topp:dem', 'add coverage/topp:dem', 'add layer/topp:dem']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it("a write whose forward fails after the master applied it (the master's answer never came) keeps its intent", async () => {
    const real = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const flaky: Upstream = {
      async send(call, timeoutMs) {
        const answer = await real.send(call, timeoutMs);
        if (call.method !== 'GET') throw new Error('timed out');
        return answer;
      },
    };
    await expect(gateway(flaky)(request('POST', '/workspaces', { workspace: { name: 'topp' } }))).rejects.toThrow('timed out');
    expect([...lease.intents.values()].map((intent) => intent.path)).toEqual(['/workspaces']);
    expect(lease.holder).toBeUndefined();
    await gateway()(request('POST', '/workspaces', { workspace: { name: 'other' } }));
    expect(changes()).toEqual(['add workspace/topp', 'add namespace/topp', 'add workspace/other', 'add namespace/other']);
  });
});

test('the sweep reports the intents left longer than STALE_INTENT_MS (an upload settling is not one), and one whose time does not parse', () => {
  const now = Date.parse('2026-12-06T12:00:00.000Z');
  const intent = (owner: string, minutesAgo: number) => ({ owner, at: new Date(now - minutesAgo * 60_000).toISOString(), method: 'PUT', path: `/workspaces/${owner}`, objects: [] });
  const left = [intent('fresh', 1), intent('settling-upload', UPLOAD_SETTLE_MS / 60_000), intent('failing', STALE_INTENT_MS / 60_000 + 1), { ...intent('garbled', 0), at: 'yesterday' }];
  expect(staleIntents(left, now).map((stale) => stale.owner)).toEqual(['failing', 'garbled']);
});

test("an upload's intent whose capture was asked for once it settled is cleared though a later intent's recovery fails: the holders after it ask for no capture again", async () => {
  const lease = new MemoryWriteLease();
  const upload = uploadIntentOf(classifyRestPath('/workspaces/topp/datastores/roads/external.shp') as UnmanagedPath, 'PUT');
  lease.intents.set('upload', { ...upload, owner: 'upload', at: new Date(0).toISOString() });
  // A later write whose path the master answers 500 on: its recovery fails at every holder.
  lease.intents.set('failing', { owner: 'failing', at: new Date(1).toISOString(), method: 'DELETE', path: '/styles/broken', recurse: false, objects: [{ type: 'style', id: 'broken', path: '/styles/broken' }] });
  const master: Upstream = { send: async (call) => ({ status: call.path.startsWith('/styles/broken') ? 500 : 404, headers: {}, body: Buffer.alloc(0) }) };
  const captures: string[] = [];
  const recovery = gatewayRecovery({
    stored: async () => [],
    publisher: { publish: async () => 1 },
    captureUpload: async () => {
      captures.push(`capture-${captures.length + 1}`);
      return { job: captures[captures.length - 1]!, outcome: 'started' };
    },
  });
  const failures: unknown[] = [];
  const writes = leaseSerializer(lease, {
    waitMs: 1000,
    ttlMs: 30_000,
    recover: async (pending) => (await recovery.recover(pending, readerFor(master))).owners,
    onRecoveryFailure: (error) => failures.push(error),
  });
  // The sweep's next three runs, or three gateway writes.
  for (let holder = 0; holder < 3; holder += 1) await writes.run(async () => undefined);
  expect(failures).toHaveLength(3);
  expect(failures[0]).toEqual(expect.objectContaining({ message: expect.stringContaining('500') }));
  expect([...lease.intents.keys()]).toEqual(['failing']);
  expect(captures).toEqual(['capture-1']);
});
