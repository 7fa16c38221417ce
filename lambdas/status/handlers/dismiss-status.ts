/**
 * DELETE /executions/{executionId}: dismiss. A queued or running execution becomes DISMISSING
 * (202; its node sees it on its next write and stops); a completed one is removed (200).
 * Nodes only: an operator token is refused (403), as on every write. The dismiss takes no body:
 * one that holds anything but `{}` is a 400 and dismisses nothing, so a caller never believes a
 * reason or an option it sent was taken.
 */
import { assertNoBody, callerNode, httpHandler, json, pathParam } from '../../shared/http';
import { logger } from '../../shared/observability';
import { parseWith } from '../../shared/validation';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { executionIdSchema } from '../schemas';
import { dismissExecution } from '../service';
import { statusResponse } from '../status-http';

const store = statusStoreFromEnv();

export const handler = httpHandler(async (event) => {
  callerNode(event);
  const executionId = parseWith(executionIdSchema, pathParam(event, 'executionId'), 'executionId');
  logger.appendKeys({ executionId });
  assertNoBody(event);
  const result = await dismissExecution(store, executionId);
  if (result.action === 'removed') return json(200, { removed: true, status: result.status });
  return statusResponse(202, result.status);
});
