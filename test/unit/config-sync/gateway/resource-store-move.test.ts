/**
 * A PUT of a feature type or coverage whose body names another store: GeoServer moves the
 * resource there (featureTypePut copies the body's `store` onto it), and the gateway publishes
 * the move as the resource's modify, read back from the new store's path, its `store` naming the
 * new one (gateway/resource-store.ts). A move the gateway cannot name the destination of, to
 * another workspace, or with a rename, is refused before anything reaches the master. A body
 * naming the store the path names is an ordinary update.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { handleGatewayCall, type GatewayRequest } from '../../../../lambdas/config-sync/gateway/gateway';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { movedResourcePath, resourceStoreProblem } from '../../../../lambdas/config-sync/gateway/resource-store';
import { classifyRestPath, type ManagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import { readXmlDocument } from '../../../../lambdas/shared/xml-reader';
import { styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

let master: GeoServerStandIn;
let storing: ReturnType<typeof storingPublisher>;

beforeEach(async () => {
  master = await startGeoServerStandIn();
  storing = storingPublisher();
});
afterEach(async () => {
  const violations = master.violations;
  await master.close();
  expect(violations).toEqual([]);
});

function send(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const request: GatewayRequest = {
    method,
    path,
    query: '',
    headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
  const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
  return handleGatewayCall(upstream, storing, request, {
    styleUsers: styleUsersInStore(storing.store, MASTER_NODE),
    catalog: catalogInStore(storing.store, MASTER_NODE),
    readBack: masterView(upstream),
  });
}

async function ok(method: string, path: string, body?: unknown) {
  const answer = await send(method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.body.toString('utf8')}`);
  return answer;
}

async function seed(): Promise<void> {
  await ok('POST', '/workspaces', { workspace: { name: 'topp' } });
  await ok('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await ok('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg2', type: 'PostGIS' } });
  await ok('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads' } });
  await ok('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'dem', type: 'GeoTIFF' } });
  await ok('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'dem2', type: 'GeoTIFF' } });
  await ok('POST', '/workspaces/topp/coveragestores/dem/coverages', { coverage: { name: 'height' } });
  storing.published.length = 0;
  master.requests.length = 0;
}

describe('a resource PUT naming another store', () => {
  it.each([
    ['/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { title: 'Moved', store: { name: 'topp:pg2' } } }, 'application/json', 'featureType', 'topp:roads', 'topp:pg2'],
    ['/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { store: { '@class': 'dataStore', name: 'pg2' } } }, 'application/json', 'featureType', 'topp:roads', 'topp:pg2'],
    ['/workspaces/topp/coveragestores/dem/coverages/height', { coverage: { store: { name: 'topp:dem2' } } }, 'application/json', 'coverage', 'topp:height', 'topp:dem2'],
  ])('PUT %s %j: moved on the master, published as its modify read back under the new store', async (path, body, contentType, type, id, store) => {
    await seed();
    const answer = await send('PUT', path, body, contentType);
    expect(answer.status).toBe(200);
    expect(answer.replication).toBe('published');
    expect(storing.published).toEqual([{ kind: 'modify', object: { type, id }, patch: expect.objectContaining({ store: expect.objectContaining({ name: store }) }) }]);
    expect(master.catalog.objects[type as 'featureType' | 'coverage'].get(id)).toMatchObject({ store: { name: store } });
    expect(master.catalog.objects.layer.get(id)).toBeDefined();
  });

  it.each([
    ['/workspaces/topp/featuretypes/roads', { featureType: { store: { name: 'topp:pg2' } } }, /while the path names none/],
    ['/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { name: 'streets', store: { name: 'topp:pg2' } } }, /move it and rename it in two writes/],
  ])('PUT %s %j: 400 naming store, nothing forwarded or published', async (path, body, message) => {
    await seed();
    await expect(send('PUT', path, body)).rejects.toMatchObject({ status: 400, field: 'store', message: expect.stringMatching(message) });
    expect(master.requests.filter((request) => request.method !== 'GET')).toEqual([]);
    expect(storing.published).toEqual([]);
    expect(master.catalog.objects.featureType.get('topp:roads')).toMatchObject({ store: { name: 'topp:pg' } });
  });

  it('publishes an update whose body names the store the path names', async () => {
    await seed();
    const answer = await ok('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { title: 'Streets', store: { name: 'topp:pg' } } });
    expect(answer.replication).toBe('published');
    expect(storing.published).toEqual([expect.objectContaining({ kind: 'modify', object: { type: 'featureType', id: 'topp:roads' } })]);
    expect(master.catalog.objects.featureType.get('topp:roads')).toMatchObject({ title: 'Streets', store: { name: 'topp:pg' } });
  });
});

describe('which store a body names (resourceStoreProblem)', () => {
  const target = classifyRestPath('/workspaces/topp/datastores/pg/featuretypes/roads') as ManagedPath;
  const xml = (text: string) => ({ present: true, value: '', element: readXmlDocument(text) });

  it.each([
    ['a JSON name with its workspace', { present: true, value: { name: 'topp:pg', href: 'http://h/geoserver/rest/workspaces/topp/datastores/pg.json' } }],
    ['a JSON name and workspace apart', { present: true, value: { name: 'pg', workspace: { name: 'topp' } } }],
    ['a JSON null (OwsUtils.copy skips it)', { present: true, value: null }],
    ['no store at all', { present: false }],
    ['an XML name', xml('<store><name>pg</name></store>')],
    ['an XML name with its workspace element', xml('<store class="dataStore"><workspace>topp</workspace><name>pg</name></store>')],
  ])('lets the path\'s own store through: %s', (_what, member) => {
    expect(resourceStoreProblem(target, 'PUT', member)).toBeUndefined();
  });

  it.each([
    ['another workspace\'s store of the same name', { present: true, value: { name: 'sf:pg' } }],
    ['a workspace apart naming another one', { present: true, value: { name: 'pg', workspace: 'sf' } }],
    ['a store named by id, which the gateway cannot check', xml('<store><id>DataStoreInfoImpl-1</id></store>')],
    // GeoServer's XML reader takes a name's text up to its first element: "p", not "pg".
    ['an XML name holding an element', xml('<store><name>p<x/>g</name></store>')],
    ['an XML workspace name holding an element', xml('<store><name>pg</name><workspace><name>to<x/>pp</name></workspace></store>')],
  ])('refuses %s', (_what, member) => {
    expect(resourceStoreProblem(target, 'PUT', member)).toMatch(/publishes a move of featureType "topp:roads" only to another store of its workspace/);
    expect(movedResourcePath(target, 'PUT', member)).toBeUndefined();
  });

  it.each([
    ['an XML store element naming another', xml('<store>pg2</store>')],
    ['an XML name with its workspace', xml('<store><name>topp:pg2</name></store>')],
    ['a JSON name with its workspace', { present: true, value: { name: 'topp:pg2' } }],
    ['a JSON name and workspace apart', { present: true, value: { name: 'pg2', workspace: { name: 'topp' } } }],
  ])('reads a move to the new store\'s path: %s', (_what, member) => {
    expect(resourceStoreProblem(target, 'PUT', member)).toBeUndefined();
    expect(movedResourcePath(target, 'PUT', member)).toBe('/workspaces/topp/datastores/pg2/featuretypes/roads');
  });

  it('leaves a POST alone: the store a new resource goes to is the path\'s or the body\'s, and published as such', () => {
    expect(resourceStoreProblem(classifyRestPath('/workspaces/topp/featuretypes') as ManagedPath, 'POST', { present: true, value: { name: 'pg2' } })).toBeUndefined();
  });
});
