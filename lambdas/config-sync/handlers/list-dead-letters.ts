/**
 * GET /nodes/{node}/dead-letters: the messages of the node's dead-letter queue, without consuming
 * them (adapters/sqs-queues.ts `SqsDeadLetters.list`: each is received, held for the request and
 * made visible again), up to `limit` (default 20, at most 100), oldest sent first: each with its
 * message id, whether its apply function set it aside (no event of the cluster's log) and why,
 * its message group and `origin`, when it was sent, its size and the first 1,000 characters of its
 * body. `deadLetterDepth` counts them all. A pure master has no queue: nothing to list.
 * The node itself, a master, or an operator may list.
 */
import type { Context } from 'aws-lambda';
import { ForbiddenError } from '../../shared/errors';
import { callerIdentity, httpHandler, json, pathParam, type HttpEvent } from '../../shared/http';
import { OPERATOR_ROLE } from '../../shared/node-token';
import { parseQuery } from '../../shared/query';
import { logger } from '../../shared/observability';
import { assertCanOperate, findNode } from '../cluster';
import { deadLettersFromEnv, membershipFromEnv, sqsFromEnv } from '../adapters/from-env';
import { deadLettersQuerySchema } from '../request-schemas';
import { requestBudgetMs } from '../request-budget';
// Every listing receives from the dead-letter queue: the SQS client is bundled and created at cold start.
import * as sqsSdk from '../adapters/sqs-sdk';

const membership = membershipFromEnv();
const deadLetters = deadLettersFromEnv(membership, sqsFromEnv(sqsSdk));
/** Parsed on every request: built at cold start. */
const query = deadLettersQuerySchema();

/** A listing's time at most. */
const BUDGET_MS = 8_000;

export const handler = httpHandler(async (request: HttpEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const caller = callerIdentity(request);
  const node = findNode(membership, pathParam(request, 'node'));
  logger.appendKeys({ node: node.name });
  if (caller.role !== OPERATOR_ROLE) assertCanOperate(findNode(membership, caller.nodeId), node, 'list the dead letters of');
  else if (!caller.nodeId) throw new ForbiddenError('unknown operator');
  const { limit } = parseQuery(query, request.queryStringParameters);
  if (!deadLetters.hasQueues(node.name)) {
    return json(200, { node: node.name, deadLetterDepth: null, messages: [], more: false }, { 'cache-control': 'no-store' });
  }
  const budget = requestBudgetMs(context, BUDGET_MS, BUDGET_MS);
  const deadLetterDepth = await deadLetters.depth(node.name);
  const page = await deadLetters.list(node.name, limit, Date.now() + budget);
  logger.info('dead letters listed', { listed: page.messages.length, setAside: page.messages.filter((message) => message.setAside).length, more: page.more });
  return json(200, { node: node.name, deadLetterDepth, messages: page.messages, more: page.more }, { 'cache-control': 'no-store' });
});
