/**
 * One Powertools logger and one metrics buffer per function, configured from the environment
 * the stack sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL),
 * and the wrapper every handler goes through so that each invocation's log lines carry the
 * Lambda request id and the correlation keys the handler appends (node, sequence,
 * executionId), and its metrics are flushed once, as one embedded-metric-format line, before
 * the invocation returns.
 *
 * Metric names and the dimension keys here are read by the alarms and the dashboard in
 * cdk/constructs/monitoring.ts: this file is their one definition.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

export const logger = new Logger();
export const metrics = new Metrics();

export { MetricUnit };
export type MetricUnitName = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The dimension that carries the cluster's node name on per-node metrics. */
export const NODE_DIMENSION = 'node';

/** Every custom metric the functions emit (namespace POWERTOOLS_METRICS_NAMESPACE, dimension `service` = cluster). */
export const METRIC = {
  /** Per node: configuration events written to the node's store. */
  eventsApplied: 'EventsApplied',
  /** Per node: sequences the node's cursor is behind the log head (measured every minute). */
  lag: 'Lag',
  /** Per node: ms from a publish to its apply on the node. */
  applyLatency: 'ApplyLatency',
  /** Per node: deliveries that failed to apply and will be retried (then dead-lettered). */
  applyFailures: 'ApplyFailures',
  /** Per node: errors of the node's GeoServer REST calls. */
  geoServerErrors: 'GeoServerErrors',
  executionsCreated: 'ExecutionsCreated',
  executionsCompleted: 'ExecutionsCompleted',
  executionsFailed: 'ExecutionsFailed',
  executionsReaped: 'ExecutionsReaped',
  executionsCleaned: 'ExecutionsCleaned',
  /** ms from a publish request's arrival to the event being committed and published. */
  publishLatency: 'PublishLatency',
  eventsPublished: 'EventsPublished',
  /** Events the republish schedule published after their first publish failed. */
  eventsRepublished: 'EventsRepublished',
  /** Events committed to the log that no publish has reached yet (the republish backlog). */
  republishBacklog: 'RepublishBacklog',
} as const;

/** Records one value of a per-node metric (its own EMF line: the node dimension must not leak into other metrics). */
export function addNodeMetric(name: string, node: string, unit: MetricUnitName, value: number): void {
  const single = metrics.singleMetric();
  single.addDimension(NODE_DIMENSION, node);
  single.addMetric(name, unit, value);
}

/**
 * Wraps a handler: the invocation's Lambda context on every log line, correlation keys
 * appended during the call removed after it (a warm container serves other requests next),
 * metrics flushed even when the handler throws.
 */
export function instrumented<E, R>(handler: (event: E, context?: Context) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      return await handler(event, context);
    } finally {
      // Only when something was recorded: Powertools warns about an empty flush.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

/** An error nobody mapped to an answer, with its stack when it has one. */
export function logUnhandled(error: unknown): void {
  if (error instanceof Error) logger.error('Unhandled error', error);
  else logger.error('Unhandled error', { error: describeError(error) });
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
