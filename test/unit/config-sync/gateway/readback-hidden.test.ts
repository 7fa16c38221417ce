/**
 * What the gateway publishes after a write is read back from the master, and GeoServer's REST API
 * serves its secured catalog: with data security in its default HIDE mode, an object hidden from a
 * user answers 404 to it, and a layer group it may see comes back without the entries it may not.
 * Read with the writer's credentials, a restricted user's write would publish a group hidden from it
 * as removed, and a group it sees partly as holding only what it sees: the cluster would lose both
 * on every node. So the gateway reads back with the master node's own credentials (`readBack`),
 * and forwards the write itself with the caller's, for GeoServer's security to decide.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { handleGatewayCall, type GatewayRequest, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { gatewayRecovery } from '../../../../lambdas/config-sync/gateway/recovery';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';
import { MASTER_NODE, storingPublisher } from './storing-publisher';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
/** A GeoServer user whose data security hides workspace topp and the global layer group `secret` from it. */
const SF_EDITOR = 'Basic ' + Buffer.from('sf-editor:secret').toString('base64');

function request(method: string, path: string, body?: unknown, authorization = ADMIN, query = ''): GatewayRequest {
  return {
    method,
    path,
    query,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
  };
}

const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * A layer group as GeoServer's secured catalog shows it to SF_EDITOR: the entries it may not see
 * (topp's layers) left out, with their styles.
 */
function filteredGroup(body: Buffer): Buffer {
  const document = JSON.parse(body.toString('utf8')) as { layerGroup: JsonObject };
  const group = document.layerGroup;
  const published = asList((group.publishables as { published?: JsonObject | JsonObject[] } | undefined)?.published);
  const styles = asList((group.styles as { style?: JsonObject | JsonObject[] } | undefined)?.style);
  const keep = published.map((entry) => !String(entry.name).startsWith('topp:'));
  return Buffer.from(
    JSON.stringify({
      layerGroup: {
        ...group,
        publishables: { published: published.filter((_, index) => keep[index]) },
        ...(styles.length === published.length ? { styles: { style: styles.filter((_, index) => keep[index]) } } : {}),
      },
    }),
  );
}

/** The master as the secured catalog answers SF_EDITOR; every call of its is counted by its credentials. */
function securedMaster(master: GeoServerStandIn, calls: { method: string; path: string; as: string }[]): Upstream {
  const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
  return {
    async send(call, timeoutMs) {
      const editor = call.headers.authorization === SF_EDITOR;
      calls.push({ method: call.method, path: call.path, as: editor ? 'sf-editor' : call.headers.authorization === ADMIN ? 'admin' : 'none' });
      const hidden = /^\/(workspaces\/topp(\/|\.json$)|namespaces\/topp|layers\/topp(:|%3A)|layergroups\/secret(\/|\.json$))/i.test(call.path);
      if (editor && hidden) {
        return { status: 404, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`No such object: ${call.path}`) };
      }
      // The stand-in knows admin only: the editor's other calls are made as it would be let through.
      const answer = await upstream.send(editor ? { ...call, headers: { ...call.headers, authorization: ADMIN } } : call, timeoutMs);
      if (editor && call.method === 'GET' && /^\/layergroups\/[^/]+\.json$/.test(call.path) && answer.status === 200) {
        return { ...answer, body: filteredGroup(answer.body) };
      }
      return answer;
    },
  };
}

describe('a write of a user the master hides objects from, read back', () => {
  let master: GeoServerStandIn;
  let storing: ReturnType<typeof storingPublisher>;
  let calls: { method: string; path: string; as: string }[];

  beforeEach(async () => {
    master = await startGeoServerStandIn();
    storing = storingPublisher();
    calls = [];
  });
  afterEach(async () => {
    await master.close();
  });

  function gateway() {
    const writes = leaseSerializer(new MemoryWriteLease(), { waitMs: 1000, ttlMs: 30_000 });
    const styleUsers = styleUsersInStore(storing.store, MASTER_NODE);
    const catalog = catalogInStore(storing.store, MASTER_NODE);
    const recovery = gatewayRecovery({ stored: (refs) => storing.store.readObjects(MASTER_NODE, refs), styleUsers, catalog, publisher: storing });
    const secured = securedMaster(master, calls);
    // The master node's own credentials, as the gateway function reads them from its secret.
    const readBack: Upstream = { send: (call, timeoutMs) => secured.send({ ...call, headers: { ...call.headers, authorization: ADMIN } }, timeoutMs) };
    const options = { writes, styleUsers, catalog, recovery, readBack };
    return (call: GatewayRequest) => handleGatewayCall(secured, storing, call, options);
  }

  const layer = (name: string) => ({ '@type': 'layer', name });
  /** topp:states and sf:roads, sf:rivers; the global groups `world` (all three) and `secret` (topp:states, sf:roads). */
  const setUp = async (send: ReturnType<typeof gateway>) => {
    for (const name of ['topp', 'sf']) {
      expect((await send(request('POST', '/workspaces', { workspace: { name } }))).status).toBe(201);
      expect((await send(request('POST', `/workspaces/${name}/datastores`, { dataStore: { name: 'pg', type: 'PostGIS' } }))).status).toBe(201);
    }
    for (const [workspace, name] of [['topp', 'states'], ['sf', 'roads'], ['sf', 'rivers']]) {
      expect((await send(request('POST', `/workspaces/${workspace}/datastores/pg/featuretypes`, { featureType: { name, srs: 'EPSG:4326' } }))).status).toBe(201);
    }
    const group = (name: string, layers: string[]) => request('POST', '/layergroups', { layerGroup: { name, publishables: { published: layers.map(layer) } } });
    expect((await send(group('world', ['sf:roads', 'sf:rivers', 'topp:states']))).status).toBe(201);
    expect((await send(group('secret', ['topp:states', 'sf:roads']))).status).toBe(201);
    storing.published.length = 0;
    calls.length = 0;
  };
  const changes = () => storing.published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`);
  /** The groups' entries as the master's store holds them, by name. */
  const storedEntries = async (name: string) => {
    const [held] = await storing.store.readObjects(MASTER_NODE, [{ type: 'layerGroup', id: name }]);
    if (!held || held.deleted) return undefined;
    return asList((held.properties.publishables as { published?: JsonObject | JsonObject[] }).published).map((entry) => entry.name);
  };
  const masterEntries = (name: string) => {
    const held = master.catalog.objects.layerGroup.get(name) as JsonObject | undefined;
    return held ? asList((held.publishables as { published?: JsonObject | JsonObject[] }).published).map((entry) => entry.name) : undefined;
  };

  it("a layer deleted with recurse: the groups holding it are published as the master holds them, a hidden one not as removed", async () => {
    const send = gateway();
    await setUp(send);

    const answer = await send(request('DELETE', '/layers/sf:roads', undefined, SF_EDITOR, 'recurse=true'));
    expect(answer).toMatchObject({ status: 200, replication: 'published' });
    expect(changes()).not.toContain('remove layerGroup/secret');
    expect(changes()).not.toContain('remove layerGroup/world');
    expect(masterEntries('world')).toEqual(['sf:rivers', 'topp:states']);
    expect(masterEntries('secret')).toEqual(['topp:states']);
    expect(await storedEntries('world')).toEqual(masterEntries('world'));
    expect(await storedEntries('secret')).toEqual(masterEntries('secret'));
    // The write itself went with the caller's credentials, for GeoServer's security to decide.
    expect(calls.filter((call) => call.method === 'DELETE')).toEqual([{ method: 'DELETE', path: '/layers/sf:roads', as: 'sf-editor' }]);
  });

  it("a feature type renamed: the groups holding its layer are published whole, a hidden one not as removed", async () => {
    const send = gateway();
    await setUp(send);

    const answer = await send(request('PUT', '/workspaces/sf/datastores/pg/featuretypes/roads', { featureType: { name: 'streets' } }, SF_EDITOR));
    expect(answer).toMatchObject({ status: 200, replication: 'published' });
    expect(changes()).not.toContain('remove layerGroup/secret');
    expect(masterEntries('world')).toEqual(['sf:streets', 'sf:rivers', 'topp:states']);
    expect(masterEntries('secret')).toEqual(['topp:states', 'sf:streets']);
    expect(await storedEntries('world')).toEqual(masterEntries('world'));
    expect(await storedEntries('secret')).toEqual(masterEntries('secret'));
    expect(calls.filter((call) => call.method === 'PUT')).toEqual([{ method: 'PUT', path: '/workspaces/sf/datastores/pg/featuretypes/roads', as: 'sf-editor' }]);
  });

  it("a style renamed: its users are published as the master holds them, a layer hidden from the caller not as removed", async () => {
    const send = gateway();
    await setUp(send);
    const sld = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>lines</Name></NamedLayer></StyledLayerDescriptor>';
    const upload = { ...request('POST', '/styles', undefined, ADMIN, 'name=lines&raw=true'), headers: { authorization: ADMIN, 'content-type': 'application/vnd.ogc.sld+xml' }, body: Buffer.from(sld) };
    expect((await send(upload)).status).toBe(201);
    for (const name of ['topp:states', 'sf:rivers']) expect((await send(request('PUT', `/layers/${name}`, { layer: { defaultStyle: { name: 'lines' } } }))).status).toBe(200);
    storing.published.length = 0;

    const answer = await send(request('PUT', '/styles/lines', { style: { name: 'strokes' } }, SF_EDITOR));
    expect(answer).toMatchObject({ status: 200, replication: 'published' });
    expect(changes()).not.toContain('remove layer/topp:states');
    expect(changes()).toEqual(expect.arrayContaining(['modify layer/topp:states', 'modify layer/sf:rivers']));
    const [states] = await storing.store.readObjects(MASTER_NODE, [{ type: 'layer', id: 'topp:states' }]);
    expect(states).toMatchObject({ deleted: false, properties: { defaultStyle: { name: 'strokes' } } });
  });
});
