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
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { applyDeliveredBatch, retryParked, type ApplyDeps, type NodeContext } from '../apply';
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

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const retryRequests = geoserver ? event.Records.filter((record) => isRetryParkedMessage(record.body)) : [];
  const records = retryRequests.length > 0 ? event.Records.filter((record) => !retryRequests.includes(record)) : event.Records;
  const failedRequests: string[] = [];
  if (retryRequests.length > 0) {
    try {
      const parked = await retryParked(deps, context);
      console.info(
        JSON.stringify({
          message: 'parked events retried',
          node: node.name,
          cleared: parked.cleared,
          stillParked: parked.stillParked.map((record) => ({ key: record.key, sequences: record.sequences, reason: record.reason })),
        }),
      );
    } catch (error) {
      console.error(JSON.stringify({ message: 'could not retry the parked events', node: node.name, error: String(error) }));
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
  if (geoserver) await geoserver.after(result);
  if (!result.failure) return { batchItemFailures: failedRequests.map((itemIdentifier) => ({ itemIdentifier })) };
  const failed = records.slice(result.failure.index);
  const error = result.failure.error;
  const receiveCount = Number(failed[0]?.attributes?.ApproximateReceiveCount ?? '1');
  const waitSeconds = error instanceof GeoServerUnavailableError ? backoffSeconds(receiveCount) : undefined;
  console.error(
    JSON.stringify({
      message: 'event could not be applied; it and the later messages of the batch will be retried',
      node: node.name,
      messageId: failed[0]?.messageId,
      origin: failed[0]?.messageAttributes?.origin?.stringValue,
      receiveCount,
      retryInSeconds: waitSeconds,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    }),
  );
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
      .catch((cause: unknown) => console.warn(JSON.stringify({ message: 'could not delay the retry', node: node.name, error: String(cause) })));
  }
  return {
    batchItemFailures: [...failedRequests, ...failed.map((record) => record.messageId)].map((itemIdentifier) => ({ itemIdentifier })),
  };
};
