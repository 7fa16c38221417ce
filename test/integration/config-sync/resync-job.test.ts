/**
 * A resync job's bootstrap against DynamoDB Local (started by this file), through the job runner
 * the apply function runs: a snapshot of many pages is copied a page per slice with a
 * checkpoint, a slice that dies before its checkpoint is redone from the last one, and the node
 * is held meanwhile (the events its queue delivers are acknowledged, not applied, and the
 * catch-up applies them from the log). The DynamoDB store's conditional writes decide what a
 * redone page and the prune may overwrite or delete, so they are tested here, not in memory.
 */
import { DynamoEventLog } from '../../../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoJobStore } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { MemoryEventBodyStore } from '../../../lambdas/config-sync/adapters/memory';
import { applyDeliveredBatch, applyDeliveredEvent, type ApplyDeps } from '../../../lambdas/config-sync/apply';
import { objectStorageKey } from '../../../lambdas/config-sync/objects';
import { runJobSlice, type JobRunnerDeps } from '../../../lambdas/config-sync/job-runner';
import { newJob, type Job, type JobStore } from '../../../lambdas/config-sync/jobs';
import { HELD_CURSOR, type StoredObject } from '../../../lambdas/config-sync/ports';
import { seedObjects, writeStoredObjects } from '../../support/seed-catalog';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(300_000);

const CLUSTER = 'resync-job';
const SOURCE = 'master-1';
const TARGET = 'slave-1';
/** Fifteen pages of 100 (`RESYNC_TEST_OBJECTS` to change it, e.g. 20000 to time the catalog). */
const OBJECTS = Number(process.env.RESYNC_TEST_OBJECTS ?? 1500);

let aws: EmulatedAws;
let store: DynamoNodeStore;
let log: DynamoEventLog;

beforeAll(async () => {
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: [] });
  store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
  log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
}, 120_000);

afterAll(async () => {
  await aws?.stop();
});

/** Writes objects straight into a node's partition (BatchWriteItem, 25 an item), in the form the store writes small objects. */
async function seed(node: string, objects: readonly StoredObject[]): Promise<void> {
  await writeStoredObjects(aws.dynamo, aws.nodeStoreTable, node, objects, 4);
}

/** A job store whose saves fail once `allow` runs out: a slice that dies before its checkpoint. */
function crashing(jobs: JobStore): JobStore & { allow: number } {
  const wrapper = Object.create(jobs) as JobStore & { allow: number };
  wrapper.allow = Infinity;
  wrapper.save = async (job: Job) => {
    if (wrapper.allow <= 0) throw new Error('the invocation died');
    wrapper.allow -= 1;
    return jobs.save(job);
  };
  return wrapper;
}

test('a snapshot of many pages is copied a page per slice, survives a slice that dies midway, and leaves the store equal to its source', async () => {
  const append = (id: string, sequence: number) => log.append({ cluster: CLUSTER, origin: SOURCE, publishedAt: new Date().toISOString(), kind: 'add', object: { type: 'workspace', id }, properties: { name: id } }).then((event) => {
    expect(event.sequence).toBe(sequence);
    return event;
  });
  const workspace = (id: string, lastSequence: number): StoredObject =>
    ({ type: 'workspace', id, properties: { name: id }, lastSequence, lastOrigin: SOURCE, updatedAt: '2026-12-01T00:00:00.000Z', deleted: false, incomplete: false }) as StoredObject;
  // The source's store: the log's first event and a seeded catalog (as if a change set); its cursor 1.
  await append('first', 1);
  const catalog = [workspace('first', 1), ...seedObjects(OBJECTS - 1, SOURCE)];
  await seed(SOURCE, catalog);
  await store.finishSnapshot(SOURCE, 1);
  // The target's store, in doubt: objects the source never held (one of them written by an event
  // after the snapshot, which the resync must keep), one the source holds in another state.
  await seed(TARGET, [workspace('gone-1', 1), workspace('gone-2', 1), { ...catalog[1]!, properties: { name: 'wrong' }, lastSequence: 0 }, workspace('newer', 5)]);
  await store.finishSnapshot(TARGET, 0);

  const jobs = crashing(new DynamoJobStore(aws.nodeStoreTable, aws.dynamo));
  const apply: ApplyDeps = { store, log, bodies: new MemoryEventBodyStore(), holeWaitMs: 0 };
  const deps: JobRunnerDeps = { cluster: CLUSTER, store, jobs, apply, compareMode: 'stored-properties', now: () => new Date() };
  const job = newJob({ id: 'resync-large', node: TARGET, kind: 'resync', requestedBy: SOURCE, source: SOURCE, hasGeoServer: false, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  // A deadline already past: every slice runs exactly one step (a page), then checkpoints, as
  // a slice whose time ran out does, whatever this machine's pace.
  const slice = () => runJobSlice(deps, TARGET, job.id, Date.now() - 1);

  // Slices until a few pages are copied.
  let slices = 0;
  let current = (await jobs.read(TARGET, job.id))!;
  while ((current.progress.copied ?? 0) < 300) {
    expect(await slice()).toBe('more');
    slices += 1;
    current = (await jobs.read(TARGET, job.id))!;
  }
  expect(current.checkpoint.step).toBe('copy');
  expect(await store.readCursor(TARGET)).toBe(HELD_CURSOR);

  // Events published meanwhile reach the node's queue: acknowledged, not applied.
  const during = [await append('during-1', 2), await append('during-2', 3)];
  for (const event of during) expect(await applyDeliveredEvent(apply, { cluster: CLUSTER, node: TARGET }, event)).toMatchObject({ disposition: 'duplicate' });
  // Also by a consumer that takes the cursor from its previous batch instead of reading it: its
  // commit's compare-and-swap fails under the hold, and it reads the held cursor.
  const batch = await applyDeliveredBatch(apply, { cluster: CLUSTER, node: TARGET }, during.map((event) => JSON.stringify(event)), { knownCursor: 0 });
  expect({ failure: batch.failure, dispositions: batch.results.map((result) => result.disposition) }).toEqual({ failure: undefined, dispositions: ['duplicate', 'duplicate'] });
  expect(await store.readObjects(TARGET, [{ type: 'workspace', id: 'during-1' }])).toEqual([]);

  // A slice saves that it runs, copies a page, and dies before its checkpoint.
  jobs.allow = 1;
  await expect(slice()).rejects.toThrow('the invocation died');
  const stalled = (await jobs.read(TARGET, job.id))!;
  // Where the job stands is as before; the slice's start is on record, never its end (job-runner.ts, MAX_DEAD_SLICES).
  const { sliceOpen, ...standing } = stalled.checkpoint;
  expect({ state: stalled.state, checkpoint: standing, copied: stalled.progress.copied, sliceOpen }).toEqual({ state: 'running', checkpoint: current.checkpoint, copied: current.progress.copied, sliceOpen: true });
  expect(await store.readCursor(TARGET)).toBe(HELD_CURSOR);

  // Delivered again: it resumes from the checkpoint.
  jobs.allow = Infinity;
  let outcome = 'more';
  while (outcome === 'more' && slices < 2000) {
    outcome = await slice();
    slices += 1;
  }
  const ended = (await jobs.read(TARGET, job.id))!;
  expect(ended).toMatchObject({ state: 'succeeded', phase: 'done', error: null, progress: { copied: OBJECTS }, resync: { snapshotSequence: 1, cursor: 3, appliedFromLog: 2 } });
  // The snapshot, a slice per page copied (one of them twice) and per page pruned (the store's
  // OBJECTS + 3 objects), the finish and the catch-up.
  const pages = Math.ceil(OBJECTS / 100);
  expect(ended.slices).toBeGreaterThanOrEqual(1 + pages + 1 + pages + 2);
  console.info(`resynced ${OBJECTS} objects in ${ended.slices} slices of one step, ${((Date.parse(ended.finishedAt!) - Date.parse(ended.createdAt)) / 1000).toFixed(1)} s in all`);
  expect(await store.readProgress(TARGET)).toEqual({ cursor: 3 });

  // The source's catalog, the events after the snapshot, and the object a later event wrote.
  const source = await store.readSnapshot(SOURCE, CLUSTER);
  const target = await store.readSnapshot(TARGET, CLUSTER);
  const byKey = new Map(target.objects.map((object) => [objectStorageKey(object), object]));
  expect(source.objects.filter((object) => JSON.stringify(byKey.get(objectStorageKey(object))) !== JSON.stringify(object))).toEqual([]);
  expect(target.objects.map(objectStorageKey).filter((key) => !source.objects.some((object) => objectStorageKey(object) === key)).sort()).toEqual([
    'workspace/during-1',
    'workspace/during-2',
    'workspace/newer',
  ]);
});

test('a resync that fails after its copy began leaves the node held on DynamoDB, past the hold\'s time and against a known cursor, until a new resync finishes', async () => {
  const source = 'master-2';
  const target = 'slave-2';
  const objects = seedObjects(350, source);
  await seed(source, objects);
  await store.finishSnapshot(source, 3);
  await store.finishSnapshot(target, 3);
  const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
  const apply: ApplyDeps = { store, log, bodies: new MemoryEventBodyStore(), holeWaitMs: 0 };
  const deps: JobRunnerDeps = { cluster: CLUSTER, store, jobs, apply, compareMode: 'stored-properties', now: () => new Date() };
  const start = async (id: string) => {
    const job = newJob({ id, node: target, kind: 'resync', requestedBy: source, source, hasGeoServer: false, now: new Date() });
    expect(await jobs.start(job, new Date())).toEqual({ started: true });
    return job;
  };
  const failed = await start('resync-fails');
  // The snapshot and two pages, then the source's store cannot be read: the job fails midway.
  for (let slice = 0; slice < 3; slice += 1) expect(await runJobSlice(deps, target, failed.id, Date.now() - 1)).toBe('more');
  const unreadable = Object.assign(Object.create(store) as DynamoNodeStore, { listObjects: () => Promise.reject(new Error('source unreadable')) });
  expect(await runJobSlice({ ...deps, store: unreadable }, target, failed.id, Date.now() - 1)).toBe('done');
  expect(await jobs.read(target, failed.id)).toMatchObject({ state: 'failed', error: 'Error: source unreadable', progress: { copied: 200 } });
  expect(await store.readProgress(target)).toEqual({ cursor: 3, heldBy: failed.id, storeIncomplete: true });

  // Its time up (as if the job had stopped 15 minutes ago), the hold stays: the store is half-copied.
  await store.holdForResync(target, failed.id, Date.now() - 1);
  await store.releaseResyncHold(target, failed.id);
  expect(await store.readCursor(target)).toBe(HELD_CURSOR);
  // An event is acknowledged, not applied, also by a consumer that takes the cursor from its
  // previous batch: the compare-and-swap fails on the half-copied store.
  const event = await log.append({ cluster: CLUSTER, origin: source, publishedAt: new Date().toISOString(), kind: 'add', object: { type: 'workspace', id: 'while-held' }, properties: { name: 'while-held' } });
  expect(await store.commit(target, { expectedCursor: 3, sequence: event.sequence })).toBe('cursor-moved');
  const batch = await applyDeliveredBatch(apply, { cluster: CLUSTER, node: target }, [JSON.stringify(event)], { knownCursor: 3 });
  expect(batch.results.map((result) => result.disposition)).toEqual(['duplicate']);
  expect(await store.readObjects(target, [{ type: 'workspace', id: 'while-held' }])).toEqual([]);

  // A new resync copies over the half-copied store and gives the node back, complete.
  const again = await start('resync-again');
  let outcome = 'more';
  for (let slice = 0; slice < 100 && outcome === 'more'; slice += 1) outcome = await runJobSlice(deps, target, again.id, Date.now() + 30_000);
  expect(await jobs.read(target, again.id)).toMatchObject({ state: 'succeeded', progress: { copied: 350 } });
  const head = await log.head(CLUSTER);
  expect(await store.readProgress(target)).toEqual({ cursor: head });
  expect(await store.readObjects(target, [{ type: 'workspace', id: 'while-held' }])).toHaveLength(1);
});

test("a resync's finish replaces the node's own parking records with the source's on DynamoDB, which its applier's later events then join", async () => {
  const node = 'slave-carried';
  const cause = { reason: 'refused', attempts: 3, parkedAt: '2026-12-01T00:00:00.000Z' };
  // The node's own record, which the snapshot's objects hold the effect of: it goes.
  expect(await store.park(node, { expectedCursor: 0, sequence: 1, key: '#parked/workspace/own', object: { type: 'workspace', id: 'own' }, cause })).toBe('committed');
  const carried = [
    { key: '#parked/workspace/big', object: { type: 'workspace' as const, id: 'big' }, sequences: [3, 5], reason: 'would make workspace big too large', attempts: 3, parkedAt: cause.parkedAt },
    { key: '#parked/workspace/long', object: { type: 'workspace' as const, id: 'long' }, sequences: [4], overflow: { from: 6, through: 8 }, reason: 'refused', attempts: 2, parkedAt: cause.parkedAt },
  ];
  await store.finishSnapshot(node, 9, carried);
  expect(await store.readCursor(node)).toBe(9);
  expect(await store.listParked(node)).toEqual(carried);
  // The next event of a carried record's object joins it, as on the source.
  expect(await store.park(node, { expectedCursor: 9, sequence: 10, key: '#parked/workspace/big', object: { type: 'workspace', id: 'big' } })).toBe('committed');
  expect((await store.readParked(node, '#parked/workspace/big'))?.sequences).toEqual([3, 5, 10]);
});

test("a resync's copy renews the node's hold on DynamoDB only while it is its job's: once a finish ended it, or another resync took it, the renewal writes nothing", async () => {
  const node = 'slave-renewed';
  await store.finishSnapshot(node, 2);
  await store.holdForResync(node, 'resync-a', Date.now() + 60_000, false);
  // The job's own hold, lapsed or not, is renewed, and marked incomplete once the copy writes.
  expect(await store.renewResyncHold(node, 'resync-a', Date.now() - 1, true)).toBe(true);
  expect(await store.readProgress(node)).toEqual({ cursor: 2, heldBy: 'resync-a', storeIncomplete: true });
  // Its finish (another slice's) ends the hold: a late slice's renewal does not bring it back.
  await store.finishSnapshot(node, 7);
  expect(await store.renewResyncHold(node, 'resync-a', Date.now() + 60_000, true)).toBe(false);
  expect(await store.readProgress(node)).toEqual({ cursor: 7 });
  // Another resync's hold stays that job's.
  await store.holdForResync(node, 'resync-b', Date.now() + 60_000, false);
  expect(await store.renewResyncHold(node, 'resync-a', Date.now() + 60_000, true)).toBe(false);
  expect(await store.readProgress(node)).toEqual({ cursor: 7, heldBy: 'resync-b' });
});
