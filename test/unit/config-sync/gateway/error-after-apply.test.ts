/**
 * A write the master applied, in whole or in part, and then answered with a 5xx: GeoServer's REST
 * controllers change the catalog step by step (a resource, then its layer; an object, then what
 * it cascades to) and answer 500 for an exception thrown after some of those steps. The master
 * holds a change; the cluster must get it, or every other node silently differs from the master
 * (and a master reconcile would undo it there). The caller still gets GeoServer's own answer.
 *
 * Against a stand-in master GeoServer over real HTTP that applies the write and then answers 500
 * (`failingAfterApply`), with the lease, recovery and read-back the gateway function builds.
 * A 5xx may also come from something between the gateway and the master while the master still
 * works on the write: the write's intent stays for the next holder of the lease, which reads its
 * objects again.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { handleGatewayCall, type GatewayRequest, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { gatewayRecovery } from '../../../../lambdas/config-sync/gateway/recovery';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
const FAILURE = 'java.lang.RuntimeException: Error persisting the catalog change';

function request(method: string, path: string, body?: unknown, contentType = 'application/json'): GatewayRequest {
  const [pathPart, query = ''] = path.split('?') as [string, string?];
  return {
    method,
    path: pathPart,
    query,
    headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

describe('a write the master applied and then answered with a 5xx', () => {
  let master: GeoServerStandIn;
  let lease: MemoryWriteLease;
  let storing: ReturnType<typeof storingPublisher>;
  let failures: unknown[];
  let captures: string[];
  /**
   * While set, the next write (not a read) is sent on to the master as `applied` makes it (the
   * write itself, or a part of it), and answered `status` (500) whatever the master answered;
   * with `late`, it is answered first and sent on only once `late` is called.
   */
  let failNext: { applied: (call: GatewayRequest) => GatewayRequest; status?: number; late?: boolean } | undefined;
  let lateWrite: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    master = await startGeoServerStandIn();
    lease = new MemoryWriteLease();
    storing = storingPublisher();
    failures = [];
    captures = [];
    failNext = undefined;
    lateWrite = undefined;
  });
  afterEach(async () => {
    const { violations } = master;
    await master.close();
    expect(violations).toEqual([]);
  });

  function gateway() {
    const real = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const failingAfterApply: Upstream = {
      async send(call, timeoutMs) {
        if (call.method === 'GET' || failNext === undefined) return real.send(call, timeoutMs);
        const { applied, status = 500, late = false } = failNext;
        failNext = undefined;
        const apply = async () => {
          const answer = await real.send(applied(call), timeoutMs);
          expect(answer.status).toBeLessThan(300); // the master applied it
        };
        if (late) lateWrite = apply;
        else await apply();
        return { status, headers: { 'content-type': 'text/plain' }, body: Buffer.from(FAILURE) };
      },
    };
    const writes = leaseSerializer(lease, { waitMs: 1000, ttlMs: 30_000, onRecoveryFailure: (error) => failures.push(error) });
    const styleUsers = styleUsersInStore(storing.store, MASTER_NODE);
    const catalog = catalogInStore(storing.store, MASTER_NODE);
    const captureUpload = async () => {
      captures.push(`capture-${captures.length + 1}`);
      return { job: captures[captures.length - 1]!, outcome: 'started' as const };
    };
    const recovery = gatewayRecovery({ stored: (refs) => storing.store.readObjects(MASTER_NODE, refs), styleUsers, catalog, publisher: storing, captureUpload });
    const options = { writes, styleUsers, catalog, recovery, captureUpload, readBack: masterView(real) };
    return (call: GatewayRequest) => handleGatewayCall(failingAfterApply, storing, call, options);
  }
  const changes = () => storing.published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`);
  const stored = async (type: 'workspace' | 'dataStore', id: string) => {
    const [object] = await storing.store.readObjects(MASTER_NODE, [{ type, id }]);
    return object && !object.deleted ? object.properties : undefined;
  };
  const applied = { applied: (call: GatewayRequest) => call };

  it("a PUT: what the master now holds is published, and the caller gets GeoServer's 500", async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', description: 'old' } }));
    storing.published.length = 0;

    failNext = applied;
    const answer = await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'new' } }));
    expect(answer).toMatchObject({ status: 500, replication: 'published', sequences: [4] });
    expect(answer.body.toString('utf8')).toBe(FAILURE);
    expect(answer.headers).toMatchObject({ 'x-cluster-replicated': 'true', 'x-cluster-sequence': '4' });
    expect(answer.warning).toMatch(/answered 500 to the PUT/);
    expect(changes()).toEqual(['modify dataStore/topp:pg']);
    expect(await stored('dataStore', 'topp:pg')).toEqual(master.catalog.get('dataStore', 'topp:pg'));
    // Kept for the next holder, which finds nothing more to publish.
    expect([...lease.intents.values()].map((intent) => intent.path)).toEqual(['/workspaces/topp/datastores/pg']);
    const next = await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));
    expect(next).toMatchObject({ status: 201, recovered: { intents: 1, sequences: [] } });
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add workspace/later', 'add namespace/later']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it('a POST: the objects the master created are published', async () => {
    const send = gateway();
    failNext = applied;
    const answer = await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    expect(answer).toMatchObject({ status: 500, replication: 'published' });
    expect(changes()).toEqual(['add workspace/topp', 'add namespace/topp']);
  });

  it('a DELETE: the removal is published once the master no longer holds the object', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
    storing.published.length = 0;
    failNext = applied;
    const answer = await send(request('DELETE', '/workspaces/topp/datastores/pg'));
    expect(answer).toMatchObject({ status: 500, replication: 'published' });
    expect(changes()).toEqual(['remove dataStore/topp:pg']);
    expect(await stored('dataStore', 'topp:pg')).toBeUndefined();
  });

  it('a write the master applied only in part: the part it holds is published, nothing more', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', description: 'old', enabled: true } }));
    storing.published.length = 0;
    // The description was written, then the master failed before it disabled the store.
    failNext = { applied: (call) => ({ ...call, body: Buffer.from(JSON.stringify({ dataStore: { description: 'new' } })) }) };
    const answer = await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'new', enabled: false } }));
    expect(answer.status).toBe(500);
    expect(changes()).toEqual(['modify dataStore/topp:pg']);
    expect(await stored('dataStore', 'topp:pg')).toMatchObject({ description: 'new', enabled: true });
  });

  it('a 5xx the master answered without applying anything publishes nothing; the next holder finds nothing either', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    storing.published.length = 0;
    master.rejectNext((call) => call.method === 'PUT', 500, FAILURE);
    const answer = await send(request('PUT', '/workspaces/topp', { workspace: { name: 'topp' } }));
    expect(answer).toMatchObject({ status: 500, replication: 'refused', sequences: [] });
    expect(answer.headers['x-cluster-replicated']).toBeUndefined();
    expect(changes()).toEqual([]);
    await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));
    expect(changes()).toEqual(['add workspace/later', 'add namespace/later']);
    expect(lease.intents.size).toBe(0);
  });

  it("a 504 from something between the gateway and the master, which applies the write later: the next holder publishes it", async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', description: 'old' } }));
    storing.published.length = 0;
    failNext = { ...applied, status: 504, late: true };
    const answer = await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'new' } }));
    expect(answer).toMatchObject({ status: 504, replication: 'refused' });
    expect(changes()).toEqual([]); // nothing applied yet when it was read back
    await lateWrite!();
    expect(master.catalog.get('dataStore', 'topp:pg')).toMatchObject({ description: 'new' });

    await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add workspace/later', 'add namespace/later']);
    expect(await stored('dataStore', 'topp:pg')).toMatchObject({ description: 'new' });
    expect(lease.intents.size).toBe(0);
  });

  it('a master that cannot be read back after the 5xx: the intent stays, and the next write publishes the change first', async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', description: 'old' } }));
    storing.published.length = 0;
    // The read-back after the write fails (the read before it does not).
    failNext = {
      applied: (call) => {
        master.rejectNext((read) => read.method === 'GET' && read.path.endsWith('/datastores/pg.json'), 503, 'Service Unavailable');
        return call;
      },
    };
    const answer = await send(request('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'new' } }));
    expect(answer).toMatchObject({ status: 500, replication: 'publish-failed' });
    expect(answer.headers['x-cluster-replicated']).toBe('failed');
    expect(changes()).toEqual([]);
    expect([...lease.intents.values()].map((intent) => intent.path)).toEqual(['/workspaces/topp/datastores/pg']);

    await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));
    expect(changes()).toEqual(['modify dataStore/topp:pg', 'add workspace/later', 'add namespace/later']);
    expect(lease.intents.size).toBe(0);
    expect(failures).toEqual([]);
  });

  it("an upload into a store: a capture of the master is started, the caller gets GeoServer's 500", async () => {
    const send = gateway();
    await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
    failNext = applied;
    const answer = await send(request('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp', 'text/plain'));
    expect(master.catalog.objects.dataStore.has('topp:roads')).toBe(true);
    expect(answer).toMatchObject({ status: 500, replication: 'capture', capture: { job: 'capture-1' } });
    expect(answer.headers).toMatchObject({ 'x-cluster-replicated': 'capture', 'x-cluster-job': 'capture-1' });
    expect(captures).toEqual(['capture-1']);
  });
});
