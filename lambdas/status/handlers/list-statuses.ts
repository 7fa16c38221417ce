/**
 * GET /executions: list statuses with filters and cursor paging (GeoServer's GetExecutions).
 * Needs a node or operator token: a listing hands out ids, which are what lets anyone poll or
 * dismiss an execution. Both see every execution (see docs/architecture.md, "Who may list").
 */
import { callerIdentity, httpHandler, json } from '../../shared/http';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { listQueryOf } from '../list-query';

const store = statusStoreFromEnv({ listing: true });

export const handler = httpHandler(async (event) => {
  // The route has the authorizer; should it ever lose it, this fails closed.
  callerIdentity(event);
  const page = await store.list(listQueryOf(event.queryStringParameters ?? {}, event.rawQueryString));
  return json(200, { executions: page.items, ...(page.cursor ? { nextCursor: page.cursor } : {}) });
});
