/**
 * The capture of the gateway's master that replicates an upload into a store (gateway.ts): the job
 * of POST /nodes/{master}/capture, asked for by the gateway after the master took an upload, and by
 * whoever recovers an upload's intent its writer left (recovery.ts: the next gateway write, or the
 * sweep). One definition for both handlers, so a recovered upload is captured exactly as a
 * replicated one is.
 */
import { randomUUID } from 'node:crypto';
import { logger } from '../../shared/observability';
import { newJob, NodeHeldByResyncError, resyncHoldOf, type HoldReaders, type Job, type JobStore } from '../jobs';
import type { UploadCapture } from './gateway';

export interface UploadCaptureDeps extends HoldReaders {
  readonly jobs: Pick<JobStore, 'read' | 'follow'>;
  /** The gateway's master. */
  readonly master: string;
  /** Sends a started job's first slice to the master's queue (adapters/sqs-jobs.ts, `enqueueJob`). */
  readonly enqueue: (job: Job) => Promise<void>;
  /** Who asked, for the log line: `gateway upload`, `gateway recovery`. */
  readonly requestedBy: string;
}

/**
 * Asks for a capture of the master, unless one not begun covers it; queued after the master's
 * running job otherwise (jobs.ts, `follow`), whose end starts it (apply-events.ts). Asked for
 * under the write lease, before it is given back: a master's reconcile then finds it waiting and
 * leaves what the upload made alone (job-runner.ts). A hold of a resync that failed or stopped part
 * way (its store half-copied) starts none (`NodeHeldByResyncError`): that capture would publish
 * what the copy had not reached as changes; one queued behind a running resync fails as it begins
 * if that resync fails (job-runner.ts).
 */
export function uploadCapture(deps: UploadCaptureDeps): () => Promise<UploadCapture> {
  return async () => {
    const now = new Date();
    const hold = await resyncHoldOf(deps, deps.master, now);
    if (hold?.state === 'incomplete') throw new NodeHeldByResyncError(deps.master, 'capture', hold);
    const job = newJob({ id: randomUUID(), node: deps.master, kind: 'capture', requestedBy: deps.master, hasGeoServer: true, now });
    const followed = await deps.jobs.follow(job, now);
    if (followed.outcome === 'covered') return { job: followed.by.id, outcome: 'covered' };
    if (followed.outcome === 'started') await deps.enqueue(job);
    logger.info('job started', { node: deps.master, job: job.id, kind: 'capture', requestedBy: deps.requestedBy, ...(followed.outcome === 'queued' ? { after: followed.after.id } : {}) });
    return { job: job.id, outcome: followed.outcome };
  };
}
