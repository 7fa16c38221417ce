/**
 * GET /executions: list statuses with filters and cursor paging (GeoServer's GetExecutions).
 * Needs a node or operator token: a listing hands out ids, which are what lets anyone poll or
 * dismiss an execution. Both see every execution (see docs/architecture.md, "Who may list").
 */
import { callerIdentity, httpHandler, json } from '../../shared/http';
import { ValidationError } from '../../shared/errors';
import { parseWith } from '../../shared/validation';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { listQuerySchema } from '../schemas';

const store = statusStoreFromEnv({ listing: true });
const DEFAULT_LIMIT = 100;

export const handler = httpHandler(async (event) => {
  // The route has the authorizer; should it ever lose it, this fails closed.
  callerIdentity(event);
  const query = parseWith(listQuerySchema, event.queryStringParameters ?? {});
  if (query.completedAfter && query.completedBefore && query.completedAfter >= query.completedBefore) {
    throw new ValidationError('completedAfter', 'must be earlier than completedBefore');
  }
  const page = await store.list({
    phases: query.phase,
    processName: query.processName,
    userName: query.userName,
    nodeId: query.nodeId,
    completedBefore: query.completedBefore,
    completedAfter: query.completedAfter,
    limit: query.limit ?? DEFAULT_LIMIT,
    cursor: query.cursor,
  });
  return json(200, { executions: page.items, ...(page.cursor ? { nextCursor: page.cursor } : {}) });
});
