/**
 * A job whose slice cannot be sent is marked failed (sqs-jobs.ts): that final save hands the node
 * to a capture waiting to follow the job (JobStore.follow), whose first slice must then be queued
 * too, or it would hold the node while nothing ever runs it.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsWith } from '../../../lambdas/config-sync/adapters/deferred-sdk';
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { enqueueJob } from '../../../lambdas/config-sync/adapters/sqs-jobs';
import { newJob, type JobKind } from '../../../lambdas/config-sync/jobs';

const NODE = 'gs-main';
const NOW = new Date('2026-03-01T10:00:00Z');
let ids = 0;
const job = (kind: JobKind) => newJob({ id: `job-${(ids += 1)}`, node: NODE, kind, requestedBy: NODE, hasGeoServer: true, now: NOW });

/** An SQS client whose first send fails and the others succeed; the messages sent are kept. */
function flakyQueue(): { client: SQSClient; sent: { MessageBody?: string; MessageDeduplicationId?: string }[] } {
  const sent: { MessageBody?: string; MessageDeduplicationId?: string }[] = [];
  let calls = 0;
  const client = {
    send: async (command: { input: { MessageBody?: string; MessageDeduplicationId?: string } }) => {
      calls += 1;
      if (calls === 1) throw new Error('SQS unavailable');
      sent.push(command.input);
      return {};
    },
  } as unknown as SQSClient;
  return { client, sent };
}

describe('a job whose first slice cannot be sent', () => {
  it('fails, and the capture waiting for it gets its first slice queued rather than a node it never runs on', async () => {
    const jobs = new MemoryJobStore();
    const first = job('drift');
    expect((await jobs.start(first, NOW)).started).toBe(true);
    const follower = job('capture');
    expect(await jobs.follow(follower, NOW)).toMatchObject({ outcome: 'queued', after: { id: first.id } });
    const queue = flakyQueue();

    await expect(enqueueJob(sqsWith(queue.client), jobs, 'https://queue', 'c1', first)).rejects.toThrow('SQS unavailable');

    expect(await jobs.read(NODE, first.id)).toMatchObject({ state: 'failed' });
    expect(await jobs.latest(NODE)).toMatchObject({ id: follower.id });
    expect(queue.sent.map((message) => message.MessageDeduplicationId)).toEqual([`job-${follower.id}-0`]);
  });

  it('fails without a waiting capture as before: the node is released', async () => {
    const jobs = new MemoryJobStore();
    const first = job('drift');
    await jobs.start(first, NOW);
    const queue = flakyQueue();
    await expect(enqueueJob(sqsWith(queue.client), jobs, 'https://queue', 'c1', first)).rejects.toThrow('SQS unavailable');
    expect(await jobs.read(NODE, first.id)).toMatchObject({ state: 'failed' });
    expect(queue.sent).toEqual([]);
    expect((await jobs.start(job('capture'), NOW)).started).toBe(true);
  });
});
