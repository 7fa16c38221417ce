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
 * attribute the publishing node. A node's own events are dropped (the subscription filter
 * should already have).
 */
import { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeError, instrumented, logger, metrics, METRIC, MetricUnit, NODE_DIMENSION } from '../../shared/observability';
import { applyDeliveredBatch, retryParked, type AppliedEvent, type ApplyDeps, type DeliveryResult, type NodeContext } from '../apply';
import { consumes } from '../../shared/cluster-model';
import { GeoServerUnavailableError } from '../geoserver/errors';
import { backoffSeconds, GeoServerInvocation, isRetryParkedMessage } from '../geoserver/invocation';
import {
  applyDepsFromEnv,
  geoServerFromEnv,
  geoServerStatusFromEnv,
  membershipFromEnv,
  nodeQueuesFromEnv,
  ownNodeFromEnv,
  sqsClientFromEnv,
} from '../adapters/from-env';
import { queuesOf } from '../adapters/sqs-queues';

const membership = membershipFromEnv();
const node = ownNodeFromEnv(membership);
if (!consumes(node.role)) throw new Error(`Node ${node.name} is a pure ${node.role}: it has no queue to apply`);
const context: NodeContext = { cluster: membership.cluster, node: node.name };
const base = applyDepsFromEnv();
const rest = geoServerFromEnv();
const deps: ApplyDeps = rest ? { ...base, geoserver: { rest } } : base;
const queues = rest ? queuesOf(nodeQueuesFromEnv(membership), node.name) : undefined;
const sqs = rest ? sqsClientFromEnv() : undefined;
const geoserver = rest ? new GeoServerInvocation(node.name, { rest, status: geoServerStatusFromEnv() }) : undefined;
// This function serves one node: every log line and metric of it is that node's.
logger.appendPersistentKeys({ node: node.name });
metrics.setDefaultDimensions({ [NODE_DIMENSION]: node.name });

export const handler = instrumented(async (event: SQSEvent, _context?: Context): Promise<SQSBatchResponse> => {
  const retryRequests = geoserver ? event.Records.filter((record) => isRetryParkedMessage(record.body)) : [];
  const records = retryRequests.length > 0 ? event.Records.filter((record) => !retryRequests.includes(record)) : event.Records;
  const failedRequests: string[] = [];
  if (retryRequests.length > 0) {
    try {
      const parked = await retryParked(deps, context);
      logger.info('parked events retried', {
        cleared: parked.cleared,
        stillParked: parked.stillParked.map((record) => ({ key: record.key, sequences: record.sequences, reason: record.reason })),
      });
    } catch (error) {
      logger.error('could not retry the parked events', { error: describeError(error) });
      failedRequests.push(...retryRequests.map((record) => record.messageId));
    }
  }
  const result = await applyDeliveredBatch(
    deps,
    context,
    records.map((record) => record.body),
  );
  const applied = result.results.reduce((count, delivery) => count + ('applied' in delivery ? delivery.applied.length : 0), 0);
  const last = result.results[result.results.length - 1];
  metrics.addMetric(METRIC.eventsApplied, MetricUnit.Count, applied);
  recordApplyLatency(result.results, records.map((record) => record.body));
  recordGeoServerErrors(result.results, result.failure?.error);
  logger.info('batch applied', {
    messages: records.length,
    processed: result.results.length,
    applied,
    ownEvents: result.results.filter((delivery) => delivery.disposition === 'own-event').length,
    sequence: last && 'cursor' in last ? last.cursor : undefined,
  });
  if (geoserver) await geoserver.after(result);
  if (!result.failure) return { batchItemFailures: failedRequests.map((itemIdentifier) => ({ itemIdentifier })) };
  const failed = records.slice(result.failure.index);
  const error = result.failure.error;
  const receiveCount = Number(failed[0]?.attributes?.ApproximateReceiveCount ?? '1');
  const waitSeconds = error instanceof GeoServerUnavailableError ? backoffSeconds(receiveCount) : undefined;
  metrics.addMetric(METRIC.applyFailures, MetricUnit.Count, 1);
  logger.error('event could not be applied; it and the later messages of the batch will be retried', {
    messageId: failed[0]?.messageId,
    sequence: sequenceOf(failed[0]?.body),
    origin: failed[0]?.messageAttributes?.origin?.stringValue,
    receiveCount,
    retryInSeconds: waitSeconds,
    error: describeError(error),
  });
  if (waitSeconds !== undefined && sqs && queues) {
    // Best effort: without it the message returns after the queue's visibility timeout.
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: failed.slice(0, 10).map((record, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: waitSeconds,
          })),
        }),
      )
      .catch((cause: unknown) => logger.warn('could not delay the retry', { error: describeError(cause) }));
  }
  return {
    batchItemFailures: [...failedRequests, ...failed.map((record) => record.messageId)].map((itemIdentifier) => ({ itemIdentifier })),
  };
});

/** From the publish to this apply, for each delivered event applied now (duplicates and own events excluded). */
function recordApplyLatency(results: readonly DeliveryResult[], bodies: readonly string[]): void {
  const now = Date.now();
  results.forEach((delivery, index) => {
    if (delivery.disposition !== 'applied') return;
    const publishedAt = publishedAtOf(bodies[index]);
    if (publishedAt !== undefined) metrics.addMetric(METRIC.applyLatency, MetricUnit.Milliseconds, Math.max(0, now - publishedAt));
  });
}

/** Changes the node's GeoServer refused, and a GeoServer that could not take changes at all. */
function recordGeoServerErrors(results: readonly DeliveryResult[], failure: unknown): void {
  if (!geoserver) return;
  const applied: AppliedEvent[] = results.flatMap((delivery) => ('applied' in delivery ? [...delivery.applied] : []));
  const refused = applied.filter((event) => event.geoserver?.kind === 'rejected').length;
  const errors = refused + (failure instanceof GeoServerUnavailableError ? 1 : 0);
  if (errors > 0) metrics.addMetric(METRIC.geoServerErrors, MetricUnit.Count, errors);
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
