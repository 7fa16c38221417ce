/**
 * Scheduled: removes completed statuses older than the retention, through the completion-time
 * index. "Now" is the schedule event's time, so a replayed or test event controls the clock.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { intEnv } from '../../shared/env';
import { instrumented, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { STATUS_ENV } from '../env-names';
import { cleanupExpired } from '../service';

// Records a metric on every invocation (counts what it removed on every run): the buffer is created at cold start.
metrics.prepare();
const store = statusStoreFromEnv({ listing: true });
const retentionMs = intEnv(STATUS_ENV.retentionMinutes) * 60_000;

export const handler = instrumented(async (event: Pick<ScheduledEvent, 'time'>): Promise<{ removed: number }> => {
  const now = event.time ? new Date(event.time) : new Date();
  const removed = await cleanupExpired(store, now, retentionMs);
  metrics.addMetric(METRIC.executionsCleaned, MetricUnit.Count, removed);
  logger.info('cleanup finished', { removed, now: now.toISOString() });
  return { removed };
});
