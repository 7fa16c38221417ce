/**
 * POST /nodes/{node}/dead-letters/discard `{"messageIds": [...]}` (at most 100): deletes, of the
 * named messages of the node's dead-letter queue, those its apply function set aside (no event of
 * the cluster's log, which a redrive leaves where they are), and keeps every other: a dead letter
 * that is an event that failed goes back to the queue with a redrive, and deleting it could lose
 * a change. The answer lists what was `discarded` and what was `kept`, each with its `cause`
 * (NOT_SET_ASIDE, NOT_FOUND) and `reason`; `more` when the time ran out before the queue was read
 * through. The node itself or a master may discard; operators are refused (read-only).
 */
import type { Context } from 'aws-lambda';
import { ValidationError } from '../../shared/errors';
import { callerNode, httpHandler, json, parseJsonBody, pathParam, type HttpEvent } from '../../shared/http';
import { logger } from '../../shared/observability';
import { parseWith } from '../../shared/validation';
import { assertCanOperate, findNode } from '../cluster';
import { deadLettersFromEnv, membershipFromEnv, sqsFromEnv } from '../adapters/from-env';
import { discardAnswer } from '../dead-letters';
import { discardRequestSchema } from '../request-schemas';
import { requestBudgetMs } from '../request-budget';
// Every discard receives from the dead-letter queue: the SQS client is bundled and created at cold start.
import * as sqsSdk from '../adapters/sqs-sdk';

const membership = membershipFromEnv();
const deadLetters = deadLettersFromEnv(membership, sqsFromEnv(sqsSdk));
/** Parsed on every request: built at cold start. */
const body = discardRequestSchema();

/** A discard's time without a Lambda context. */
const DEFAULT_BUDGET_MS = 20_000;

export const handler = httpHandler(async (request: HttpEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const caller = findNode(membership, callerNode(request).nodeId);
  const node = findNode(membership, pathParam(request, 'node'));
  logger.appendKeys({ node: node.name });
  assertCanOperate(caller, node, 'discard the dead letters of');
  if ((request.body ?? '').trim() === '') throw new ValidationError('body', 'a JSON object {"messageIds": [...]} is required: the ids from GET /nodes/{node}/dead-letters');
  const { messageIds } = parseWith(body, parseJsonBody(request));
  const hasQueue = deadLetters.hasQueues(node.name);
  const budget = requestBudgetMs(context, DEFAULT_BUDGET_MS);
  const result = await deadLetters.discard(node.name, messageIds, Date.now() + budget);
  const answer = discardAnswer(node.name, result, hasQueue);
  logger.info('dead letters discarded', { discarded: answer.discarded, kept: answer.kept.map(({ messageId, cause }) => ({ messageId, cause })), more: answer.more });
  return json(200, answer);
});
