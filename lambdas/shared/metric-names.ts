/**
 * The custom metrics the functions emit (namespace POWERTOOLS_METRICS_NAMESPACE, dimension
 * `service` = the cluster's name), defined once for the functions (./observability.ts) and the
 * alarms and dashboard that read them (cdk/constructs/monitoring.ts). No imports: CDK loads it.
 */

/** The dimension that carries the cluster's node name on per-node metrics. */
export const NODE_DIMENSION = 'node';

/** Every custom metric the functions emit (namespace POWERTOOLS_METRICS_NAMESPACE, dimension `service` = cluster). */
export const METRIC = {
  /** Per node: configuration events written to the node's store. */
  eventsApplied: 'EventsApplied',
  /** Per node: sequences the node's cursor is behind the log head (measured every minute). */
  lag: 'Lag',
  /**
   * Consuming nodes the lag measure nudged in a run: behind, with nothing queued to bring them up,
   * sent the log's last event on their queue (lambdas/config-sync/catch-up-nudge.ts).
   */
  nodesNudged: 'NodesNudged',
  /** Nudges of lagging nodes the lag measure could not make in a run (facts unread or send refused); the next run tries again. */
  nudgeFailures: 'NudgeFailures',
  /** Per node: ms from a publish to its apply on the node. */
  applyLatency: 'ApplyLatency',
  /** Per node: deliveries that failed to apply and will be retried (then dead-lettered). */
  applyFailures: 'ApplyFailures',
  /**
   * Per node: queue messages that are no event of the cluster's log (not JSON, not an event, of
   * another cluster, past the log's head), moved to the node's dead-letter queue at once.
   */
  messagesSetAside: 'MessagesSetAside',
  /** Per node: events parked (not applied after bounded attempts; GET /nodes lists them). */
  eventsParked: 'EventsParked',
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
  /**
   * Gateway writes' intents left with the write lease for longer than STALE_INTENT_MS (gateway/limits.ts)
   * after the sweep's run: their recovery keeps failing (measured by each sweep that finds intents).
   */
  staleGatewayIntents: 'StaleGatewayIntents',
} as const;

