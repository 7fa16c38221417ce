/**
 * One Powertools logger and one metrics buffer per function, configured from the environment
 * the stack sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL),
 * and the wrapper every handler goes through so that each invocation's log lines carry the
 * Lambda request id and the correlation keys the handler appends (node, sequence,
 * executionId), and its metrics are flushed once, as one embedded-metric-format line, before
 * the invocation returns.
 *
 * Metric names and dimension keys are defined once in ./metric-names.ts, which the alarms and
 * the dashboard (cdk/constructs/monitoring.ts) read too.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { NODE_DIMENSION } from './metric-names';

export const logger = atClusterLevel(() => new Logger());

/**
 * A logger at the cluster's level (POWERTOOLS_LOG_LEVEL). In Lambda, Powertools takes Lambda's
 * log filter (AWS_LAMBDA_LOG_LEVEL) over its own level, and the stack keeps that filter at INFO
 * even when the cluster logs at WARN or ERROR, for the metric lines it would otherwise drop
 * (cdk/constructs/cluster-function.ts, lambdaLogFilter): so the logger is created without it,
 * and the variable is put back as Lambda set it.
 */
function atClusterLevel(create: () => Logger): Logger {
  const lambdaFilter = process.env.AWS_LAMBDA_LOG_LEVEL;
  if (lambdaFilter === undefined || process.env.POWERTOOLS_LOG_LEVEL === undefined) return create();
  delete process.env.AWS_LAMBDA_LOG_LEVEL;
  try {
    return create();
  } finally {
    process.env.AWS_LAMBDA_LOG_LEVEL = lambdaFilter;
  }
}

/**
 * The metrics buffer, created when a function first records a metric. Most functions never
 * record one (the listings, the node operations, the authorizer), and creating Powertools'
 * Metrics costs about a tenth of a bare GetItem handler's cold import (its own console and
 * environment reads); a function that records on every invocation creates it on the first.
 */
let buffer: Metrics | undefined;
const metricsBuffer = (): Metrics => (buffer ??= new Metrics());

/** What handlers record through; the buffer behind it is created on first use. */
export const metrics = {
  /**
   * Creates the buffer now: a function that records a metric on every invocation calls this at
   * module level, so that its cold start, not its first request, pays for it.
   */
  prepare: (): void => void metricsBuffer(),
  addMetric: (name: string, unit: MetricUnitName, value: number): void => void metricsBuffer().addMetric(name, unit, value),
  setDefaultDimensions: (dimensions: Record<string, string>): void => void metricsBuffer().setDefaultDimensions(dimensions),
};

export { MetricUnit };
export { METRIC, NODE_DIMENSION } from './metric-names';
export type MetricUnitName = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Records one value of a per-node metric (its own EMF line: the node dimension must not leak into other metrics). */
export function addNodeMetric(name: string, node: string, unit: MetricUnitName, value: number): void {
  const single = metricsBuffer().singleMetric();
  single.addDimension(NODE_DIMENSION, node);
  single.addMetric(name, unit, value);
}

/**
 * Wraps a handler: the invocation's Lambda context on every log line, correlation keys
 * appended during the call removed after it (a warm container serves other requests next),
 * metrics flushed even when the handler throws.
 */
export function instrumented<E, R, C extends Partial<Context> = Context>(handler: (event: E, context?: C) => Promise<R>): (event: E, context?: C) => Promise<R> {
  return async (event, context) => {
    // Tests may pass only the part of the context a handler reads (its remaining time).
    if (context && typeof context.awsRequestId === 'string') logger.addContext(context as Context);
    try {
      return await handler(event, context);
    } finally {
      // Only when something was recorded: Powertools warns about an empty flush.
      if (buffer?.hasStoredMetrics()) buffer.publishStoredMetrics();
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
