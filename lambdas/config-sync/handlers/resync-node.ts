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
 * converges with this one call. 409 while the node runs another job. A pure master has no queue
 * (and no GeoServer): it is resynced within the request, answered 200.
 *
 * The node's queue may keep delivering meanwhile: the store only ever replaces an object by
 * a newer version, so the snapshot and the applier cannot undo each other's writes.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '../../shared/errors';
import { callerNode, httpHandler, json, parseJsonBody, pathParam, type HttpEvent } from '../../shared/http';
import { resyncFrom } from '../bootstrap';
import { canPublish, consumes, type ClusterNode } from '../../shared/cluster-model';
import { assertCanOperate, findNode } from '../cluster';
import { fieldIssues } from '../events';
import { logger } from '../../shared/observability';
import { applyDepsFromEnv, jobStoreFromEnv, membershipFromEnv, nodeQueuesFromEnv, sqsFromEnv } from '../adapters/from-env';
import { enqueueJob } from '../adapters/sqs-jobs';
// A consuming node (most nodes) resyncs in a job queued on SQS: the client is bundled and created at cold start.
import * as sqsSdk from '../adapters/sqs-sdk';
import { jobView, newJob } from '../jobs';
import { resyncRequestSchema } from '../request-schemas';

const membership = membershipFromEnv();
const deps = applyDepsFromEnv();
const queues = nodeQueuesFromEnv(membership);
const jobs = jobStoreFromEnv();
const sqs = sqsFromEnv(sqsSdk);

export const handler = httpHandler(async (event) => {
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
      throw new ConflictError('JOB_RUNNING', `Node ${target.name} is running job ${started.active.id} (${started.active.kind}); wait for it to end`, {
        job: jobView(started.active),
      });
    }
    await enqueueJob(sqs, jobs, queues[target.name]!.queueUrl, membership.cluster, job);
    logger.info('resync job started', { source: source.name, job: job.id });
    return json(202, { node: target.name, source: source.name, job: jobView(job) }, { location: `/nodes/${encodeURIComponent(target.name)}/jobs/${job.id}` });
  }
  const result = await resyncFrom(deps, { cluster: membership.cluster, node: target.name }, source.name);
  logger.info('node resynced', {
    source: source.name,
    snapshotSequence: result.snapshotSequence,
    sequence: result.cursor,
    appliedFromLog: result.applied.length,
  });
  return json(200, {
    node: target.name,
    source: source.name,
    sequence: result.cursor,
    snapshotSequence: result.snapshotSequence,
    appliedFromLog: result.applied.length,
  });
});

function requestedSource(event: HttpEvent): string | undefined {
  // The body is optional: an empty one means the default source.
  if ((event.body ?? '').trim() === '') return undefined;
  const result = resyncRequestSchema.safeParse(parseJsonBody(event));
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
    throw new ConflictError('NO_RESYNC_SOURCE', `Cluster ${membership.cluster} has no master other than ${target.name} to resync it from: name a source node`);
  }
  return source;
}
