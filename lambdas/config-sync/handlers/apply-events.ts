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
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { applyDeliveredBatch, type NodeContext } from '../apply';
import { consumes } from '../../shared/cluster-model';
import { applyDepsFromEnv, membershipFromEnv, ownNodeFromEnv } from '../adapters/from-env';

const membership = membershipFromEnv();
const node = ownNodeFromEnv(membership);
if (!consumes(node.role)) throw new Error(`Node ${node.name} is a pure ${node.role}: it has no queue to apply`);
const context: NodeContext = { cluster: membership.cluster, node: node.name };
const deps = applyDepsFromEnv();

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const records = event.Records;
  const result = await applyDeliveredBatch(
    deps,
    context,
    records.map((record) => record.body),
  );
  const applied = result.results.reduce((count, delivery) => count + ('applied' in delivery ? delivery.applied.length : 0), 0);
  const last = result.results[result.results.length - 1];
  console.info(
    JSON.stringify({
      message: 'batch applied',
      node: node.name,
      messages: records.length,
      processed: result.results.length,
      applied,
      ownEvents: result.results.filter((delivery) => delivery.disposition === 'own-event').length,
      cursor: last && 'cursor' in last ? last.cursor : undefined,
    }),
  );
  if (!result.failure) return { batchItemFailures: [] };
  const failed = records.slice(result.failure.index);
  const error = result.failure.error;
  console.error(
    JSON.stringify({
      message: 'event could not be applied; it and the later messages of the batch will be retried',
      node: node.name,
      messageId: failed[0]?.messageId,
      origin: failed[0]?.messageAttributes?.origin?.stringValue,
      receiveCount: failed[0]?.attributes?.ApproximateReceiveCount,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    }),
  );
  return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
};
