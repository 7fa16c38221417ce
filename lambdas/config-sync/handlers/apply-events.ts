/**
 * SQS event source of one consuming node (`NODE_NAME`): applies the batch to the node's
 * store (and, for a node with a GeoServer, to the GeoServer first) in order and reports, as
 * FIFO requires, the first failed message and every later one (`batchItemFailures`), so
 * they are retried in order. An event that keeps failing is parked (apply.ts).
 *
 * A node with a GeoServer (`GEOSERVER_URL`): when the GeoServer cannot take changes
 * (unreachable, timeout, 5xx, refused credentials), the failed messages are made invisible
 * for a growing backoff (ChangeMessageVisibility), so the queue waits instead of spinning, and
 * the queue's `maxReceiveCount` is high enough that waiting never sends anything to the
 * dead-letter queue. A change the GeoServer refuses is parked with GeoServer's answer, and the
 * node goes on. A retry request from `POST /nodes/{node}/redrive` retries the parked events,
 * here, where the GeoServer can be reached.
 *
 * Messages arrive with raw delivery: the body is the event's JSON and the `origin` message
 * attribute the publishing node. A `both` node's own events come too, usually applied already
 * by their publish request (apply.ts, "Own events").
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError, instrumented, logger, metrics, METRIC, MetricUnit, NODE_DIMENSION } from '../../shared/observability';
import { ownNodeMetrics, recordApplied, recordGeoServerErrors as recordNodeGeoServerErrors } from '../apply-metrics';
import { applyDeliveredBatch, appliedEvents, retryParked, type AppliedEvent, type ApplyDeps, type DeliveryResult, type NodeContext } from '../apply';
import { canPublish, consumes } from '../../shared/cluster-model';
import { GeoServerUnavailableError } from '../geoserver/errors';
import { AnswerWatchingRest } from '../geoserver/answer-watch';
import { BACKOFF_BASE_SECONDS, backoffSeconds, GeoServerInvocation, isRetryParkedMessage } from '../geoserver/invocation';
import { intEnv } from '../../shared/env';
import { CONFIG_SYNC_LOCAL_ENV } from '../env-names';
import {
  applyDepsFromEnv,
  eventTopicFromEnv,
  gatewayLeaseFromEnv,
  geoServerFromEnv,
  jobStoreFromEnv,
  geoServerStatusFromEnv,
  membershipFromEnv,
  nodePausesFromEnv,
  nodeQueuePairFromEnv,
  ownNodeFromEnv,
  sqsFromEnv,
} from '../adapters/from-env';
import { enqueueJob } from '../adapters/sqs-jobs';
import { loadSnsSdk, loadSqsSdk } from '../adapters/deferred-sdk';
import { jobIdOfMessage } from '../jobs';
import { runJobSlice, type JobRunnerDeps } from '../job-runner';
import { publishChange } from '../publish';
import { LEASE_TTL_MS, LEASE_WAIT_MS } from '../gateway/limits';
import { leaseSerializer } from '../gateway/write-lease';
import { RANGE_LAST_ATTRIBUTE } from '../cluster';
import { buildEventSchemas } from '../events';
import { QueueBacklog } from '../queue-backlog';

const membership = membershipFromEnv();
const node = ownNodeFromEnv(membership);
if (!consumes(node.role)) throw new Error(`Node ${node.name} is a pure ${node.role}: it has no queue to apply`);
const context: NodeContext = { cluster: membership.cluster, node: node.name };
const rest = geoServerFromEnv();
/** A master's (or `both` node's) GeoServer: its capture jobs publish as the node. */
const captures = rest !== undefined && canPublish(node.role);
// A capture's publishes are refused while the node is paused, checked inside the log append
// (the pause item in the append's transaction), as PublishEvent's are.
const base = applyDepsFromEnv({ pausesInLog: captures });
const deps: ApplyDeps = rest ? { ...base, geoserver: { rest } } : base;
const queues = nodeQueuePairFromEnv(membership.cluster, node.name);
// SQS only delays a failed batch or queues a job's next slice, SNS only carries a capture
// job's events: both load on first use, out of the cold start of every node's apply function.
const sqs = sqsFromEnv(loadSqsSdk);
const geoserver = rest ? new GeoServerInvocation(node.name, { rest, status: geoServerStatusFromEnv(), warn: base.warn }) : undefined;
const jobs = jobStoreFromEnv();
/** The GeoServer as the node's jobs reach it: what each slice's calls saw is recorded as a batch's is. */
const jobRest = rest ? new AnswerWatchingRest(rest) : undefined;
// Every batch parses the events it delivers.
buildEventSchemas();
/** The retry backoff's first wait: BACKOFF_BASE_SECONDS, unless the local runtime's tests start it lower. */
const backoffBaseSeconds = intEnv(CONFIG_SYNC_LOCAL_ENV.retryBackoffBaseSeconds, BACKOFF_BASE_SECONDS);
if (backoffBaseSeconds < 1) throw new Error(`Environment variable ${CONFIG_SYNC_LOCAL_ENV.retryBackoffBaseSeconds} must be at least 1, got ${backoffBaseSeconds}`);
const publishing = captures ? { ...base, topic: eventTopicFromEnv(loadSnsSdk), now: () => new Date(), pauses: nodePausesFromEnv() } : undefined;
const jobDeps: JobRunnerDeps = {
  cluster: context.cluster,
  store: base.store,
  jobs,
  // A resync's catch-up applies the log to the GeoServer too.
  apply: jobRest ? { ...base, geoserver: { rest: jobRest } } : deps,
  ...(jobRest ? { rest: jobRest } : {}),
  // A publishing node's store holds what its own GeoServer answered: compared both ways.
  compareMode: canPublish(node.role) ? 'both-ways' : 'stored-properties',
  ...(publishing
    ? {
        publish: async (change) => (await publishChange(publishing, { cluster: context.cluster, node }, change)).event.sequence,
        // A capture publishes each difference under the gateway's write lease (job-runner.ts).
        writes: leaseSerializer(gatewayLeaseFromEnv(context.cluster), {
          waitMs: LEASE_WAIT_MS,
          ttlMs: LEASE_TTL_MS,
          onReleaseFailure: (error) => logger.error('capture: write lease not released; it ends at its expiry', { error: describeError(error) }),
        }),
      }
    : {}),
  now: () => new Date(),
  onFailure: (error) => logger.error('job failed', { error: describeError(error) }),
};
/** Time kept back from the invocation's timeout; a slice also ends by this, so events are not held up for long. */
const JOB_RESERVE_MS = 20_000;
const MAX_SLICE_MS = 60_000;
// This function serves one node: every log line and metric of it is that node's.
logger.appendPersistentKeys({ node: node.name });
metrics.setDefaultDimensions({ [NODE_DIMENSION]: node.name });

/**
 * The node's cursor as this instance's last batch left it, so that the next batch need not read
 * it (apply.ts, `knownCursor`): this function is the node's queue consumer, and the queue
 * hands out one batch at a time (one message group), so no resync of the node runs meanwhile.
 * Forgotten whenever anything but a fully applied batch ran (a job, a redrive, a failure).
 */
let knownCursor: number | undefined;
/** A retry of parked events without a Lambda context (tests, the local runtime without one): its time at most. */
const RETRY_PARKED_DEFAULT_MS = 30_000;
/** Whether a batch shows the node behind its queue, from when this instance's previous batch ended: only then is the log read ahead. */
const backlog = new QueueBacklog();

export const handler = instrumented(async (event: SQSEvent, lambdaContext?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
  try {
    return await applyRecords(event, lambdaContext);
  } finally {
    backlog.batchEnded();
  }
});

async function applyRecords(event: SQSEvent, lambdaContext?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const jobRecords = event.Records.filter((record) => jobIdOfMessage(record.body) !== undefined);
  const others = jobRecords.length > 0 ? event.Records.filter((record) => !jobRecords.includes(record)) : event.Records;
  const retryRequests = geoserver ? others.filter((record) => isRetryParkedMessage(record.body)) : [];
  const records = retryRequests.length > 0 ? others.filter((record) => !retryRequests.includes(record)) : others;
  const failedRequests: string[] = [];
  const readAhead = backlog.shownBy(records);
  const cursorKnown = jobRecords.length === 0 && retryRequests.length === 0 ? knownCursor : undefined;
  knownCursor = undefined;
  for (const record of jobRecords) {
    if (!(await runJobRecord(record, lambdaContext))) failedRequests.push(record.messageId);
  }
  if (retryRequests.length > 0) {
    try {
      // Half the invocation's time at most: the batch's events come after.
      const deadline = Date.now() + (lambdaContext ? lambdaContext.getRemainingTimeInMillis() / 2 : RETRY_PARKED_DEFAULT_MS);
      const parked = await retryParked(deps, context, deadline);
      const still = parked.stillParked.map((record) => ({ key: record.key, listed: record.sequences.length, overflow: record.overflow, reason: record.reason }));
      if (parked.more) logger.warn('parked events retried in part: the time ran out; redrive the node again to go on', { cleared: parked.cleared.length, stillParked: still });
      else logger.info('parked events retried', { cleared: parked.cleared.length, stillParked: still });
    } catch (error) {
      logger.error('could not retry the parked events', { error: describeError(error) });
      failedRequests.push(...retryRequests.map((record) => record.messageId));
    }
  }
  const result = await applyDeliveredBatch(
    deps,
    context,
    records.map((record) => record.body),
    { aheadTo: rangeLastOf(records), readAhead, ...(cursorKnown === undefined ? {} : { knownCursor: cursorKnown }) },
  );
  if (!result.failure) knownCursor = result.cursor;
  const steps = appliedEvents(result.results);
  const applied = steps.length;
  const last = result.results[result.results.length - 1];
  recordApplied(ownNodeMetrics, steps);
  recordApplyLatency(result.results, records.map((record) => record.body));
  recordGeoServerErrors(steps, result.failure?.error);
  logger.info('batch applied', {
    messages: records.length,
    backlog: readAhead,
    processed: result.results.length,
    applied,
    sequence: last?.cursor,
  });
  if (geoserver) await geoserver.after(result);
  if (!result.failure) return { batchItemFailures: failedRequests.map((itemIdentifier) => ({ itemIdentifier })) };
  const failed = records.slice(result.failure.index);
  const error = result.failure.error;
  const receiveCount = Number(failed[0]?.attributes?.ApproximateReceiveCount ?? '1');
  const waitSeconds = error instanceof GeoServerUnavailableError ? backoffSeconds(receiveCount, Math.random, backoffBaseSeconds) : undefined;
  metrics.addMetric(METRIC.applyFailures, MetricUnit.Count, 1);
  logger.error('event could not be applied; it and the later messages of the batch will be retried', {
    messageId: failed[0]?.messageId,
    sequence: sequenceOf(failed[0]?.body),
    origin: failed[0]?.messageAttributes?.origin?.stringValue,
    receiveCount,
    retryInSeconds: waitSeconds,
    error: describeError(error),
  });
  if (waitSeconds !== undefined) {
    // Best effort: without it the message returns after the queue's visibility timeout.
    await delayRetry(
      failed.slice(0, 10).map((record, index) => ({
        Id: String(index),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: waitSeconds,
      })),
    ).catch((cause: unknown) => logger.warn('could not delay the retry', { error: describeError(cause) }));
  }
  return {
    batchItemFailures: [...failedRequests, ...failed.map((record) => record.messageId)].map((itemIdentifier) => ({ itemIdentifier })),
  };
}

/** From the publish to this apply, for each delivered event applied now (duplicates excluded). */
function recordApplyLatency(results: readonly DeliveryResult[], bodies: readonly string[]): void {
  const now = Date.now();
  results.forEach((delivery, index) => {
    if (delivery.disposition !== 'applied') return;
    const publishedAt = publishedAtOf(bodies[index]);
    if (publishedAt !== undefined) metrics.addMetric(METRIC.applyLatency, MetricUnit.Milliseconds, Math.max(0, now - publishedAt));
  });
}

/**
 * Changes the node's GeoServer refused, and a GeoServer that could not take changes at all: of
 * a batch, or of a job slice (apply-metrics.ts). None on a node without a GeoServer.
 */
function recordGeoServerErrors(applied: readonly AppliedEvent[], failure: unknown, refusedFixes = 0): void {
  if (geoserver) recordNodeGeoServerErrors(ownNodeMetrics, applied, failure, refusedFixes);
}

// The bodies were parsed and validated by the applier already; these reads only pick a field
// for the logs and metrics and never fail the batch.
function publishedAtOf(body: string | undefined): number | undefined {
  const value = fieldOf(body, 'publishedAt');
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? undefined : time;
}

function sequenceOf(body: string | undefined): number | undefined {
  const value = fieldOf(body, 'sequence');
  return typeof value === 'number' ? value : undefined;
}

function fieldOf(body: string | undefined, field: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body ?? '');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[field] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a slice of the job a message names; queues the next slice when there is more to do.
 * False when the slice must be delivered again: the job resumes from its checkpoint. Whatever
 * the failure (a GeoServer that cannot be reached, or anything else a slice could not survive:
 * a store write refused or throttled, a job record that cannot be read), the message waits
 * with the same growing backoff as events (10 s, 20 s, ... up to 25 min), so a job that keeps
 * failing costs one attempt every few minutes and never spins in the queue.
 */
async function runJobRecord(record: SQSRecord, lambdaContext?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<boolean> {
  const id = jobIdOfMessage(record.body)!;
  const remaining = lambdaContext ? lambdaContext.getRemainingTimeInMillis() - JOB_RESERVE_MS : MAX_SLICE_MS;
  const deadline = Date.now() + Math.max(5_000, Math.min(MAX_SLICE_MS, remaining));
  // What the slice's catch-up applied (a resync's), reported as a batch's events are, and the
  // changes the GeoServer refused its reconcile, counted as a batch's refused events are.
  const applied: AppliedEvent[] = [];
  let refusedFixes = 0;
  const sliceDeps: JobRunnerDeps = {
    ...jobDeps,
    onApplied: (events) => void applied.push(...events),
    onRejected: (rejected) => void (refusedFixes += rejected.length),
  };
  try {
    const outcome = await runJobSlice(sliceDeps, node.name, id, deadline).catch(async (error: unknown) => {
      await reportJobSlice(applied, refusedFixes, error);
      throw error;
    });
    await reportJobSlice(applied, refusedFixes);
    const job = await jobs.read(node.name, id);
    logger.info('job slice run', { job: id, outcome, phase: job?.phase, state: job?.state, progress: job?.progress, ...(job?.error ? { error: job.error } : {}) });
    if (outcome === 'more' && job) await enqueueJob(sqs, jobs, queues.queueUrl, context.cluster, job);
    // A capture waiting for this job (an upload through the gateway, jobs.ts `follow`) got the
    // node with the job's final save: its first slice is queued here (a send that fails marks it
    // failed with why, as for any job, so nobody waits on it).
    const successor = outcome === 'done' ? await jobs.successor(node.name, id) : undefined;
    if (successor) {
      await enqueueJob(sqs, jobs, queues.queueUrl, context.cluster, successor);
      logger.info('job started', { job: successor.id, kind: successor.kind, after: id, requestedBy: successor.requestedBy });
    }
    return true;
  } catch (error) {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    const waitSeconds = backoffSeconds(receiveCount, Math.random, backoffBaseSeconds);
    logger.error('job slice failed; it will be delivered again', {
      job: id,
      receiveCount,
      retryInSeconds: waitSeconds,
      geoServerUnavailable: error instanceof GeoServerUnavailableError,
      error: describeError(error),
    });
    await delayRetry([{ Id: '0', ReceiptHandle: record.receiptHandle, VisibilityTimeout: waitSeconds }]).catch((cause: unknown) => logger.warn('could not delay the job slice', { job: id, error: describeError(cause) }));
    return false;
  }
}

/**
 * What a job slice did, reported as a batch's apply is: the events its catch-up applied and
 * parked (those committed before a failure too; a slice redone from its checkpoint applies from
 * the node's cursor, so never reports one again) and the GeoServer's errors (its catch-up's
 * refused events, its reconcile's refused fixes) in the metrics, and what its calls saw of the
 * GeoServer (reachable, or why not; the changes it refused) for GET /nodes. Never throws.
 */
async function reportJobSlice(applied: readonly AppliedEvent[], refusedFixes: number, failure?: unknown): Promise<void> {
  // A slice without a catch-up (a drift check, a reconcile, a resync's copy) applied no event.
  if (applied.length > 0) recordApplied(ownNodeMetrics, applied);
  recordGeoServerErrors(applied, failure, refusedFixes);
  if (!geoserver || !jobRest) return;
  await geoserver.afterJobSlice({ answered: jobRest.takeAnswered(), applied, ...(failure === undefined ? {} : { failure }) });
}

/** Makes the given messages of the node's queue invisible for a while (ChangeMessageVisibilityBatch, at most 10). */
async function delayRetry(entries: { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[]): Promise<void> {
  const { sdk, client } = sqs.connect();
  await client.send(new sdk.ChangeMessageVisibilityBatchCommand({ QueueUrl: queues.queueUrl, Entries: entries }));
}

/** The highest change-set end the records announce (`rangeLast` attribute), if any. */
function rangeLastOf(records: SQSEvent['Records']): number | undefined {
  let last: number | undefined;
  for (const record of records) {
    const value = Number(record.messageAttributes?.[RANGE_LAST_ATTRIBUTE]?.stringValue);
    if (Number.isSafeInteger(value) && value > 0 && (last === undefined || value > last)) last = value;
  }
  return last;
}
