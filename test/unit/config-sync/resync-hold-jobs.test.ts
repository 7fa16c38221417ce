/**
 * A capture or reconcile of a node whose store a resync holds (jobs.ts, `refusedWhileHeld`),
 * against the in-memory stores and a GeoServer stand-in: refused at its start (the check
 * POST /nodes/{node}/capture and /reconcile make) while the resync runs and once it failed part
 * way, and, for a capture that waited behind the resync (`follow`) and was handed the node by
 * its failure, failed in its first slice, naming the resync, with nothing published and nothing
 * written to the GeoServer. A drift check, which writes nothing, is not refused.
 */
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { catchUp } from '../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../lambdas/config-sync/events';
import { runJobSlice, type JobRunnerDeps } from '../../../lambdas/config-sync/job-runner';
import { assertNotHeldByResync, newJob, NodeHeldByResyncError, type Job, type JobKind } from '../../../lambdas/config-sync/jobs';
import { add, applyDeps, CLUSTER, harness, type Harness } from './fixtures';
import { ROADS_AND_RIVERS, seedRoadsAndRivers } from './geoserver/capture-on-a-slave';
import { standInPerTest } from '../../support/standin-per-test';

const standIn = standInPerTest();

const NODE = 'master-1';
const SOURCE = 'master-2';
const PAGE = 7;

/** master-1's store and GeoServer as ROADS_AND_RIVERS leaves them; master-2's store 30 workspaces, the snapshot a resync of master-1 copies. */
async function cluster(): Promise<Harness> {
  const h = harness();
  await h.appendAll(ROADS_AND_RIVERS);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: NODE });
  seedRoadsAndRivers(standIn.geoserver.catalog);
  const workspaces: ConfigChange[] = [];
  for (let i = 0; i < 30; i += 1) workspaces.push(add('workspace', `ws${String(i).padStart(2, '0')}`, { name: `ws${String(i).padStart(2, '0')}` }));
  await h.appendAll(workspaces, SOURCE);
  await h.store.replaceWithSnapshot(SOURCE, await h.store.readSnapshot(NODE, CLUSTER));
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  return h;
}

/** What the job runner is given on master-1, each change it publishes recorded (and logged, as the gateway publishes it). */
function runner(h: Harness, jobs: MemoryJobStore, published: string[]): JobRunnerDeps {
  return {
    cluster: CLUSTER,
    store: h.store,
    jobs,
    apply: applyDeps(h),
    rest: standIn.rest,
    compareMode: 'both-ways',
    pageSize: PAGE,
    now: () => new Date(),
    publish: async (change) => {
      published.push(`${change.kind} ${change.object.type}/${change.object.id}`);
      return (await h.append(change, NODE)).sequence;
    },
  };
}

/** A resync of master-1 from master-2 that has taken its snapshot and copied its first page: the store holds part of it. */
async function resyncCopying(h: Harness, jobs: MemoryJobStore, deps: JobRunnerDeps): Promise<Job> {
  const resync = newJob({ id: 'resync-1', node: NODE, kind: 'resync', requestedBy: NODE, source: SOURCE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(resync, new Date())).toEqual({ started: true });
  for (let slice = 0; slice < 2; slice += 1) expect(await runJobSlice(deps, NODE, resync.id, Date.now() - 1)).toBe('more');
  expect(await h.store.readProgress(NODE)).toMatchObject({ heldBy: resync.id, storeIncomplete: true });
  return resync;
}

/** The resync's next slice finds the source's store unreadable: it fails part way, the store half-copied. */
async function failResync(h: Harness, deps: JobRunnerDeps, resync: Job): Promise<void> {
  const unreadable = Object.assign(Object.create(h.store) as typeof h.store, { listObjects: () => Promise.reject(new Error('source unreadable')) });
  expect(await runJobSlice({ ...deps, store: unreadable }, NODE, resync.id, Date.now() - 1)).toBe('done');
  expect(await deps.jobs.read(NODE, resync.id)).toMatchObject({ state: 'failed', error: 'Error: source unreadable' });
}

/** Runs the job's slices until it ends (or 50 of them). */
async function runToEnd(deps: JobRunnerDeps, id: string): Promise<string> {
  let outcome = 'more';
  for (let slice = 0; slice < 50 && outcome === 'more'; slice += 1) outcome = await runJobSlice(deps, NODE, id, Date.now() - 1);
  return outcome;
}

/** The start check of POST /nodes/master-1/<kind>: the error it refuses with, or undefined. */
async function refusedAtStart(h: Harness, jobs: MemoryJobStore, kind: JobKind): Promise<NodeHeldByResyncError | undefined> {
  try {
    await assertNotHeldByResync({ store: h.store, jobs }, NODE, kind, new Date());
    return undefined;
  } catch (error) {
    if (error instanceof NodeHeldByResyncError) return error;
    throw error;
  }
}

test('a capture or reconcile is refused at its start while a resync copies into the store (wait for it) and once it failed part way (resync again); a drift check is not', async () => {
  const h = await cluster();
  const jobs = new MemoryJobStore();
  const deps = runner(h, jobs, []);
  const resync = await resyncCopying(h, jobs, deps);

  for (const kind of ['capture', 'reconcile'] as const) {
    const refused = await refusedAtStart(h, jobs, kind);
    expect(refused).toMatchObject({ status: 409, code: 'NODE_HELD_BY_RESYNC', details: { resync: { job: resync.id, state: 'running' } } });
    expect(refused?.message).toContain(`held by resync job ${resync.id}`);
    expect(refused?.message).toContain(`wait for that resync to finish, then ${kind} again`);
  }
  expect(await refusedAtStart(h, jobs, 'drift')).toBeUndefined();

  await failResync(h, deps, resync);
  for (const kind of ['capture', 'reconcile'] as const) {
    const refused = await refusedAtStart(h, jobs, kind);
    expect(refused).toMatchObject({ status: 409, code: 'NODE_HELD_BY_RESYNC', details: { resync: { job: resync.id, state: 'incomplete', storeIncomplete: true } } });
    expect(refused?.message).toContain(`resync job ${resync.id} stopped part way (Error: source unreadable)`);
    expect(refused?.message).toContain(`resync the node again (POST /nodes/${NODE}/resync`);
  }
  expect(await refusedAtStart(h, jobs, 'drift')).toBeUndefined();
});

test('a capture queued behind a resync that then fails part way ends failed in its first slice, naming the resync, publishing nothing', async () => {
  const h = await cluster();
  const jobs = new MemoryJobStore();
  const published: string[] = [];
  const deps = runner(h, jobs, published);
  const resync = await resyncCopying(h, jobs, deps);
  // An upload through the gateway meanwhile: its capture waits for the resync.
  const capture = newJob({ id: 'capture-1', node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.follow(capture, new Date())).toMatchObject({ outcome: 'queued', after: { id: resync.id } });

  await failResync(h, deps, resync);
  // The failed resync's final save handed the node to the capture, whose first slice is queued.
  expect(await jobs.successor(NODE, resync.id)).toMatchObject({ id: capture.id });
  const head = await h.log.head(CLUSTER);
  expect(await runToEnd(deps, capture.id)).toBe('done');

  // The half-copied store holds workspaces its GeoServer never had: none of them is published as removed.
  expect(published).toEqual([]);
  expect(await h.log.head(CLUSTER)).toBe(head);
  const ended = (await jobs.read(NODE, capture.id))!;
  expect(ended).toMatchObject({ state: 'failed', phase: 'scan-store', progress: { compared: 0, published: 0 } });
  expect(ended.error).toMatch(new RegExp(`^NODE_HELD_BY_RESYNC: Node ${NODE}'s store is held by resync job ${resync.id}`));
  expect(ended.error).toContain(`resync the node again (POST /nodes/${NODE}/resync, geocluster resync ${NODE}) and capture once it has finished`);
  // The node is free for the resync that repairs it.
  expect(await jobs.start(newJob({ id: 'resync-2', node: NODE, kind: 'resync', requestedBy: NODE, source: SOURCE, hasGeoServer: true, now: new Date() }), new Date())).toEqual({ started: true });
});

test("a reconcile of a node whose store a resync left half-copied ends failed in its first slice, writing nothing to the node's GeoServer", async () => {
  const h = await cluster();
  const jobs = new MemoryJobStore();
  const deps = runner(h, jobs, []);
  const resync = await resyncCopying(h, jobs, deps);
  // The GeoServer holds a workspace of the snapshot the copy has not reached: a reconcile would delete it.
  standIn.geoserver.catalog.addWorkspace({ name: 'ws29' });
  await failResync(h, deps, resync);
  // Started without the check POST /nodes/master-1/reconcile makes (as one that raced it would be): its slice checks again.
  const reconcile = newJob({ id: 'reconcile-1', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(reconcile, new Date())).toEqual({ started: true });
  const before = JSON.stringify([...standIn.geoserver.catalog.objects.workspace.keys()].sort());

  expect(await runToEnd(deps, reconcile.id)).toBe('done');
  // Checked before the job's error, which says why it did not run: what it did is what matters.
  expect(standIn.geoserver.catalog.objects.workspace.has('ws29')).toBe(true);
  expect(JSON.stringify([...standIn.geoserver.catalog.objects.workspace.keys()].sort())).toBe(before);
  expect((await jobs.read(NODE, reconcile.id))?.error).toMatch(/^NODE_HELD_BY_RESYNC: .*a reconcile would delete from its GeoServer what the copy has not reached.*and reconcile once it has finished$/);
});
