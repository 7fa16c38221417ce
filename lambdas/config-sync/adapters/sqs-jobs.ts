/**
 * A job's slices travel through its node's own FIFO queue, in the cluster's message group (so
 * a slice never runs beside an event being applied): one message per slice, deduplicated by
 * job and slice.
 */
import { jobMessage, type Job, type JobStore } from '../jobs';
import type { Sqs } from './deferred-sdk';

/**
 * Sends the message of the job's next slice. When it cannot be sent the job is marked failed
 * (nothing would ever run it) and the error is thrown.
 */
export async function enqueueJob(sqs: Sqs, jobs: JobStore, queueUrl: string, cluster: string, job: Job): Promise<void> {
  try {
    const { sdk, client } = sqs.connect();
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: jobMessage(job),
        MessageGroupId: cluster,
        MessageDeduplicationId: `job-${job.id}-${job.slices}`,
      }),
    );
  } catch (error) {
    const at = new Date().toISOString();
    await jobs
      .save({ ...job, state: 'failed', updatedAt: at, finishedAt: at, error: `could not queue the job's next slice: ${String(error)}` })
      .catch(() => undefined);
    throw error;
  }
}
