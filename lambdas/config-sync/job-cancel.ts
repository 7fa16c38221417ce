/**
 * POST /nodes/{node}/jobs/{id}/cancel, served by the ResyncNode function (handlers/resync-node.ts,
 * which has the grants it needs on every node's store and queue: a route of its own function
 * would cost the cluster's stack seven more of its 500 resources). Ends a queued or running job
 * of the node (a drift check, reconcile, capture or resync) `cancelled` and gives the node back at
 * once (jobs.ts, `JobStore.cancel`), answering 200 with the job; its `error` names who cancelled
 * it. A slice running meanwhile stops at its next checkpoint, saving nothing; what it did before
 * (a fix, a publish: each a whole REST call or event) stays done. The capture waiting to follow
 * the job (an upload through the gateway) gets the node, and its first slice is queued here.
 * The node itself or a master may cancel, as either may start a job. A cancel sent again answers
 * the same; 409 JOB_ENDED for a job that ended otherwise; 409 RESYNC_COPYING for a resync whose
 * copy began (cancelled, it would leave the store half-copied: it is left to finish); 409
 * CAPTURE_WAITING for an upload's capture waiting to follow the running job; 404 for a
 * job the node does not have; 400 for a body. Nothing is written on a refusal.
 */
import { NotFoundError } from '../shared/errors';
import { assertNoBody, callerNode, json, pathParam, type HttpEvent, type HttpResult } from '../shared/http';
import { logger } from '../shared/observability';
import { assertCanOperate, findNode, type ClusterMembership } from './cluster';
import type { Sqs } from './adapters/deferred-sdk';
import { enqueueJob } from './adapters/sqs-jobs';
import { CaptureWaitingError, JOB_ID_PATTERN, JobEndedError, jobView, ResyncCopyingError, type JobStore } from './jobs';

/** Whether the request is a cancel (the one route of its function that ends so). */
export function isJobCancel(event: HttpEvent): boolean {
  return (event.rawPath ?? '').endsWith('/cancel') && event.pathParameters?.id !== undefined;
}

export interface JobCancelDeps {
  readonly membership: ClusterMembership;
  /** The consuming nodes' queues: a capture that waited to follow the cancelled job is queued on its node's. */
  readonly queues: Readonly<Record<string, { readonly queueUrl: string }>>;
  readonly jobs: JobStore;
  readonly sqs: Sqs;
}

export async function cancelJob(deps: JobCancelDeps, event: HttpEvent): Promise<HttpResult> {
  const { membership, queues, jobs, sqs } = deps;
  const caller = findNode(membership, callerNode(event).nodeId);
  const target = findNode(membership, pathParam(event, 'node'));
  assertCanOperate(caller, target, 'cancel the jobs of');
  assertNoBody(event);
  const id = pathParam(event, 'id');
  // Job ids are UUIDs: anything else names no job (and never reaches the table as a key).
  if (!JOB_ID_PATTERN.test(id)) throw new NotFoundError('job', id);
  const outcome = await jobs.cancel(target.name, id, caller.name, new Date());
  switch (outcome.outcome) {
    case 'not-found':
      throw new NotFoundError('job', id);
    case 'ended':
      throw new JobEndedError(outcome.job);
    case 'copying':
      throw new ResyncCopyingError(outcome.job);
    case 'waiting':
      throw new CaptureWaitingError(outcome.job, outcome.after);
    case 'cancelled':
      break;
  }
  if (!outcome.again) logger.info('job cancelled', { node: target.name, job: id, kind: outcome.job.kind, phase: outcome.job.phase, by: caller.name });
  const queue = queues[target.name];
  if (outcome.successor && queue) {
    await enqueueJob(sqs, jobs, queue.queueUrl, membership.cluster, outcome.successor);
    logger.info('job started', { node: target.name, job: outcome.successor.id, kind: outcome.successor.kind, after: id, requestedBy: outcome.successor.requestedBy });
  }
  return json(200, { job: jobView(outcome.job) }, { 'cache-control': 'no-store' });
}
