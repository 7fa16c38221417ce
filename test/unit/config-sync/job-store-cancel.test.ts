/**
 * The memory job store's `cancel` (jobs.ts, `JobStore.cancel`), as the DynamoDB store's does it
 * (test/integration/config-sync/cancel-job.test.ts): the job ends `cancelled` and the node is free
 * at once, or handed to the capture waiting to follow it; a cancel again answers the same; a job
 * that ended otherwise is `ended`; a resync gives back its hold before its copy began and is
 * refused (`copying`) once it has, nothing changed.
 */
import { MemoryJobStore, MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { cancelledError, newJob, ResyncCopyingError, STALE_AFTER_MS, type JobKind } from '../../../lambdas/config-sync/jobs';

const NODE = 'gs-main';
const NOW = new Date('2026-03-01T10:00:00Z');
const LATER = new Date(NOW.getTime() + 1000);
const job = (id: string, kind: JobKind) => newJob({ id, node: NODE, kind, requestedBy: NODE, source: kind === 'resync' ? 'master-1' : undefined, hasGeoServer: true, now: NOW });

it('a running job ends cancelled, the node free at once; again, the same answer; a job that ended otherwise is refused', async () => {
  const jobs = new MemoryJobStore();
  await jobs.start(job('running', 'reconcile'), NOW);
  const first = await jobs.cancel(NODE, 'running', 'master-1', LATER);
  expect(first).toEqual({
    outcome: 'cancelled',
    again: false,
    job: expect.objectContaining({ id: 'running', state: 'cancelled', finishedAt: LATER.toISOString(), error: cancelledError({ id: 'running', node: NODE }, 'master-1') }),
  });
  expect(await jobs.cancel(NODE, 'running', 'gs-main', LATER)).toEqual({ ...first, again: true });
  // Its late slice's save is refused: no longer the node's job.
  expect(await jobs.save({ ...job('running', 'reconcile'), state: 'running' })).toBe('superseded');
  // Well within STALE_AFTER_MS: the node takes another job.
  expect(await jobs.start(job('next', 'drift'), LATER)).toEqual({ started: true });
  const at = LATER.toISOString();
  expect(await jobs.save({ ...job('next', 'drift'), state: 'succeeded', updatedAt: at, finishedAt: at })).toBe('saved');
  expect(await jobs.cancel(NODE, 'next', 'gs-main', LATER)).toMatchObject({ outcome: 'ended', job: { state: 'succeeded' } });
  expect(await jobs.cancel(NODE, 'unknown', 'gs-main', LATER)).toEqual({ outcome: 'not-found' });
});

it('the capture waiting to follow a cancelled job is handed the node, to be queued by the caller', async () => {
  const jobs = new MemoryJobStore();
  await jobs.start(job('running', 'drift'), NOW);
  await jobs.follow(job('waiting', 'capture'), NOW);
  expect(await jobs.cancel(NODE, 'running', 'gs-main', LATER)).toMatchObject({ outcome: 'cancelled', successor: { id: 'waiting', state: 'queued' } });
  expect(await jobs.latest(NODE)).toMatchObject({ id: 'waiting' });
  expect(await jobs.start(job('other', 'drift'), LATER)).toMatchObject({ started: false, active: { id: 'waiting' } });
});

it('a capture waiting to follow the running job is not cancelled: it names that job, and nothing changes', async () => {
  const jobs = new MemoryJobStore();
  await jobs.start(job('running', 'reconcile'), NOW);
  await jobs.follow(job('waiting', 'capture'), NOW);
  expect(await jobs.cancel(NODE, 'waiting', 'gs-main', LATER)).toMatchObject({ outcome: 'waiting', after: 'running', job: { id: 'waiting', state: 'queued' } });
  expect(await jobs.follower(NODE, 'running')).toMatchObject({ id: 'waiting', state: 'queued' });
});

it("a resync gives back its hold before its copy began; once it began, it is refused and nothing changes", async () => {
  const store = new MemoryNodeStore();
  const jobs = new MemoryJobStore(store);
  await jobs.start(job('resync', 'resync'), NOW);
  await store.holdForResync(NODE, 'resync', NOW.getTime() + STALE_AFTER_MS, false);
  expect(await jobs.cancel(NODE, 'resync', 'gs-main', LATER)).toMatchObject({ outcome: 'cancelled' });
  expect((await store.readProgress(NODE)).heldBy).toBeUndefined();

  await jobs.start(job('copying', 'resync'), LATER);
  await store.holdForResync(NODE, 'copying', LATER.getTime() + STALE_AFTER_MS, true);
  const before = await jobs.read(NODE, 'copying');
  const refused = await jobs.cancel(NODE, 'copying', 'gs-main', LATER);
  expect(refused).toMatchObject({ outcome: 'copying', job: { id: 'copying' } });
  // Nothing copied by this one yet: the store is an earlier resync's half-copied one, which the message says.
  const { job: copying } = refused as { job: NonNullable<Awaited<ReturnType<typeof jobs.read>>> };
  expect(new ResyncCopyingError(copying).message).toMatch(/^Resync job copying of node gs-main holds a store an earlier resync left half-copied, which it is to replace with master-1's snapshot: cancelled now/);
  expect(new ResyncCopyingError({ ...copying, progress: { ...copying.progress, copied: 200 } }).message).toMatch(/^Resync job copying of node gs-main has begun replacing its store with master-1's snapshot \(200 objects copied\)/);
  expect(await jobs.read(NODE, 'copying')).toEqual(before);
  expect(await store.readProgress(NODE)).toMatchObject({ heldBy: 'copying', storeIncomplete: true });
  expect(await jobs.start(job('other', 'drift'), LATER)).toMatchObject({ started: false, active: { id: 'copying' } });
});
