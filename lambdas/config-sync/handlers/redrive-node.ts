/**
 * POST /nodes/{node}/redrive, after the cause of a failure has been fixed:
 * 1. moves the messages of the node's dead-letter queue back to its queue (`moved`; `more` is
 *    true when the time budget ran out first: call again);
 * 2. retries the node's parked events (see apply.ts), each object's in order: `parked.cleared`
 *    lists the sequences now applied, `parked.stillParked` the records whose first event
 *    failed again, with the new reason.
 * A pure master has no queue: only its parked events are retried.
 *
 * A node with a GeoServer: its parked events must reach the GeoServer too, which only the
 * node's apply function can reach (network, credentials). So the redrive puts a retry request
 * in the node's queue, and the apply function retries them (`parked.retriedBy` says so; the
 * outcome shows in GET /nodes).
 */
import type { Context } from 'aws-lambda';
import { assertNoBody, callerNode, httpHandler, json, pathParam, type HttpEvent } from '../../shared/http';
import { retryParked } from '../apply';
import { logger } from '../../shared/observability';
import { assertCanOperate, findNode } from '../cluster';
import { requestBudgetMs } from '../request-budget';
import {
  applyDepsFromEnv,
  geoServerNodesFromEnv,
  membershipFromEnv,
  nodeQueuesFromEnv,
  nodeStoreFromEnv,
  redriveFromEnv,
  sqsFromEnv,
} from '../adapters/from-env';
import { retryParkedMessage } from '../geoserver/invocation';
import { parkedView } from '../ports';
// Every redrive reads the dead-letter queue: the SQS client is bundled and created at cold start.
import * as sqsSdk from '../adapters/sqs-sdk';

const membership = membershipFromEnv();
const sqs = sqsFromEnv(sqsSdk);
const redrive = redriveFromEnv(membership, sqs);
const applyDeps = applyDepsFromEnv();
const geoservers = geoServerNodesFromEnv(membership);

/** A redrive's time without a Lambda context. */
const DEFAULT_BUDGET_MS = 20_000;

export const handler = httpHandler(async (request: HttpEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const caller = findNode(membership, callerNode(request).nodeId);
  const node = findNode(membership, pathParam(request, 'node'));
  logger.appendKeys({ node: node.name });
  assertCanOperate(caller, node, 'redrive');
  assertNoBody(request);
  let moved = 0;
  let more = false;
  const deadline = () => Date.now() + requestBudgetMs(context, DEFAULT_BUDGET_MS);
  if (redrive.hasQueues(node.name)) ({ moved, more } = await redrive.redrive(node.name, deadline()));
  if (Object.hasOwn(geoservers, node.name)) {
    const queues = nodeQueuesFromEnv(membership);
    const requestedAt = new Date();
    const { sdk, client } = sqs.connect();
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: queues[node.name]!.queueUrl,
        MessageBody: retryParkedMessage(requestedAt),
        MessageGroupId: membership.cluster,
        MessageDeduplicationId: `${node.name}-retry-parked-${requestedAt.getTime()}`,
      }),
    );
    const parked = await nodeStoreFromEnv().listParked(node.name);
    logger.info('node redriven; its apply function retries the parked events', { moved, more, parked: parked.length });
    return json(202, {
      node: node.name,
      moved,
      more,
      parked: {
        retriedBy: 'apply function',
        cleared: [],
        more: false,
        stillParked: parked.map(parkedView),
      },
    });
  }
  const parked = await retryParked(applyDeps, { cluster: membership.cluster, node: node.name }, deadline());
  logger.info('node redriven', {
    moved,
    more,
    moreParked: parked.more === true,
    clearedParked: parked.cleared.length,
    stillParked: parked.stillParked.map((record) => ({ key: record.key, sequences: record.sequences, reason: record.reason })),
  });
  return json(200, {
    node: node.name,
    moved,
    more,
    parked: {
      cleared: parked.cleared,
      stillParked: parked.stillParked.map(parkedView),
      more: parked.more === true,
    },
  });
});
