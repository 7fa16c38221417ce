/**
 * Scheduled (every minute): records each node's lag (the sequences its store is behind the
 * event log's head) as a metric, so an alarm can fire on a node that falls behind or stops.
 * The apply functions cannot report it: a node that is down, paused or stuck runs nothing,
 * and that is exactly when the lag grows.
 *
 * Then, the consuming nodes' scheduled catch-up: a node that is behind and will get nothing on
 * its own (its queue and dead-letter queue empty, not paused, not held by a resync, no job
 * running, the first event it lacks written a minute ago or more) is nudged with one message on
 * its own queue, the log's last event as the topic delivered it, through which its apply function
 * fills the gap from the log (../catch-up-nudge.ts says why each condition). The lag is recorded
 * first: a nudge that fails is logged and counted (`NudgeFailures`), never stops the measure or
 * the other nodes' nudges, and is tried again by the next run.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { addNodeMetric, describeError, instrumented, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { consumes } from '../../shared/cluster-nodes';
import { catchUpNudgesFromEnv, eventLogFromEnv, jobStoreFromEnv, membershipFromEnv, nodePausesFromEnv, nodeStoreFromEnv, sqsFromEnv } from '../adapters/from-env';
import { loadSqsSdk } from '../adapters/deferred-sdk';
import { nudgeLaggingNodes, type NudgeSkip } from '../catch-up-nudge';
import { lagCounter } from '../lag';

// Records each node's lag on every run: the buffer is created at cold start.
metrics.prepare();
const membership = membershipFromEnv();
const log = eventLogFromEnv();
const store = nodeStoreFromEnv();
const pauses = nodePausesFromEnv();
const jobs = jobStoreFromEnv();
// SQS only for a node that is behind: it loads on first use, out of the measure's cold start.
const queues = catchUpNudgesFromEnv(membership, sqsFromEnv(loadSqsSdk));

export interface MeasureResult {
  readonly head: number;
  readonly lag: Record<string, number>;
  /** Node -> the sequence sent to its queue as its catch-up nudge. */
  readonly nudged: Record<string, number>;
  /** Lagging consuming node -> why it was not nudged. */
  readonly skipped: Record<string, NudgeSkip>;
  /** Nodes whose nudge failed (logged with the error). */
  readonly failed: string[];
}

export const handler = instrumented(async (event: Partial<Pick<ScheduledEvent, 'time'>>): Promise<MeasureResult> => {
  // The run's clock (the schedule's time): the age of a node's missing events, and its nudge's
  // deduplication id. A time that is no instant is not taken: no age could be told from it.
  const scheduled = event.time ? Date.parse(event.time) : Number.NaN;
  const now = Number.isFinite(scheduled) ? scheduled : Date.now();
  // The head first, as GET /nodes does: a cursor read after it is never ahead of it. The
  // stored cursor, so a node held by a resync shows the lag it has until the resync catches up.
  const head = await log.head(membership.cluster);
  const lagOf = lagCounter(log, membership.cluster, head);
  const measured = await Promise.all(
    membership.nodes.map(async (node) => {
      const progress = await store.readProgress(node.name);
      return { name: node.name, consumes: consumes(node.role), progress, lag: await lagOf(progress.cursor) };
    }),
  );
  const lag = Object.fromEntries(measured.map((node) => [node.name, node.lag]));
  for (const [node, value] of Object.entries(lag)) addNodeMetric(METRIC.lag, node, MetricUnit.Count, value);
  const run = await nudgeLaggingNodes({ log, pauses, jobs, queues }, membership.cluster, measured, now);
  for (const { node, error } of run.failed) logger.error('could not nudge a lagging node', { node, error: describeError(error) });
  metrics.addMetric(METRIC.nodesNudged, MetricUnit.Count, Object.keys(run.nudged).length);
  if (run.failed.length > 0) metrics.addMetric(METRIC.nudgeFailures, MetricUnit.Count, run.failed.length);
  const failed = run.failed.map((failure) => failure.node);
  logger.info('lag measured', { head, lag, nudged: run.nudged, skipped: run.skipped, failed });
  return { head, lag, nudged: { ...run.nudged }, skipped: { ...run.skipped }, failed };
});
