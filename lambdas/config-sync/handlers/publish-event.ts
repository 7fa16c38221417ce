/**
 * POST /config/events: a master (or `both`) node publishes a configuration change. The change
 * gets its cluster-wide sequence in the event log (the commit point), is published to the
 * topic and applied to the node's own store; failures after the commit point are recovered
 * by the republish schedule and the next catch-up, so they are logged, not returned as errors.
 */
import { ForbiddenError } from '../../shared/errors';
import { callerNode, httpHandler, json, parseJsonBody } from '../../shared/http';
import type { ClusterNode } from '../../shared/cluster-model';
import { assertCanPublish } from '../cluster';
import { describeError, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { applyDepsFromEnv, eventTopicFromEnv, membershipFromEnv, nodePausesFromEnv } from '../adapters/from-env';
import { assertNotPaused } from '../pause';
import { publishChange, type PublishDeps } from '../publish';

const membership = membershipFromEnv();
const pauses = nodePausesFromEnv();
const deps: PublishDeps = { ...applyDepsFromEnv(), topic: eventTopicFromEnv(), now: () => new Date() };

/** Styles carry their whole SLD; 1 MiB is far above any real one and well inside Lambda's 6 MB. */
const MAX_CHANGE_BYTES = 1024 * 1024;

export const handler = httpHandler(async (event) => {
  const started = performance.now();
  const caller = callerNode(event);
  logger.appendKeys({ node: caller.nodeId });
  const node = declaredNode(caller.nodeId);
  // Refused before the body is even read: a pure slave never publishes, whatever it sends.
  assertCanPublish(node);
  await assertNotPaused(pauses, node.name);
  const body = parseJsonBody(event, MAX_CHANGE_BYTES);
  const result = await publishChange(deps, { cluster: membership.cluster, node }, body);
  logger.appendKeys({ sequence: result.event.sequence });
  metrics.addMetric(METRIC.publishLatency, MetricUnit.Milliseconds, performance.now() - started);
  if (result.published) metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, 1);
  for (const failure of result.deferredFailures) {
    logger.error('configuration event committed; a later step failed and will be recovered', {
      stage: failure.stage,
      error: describeError(failure.error),
    });
  }
  logger.info('configuration event published', { kind: result.event.kind, published: result.published });
  return json(201, {
    sequence: result.event.sequence,
    event: result.event,
    published: result.published,
    appliedLocally: result.appliedLocally,
  });
});

/** The caller as CLUSTER_NODES declares it: a token of a node since removed from the cluster publishes nothing. */
function declaredNode(name: string): ClusterNode {
  const node = membership.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new ForbiddenError(`Node ${name} is not a member of cluster ${membership.cluster}`);
  return node;
}
