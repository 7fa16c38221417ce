/**
 * SQS event source of one consuming node (`NODE_NAME`): applies the batch to the node's
 * store (and, for a node with a GeoServer, to the GeoServer first) in order and reports, as
 * FIFO requires, the first failed message and every later one (`batchItemFailures`), so
 * they are retried in order. An event that keeps failing is parked (apply.ts). The batch's job
 * slices run before its events, and a failed slice is reported alone, the events after it
 * applied: it comes back after them, as if queued after them (docs/architecture.md, "Job slices
 * and events in one batch", says why no job needs the events queued ahead of it).
 *
 * A node with a GeoServer (`GEOSERVER_URL`): when the GeoServer cannot take changes
 * (unreachable, timeout, 5xx, refused credentials), the failed messages are made invisible
 * for a growing backoff (ChangeMessageVisibility), so the queue waits instead of spinning, and
 * the queue's `maxReceiveCount` is high enough that waiting never sends anything to the
 * dead-letter queue. A change the GeoServer refuses is parked with GeoServer's answer, and the
 * node goes on. A retry request from `POST /nodes/{node}/redrive` retries the parked events,
 * here, where the GeoServer can be reached.
 *
 * A message that is no event of the cluster's log (not JSON, without an event's sequence,
 * cluster, origin and time, of another cluster, numbered past the log's head, or different from
 * the log's event at its sequence, whose event is applied instead: apply.ts `setAside`) can never
 * be applied; retried, it would hold every later message of the queue's
 * one message group, up to `maxReceiveCount` deliveries (1,000, days, on a GeoServer node). It is
 * sent to the node's dead-letter queue at once, in a message group of its own that a redrive
 * leaves there (its dead-letter alarm fires) and with its reason (`setAsideReason`), where
 * `GET /nodes/{node}/dead-letters` lists it and `POST /nodes/{node}/dead-letters/discard` deletes
 * it, logged
 * (`message set aside`) and counted (`MessagesSetAside`), and acknowledged: later messages flow.
 * Nothing was applied for it and the cursor never moved for it, so no event of the log is
 * skipped. When the send fails, it is retried with the messages after it, as any failure.
 *
 * Messages arrive with raw delivery: the body is the event's JSON and the `origin` message
 * attribute the publishing node. A `both` node's own events come too, usually applied already
 * by their publish request (apply.ts, "Own events").
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError, instrumented, logger, metrics, METRIC, MetricUnit, NODE_DIMENSION } from '../../shared/observability';
import { ownNodeMetrics, recordApplied, recordGeoServerErrors as recordNodeGeoServerErrors } from '../apply-metrics';
import { applyDeliveredBatch, batchFailure, batchSteps, retryParked, type AppliedEvent, type ApplyDeps, type DeliveryResult, type NodeContext, type SetAsideMessage } from '../apply';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { consumes } from '../../shared/cluster-model';
import { GeoServerUnavailableError } from '../geoserver/errors';
import { BACKOFF_BASE_SECONDS, backoffSeconds, GeoServerInvocation, isRetryParkedMessage } from '../geoserver/invocation';
import { intEnv } from '../../shared/env';
import { CONFIG_SYNC_LOCAL_ENV } from '../env-names';
import { applyDepsFromEnv, geoServerFromEnv, geoServerStatusFromEnv, membershipFromEnv, nodeQueuePairFromEnv, ownNodeFromEnv, sqsFromEnv } from '../adapters/from-env';
import { loadSqsSdk } from '../adapters/deferred-sdk';
import { jobIdOfMessage } from '../jobs';
import { loadJobSlices } from '../deferred-job-slices';
import type { JobRecordRunner } from '../job-slices';
import { rangeLastOf } from '../cluster';
import { buildEventSchemas } from '../events';
import { QueueBacklog } from '../queue-backlog';
import { SET_ASIDE_GROUP_PREFIX, withSetAsideReason } from '../adapters/sqs-queues';

const membership = membershipFromEnv();
const node = ownNodeFromEnv(membership);
if (!consumes(node.role)) throw new Error(`Node ${node.name} is a pure ${node.role}: it has no queue to apply`);
const context: NodeContext = { cluster: membership.cluster, node: node.name };
const rest = geoServerFromEnv();
// A delivery to a node keeping up is checked against the log's item inside its commit (apply.ts).
const base = applyDepsFromEnv({ checksLog: true });
const deps: ApplyDeps = rest ? { ...base, geoserver: { rest } } : base;
const queues = nodeQueuePairFromEnv(membership.cluster, node.name);
// SQS only delays a failed batch: it loads on first use, out of the cold start of every node's
// apply function.
const sqs = sqsFromEnv(loadSqsSdk);
const geoserver = rest ? new GeoServerInvocation(node.name, { rest, status: geoServerStatusFromEnv(), warn: base.warn }) : undefined;
// Every batch parses the events it delivers.
buildEventSchemas();
/** The retry backoff's first wait: BACKOFF_BASE_SECONDS, unless the local runtime's tests start it lower. */
const backoffBaseSeconds = intEnv(CONFIG_SYNC_LOCAL_ENV.retryBackoffBaseSeconds, BACKOFF_BASE_SECONDS);
if (backoffBaseSeconds < 1) throw new Error(`Environment variable ${CONFIG_SYNC_LOCAL_ENV.retryBackoffBaseSeconds} must be at least 1, got ${backoffBaseSeconds}`);
/**
 * The node's job slices (drift check, reconcile, capture, resync), which its queue carries only
 * when an operator or an upload started a job: the job runner and all it brings load with the
 * first one (job-slices.ts, a module of its own), out of every other cold start.
 */
let jobPath: JobRecordRunner | undefined;
function runJobRecord(record: SQSRecord, lambdaContext?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<boolean> {
  jobPath ??= loadJobSlices().nodeJobRunner({ log: logger, recordMetric: ownNodeMetrics, backoffBaseSeconds });
  return jobPath(record, jobIdOfMessage(record.body)!, lambdaContext);
}
// This function serves one node: every log line and metric of it is that node's.
logger.appendPersistentKeys({ node: node.name });
metrics.setDefaultDimensions({ [NODE_DIMENSION]: node.name });

/**
 * The node's cursor as this instance's last batch left it, so that the next batch need not read
 * it (apply.ts, `knownCursor`): this function is the node's queue consumer, and the queue
 * hands out one batch at a time (one message group), so no resync of the node runs meanwhile.
 * Forgotten whenever anything but a fully applied batch ran (a job, a redrive, a failure). A
 * batch of events all at or below it (a burst's duplicates) is dropped on its word when the log
 * holds nothing after it: apply.ts `droppedUnread` says why that skips nothing, a resync run by
 * another instance in between included, and what it gives up.
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
  // A node's redrive queues this request only when the node has a GeoServer; one queued before
  // the GeoServer was taken out of the configuration is taken all the same (its parked events
  // retried against the store), never read as an event that fails every receive.
  const retryRequests = others.filter((record) => isRetryParkedMessage(record.body));
  const records = retryRequests.length > 0 ? others.filter((record) => !retryRequests.includes(record)) : others;
  const failedRequests: string[] = [];
  const readAhead = backlog.shownBy(records);
  const cursorKnown = jobRecords.length === 0 && retryRequests.length === 0 ? knownCursor : undefined;
  knownCursor = undefined;
  for (const record of jobRecords) {
    if (!(await runJobRecord(record, lambdaContext))) failedRequests.push(record.messageId);
  }
  // The job path recorded the GeoServer's status from its own instance.
  if (jobRecords.length > 0) geoserver?.forget();
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
  const setAside = new Set((result.setAside ?? []).map((message) => message.index));
  const notSent = await setAsideMessages(records, result.setAside ?? []);
  // The events applied ahead of the queue count here: their messages come later as duplicates.
  const steps = batchSteps(result);
  const last = result.results[result.results.length - 1];
  recordApplied(ownNodeMetrics, steps);
  recordApplyLatency(
    result.results,
    records.filter((_, index) => !setAside.has(index)).map((record) => record.body),
  );
  recordGeoServerErrors(steps, batchFailure(result));
  logger.info('batch applied', {
    messages: records.length,
    setAside: setAside.size,
    backlog: readAhead,
    processed: result.results.length,
    applied: steps.length,
    appliedAhead: result.readAhead?.length ?? 0,
    sequence: result.readAhead?.[result.readAhead.length - 1]?.sequence ?? last?.cursor,
  });
  if (geoserver) await geoserver.after(result);
  // A message that could not be set aside fails as the first failed message would, with every later one.
  const failure = notSent !== undefined && (!result.failure || notSent.index < result.failure.index) ? notSent : result.failure;
  if (!failure) return { batchItemFailures: failedRequests.map((itemIdentifier) => ({ itemIdentifier })) };
  const failed = records.slice(failure.index);
  const error = failure.error;
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
 * Sends each message set aside (`BatchResult.setAside`) to the node's dead-letter queue, as it
 * came (body, message attributes) with its reason as one more attribute, in a message group of
 * its own; logs and counts it; in order, stopping at
 * the first send that fails.
 * @returns the message whose send failed, with the error, or undefined when every one was sent
 */
async function setAsideMessages(
  records: readonly SQSRecord[],
  setAside: readonly SetAsideMessage[],
): Promise<{ index: number; error: unknown } | undefined> {
  for (const { index, reason } of setAside) {
    const record = records[index];
    if (record === undefined) continue;
    const origin = record.messageAttributes?.origin?.stringValue;
    try {
      const { sdk, client } = sqs.connect();
      await client.send(
        new sdk.SendMessageCommand({
          QueueUrl: queues.deadLetterQueueUrl,
          MessageBody: record.body,
          // A group of its own, which a redrive leaves where it is (sqs-queues.ts `wasSetAside`).
          MessageGroupId: `${SET_ASIDE_GROUP_PREFIX}${record.messageId}`.slice(0, 128),
          // A retry of this batch (a later message failed after the send) sends it once.
          MessageDeduplicationId: `${SET_ASIDE_GROUP_PREFIX}${record.messageId}`.slice(0, 128),
          // With its reason, which GET /nodes/{node}/dead-letters shows (sqs-queues.ts `withSetAsideReason`).
          MessageAttributes: withSetAsideReason(record.body, sendableAttributes(record.messageAttributes), reason),
        }),
      );
    } catch (error) {
      logger.error('could not move a message that is no event to the dead-letter queue; it will be retried', {
        messageId: record.messageId,
        origin,
        reason,
        error: describeError(error),
      });
      return { index, error };
    }
    metrics.addMetric(METRIC.messagesSetAside, MetricUnit.Count, 1);
    logger.error('message set aside: it is no event of the cluster\'s log, moved to the dead-letter queue', { messageId: record.messageId, origin, reason });
  }
  return undefined;
}

/** A delivered message's attributes in the shape SendMessage takes (string and binary values). */
function sendableAttributes(attributes: SQSRecord['messageAttributes'] | undefined): Record<string, MessageAttributeValue> | undefined {
  const sendable: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value.stringValue !== undefined) sendable[name] = { DataType: value.dataType, StringValue: value.stringValue };
    else if (value.binaryValue !== undefined) sendable[name] = { DataType: value.dataType, BinaryValue: Buffer.from(value.binaryValue, 'base64') };
  }
  return Object.keys(sendable).length > 0 ? sendable : undefined;
}

/** Makes the given messages of the node's queue invisible for a while (ChangeMessageVisibilityBatch, at most 10). */
async function delayRetry(entries: { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[]): Promise<void> {
  const { sdk, client } = sqs.connect();
  await client.send(new sdk.ChangeMessageVisibilityBatchCommand({ QueueUrl: queues.queueUrl, Entries: entries }));
}

