/**
 * An upload into a store through the gateway makes objects on the master's GeoServer that are no
 * events until the capture it asked for publishes them. A master's reconcile that runs between
 * the two (an operator's, or a resync's closing one) finds them on the GeoServer and not in the
 * store: it must leave them for that capture (job-runner.ts, `reconcileStep`), not remove them as
 * extras, which would lose the user's upload for good. Extras with no capture waiting are still
 * removed. Nor does it undo what a gateway write the master took left unpublished (its intent with
 * the lease), on the objects it names or their flag partners (a layer's resource), and it reports
 * each of those it left unfixed, naming the writes, so the job does not end as if all were in line.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryEventBodyStore, MemoryEventLog, MemoryEventTopic, MemoryJobStore, MemoryNodeStore, MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { handleGatewayCall, type UploadCapture } from '../../../../lambdas/config-sync/gateway/gateway';
import { UPLOAD_SETTLE_MS } from '../../../../lambdas/config-sync/gateway/limits';
import { gatewayRecovery, intentOf, uploadIntentOf } from '../../../../lambdas/config-sync/gateway/recovery';
import { classifyRestPath, type ManagedPath, type UnmanagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import { uploadCapture } from '../../../../lambdas/config-sync/gateway/upload-capture';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import { publishChange, type PublishDeps } from '../../../../lambdas/config-sync/publish';
import { standInPerTest } from '../../../support/standin-per-test';
import { add } from '../fixtures';
import { masterView } from '../gateway/master-view';

const CLUSTER = 'test-cluster';
const NODE = 'gs-main';
const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
const standIn = standInPerTest();

async function master() {
  const store = new MemoryNodeStore();
  const log = new MemoryEventLog();
  const bodies = new MemoryEventBodyStore();
  const publishing: PublishDeps = { store, log, bodies, topic: new MemoryEventTopic(), now: () => new Date() };
  const publish = async (change: ConfigChange) => (await publishChange(publishing, { cluster: CLUSTER, node: { name: NODE, role: 'both' } }, change)).event.sequence;
  await publish(add('workspace', 'topp', { name: 'topp' }));
  standIn.geoserver.catalog.addWorkspace({ name: 'topp' });
  const jobs = new MemoryJobStore();
  const lease = new MemoryWriteLease();
  const writes = () => leaseSerializer(lease, { waitMs: 1000, ttlMs: 35_000, backoff: { baseMs: 1, capMs: 2 } });
  const deps: JobRunnerDeps = {
    cluster: CLUSTER,
    store,
    jobs,
    apply: { store, log, bodies },
    rest: standIn.rest,
    compareMode: 'both-ways',
    now: () => new Date(),
    publish,
    writes: writes(),
  };
  /** The gateway handler's wiring (geoserver-gateway.ts): the upload under the lease, its capture asked for with `follow`. */
  const gatewayWrites = writes();
  async function captureUpload(): Promise<UploadCapture> {
    const capture = newJob({ id: `capture-${Math.random().toString(36).slice(2)}`, node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() });
    const followed = await jobs.follow(capture, new Date());
    return followed.outcome === 'covered' ? { job: followed.by.id, outcome: 'covered' } : { job: capture.id, outcome: followed.outcome };
  }
  const recovery = gatewayRecovery({ stored: (refs) => store.readObjects(NODE, refs), publisher: { publish } });
  const upload = (path: string, file: string, capture: () => Promise<UploadCapture> = captureUpload) => {
    const upstream = new HttpUpstream(standIn.geoserver.url, 5000, 6 * 1024 * 1024);
    return handleGatewayCall(
      upstream,
      { publish: async () => 0 },
      { method: 'PUT', path, query: '', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: Buffer.from(file) },
      { writes: gatewayWrites, captureUpload: capture, recovery, readBack: masterView(upstream) },
    );
  };
  /**
   * The next gateway write (a PUT of the workspace as it is) as the handler wires it: the intents
   * left before it recovered first, an upload's by a capture of the master (upload-capture.ts; the
   * test runs its slices itself), aged by `clock`. Answers the captures its recovery asked for.
   */
  async function nextWrite(clock: () => number): Promise<string[]> {
    const captures: string[] = [];
    const asked = uploadCapture({ store, jobs, master: NODE, enqueue: async () => undefined, requestedBy: 'test' });
    const recovering = gatewayRecovery({
      stored: (refs) => store.readObjects(NODE, refs),
      publisher: { publish },
      captureUpload: async () => {
        const capture = await asked();
        captures.push(capture.job);
        return capture;
      },
      now: clock,
    });
    const put = { method: 'PUT', path: '/workspaces/topp', query: '', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ workspace: { name: 'topp' } })) };
    const upstream = new HttpUpstream(standIn.geoserver.url, 5000, 6 * 1024 * 1024);
    const answer = await handleGatewayCall(upstream, { publish }, put, { writes: gatewayWrites, recovery: recovering, readBack: masterView(upstream) });
    expect(answer.status).toBe(200);
    return captures;
  }
  return { store, jobs, deps, upload, lease, publish, nextWrite };
}

/** Runs job `id` a step per slice (a deadline already past) until it is done. */
async function runToEnd(deps: JobRunnerDeps, id: string): Promise<void> {
  let outcome: string | undefined;
  for (let slice = 0; slice < 40 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, id, Date.now() - 1);
  expect(outcome).toBe('done');
}

test("an upload whose capture waits for the master's running reconcile is left on the master by that reconcile, and published by the capture", async () => {
  const m = await master();
  const reconcile: Job = newJob({ id: 'reconcile-1', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await m.jobs.start(reconcile, new Date())).toEqual({ started: true });

  // The user's upload, while the reconcile runs: its capture is queued behind it.
  const answer = await m.upload('/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp');
  expect(answer).toMatchObject({ status: 201, replication: 'capture', capture: { outcome: 'queued' } });
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:roads')).toBeDefined();

  await runToEnd(m.deps, reconcile.id);
  expect(await m.jobs.read(NODE, reconcile.id)).toMatchObject({ state: 'succeeded', progress: { extra: expect.any(Number) } });
  // Found by the reconcile's scan, and left for the capture.
  expect((await m.jobs.read(NODE, reconcile.id))!.progress.extra).toBeGreaterThan(0);
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:roads')).toBeDefined();

  // The reconcile's final save handed the node to the capture, which publishes the upload.
  const capture = await m.jobs.successor(NODE, reconcile.id);
  expect(capture).toMatchObject({ id: answer.capture!.job, kind: 'capture' });
  await runToEnd(m.deps, capture!.id);
  expect(await m.jobs.read(NODE, capture!.id)).toMatchObject({ state: 'succeeded' });
  const [stored] = await m.store.readObjects(NODE, [{ type: 'dataStore', id: 'topp:roads' }]);
  expect(stored).toMatchObject({ deleted: false });
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:roads')).toBeDefined();
  expect(standIn.geoserver.violations).toEqual([]);
});

test('with no capture waiting, a reconcile still removes from the master what its store lacks', async () => {
  const m = await master();
  // Made on the master behind the cluster's back (its web UI): nothing asked for a capture.
  standIn.geoserver.catalog.addStore('dataStore', 'topp', { name: 'stray', type: 'Shapefile' });
  const reconcile: Job = newJob({ id: 'reconcile-2', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await m.jobs.start(reconcile, new Date())).toEqual({ started: true });
  await runToEnd(m.deps, reconcile.id);
  expect(await m.jobs.read(NODE, reconcile.id)).toMatchObject({ state: 'succeeded', progress: { extra: 1, fixed: 1 } });
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:stray')).toBeUndefined();
});

test("a reconcile leaves alone what a gateway write left unpublished (its intent still with the lease): an upload whose capture was never asked for, a PUT whose writer died", async () => {
  const m = await master();
  await m.publish(add('dataStore', 'topp:pg', { name: 'pg', type: 'Shapefile', description: 'old', workspace: { name: 'topp' } }));
  standIn.geoserver.catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'Shapefile', description: 'old' });
  // The upload the master took, whose capture could not be asked for (the job store failed).
  const failing = async (): Promise<UploadCapture> => {
    throw new Error('job store unavailable');
  };
  expect(await m.upload('/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp', failing)).toMatchObject({ status: 201, replication: 'publish-failed' });
  // A PUT the master applied whose writer died before its events were in the log: its intent left under an expired lease.
  const put = { method: 'PUT', path: '/workspaces/topp/datastores/pg', query: '', headers: {}, body: Buffer.from(JSON.stringify({ dataStore: { description: 'new' } })) };
  const intent = intentOf(classifyRestPath(put.path) as ManagedPath, 'PUT', { ...put, headers: { 'content-type': 'application/json' } });
  standIn.geoserver.catalog.get('dataStore', 'topp:pg')!.description = 'new';
  m.lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString() });
  expect(m.lease.intents.size).toBe(2);

  const reconcile: Job = newJob({ id: 'reconcile-3', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await m.jobs.start(reconcile, new Date())).toEqual({ started: true });
  await runToEnd(m.deps, reconcile.id);
  const ended = (await m.jobs.read(NODE, reconcile.id))!;
  expect(ended).toMatchObject({ state: 'succeeded' });
  // Neither undone on the master: the next lease holder publishes both from what the master holds.
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:roads')).toBeDefined();
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:pg')).toMatchObject({ description: 'new' });
  expect(m.lease.intents.size).toBe(2);
  // Each left unfixed and said so, naming the unpublished writes: the job does not end as if the
  // master were in line, and the operator knows a reconcile after the sweep fixes the rest.
  expect(ended.progress.fixed).toBe(0);
  expect(ended.progress.failed).toBe(ended.progress.extra + ended.progress.different + ended.progress.missing);
  expect(ended.failures.map((failure) => `${failure.type} ${failure.id}`)).toEqual(expect.arrayContaining(['dataStore topp:roads', 'dataStore topp:pg']));
  for (const failure of ended.failures) {
    expect(failure.message).toEqual(expect.stringContaining('PUT /workspaces/topp/datastores/pg'));
    expect(failure.message).toEqual(expect.stringContaining('PUT /workspaces/topp/datastores/roads/external.shp'));
    expect(failure.message).toEqual(expect.stringContaining('reconcile the node again'));
  }
  expect(standIn.geoserver.violations).toEqual([]);
});

test("a reconcile leaves a dead layer PUT's resource alone too: GeoServer holds the layer's enabled on its resource, which a fix would enable again", async () => {
  const m = await master();
  await m.publish(add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }));
  await m.publish(add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', title: 'Roads', enabled: true, advertised: true, store: { '@class': 'dataStore', name: 'topp:pg' } }));
  await m.publish(add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, enabled: true, advertised: true }));
  standIn.geoserver.catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  standIn.geoserver.catalog.addResource('featureType', 'topp', 'pg', { name: 'roads', nativeName: 'roads', title: 'Roads', enabled: true, advertised: true });
  // A PUT disabling the layer that the master applied, whose writer died before its events were in the log.
  const put = { method: 'PUT', path: '/layers/topp:roads', query: '', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ layer: { enabled: false } })) };
  const answer = await fetch(`${standIn.geoserver.restUrl}${put.path}`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: put.body });
  expect(answer.status).toBe(200);
  expect(standIn.geoserver.catalog.get('featureType', 'topp:roads')?.enabled).toBe(false);
  const intent = intentOf(classifyRestPath(put.path) as ManagedPath, 'PUT', put);
  m.lease.intents.set('dead', { ...intent, owner: 'dead', at: new Date(0).toISOString() });

  const reconcile: Job = newJob({ id: 'reconcile-4', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await m.jobs.start(reconcile, new Date())).toEqual({ started: true });
  await runToEnd(m.deps, reconcile.id);
  expect(await m.jobs.read(NODE, reconcile.id)).toMatchObject({ state: 'succeeded' });
  // The layer stays disabled on the master, for the next lease holder to publish (with its resource).
  expect(standIn.geoserver.catalog.get('featureType', 'topp:roads')?.enabled).toBe(false);
  // (Its data store, stated less fully than the stand-in answers it, is fixed as usual.)
  expect(standIn.geoserver.requests.filter((request) => request.method === 'PUT' && /\/(layers|featuretypes)\//.test(request.path)).map((request) => request.path)).toEqual([
    '/geoserver/rest/layers/topp:roads',
  ]);
  expect(m.lease.intents.size).toBe(1);
  expect(standIn.geoserver.violations).toEqual([]);
});

test("a re-upload into a store the cluster holds, its capture never asked for, is recovered by a capture: the coverage it changed is published, not the store alone", async () => {
  const m = await master();
  const path = '/workspaces/topp/coveragestores/dem/external.geotiff';
  const first = await m.upload(path, '/srv/gis/dem.tif');
  expect(first).toMatchObject({ status: 201, replication: 'capture', capture: { outcome: 'started' } });
  await runToEnd(m.deps, first.capture!.job);
  expect((await m.store.readObjects(NODE, [{ type: 'coverage', id: 'topp:dem' }]))[0]).toMatchObject({ deleted: false });

  // The same coverage uploaded again, its capture not asked for (the job store failed): GeoServer
  // reads the new file's extent into the coverage it holds (the stand-in moves only the store's
  // url, so the test sets the coverage as GeoServer leaves it).
  const failing = async (): Promise<UploadCapture> => {
    throw new Error('job store unavailable');
  };
  expect(await m.upload(path, '/srv/gis/dem-2026.tif', failing)).toMatchObject({ status: 201, replication: 'publish-failed' });
  const extent = { minx: 5, maxx: 6, miny: 45, maxy: 46, crs: 'EPSG:4326' };
  standIn.geoserver.catalog.get('coverage', 'topp:dem')!.nativeBoundingBox = extent;
  const [left] = [...m.lease.intents.values()];
  expect(left).toMatchObject({ path });

  // The next holder, the upload long settled: a capture asked for, the intent cleared.
  const captures = await m.nextWrite(() => Date.parse(left!.at) + UPLOAD_SETTLE_MS);
  expect(captures).toHaveLength(1);
  expect(m.lease.intents.size).toBe(0);
  await runToEnd(m.deps, captures[0]!);
  const [coverage] = await m.store.readObjects(NODE, [{ type: 'coverage', id: 'topp:dem' }]);
  expect(coverage?.properties.nativeBoundingBox).toEqual(extent);
  const [store] = await m.store.readObjects(NODE, [{ type: 'coverageStore', id: 'topp:dem' }]);
  expect(store?.properties.url).toEqual(expect.stringContaining('dem-2026.tif'));
  expect(standIn.geoserver.violations).toEqual([]);
});

test("an upload that outran its request (answered 504, the master still reading the file) keeps its intent until a capture after it lands, and a reconcile meanwhile leaves it on the master", async () => {
  const m = await master();
  const path = '/workspaces/topp/datastores/roads/external.shp';
  // The upload's forward gave up before the master's answer: its intent stays with the lease.
  const at = Date.now();
  m.lease.intents.set('timed-out', { ...uploadIntentOf(classifyRestPath(path) as UnmanagedPath, 'PUT'), owner: 'timed-out', at: new Date(at).toISOString() });

  // The next holder a minute later: the master has not made anything of it yet. A capture is
  // asked for and runs, finding nothing; the intent is kept.
  const early = await m.nextWrite(() => at + 60_000);
  expect(early).toHaveLength(1);
  expect(m.lease.intents.has('timed-out')).toBe(true);
  await runToEnd(m.deps, early[0]!);
  expect((await m.store.readObjects(NODE, [{ type: 'dataStore', id: 'topp:roads' }]))[0]).toBeUndefined();

  // The master ends reading the file: the upload lands, with nothing asked for after it yet.
  const landed = await fetch(`${standIn.geoserver.restUrl}${path}`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: '/srv/gis/roads.shp' });
  expect(landed.status).toBe(201);
  // A master's reconcile meanwhile removes none of it (the intent is unrecovered), and says so.
  const reconcile: Job = newJob({ id: 'reconcile-5', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await m.jobs.start(reconcile, new Date())).toEqual({ started: true });
  await runToEnd(m.deps, reconcile.id);
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:roads')).toBeDefined();
  expect((await m.jobs.read(NODE, reconcile.id))!.failures.map((failure) => failure.id)).toEqual(expect.arrayContaining(['topp:roads']));

  // The holder once the upload has settled: a capture after it publishes what it made, the intent cleared.
  const settled = await m.nextWrite(() => at + UPLOAD_SETTLE_MS);
  expect(settled).toHaveLength(1);
  expect(m.lease.intents.size).toBe(0);
  await runToEnd(m.deps, settled[0]!);
  const published = await m.store.readObjects(NODE, [
    { type: 'dataStore', id: 'topp:roads' },
    { type: 'featureType', id: 'topp:roads' },
    { type: 'layer', id: 'topp:roads' },
  ]);
  expect(published.map((object) => object.deleted)).toEqual([false, false, false]);
  expect(standIn.geoserver.violations).toEqual([]);
});

test("while a gateway write is unpublished, a reconcile reports no failure for an extra its store has come to hold since the scan: no longer a difference, it is kept, not left", async () => {
  const m = await master();
  await m.publish(add('dataStore', 'topp:pg', { name: 'pg', type: 'Shapefile', description: 'old', workspace: { name: 'topp' } }));
  standIn.geoserver.catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'Shapefile', description: 'old' });
  // A PUT the master applied whose writer died before its events were in the log.
  const put = { method: 'PUT', path: '/workspaces/topp/datastores/pg', query: '', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ dataStore: { description: 'new' } })) };
  standIn.geoserver.catalog.get('dataStore', 'topp:pg')!.description = 'new';
  m.lease.intents.set('dead', { ...intentOf(classifyRestPath(put.path) as ManagedPath, 'PUT', put), owner: 'dead', at: new Date(0).toISOString() });
  // On the master only when the reconcile's scan reads it.
  standIn.geoserver.catalog.addStore('dataStore', 'topp', { name: 'roads', type: 'Shapefile' });

  const reconcile: Job = newJob({ id: 'reconcile-6', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await m.jobs.start(reconcile, new Date())).toEqual({ started: true });
  for (let slice = 0; slice < 10 && (await m.jobs.read(NODE, reconcile.id))!.phase !== 'fix'; slice += 1) await runJobSlice(m.deps, NODE, reconcile.id, Date.now() - 1);
  expect(await m.jobs.read(NODE, reconcile.id)).toMatchObject({ phase: 'fix', progress: { extra: 1 } });
  // Published since the scan (a gateway write that made it): the master's store holds it now.
  await m.publish(add('dataStore', 'topp:roads', { name: 'roads', type: 'Shapefile', workspace: { name: 'topp' } }));
  await runToEnd(m.deps, reconcile.id);

  const ended = (await m.jobs.read(NODE, reconcile.id))!;
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:roads')).toBeDefined();
  // The dead write's object is left and said so; the store's own object is no failure.
  expect(ended.failures.map((failure) => `${failure.type} ${failure.id}`)).toEqual(['dataStore topp:pg']);
  expect(ended.progress.failed).toBe(1);
  expect(standIn.geoserver.violations).toEqual([]);
});
