/** GET /executions/{executionId}: any client polls an execution's status, from any node. */
import { intEnv } from '../../shared/env';
import { corsOriginsFromEnv, withCors } from '../../shared/cors';
import { answersHead, httpHandler, pathParam } from '../../shared/http';
import { logger } from '../../shared/observability';
import { parseWith } from '../../shared/validation';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { STATUS_ENV } from '../env-names';
import { executionIdSchema } from '../schemas';
import { getStatus } from '../service';
import { matchesIfNoneMatch, pollHeaders, statusResponse } from '../status-http';

const store = statusStoreFromEnv();
const defaultRetryAfterSeconds = intEnv(STATUS_ENV.defaultRetryAfterSeconds, 5);
const corsOrigins = corsOriginsFromEnv();

// Browsers on other origins may poll (lambdas/shared/cors.ts).
export const handler = answersHead(withCors(corsOrigins, httpHandler(async (event) => {
  const executionId = parseWith(executionIdSchema, pathParam(event, 'executionId'), 'executionId');
  logger.appendKeys({ executionId });
  const status = await getStatus(store, executionId);
  const headers = pollHeaders(status, defaultRetryAfterSeconds);
  if (matchesIfNoneMatch(event, headers.etag as string)) return { statusCode: 304, headers };
  return statusResponse(200, status, headers);
})));
