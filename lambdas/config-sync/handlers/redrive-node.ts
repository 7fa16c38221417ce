/**
 * POST /nodes/{node}/redrive: moves the messages of the node's dead-letter queue back to its
 * queue, after the cause of their failure has been fixed. `more` is true when the time budget
 * ran out first: call again.
 */
import type { Context } from 'aws-lambda';
import { ConflictError } from '../../shared/errors';
import { callerNode, httpHandler, json, pathParam, type HttpEvent } from '../../shared/http';
import { assertCanOperate, findNode } from '../cluster';
import { membershipFromEnv, redriveFromEnv } from '../adapters/from-env';

const membership = membershipFromEnv();
const redrive = redriveFromEnv(membership);

/** Time kept back from the function's timeout to answer. */
const RESERVE_MS = 5_000;
const DEFAULT_BUDGET_MS = 20_000;

export const handler = (event: HttpEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) =>
  httpHandler(async (request: HttpEvent) => {
    const caller = findNode(membership, callerNode(request).nodeId);
    const node = findNode(membership, pathParam(request, 'node'));
    assertCanOperate(caller, node, 'redrive');
    if (!redrive.hasQueues(node.name)) {
      throw new ConflictError('NO_QUEUE', `Node ${node.name} is a pure ${node.role}: it has no queue to redrive`);
    }
    const budget = context ? context.getRemainingTimeInMillis() - RESERVE_MS : DEFAULT_BUDGET_MS;
    const result = await redrive.redrive(node.name, Date.now() + Math.max(1_000, budget));
    console.info(JSON.stringify({ message: 'dead-letter queue redriven', node: node.name, ...result }));
    return json(200, { node: node.name, moved: result.moved, more: result.more });
  })(event);
