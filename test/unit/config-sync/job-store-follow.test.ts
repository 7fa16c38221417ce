/**
 * The memory job store's `follow` when the node's running job goes stale (jobs.ts,
 * `staleFollowError`): the capture waiting to follow it waited for a job that will never end, so
 * replacing that job fails it and clears the node's next job, as the DynamoDB store does.
 */
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { newJob, STALE_AFTER_MS, type JobKind } from '../../../lambdas/config-sync/jobs';

const NODE = 'gs-main';
const NOW = new Date('2026-03-01T10:00:00Z');
const LATER = new Date(NOW.getTime() + STALE_AFTER_MS + 1000);
const job = (id: string, kind: JobKind) => newJob({ id, node: NODE, kind, requestedBy: NODE, hasGeoServer: true, now: NOW });

describe('replacing a stale job', () => {
  it('fails the capture waiting to follow it and clears the next job: an upload is then not covered by it', async () => {
    const jobs = new MemoryJobStore();
    await jobs.start(job('stale', 'drift'), NOW);
    expect(await jobs.follow(job('waiting', 'capture'), NOW)).toMatchObject({ outcome: 'queued', after: { id: 'stale' } });
    const replacing = job('replacing', 'reconcile');
    expect(await jobs.start(replacing, LATER)).toEqual({ started: true });

    const waiting = await jobs.read(NODE, 'waiting');
    expect(waiting).toMatchObject({ state: 'failed', finishedAt: LATER.toISOString() });
    expect(waiting?.error).toMatch(/job stale, which it was waiting to follow, saved nothing .* replaced by job replacing \(reconcile\); capture node gs-main/);
    expect(await jobs.follow(job('upload', 'capture'), LATER)).toMatchObject({ outcome: 'queued', after: { id: 'replacing' } });
    const at = LATER.toISOString();
    expect(await jobs.save({ ...replacing, state: 'succeeded', updatedAt: at, finishedAt: at })).toBe('saved');
    expect(await jobs.successor(NODE, 'replacing')).toMatchObject({ id: 'upload' });
  });

  it("by a capture (an upload's follow): the waiting capture is failed as read after by the new one, which starts", async () => {
    const jobs = new MemoryJobStore();
    await jobs.start(job('stale', 'drift'), NOW);
    await jobs.follow(job('waiting', 'capture'), NOW);
    expect(await jobs.follow(job('upload', 'capture'), LATER)).toEqual({ outcome: 'started' });
    expect((await jobs.read(NODE, 'waiting'))?.error).toMatch(/replaced by job upload \(capture\); that capture reads the GeoServer after the changes/);
    expect(await jobs.latest(NODE)).toMatchObject({ id: 'upload' });
    const at = LATER.toISOString();
    // Its end releases the node: the failed capture does not follow it.
    expect(await jobs.save({ ...job('upload', 'capture'), state: 'succeeded', updatedAt: at, finishedAt: at })).toBe('saved');
    expect(await jobs.successor(NODE, 'upload')).toBeUndefined();
    expect(await jobs.start(job('free', 'drift'), LATER)).toEqual({ started: true });
  });
});
