/**
 * POST /nodes/{node}/pause and POST /nodes/{node}/resume (the node itself or a master): stop and
 * restart the node's consumption of its queue, which keeps every event meanwhile, and refuse
 * or accept its publishes again (lambdas/config-sync/pause.ts).
 */
import { ValidationError } from '../../shared/errors';
import { assertNoBody, callerNode, httpHandler, json, pathParam } from '../../shared/http';
import { logger } from '../../shared/observability';
import { findNode } from '../cluster';
import { membershipFromEnv } from '../adapters/from-env';
import { pauseDepsFromEnv } from '../adapters/pause-from-env';
import { pauseNode, resumeNode } from '../pause';

const membership = membershipFromEnv();
const deps = pauseDepsFromEnv(membership);

export const handler = httpHandler(async (event) => {
  const caller = findNode(membership, callerNode(event).nodeId);
  const target = findNode(membership, pathParam(event, 'node'));
  logger.appendKeys({ node: target.name });
  const action = /\/(pause|resume)$/.exec(event.rawPath ?? '')?.[1];
  if (action === undefined) throw new ValidationError('path', 'must end in /pause or /resume');
  assertNoBody(event);
  const outcome = action === 'pause' ? await pauseNode(deps, caller, target, new Date()) : await resumeNode(deps, caller, target);
  logger.info(action === 'pause' ? 'node paused' : 'node resumed', { consumption: outcome.consumption });
  return json(200, outcome);
});
