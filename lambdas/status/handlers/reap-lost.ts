/**
 * Scheduled: fails active statuses whose node stopped sending heartbeats (GeoServer's gap: a dead
 * node's executions would otherwise be polled forever). "Now" is the schedule event's time.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { intEnv } from '../../shared/env';
import { instrumented, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { STATUS_ENV } from '../env-names';
import { reapLostExecutions } from '../service';

// Records a metric on every invocation (counts what it reaped on every run): the buffer is created at cold start.
metrics.prepare();
const store = statusStoreFromEnv({ listing: true });
const heartbeatTimeoutMs = intEnv(STATUS_ENV.heartbeatTimeoutSeconds) * 1000;

export const handler = instrumented(async (event: Pick<ScheduledEvent, 'time'>): Promise<{ reaped: number }> => {
  const now = event.time ? new Date(event.time) : new Date();
  const reaped = await reapLostExecutions(store, now, heartbeatTimeoutMs);
  metrics.addMetric(METRIC.executionsReaped, MetricUnit.Count, reaped);
  logger.info('reaper finished', { reaped, now: now.toISOString() });
  return { reaped };
});
