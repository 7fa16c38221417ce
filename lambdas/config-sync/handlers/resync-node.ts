/**
 * POST /nodes/{node}/resync, body optional `{ "source": "<node>" }`: bootstraps the node's
 * store from a snapshot of the source node's store plus the event log after it (a new node,
 * one away longer than its queue's retention, or one whose store is in doubt). The default
 * source is the first master or `both` node other than the target. A full "reload" of a
 * master is this same single snapshot, never a storm of per-object events (GeoServer's
 * "NEVER RELOAD").
 *
 * A consuming node's resync is a background job (jobs.ts), answered 202 with the job: its own
 * apply function runs it from its queue (a snapshot of a large store takes longer than a request
 * may last), and for a node with a GeoServer the job goes on with a reconcile of that GeoServer
 * against the new store, so a new node, or a GeoServer rebuilt from an empty data directory,
 * converges with this one call. 409 while the node runs another job.
 *
 * A pure master has no queue and no apply function to run a job's slices (and no GeoServer), so
 * its resync is a job whose slices run within the requests that ask for it: each POST runs it
 * for at most `REQUEST_SLICE_MS` (under its function's 29 s timeout and API Gateway's 30 s) and answers 200 with the outcome
 * once it is done, or 202 with the job while it is not: the same POST again goes on from the
 * job's checkpoint. So a store of any size is resynced, a request at a time, and none outlasts
 * its gateway. Nothing runs between the requests: until the job is done the master's store is
 * held (its own publishes reach it with the job's catch-up), and a job nobody continues lapses
 * as any job does (15 minutes), the master then applying its publishes again.
 *
 * The node's queue may keep delivering meanwhile: the job holds the node while it copies the
 * snapshot (job-runner.ts), and the store only ever replaces an object by a newer version.
 *
 * The function also serves POST /nodes/{node}/jobs/{id}/cancel (job-cancel.ts): it holds the
 * grants a cancel needs on every node's store and queue.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { ConflictError, ValidationError } from '../../shared/errors';
import { callerNode, httpHandler, json, parseJsonBody, pathParam, type HttpEvent, type HttpResult } from '../../shared/http';
import { canPublish, consumes, type ClusterNode } from '../../shared/cluster-model';
import { assertCanOperate, findNode } from '../cluster';
import { fieldIssues } from '../events';
import { logger } from '../../shared/observability';
import { jobStoreFromEnv, membershipFromEnv, nodePausesFromEnv, nodeQueuesFromEnv, sqsFromEnv } from '../adapters/from-env';
import { enqueueJob } from '../adapters/sqs-jobs';
import { loadJobSlices } from '../deferred-job-slices';
import type { SliceRunner } from '../job-slices';
// A consuming node (most nodes) resyncs in a job queued on SQS: the client is bundled and created at cold start.
import * as sqsSdk from '../adapters/sqs-sdk';
import { jobRunningMessage, jobView, newJob, noResyncSourceMessage, resyncWithinRequestsRunningMessage } from '../jobs';
import { resyncRequestSchema } from '../request-schemas';
import { cancelJob, isJobCancel } from '../job-cancel';

const membership = membershipFromEnv();
const queues = nodeQueuesFromEnv(membership);
const jobs = jobStoreFromEnv();
const pauses = nodePausesFromEnv();
const sqs = sqsFromEnv(sqsSdk);
/**
 * A pure master's resync job, run within requests (no GeoServer: the bootstrap only). The job
 * runner is loaded by the first such request (job-slices.ts): a consuming node's resync, most
 * of this function's requests, only queues its job.
 */
let masterSlices: SliceRunner | undefined;

export const handler = httpHandler(async (event, context) => {
  // This function serves POST /nodes/{node}/jobs/{id}/cancel too (job-cancel.ts).
  if (isJobCancel(event)) return cancelJob({ membership, queues, jobs, sqs }, event);
  const caller = findNode(membership, callerNode(event).nodeId);
  const target = findNode(membership, pathParam(event, 'node'));
  assertCanOperate(caller, target, 'resync');
  logger.appendKeys({ node: target.name });
  const source = sourceNode(target, requestedSource(event));
  if (consumes(target.role) && Object.hasOwn(queues, target.name)) {
    const now = new Date();
    const job = newJob({ id: randomUUID(), node: target.name, kind: 'resync', requestedBy: caller.name, source: source.name, hasGeoServer: false, now });
    const started = await jobs.start(job, now);
    if (!started.started) {
      // Read only on this refusal: a paused node's running job goes on only after the resume, which the message says.
      throw new ConflictError('JOB_RUNNING', jobRunningMessage(target.name, started.active, await pauses.read(target.name)), {
        job: jobView(started.active),
      });
    }
    await enqueueJob(sqs, jobs, queues[target.name]!.queueUrl, membership.cluster, job);
    logger.info('resync job started', { source: source.name, job: job.id });
    return json(202, { node: target.name, source: source.name, job: jobView(job) }, { location: `/nodes/${encodeURIComponent(target.name)}/jobs/${job.id}` });
  }
  return resyncWithinRequests(caller, target, source, context);
});

/** How long one request runs a pure master's resync job, at most. */
const REQUEST_SLICE_MS = 20_000;
/** Time kept back from the function's timeout for the answer. */
const REQUEST_RESERVE_MS = 5_000;

async function resyncWithinRequests(caller: ClusterNode, target: ClusterNode, source: ClusterNode, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<HttpResult> {
  const now = new Date();
  let job = newJob({ id: randomUUID(), node: target.name, kind: 'resync', requestedBy: caller.name, source: source.name, hasGeoServer: false, now });
  const started = await jobs.start(job, now);
  if (!started.started) {
    // The same resync again goes on with it; anything else waits for it.
    if (started.active.kind !== 'resync' || started.active.source !== source.name) {
      const message = started.active.kind === 'resync' ? resyncWithinRequestsRunningMessage(target.name, started.active) : jobRunningMessage(target.name, started.active);
      throw new ConflictError('JOB_RUNNING', message, {
        job: jobView(started.active),
      });
    }
    job = started.active;
  }
  const remaining = context ? context.getRemainingTimeInMillis() - REQUEST_RESERVE_MS : REQUEST_SLICE_MS;
  masterSlices ??= loadJobSlices().storeSliceRunner(membership.cluster, logger);
  const outcome = await masterSlices(target.name, job.id, Date.now() + Math.min(REQUEST_SLICE_MS, remaining));
  const ran = (await jobs.read(target.name, job.id)) ?? job;
  if (outcome === 'more') {
    logger.info('resync job ran a slice within the request', { source: source.name, job: job.id, progress: ran.progress });
    return json(202, { node: target.name, source: source.name, job: jobView(ran) }, { location: `/nodes/${encodeURIComponent(target.name)}/jobs/${job.id}` });
  }
  if (ran.state !== 'succeeded' || !ran.resync) {
    throw new ConflictError('RESYNC_FAILED', `The resync of node ${target.name} (job ${job.id}) did not complete: ${ran.error ?? outcome}`, { job: jobView(ran) });
  }
  logger.info('node resynced', { source: source.name, job: job.id, snapshotSequence: ran.resync.snapshotSequence, sequence: ran.resync.cursor, appliedFromLog: ran.resync.appliedFromLog });
  return json(200, {
    node: target.name,
    source: source.name,
    sequence: ran.resync.cursor,
    snapshotSequence: ran.resync.snapshotSequence,
    appliedFromLog: ran.resync.appliedFromLog,
    job: jobView(ran),
  });
}

function requestedSource(event: HttpEvent): string | undefined {
  // The body is optional: an empty one means the default source.
  if ((event.body ?? '').trim() === '') return undefined;
  const result = resyncRequestSchema().safeParse(parseJsonBody(event));
  if (!result.success) {
    const [issue] = fieldIssues(result.error);
    throw new ValidationError(issue?.field ?? 'body', issue?.message ?? 'is invalid');
  }
  return result.data.source;
}

function sourceNode(target: ClusterNode, requested: string | undefined): ClusterNode {
  if (requested !== undefined) {
    const source = membership.nodes.find((node) => node.name === requested);
    if (!source) throw new ValidationError('source', `must be a node of cluster ${membership.cluster}`);
    if (source.name === target.name) throw new ValidationError('source', 'must be another node than the one to resync');
    return source;
  }
  const source = membership.nodes.find((node) => node.name !== target.name && canPublish(node.role));
  if (!source) {
    throw new ConflictError('NO_RESYNC_SOURCE', noResyncSourceMessage(membership.cluster, target.name));
  }
  return source;
}
