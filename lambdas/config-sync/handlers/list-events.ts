/**
 * GET /config/events?since=&limit=: the cluster's configuration event log, one bounded page of
 * summaries oldest first (event-log-view.ts). A node or operator token: the log names every
 * object and who changed it.
 */
import { callerIdentity, httpHandler, json } from '../../shared/http';
import { eventLogFromEnv, membershipFromEnv } from '../adapters/from-env';
import { parseQuery } from '../../shared/query';
import { readEventLog } from '../event-log-view';
import { eventLogQuerySchema } from '../request-schemas';
import { buildEventSchemas } from '../events';

const membership = membershipFromEnv();
/** Parsed on every request: built at cold start. */
const eventLogQuery = eventLogQuerySchema();
const log = eventLogFromEnv();
// Every listing parses the events it reads.
buildEventSchemas();

export const handler = httpHandler(async (event) => {
  callerIdentity(event);
  const page = await readEventLog(log, membership.cluster, parseQuery(eventLogQuery, event.queryStringParameters));
  return json(200, page, { 'cache-control': 'no-store' });
});
