/**
 * Recovery on a gateway write reads the master as the write reads itself back: in the gateway
 * function with the master node's own credentials (`GatewayOptions.readBack`, the third case
 * below), and in a gateway built without them with the caller's. GeoServer's REST
 * API serves its secured catalog: with data security in its default HIDE mode, an object the
 * caller may not read is answered 404 and left out of listings, exactly as one that does not
 * exist. So what a caller's credentials find absent is no proof of absence: an unfinished write's
 * object published as removed (or its intent cleared as "nothing applied") on a limited user's
 * read would remove it from every node, and leave the master's reconcile to remove it there too.
 * Such intents wait for a holder whose view shows what the write changed: the next write of the
 * user who made it, or the sweep, with the master node's own credentials.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { basicUserName, handleGatewayCall, readerFor, type GatewayRequest, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { gatewayRecovery, intentOf, recoverIntents } from '../../../../lambdas/config-sync/gateway/recovery';
import { classifyRestPath, type ManagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';
import { MASTER_NODE, storingPublisher } from './storing-publisher';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
/** A GeoServer user whose data security lets it see workspace sf only. */
const SF_EDITOR = 'Basic ' + Buffer.from('sf-editor:secret').toString('base64');

function request(method: string, path: string, body?: unknown, authorization = ADMIN): GatewayRequest {
  return {
    method,
    path,
    query: '',
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
  };
}

/**
 * The master as the secured catalog answers it: for SF_EDITOR, a read of anything in workspace
 * topp is 404, and a listing of a topp collection lists nothing, as GeoServer does in HIDE mode.
 */
function securedMaster(master: GeoServerStandIn): Upstream {
  const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
  return {
    async send(call, timeoutMs) {
      const hidden = /^\/(workspaces\/topp(\/|\.json$)|namespaces\/topp|layers\/topp(:|%3A))/i.test(call.path);
      if (call.headers.authorization === SF_EDITOR && hidden) {
        return { status: 404, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`No such object: ${call.path}`) };
      }
      // The stand-in knows admin only: the editor's other calls are made as it would be let through.
      return upstream.send(call.headers.authorization === SF_EDITOR ? { ...call, headers: { ...call.headers, authorization: ADMIN } } : call, timeoutMs);
    },
  };
}

describe('recovery with the credentials of a caller the master hides objects from', () => {
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
    await master.close();
  });

  const recovery = () =>
    gatewayRecovery({
      stored: (refs) => storing.store.readObjects(MASTER_NODE, refs),
      styleUsers: styleUsersInStore(storing.store, MASTER_NODE),
      catalog: catalogInStore(storing.store, MASTER_NODE),
      publisher: storing,
    });
  /** A gateway reading back with its caller's credentials; with `masterNode`, with the master node's own (as the gateway function does). */
  function gateway(masterNode = false) {
    const writes = leaseSerializer(lease, { waitMs: 1000, ttlMs: 30_000, onRecoveryFailure: (error) => failures.push(error) });
    const secured = securedMaster(master);
    const readBack = masterNode ? { readBack: { send: (call: GatewayRequest, timeoutMs?: number) => secured.send({ ...call, headers: { ...call.headers, authorization: ADMIN } }, timeoutMs) } } : {};
    const options = { writes, styleUsers: styleUsersInStore(storing.store, MASTER_NODE), catalog: catalogInStore(storing.store, MASTER_NODE), recovery: recovery(), ...readBack };
    return (call: GatewayRequest) => handleGatewayCall(secured, storing, call, options);
  }
  const changes = () => storing.published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`);
  /** A write that reached the master and died there: its intent left under an expired lease. */
  const die = async (method: string, path: string, body?: unknown) => {
    const dead = request(method, path, body);
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, method, dead);
    const init = { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: dead.body };
    expect((await fetch(`${master.restUrl}${path}`, init)).status).toBeLessThan(300);
    lease.holder = { owner: 'dead', until: 0 };
    lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString(), by: 'admin' });
  };
  const setUp = async (send: ReturnType<typeof gateway>) => {
    for (const name of ['topp', 'sf']) await send(request('POST', '/workspaces', { workspace: { name } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    storing.published.length = 0;
  };

  it("a dead PUT to an object hidden from the caller: never published as removed, its intent kept for the sweep", async () => {
    const send = gateway();
    await setUp(send);
    await die('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'changed' } });

    const own = await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp' } }, SF_EDITOR));
    expect(own).toMatchObject({ status: 201, replication: 'published' });
    // The editor's own write only: topp:pg is on the master, and stays in the cluster.
    expect(changes()).toEqual(['add dataStore/sf:shp']);
    expect([...lease.intents.keys()]).toEqual(['dead']);
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/dataStore topp:pg.*404.*data security hides.*as admin/s);

    // The sweep, reading with the master node's credentials, publishes the dead write's change.
    const swept = await recoverIntents(
      { ...recovery(), read: readerFor(new HttpUpstream(master.url, 5000, 6 * 1024 * 1024), { authorization: ADMIN }), stored: (refs) => storing.store.readObjects(MASTER_NODE, refs), publisher: storing },
      [...lease.intents.values()],
    );
    expect(swept.owners).toEqual(['dead']);
    expect(changes()).toEqual(['add dataStore/sf:shp', 'modify dataStore/topp:pg']);
  });

  it("with the master node's credentials, the caller's write recovers a dead PUT to an object hidden from it, in order before its own", async () => {
    const send = gateway(true);
    await setUp(send);
    await die('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'changed' } });

    const own = await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp' } }, SF_EDITOR));
    expect(own).toMatchObject({ status: 201, replication: 'published', recovered: { intents: 1 } });
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add dataStore/sf:shp']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it('a dead POST into a collection hidden from the caller: its intent is not cleared as if nothing was made; its own user recovers it', async () => {
    const send = gateway();
    await setUp(send);
    // Named in XML, which the gateway does not read: the intent is the collection.
    const dead = { ...request('POST', '/workspaces/topp/datastores'), headers: { authorization: ADMIN, 'content-type': 'application/xml' }, body: Buffer.from('<dataStore><name>made</name></dataStore>') };
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, 'POST', dead);
    expect(intent.collections).toEqual(['/workspaces/topp/datastores']);
    expect((await fetch(`${master.restUrl}/workspaces/topp/datastores`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ dataStore: { name: 'made' } }) })).status).toBe(201);
    lease.holder = { owner: 'dead', until: 0 };
    lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString(), by: 'admin' });

    await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp' } }, SF_EDITOR));
    expect(changes()).toEqual(['add dataStore/sf:shp']);
    expect([...lease.intents.keys()]).toEqual(['dead']);

    // The next write of the user who made it sees what it made, and publishes it first, in order.
    await send(request('POST', '/workspaces', { workspace: { name: 'other' } }));
    expect(changes()).toEqual(['add dataStore/sf:shp', 'add dataStore/topp:made', 'add workspace/other', 'add namespace/other']);
    expect(lease.intents.size).toBe(0);
  });
});

test('an intent records the user name of HTTP Basic credentials, never the password, and nothing of any other scheme', () => {
  expect(basicUserName(ADMIN)).toBe('admin');
  expect(basicUserName('basic ' + Buffer.from('ops:pa:ss').toString('base64'))).toBe('ops');
  expect(basicUserName('Bearer node-1.abcdefghijklmnopqrstuvwxyz')).toBeUndefined();
  expect(basicUserName('Basic ' + Buffer.from(':nouser').toString('base64'))).toBeUndefined();
  expect(basicUserName('Basic not base64!')).toBeUndefined();
  expect(basicUserName(undefined)).toBeUndefined();
});
