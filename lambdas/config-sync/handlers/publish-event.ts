/**
 * POST /config/events: a master (or `both`) node publishes a configuration change. The change
 * gets its cluster-wide sequence in the event log (the commit point), is published to the
 * topic and applied to the node's own store; failures after the commit point are recovered
 * by the republish schedule and the next catch-up, so they are logged, not returned as errors.
 *
 * `Idempotency-Key`: a retry with the same key and body gets the first answer again (201, with
 * `Idempotent-Replayed: true`), the same key with another body a 422; keys bind for 24 hours
 * (publish.ts `publishIdempotently`).
 */
import { createHash } from 'node:crypto';
import { ForbiddenError, ValidationError } from '../../shared/errors';
import { callerNode, header, httpHandler, json, parseJsonBody, readBody } from '../../shared/http';
import type { ClusterNode } from '../../shared/cluster-model';
import { assertCanPublish } from '../cluster';
import { describeError, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { applyDepsFromEnv, eventTopicFromEnv, membershipFromEnv, nodePausesFromEnv } from '../adapters/from-env';
import { assertNotPaused } from '../pause';
import { publishIdempotently, type PublishDeps } from '../publish';

const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

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
  const idempotencyKey = parseIdempotencyKey(header(event, IDEMPOTENCY_KEY_HEADER));
  const body = parseJsonBody(event, MAX_CHANGE_BYTES);
  const idempotency =
    idempotencyKey === undefined
      ? undefined
      : { key: idempotencyKey, bodyHash: createHash('sha256').update(readBody(event, MAX_CHANGE_BYTES)).digest('hex') };
  const outcome = await publishIdempotently(deps, { cluster: membership.cluster, node }, body, idempotency);
  if (outcome.replayed) {
    logger.info('configuration event replayed for its idempotency key');
    return json(201, outcome.answer, { 'idempotent-replayed': 'true' });
  }
  const { result } = outcome;
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
  return json(201, outcome.answer);
});

/**
 * The `Idempotency-Key` header: optional; 1 to 255 visible ASCII characters (a UUID fits),
 * since it becomes part of a DynamoDB key and of error messages.
 */
function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(raw)) {
    throw new ValidationError(IDEMPOTENCY_KEY_HEADER, 'must be 1 to 255 visible ASCII characters (e.g. a UUID)');
  }
  return raw;
}

/** The caller as CLUSTER_NODES declares it: a token of a node since removed from the cluster publishes nothing. */
function declaredNode(name: string): ClusterNode {
  const node = membership.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new ForbiddenError(`Node ${name} is not a member of cluster ${membership.cluster}`);
  return node;
}
