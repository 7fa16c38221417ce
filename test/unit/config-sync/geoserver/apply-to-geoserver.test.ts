/**
 * Applying events to a node's GeoServer through the REST mapping, against an in-memory fake
 * GeoServer: the calls each type makes, idempotence (add of an existing object, remove of a
 * missing one, a crash before the commit), styles, merge-patch deletions, and the two kinds of
 * failure (unavailable: the node waits; refused: recorded and the node goes on).
 */
import { applyDeliveredBatch, applyDeliveredEvent, catchUp, MAX_APPLY_ATTEMPTS, retryParked, type AppliedEvent, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange, PublishedEvent } from '../../../../lambdas/config-sync/events';
import { applyToGeoServer } from '../../../../lambdas/config-sync/geoserver/apply';
import { GeoServerUnavailableError, truncate } from '../../../../lambdas/config-sync/geoserver/errors';
import { add, applyDeps, harness, modify, type Harness } from '../fixtures';
import { HELD_CURSOR, shownObject } from '../../../../lambdas/config-sync/ports';
import { FakeGeoServer } from './fake-geoserver';
import { publishChange } from '../../../../lambdas/config-sync/publish';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import type { RestRequest } from '../../../../lambdas/config-sync/geoserver/ports';

const SLAVE = { cluster: 'test-cluster', node: 'slave-1' };

/** The warnings the apply path logged in the current test ("event parked"), kept here instead of printed. */
let warnings: { message: string; [field: string]: unknown }[] = [];
beforeEach(() => {
  warnings = [];
});

function withGeoServer(h: Harness, geoserver: FakeGeoServer): ApplyDeps {
  return {
    ...applyDeps(h),
    geoserver: { rest: geoserver, options: { sleep: async () => undefined } },
    warn: (message, fields) => warnings.push({ message, ...fields }),
  };
}

const remove = (type: ConfigChange['object']['type'], id: string, recurse?: boolean): ConfigChange => ({
  kind: 'remove',
  object: { type, id },
  ...(recurse === undefined ? {} : { recurse }),
});

const SLD = '<?xml version="1.0"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';

/** A small catalog in dependency order, in GeoServer's representations. */
const CATALOG: ConfigChange[] = [
  add('workspace', 'topp', { name: 'topp', isolated: false }),
  add('namespace', 'topp', { prefix: 'topp', uri: 'http://topp.example.org' }),
  add('dataStore', 'topp:pg', {
    name: 'pg',
    type: 'PostGIS',
    enabled: true,
    workspace: { name: 'topp' },
    connectionParameters: { entry: [{ '@key': 'host', $: 'db' }, { '@key': 'dbtype', $: 'postgis' }] },
  }),
  add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', srs: 'EPSG:4326', store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', url: 'file:data/dem.tif', workspace: { name: 'topp' } }),
  add('coverage', 'topp:elevation', { name: 'elevation', store: { '@class': 'coverageStore', name: 'topp:dem' } }),
  add('wmsStore', 'topp:remote', { name: 'remote', capabilitiesURL: 'https://wms.example.org?request=GetCapabilities' }),
  add('wmsLayer', 'topp:weather', { name: 'weather', store: { '@class': 'wmsStore', name: 'remote' } }),
  add('wmtsStore', 'topp:tiles', { name: 'tiles', capabilitiesURL: 'https://wmts.example.org/caps.xml' }),
  add('wmtsLayer', 'topp:osm', { name: 'osm', store: { '@class': 'wmtsStore', name: 'topp:tiles' } }),
  add('style', 'topp:roads', { name: 'roads', format: 'sld', languageVersion: { version: '1.0.0' }, body: SLD }),
  add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'topp:roads' } }),
  add('layerGroup', 'basemap', { name: 'basemap', mode: 'SINGLE', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } }),
  modify('global', 'global', { settings: { verbose: false, numDecimals: 6 } }),
  modify('workspaceSettings', 'topp', { settings: { charset: 'UTF-8' } }),
  modify('service', 'WMS', { enabled: true, maxRenderingTime: 60 }),
  modify('service', 'topp:WFS', { maxFeatures: 1000 }),
  modify('logging', 'logging', { level: 'PRODUCTION_LOGGING', stdOutLogging: true }),
];

/** Appends the changes and delivers them as one batch, which must not fail: what each event became. */
async function deliverInOneBatch(h: Harness, deps: ApplyDeps, changes: readonly ConfigChange[]) {
  const events = await h.appendAll(changes);
  const result = await applyDeliveredBatch(deps, SLAVE, events.map((event) => JSON.stringify(event)));
  expect(result.failure).toBeUndefined();
  return result.results.flatMap((delivery) => ('applied' in delivery ? delivery.applied : []));
}

async function applyAll(h: Harness, deps: ApplyDeps, changes: readonly ConfigChange[]): Promise<PublishedEvent[]> {
  const events = await h.appendAll(changes);
  for (const event of events) await applyDeliveredEvent(deps, SLAVE, event);
  return events;
}

describe('applying events to a GeoServer', () => {
  it("sends the log's event, never a delivered copy that differs from it: the copy is set aside", async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps = withGeoServer(h, geoserver);
    const [real] = await h.appendAll([add('workspace', 'topp', { name: 'topp' })]);
    const forged = JSON.stringify({ ...real!, object: { type: 'workspace', id: 'evil' }, properties: { name: 'evil' } });
    const result = await applyDeliveredBatch(deps, SLAVE, [forged]);
    expect(result.setAside).toEqual([{ index: 0, reason: expect.stringContaining("differs from the log's event 1 (object)") }]);
    expect(geoserver.requests.filter((request) => request.includes('evil'))).toEqual([]);
    expect(geoserver.requests.some((request) => request.includes('topp'))).toBe(true);
    expect(h.store.liveObjects('slave-1').map((object) => object.id)).toEqual(['topp']);
  });

  it('maps every type to its REST calls, creating what the GeoServer lacks', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    // The layer appears when its feature type is published, as in GeoServer.
    geoserver.objects.set('/workspaces/topp/layers/roads', { layer: { name: 'roads' } });
    // Settings always exist in a GeoServer.
    for (const path of ['/settings', '/services/wms/settings', '/services/wfs/workspaces/topp/settings', '/logging']) {
      geoserver.objects.set(path, {});
    }
    await applyAll(h, withGeoServer(h, geoserver), CATALOG);
    expect(geoserver.requests).toEqual([
      'PUT /workspaces/topp',
      'POST /workspaces',
      'PUT /namespaces/topp',
      'POST /namespaces',
      'PUT /workspaces/topp/datastores/pg',
      'POST /workspaces/topp/datastores',
      'PUT /workspaces/topp/datastores/pg/featuretypes/roads',
      'POST /workspaces/topp/datastores/pg/featuretypes',
      'PUT /workspaces/topp/coveragestores/dem',
      'POST /workspaces/topp/coveragestores',
      'PUT /workspaces/topp/coveragestores/dem/coverages/elevation',
      'POST /workspaces/topp/coveragestores/dem/coverages',
      'PUT /workspaces/topp/wmsstores/remote',
      'POST /workspaces/topp/wmsstores',
      'PUT /workspaces/topp/wmsstores/remote/wmslayers/weather',
      'POST /workspaces/topp/wmsstores/remote/wmslayers',
      'PUT /workspaces/topp/wmtsstores/tiles',
      'POST /workspaces/topp/wmtsstores',
      'PUT /workspaces/topp/wmtsstores/tiles/layers/osm',
      'POST /workspaces/topp/wmtsstores/tiles/layers',
      'PUT /workspaces/topp/styles/roads',
      'POST /workspaces/topp/styles',
      'PUT /workspaces/topp/styles/roads?raw=true',
      'PUT /workspaces/topp/layers/roads',
      'PUT /layergroups/basemap',
      'POST /layergroups',
      'PUT /settings',
      'PUT /workspaces/topp/settings',
      'POST /workspaces/topp/settings',
      'PUT /services/wms/settings',
      'PUT /services/wfs/workspaces/topp/settings',
      'PUT /logging',
    ]);
    // Bodies are the representation in its wrapper; a style's info leaves its document out.
    expect(geoserver.objects.get('/workspaces/topp/datastores/pg')).toEqual({
      dataStore: expect.objectContaining({ name: 'pg', type: 'PostGIS', connectionParameters: expect.any(Object) }),
    });
    expect(geoserver.objects.get('/workspaces/topp/styles/roads')).toEqual({
      style: { name: 'roads', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'roads.sld' },
    });
    expect(geoserver.objects.get('/workspaces/topp/styles/roads#document')).toBe(`application/vnd.ogc.sld+xml\n${SLD}`);
    expect(geoserver.objects.get('/services/wms/settings')).toEqual({ wms: { enabled: true, maxRenderingTime: 60 } });
    expect(geoserver.objects.get('/settings')).toEqual({ global: { settings: { verbose: false, numDecimals: 6 } } });
    expect(await h.store.readCursor('slave-1')).toBe(CATALOG.length);
  });

  it('updates an object the GeoServer already has, and removes one it lacks without complaint', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.objects.set('/workspaces/sf', { workspace: { name: 'sf', isolated: true } });
    await applyAll(h, withGeoServer(h, geoserver), [add('workspace', 'sf', { isolated: false }), remove('dataStore', 'sf:gone', true)]);
    // A 404 to the DELETE is done once the GeoServer is seen answering (a URL answering 404 to everything is not).
    expect(geoserver.requests).toEqual(['PUT /workspaces/sf', 'DELETE /workspaces/sf/datastores/gone?recurse=true', 'GET /about/version']);
    // The name comes from the id when the master left it out.
    expect(geoserver.objects.get('/workspaces/sf')).toEqual({ workspace: { name: 'sf', isolated: false } });
    expect(await h.store.readCursor('slave-1')).toBe(2);
  });

  it('sends the whole object from the node store on a modify, and cascades a remove only when asked', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    await applyAll(h, withGeoServer(h, geoserver), [
      add('workspace', 'topp'),
      add('dataStore', 'topp:pg', { type: 'PostGIS', description: 'roads', connectionParameters: { entry: [] } }),
      modify('dataStore', 'topp:pg', { description: 'all roads' }),
      remove('dataStore', 'topp:pg'),
      remove('workspace', 'topp', true),
    ]);
    expect(geoserver.requests.slice(4)).toEqual([
      'PUT /workspaces/topp/datastores/pg',
      'DELETE /workspaces/topp/datastores/pg?recurse=false',
      'DELETE /workspaces/topp?recurse=true',
    ]);
    expect(geoserver.objects.size).toBe(0);
  });

  it('uploads SLD 1.1 as SE with raw=true and keeps the bytes', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const se = `<StyledLayerDescriptor version="1.1.0">${'<se:Rule/>'.repeat(5000)} é ü</StyledLayerDescriptor>`;
    await applyAll(h, withGeoServer(h, geoserver), [add('style', 'lines', { format: 'sld', languageVersion: { version: '1.1.0' }, body: se })]);
    expect(geoserver.requests).toEqual(['PUT /styles/lines', 'POST /styles', 'PUT /styles/lines?raw=true']);
    expect(geoserver.objects.get('/styles/lines#document')).toBe(`application/vnd.ogc.se+xml\n${se}`);
  });

  it('applies an event again after a crash before the commit, with the same result', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const [event] = await h.appendAll([add('workspace', 'topp', { isolated: true })]);
    // First attempt: the GeoServer took it, then the store refused to move the cursor.
    const failing = withGeoServer(h, geoserver);
    const commit = h.store.commit.bind(h.store);
    let crash = true;
    h.store.commit = async (node, change) => {
      if (crash) {
        crash = false;
        throw new Error('crash before the commit');
      }
      return commit(node, change);
    };
    await expect(applyDeliveredEvent(failing, SLAVE, event!)).rejects.toThrow('crash before the commit');
    await applyDeliveredEvent(failing, SLAVE, event!);
    expect(geoserver.requests).toEqual(['PUT /workspaces/topp', 'POST /workspaces', 'PUT /workspaces/topp']);
    expect([...geoserver.objects.entries()]).toEqual([['/workspaces/topp', { workspace: { name: 'topp', isolated: true } }]]);
    expect(await h.store.readCursor('slave-1')).toBe(1);
  });

  it('waits while the GeoServer is down (refused, then 503), moves nothing, and catches up in order', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps = withGeoServer(h, geoserver);
    const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
    await applyDeliveredEvent(deps, SLAVE, events[0]!);
    geoserver.down = 'refuse';
    const refused = await applyDeliveredBatch(deps, SLAVE, events.slice(1).map((event) => JSON.stringify(event)));
    expect(refused.failure).toMatchObject({ index: 0 });
    expect(refused.failure?.error).toBeInstanceOf(GeoServerUnavailableError);
    expect((refused.failure?.error as GeoServerUnavailableError).geoserverStatus).toBeNull();
    geoserver.down = 503;
    const unavailable = await applyDeliveredBatch(deps, SLAVE, events.slice(1).map((event) => JSON.stringify(event)));
    expect((unavailable.failure?.error as GeoServerUnavailableError).geoserverStatus).toBe(503);
    expect(await h.store.readCursor('slave-1')).toBe(1);
    geoserver.down = null;
    const recovered = await applyDeliveredBatch(deps, SLAVE, events.slice(1).map((event) => JSON.stringify(event)));
    expect(recovered.failure).toBeUndefined();
    expect(await h.store.readCursor('slave-1')).toBe(3);
    expect([...geoserver.objects.keys()]).toEqual(['/workspaces/a', '/workspaces/b', '/workspaces/c']);
  });

  // A servlet container while the GeoServer web application is redeployed (or a proxy with no
  // route to it, a wrong context path) answers 404 to every path, /about/version included: no
  // GeoServer lacking the object, but one that cannot be reached now.
  it('waits while the GeoServer URL answers 404 to everything, reads included: no add parked, no remove taken as done', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps = withGeoServer(h, geoserver);
    const events = await h.appendAll([add('workspace', 'a'), remove('workspace', 'a', false), add('workspace', 'b')]);
    await applyDeliveredEvent(deps, SLAVE, events[0]!);
    geoserver.refuse(() => true, 404, '<html><body><h1>HTTP Status 404 – Not Found</h1></body></html>');

    const removal = await applyDeliveredBatch(deps, SLAVE, events.slice(1).map((event) => JSON.stringify(event)));
    expect(removal.failure?.error).toBeInstanceOf(GeoServerUnavailableError);
    expect((removal.failure?.error as GeoServerUnavailableError).geoserverStatus).toBe(404);
    const addition = await applyDeliveredBatch(deps, SLAVE, events.slice(2).map((event) => JSON.stringify(event)));
    expect(addition.failure?.error).toBeInstanceOf(GeoServerUnavailableError);
    expect(await h.store.readCursor('slave-1')).toBe(1);
    expect(await h.store.listParked('slave-1')).toEqual([]);

    geoserver.clearRefusals();
    const recovered = await applyDeliveredBatch(deps, SLAVE, events.slice(1).map((event) => JSON.stringify(event)));
    expect(recovered.failure).toBeUndefined();
    expect(await h.store.readCursor('slave-1')).toBe(3);
    expect([...geoserver.objects.keys()]).toEqual(['/workspaces/b']);
  });

  // A 403 counts as the credentials' only when a read with them is refused too (every request here).
  it.each([
    [401, 'Unauthorized'],
    [403, 'Access Denied'],
  ])('treats refused credentials (%i) as the GeoServer being unavailable, not as the change being wrong', async (status, text) => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.refuse(() => true, status, text);
    const [event] = await h.appendAll([add('workspace', 'a')]);
    await expect(applyDeliveredEvent(withGeoServer(h, geoserver), SLAVE, event!)).rejects.toMatchObject({
      constructor: GeoServerUnavailableError,
      message: expect.stringContaining('credentials'),
    });
    expect(await h.store.readCursor('slave-1')).toBe(0);
  });

  it('parks a change GeoServer refuses with 403 (a workspace not empty) while it accepts the credentials, and goes on', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.refuse((request) => request.method === 'DELETE' && request.path === '/workspaces/x', 403, 'Workspace not empty');
    const deps = withGeoServer(h, geoserver);
    const applied = await deliverInOneBatch(h, deps, [add('workspace', 'x'), remove('workspace', 'x', false), add('workspace', 'y')]);
    expect(applied.map((event) => [event.effect, event.geoserver?.kind])).toEqual([
      ['created', 'applied'],
      ['parked', 'rejected'],
      ['created', 'applied'],
    ]);
    expect(applied[1]?.geoserver).toMatchObject({ kind: 'rejected', request: 'DELETE /workspaces/x?recurse=false', status: 403, answer: 'Workspace not empty' });
    // The operator's log line says which event of which node, and why.
    expect(warnings).toEqual([
      expect.objectContaining({ message: 'event parked', node: 'slave-1', sequence: 2, object: { type: 'workspace', id: 'x' }, reason: expect.stringContaining('403 Workspace not empty') }),
    ]);
    expect(await h.store.readCursor('slave-1')).toBe(3);
    expect(geoserver.requests).toContain('GET /about/version');
  });

  it('parks a namespace remove GeoServer refuses with 401 (not empty) while it accepts the credentials, and goes on', async () => {
    // NamespaceController.namespaceDelete: "Namespace not empty" is thrown with HttpStatus.UNAUTHORIZED.
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.refuse((request) => request.method === 'DELETE' && request.path === '/namespaces/x', 401, 'Namespace not empty');
    const deps = withGeoServer(h, geoserver);
    const applied = await deliverInOneBatch(h, deps, [add('namespace', 'x', { uri: 'http://x' }), remove('namespace', 'x'), add('workspace', 'y')]);
    expect(applied.map((event) => [event.effect, event.geoserver?.kind])).toEqual([
      ['created', 'applied'],
      ['parked', 'rejected'],
      ['created', 'applied'],
    ]);
    expect(applied[1]?.geoserver).toMatchObject({ kind: 'rejected', request: 'DELETE /namespaces/x', status: 401, answer: 'Namespace not empty' });
    expect(await h.store.readCursor('slave-1')).toBe(3);
  });

  it('parks a change a GeoServer that answers reads refuses with 500; waits while the GeoServer answers 500 to reads too', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces/x/datastores', 500, "Resource named 'pg' already exists");
    const deps = withGeoServer(h, geoserver);
    const applied = await deliverInOneBatch(h, deps, [add('workspace', 'x'), add('dataStore', 'x:pg', { type: 'PostGIS' }), add('workspace', 'y')]);
    expect(applied.map((event) => [event.effect, event.geoserver?.kind])).toEqual([
      ['created', 'applied'],
      ['parked', 'rejected'],
      ['created', 'applied'],
    ]);
    expect(applied[1]?.geoserver).toMatchObject({ kind: 'rejected', status: 500, answer: "Resource named 'pg' already exists", attempts: 3 });

    // Every request answered 500, reads included: the GeoServer is failing, not this change.
    geoserver.refuse(() => true, 500, 'java.lang.OutOfMemoryError');
    const [next] = await h.appendAll([add('workspace', 'z')]);
    const waiting = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(next)]);
    expect(waiting.failure?.error).toBeInstanceOf(GeoServerUnavailableError);
    expect((waiting.failure?.error as GeoServerUnavailableError).geoserverStatus).toBe(500);
    expect(await h.store.readCursor('slave-1')).toBe(3);
  });

  // A change GeoServer works on past the call's bound (a store whose data source hangs, a slow
  // proxy route): the GeoServer itself answers. Held as unavailable, such a change was retried
  // with backoff forever, and every later event of the node waited behind it. A proxy in front of
  // the GeoServer whose own timeout is shorter answers such a call 504 instead.
  it.each([
    ['no answer within the call\'s bound', null, (geoserver: FakeGeoServer, match: (request: RestRequest) => boolean) => geoserver.hang(match)],
    ['a proxy\'s 504', 504, (geoserver: FakeGeoServer, match: (request: RestRequest) => boolean) => geoserver.refuse(match, 504, '<html><body><h1>504 Gateway Time-out</h1></body></html>')],
  ])('parks a change whose call gets %s while the GeoServer answers its version, after the counted attempts, and goes on', async (_, status, unanswered) => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    unanswered(geoserver, (request) => request.method === 'POST' && request.path === '/workspaces/x/datastores');
    const deps = withGeoServer(h, geoserver);
    const events = await h.appendAll([add('workspace', 'x'), add('dataStore', 'x:slow', { type: 'PostGIS' }), add('workspace', 'y')]);
    let bodies = events.map((event) => JSON.stringify(event));
    const failures: unknown[] = [];
    const applied: AppliedEvent[] = [];
    for (let delivery = 1; delivery <= MAX_APPLY_ATTEMPTS && bodies.length > 0; delivery += 1) {
      const result = await applyDeliveredBatch(deps, SLAVE, bodies);
      applied.push(...result.results.flatMap((outcome) => ('applied' in outcome ? outcome.applied : [])));
      if (!result.failure) break;
      failures.push(result.failure.error);
      bodies = bodies.slice(result.failure.index);
    }
    // Counted like any failure that is not transient (no backoff of a GeoServer that is down),
    // then parked, shown as a change the GeoServer did not take, with why.
    expect(failures).toHaveLength(MAX_APPLY_ATTEMPTS - 1);
    for (const failure of failures) expect(failure).not.toBeInstanceOf(GeoServerUnavailableError);
    expect(applied.map((event) => [event.sequence, event.effect])).toEqual([
      [1, 'created'],
      [2, 'parked'],
      [3, 'created'],
    ]);
    expect(applied[1]?.geoserver).toEqual({
      kind: 'rejected',
      request: 'POST /workspaces/x/datastores',
      status,
      answer: expect.stringContaining('GET /about/version'),
      attempts: MAX_APPLY_ATTEMPTS,
    });
    expect(await h.store.listParked('slave-1')).toEqual([
      expect.objectContaining({ object: { type: 'dataStore', id: 'x:slow' }, sequences: [2], reason: expect.stringContaining('POST /workspaces/x/datastores') }),
    ]);
    expect(await h.store.readCursor('slave-1')).toBe(3);
    expect(geoserver.objects.has('/workspaces/y')).toBe(true);

    // Its version unanswered too, the GeoServer is what does not answer: the node waits, nothing counted.
    unanswered(geoserver, () => true);
    const [next] = await h.appendAll([add('workspace', 'z')]);
    for (let delivery = 1; delivery <= MAX_APPLY_ATTEMPTS + 1; delivery += 1) {
      const waiting = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(next)]);
      expect(waiting.failure?.error).toBeInstanceOf(GeoServerUnavailableError);
    }
    expect(await h.store.readCursor('slave-1')).toBe(3);
    expect(await h.store.listParked('slave-1')).toHaveLength(1);
  });

  it('creates a style or layer group its GeoServer answers 500 to a PUT of, when a read finds it absent, and takes a 500 to the DELETE of one it lacks as done', async () => {
    // StyleController.stylePut and LayerGroupController.layerGroupPut use the entry they look up
    // without a null check (a NullPointerException: 500, not 404); so does the layer group DELETE.
    const h = harness();
    const geoserver = new FakeGeoServer();
    const missing = (request: RestRequest) =>
      (request.method === 'PUT' || request.method === 'DELETE') &&
      (request.path.startsWith('/styles/') || request.path.startsWith('/layergroups/')) &&
      !geoserver.objects.has(request.path);
    geoserver.refuse(missing, 500, 'java.lang.NullPointerException');
    const deps = withGeoServer(h, geoserver);
    const applied = await deliverInOneBatch(h, deps, [
      add('style', 'lines', { format: 'sld', languageVersion: { version: '1.0.0' }, body: SLD }),
      add('layerGroup', 'base', { mode: 'SINGLE', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } }),
      remove('layerGroup', 'base'),
      remove('layerGroup', 'base'),
    ]);
    expect(applied.map((event) => [event.effect, event.geoserver?.kind])).toEqual([
      ['created', 'applied'],
      ['created', 'applied'],
      ['removed', 'applied'],
      ['removed', 'applied'],
    ]);
    expect(geoserver.objects.get('/styles/lines#document')).toBe(`application/vnd.ogc.sld+xml\n${SLD}`);
    expect(geoserver.objects.has('/layergroups/base')).toBe(false);
    expect(geoserver.requests.filter((request) => request.includes('/styles/lines') || request === 'POST /styles')).toEqual([
      'PUT /styles/lines',
      'GET /styles/lines',
      'POST /styles',
      'PUT /styles/lines?raw=true',
    ]);
  });

  it('disables a store or resource it creates disabled, which GeoServer enables on POST', async () => {
    // DataStoreController and FeatureTypeController set `enabled` true on a POST, whatever the body says.
    const geoserver = new FakeGeoServer();
    const rest = {
      url: geoserver.url,
      async send(request: RestRequest) {
        const response = await geoserver.send(request);
        if (request.method === 'POST' && response.status === 201) {
          const item = `${request.path}/${response.text}`;
          const [wrapper, inner] = Object.entries(geoserver.objects.get(item) as Record<string, JsonObject>)[0]!;
          geoserver.objects.set(item, { [wrapper]: { ...inner, enabled: true } } as JsonObject);
        }
        return response;
      },
    };
    const dataStore = { name: 'pg', type: 'PostGIS', enabled: false, connectionParameters: { entry: [] } } as JsonObject;
    const featureType = { name: 'roads', enabled: false, store: { '@class': 'dataStore', name: 'topp:pg' } } as JsonObject;
    for (const step of [
      { kind: 'upsert', type: 'dataStore', id: 'topp:pg', properties: dataStore, incomplete: false, deleted: [] },
      { kind: 'upsert', type: 'featureType', id: 'topp:roads', properties: featureType, incomplete: false, deleted: [], absent: true },
    ] as const) {
      expect(await applyToGeoServer(rest, step)).toMatchObject({ kind: 'applied' });
    }
    expect(geoserver.objects.get('/workspaces/topp/datastores/pg')).toMatchObject({ dataStore: { enabled: false } });
    expect(geoserver.objects.get('/workspaces/topp/datastores/pg/featuretypes/roads')).toMatchObject({ featureType: { enabled: false } });
  });

  it('records a long refusal cut short as well-formed text, never half of an emoji', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    // The answer is cut at 2,000 UTF-16 units: inside the emoji.
    geoserver.refuse((request) => request.method === 'DELETE' && request.path === '/workspaces/x', 403, `${'a'.repeat(1999)}🗺️${'b'.repeat(3000)}`);
    const deps = withGeoServer(h, geoserver);
    const applied = await deliverInOneBatch(h, deps, [add('workspace', 'x'), remove('workspace', 'x', false)]);
    expect(applied.map((event) => event.effect)).toEqual(['created', 'parked']);
    const answer = (applied[1]?.geoserver as { answer: string }).answer;
    expect([answer.length, answer.isWellFormed(), answer.endsWith('a…')]).toEqual([2000, true, true]);
    const [record] = await h.store.listParked('slave-1');
    expect([record?.reason?.length, record?.reason?.isWellFormed()]).toEqual([1000, true]);
    // Cut anywhere, the text stays well formed.
    const text = 'x🗺️y'.repeat(50);
    for (let max = 1; max < text.length; max += 1) expect([max, truncate(text, max).isWellFormed()]).toEqual([max, true]);
  });

  it('retries a refused change a bounded number of times, then parks it with GeoServer’s answer, and goes on', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces/x/datastores', 400, 'Unsupported data store type: Nope');
    const deps = withGeoServer(h, geoserver);
    const applied = await deliverInOneBatch(h, deps, [
      add('workspace', 'x'),
      add('dataStore', 'x:bad', { type: 'Nope' }),
      add('workspace', 'y'),
      modify('dataStore', 'x:bad', { description: 'waits behind the refused add' }),
    ]);
    expect(applied.map((event) => [event.effect, event.geoserver?.kind])).toEqual([
      ['created', 'applied'],
      ['parked', 'rejected'],
      ['created', 'applied'],
      ['parked', undefined],
    ]);
    expect(applied[1]?.geoserver).toEqual({
      kind: 'rejected',
      request: 'POST /workspaces/x/datastores',
      status: 400,
      answer: 'Unsupported data store type: Nope',
      attempts: 3,
    });
    expect(geoserver.requests.filter((request) => request === 'POST /workspaces/x/datastores')).toHaveLength(3);
    // Parked at once (already retried), with GeoServer's answer; the later change of the same
    // object waits behind it; other objects went on.
    expect(await h.store.listParked('slave-1')).toEqual([
      expect.objectContaining({ object: { type: 'dataStore', id: 'x:bad' }, sequences: [2, 4], reason: expect.stringContaining('Unsupported data store type: Nope') }),
    ]);
    expect(await h.store.readCursor('slave-1')).toBe(4);
    expect(geoserver.objects.has('/workspaces/y')).toBe(true);
    expect(h.store.liveObjects('slave-1').map((object) => `${object.type}/${object.id}`)).toEqual(['workspace/x', 'workspace/y']);
  });

  it('retries parked events against the GeoServer after a fix, in order', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces/x/datastores', 400, 'No such host', 3);
    const deps = withGeoServer(h, geoserver);
    await applyAll(h, deps, [add('workspace', 'x'), add('dataStore', 'x:pg', { type: 'PostGIS' }), modify('dataStore', 'x:pg', { description: 'v2' })]);
    expect(await h.store.listParked('slave-1')).toHaveLength(1);
    const retried = await retryParked(deps, SLAVE);
    expect(retried).toEqual({ cleared: [2, 3], stillParked: [] });
    expect(geoserver.objects.get('/workspaces/x/datastores/pg')).toEqual({ dataStore: { name: 'pg', type: 'PostGIS', description: 'v2' } });
    expect(h.store.liveObjects('slave-1').map((object) => `${object.type}/${object.id}`)).toEqual(['dataStore/x:pg', 'workspace/x']);
  });

  it('lets a later add of the object clear the modifies a redrive cannot apply, and retries objects oldest first', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    // As GeoServer does: a store cannot be created in a workspace it lacks.
    geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces/late/datastores' && !geoserver.objects.has('/workspaces/late'), 404, 'No such workspace: late');
    const deps = withGeoServer(h, geoserver);
    // A master published a modify of the workspace before its add: the GeoServer cannot take
    // the patch (no object to PUT it on), so it parks, and the add parks behind it.
    await applyAll(h, deps, [
      modify('workspace', 'late', { isolated: false }),
      add('workspace', 'late', { name: 'late', isolated: true }),
      add('dataStore', 'late:pg', { name: 'pg', type: 'PostGIS' }),
    ]);
    expect((await h.store.listParked('slave-1')).map((record) => [record.key, record.sequences])).toEqual([
      ['#parked/dataStore/late:pg', [3]],
      ['#parked/workspace/late', [1, 2]],
    ]);
    // One redrive: the modify is superseded by the add, which creates the workspace, and then
    // the store (parked after it, though its record's key sorts first) goes in.
    expect(await retryParked(deps, SLAVE)).toEqual({ cleared: [1, 2, 3], stillParked: [] });
    expect(geoserver.objects.get('/workspaces/late')).toEqual({ workspace: { name: 'late', isolated: true } });
    expect(geoserver.objects.get('/workspaces/late/datastores/pg')).toEqual({ dataStore: { name: 'pg', type: 'PostGIS' } });
    // The node's store as on a node without a GeoServer: the add's object, then the store.
    const stored = await h.store.readObjects('slave-1', [{ type: 'workspace', id: 'late' }]);
    expect(stored[0]).toMatchObject({ properties: { name: 'late', isolated: true }, lastSequence: 2, incomplete: false });
    expect(h.store.liveObjects('slave-1').map((object) => `${object.type}/${object.id}`)).toEqual(['dataStore/late:pg', 'workspace/late']);
  });

  it('drops a modify a redrive cannot apply when a remove follows it, and still sends the remove, with its recurse', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps = withGeoServer(h, geoserver);
    await applyAll(h, deps, [modify('workspace', 'gone', { isolated: false }), remove('workspace', 'gone', true), add('workspace', 'gone', { name: 'gone' })]);
    expect((await h.store.listParked('slave-1')).map((record) => record.sequences)).toEqual([[1, 2, 3]]);
    const sent = geoserver.requests.length;
    const retried = await retryParked(deps, SLAVE);
    expect(retried).toEqual({ cleared: [1, 2, 3], stillParked: [] });
    // The modify is tried again (three attempts, refused), then dropped; the remove is sent (a 404 is done), then the add.
    // Each 404 is taken as the GeoServer's once it answers GET /about/version.
    expect(geoserver.requests.slice(sent)).toEqual([
      ...Array(3).fill(['PUT /workspaces/gone', 'GET /about/version']).flat(),
      'DELETE /workspaces/gone?recurse=true',
      'GET /about/version',
      'PUT /workspaces/gone',
      'POST /workspaces',
    ]);
    expect(geoserver.objects.get('/workspaces/gone')).toEqual({ workspace: { name: 'gone' } });
  });

  it('refuses a layer whose resource the GeoServer lacks, and a modify of an object it holds only in part', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const events = await applyAllResults(h, withGeoServer(h, geoserver), [
      add('layer', 'topp:ghost', { resource: { name: 'topp:ghost' } }),
      modify('dataStore', 'topp:never_added', { description: 'x' }),
    ]);
    expect(events.map((event) => event.geoserver)).toEqual([
      expect.objectContaining({ kind: 'rejected', request: 'PUT /workspaces/topp/layers/ghost', status: 404 }),
      expect.objectContaining({ kind: 'rejected', request: 'PUT /workspaces/topp/datastores/never_added', status: 404 }),
    ]);
    // A partial object never creates one.
    expect(geoserver.requests.some((request) => request.startsWith('POST'))).toBe(false);
  });

  it('re-creates workspace settings to delete a property, and reports what a PUT could not clear elsewhere', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const events = await applyAllResults(h, withGeoServer(h, geoserver), [
      add('workspace', 'topp'),
      modify('workspaceSettings', 'topp', { settings: { charset: 'UTF-8', numDecimals: 4 } }),
      modify('workspaceSettings', 'topp', { settings: { numDecimals: null } }),
      add('featureType', 'topp:roads', { store: { name: 'pg' }, abstract: 'Roads', title: 'Roads', metadata: { cacheAgeMax: 60, x: 1 } }),
      modify('featureType', 'topp:roads', { abstract: null, metadata: { cacheAgeMax: null } }),
    ]);
    expect(geoserver.objects.get('/workspaces/topp/settings')).toEqual({ settings: { settings: { charset: 'UTF-8' } } });
    expect(geoserver.requests).toContain('DELETE /workspaces/topp/settings');
    expect(events.map((event) => (event.geoserver?.kind === 'applied' ? event.geoserver.uncleared : event.geoserver))).toEqual([
      [],
      [],
      [],
      [],
      ['abstract', 'metadata.cacheAgeMax'],
    ]);
    // The GeoServer kept them (its PUT ignores nulls), which is what GET /nodes reports.
    expect(geoserver.objects.get('/workspaces/topp/datastores/pg/featuretypes/roads')).toMatchObject({
      featureType: { abstract: 'Roads', metadata: { cacheAgeMax: 60, x: 1 } },
    });
  });

  it('applies gap-filled events from the log to the GeoServer too, in sequence order', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    await h.appendAll([add('workspace', 'one'), add('workspace', 'two'), add('workspace', 'three')]);
    const result = await catchUp(withGeoServer(h, geoserver), SLAVE);
    expect(result.cursor).toBe(3);
    expect(geoserver.requests.filter((request) => request.startsWith('POST'))).toEqual(['POST /workspaces', 'POST /workspaces', 'POST /workspaces']);
    expect([...geoserver.objects.keys()]).toEqual(['/workspaces/one', '/workspaces/two', '/workspaces/three']);
  });

  describe('a batch of consecutive events (one commit after their REST calls)', () => {
    /** The GeoServer's requests and the store's commits, in the order they happened. */
    function traced(h: Harness, geoserver: FakeGeoServer): string[] {
      const trace: string[] = [];
      const send = geoserver.send.bind(geoserver);
      geoserver.send = async (request) => {
        trace.push(`${request.method} ${request.path}`);
        return send(request);
      };
      const commit = h.store.commit.bind(h.store);
      h.store.commit = async (node, change) => {
        trace.push(`commit ${change.sequence}`);
        return commit(node, change);
      };
      const commitBatch = h.store.commitBatch.bind(h.store);
      h.store.commitBatch = async (node, change) => {
        trace.push(`commit ${change.expectedCursor + 1}..${change.sequence}`);
        return commitBatch(node, change);
      };
      return trace;
    }

    it('makes every REST call of the batch in order, then commits the batch in one transaction', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const trace = traced(h, geoserver);
      const events = await h.appendAll([
        add('workspace', 'topp', { isolated: false }),
        modify('workspace', 'topp', { isolated: true }),
        add('workspace', 'sf'),
        remove('workspace', 'sf'),
      ]);
      const result = await applyDeliveredBatch(withGeoServer(h, geoserver), SLAVE, events.map((event) => JSON.stringify(event)));
      expect(result.failure).toBeUndefined();
      expect(trace).toEqual([
        'PUT /workspaces/topp',
        'POST /workspaces',
        // The modify sends the whole object as the add left it in the run.
        'PUT /workspaces/topp',
        'PUT /workspaces/sf',
        'POST /workspaces',
        'DELETE /workspaces/sf',
        'commit 1..4',
      ]);
      expect(result.results.map((delivery) => ('applied' in delivery ? delivery.applied.map((step) => [step.sequence, step.effect, step.geoserver?.kind]) : []))).toEqual([
        [[1, 'created', 'applied']],
        [[2, 'patched', 'applied']],
        [[3, 'created', 'applied']],
        [[4, 'removed', 'applied']],
      ]);
      expect(result.cursor).toBe(4);
      expect([...geoserver.objects.entries()]).toEqual([['/workspaces/topp', { workspace: { name: 'topp', isolated: true } }]]);
      expect(h.store.liveObjects('slave-1').map((object) => [object.id, object.properties, object.lastSequence])).toEqual([['topp', { isolated: true }, 2]]);
    });

    it('applies the whole batch again after a crash between its REST calls and its commit, with the same result', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const events = await h.appendAll([add('workspace', 'topp'), modify('workspace', 'topp', { isolated: true }), add('workspace', 'sf'), remove('workspace', 'sf')]);
      const messages = events.map((event) => JSON.stringify(event));
      const deps = withGeoServer(h, geoserver);
      const commitBatch = h.store.commitBatch.bind(h.store);
      let crash = true;
      h.store.commitBatch = async (node, change) => {
        if (crash) {
          crash = false;
          throw Object.assign(new Error('the function timed out before the commit'), { transient: true });
        }
        return commitBatch(node, change);
      };
      const crashed = await applyDeliveredBatch(deps, SLAVE, messages);
      expect(crashed.failure).toMatchObject({ index: 0 });
      // The GeoServer took the run, the store did not move.
      expect([...geoserver.objects.keys()]).toEqual(['/workspaces/topp']);
      expect(await h.store.readCursor('slave-1')).toBe(0);
      const again = await applyDeliveredBatch(deps, SLAVE, messages);
      expect(again.failure).toBeUndefined();
      expect(await h.store.readCursor('slave-1')).toBe(4);
      expect([...geoserver.objects.entries()]).toEqual([['/workspaces/topp', { workspace: { name: 'topp', isolated: true } }]]);
      expect(await h.store.listParked('slave-1')).toEqual([]);
    });

    it('commits the events before a GeoServer that goes down mid-batch, keeps their answers, and resumes at the failed one', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const deps = withGeoServer(h, geoserver);
      const events = await h.appendAll([
        add('workspace', 'a'),
        add('dataStore', 'a:bad', { type: 'Nope' }),
        add('workspace', 'b'),
        add('workspace', 'c'),
        add('workspace', 'd'),
      ]);
      geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces/a/datastores', 400, 'Unsupported data store type: Nope');
      let posts = 0;
      const send = geoserver.send.bind(geoserver);
      geoserver.send = async (request) => {
        // Down from the third workspace's creation on.
        if (request.method === 'POST' && request.path === '/workspaces' && ++posts === 3) geoserver.down = 503;
        return send(request);
      };
      const messages = events.map((event) => JSON.stringify(event));
      const failed = await applyDeliveredBatch(deps, SLAVE, messages);
      expect(failed.failure?.index).toBe(3);
      expect(failed.failure?.error).toBeInstanceOf(GeoServerUnavailableError);
      // What was applied before it is committed, with the GeoServer's answers (the node's
      // status records the refusal), and nothing of the failed event or after it.
      expect(await h.store.readCursor('slave-1')).toBe(3);
      expect(failed.results.map((delivery) => ('applied' in delivery ? delivery.applied.map((step) => [step.sequence, step.effect, step.geoserver?.kind]) : []))).toEqual([
        [[1, 'created', 'applied']],
        [[2, 'parked', 'rejected']],
        [[3, 'created', 'applied']],
      ]);
      expect(h.store.liveObjects('slave-1').map((object) => object.id)).toEqual(['a', 'b']);
      geoserver.down = null;
      const resumed = await applyDeliveredBatch(deps, SLAVE, messages.slice(3));
      expect(resumed.failure).toBeUndefined();
      expect(await h.store.readCursor('slave-1')).toBe(5);
      expect([...geoserver.objects.keys()]).toEqual(['/workspaces/a', '/workspaces/b', '/workspaces/c', '/workspaces/d']);
      // The refused change was parked once, with its own retries only.
      expect(geoserver.requests.filter((request) => request === 'POST /workspaces/a/datastores')).toHaveLength(3);
    });

    it('commits a slow GeoServer’s progress as it goes: no REST call of a batch starts after the run’s time budget', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const trace = traced(h, geoserver);
      const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
      const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: geoserver, runBudgetMs: 0 } };
      const result = await applyDeliveredBatch(deps, SLAVE, events.map((event) => JSON.stringify(event)));
      expect(result.failure).toBeUndefined();
      // The last event of the batch is a run of one: the one-at-a-time commit.
      expect(trace.filter((line) => line.startsWith('commit'))).toEqual(['commit 1..1', 'commit 2..2', 'commit 3']);
      expect(trace.indexOf('commit 1..1')).toBeLessThan(trace.lastIndexOf('POST /workspaces'));
    });

    it('applies what the log holds after the messages (a backlog) to the GeoServer too, and reports it as applied ahead', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('dataStore', 'b:bad', { type: 'Nope' }), add('workspace', 'c'), modify('workspace', 'a', { isolated: true })]);
      geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces/b/datastores', 400, 'Unsupported data store type: Nope');
      const result = await applyDeliveredBatch(withGeoServer(h, geoserver), SLAVE, [JSON.stringify(events[0])]);
      expect(result.failure).toBeUndefined();
      expect(result.readAheadFailure).toBeUndefined();
      expect(result.results.map((delivery) => delivery.applied.map((step) => step.sequence))).toEqual([[1]]);
      // The refusal is among them, with GeoServer's answer, for the node's status and metrics.
      expect(result.readAhead?.map((step) => [step.sequence, step.effect, step.geoserver?.kind])).toEqual([
        [2, 'created', 'applied'],
        [3, 'parked', 'rejected'],
        [4, 'created', 'applied'],
        [5, 'patched', 'applied'],
      ]);
      expect(await h.store.readCursor('slave-1')).toBe(5);
      expect(result.cursor).toBe(5);
      expect([...geoserver.objects.entries()]).toEqual([
        ['/workspaces/a', { workspace: { name: 'a', isolated: true } }],
        ['/workspaces/b', { workspace: { name: 'b' } }],
        ['/workspaces/c', { workspace: { name: 'c' } }],
      ]);
      // Their messages, delivered later, change nothing and call nothing.
      const calls = geoserver.requests.length;
      const later = await applyDeliveredBatch(withGeoServer(h, geoserver), SLAVE, events.slice(1).map((event) => JSON.stringify(event)), { knownCursor: 5 });
      expect(later.results.map((delivery) => delivery.disposition)).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate']);
      expect(later.readAhead).toBeUndefined();
      expect(geoserver.requests).toHaveLength(calls);
    });

    it('starts no event of a read ahead once the batch has spent its time budget, and commits what it applied', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const events = await h.appendAll(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((name) => add('workspace', name)));
      // Each REST call takes a second of a clock the test keeps.
      let now = Date.parse('2026-12-06T12:00:00Z');
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
      const firstCallAt = new Map<string, number>();
      const send = geoserver.send.bind(geoserver);
      geoserver.send = async (request) => {
        const name = request.path.split('/')[2] ?? (request.body as { json: { workspace: { name: string } } }).json.workspace.name;
        if (!firstCallAt.has(name)) firstCallAt.set(name, now);
        now += 1000;
        return send(request);
      };
      const started = now;
      try {
        const deps: ApplyDeps = { ...withGeoServer(h, geoserver), geoserver: { rest: geoserver, options: { sleep: async () => undefined }, aheadBudgetMs: 4000 } };
        const result = await applyDeliveredBatch(deps, SLAVE, [JSON.stringify(events[0])]);
        expect(result.failure).toBeUndefined();
        const cursor = await h.store.readCursor('slave-1');
        // Some of the backlog, not all of it: the queue's messages bring the rest.
        expect(cursor).toBeGreaterThan(1);
        expect(cursor).toBeLessThan(8);
        expect(result.readAhead?.map((step) => step.sequence)).toEqual(Array.from({ length: cursor - 1 }, (_, index) => index + 2));
        // Every event the GeoServer took was committed, and none was begun past the budget.
        expect([...firstCallAt.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].slice(0, cursor));
        expect(Math.max(...firstCallAt.values()) - started).toBeLessThan(4000);
      } finally {
        clock.mockRestore();
      }
    });

    it('keeps the messages applied when the GeoServer goes down during the read ahead, and reports the failure', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
      const send = geoserver.send.bind(geoserver);
      geoserver.send = async (request) => {
        if (request.path === '/workspaces/c' || JSON.stringify(request.body ?? null).includes('"c"')) geoserver.down = 503;
        return send(request);
      };
      const result = await applyDeliveredBatch(withGeoServer(h, geoserver), SLAVE, [JSON.stringify(events[0])]);
      expect(result.failure).toBeUndefined();
      expect(result.results.map((delivery) => delivery.disposition)).toEqual(['applied']);
      expect(result.readAhead?.map((step) => step.sequence)).toEqual([2]);
      expect(result.readAheadFailure).toBeInstanceOf(GeoServerUnavailableError);
      expect(await h.store.readCursor('slave-1')).toBe(2);
      // Not known after a failure: the next batch reads it.
      expect(result.cursor).toBeUndefined();
    });

    it('applies none of a batch while a resync holds the node', async () => {
      const h = harness();
      const geoserver = new FakeGeoServer();
      const events = await h.appendAll([add('workspace', 'a'), add('workspace', 'b'), add('workspace', 'c')]);
      await h.store.holdForResync('slave-1', 'resync-1', Date.now() + 60_000);
      const deps = withGeoServer(h, geoserver);
      const messages = events.map((event) => JSON.stringify(event));
      const held = await applyDeliveredBatch(deps, SLAVE, messages);
      expect(held.results.map((delivery) => delivery.disposition)).toEqual(['duplicate', 'duplicate', 'duplicate']);
      expect(geoserver.requests).toEqual([]);
      // An applier given a cursor from before the hold (the apply function never passes one
      // across a job, and a resync is a job of its queue) calls the GeoServer, as it did for one
      // event before batches were committed together, and the commit learns of the hold:
      // nothing moves, and the resync's closing reconcile makes the GeoServer match the store.
      const stale = await applyDeliveredBatch(deps, SLAVE, messages, { knownCursor: 0 });
      expect(stale.failure).toBeUndefined();
      expect(stale.results.map((delivery) => delivery.disposition)).toEqual(['duplicate', 'duplicate', 'duplicate']);
      expect(h.store.liveObjects('slave-1')).toEqual([]);
      expect(await h.store.readCursor('slave-1')).toBe(HELD_CURSOR);
    });
  });

  it('refuses settings of a service the REST API does not cover without calling the GeoServer', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const [event] = await applyAllResults(h, withGeoServer(h, geoserver), [modify('service', 'WPS', { enabled: true })]);
    expect(event?.geoserver).toMatchObject({ kind: 'rejected', status: null, answer: expect.stringContaining('WMS, WFS, WCS, WMTS') });
    expect(geoserver.requests).toEqual([]);
  });

  it('refuses a name that is a dot segment without calling the GeoServer, which would resolve it to another object', async () => {
    // Ids and store references are validated against "." and ".." (objects.ts); a step can still
    // carry one from an event logged before that rule. `/styles/..` would reach `/styles`, and
    // `/workspaces/topp/datastores/../featuretypes` the workspace's feature types.
    const geoserver = new FakeGeoServer();
    const steps = [
      { kind: 'remove', type: 'style', id: '..:point', properties: {}, recurse: true },
      { kind: 'remove', type: 'style', id: 'topp:..', properties: {}, recurse: true },
      { kind: 'upsert', type: 'layer', id: '.:roads', properties: { enabled: false }, incomplete: true, deleted: [] },
      { kind: 'upsert', type: 'featureType', id: 'topp:roads', properties: { name: 'roads', store: { name: 'topp:..' } }, incomplete: false, deleted: [] },
    ] as const;
    for (const step of steps) {
      const outcome = await applyToGeoServer(geoserver, step, { sleep: async () => undefined });
      expect(outcome).toMatchObject({ kind: 'rejected', status: null, attempts: 1, answer: expect.stringMatching(/the name "\.\.?" is a dot segment/) });
    }
    expect(geoserver.requests).toEqual([]);
  });

  it('refuses a name with a backslash without calling the GeoServer, where a servlet container may read it as "/"', async () => {
    // Ids and store references are validated against it (objects.ts); a step can still carry one
    // from an event logged before that rule. Tomcat with allowBackslash (and other containers)
    // reads `%5C` as "/", then resolves the dot segments: this removal would take workspace topp.
    const geoserver = new FakeGeoServer();
    const steps = [
      { kind: 'remove', type: 'style', id: 'a\\..\\..\\workspaces\\topp', properties: {}, recurse: true },
      { kind: 'upsert', type: 'featureType', id: 'topp:roads', properties: { name: 'roads', store: { name: 'topp:..\\..\\coveragestores\\dem' } }, incomplete: false, deleted: [] },
    ] as const;
    for (const step of steps) {
      const outcome = await applyToGeoServer(geoserver, step, { sleep: async () => undefined });
      expect(outcome).toMatchObject({ kind: 'rejected', status: null, attempts: 1, answer: expect.stringContaining('a backslash') });
    }
    expect(geoserver.requests).toEqual([]);
  });

  it("names a style's file after it only when creating it: a PUT without a filename keeps the GeoServer's", async () => {
    const geoserver = new FakeGeoServer();
    // A modify of a style this node never saw added: its GeoServer holds the master's file name.
    geoserver.objects.set('/styles/roads', { style: { name: 'roads', format: 'sld', filename: 'roads-v2.sld' } });
    const modified = { kind: 'upsert', type: 'style', id: 'roads', properties: { format: 'sld', languageVersion: { version: '1.0.0' } }, incomplete: true, deleted: [] } as const;
    expect(await applyToGeoServer(geoserver, modified)).toMatchObject({ kind: 'applied' });
    expect(geoserver.requests).toEqual(['PUT /styles/roads']);
    expect(geoserver.objects.get('/styles/roads')).toEqual({ style: { name: 'roads', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'roads-v2.sld' } });
    // Created (a GeoServer without it answers the PUT 404), it needs one: named after the style.
    geoserver.requests.length = 0;
    const added = { kind: 'upsert', type: 'style', id: 'lines', properties: { format: 'sld' }, incomplete: false, deleted: [] } as const;
    expect(await applyToGeoServer(geoserver, added)).toMatchObject({ kind: 'applied' });
    expect(geoserver.requests).toEqual(['PUT /styles/lines', 'POST /styles']);
    expect(geoserver.objects.get('/styles/lines')).toEqual({ style: { name: 'lines', format: 'sld', filename: 'lines.sld' } });
  });

  it("keeps the GeoServer's layer group styles when a modify of a group this node never saw added states its entries alone", async () => {
    // The master's GeoServer, holding the group whole, kept its styles on that PUT: so does this one.
    const geoserver = new FakeGeoServer();
    const roads = { '@type': 'layer', name: 'topp:roads' };
    const rivers = { '@type': 'layer', name: 'topp:rivers' };
    geoserver.objects.set('/layergroups/base', { layerGroup: { name: 'base', publishables: { published: [roads, roads] }, styles: { style: [{ name: 'roads' }, { name: 'rivers' }] } } });
    const modified = { kind: 'upsert', type: 'layerGroup', id: 'base', properties: { publishables: { published: [roads, rivers] } } as JsonObject, incomplete: true, deleted: [] } as const;
    expect(await applyToGeoServer(geoserver, modified)).toMatchObject({ kind: 'applied' });
    expect(geoserver.objects.get('/layergroups/base')).toEqual({
      layerGroup: { name: 'base', publishables: { published: [roads, rivers] }, styles: { style: [{ name: 'roads' }, { name: 'rivers' }] } },
    });
  });

  it('creates an object a reconcile found absent with one POST, and falls back to PUT when it exists after all', async () => {
    const geoserver = new FakeGeoServer();
    const featureType = { name: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } };
    const step = { kind: 'upsert', type: 'featureType', id: 'topp:roads', properties: featureType, incomplete: false, deleted: [], absent: true } as const;
    expect(await applyToGeoServer(geoserver, step)).toEqual({ kind: 'applied', calls: 1, uncleared: [] });
    expect(geoserver.requests).toEqual(['POST /workspaces/topp/datastores/pg/featuretypes']);
    // Applied again (a redone slice): the POST is refused (409 here), the PUT updates it.
    geoserver.requests.length = 0;
    expect(await applyToGeoServer(geoserver, { ...step, properties: { ...featureType, title: 'Roads again' } })).toEqual({ kind: 'applied', calls: 2, uncleared: [] });
    expect(geoserver.requests).toEqual(['POST /workspaces/topp/datastores/pg/featuretypes', 'PUT /workspaces/topp/datastores/pg/featuretypes/roads']);
    expect(geoserver.objects.get('/workspaces/topp/datastores/pg/featuretypes/roads')).toMatchObject({ featureType: { title: 'Roads again' } });
    // A GeoServer answering 503 to both is unavailable, as without the hint.
    geoserver.down = 503;
    await expect(applyToGeoServer(geoserver, step)).rejects.toBeInstanceOf(GeoServerUnavailableError);
  });

});

describe('a `both` node with a GeoServer, beside another master', () => {
  const GS = { cluster: 'test-cluster', node: 'gs-main' };
  const GS_NODE = { cluster: 'test-cluster', node: { name: 'gs-main', role: 'both' } } as const;
  const ADMIN = { cluster: 'test-cluster', node: { name: 'admin', role: 'master' } } as const;

  /** Another master's workspace x (seq 1), applied on gs-main and its GeoServer; nothing published since. */
  async function withXApplied() {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps = withGeoServer(h, geoserver);
    await publishChange(h.deps, ADMIN, add('workspace', 'x', { name: 'x', isolated: false }));
    expect((await applyDeliveredBatch(deps, GS, h.topic.published.map((event) => JSON.stringify(event)))).failure).toBeUndefined();
    h.topic.published.length = 0;
    return { h, geoserver, deps };
  }

  /** The gateway's write of x: on gs-main's GeoServer, then its read-back published as gs-main's (left to the queue). */
  async function gatewayWritesX(h: Harness, geoserver: FakeGeoServer, workspace: JsonObject): Promise<void> {
    await geoserver.send({ method: 'PUT', path: '/workspaces/x', body: { json: { workspace } } });
    const back = (JSON.parse((await geoserver.send({ method: 'GET', path: '/workspaces/x' })).text) as { workspace: JsonObject }).workspace;
    expect((await publishChange(h.deps, GS_NODE, modify('workspace', 'x', back))).appliedLocally).toBe(false);
  }

  it("gets the other master's events through its GeoServer, and its own (the gateway's, already there) into its store alone", async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps = withGeoServer(h, geoserver);
    // Another master publishes first; gs-main's queue has not delivered it yet.
    await publishChange(h.deps, ADMIN, add('workspace', 'a', { name: 'a', isolated: false }));
    // The gateway writes to gs-main's GeoServer, then publishes the change as gs-main's.
    await geoserver.send({ method: 'POST', path: '/workspaces', body: { json: { workspace: { name: 'b', isolated: false } } } });
    geoserver.requests.length = 0;
    const own = await publishChange(h.deps, GS_NODE, add('workspace', 'b', { name: 'b', isolated: false }));
    // Its store is behind event 1, which must reach its GeoServer first: the request leaves both to the queue.
    expect(own.appliedLocally).toBe(false);
    expect(await h.store.readCursor('gs-main')).toBe(0);

    const batch = await applyDeliveredBatch(deps, GS, h.topic.published.map((event) => JSON.stringify(event)));
    expect(batch.failure).toBeUndefined();
    expect(batch.results.map((result) => [result.sequence, result.disposition])).toEqual([
      [1, 'applied'],
      [2, 'applied'],
    ]);
    expect(geoserver.objects.has('/workspaces/a')).toBe(true);
    // Event 1 went to the GeoServer; event 2, its own, did not go back to it.
    expect(geoserver.requests.filter((request) => !request.startsWith('GET')).every((request) => !request.includes('/b'))).toBe(true);
    expect(geoserver.requests.some((request) => request.startsWith('POST /workspaces') || request.startsWith('PUT /workspaces/a'))).toBe(true);
    expect(h.store.liveObjects('gs-main').map((object) => [object.id, object.lastOrigin])).toEqual([
      ['a', 'admin'],
      ['b', 'gs-main'],
    ]);
  });

  it("sends its own event again when another master's earlier event on the same object reached the GeoServer after it", async () => {
    const { h, geoserver, deps } = await withXApplied();
    // admin changes another field of x (seq 2); gs-main's queue has not delivered it yet.
    await publishChange(h.deps, ADMIN, modify('workspace', 'x', { extra: 'admin' }));
    // The gateway forwards a user's write of x to gs-main's GeoServer, reads it back, publishes it (seq 3).
    await gatewayWritesX(h, geoserver, { isolated: true });
    geoserver.requests.length = 0;

    // Seq 2's REST call sends x as the store holds it after seq 2, without the user's write: seq 3 goes again.
    const batch = await applyDeliveredBatch(deps, GS, h.topic.published.map((event) => JSON.stringify(event)));
    expect(batch.failure).toBeUndefined();
    expect(h.store.liveObjects('gs-main').find((object) => object.id === 'x')?.properties).toEqual({ name: 'x', isolated: true, extra: 'admin' });
    expect(geoserver.objects.get('/workspaces/x')).toMatchObject({ workspace: { isolated: true, extra: 'admin' } });
    expect(geoserver.requests.filter((request) => request.startsWith('PUT'))).toEqual(['PUT /workspaces/x', 'PUT /workspaces/x']);
  });

  it("leaves its own events out of the REST calls when nothing else reached their object's GeoServer copy", async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps = withGeoServer(h, geoserver);
    await publishChange(h.deps, ADMIN, add('workspace', 'a', { name: 'a', isolated: false }));
    // Two gateway writes of b while seq 1 is not applied yet: both left to the queue.
    await geoserver.send({ method: 'POST', path: '/workspaces', body: { json: { workspace: { name: 'b', isolated: false } } } });
    expect((await publishChange(h.deps, GS_NODE, add('workspace', 'b', { name: 'b', isolated: false }))).appliedLocally).toBe(false);
    await geoserver.send({ method: 'PUT', path: '/workspaces/b', body: { json: { workspace: { isolated: true } } } });
    expect((await publishChange(h.deps, GS_NODE, modify('workspace', 'b', { isolated: true }))).appliedLocally).toBe(false);
    geoserver.requests.length = 0;
    const batch = await applyDeliveredBatch(deps, GS, h.topic.published.map((event) => JSON.stringify(event)));
    expect(batch.failure).toBeUndefined();
    expect(geoserver.requests.filter((request) => request.includes('/b'))).toEqual([]);
    expect(geoserver.objects.has('/workspaces/a')).toBe(true);
    expect(h.store.liveObjects('gs-main').map((object) => [object.id, object.properties])).toEqual([
      ['a', { name: 'a', isolated: false }],
      ['b', { name: 'b', isolated: true }],
    ]);
  });

  it("sends its own events again, one delivery at a time, when another master's earlier event of their object was sent after their forward (a helper's case)", async () => {
    const { h, geoserver, deps } = await withXApplied();
    // admin changes x (seq 2) before two gateway writes of x (seq 3, 4), all queued.
    await publishChange(h.deps, ADMIN, modify('workspace', 'x', { extra: 'admin' }));
    for (const isolated of [true, false]) await gatewayWritesX(h, geoserver, { isolated });
    // One message per invocation: seq 2's PUT undoes both gateway writes there; 3 and 4 go again.
    for (const event of h.topic.published) expect((await applyDeliveredBatch(deps, GS, [JSON.stringify(event)])).failure).toBeUndefined();
    expect(h.store.liveObjects('gs-main').find((object) => object.id === 'x')?.properties).toEqual({ name: 'x', isolated: false, extra: 'admin' });
    expect(geoserver.objects.get('/workspaces/x')).toMatchObject({ workspace: { isolated: false, extra: 'admin' } });
  });

  it("leaves its own events alone when another master's event of their object was sent before their forward", async () => {
    const { h, geoserver, deps } = await withXApplied();
    // An unrelated change (seq 2) is queued; two gateway writes of x (seq 3, 4) are left to the queue.
    await publishChange(h.deps, ADMIN, add('workspace', 'y', { name: 'y', isolated: false }));
    for (const isolated of [true, false]) await gatewayWritesX(h, geoserver, { isolated });
    geoserver.requests.length = 0;
    for (const event of h.topic.published) expect((await applyDeliveredBatch(deps, GS, [JSON.stringify(event)])).failure).toBeUndefined();
    // x's last REST call (seq 1) came before both forwards: nothing of x is sent again.
    expect(geoserver.requests.filter((request) => request.includes('/x'))).toEqual([]);
    expect(geoserver.objects.get('/workspaces/x')).toMatchObject({ workspace: { isolated: false } });
    expect(h.store.liveObjects('gs-main').find((object) => object.id === 'x')?.properties).toEqual({ name: 'x', isolated: false });
  });

  it("never shows `sentThrough` through the API's objects", async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    await publishChange(h.deps, ADMIN, add('workspace', 'x', { name: 'x' }));
    await applyDeliveredBatch(withGeoServer(h, geoserver), GS, h.topic.published.map((event) => JSON.stringify(event)));
    const [stored] = h.store.liveObjects('gs-main');
    expect(stored?.sentThrough).toBe(1);
    expect(shownObject(stored!)).not.toHaveProperty('sentThrough');
  });

  it('sends its own events to the GeoServer in a catch-up outside the queue (a resync rebuilding it)', async () => {
    const h = harness();
    const geoserver = new FakeGeoServer();
    await h.append(add('workspace', 'mine', { name: 'mine', isolated: false }), 'gs-main');
    await catchUp(withGeoServer(h, geoserver), GS);
    expect(geoserver.objects.has('/workspaces/mine')).toBe(true);
  });
});

async function applyAllResults(h: Harness, deps: ApplyDeps, changes: readonly ConfigChange[]) {
  const events = await h.appendAll(changes);
  const results = [];
  for (const event of events) {
    const delivery = await applyDeliveredEvent(deps, SLAVE, event);
    if ('applied' in delivery) results.push(...delivery.applied);
  }
  return results;
}
