/**
 * A job's slices travel through its node's own FIFO queue, in the cluster's message group (so
 * a slice never runs beside an event being applied): one message per slice, deduplicated by
 * job and slice.
 */
import { jobMessage, type Job, type JobStore } from '../jobs';
import type { Sqs } from './deferred-sdk';

/**
 * Sends the message of the job's next slice. When it cannot be sent the job is marked failed
 * (nothing would ever run it) and the error is thrown. That final save may hand the node to a
 * capture waiting to follow the job (jobs.ts `follow`): its first slice is sent here, as the apply
 * function sends it after a job's last slice, or it would hold the node with nothing to run it.
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
    const saved = await jobs
      .save({ ...job, state: 'failed', updatedAt: at, finishedAt: at, error: `could not queue the job's next slice: ${String(error)}` })
      .catch(() => undefined);
    // A send that fails for it as well marks it failed in turn, and so on down the node's jobs.
    const successor = saved === 'saved' ? await jobs.successor(job.node, job.id).catch(() => undefined) : undefined;
    if (successor) await enqueueJob(sqs, jobs, queueUrl, cluster, successor).catch(() => undefined);
    throw error;
  }
}
