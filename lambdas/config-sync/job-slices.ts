/**
 * Job slices (drift check, reconcile, capture, resync) for the functions that run them only on
 * a rare path, as a module of its own, so that the job runner, the drift comparison and the job
 * store are not parsed at every cold start of a function whose usual invocation runs no job.
 * Two functions load it on first use (`loadJobSlices`, deferred-job-slices.ts), and
 * DEFERRED_MODULES in cdk/constructs/cluster-function.ts bundles it beside their index.js:
 * - ResyncNode runs a job within its requests only for a pure master, which has no queue (a
 *   consuming node's resync is queued to the node's own apply function): `storeSliceRunner`.
 * - A node's apply function, whose queue carries a job slice only when an operator or an
 *   upload started a job, among thousands of events: `nodeJobRunner`.
 *
 * The module is bundled on its own, so it holds its own copy of every module it imports: a
 * class of ours (an error a check tells by `instanceof`, a store) must not cross between it and
 * the function's index.js. What crosses is plain: the SQS record, the logger's methods, a
 * metric recorder, numbers, and the boolean a job record's run answers. The module builds its
 * stores, its GeoServer client and its status recorder from the function's environment itself.
 */
import type { Context, SQSRecord } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  applyDepsFromEnv,
  eventTopicFromEnv,
  gatewayLeaseFromEnv,
  geoServerFromEnv,
  geoServerStatusFromEnv,
  jobStoreFromEnv,
  membershipFromEnv,
  nodePausesFromEnv,
  nodeQueuePairFromEnv,
  ownNodeFromEnv,
  sqsFromEnv,
} from './adapters/from-env';
import type { AppliedEvent, ApplyDeps } from './apply';
import { nodeMetrics, recordApplied, recordGeoServerErrors, type NodeMetricRecorder } from './apply-metrics';
import { runJobSlice, type JobRunnerDeps, type SliceOutcome } from './job-runner';
import { AnswerWatchingRest } from './geoserver/answer-watch';
import { backoffSeconds, GeoServerInvocation } from './geoserver/invocation';
import { GeoServerUnavailableError } from './geoserver/errors';
import { enqueueJob } from './adapters/sqs-jobs';
import { loadSnsSdk, loadSqsSdk } from './adapters/deferred-sdk';
import { publishChange } from './publish';
import { LEASE_TTL_MS, LEASE_WAIT_MS } from './gateway/limits';
import { leaseSerializer } from './gateway/write-lease';
import { canPublish } from '../shared/cluster-model';
import { describeError } from '../shared/observability';

/** Runs one slice of a job of a node without a GeoServer, against the stores the function's environment names. */
export type SliceRunner = (node: string, jobId: string, deadline: number) => Promise<SliceOutcome>;

/**
 * A slice runner over stores it builds from the function's environment (a function keeps the
 * one it builds). `log`: the function's logger, whose lines carry the request's node and id.
 */
export function storeSliceRunner(cluster: string, log: Pick<Logger, 'warn' | 'error'>): SliceRunner {
  const deps = applyDepsFromEnv({ warn: (message, fields) => log.warn(message, fields) });
  const jobDeps: JobRunnerDeps = {
    cluster,
    store: deps.store,
    jobs: jobStoreFromEnv(),
    apply: deps,
    compareMode: 'stored-properties',
    now: () => new Date(),
    onFailure: (error) => log.error('job failed', { error: describeError(error) }),
  };
  return async (node, jobId, deadline) => {
    // What the slice's catch-up (a resync's) applied, counted in the node's metrics as its
    // events applied anywhere else are, however the slice ended: a failure part way leaves the
    // events before it committed. Nothing when the slice applied none (a copy or prune step).
    const applied: AppliedEvent[] = [];
    try {
      return await runJobSlice({ ...jobDeps, onApplied: (events) => void applied.push(...events) }, node, jobId, deadline);
    } finally {
      if (applied.length > 0) recordApplied(nodeMetrics(node), applied);
    }
  };
}

/** What the apply function hands its job path: plain values and functions only (see above). */
export interface NodeJobSetup {
  /** The function's logger: the job path's lines carry the invocation's context and the node, as the batch's do. */
  readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Records one of the node's metrics in the function's own buffer, which its handler flushes. */
  readonly recordMetric: NodeMetricRecorder;
  /** The retry backoff's first wait, as the function's batches use it. */
  readonly backoffBaseSeconds: number;
}

/**
 * Runs the slice of job `id`, which the SQS record names (jobs.ts `jobIdOfMessage`). True when
 * the record is done with (the slice ran, and any next slice or waiting job is queued), false
 * when it must be delivered again. Never throws.
 */
export type JobRecordRunner = (record: SQSRecord, id: string, lambdaContext?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<boolean>;

/** Time kept back from the invocation's timeout; a slice also ends by this, so events are not held up for long. */
const JOB_RESERVE_MS = 20_000;
const MAX_SLICE_MS = 60_000;

/** The job path of the apply function of the node its environment names (`NODE_NAME`). */
export function nodeJobRunner(setup: NodeJobSetup): JobRecordRunner {
  const { log, recordMetric, backoffBaseSeconds } = setup;
  const membership = membershipFromEnv();
  const node = ownNodeFromEnv(membership);
  const cluster = membership.cluster;
  const rest = geoServerFromEnv();
  /** A master's (or `both` node's) GeoServer: its capture jobs publish as the node. */
  const captures = rest !== undefined && canPublish(node.role);
  // A capture's publishes are refused while the node is paused, checked inside the log append,
  // as PublishEvent's are. The stores report through the function's logger too (this module's
  // own has neither the node nor the invocation's request id).
  const base: ApplyDeps = applyDepsFromEnv({ pausesInLog: captures, warn: (message, fields) => log.warn(message, fields) });
  /** The GeoServer as the node's jobs reach it: what each slice's calls saw is recorded as a batch's is. */
  const jobRest = rest ? new AnswerWatchingRest(rest) : undefined;
  const geoserver = rest ? new GeoServerInvocation(node.name, { rest, status: geoServerStatusFromEnv(), warn: base.warn }) : undefined;
  const jobs = jobStoreFromEnv();
  const queues = nodeQueuePairFromEnv(cluster, node.name);
  const sqs = sqsFromEnv(loadSqsSdk);
  const apply: ApplyDeps = jobRest ? { ...base, geoserver: { rest: jobRest } } : base;
  const publishing = captures ? { ...base, topic: eventTopicFromEnv(loadSnsSdk), now: () => new Date(), pauses: nodePausesFromEnv() } : undefined;
  const jobDeps: JobRunnerDeps = {
    cluster,
    store: base.store,
    jobs,
    // A resync's catch-up applies the log to the GeoServer too.
    apply,
    ...(jobRest ? { rest: jobRest } : {}),
    // A publishing node's store holds what its own GeoServer answered: compared both ways.
    compareMode: canPublish(node.role) ? 'both-ways' : 'stored-properties',
    ...(publishing
      ? {
          publish: async (change) => (await publishChange(publishing, { cluster, node }, change)).event.sequence,
          // A capture publishes each difference under the gateway's write lease (job-runner.ts),
          // and leaves it between two to the gateway's sweep while its mark asks for it: the
          // intents a gateway write left are recovered while the job runs (gateway/sweep.ts).
          writes: leaseSerializer(gatewayLeaseFromEnv(cluster), {
            waitMs: LEASE_WAIT_MS,
            ttlMs: LEASE_TTL_MS,
            yieldsToRecovery: true,
            onReleaseFailure: (error) => log.error('capture: write lease not released; it ends at its expiry', { error: describeError(error) }),
          }),
        }
      : {}),
    now: () => new Date(),
    onFailure: (error) => log.error('job failed', { error: describeError(error) }),
  };

  /**
   * What a job slice did, reported as a batch's apply is: the events its catch-up applied and
   * parked (those committed before a failure too; a slice redone from its checkpoint applies from
   * the node's cursor, so never reports one again) and the GeoServer's errors (its catch-up's
   * refused events, its reconcile's refused fixes) in the metrics, and what its calls saw of the
   * GeoServer (reachable, or why not; the changes it refused) for GET /nodes. Never throws.
   */
  const reportJobSlice = async (applied: readonly AppliedEvent[], refusedFixes: number, failure?: unknown): Promise<void> => {
    // A slice without a catch-up (a drift check, a reconcile, a resync's copy) applied no event.
    if (applied.length > 0) recordApplied(recordMetric, applied);
    if (!geoserver || !jobRest) return;
    recordGeoServerErrors(recordMetric, applied, failure, refusedFixes);
    await geoserver.afterJobSlice({ answered: jobRest.takeAnswered(), applied, ...(failure === undefined ? {} : { failure }) });
  };

  /** Makes the record invisible for a while, so a failing job never spins in the queue. */
  const delayRetry = async (record: SQSRecord, waitSeconds: number): Promise<void> => {
    const { sdk, client } = sqs.connect();
    await client.send(new sdk.ChangeMessageVisibilityBatchCommand({ QueueUrl: queues.queueUrl, Entries: [{ Id: '0', ReceiptHandle: record.receiptHandle, VisibilityTimeout: waitSeconds }] }));
  };

  /**
   * Runs a slice of the job a message names; queues the next slice when there is more to do.
   * False when the slice must be delivered again: the job resumes from its checkpoint. Whatever
   * the failure (a GeoServer that cannot be reached, or anything else a slice could not survive:
   * a store write refused or throttled, a job record that cannot be read), the message waits
   * with the same growing backoff as events (10 s, 20 s, ... up to 25 min), so a job that keeps
   * failing costs one attempt every few minutes and never spins in the queue.
   */
  return async (record, id, lambdaContext) => {
    const remaining = lambdaContext ? lambdaContext.getRemainingTimeInMillis() - JOB_RESERVE_MS : MAX_SLICE_MS;
    const deadline = Date.now() + Math.max(5_000, Math.min(MAX_SLICE_MS, remaining));
    // The function's batches record the GeoServer's status too, from their own instance.
    geoserver?.forget();
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
      log.info('job slice run', { job: id, outcome, phase: job?.phase, state: job?.state, progress: job?.progress, ...(job?.error ? { error: job.error } : {}) });
      if (outcome === 'more' && job) await enqueueJob(sqs, jobs, queues.queueUrl, cluster, job);
      // A capture waiting for this job (an upload through the gateway, jobs.ts `follow`) got the
      // node with the job's final save: its first slice is queued here (a send that fails marks it
      // failed with why, as for any job, so nobody waits on it).
      const successor = outcome === 'done' ? await jobs.successor(node.name, id) : undefined;
      if (successor) {
        await enqueueJob(sqs, jobs, queues.queueUrl, cluster, successor);
        log.info('job started', { job: successor.id, kind: successor.kind, after: id, requestedBy: successor.requestedBy });
      }
      return true;
    } catch (error) {
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
      const waitSeconds = backoffSeconds(receiveCount, Math.random, backoffBaseSeconds);
      log.error('job slice failed; it will be delivered again', {
        job: id,
        receiveCount,
        retryInSeconds: waitSeconds,
        geoServerUnavailable: error instanceof GeoServerUnavailableError,
        error: describeError(error),
      });
      await delayRetry(record, waitSeconds).catch((cause: unknown) => log.warn('could not delay the job slice', { job: id, error: describeError(cause) }));
      return false;
    }
  };
}
