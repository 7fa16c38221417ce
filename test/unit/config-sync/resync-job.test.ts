/**
 * A resync job's bootstrap in slices (job-runner.ts), against the in-memory store: the source's
 * snapshot is copied page by page with a checkpoint, the node is held meanwhile (the events its
 * queue delivers are acknowledged, not applied, and the catch-up applies them from the log), a
 * slice that dies before its checkpoint is redone from the last one, a resync that fails
 * before its copy writes gives its node back at once, and one that fails or stops after it
 * leaves the node held (applying nothing, shown as `incomplete` with the request that resumes
 * it) until a new resync finishes; a failure that passes by itself only delays the slice; and a
 * resync from a source behind the node applies, in its catch-up, the events a consumer that knew
 * the node's cursor from before took as duplicates meanwhile.
 */
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { applyDeliveredBatch, applyDeliveredEvent, catchUp, retryParked, type AppliedEvent } from '../../../lambdas/config-sync/apply';
import type { ConfigChange, PublishedEvent } from '../../../lambdas/config-sync/events';
import { runJobSlice, type JobRunnerDeps } from '../../../lambdas/config-sync/job-runner';
import { newJob, resyncHoldView, STALE_AFTER_MS, type Job, type JobStore } from '../../../lambdas/config-sync/jobs';
import { HELD_CURSOR } from '../../../lambdas/config-sync/ports';
import { add, applyDeps, CLUSTER, harness, modify, remove, type Harness } from './fixtures';
import { FakeGeoServer } from './geoserver/fake-geoserver';
import { GeoServerUnavailableError } from '../../../lambdas/config-sync/geoserver/errors';

const SOURCE = 'master-1';
const TARGET = 'slave-9';
const PAGE = 7;

/** 40 workspaces, then changes to some of them: the source's store ends with 40 objects, 5 of them tombstones. */
function history(): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (let i = 0; i < 40; i += 1) changes.push(add('workspace', `ws${String(i).padStart(2, '0')}`, { name: `ws${i}` }));
  for (let i = 0; i < 10; i += 1) changes.push(modify('workspace', `ws${String(i * 3).padStart(2, '0')}`, { title: `edited ${i}` }));
  for (let i = 0; i < 5; i += 1) changes.push(remove('workspace', `ws${String(i * 7 + 1).padStart(2, '0')}`));
  return changes;
}

/** The target's store before the resync: in doubt, with objects the source never held and a parked event. */
async function storeInDoubt(h: Harness): Promise<void> {
  await h.store.replaceWithSnapshot(TARGET, {
    cluster: CLUSTER,
    sourceNode: 'elsewhere',
    sequence: 3,
    objects: [
      { type: 'workspace', id: 'stale', properties: { name: 'stale' }, lastSequence: 2, lastOrigin: SOURCE, updatedAt: '2025-01-01T00:00:00.000Z', deleted: false, incomplete: false },
      { type: 'workspace', id: 'ws00', properties: { name: 'wrong' }, lastSequence: 1, lastOrigin: SOURCE, updatedAt: '2025-01-01T00:00:00.000Z', deleted: false, incomplete: false },
    ],
  });
}

/** The source caught up with `changes` appended to the log, and the target's store in doubt (`storeInDoubt`): where each resync here starts. */
async function sourceAheadTargetInDoubt(h: Harness, changes = history()): Promise<void> {
  await h.appendAll(changes);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  await storeInDoubt(h);
}

function jobDeps(h: Harness, jobs: JobStore): JobRunnerDeps {
  return { cluster: CLUSTER, store: h.store, jobs, apply: applyDeps(h), compareMode: 'stored-properties', now: () => new Date(), pageSize: PAGE };
}

async function startResync(jobs: JobStore, id = 'resync-1'): Promise<Job> {
  const job = newJob({ id, node: TARGET, kind: 'resync', requestedBy: SOURCE, source: SOURCE, hasGeoServer: false, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  return job;
}

/** A job store whose saves fail while `crashing` is set, after `allow` more saves: a slice that dies before its checkpoint. */
class CrashingJobStore extends MemoryJobStore {
  allow = Infinity;
  override async save(job: Job): Promise<'saved' | 'superseded'> {
    if (this.allow <= 0) throw new Error('the invocation died');
    this.allow -= 1;
    return super.save(job);
  }
}

test('a snapshot larger than one slice is copied page by page; events delivered meanwhile wait for the catch-up; the store ends equal to its source', async () => {
  const h = harness();
  await sourceAheadTargetInDoubt(h);
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  const deps = jobDeps(h, jobs);

  // A deadline already past: every slice runs exactly one step, then checkpoints.
  let outcome = await runJobSlice(deps, TARGET, job.id, Date.now() - 1); // takes the snapshot, holds the node
  expect(outcome).toBe('more');
  outcome = await runJobSlice(deps, TARGET, job.id, Date.now() - 1); // the first page
  expect((await jobs.read(TARGET, job.id))?.progress.copied).toBe(PAGE);
  expect(await h.store.readCursor(TARGET)).toBe(HELD_CURSOR);
  expect((await h.store.readProgress(TARGET)).heldBy).toBe(job.id);

  // Events published while the copy runs reach the node's queue: acknowledged as duplicates,
  // nothing written (the held store keeps the copy's state), applied by the catch-up later.
  const later: PublishedEvent[] = await h.appendAll([modify('workspace', 'ws02', { title: 'while copying' }), add('workspace', 'late', { name: 'late' })]);
  for (const event of later) expect(await applyDeliveredEvent(applyDeps(h), { cluster: CLUSTER, node: TARGET }, event)).toMatchObject({ disposition: 'duplicate' });
  // Also by a consumer that takes the cursor from its previous batch instead of reading it: its
  // commit's compare-and-swap fails under the hold, and it reads the held cursor.
  const batch = await applyDeliveredBatch(applyDeps(h), { cluster: CLUSTER, node: TARGET }, later.map((event) => JSON.stringify(event)), { knownCursor: 3 });
  expect({ failure: batch.failure, dispositions: batch.results.map((result) => result.disposition) }).toEqual({ failure: undefined, dispositions: ['duplicate', 'duplicate'] });
  expect(await h.store.readObjects(TARGET, [{ type: 'workspace', id: 'late' }])).toEqual([]);
  expect((await h.store.readProgress(TARGET)).cursor).toBe(3);

  let slices = 2;
  while (outcome !== 'done' && slices < 100) {
    outcome = await runJobSlice(deps, TARGET, job.id, Date.now() - 1);
    slices += 1;
  }
  const ended = (await jobs.read(TARGET, job.id))!;
  const head = await h.log.head(CLUSTER);
  expect(ended).toMatchObject({ state: 'succeeded', phase: 'done', error: null, resync: { snapshotSequence: 55, cursor: head, appliedFromLog: 2 } });
  expect(ended.progress.copied).toBe(40);
  // 40 objects in pages of 7: 6 pages to copy, 6 to prune (the target's own objects too), and
  // the snapshot, the finish and the catch-up: far more than one slice.
  expect(ended.slices).toBeGreaterThanOrEqual(15);
  expect(await h.store.readCursor(TARGET)).toBe(head);
  expect((await h.store.readProgress(TARGET)).heldBy).toBeUndefined();
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  expect(h.store.allObjects(TARGET)).toEqual(h.store.allObjects(SOURCE));
  expect(h.store.allObjects(TARGET).map((object) => object.id)).not.toContain('stale');
});

test("a resync from a source behind the node takes its cursor below events a consumer drops as duplicates on the cursor it knows: the resync's catch-up applies them", async () => {
  const h = harness();
  const events = await h.appendAll(history());
  const head = events[events.length - 1]!.sequence;
  // The source is 15 behind; the node's consumer (another instance) applied the whole log and knows its cursor.
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE }, head - 15);
  const known = (await catchUp(applyDeps(h), { cluster: CLUSTER, node: TARGET })).cursor;
  expect(known).toBe(head);
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  const deps = jobDeps(h, jobs);
  for (let slice = 0; slice < 100 && (await jobs.read(TARGET, job.id))?.checkpoint.step !== 'catch-up'; slice += 1) {
    expect(await runJobSlice(deps, TARGET, job.id, Date.now() - 1)).toBe('more');
  }
  // Finished: the cursor is the snapshot's, below the one the consumer knows.
  expect(await h.store.readCursor(TARGET)).toBe(head - 15);
  // The queue brings messages of events after the snapshot: taken as duplicates, nothing read but the log.
  const late = events.slice(-10, -5);
  const batch = await applyDeliveredBatch(applyDeps(h), { cluster: CLUSTER, node: TARGET }, late.map((event) => JSON.stringify(event)), { knownCursor: known });
  expect(batch.results.map((result) => result.disposition)).toEqual(late.map(() => 'duplicate'));
  expect(await h.store.readCursor(TARGET)).toBe(head - 15);
  // The resync goes on to the log's head, which is at or past any cursor a consumer knew before its finish.
  let outcome = 'more';
  for (let slice = 0; slice < 100 && outcome === 'more'; slice += 1) outcome = await runJobSlice(deps, TARGET, job.id, Date.now() - 1);
  expect(await jobs.read(TARGET, job.id)).toMatchObject({ state: 'succeeded', resync: { snapshotSequence: head - 15, cursor: head, appliedFromLog: 15 } });
  expect(await h.store.readProgress(TARGET)).toEqual({ cursor: head });
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  expect(h.store.allObjects(TARGET)).toEqual(h.store.allObjects(SOURCE));
});

test('a slice that dies before its checkpoint is redone from the last one: the copy counts each object once and the store ends equal to its source', async () => {
  const h = harness();
  await sourceAheadTargetInDoubt(h);
  const jobs = new CrashingJobStore();
  const job = await startResync(jobs);
  const deps = jobDeps(h, jobs);

  for (let slice = 0; slice < 3; slice += 1) expect(await runJobSlice(deps, TARGET, job.id, Date.now() - 1)).toBe('more');
  const before = (await jobs.read(TARGET, job.id))!;
  expect(before.checkpoint.step).toBe('copy');
  // The slice saves that it runs, copies a page, and dies before its checkpoint.
  jobs.allow = 1;
  await expect(runJobSlice(deps, TARGET, job.id, Date.now() - 1)).rejects.toThrow('the invocation died');
  const stalled = (await jobs.read(TARGET, job.id))!;
  // Where the job stands is as before; the slice's start is on record, never its end (job-runner.ts, MAX_DEAD_SLICES).
  const { sliceOpen, ...standing } = stalled.checkpoint;
  expect({ state: stalled.state, checkpoint: standing, copied: stalled.progress.copied, sliceOpen }).toEqual({ state: 'running', checkpoint: before.checkpoint, copied: before.progress.copied, sliceOpen: true });
  expect(await h.store.readCursor(TARGET)).toBe(HELD_CURSOR);

  // Delivered again: it resumes from the checkpoint, redoing the page that died.
  jobs.allow = Infinity;
  let outcome: string | undefined;
  for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, TARGET, job.id, Date.now() + 10_000);
  const ended = (await jobs.read(TARGET, job.id))!;
  expect(ended).toMatchObject({ state: 'succeeded', error: null, progress: { copied: 40 }, resync: { snapshotSequence: 55, cursor: 55, appliedFromLog: 0 } });
  expect(h.store.allObjects(TARGET)).toEqual(h.store.allObjects(SOURCE));
  expect(await h.store.readCursor(TARGET)).toBe(55);
});

test.each([
  ['on its first page', 'listObjects'],
  ['taking the snapshot', 'readProgress'],
] as const)('a slice that runs beside another of the same job (two requests resyncing a pure master at once), stalled %s, never leaves the node held once the other has finished it', async (_when, stalling) => {
  const h = harness();
  await sourceAheadTargetInDoubt(h);
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  // The late slice stalls on a read of the source (a slow read) while the other runs the job to its end.
  let stalled!: () => void;
  const reached = new Promise<void>((resolve) => (stalled = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow = Object.create(h.store) as typeof h.store;
  const read = h.store[stalling].bind(h.store) as (node: string, ...rest: unknown[]) => Promise<unknown>;
  Object.assign(slow, {
    [stalling]: async (node: string, ...rest: unknown[]) => {
      if (node === SOURCE) {
        stalled();
        await gate;
      }
      return read(node, ...rest);
    },
  });
  const late = runJobSlice({ ...jobDeps(h, jobs), store: slow }, TARGET, job.id, Date.now() + 10_000);
  await reached;
  let outcome: string | undefined;
  for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(jobDeps(h, jobs), TARGET, job.id, Date.now() + 10_000);
  expect(await jobs.read(TARGET, job.id)).toMatchObject({ state: 'succeeded', resync: { cursor: 55 } });
  release();
  expect(await late).toBe('superseded');
  // The finished resync's node applies events again: nothing of the late slice holds it.
  expect(await h.store.readProgress(TARGET)).toEqual({ cursor: 55 });
  expect(h.store.allObjects(TARGET)).toEqual(h.store.allObjects(SOURCE));
  const next = await h.append(add('workspace', 'after-both'));
  expect(await applyDeliveredEvent(applyDeps(h), { cluster: CLUSTER, node: TARGET }, next)).toMatchObject({ disposition: 'applied', cursor: next.sequence });
});

test('a resync that fails before its copy wrote anything gives its node back at once; such a hold its job stopped renewing lapses by itself', async () => {
  const h = harness();
  await sourceAheadTargetInDoubt(h, history().slice(0, 10));
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  const deps = jobDeps(h, jobs);
  expect(await runJobSlice(deps, TARGET, job.id, Date.now() - 1)).toBe('more');
  expect(await h.store.readCursor(TARGET)).toBe(HELD_CURSOR);
  // The source's store refuses to be read from now on: the job fails, the node is its own again.
  // Its message names AWS resources, as an AccessDenied does: the job, which GET /nodes shows, records it without them; the log gets it whole.
  const denied = new Error('User: arn:aws:sts::123456789012:assumed-role/Apply/x is not authorized on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Store');
  const logged: unknown[] = [];
  const failing = {
    ...deps,
    onFailure: (error: unknown) => logged.push(error),
    store: Object.assign(Object.create(h.store) as typeof h.store, { listObjects: () => Promise.reject(denied) }),
  };
  expect(await runJobSlice(failing, TARGET, job.id, Date.now() - 1)).toBe('done');
  expect(await jobs.read(TARGET, job.id)).toMatchObject({ state: 'failed', error: 'Error: User: arn:(left out) is not authorized on resource: arn:(left out)' });
  expect(logged).toEqual([denied]);
  expect(await h.store.readCursor(TARGET)).toBe(3);
  const next = await h.append(add('workspace', 'after'));
  // The node applies again, from its own cursor, filling the gap from the log.
  expect(await applyDeliveredEvent(applyDeps(h), { cluster: CLUSTER, node: TARGET }, next)).toMatchObject({ disposition: 'applied', cursor: next.sequence });

  // A hold whose time is up no longer holds.
  await h.store.holdForResync(TARGET, 'abandoned', Date.now() - 1);
  expect(await h.store.readCursor(TARGET)).toBe(next.sequence);
  expect((await h.store.readProgress(TARGET)).heldBy).toBeUndefined();
});

test('a source that is being resynced itself is refused: the job fails naming it, and holds nothing', async () => {
  const h = harness();
  await h.appendAll(history().slice(0, 5));
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  await h.store.holdForResync(SOURCE, 'other-resync', Date.now() + 60_000);
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  expect(await runJobSlice(jobDeps(h, jobs), TARGET, job.id, Date.now() + 10_000)).toBe('done');
  expect((await jobs.read(TARGET, job.id))?.error).toBe(`Error: source node ${SOURCE} is being resynced itself (job other-resync): its store is incomplete until that job ends`);
  expect((await h.store.readProgress(TARGET)).heldBy).toBeUndefined();
});

test('a source holding parked events the node applied is refused: the job fails naming them, and the node keeps its store', async () => {
  const h = harness();
  await h.appendAll(history().slice(0, 5));
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: TARGET });
  // The source parks event 6 (its object's change refused there); the target applies it.
  const [parkedEvent] = await h.appendAll([modify('workspace', 'ws02', { title: 'refused on the source' })]);
  const ref = { type: 'workspace', id: 'ws02' } as const;
  expect(await h.store.park(SOURCE, { expectedCursor: 5, sequence: 6, key: '#parked/workspace/ws02', object: ref, cause: { reason: 'refused', attempts: 3, parkedAt: new Date().toISOString() } })).toBe('committed');
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: TARGET });
  const before = await h.store.readObjects(TARGET, [ref]);
  expect(before[0]?.properties).toMatchObject({ title: 'refused on the source' });
  expect(parkedEvent?.sequence).toBe(6);

  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  expect(await runJobSlice(jobDeps(h, jobs), TARGET, job.id, Date.now() + 10_000)).toBe('done');
  expect((await jobs.read(TARGET, job.id))?.error).toBe(
    `Error: source node ${SOURCE} holds parked events that ${TARGET} applied, which its snapshot would replace with parked ones: workspace/ws02 (event 6). Redrive ${SOURCE} first, or resync from another node`,
  );
  // Nothing was copied or held: the node keeps the change the source could not apply.
  expect(await h.store.readObjects(TARGET, [ref])).toEqual(before);
  expect(await h.store.readCursor(TARGET)).toBe(6);
  expect((await h.store.readProgress(TARGET)).heldBy).toBeUndefined();
});

/** Parks `sequence` (the event after `node`'s cursor) on `node`, as its applier does at the last failed attempt. */
async function parkOn(h: Harness, node: string, sequence: number, id: string): Promise<void> {
  const outcome = await h.store.park(node, {
    expectedCursor: sequence - 1,
    sequence,
    key: `#parked/workspace/${id}`,
    object: { type: 'workspace', id },
    cause: { reason: 'would make workspace too large', attempts: 3, parkedAt: '2025-01-01T00:00:00.000Z' },
  });
  expect(outcome).toBe('committed');
}

test('an event parked on the source and on the node alike (one every node parks) does not block a resync: the node gets the source\'s objects with its parking record, and later events of the object wait behind it', async () => {
  const h = harness();
  await h.appendAll(history().slice(0, 5));
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: TARGET });
  await h.appendAll([modify('workspace', 'ws02', { note: 'too large everywhere' })]);
  await parkOn(h, SOURCE, 6, 'ws02');
  await parkOn(h, TARGET, 6, 'ws02');
  // A later change of the object joins the source's record; another object's applies.
  await h.appendAll([modify('workspace', 'ws02', { title: 'behind it' }), add('workspace', 'after', { name: 'after' })]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  expect((await h.store.listParked(SOURCE)).map((record) => record.sequences)).toEqual([[6, 7]]);

  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  expect(await runJobSlice(jobDeps(h, jobs), TARGET, job.id, Date.now() + 10_000)).toBe('done');
  expect((await jobs.read(TARGET, job.id))?.error ?? null).toBeNull();
  expect(await h.store.readCursor(TARGET)).toBe(8);
  expect(await h.store.listParked(TARGET)).toEqual(await h.store.listParked(SOURCE));
  expect(await h.store.readObjects(TARGET, [{ type: 'workspace', id: 'ws02' }])).toEqual(await h.store.readObjects(SOURCE, [{ type: 'workspace', id: 'ws02' }]));
  expect((await h.store.readObjects(TARGET, [{ type: 'workspace', id: 'after' }])).length).toBe(1);
  // The next change of the object waits behind the carried record, as on the source.
  await h.appendAll([modify('workspace', 'ws02', { title: 'later still' })]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: TARGET });
  expect((await h.store.listParked(TARGET)).map((record) => record.sequences)).toEqual([[6, 7, 9]]);
});

test('a new node resyncs from a source holding parked events: they come parked, and its redrive applies them there', async () => {
  const h = harness();
  await h.appendAll(history().slice(0, 5));
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  await h.appendAll([modify('workspace', 'ws02', { title: 'refused on the source only' })]);
  await parkOn(h, SOURCE, 6, 'ws02');

  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  expect(await runJobSlice(jobDeps(h, jobs), TARGET, job.id, Date.now() + 10_000)).toBe('done');
  expect((await jobs.read(TARGET, job.id))?.error ?? null).toBeNull();
  expect(await h.store.readCursor(TARGET)).toBe(6);
  expect((await h.store.listParked(TARGET)).map((record) => [record.key, record.sequences])).toEqual([['#parked/workspace/ws02', [6]]]);
  // Nothing of the event is lost: a redrive of the node applies it from the log.
  const redriven = await retryParked(applyDeps(h), { cluster: CLUSTER, node: TARGET }, Date.now() + 10_000);
  expect(redriven.cleared).toEqual([6]);
  expect((await h.store.readObjects(TARGET, [{ type: 'workspace', id: 'ws02' }]))[0]?.properties).toMatchObject({ title: 'refused on the source only' });
});

test('a resync that fails after its copy began leaves the node held, applying nothing even once the hold would lapse, shown as incomplete, until a new resync finishes', async () => {
  const h = harness();
  await sourceAheadTargetInDoubt(h);
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  const deps = jobDeps(h, jobs);
  // The snapshot, then two pages copied.
  for (let slice = 0; slice < 3; slice += 1) expect(await runJobSlice(deps, TARGET, job.id, Date.now() - 1)).toBe('more');
  expect((await jobs.read(TARGET, job.id))?.progress.copied).toBe(2 * PAGE);
  // The source's store refuses to be read from now on: the job fails midway through its copy.
  const failing = { ...deps, store: Object.assign(Object.create(h.store) as typeof h.store, { listObjects: () => Promise.reject(new Error('source unreadable')) }) };
  expect(await runJobSlice(failing, TARGET, job.id, Date.now() - 1)).toBe('done');
  const failed = (await jobs.read(TARGET, job.id))!;
  expect(failed).toMatchObject({ state: 'failed', error: 'Error: source unreadable' });
  expect(await h.store.readCursor(TARGET)).toBe(HELD_CURSOR);
  expect(await h.store.readProgress(TARGET)).toEqual({ cursor: 3, heldBy: job.id, storeIncomplete: true });
  expect(resyncHoldView(TARGET, await h.store.readProgress(TARGET), failed, new Date())).toEqual({
    job: job.id,
    state: 'incomplete',
    storeIncomplete: true,
    error: 'Error: source unreadable',
    resume: `POST /nodes/${TARGET}/resync`,
  });

  // Events keep arriving: acknowledged, not applied on top of the half-copied store; also once
  // the hold's time is up (renewed by a step for a job that is gone), and by a consumer that
  // takes the cursor from its previous batch.
  await h.store.holdForResync(TARGET, job.id, Date.now() - 1);
  const later = await h.appendAll([modify('workspace', 'ws02', { title: 'while held' }), add('workspace', 'late', { name: 'late' })]);
  for (const event of later) expect(await applyDeliveredEvent(applyDeps(h), { cluster: CLUSTER, node: TARGET }, event)).toMatchObject({ disposition: 'duplicate' });
  const batch = await applyDeliveredBatch(applyDeps(h), { cluster: CLUSTER, node: TARGET }, later.map((event) => JSON.stringify(event)), { knownCursor: 3 });
  expect(batch.results.map((result) => result.disposition)).toEqual(['duplicate', 'duplicate']);
  expect(await h.store.readObjects(TARGET, [{ type: 'workspace', id: 'late' }])).toEqual([]);
  expect((await h.store.readProgress(TARGET)).cursor).toBe(3);

  // The request the view names: a new resync, which copies over the half-copied store.
  const again = await startResync(jobs, 'resync-2');
  let outcome: string | undefined;
  for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, TARGET, again.id, Date.now() + 10_000);
  expect(await jobs.read(TARGET, again.id)).toMatchObject({ state: 'succeeded', error: null });
  const head = await h.log.head(CLUSTER);
  expect(await h.store.readProgress(TARGET)).toEqual({ cursor: head });
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  expect(h.store.allObjects(TARGET)).toEqual(h.store.allObjects(SOURCE));
  expect(h.store.allObjects(TARGET).map((object) => object.id)).toContain('late');
});

test('a resync whose slices stopped after its copy began is shown incomplete once stale, and a failure that passes by itself only delays the slice', async () => {
  const h = harness();
  await h.appendAll(history().slice(0, 20));
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs);
  const deps = jobDeps(h, jobs);
  for (let slice = 0; slice < 2; slice += 1) expect(await runJobSlice(deps, TARGET, job.id, Date.now() - 1)).toBe('more');
  const running = (await jobs.read(TARGET, job.id))!;
  const progress = await h.store.readProgress(TARGET);
  expect(resyncHoldView(TARGET, progress, running, new Date())).toMatchObject({ state: 'running', storeIncomplete: true, error: null, resume: null });
  const later = new Date(Date.parse(running.updatedAt) + STALE_AFTER_MS);
  expect(resyncHoldView(TARGET, progress, running, later)).toEqual({
    job: job.id,
    state: 'incomplete',
    storeIncomplete: true,
    error: `resync job ${job.id} saved nothing since ${running.updatedAt}: its slices stopped`,
    resume: `POST /nodes/${TARGET}/resync`,
  });

  // Throttled: the slice is thrown out (delivered again after a backoff), the job goes on.
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  const slow = { ...deps, store: Object.assign(Object.create(h.store) as typeof h.store, { listObjects: () => Promise.reject(throttled) }) };
  await expect(runJobSlice(slow, TARGET, job.id, Date.now() - 1)).rejects.toBe(throttled);
  expect(await jobs.read(TARGET, job.id)).toMatchObject({ state: 'running', error: null });
  let outcome: string | undefined;
  for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, TARGET, job.id, Date.now() + 10_000);
  expect(await jobs.read(TARGET, job.id)).toMatchObject({ state: 'succeeded' });
  expect((await h.store.readProgress(TARGET)).heldBy).toBeUndefined();
  expect(resyncHoldView(TARGET, await h.store.readProgress(TARGET), undefined, new Date())).toBeNull();
});

/** A started resync of TARGET from SOURCE, whose GeoServer is `geoserver`; what its catch-up reports to the apply function is kept in `reported`. */
async function geoServerResync(h: Harness, id: string, geoserver: FakeGeoServer) {
  const jobs = new MemoryJobStore();
  const job = newJob({ id, node: TARGET, kind: 'resync', requestedBy: SOURCE, source: SOURCE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  const reported: AppliedEvent[] = [];
  const deps: JobRunnerDeps = {
    ...jobDeps(h, jobs),
    apply: { ...applyDeps(h), geoserver: { rest: geoserver }, warn: () => undefined }, // the parking it reports is asserted, not printed
    rest: geoserver,
    onApplied: (applied) => void reported.push(...applied),
  };
  return { jobs, job, deps, reported };
}

test("a GeoServer node's resync tells its apply function what the catch-up's events did to the GeoServer, a refused change among them, as a batch's results do", async () => {
  const h = harness();
  await h.appendAll([add('workspace', 'kept', { name: 'kept' })]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  // Published after the source's snapshot: the resync's catch-up applies them from the log.
  const [refused, accepted] = await h.appendAll([add('workspace', 'refused', { name: 'refused' }), add('workspace', 'accepted', { name: 'accepted' })]);
  const geoserver = new FakeGeoServer();
  geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces' && JSON.stringify(request.body).includes('"refused"'), 400, 'Workspace name refused');
  const { jobs, job, deps, reported } = await geoServerResync(h, 'resync-gs', geoserver);
  let outcome: string | undefined;
  for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, TARGET, job.id, Date.now() + 10_000);
  expect((await jobs.read(TARGET, job.id))?.resync).toMatchObject({ appliedFromLog: 2 });
  expect(reported.map((event) => ({ sequence: event.sequence, effect: event.effect, geoserver: event.geoserver?.kind }))).toEqual([
    { sequence: refused!.sequence, effect: 'parked', geoserver: 'rejected' },
    { sequence: accepted!.sequence, effect: expect.any(String), geoserver: 'applied' },
  ]);
  expect(reported[0]?.geoserver).toMatchObject({ status: 400, answer: 'Workspace name refused' });
});

/** Slices until the job is done or a slice throws; what it threw, if it did. */
async function slicesUntilThrown(deps: JobRunnerDeps, id: string): Promise<unknown> {
  for (let slice = 0; slice < 100; slice += 1) {
    try {
      if ((await runJobSlice(deps, TARGET, id, Date.now() + 10_000)) === 'done') return undefined;
    } catch (error) {
      return error;
    }
  }
  throw new Error(`job ${id} did not end in 100 slices`);
}

test("a GeoServer node's resync whose catch-up stops part way (its GeoServer down) reports the events it committed before, in its record and to its apply function, and counts on from there", async () => {
  const h = harness();
  await h.appendAll([add('workspace', 'kept', { name: 'kept' })]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  const snapshot = await h.store.readCursor(SOURCE);
  // Published after the source's snapshot: the resync's catch-up applies them from the log.
  const [first, second, third] = await h.appendAll([add('workspace', 'a', { name: 'a' }), add('workspace', 'b', { name: 'b' }), add('workspace', 'c', { name: 'c' })]);
  const geoserver = new FakeGeoServer();
  geoserver.refuse((request) => request.method === 'POST' && request.path === '/workspaces' && JSON.stringify(request.body).includes('"c"'), 503, 'Service Unavailable');
  const { jobs, job, deps, reported } = await geoServerResync(h, 'resync-stops', geoserver);

  // The slice is thrown out to wait for the GeoServer; the two events before it are committed.
  const thrown = await slicesUntilThrown(deps, job.id);
  expect(thrown).toBeInstanceOf(GeoServerUnavailableError);
  expect(await h.store.readCursor(TARGET)).toBe(second!.sequence);
  expect(reported.map((event) => ({ sequence: event.sequence, geoserver: event.geoserver?.kind }))).toEqual([
    { sequence: first!.sequence, geoserver: 'applied' },
    { sequence: second!.sequence, geoserver: 'applied' },
  ]);
  expect(await jobs.read(TARGET, job.id)).toMatchObject({
    state: 'running',
    phase: 'bootstrap',
    resync: { snapshotSequence: snapshot, cursor: second!.sequence, appliedFromLog: 2 },
  });

  // The GeoServer back, the next slice goes on from there and counts on.
  geoserver.clearRefusals();
  expect(await slicesUntilThrown(deps, job.id)).toBeUndefined();
  expect(reported.map((event) => event.sequence)).toEqual([first!.sequence, second!.sequence, third!.sequence]);
  expect(await jobs.read(TARGET, job.id)).toMatchObject({ state: 'succeeded', resync: { snapshotSequence: snapshot, cursor: third!.sequence, appliedFromLog: 3 } });
});

test('a resync whose catch-up fails part way for good records, beside its error, the events it applied and where the store stopped', async () => {
  const h = harness();
  await h.appendAll([add('workspace', 'kept', { name: 'kept' })]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  const snapshot = await h.store.readCursor(SOURCE);
  const events = await h.appendAll([add('workspace', 'a', { name: 'a' }), add('workspace', 'b', { name: 'b' }), add('workspace', 'c', { name: 'c' })]);
  const jobs = new MemoryJobStore();
  const job = await startResync(jobs, 'resync-fails');
  // The store refuses the commit of the last event for a reason no retry mends, and its parking
  // too (a refused commit alone is retried, then parked, as the queue's applier would).
  const refusal = new Error('item too large');
  const store = Object.assign(Object.create(h.store) as typeof h.store, {
    commit: (node: string, commit: Parameters<typeof h.store.commit>[1]) => (commit.sequence === events[2]!.sequence ? Promise.reject(refusal) : h.store.commit(node, commit)),
    park: () => Promise.reject(refusal),
    commitBatch: (node: string, batch: Parameters<typeof h.store.commitBatch>[1]) =>
      batch.sequence >= events[2]!.sequence ? Promise.reject(refusal) : h.store.commitBatch(node, batch),
  });
  const reported: AppliedEvent[] = [];
  const deps: JobRunnerDeps = { ...jobDeps(h, jobs), store, apply: { ...applyDeps(h), store }, onApplied: (applied) => void reported.push(...applied) };

  expect(await slicesUntilThrown(deps, job.id)).toBeUndefined();
  const cursor = await h.store.readCursor(TARGET);
  expect(cursor).toBe(events[1]!.sequence);
  expect(reported.map((event) => event.sequence)).toEqual([events[0]!.sequence, events[1]!.sequence]);
  expect(await jobs.read(TARGET, job.id)).toMatchObject({
    state: 'failed',
    error: 'Error: item too large',
    resync: { snapshotSequence: snapshot, cursor, appliedFromLog: 2 },
  });
});
