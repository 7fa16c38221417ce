/**
 * Scheduled (every minute): records each node's lag (the sequences its store is behind the
 * event log's head) as a metric, so an alarm can fire on a node that falls behind or stops.
 * The apply functions cannot report it: a node that is down, paused or stuck runs nothing,
 * and that is exactly when the lag grows.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { addNodeMetric, instrumented, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { eventLogFromEnv, membershipFromEnv, nodeStoreFromEnv } from '../adapters/from-env';
import { lagCounter } from '../lag';

// Records each node's lag on every run: the buffer is created at cold start.
metrics.prepare();
const membership = membershipFromEnv();
const log = eventLogFromEnv();
const store = nodeStoreFromEnv();

export const handler = instrumented(async (_event: Partial<Pick<ScheduledEvent, 'time'>>): Promise<{ head: number; lag: Record<string, number> }> => {
  // The head first, as GET /nodes does: a cursor read after it is never ahead of it. The
  // stored cursor, so a node held by a resync shows the lag it has until the resync catches up.
  const head = await log.head(membership.cluster);
  const lagOf = lagCounter(log, membership.cluster, head);
  const lags = await Promise.all(membership.nodes.map(async (node) => [node.name, await lagOf((await store.readProgress(node.name)).cursor)] as const));
  const lag = Object.fromEntries(lags);
  for (const [node, value] of Object.entries(lag)) addNodeMetric(METRIC.lag, node, MetricUnit.Count, value);
  logger.info('lag measured', { head, lag });
  return { head, lag };
});
