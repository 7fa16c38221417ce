/**
 * SQS event source of one consuming node (`NODE_NAME`): applies the batch to the node's
 * store in order and reports, as FIFO requires, the first failed message and every later one
 * (`batchItemFailures`), so they are retried in order; a message that keeps failing moves to
 * the node's dead-letter queue after the queue's `maxReceiveCount`.
 *
 * Messages arrive with raw delivery: the body is the event's JSON and the `origin` message
 * attribute the publishing node. A node's own events are dropped (the subscription filter
 * should already have).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeError, instrumented, logger, metrics, METRIC, MetricUnit, NODE_DIMENSION } from '../../shared/observability';
import { applyDeliveredBatch, type DeliveryResult, type NodeContext } from '../apply';
import { consumes } from '../../shared/cluster-model';
import { applyDepsFromEnv, membershipFromEnv, ownNodeFromEnv } from '../adapters/from-env';

const membership = membershipFromEnv();
const node = ownNodeFromEnv(membership);
if (!consumes(node.role)) throw new Error(`Node ${node.name} is a pure ${node.role}: it has no queue to apply`);
const context: NodeContext = { cluster: membership.cluster, node: node.name };
const deps = applyDepsFromEnv();
// This function serves one node: every log line and metric of it is that node's.
logger.appendPersistentKeys({ node: node.name });
metrics.setDefaultDimensions({ [NODE_DIMENSION]: node.name });

export const handler = instrumented(async (event: SQSEvent, _context?: Context): Promise<SQSBatchResponse> => {
  const records = event.Records;
  const result = await applyDeliveredBatch(
    deps,
    context,
    records.map((record) => record.body),
  );
  const applied = result.results.reduce((count, delivery) => count + ('applied' in delivery ? delivery.applied.length : 0), 0);
  const last = result.results[result.results.length - 1];
  metrics.addMetric(METRIC.eventsApplied, MetricUnit.Count, applied);
  recordApplyLatency(result.results, records.map((record) => record.body));
  logger.info('batch applied', {
    messages: records.length,
    processed: result.results.length,
    applied,
    ownEvents: result.results.filter((delivery) => delivery.disposition === 'own-event').length,
    sequence: last && 'cursor' in last ? last.cursor : undefined,
  });
  if (!result.failure) return { batchItemFailures: [] };
  const failed = records.slice(result.failure.index);
  metrics.addMetric(METRIC.applyFailures, MetricUnit.Count, 1);
  logger.error('event could not be applied; it and the later messages of the batch will be retried', {
    messageId: failed[0]?.messageId,
    sequence: sequenceOf(failed[0]?.body),
    origin: failed[0]?.messageAttributes?.origin?.stringValue,
    receiveCount: failed[0]?.attributes?.ApproximateReceiveCount,
    error: describeError(result.failure.error),
  });
  return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
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
