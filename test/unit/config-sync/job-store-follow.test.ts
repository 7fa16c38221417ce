/**
 * The memory job store's `follow` when the node's running job goes stale (jobs.ts,
 * `keepsWaitingCapture`): a drift check or reconcile that replaces it keeps the capture waiting
 * to follow it as its own next job; a resync fails that capture and clears the node's next job;
 * a capture covers it. As the DynamoDB store does.
 */
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { newJob, STALE_AFTER_MS, type JobKind } from '../../../lambdas/config-sync/jobs';

const NODE = 'gs-main';
const NOW = new Date('2026-03-01T10:00:00Z');
const LATER = new Date(NOW.getTime() + STALE_AFTER_MS + 1000);
const job = (id: string, kind: JobKind) => newJob({ id, node: NODE, kind, requestedBy: NODE, hasGeoServer: true, now: NOW });

describe('replacing a stale job', () => {
  it.each(['drift', 'reconcile'] as const)('by a %s keeps the capture waiting to follow it, which the replacing job\'s final save starts', async (kind) => {
    const jobs = new MemoryJobStore();
    await jobs.start(job('stale', 'drift'), NOW);
    expect(await jobs.follow(job('waiting', 'capture'), NOW)).toMatchObject({ outcome: 'queued', after: { id: 'stale' } });
    const replacing = job('replacing', kind);
    expect(await jobs.start(replacing, LATER)).toEqual({ started: true });

    expect(await jobs.read(NODE, 'waiting')).toMatchObject({ state: 'queued', error: null, finishedAt: null });
    // An upload now is covered by it: it has not begun, so reads the GeoServer after the upload.
    expect(await jobs.follow(job('upload', 'capture'), LATER)).toMatchObject({ outcome: 'covered', by: { id: 'waiting' } });
    expect(await jobs.read(NODE, 'upload')).toBeUndefined();
    const at = LATER.toISOString();
    expect(await jobs.save({ ...replacing, state: 'succeeded', updatedAt: at, finishedAt: at })).toBe('saved');
    expect(await jobs.successor(NODE, 'replacing')).toMatchObject({ id: 'waiting', state: 'queued' });
    expect(await jobs.latest(NODE)).toMatchObject({ id: 'waiting' });
  });

  it('by a resync fails the capture waiting to follow it and clears the next job: an upload is then not covered by it', async () => {
    const jobs = new MemoryJobStore();
    await jobs.start(job('stale', 'drift'), NOW);
    expect(await jobs.follow(job('waiting', 'capture'), NOW)).toMatchObject({ outcome: 'queued', after: { id: 'stale' } });
    const replacing = job('replacing', 'resync');
    expect(await jobs.start(replacing, LATER)).toEqual({ started: true });

    const waiting = await jobs.read(NODE, 'waiting');
    expect(waiting).toMatchObject({ state: 'failed', finishedAt: LATER.toISOString() });
    expect(waiting?.error).toMatch(/job stale, which it was waiting to follow, saved nothing .* replaced by job replacing \(resync\); once that job has finished, capture node gs-main/);
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

describe('a job id the node already has', () => {
  it('is refused by start and follow, as the DynamoDB store refuses it, and nothing is written', async () => {
    const jobs = new MemoryJobStore();
    const first = job('reused', 'drift');
    await jobs.start(first, NOW);
    const at = NOW.toISOString();
    expect(await jobs.save({ ...first, state: 'succeeded', updatedAt: at, finishedAt: at })).toBe('saved');
    const before = await jobs.read(NODE, 'reused');
    await expect(jobs.start(job('reused', 'reconcile'), NOW)).rejects.toThrow('node gs-main already has a job reused: a job id is never reused');
    await jobs.start(job('running', 'drift'), NOW);
    await expect(jobs.follow(job('reused', 'capture'), NOW)).rejects.toThrow('node gs-main already has a job reused');
    expect(await jobs.read(NODE, 'reused')).toEqual(before);
    expect(await jobs.latest(NODE)).toMatchObject({ id: 'running' });
    expect(await jobs.save({ ...job('running', 'drift'), state: 'succeeded', updatedAt: at, finishedAt: at })).toBe('saved');
    expect(await jobs.successor(NODE, 'running')).toBeUndefined();
  });
});
