/**
 * GET /config/events?since=&limit=: the cluster's configuration event log, one bounded page of
 * summaries oldest first (event-log-view.ts). A node or operator token: the log names every
 * object and who changed it.
 */
import { callerIdentity, httpHandler, json } from '../../shared/http';
import { eventLogFromEnv, membershipFromEnv } from '../adapters/from-env';
import { parseEventLogQuery, readEventLog } from '../event-log-view';
import { buildEventSchemas } from '../events';

const membership = membershipFromEnv();
const log = eventLogFromEnv();
// Every listing parses the events it reads.
buildEventSchemas();

export const handler = httpHandler(async (event) => {
  callerIdentity(event);
  const query = parseEventLogQuery(event.queryStringParameters ?? {});
  const page = await readEventLog(log, membership.cluster, query);
  return json(200, page, { 'cache-control': 'no-store' });
});
