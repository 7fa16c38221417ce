/**
 * POST /nodes/{node}/drift, /nodes/{node}/reconcile, /nodes/{node}/capture: starts a job on a
 * node with a GeoServer (jobs.ts) and answers 202 with it (`Location` names
 * GET /nodes/{node}/jobs/{id}); its progress and outcome also show in GET /nodes.
 * - drift: compares the node's GeoServer with its store (the report: GET /nodes/{node}/drift);
 * - reconcile: the same, then makes the GeoServer match the store;
 * - capture (a master or `both` node): the same, then publishes the differences as the node's
 *   events, its GeoServer being the truth (changes made in its web UI, or a gateway write whose
 *   publish was lost).
 * The node itself or a master may ask; 409 while the node runs another job (or has one queued:
 * a paused node's waits for the resume, and the message says so), and 409 NODE_HELD_BY_RESYNC for
 * a reconcile or capture while a resync holds the node (its store half-copied: jobs.ts,
 * `refusedWhileHeld`), nothing stored.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../shared/errors';
import { assertNoBody, callerNode, httpHandler, json, pathParam, type HttpEvent } from '../../shared/http';
import { canPublish } from '../../shared/cluster-model';
import { logger } from '../../shared/observability';
import { assertCanOperate, findNode } from '../cluster';
import { geoServerNodesFromEnv, jobStoreFromEnv, membershipFromEnv, nodePausesFromEnv, nodeQueuesFromEnv, nodeStoreFromEnv, sqsFromEnv } from '../adapters/from-env';
import { assertNotHeldByResync, jobRunningMessage, jobView, newJob, type JobKind } from '../jobs';
import { enqueueJob } from '../adapters/sqs-jobs';
// Every job starts with a message on SQS: the client is bundled (see `sqs` below for when it is created).
import * as sqsSdk from '../adapters/sqs-sdk';

const membership = membershipFromEnv();
const geoservers = geoServerNodesFromEnv(membership);
const queues = nodeQueuesFromEnv(membership);
const jobs = jobStoreFromEnv();
// Read for the node's resync hold only (its cursor item), before a reconcile or capture starts.
const store = nodeStoreFromEnv();
const pauses = nodePausesFromEnv();
// Jobs run only on nodes with a GeoServer. A cluster that declares one sends a job's first
// message on every accepted request: its client is created at cold start. A cluster that
// declares none refuses every request (409 NO_GEOSERVER) before anything is sent, so creating
// the client (2-5 ms of its cold start) would be work its configuration never uses: it is
// created on first use, which then never comes.
const sqs = sqsFromEnv(Object.keys(geoservers).length > 0 ? sqsSdk : () => sqsSdk);

export const handler = httpHandler(async (event: HttpEvent) => {
  const caller = findNode(membership, callerNode(event).nodeId);
  const target = findNode(membership, pathParam(event, 'node'));
  const kind = kindOf(event);
  assertCanOperate(caller, target, kind === 'drift' ? 'check the drift of' : kind);
  assertNoBody(event);
  if (!Object.hasOwn(geoservers, target.name)) {
    throw new ConflictError('NO_GEOSERVER', `Node ${target.name} declares no GeoServer: there is nothing to compare its store with`);
  }
  if (kind === 'capture' && !canPublish(target.role)) {
    throw new ConflictError('NOT_A_MASTER', `Node ${target.name} is a ${target.role}: only a master's GeoServer is the truth a capture publishes`);
  }
  const now = new Date();
  await assertNotHeldByResync({ store, jobs }, target.name, kind, now);
  const job = newJob({ id: randomUUID(), node: target.name, kind, requestedBy: caller.name, hasGeoServer: true, now });
  const started = await jobs.start(job, now);
  if (!started.started) {
    // Read only on this refusal: a paused node's running job goes on only after the resume, which the message says.
    throw new ConflictError('JOB_RUNNING', jobRunningMessage(target.name, started.active, await pauses.read(target.name)), {
      job: jobView(started.active),
    });
  }
  await enqueueJob(sqs, jobs, queues[target.name]!.queueUrl, membership.cluster, job);
  logger.info('job started', { node: target.name, job: job.id, kind, requestedBy: caller.name });
  return json(202, { job: jobView(job) }, { location: `/nodes/${encodeURIComponent(target.name)}/jobs/${job.id}` });
});

function kindOf(event: HttpEvent): JobKind {
  const path = event.rawPath ?? '';
  if (path.endsWith('/reconcile')) return 'reconcile';
  if (path.endsWith('/capture')) return 'capture';
  return 'drift';
}
