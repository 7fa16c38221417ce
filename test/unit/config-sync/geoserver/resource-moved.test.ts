// A feature type the master moved to another store of its workspace (a resource PUT naming that
// store, gateway/resource-store.ts) arrives as a modify whose `store` names the new one: the node's
// GeoServer, which holds it under the former store, must end with it under the new one, its layer
// kept, and the node's store agreeing; applying the modify again changes nothing. A GeoServer
// that missed the move (restored from a backup, or its event parked) is brought there by a
// reconcile or a resync the same way, which reports it fixed, or unfixed with GeoServer's answer.
import { MemoryJobStore } from '../../../../lambdas/config-sync/adapters/memory';
import { applyDeliveredEvent, catchUp, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { add, applyDeps, CLUSTER, harness, modify, type Harness } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';
import { captureOnASlave, catalogShape, DyingJobStore, groups, runJobOn, type TypeChangeRun } from './capture-on-a-slave';

const NODE = { cluster: 'test-cluster', node: 'gs-1' };
const standIn = standInPerTest();

/** A GeoServer node applying against the stand-in: its log, its store and its apply deps. */
function node() {
  const h = harness();
  const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
  return { geoserver: standIn.geoserver, h, deps };
}

test('a modify moving a feature type to another store moves it on the GeoServer (PUT to the former store naming the new one), its layer kept', async () => {
  const { geoserver, h, deps } = node();
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('dataStore', 'topp:pg2', { name: 'pg2', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'generic' } }),
    modify('featureType', 'topp:roads', { title: 'Moved roads', store: { '@class': 'dataStore', name: 'topp:pg2' } }),
  ]);
  for (const event of events) await applyDeliveredEvent(deps, NODE, event);
  // once more, as a redelivery after a crash before the commit would
  await applyDeliveredEvent(deps, NODE, events.at(-1)!);

  expect({
    featureType: geoserver.catalog.objects.featureType.get('topp:roads'),
    layer: geoserver.catalog.objects.layer.get('topp:roads')?.resource,
    parked: (await h.store.listParked('gs-1')).length,
    stored: (await h.store.readObjects('gs-1', [{ type: 'featureType', id: 'topp:roads' }]))[0]?.properties.store,
  }).toEqual({
    featureType: expect.objectContaining({ title: 'Moved roads', store: expect.objectContaining({ name: 'topp:pg2' }) }),
    layer: expect.objectContaining({ name: 'topp:roads' }),
    parked: 0,
    stored: { '@class': 'dataStore', name: 'topp:pg2' },
  });
});

// The node's GeoServer lacks the new store (its add was parked, or the GeoServer lost it): a PUT
// naming it answers 200 and keeps the resource where it was (the reference does not resolve, and
// OwsUtils.copy skips the null). That is no move: the event must not pass for applied.
test('a move to a store the node GeoServer lacks is not taken for applied', async () => {
  const { geoserver, h, deps } = node();
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    modify('featureType', 'topp:roads', { title: 'Moved roads', store: { '@class': 'dataStore', name: 'topp:pg2' } }),
  ]);
  for (const event of events) await applyDeliveredEvent(deps, NODE, event).catch(() => undefined);

  expect({
    featureTypeStore: geoserver.catalog.objects.featureType.get('topp:roads')?.store,
    parked: (await h.store.listParked('gs-1')).flatMap((parked) => parked.sequences),
  }).toEqual({
    featureTypeStore: expect.objectContaining({ name: 'topp:pg' }),
    parked: [events.at(-1)!.sequence],
  });
});

// ---------------------------------------------------------------------------------------------
// Reconcile and resync of a GeoServer that missed the move

/** The master's history: roads added under pg, then moved to pg2. */
const MOVE_HISTORY = [
  add('workspace', 'topp', { name: 'topp' }),
  add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
  add('dataStore', 'topp:pg2', { name: 'pg2', type: 'PostGIS', workspace: { name: 'topp' } }),
  add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' } }),
  modify('featureType', 'topp:roads', { title: 'Moved roads', store: { '@class': 'dataStore', name: 'topp:pg2' } }),
];

/** The node's GeoServer as before the move (a backup's): both stores, roads under pg with its layer. */
function geoServerBeforeTheMove(): void {
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addStore('dataStore', 'topp', { name: 'pg2', type: 'PostGIS' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'roads', nativeName: 'roads', title: 'Roads' });
}

const runJob = (h: Harness, kind: Job['kind'], node: string, id: string): Promise<Job> => runJobOn(standIn, h, kind, node, id);

/** Where the node's GeoServer holds roads, and its layer's resource. */
function heldRoads() {
  const catalog = standIn.geoserver.catalog;
  return { store: catalog.get('featureType', 'topp:roads')?.store, title: catalog.get('featureType', 'topp:roads')?.title, layer: catalog.get('layer', 'topp:roads')?.resource };
}

test('a reconcile of a GeoServer holding a moved feature type under its former store moves it (PUT there naming the new store) and reports it fixed', async () => {
  const h = harness();
  await h.appendAll(MOVE_HISTORY);
  // The node's store is as of the move; its GeoServer, restored from a backup, is from before it.
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  geoServerBeforeTheMove();

  const job = await runJob(h, 'reconcile', 'gs-1', 'reconcile-1');

  expect({ state: job.state, progress: job.progress, failures: job.failures }).toEqual({
    state: 'succeeded',
    progress: expect.objectContaining({ missing: 1, different: 0, extra: 0, toFix: 1, fixed: 1, failed: 0 }),
    failures: [],
  });
  expect(heldRoads()).toEqual({
    store: expect.objectContaining({ name: 'topp:pg2' }),
    title: 'Moved roads',
    layer: expect.objectContaining({ name: 'topp:roads' }),
  });
  // Moved, not created again: no POST of the feature type.
  expect(standIn.geoserver.requests.filter((request) => request.method === 'POST' && request.path.includes('/featuretypes'))).toEqual([]);
  // Nothing left to fix.
  expect((await runJob(h, 'drift', 'gs-1', 'drift-after')).progress).toMatchObject({ missing: 0, different: 0, extra: 0 });
});

test('a drift check reports such a feature type missing, with the store the GeoServer holds it under', async () => {
  const h = harness();
  await h.appendAll(MOVE_HISTORY);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  geoServerBeforeTheMove();
  const jobs = new MemoryJobStore();
  const job = await runJobOn(standIn, h, 'drift', 'gs-1', 'drift-1', jobs);
  expect(await jobs.readDifferences('gs-1', job.id)).toEqual([{ kind: 'missing', type: 'featureType', id: 'topp:roads', store: 'pg' }]);
});

test('a resync of such a node ends with the feature type under its new store, reported fixed', async () => {
  const h = harness();
  await h.appendAll(MOVE_HISTORY);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  geoServerBeforeTheMove();

  const job = await runJob(h, 'resync', 'gs-1', 'resync-1');

  expect({ state: job.state, error: job.error, fixed: job.progress.fixed, failed: job.progress.failed, failures: job.failures }).toEqual({
    state: 'succeeded',
    error: null,
    fixed: 1,
    failed: 0,
    failures: [],
  });
  expect(heldRoads()).toMatchObject({ store: expect.objectContaining({ name: 'topp:pg2' }), title: 'Moved roads' });
});

test('a move the GeoServer refuses is reported unfixed with its answer; the job ends, and a later reconcile moves it', async () => {
  const h = harness();
  await h.appendAll(MOVE_HISTORY);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  geoServerBeforeTheMove();
  standIn.geoserver.rejectNext((request) => request.method === 'PUT' && request.path.includes('/workspaces/topp/datastores/pg/featuretypes/roads'), 400, 'Feature type is locked');

  const refused = await runJob(h, 'reconcile', 'gs-1', 'reconcile-refused');

  expect({ state: refused.state, fixed: refused.progress.fixed, failed: refused.progress.failed, failures: refused.failures }).toEqual({
    state: 'succeeded',
    fixed: 0,
    failed: 1,
    failures: [{ type: 'featureType', id: 'topp:roads', message: expect.stringMatching(/^PUT \S*\/workspaces\/topp\/datastores\/pg\/featuretypes\/roads\S*: 400 Feature type is locked$/) }],
  });
  expect(heldRoads().store).toEqual(expect.objectContaining({ name: 'topp:pg' }));

  const again = await runJob(h, 'reconcile', 'gs-1', 'reconcile-again');
  expect(again.progress).toMatchObject({ fixed: 1, failed: 0 });
  expect(heldRoads().store).toEqual(expect.objectContaining({ name: 'topp:pg2' }));
});

// ---------------------------------------------------------------------------------------------
// Capture of a master whose GeoServer had a resource moved in its web UI

/** The master's store: roads under pg, with its layer; its GeoServer the same. */
async function masterBeforeTheMove(): Promise<Harness> {
  const h = harness();
  await h.appendAll(MOVE_HISTORY.slice(0, -1));
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  geoServerBeforeTheMove();
  return h;
}

/** roads moved to pg2 on the master's GeoServer directly (its web UI), as a resource PUT naming that store moves it. */
async function moveRoadsInTheWebUi(): Promise<void> {
  const answer = await fetch(`${standIn.geoserver.restUrl}/workspaces/topp/datastores/pg/featuretypes/roads`, {
    method: 'PUT',
    headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
    body: JSON.stringify({ featureType: { title: 'Moved roads', store: { name: 'topp:pg2' } } }),
  });
  expect(answer.status).toBe(200);
  expect(heldRoads().store).toEqual(expect.objectContaining({ name: 'topp:pg2' }));
}

/**
 * A capture of master-1's GeoServer, one step per slice (a deadline already past), what it
 * published kept. `atFix`, when given, runs once the scan is done, before the first fix step: a
 * change made in the web UI between the scan and the capture's publish; the capture must reach it.
 */
async function captureStepByStep(h: Harness, atFix?: () => Promise<void>): Promise<{ outcome: string | undefined; ran: Job; published: ConfigChange[] }> {
  const jobs = new MemoryJobStore();
  const job = newJob({ id: 'capture-1', node: 'master-1', kind: 'capture', requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  const published: ConfigChange[] = [];
  const deps: JobRunnerDeps = {
    cluster: CLUSTER,
    store: h.store,
    jobs,
    apply: applyDeps(h),
    rest: standIn.rest,
    compareMode: 'stored-properties',
    now: () => new Date(),
    publish: async (change) => published.push(change),
  };
  let outcome: string | undefined;
  let pending = atFix;
  for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) {
    if (pending && (await jobs.read('master-1', job.id))!.phase === 'fix') {
      await pending();
      pending = undefined;
    }
    outcome = await runJobSlice(deps, 'master-1', job.id, Date.now() - 1);
  }
  expect(pending).toBeUndefined();
  return { outcome, ran: (await jobs.read('master-1', job.id))!, published };
}

/**
 * A capture re-reads each difference before publishing it: a resource the master's GeoServer no
 * longer serves under its stored store is held under another one of its workspace, moved there
 * before the scan (the scan says so) or between the scan and the capture's read (title edited
 * first, then moved: a `different` entry read back 404). Either way it is published as the
 * gateway publishes a move, never as a removal, which would have every node delete it.
 */
test.each([
  ['before the scan', 'before'],
  ['between the scan and its publish', 'after'],
] as const)('a capture publishes a feature type moved in the master web UI %s as a modify naming the new store, not a removal', async (_label, when) => {
  const h = await masterBeforeTheMove();
  if (when === 'before') await moveRoadsInTheWebUi();
  else standIn.geoserver.catalog.get('featureType', 'topp:roads')!.title = 'Edited roads';
  const { outcome, ran, published } = await captureStepByStep(h, when === 'after' ? moveRoadsInTheWebUi : undefined);
  expect(outcome).toBe('done');

  expect({ state: ran.state, published }).toEqual({
    state: 'succeeded',
    published: [
      {
        kind: 'modify',
        object: { type: 'featureType', id: 'topp:roads' },
        patch: expect.objectContaining({ title: 'Moved roads', store: expect.objectContaining({ name: 'topp:pg2' }) }),
      },
    ],
  });
  // Published, it moves roads in the master's store, as the gateway's modify of a move does.
  await h.append(published[0]!);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  expect((await h.store.readObjects('master-1', [{ type: 'featureType', id: 'topp:roads' }]))[0]).toMatchObject({
    deleted: false,
    properties: { title: 'Moved roads', store: expect.objectContaining({ name: 'topp:pg2' }) },
  });
});

/**
 * A resource moved in the master's web UI into a store the cluster does not hold (made there after
 * the scan, so this capture does not add it): a modify naming that store would be applied by no
 * node (each GeoServer lacks the store, and parks the move), and a removal would have every node
 * delete what the master still holds. Neither is published: the difference is left unfixed,
 * saying where the GeoServer holds it; a later capture adds the store, then publishes the move.
 */
test('a capture publishes no move into a store the cluster does not hold, nor a removal: the feature type is left unfixed, naming that store', async () => {
  const h = await masterBeforeTheMove();
  standIn.geoserver.catalog.get('featureType', 'topp:roads')!.title = 'Edited roads';
  // The store is made and roads moved into it once the scan is done.
  const { outcome, ran, published } = await captureStepByStep(h, async () => {
    standIn.geoserver.catalog.addStore('dataStore', 'topp', { name: 'pg3', type: 'PostGIS' });
    const answer = await fetch(`${standIn.geoserver.restUrl}/workspaces/topp/datastores/pg/featuretypes/roads`, {
      method: 'PUT',
      headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
      body: JSON.stringify({ featureType: { store: { name: 'topp:pg3' } } }),
    });
    expect({ status: answer.status, store: heldRoads().store }).toEqual({ status: 200, store: expect.objectContaining({ name: 'topp:pg3' }) });
  });

  expect({ outcome, state: ran.state, published, failed: ran.progress.failed, failures: ran.failures }).toEqual({
    outcome: 'done',
    state: 'succeeded',
    published: [],
    failed: 1,
    failures: [{ type: 'featureType', id: 'topp:roads', message: expect.stringContaining('store topp:pg3') }],
  });
});

// ---------------------------------------------------------------------------------------------
// A resource held under a store of another workspace than its own

/** A resource PUT naming another workspace's store (`sf:pg`): GeoServer moves it there (the stand-in's movedToStore says why). */
async function putRoadsUnder(store: string): Promise<void> {
  const answer = await fetch(`${standIn.geoserver.restUrl}/workspaces/topp/datastores/pg/featuretypes/roads`, {
    method: 'PUT',
    headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
    body: JSON.stringify({ featureType: { store: { name: store } } }),
  });
  expect({ status: answer.status, store: heldRoads().store }).toEqual({ status: 200, store: expect.objectContaining({ name: store }) });
}

/** topp and sf, each with a data store `pg`; roads under topp:pg, in the store and on the GeoServer, then (unless `later`) put under sf:pg on the GeoServer. */
async function roadsUnderAnotherWorkspacesStore(node: string, later = false): Promise<Harness> {
  const h = harness();
  await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('workspace', 'sf', { name: 'sf' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('dataStore', 'sf:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'sf' } }),
    add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' } }),
  ]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node });
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  catalog.addWorkspace({ name: 'sf' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addStore('dataStore', 'sf', { name: 'pg', type: 'PostGIS' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'roads', nativeName: 'roads', title: 'Roads' });
  if (!later) await putRoadsUnder('sf:pg');
  return h;
}

/**
 * GeoServer takes a resource PUT naming a store of another workspace: the store reference
 * resolves by its qualified name, and neither the PUT nor the catalog's validation checks the
 * workspace. The resource stays in its namespace, found through its workspace under that store.
 * The drift check names the store qualified (not `pg`, which is another store, of its own
 * workspace); a reconcile cannot fix it (the cluster moves no resource between workspaces), and
 * reports it unfixed, naming the store, without a call that GeoServer would refuse.
 */
test('a drift check names a store of another workspace qualified, and a reconcile reports it unfixed, naming that store', async () => {
  const h = await roadsUnderAnotherWorkspacesStore('gs-1');

  const drift = await runJob(h, 'drift', 'gs-1', 'drift-1');
  const reconcile = await runJob(h, 'reconcile', 'gs-1', 'reconcile-1');

  expect({ drift: drift.progress, reconcile: { progress: reconcile.progress, failures: reconcile.failures } }).toEqual({
    drift: expect.objectContaining({ missing: 1, different: 0, extra: 0 }),
    reconcile: {
      progress: expect.objectContaining({ missing: 1, toFix: 1, fixed: 0, failed: 1 }),
      failures: [{ type: 'featureType', id: 'topp:roads', message: expect.stringContaining('under store sf:pg, of another workspace than its own (topp)') }],
    },
  });
  expect(standIn.geoserver.requests.filter((request) => request.method !== 'GET')).toEqual([expect.objectContaining({ method: 'PUT' })]);
  expect(heldRoads().store).toEqual(expect.objectContaining({ name: 'sf:pg' }));
});

test("a drift check's entry for such a resource names the store with its workspace", async () => {
  const h = await roadsUnderAnotherWorkspacesStore('gs-1');
  const jobs = new MemoryJobStore();
  const job = await runJobOn(standIn, h, 'drift', 'gs-1', 'drift-1', jobs);
  expect(await jobs.readDifferences('gs-1', job.id)).toEqual([{ kind: 'missing', type: 'featureType', id: 'topp:roads', store: 'sf:pg' }]);
});

/**
 * The same on a master: its GeoServer still holds roads (under sf:pg), so a capture publishes no
 * removal, which would have every node delete it, nor a move no node could apply: roads is left
 * unfixed, naming the store. So too when it is put there after the scan (found through its
 * workspace when the capture reads it again).
 */
test.each([
  ['before the scan', 'before'],
  ['between the scan and its publish', 'after'],
] as const)('a capture publishes no removal of a feature type the master GeoServer holds under a store of another workspace (put there %s)', async (_label, when) => {
  const h = await roadsUnderAnotherWorkspacesStore('master-1', when === 'after');
  // Edited first, so the scan finds it different and the capture reads it again after the put.
  if (when === 'after') standIn.geoserver.catalog.get('featureType', 'topp:roads')!.title = 'Edited roads';
  const { outcome, ran, published } = await captureStepByStep(h, when === 'after' ? () => putRoadsUnder('sf:pg') : undefined);

  expect({ outcome, state: ran.state, published, failed: ran.progress.failed, failures: ran.failures }).toEqual({
    outcome: 'done',
    state: 'succeeded',
    published: [],
    failed: 1,
    failures: [{ type: 'featureType', id: 'topp:roads', message: expect.stringContaining('under store sf:pg, of another workspace') }],
  });
});

// ---------------------------------------------------------------------------------------------
// A resource whose type changed in the master's web UI

const layerGroup = (name: string, members: string[]) => ({
  name,
  mode: 'SINGLE',
  publishables: { published: members.map((member) => ({ '@type': 'layer', name: member })) },
});

/** An EO-mode layer group whose root layer is topp:x, its one entry topp:y. */
const EO_GROUP = { name: 'eo', mode: 'EO', rootLayer: { name: 'topp:x' }, publishables: { published: [{ '@type': 'layer', name: 'topp:y' }] } };

/** A layer group whose one entry is the layer group `member`. */
const groupOfGroup = (name: string, member: string) => ({ name, mode: 'SINGLE', publishables: { published: [{ '@type': 'layerGroup', name: member }] } });

/** The groups the history holds: with `nested`, outer = [solo] too. */
const historyGroups = (nested: boolean | undefined) => ({
  base: layerGroup('base', ['topp:x', 'topp:y']),
  solo: layerGroup('solo', ['topp:x']),
  ...(nested ? { outer: groupOfGroup('outer', 'solo') } : {}),
});

/**
 * The feature type topp:x (with its layer, and with `groups` the layer groups base = [x, y] and
 * solo = [x], with `nested` outer = [solo] too) in the history a slave's GeoServer (a stand-in of
 * its own) holds; in the master's web UI, x then made a coverage (which takes x out of the groups,
 * removing those it leaves empty), and the groups `namedAgain` then made as they were in the
 * history, naming the new layer x. A capture of the master publishes as the gateway does: logged,
 * applied to the master's store, delivered to the slave. `jobs` may be a store that fails a save;
 * a slice that throws is delivered again. `check` runs before the slave's GeoServer closes.
 */
async function captureReplacedType(
  options: { groups?: boolean; nested?: boolean; namedAgain?: readonly ('base' | 'solo' | 'outer')[]; jobs?: MemoryJobStore; eo?: boolean; madeGroups?: readonly Record<string, unknown>[] },
  check: (run: TypeChangeRun) => Promise<void>,
): Promise<void> {
  const groups = historyGroups(options.nested);
  const history = [
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', workspace: { name: 'topp' } }),
    add('featureType', 'topp:x', { name: 'x', nativeName: 'x', title: 'X as features', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:x', { name: 'x', resource: { '@class': 'featureType', name: 'topp:x' }, defaultStyle: { name: 'generic' } }),
    ...(options.groups
      ? [
          add('featureType', 'topp:y', { name: 'y', nativeName: 'y', title: 'Y', store: { '@class': 'dataStore', name: 'topp:pg' } }),
          add('layer', 'topp:y', { name: 'y', resource: { '@class': 'featureType', name: 'topp:y' }, defaultStyle: { name: 'generic' } }),
          ...Object.entries(groups).map(([name, group]) => add('layerGroup', name, group)),
        ]
      : []),
    ...(options.eo
      ? [
          add('featureType', 'topp:y', { name: 'y', nativeName: 'y', title: 'Y', store: { '@class': 'dataStore', name: 'topp:pg' } }),
          add('layer', 'topp:y', { name: 'y', resource: { '@class': 'featureType', name: 'topp:y' }, defaultStyle: { name: 'generic' } }),
          add('layerGroup', 'eo', EO_GROUP),
        ]
      : []),
  ];
  await captureOnASlave(
    standIn,
    history,
    async () => {
      // The master's GeoServer: as the history, then x made a coverage in its web UI.
      const catalog = standIn.geoserver.catalog;
      catalog.addWorkspace({ name: 'topp' });
      catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
      catalog.addStore('coverageStore', 'topp', { name: 'dem', type: 'GeoTIFF' });
      catalog.addResource('featureType', 'topp', 'pg', { name: 'x', nativeName: 'x', title: 'X as features' });
      if (options.groups) {
        catalog.addResource('featureType', 'topp', 'pg', { name: 'y', nativeName: 'y', title: 'Y' });
        for (const group of Object.values(groups)) catalog.addLayerGroup(undefined, group);
      }
      if (options.eo) catalog.addResource('featureType', 'topp', 'pg', { name: 'y', nativeName: 'y', title: 'Y' });
      catalog.deleteResource('featureType', 'topp:x', true);
      catalog.addResource('coverage', 'topp', 'dem', { name: 'x', nativeName: 'x', title: 'X as a grid' });
      // eo made again with the new layer x as its root layer: as the history has it.
      if (options.eo) catalog.addLayerGroup(undefined, EO_GROUP);
      for (const group of options.madeGroups ?? []) catalog.addLayerGroup(undefined, group);
      // Named again in the web UI: base edited back to [x, y], solo and outer made again.
      for (const name of options.namedAgain ?? []) {
        catalog.objects.layerGroup.delete(name);
        catalog.addLayerGroup(undefined, groups[name as keyof typeof groups]!);
      }
    },
    options.jobs,
    check,
  );
}

/** A capture of the replaced type without groups: x's four events, the removals first, and the slave as the master. */
async function expectReplacedOnTheSlave({ outcome, ran, published, h, slaveGeoServer }: TypeChangeRun): Promise<void> {
  // (The stores' modifies are GeoServer's defaults, which a capture of a master counts too.)
  expect({ outcome, state: ran.state, failures: ran.failures, published: published.filter((change) => change.endsWith('/topp:x')) }).toEqual({
    outcome: 'done',
    state: 'succeeded',
    failures: [],
    published: ['remove layer/topp:x', 'remove featureType/topp:x', 'add coverage/topp:x', 'add layer/topp:x'],
  });
  expect({
    parked: await h.store.listParked('gs-1'),
    featureType: slaveGeoServer.catalog.get('featureType', 'topp:x'),
    coverage: slaveGeoServer.catalog.get('coverage', 'topp:x'),
    layer: slaveGeoServer.catalog.get('layer', 'topp:x')?.resource,
    stored: (await h.store.readObjects('gs-1', [{ type: 'coverage', id: 'topp:x' }, { type: 'featureType', id: 'topp:x' }])).map((object) => [object.type, object.deleted]),
  }).toEqual({
    parked: [],
    featureType: undefined,
    coverage: expect.objectContaining({ title: 'X as a grid', store: expect.objectContaining({ name: 'topp:dem' }) }),
    layer: expect.objectContaining({ '@class': 'coverage', name: 'topp:x' }),
    stored: expect.arrayContaining([
      ['coverage', false],
      ['featureType', true],
    ]),
  });
}

/**
 * In the master's web UI the feature type topp:x is removed (with its layer) and a coverage
 * topp:x made: GeoServer refuses a second resource of a name in a namespace (whatever its type),
 * so a slave whose GeoServer still holds the feature type would refuse the coverage's add. The
 * capture publishes the feature type's removal, its layer's before it, ahead of the coverage's
 * add, and the layer (now the coverage's) again after it: every event applies on a slave's
 * GeoServer, which ends as the master's, and nothing is parked.
 */
test("a capture of a feature type replaced by a coverage of its name publishes the removal first: each event applies on a slave's GeoServer", async () => {
  await captureReplacedType({}, async (run) => {
    await expectReplacedOnTheSlave(run);
    // The layer is one difference (its resource changed), fixed once: its removal before the add is no fix of its own.
    expect({ fixed: run.ran.progress.fixed, failed: run.ran.progress.failed }).toEqual({ fixed: run.ran.progress.toFix, failed: 0 });
  });
});

/**
 * As above, with layer groups naming topp:x: the master's web UI took the layer out of them as
 * it removed the feature type (CascadeDeleteVisitor), and removed the one it left empty. A slave's
 * GeoServer refuses to remove a layer a group names unless `recurse=true`, whose cascade is the
 * master's: the capture removes the replaced layer with it, and every event still applies.
 */
test("a capture of a feature type replaced by a coverage of its name, which layer groups named, removes its layer with recurse: each event applies on a slave's GeoServer", async () => {
  await captureReplacedType({ groups: true }, async ({ outcome, ran, published, h, slaveGeoServer }) => {
    expect({ outcome, state: ran.state, failures: ran.failures, published: published.filter((change) => /\/(topp:x|base|solo)$|recurse$/.test(change)) }).toEqual({
      outcome: 'done',
      state: 'succeeded',
      failures: [],
      published: ['remove layer/topp:x recurse', 'remove featureType/topp:x', 'add coverage/topp:x', 'add layer/topp:x', 'modify layerGroup/base', 'remove layerGroup/solo'],
    });
    expect({
      parked: await h.store.listParked('gs-1'),
      featureType: slaveGeoServer.catalog.get('featureType', 'topp:x'),
      coverage: slaveGeoServer.catalog.get('coverage', 'topp:x'),
      layer: slaveGeoServer.catalog.get('layer', 'topp:x')?.resource,
      groups: groups(slaveGeoServer),
      stored: (await h.store.readObjects('gs-1', [{ type: 'layerGroup', id: 'base' }, { type: 'layerGroup', id: 'solo' }])).map((object) => [object.id, object.deleted]),
    }).toEqual({
      parked: [],
      featureType: undefined,
      coverage: expect.objectContaining({ title: 'X as a grid', store: expect.objectContaining({ name: 'topp:dem' }) }),
      layer: expect.objectContaining({ '@class': 'coverage', name: 'topp:x' }),
      groups: groups(standIn.geoserver),
      stored: expect.arrayContaining([
        ['base', false],
        ['solo', true],
      ]),
    });
    expect(groups(standIn.geoserver)).toEqual({ base: { published: [{ '@type': 'layer', name: 'topp:y' }] } });
  });
});

/**
 * A stored group (eo) whose root layer is the replaced layer: a slave's GeoServer refuses to remove
 * the layer even with `recurse=true` (its cascade takes a layer out of group entries only), so the
 * removal would be parked on every slave. The capture publishes nothing of the replaced resource
 * and reports it unfixed, naming eo; the rest of the capture goes on.
 */
test("a capture of a replaced feature type whose layer a stored group has as its root layer publishes nothing of it, nothing is parked, and the failure names the group", async () => {
  await captureReplacedType({ eo: true }, async ({ outcome, ran, published, h, slaveGeoServer }) => {
    expect({ outcome, state: ran.state, published: published.filter((change) => /\/(topp:x|eo)$|recurse$/.test(change)), failures: ran.failures }).toEqual({
      outcome: 'done',
      state: 'succeeded',
      published: [],
      failures: [{ type: 'layer', id: 'topp:x', message: expect.stringMatching(/^layer group eo has layer topp:x as its root layer.*remove or change the root layer of eo on the master's GeoServer, capture, then make it again/) }],
    });
    expect({ failed: ran.progress.failed, fixedAll: ran.progress.fixed === ran.progress.toFix }).toEqual({ failed: 1, fixedAll: false });
    expect({
      parked: await h.store.listParked('gs-1'),
      featureType: slaveGeoServer.catalog.get('featureType', 'topp:x')?.title,
      coverage: slaveGeoServer.catalog.get('coverage', 'topp:x'),
      layer: slaveGeoServer.catalog.get('layer', 'topp:x')?.resource,
      eo: slaveGeoServer.catalog.get('layerGroup', 'eo'),
    }).toEqual({
      parked: [],
      featureType: 'X as features',
      coverage: undefined,
      layer: expect.objectContaining({ '@class': 'featureType', name: 'topp:x' }),
      eo: expect.objectContaining({ rootLayer: { name: 'topp:x' }, publishables: EO_GROUP.publishables }),
    });
  });
});

/**
 * With x's replacement not captured (eo's root layer is x), the slaves keep the feature type's
 * layer x: a layer group the master's web UI made naming x (xg = [x], and outer = [xg]) applies
 * there as it is, nothing parked, and is published. (The capture that later removes x with recurse
 * publishes it again after the cascade.)
 */
test("a capture that leaves a replaced layer a group's root layer publishes the layer groups naming it: the slaves hold the layer", async () => {
  const madeGroups = [layerGroup('xg', ['topp:x']), groupOfGroup('outer', 'xg'), layerGroup('yg', ['topp:y'])];
  await captureReplacedType({ eo: true, madeGroups }, async ({ outcome, ran, published, h, slaveGeoServer }) => {
    expect({ outcome, state: ran.state, published: published.filter((change) => /layerGroup\//.test(change)), failures: ran.failures.map((failure) => failure.id) }).toEqual({
      outcome: 'done',
      state: 'succeeded',
      published: ['add layerGroup/xg', 'add layerGroup/outer', 'add layerGroup/yg'],
      failures: ['topp:x'],
    });
    expect({ parked: await h.store.listParked('gs-1'), groups: groups(slaveGeoServer) }).toEqual({
      parked: [],
      groups: expect.objectContaining({ xg: { published: [{ '@type': 'layer', name: 'topp:x' }] }, outer: { published: [{ '@type': 'layerGroup', name: 'xg' }] } }),
    });
  });
});

test("a capture step that dies before its checkpoint, redone, publishes the replaced layer's removal and its add again no second time", async () => {
  // The step's checkpoint after the resource's events is lost once (its invocation died): the step is redone from the one before.
  const jobs = new DyingJobStore();
  await captureReplacedType({ jobs }, async (run) => {
    expect(jobs.died).toBe(true);
    await expectReplacedOnTheSlave(run);
  });
});

/**
 * The groups the master's web UI named the new layer in again, each as the history has it: no
 * difference of its own for the capture. A slave's GeoServer still holds them naming the former
 * layer, so the layer's removal takes `recurse` all the same (without it, the slave refuses it
 * and parks the event), and each group its cascade changed there is published again after the
 * new layer's add, as the master holds it: a modify, or an add for one the cascade removed (left
 * without entries, or holding only groups it removed). The slave ends with the master's groups.
 */
async function expectRegrouped({ outcome, ran, published, h, slaveGeoServer }: TypeChangeRun, regrouped: readonly string[]): Promise<void> {
  expect({ outcome, state: ran.state, failures: ran.failures, published: published.filter((change) => /\/(topp:x|base|solo|outer)$|recurse$/.test(change)) }).toEqual({
    outcome: 'done',
    state: 'succeeded',
    failures: [],
    published: ['remove layer/topp:x recurse', 'remove featureType/topp:x', 'add coverage/topp:x', 'add layer/topp:x', ...regrouped],
  });
  expect({
    parked: await h.store.listParked('gs-1'),
    layer: slaveGeoServer.catalog.get('layer', 'topp:x')?.resource,
    groups: groups(slaveGeoServer),
  }).toEqual({
    parked: [],
    layer: expect.objectContaining({ '@class': 'coverage', name: 'topp:x' }),
    groups: groups(standIn.geoserver),
  });
}

test("a capture of a replaced feature type whose layer an unchanged group of the master names again removes the layer with recurse and publishes the group again: the slave's group is the master's", async () => {
  await captureReplacedType({ groups: true, namedAgain: ['base'] }, async (run) => {
    await expectRegrouped(run, ['modify layerGroup/base', 'remove layerGroup/solo']);
    expect(groups(standIn.geoserver)).toEqual({
      base: { published: [{ '@type': 'layer', name: 'topp:x' }, { '@type': 'layer', name: 'topp:y' }] },
    });
  });
});

test('groups the cascade left empty on the slave (solo = [x], and outer = [solo] with it), made again on the master, are published again as adds, each after the groups it names', async () => {
  await captureReplacedType({ groups: true, nested: true, namedAgain: ['base', 'solo', 'outer'] }, async (run) => {
    await expectRegrouped(run, ['modify layerGroup/base', 'add layerGroup/solo', 'add layerGroup/outer']);
    expect(Object.keys(groups(run.slaveGeoServer)).sort()).toEqual(['base', 'outer', 'solo']);
  });
});

test('a capture step that dies before its checkpoint, redone, publishes the groups the cascade changed no second time', async () => {
  const jobs = new DyingJobStore();
  await captureReplacedType({ groups: true, nested: true, namedAgain: ['base', 'solo', 'outer'], jobs }, async (run) => {
    expect(jobs.died).toBe(true);
    await expectRegrouped(run, ['modify layerGroup/base', 'add layerGroup/solo', 'add layerGroup/outer']);
  });
});

/**
 * What a capture whose step died after publishing the groups again, and was redone, reports: the
 * groups it published again before the death among those it published again (the redone step
 * finds each published since the cascade), and every difference fixed, as a capture that never
 * died reports them.
 */
test('a capture step that dies after publishing the groups again, redone, reports them published again and its differences fixed', async () => {
  const jobs = new DyingJobStore();
  await captureReplacedType({ groups: true, nested: true, namedAgain: ['base', 'solo', 'outer'], jobs }, async ({ ran }) => {
    expect(jobs.died).toBe(true);
    expect({ regrouped: [...(ran.checkpoint.regrouped ?? [])].sort(), fixedAll: ran.progress.fixed === ran.progress.toFix, failed: ran.progress.failed }).toEqual({
      regrouped: ['base', 'outer', 'solo'],
      fixedAll: true,
      failed: 0,
    });
  });
});

test('a capture that never died reports the same: the groups published again, its differences fixed', async () => {
  await captureReplacedType({ groups: true, nested: true, namedAgain: ['base', 'solo', 'outer'] }, async ({ ran }) => {
    expect({ regrouped: [...(ran.checkpoint.regrouped ?? [])].sort(), fixedAll: ran.progress.fixed === ran.progress.toFix, failed: ran.progress.failed }).toEqual({
      regrouped: ['base', 'outer', 'solo'],
      fixedAll: true,
      failed: 0,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// A store whose type changed in the master's web UI

/**
 * The data store topp:X holds the feature types a (in the layer groups base = [a, y] and
 * solo = [a]) and m (in kept = [m]); topp:pg2 holds y. In the master's web UI, m is moved to
 * pg2, X removed (with a and its layer: a leaves base, and solo, left empty, goes), and a
 * coverage store topp:X made with the coverage c; with `sameName`, a coverage named a in it too,
 * and with `namedAgain` base made [a, y] again, naming that coverage's layer. With `eo` (and
 * `sameName`), the history holds eo too, an EO-mode group whose root layer is a (`EO_OF_A`),
 * which the master's web UI removed before X and made again after, its root layer the new a.
 */
async function captureReplacedStore(
  options: { sameName?: boolean; namedAgain?: boolean; movedTo?: string; jobs?: MemoryJobStore; eo?: boolean; madeGroups?: readonly Record<string, unknown>[] },
  check: (run: TypeChangeRun) => Promise<void>,
): Promise<void> {
  const movedTo = options.movedTo ?? 'topp:pg2';
  const inStore = (store: string) => ({ '@class': 'dataStore', name: store });
  const history = [
    add('workspace', 'topp', { name: 'topp' }),
    add('workspace', 'sf', { name: 'sf' }),
    add('dataStore', 'sf:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'sf' } }),
    add('dataStore', 'topp:pg2', { name: 'pg2', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('dataStore', 'topp:X', { name: 'X', type: 'PostGIS', workspace: { name: 'topp' } }),
    ...['a', 'm', 'y'].flatMap((resource) => [
      add('featureType', `topp:${resource}`, { name: resource, nativeName: resource, title: resource, store: inStore(resource === 'y' ? 'topp:pg2' : 'topp:X') }),
      add('layer', `topp:${resource}`, { name: resource, resource: { '@class': 'featureType', name: `topp:${resource}` }, defaultStyle: { name: 'generic' } }),
    ]),
    add('layerGroup', 'base', layerGroup('base', ['topp:a', 'topp:y'])),
    add('layerGroup', 'solo', layerGroup('solo', ['topp:a'])),
    add('layerGroup', 'kept', layerGroup('kept', ['topp:m'])),
    ...(options.eo ? [add('layerGroup', 'eo', EO_OF_A)] : []),
  ];
  await captureOnASlave(
    standIn,
    history,
    async () => {
      const catalog = standIn.geoserver.catalog;
      catalog.addWorkspace({ name: 'topp' });
      catalog.addWorkspace({ name: 'sf' });
      catalog.addStore('dataStore', 'sf', { name: 'pg', type: 'PostGIS' });
      catalog.addStore('dataStore', 'topp', { name: 'pg2', type: 'PostGIS' });
      catalog.addStore('dataStore', 'topp', { name: 'X', type: 'PostGIS' });
      for (const resource of ['a', 'm', 'y']) catalog.addResource('featureType', 'topp', resource === 'y' ? 'pg2' : 'X', { name: resource, nativeName: resource, title: resource });
      catalog.addLayerGroup(undefined, layerGroup('base', ['topp:a', 'topp:y']));
      catalog.addLayerGroup(undefined, layerGroup('solo', ['topp:a']));
      catalog.addLayerGroup(undefined, layerGroup('kept', ['topp:m']));
      // The web UI: m moved to pg2 (a resource PUT naming it), then X removed, then a coverage store X made.
      const answer = await fetch(`${standIn.geoserver.restUrl}/workspaces/topp/datastores/X/featuretypes/m`, {
        method: 'PUT',
        headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
        body: JSON.stringify({ featureType: { store: { name: movedTo } } }),
      });
      expect(answer.status).toBe(200);
      catalog.deleteStore('dataStore', 'topp:X', true);
      catalog.addStore('coverageStore', 'topp', { name: 'X', type: 'GeoTIFF' });
      catalog.addResource('coverage', 'topp', 'X', { name: 'c', nativeName: 'c', title: 'C' });
      if (options.sameName) catalog.addResource('coverage', 'topp', 'X', { name: 'a', nativeName: 'a', title: 'A as a grid' });
      if (options.eo) catalog.addLayerGroup(undefined, EO_OF_A);
      for (const group of options.madeGroups ?? []) catalog.addLayerGroup(undefined, group);
      if (options.namedAgain) {
        catalog.objects.layerGroup.delete('base');
        catalog.addLayerGroup(undefined, layerGroup('base', ['topp:a', 'topp:y']));
      }
      expect(catalogShape(standIn.geoserver)).toMatchObject({
        stores: ['coverageStore/topp:X', 'dataStore/sf:pg', 'dataStore/topp:pg2'],
        resources: { 'featureType/topp:m': movedTo, 'featureType/topp:y': 'topp:pg2', 'coverage/topp:c': 'topp:X' },
      });
    },
    options.jobs,
    check,
  );
}

/** An EO-mode layer group whose root layer is topp:a, its one entry topp:y. */
const EO_OF_A = { name: 'eo', mode: 'EO', rootLayer: { name: 'topp:a' }, publishables: { published: [{ '@type': 'layer', name: 'topp:y' }] } };

/** What a replaced-store capture published of X, its resources and layers, and the groups; the slave ends as the master, nothing parked. */
async function expectStoreReplacedOnTheSlave({ outcome, ran, published, h, slaveGeoServer }: TypeChangeRun, expected: readonly string[]): Promise<void> {
  expect({ parked: await h.store.listParked('gs-1'), catalog: catalogShape(slaveGeoServer) }).toEqual({ parked: [], catalog: catalogShape(standIn.geoserver) });
  // (The modifies of GeoServer's defaults, of what the web UI did not touch, are left out.)
  const untouched = /^modify (dataStore\/(topp:pg2|sf:pg)|featureType\/topp:y|layer\/topp:[my])$/;
  expect({ outcome, state: ran.state, failures: ran.failures, published: published.filter((change) => !untouched.test(change)) }).toEqual({
    outcome: 'done',
    state: 'succeeded',
    failures: [],
    published: expected,
  });
}

/**
 * GeoServer refuses a store whose name a store of any type has in its workspace, so a slave still
 * holding the data store X refuses the coverage store's add (and every resource added into it):
 * the capture publishes X's removal before that add. The removal takes recurse, as the master's
 * web UI removed X with what it held (a, its layer, out of the groups), and no removal of its
 * own for what the cascade took; m, which the master moved to pg2 first, is moved before it,
 * never deleted. The groups the cascade changed are the master's.
 */
test("a capture of a data store replaced by a coverage store of its name removes it (with recurse) before the add, its moved feature type moved first: each event applies on a slave's GeoServer", async () => {
  await captureReplacedStore({}, async (run) => {
    await expectStoreReplacedOnTheSlave(run, [
      'modify featureType/topp:m',
      'remove dataStore/topp:X recurse',
      'add coverageStore/topp:X',
      'add coverage/topp:c',
      'add layer/topp:c',
      'modify layerGroup/base',
      'remove layerGroup/solo',
    ]);
    expect(catalogShape(run.slaveGeoServer)).toMatchObject({
      layers: { 'topp:m': 'featureType/topp:m' },
      groups: { base: { published: [{ '@type': 'layer', name: 'topp:y' }] }, kept: { published: [{ '@type': 'layer', name: 'topp:m' }] } },
    });
  });
});

/** What the capture of a replaced store whose new one holds a resource of a former one's name publishes, in order. */
const SAME_NAME_PUBLISHED = [
  'modify featureType/topp:m',
  'remove dataStore/topp:X recurse',
  'add coverageStore/topp:X',
  'add coverage/topp:c',
  'add coverage/topp:a',
  'add layer/topp:a',
  'add layer/topp:c',
  'modify layerGroup/base',
  'remove layerGroup/solo',
];

/**
 * The new store holds a coverage named a, as the removed one held a feature type: the feature
 * type and its layer went with X on the slaves, so neither is removed again, and base, which the
 * master names that coverage's layer in again (no difference of its own), is published again
 * after the layer's add: the cascade of X's removal took a out of it on the slaves.
 */
test('a replaced store whose new one holds a resource of a former one\'s name: the layer is added again, and a group the master names it in again is published again', async () => {
  await captureReplacedStore({ sameName: true, namedAgain: true }, async (run) => {
    await expectStoreReplacedOnTheSlave(run, SAME_NAME_PUBLISHED);
    expect(groups(run.slaveGeoServer).base).toEqual({ published: [{ '@type': 'layer', name: 'topp:a' }, { '@type': 'layer', name: 'topp:y' }] });
  });
});

test("a replaced store's capture step that dies before its checkpoint, redone, publishes nothing a second time", async () => {
  const jobs = new DyingJobStore();
  await captureReplacedStore({ sameName: true, namedAgain: true, jobs }, async (run) => {
    expect(jobs.died).toBe(true);
    await expectStoreReplacedOnTheSlave(run, SAME_NAME_PUBLISHED);
  });
});

/**
 * A stored group (eo) has the layer of a, which X holds, as its root layer: a slave's GeoServer
 * refuses to remove that layer even with `recurse`, and so X's removal with recurse, which would
 * be parked on every slave, as would the coverage store's add and what goes into it while X is
 * there. The capture publishes nothing of X, of what it holds, nor of what replaced it, and lists
 * X unfixed, naming eo; the rest of the capture goes on.
 */
test("a capture of a replaced store one of whose layers a stored group has as its root layer publishes nothing of it, nothing is parked, and the failure names the group", async () => {
  await captureReplacedStore({ sameName: true, eo: true }, async ({ outcome, ran, published, h, slaveGeoServer }) => {
    expect({ outcome, state: ran.state, published: published.filter((change) => /\/(topp:[acX]|eo)$|recurse$/.test(change)), failures: ran.failures }).toEqual({
      outcome: 'done',
      state: 'succeeded',
      published: [],
      failures: [
        {
          type: 'dataStore',
          id: 'topp:X',
          message: expect.stringMatching(/^layer group eo has layer topp:a, of dataStore topp:X, as its root layer.*coverageStore that replaced it is not captured.*remove or change the root layer of eo on the master's GeoServer, capture, then make it again/),
        },
      ],
    });
    expect({ failed: ran.progress.failed, fixedAll: ran.progress.fixed === ran.progress.toFix }).toEqual({ failed: 1, fixedAll: false });
    expect({ parked: await h.store.listParked('gs-1'), shape: catalogShape(slaveGeoServer), eo: slaveGeoServer.catalog.get('layerGroup', 'eo') }).toEqual({
      parked: [],
      shape: expect.objectContaining({
        stores: ['dataStore/sf:pg', 'dataStore/topp:X', 'dataStore/topp:pg2'],
        resources: { 'featureType/topp:a': 'topp:X', 'featureType/topp:m': 'topp:pg2', 'featureType/topp:y': 'topp:pg2' },
        layers: { 'topp:a': 'featureType/topp:a', 'topp:m': 'featureType/topp:m', 'topp:y': 'featureType/topp:y' },
      }),
      eo: expect.objectContaining({ rootLayer: { name: 'topp:a' }, publishables: EO_OF_A.publishables }),
    });
    // The master's store keeps X and a as the slaves hold them.
    const stored = await h.store.readObjects('master-1', [{ type: 'dataStore', id: 'topp:X' }, { type: 'featureType', id: 'topp:a' }, { type: 'coverageStore', id: 'topp:X' }]);
    expect(stored.map((object) => [object.type, object.id, object.deleted ?? false])).toEqual([
      ['dataStore', 'topp:X', false],
      ['featureType', 'topp:a', false],
    ]);
  });
});

/**
 * With X kept as the slaves hold it (eo's root layer is its a), the layer groups the master's web
 * UI made naming a layer of the coverage store that replaced it that the slaves lack (cg = [c], and
 * outer = [cg]) would be refused on every slave (the unknown entry dropped, the group left empty)
 * and parked: they are held back too, each reported naming X. One naming a layer the slaves hold,
 * a (the former feature type's layer, kept with X; the removal with recurse that later captures X
 * publishes it again), or y, is published.
 */
test("a capture that keeps a replaced store holds back the layer groups naming a layer of what replaced it that the nodes lack, naming the store, and publishes the others", async () => {
  const madeGroups = [layerGroup('cg', ['topp:c']), layerGroup('ag', ['topp:a']), groupOfGroup('outer', 'cg'), layerGroup('yg', ['topp:y'])];
  await captureReplacedStore({ sameName: true, eo: true, madeGroups }, async ({ outcome, ran, published, h, slaveGeoServer }) => {
    expect({ outcome, state: ran.state, published: published.filter((change) => /layerGroup\//.test(change)) }).toEqual({
      outcome: 'done',
      state: 'succeeded',
      // base and solo as the cascade of X's removal left them on the master: published too.
      published: ['modify layerGroup/base', 'add layerGroup/ag', 'add layerGroup/yg', 'remove layerGroup/solo'],
    });
    const tail = /which this capture keeps as the nodes hold it: every node's GeoServer would refuse the group .*capture again once topp:X is captured$/;
    expect(ran.failures).toEqual([
      expect.objectContaining({ type: 'dataStore', id: 'topp:X', message: expect.stringMatching(/^layer group eo has layer topp:a, of dataStore topp:X, as its root layer/) }),
      { type: 'layerGroup', id: 'cg', message: expect.stringMatching(/^names layer topp:c, of the coverageStore topp:X that replaced dataStore topp:X, /) },
      { type: 'layerGroup', id: 'outer', message: expect.stringMatching(/^names layer group cg, held back as it names layer topp:c, of the coverageStore topp:X that replaced dataStore topp:X, /) },
    ]);
    for (const failure of ran.failures.slice(1)) expect(failure.message).toMatch(tail);
    expect(ran.progress.failed).toBe(3);
    expect({ parked: await h.store.listParked('gs-1'), groups: Object.keys(groups(slaveGeoServer)).sort() }).toEqual({
      parked: [],
      groups: ['ag', 'base', 'eo', 'kept', 'yg'],
    });
  });
});

/**
 * m put under a store of another workspace (sf:pg) before X's removal: no capture can publish
 * that move, and X's removal with recurse would delete m on every node. X is left unfixed, naming
 * m, and m stays on the slave; the coverage store's add the slave refuses meanwhile is parked, and
 * applies once m is moved back and a capture publishes X's removal (then a redrive).
 */
test("a replaced store holding a resource the master put under another workspace's store is not removed: the resource is never deleted on a slave", async () => {
  await captureReplacedStore({ movedTo: 'sf:pg' }, async ({ outcome, ran, published, slaveGeoServer }) => {
    expect({ outcome, state: ran.state, failures: ran.failures }).toEqual({
      outcome: 'done',
      state: 'succeeded',
      failures: [
        { type: 'featureType', id: 'topp:m', message: expect.stringContaining('under store sf:pg, of another workspace') },
        { type: 'dataStore', id: 'topp:X', message: expect.stringMatching(/^featureType topp:m, which the cluster holds in dataStore topp:X, is under store sf:pg on the master's GeoServer: .*not removed/) },
      ],
    });
    expect(published.filter((change) => /^(remove dataStore\/|\w+ featureType\/topp:m$)/.test(change))).toEqual([]);
    expect({ m: slaveGeoServer.catalog.get('featureType', 'topp:m')?.store, layer: slaveGeoServer.catalog.get('layer', 'topp:m')?.resource }).toEqual({
      m: expect.objectContaining({ name: 'topp:X' }),
      layer: expect.objectContaining({ name: 'topp:m' }),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Reconcile of a GeoServer holding an object of another type under an id the store states

/**
 * The node's store: the data store topp:X replaced by a coverage store topp:X holding c (with
 * `sameName`, a coverage a too, and base = [a, y] naming its layer; else base = [y]); m moved to
 * pg2, where y is; kept = [m]. Its GeoServer, restored from a backup, is from before: the data
 * store X holding the feature types a and m, pg2 holding y, base = [a, y], solo = [a], kept = [m].
 */
async function slaveWithReplacedStore(options: { sameName?: boolean }): Promise<Harness> {
  const h = harness();
  const feature = (name: string, store: string) => [
    add('featureType', `topp:${name}`, { name, nativeName: name, title: name, store: { '@class': 'dataStore', name: store } }),
    add('layer', `topp:${name}`, { name, resource: { '@class': 'featureType', name: `topp:${name}` }, defaultStyle: { name: 'generic' } }),
  ];
  const grid = (name: string) => [
    add('coverage', `topp:${name}`, { name, nativeName: name, title: `${name} as a grid`, store: { '@class': 'coverageStore', name: 'topp:X' } }),
    add('layer', `topp:${name}`, { name, resource: { '@class': 'coverage', name: `topp:${name}` }, defaultStyle: { name: 'raster' } }),
  ];
  await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg2', { name: 'pg2', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('coverageStore', 'topp:X', { name: 'X', type: 'GeoTIFF', workspace: { name: 'topp' } }),
    ...feature('m', 'topp:pg2'),
    ...feature('y', 'topp:pg2'),
    ...grid('c'),
    ...(options.sameName ? grid('a') : []),
    add('layerGroup', 'base', layerGroup('base', options.sameName ? ['topp:a', 'topp:y'] : ['topp:y'])),
    add('layerGroup', 'kept', layerGroup('kept', ['topp:m'])),
  ]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg2', type: 'PostGIS' });
  catalog.addStore('dataStore', 'topp', { name: 'X', type: 'PostGIS' });
  for (const name of ['a', 'm']) catalog.addResource('featureType', 'topp', 'X', { name, nativeName: name, title: name });
  catalog.addResource('featureType', 'topp', 'pg2', { name: 'y', nativeName: 'y', title: 'y' });
  catalog.addLayerGroup(undefined, layerGroup('base', ['topp:a', 'topp:y']));
  catalog.addLayerGroup(undefined, layerGroup('solo', ['topp:a']));
  catalog.addLayerGroup(undefined, layerGroup('kept', ['topp:m']));
  return h;
}

/** One reconcile fixed everything, and a drift check after it finds nothing. */
async function expectConverged(h: Harness, job: Job): Promise<void> {
  expect({ state: job.state, failed: job.progress.failed, failures: job.failures }).toEqual({ state: 'succeeded', failed: 0, failures: [] });
  expect((await runJob(h, 'drift', 'gs-1', 'drift-after')).progress).toMatchObject({ missing: 0, different: 0, extra: 0 });
}

/**
 * GeoServer refuses the coverage store X while a data store X is there (a store name is taken by
 * a store of any type in a workspace), and with it every coverage into it: the data store is
 * removed before that add, with recurse (it still holds a), after m is moved out of it, so m and
 * its layer are kept. One reconcile converges.
 */
test('a reconcile of a GeoServer holding a data store where the store states a coverage store of its name removes it before the add, its moved feature type moved first: one run converges', async () => {
  const h = await slaveWithReplacedStore({});

  await expectConverged(h, await runJob(h, 'reconcile', 'gs-1', 'reconcile-1'));
  expect(catalogShape(standIn.geoserver)).toEqual({
    stores: ['coverageStore/topp:X', 'dataStore/topp:pg2'],
    resources: { 'featureType/topp:m': 'topp:pg2', 'featureType/topp:y': 'topp:pg2', 'coverage/topp:c': 'topp:X' },
    layers: { 'topp:m': 'featureType/topp:m', 'topp:y': 'featureType/topp:y', 'topp:c': 'coverage/topp:c' },
    groups: { base: { published: [{ '@type': 'layer', name: 'topp:y' }] }, kept: { published: [{ '@type': 'layer', name: 'topp:m' }] } },
  });
  // Moved, never deleted and made again.
  expect(standIn.geoserver.requests.filter((request) => request.method === 'POST' && request.path.includes('/featuretypes'))).toEqual([]);
});

/**
 * The stated coverage store holds a coverage a, as the GeoServer's data store holds a feature type
 * a: the store's removal takes that feature type and its layer, and a out of base, which the
 * store states naming a (no difference of its own before): base is written back after a's layer
 * is there again.
 */
test("a replaced store whose stated one holds a resource of a former one's name: the layer is there again, and a group the cascade changed is written back", async () => {
  const h = await slaveWithReplacedStore({ sameName: true });

  await expectConverged(h, await runJob(h, 'reconcile', 'gs-1', 'reconcile-1'));
  expect(catalogShape(standIn.geoserver)).toMatchObject({
    resources: { 'featureType/topp:m': 'topp:pg2', 'coverage/topp:a': 'topp:X', 'coverage/topp:c': 'topp:X' },
    layers: { 'topp:a': 'coverage/topp:a', 'topp:m': 'featureType/topp:m' },
    groups: { base: { published: [{ '@type': 'layer', name: 'topp:a' }, { '@type': 'layer', name: 'topp:y' }] }, kept: { published: [{ '@type': 'layer', name: 'topp:m' }] } },
  });
});

/**
 * m's move out of X refused: removing X with recurse would delete m, which the store states under
 * pg2. X is left, the failure naming m; m and its layer stay on the GeoServer.
 */
test('a replaced store still holding a resource the store states under another store is not removed: the resource is never deleted', async () => {
  const h = await slaveWithReplacedStore({});
  standIn.geoserver.rejectNext((request) => request.method === 'PUT' && request.path.includes('/workspaces/topp/datastores/X/featuretypes/m'), 400, 'Feature type is locked');

  const job = await runJob(h, 'reconcile', 'gs-1', 'reconcile-1');

  expect(job.failures).toEqual(
    expect.arrayContaining([
      { type: 'featureType', id: 'topp:m', message: expect.stringMatching(/featuretypes\/m\S*: 400 Feature type is locked$/) },
      { type: 'dataStore', id: 'topp:X', message: expect.stringMatching(/^featureType topp:m, which the cluster states under store topp:pg2, is still in dataStore topp:X on the GeoServer: .*not removed/) },
    ]),
  );
  expect({ m: standIn.geoserver.catalog.get('featureType', 'topp:m')?.store, layer: standIn.geoserver.catalog.get('layer', 'topp:m')?.resource }).toEqual({
    m: expect.objectContaining({ name: 'topp:X' }),
    layer: expect.objectContaining({ name: 'topp:m' }),
  });
  expect(standIn.geoserver.requests.filter((request) => request.method === 'DELETE' && /datastores\/X(\.json)?$/.test(request.path.split('?')[0]!))).toEqual([]);
  // Once the move goes through, a reconcile converges.
  await expectConverged(h, await runJob(h, 'reconcile', 'gs-1', 'reconcile-2'));
});

/**
 * The store states a coverage x (in dem) and its layer, in base = [x, y]; the GeoServer holds a
 * feature type x (in pg) with its layer, in base and in solo = [x], which the store lacks. The
 * coverage's add is refused while the feature type is there, and the feature type's delete while
 * its layer is; the layer's, without recurse, while a group names it. The layer goes first with
 * recurse, then the feature type, then the coverage and its layer are added and base written back.
 */
test('a reconcile of a GeoServer holding a feature type where the store states a coverage of its name removes its layer and it before the add: one run converges', async () => {
  const h = harness();
  await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', workspace: { name: 'topp' } }),
    add('coverage', 'topp:x', { name: 'x', nativeName: 'x', title: 'X as a grid', store: { '@class': 'coverageStore', name: 'topp:dem' } }),
    add('layer', 'topp:x', { name: 'x', resource: { '@class': 'coverage', name: 'topp:x' }, defaultStyle: { name: 'raster' } }),
    add('featureType', 'topp:y', { name: 'y', nativeName: 'y', title: 'Y', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:y', { name: 'y', resource: { '@class': 'featureType', name: 'topp:y' }, defaultStyle: { name: 'generic' } }),
    add('layerGroup', 'base', layerGroup('base', ['topp:x', 'topp:y'])),
  ]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addStore('coverageStore', 'topp', { name: 'dem', type: 'GeoTIFF' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'x', nativeName: 'x', title: 'X as features' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'y', nativeName: 'y', title: 'Y' });
  catalog.addLayerGroup(undefined, layerGroup('base', ['topp:x', 'topp:y']));
  catalog.addLayerGroup(undefined, layerGroup('solo', ['topp:x']));

  await expectConverged(h, await runJob(h, 'reconcile', 'gs-1', 'reconcile-1'));
  expect(catalogShape(standIn.geoserver)).toEqual({
    stores: ['coverageStore/topp:dem', 'dataStore/topp:pg'],
    resources: { 'featureType/topp:y': 'topp:pg', 'coverage/topp:x': 'topp:dem' },
    layers: { 'topp:x': 'coverage/topp:x', 'topp:y': 'featureType/topp:y' },
    groups: { base: { published: [{ '@type': 'layer', name: 'topp:x' }, { '@type': 'layer', name: 'topp:y' }] } },
  });
});
