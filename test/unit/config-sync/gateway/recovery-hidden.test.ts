/**
 * Recovery on a gateway write reads the master as the write reads itself back: with the master
 * node's own credentials (`GatewayOptions.readBack`), whoever the caller is. GeoServer's REST API
 * serves its secured catalog: with data security in its default HIDE mode, an object the caller
 * may not read is answered 404 and left out of listings, exactly as one that does not exist. Read
 * with a restricted caller's credentials, an unfinished write's object would be published as
 * removed (or its intent cleared as "nothing applied"), removing it from every node and leaving the
 * master's reconcile to remove it there too. Read with the master node's, the caller's write
 * publishes what the master holds of it, in order before its own change.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { handleGatewayCall, type GatewayRequest, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { gatewayRecovery, intentOf } from '../../../../lambdas/config-sync/gateway/recovery';
import { classifyRestPath, type ManagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { leaseSerializer, type WriteIntent } from '../../../../lambdas/config-sync/gateway/write-lease';
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

describe("recovery on the write of a caller the master hides objects from, read with the master node's credentials", () => {
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
  /** The gateway as its function builds it: forwarding with the caller's credentials, reading back with the master node's. */
  function gateway() {
    const writes = leaseSerializer(lease, { waitMs: 1000, ttlMs: 30_000, onRecoveryFailure: (error) => failures.push(error) });
    const secured = securedMaster(master);
    const readBack: Upstream = { send: (call, timeoutMs) => secured.send({ ...call, headers: { ...call.headers, authorization: ADMIN } }, timeoutMs) };
    const options = { writes, styleUsers: styleUsersInStore(storing.store, MASTER_NODE), catalog: catalogInStore(storing.store, MASTER_NODE), recovery: recovery(), readBack };
    return (call: GatewayRequest) => handleGatewayCall(secured, storing, call, options);
  }
  const changes = () => storing.published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`);
  /**
   * Leaves the intent of a write that reached the master and died there under an expired lease,
   * as the lease's item holds it (JSON), with what the gateway recorded then (`extra`).
   */
  const leave = (intent: Omit<WriteIntent, 'owner' | 'at'>, extra: Record<string, unknown> = {}) => {
    lease.holder = { owner: 'dead', until: 0 };
    lease.intents.set('dead', JSON.parse(JSON.stringify({ ...intent, owner: 'dead', at: new Date(0).toISOString(), ...extra })) as WriteIntent);
  };
  const die = async (method: string, path: string, body?: unknown) => {
    const dead = request(method, path, body);
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, method, dead);
    const init = { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: dead.body };
    expect((await fetch(`${master.restUrl}${path}`, init)).status).toBeLessThan(300);
    return intent;
  };
  const setUp = async (send: ReturnType<typeof gateway>) => {
    for (const name of ['topp', 'sf']) await send(request('POST', '/workspaces', { workspace: { name } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    storing.published.length = 0;
  };

  it('a dead PUT to an object hidden from the caller: published as the master holds it, never as removed, before the caller\'s own write', async () => {
    const send = gateway();
    await setUp(send);
    leave(await die('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'changed' } }));

    const own = await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp' } }, SF_EDITOR));
    expect(own).toMatchObject({ status: 201, replication: 'published', recovered: { intents: 1 } });
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add dataStore/sf:shp']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it("a dead POST into a collection hidden from the caller: what it made is published from the master's listing, not cleared as if nothing was made", async () => {
    const send = gateway();
    await setUp(send);
    // Named in XML, which the gateway does not read: the intent is the collection.
    const dead = { ...request('POST', '/workspaces/topp/datastores'), headers: { authorization: ADMIN, 'content-type': 'application/xml' }, body: Buffer.from('<dataStore><name>made</name></dataStore>') };
    const intent = intentOf(classifyRestPath(dead.path) as ManagedPath, 'POST', dead);
    expect(intent.collections).toEqual(['/workspaces/topp/datastores']);
    expect((await fetch(`${master.restUrl}/workspaces/topp/datastores`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ dataStore: { name: 'made' } }) })).status).toBe(201);
    leave(intent);

    await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp' } }, SF_EDITOR));
    expect(changes()).toEqual(['add dataStore/topp:made', 'add dataStore/sf:shp']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it('a dead DELETE of an object hidden from the caller: published as removed once the master itself no longer holds it', async () => {
    const send = gateway();
    await setUp(send);
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'gone' } }));
    await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'kept' } }));
    storing.published.length = 0;
    leave(await die('DELETE', '/workspaces/topp/datastores/gone'));

    await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp' } }, SF_EDITOR));
    // topp:pg, hidden from the caller too and held by the master, is left as it is.
    expect(changes()).toEqual(['remove dataStore/topp:gone', 'add dataStore/sf:shp']);
    expect(lease.intents.size).toBe(0);
  });

  it("an intent an earlier gateway recorded with its writer's user name (`by`) is recovered like any other, whoever the caller is", async () => {
    const send = gateway();
    await setUp(send);
    leave(await die('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'changed' } }), { by: 'admin' });

    const own = await send(request('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp' } }, SF_EDITOR));
    expect(own).toMatchObject({ status: 201, recovered: { intents: 1 } });
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add dataStore/sf:shp']);
    expect(lease.intents.size).toBe(0);
  });
});
