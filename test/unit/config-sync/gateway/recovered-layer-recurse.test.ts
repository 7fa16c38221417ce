// DELETE /layers/{l}?recurse=true whose log append failed (or whose process died after the master
// applied it): the next write recovers the intent, and publishes what the gateway's own path does
// (cascade.ts): the groups GeoServer's cascade changed (a group left empty removed) before the
// layer's removal, the feature type's removal after it, since the master no longer has it.
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { handleGatewayCall, type GatewayRequest } from '../../../../lambdas/config-sync/gateway/gateway';
import { gatewayRecovery } from '../../../../lambdas/config-sync/gateway/recovery';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { standInPerTest } from '../../../support/standin-per-test';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
function request(method: string, path: string, body?: unknown): GatewayRequest {
  const [pathPart, query = ''] = path.split('?') as [string, string?];
  return { method, path: pathPart, query, headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)) };
}

const standIn = standInPerTest();

function setUp() {
  const master = standIn.geoserver;
  const lease = new MemoryWriteLease();
  const storing = storingPublisher();
  const writes = leaseSerializer(lease, { waitMs: 1000, ttlMs: 30_000, onRecoveryFailure: () => undefined });
  const styleUsers = styleUsersInStore(storing.store, MASTER_NODE);
  const catalog = catalogInStore(storing.store, MASTER_NODE);
  const recovery = gatewayRecovery({ stored: (refs) => storing.store.readObjects(MASTER_NODE, refs), styleUsers, catalog, publisher: storing });
  const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
  const send = (call: GatewayRequest) => handleGatewayCall(upstream, storing, call, { writes, styleUsers, catalog, recovery, readBack: masterView(upstream) });
  return { master, storing, send };
}

test('a recovered DELETE /layers/topp:roads?recurse=true removes the feature type from the stores too', async () => {
  const { master, storing, send } = setUp();
  await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
  await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
  await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } }));
  storing.failing = new Error('log unavailable');
  expect(await send(request('DELETE', '/layers/topp:roads?recurse=true'))).toMatchObject({ replication: 'publish-failed' });
  expect(master.catalog.objects.featureType.has('topp:roads')).toBe(false); // the master removed it with its layer
  storing.failing = undefined;
  await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));

  const [featureType] = await storing.store.readObjects(MASTER_NODE, [{ type: 'featureType', id: 'topp:roads' }]);
  expect({
    published: storing.published.slice(-4).map((c) => `${c.kind} ${c.object.type}/${c.object.id}`),
    featureTypeDeleted: featureType?.deleted,
  }).toEqual({
    published: ['remove layer/topp:roads', 'remove featureType/topp:roads', 'add workspace/later', 'add namespace/later'],
    featureTypeDeleted: true,
  });
});

test('a recovered DELETE /layers/topp:rivers?recurse=true publishes the groups the cascade changed, before the removal', async () => {
  const { master, storing, send } = setUp();
  await send(request('POST', '/workspaces', { workspace: { name: 'topp' } }));
  await send(request('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } }));
  for (const name of ['roads', 'rivers']) await send(request('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name } }));
  const group = (name: string, layers: string[]) =>
    send(request('POST', '/layergroups', { layerGroup: { name, publishables: { published: layers.map((layer) => ({ '@type': 'layer', name: layer })) } } }));
  await group('alone', ['topp:rivers']);
  await group('both', ['topp:roads', 'topp:rivers']);
  storing.failing = new Error('log unavailable');
  expect(await send(request('DELETE', '/layers/topp:rivers?recurse=true'))).toMatchObject({ replication: 'publish-failed' });
  storing.failing = undefined;
  await send(request('POST', '/workspaces', { workspace: { name: 'later' } }));

  expect(storing.published.slice(-6).map((c) => `${c.kind} ${c.object.type}/${c.object.id}`)).toEqual([
    'modify layerGroup/both',
    'remove layerGroup/alone',
    'remove layer/topp:rivers',
    'remove featureType/topp:rivers',
    'add workspace/later',
    'add namespace/later',
  ]);
  // The master's store holds the groups as the master's GeoServer does.
  const [both, alone] = await storing.store.readObjects(MASTER_NODE, [{ type: 'layerGroup', id: 'both' }, { type: 'layerGroup', id: 'alone' }]);
  expect(master.catalog.get('layerGroup', 'alone')).toBeUndefined();
  expect(alone?.deleted).toBe(true);
  expect(both?.properties).toEqual(master.catalog.get('layerGroup', 'both'));
});
