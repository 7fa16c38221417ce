/**
 * POST /config/events: a master (or `both`) node publishes a configuration change, or a change
 * set (`{"changes": [...]}`, up to 1,000 changes, committed all or nothing under one
 * contiguous range of sequences). The events get their cluster-wide sequences in the event log
 * (the commit point), are published to the topic and applied to the node's own store; failures
 * after the commit point are recovered by the republish schedule and the next catch-up, so they
 * are logged, not returned as errors.
 *
 * `Idempotency-Key`: a retry with the same key and body gets the first answer again (201, with
 * `Idempotent-Replayed: true`), the same key with another body a 422; keys bind for 24 hours
 * (publish.ts `publishIdempotently`).
 *
 * In a cluster with GeoServer nodes, a change stating a layer's or resource's `enabled` or
 * `advertised` takes its partner's along (a derived modify right after it, listed in the answer's
 * `derived`), since every GeoServer holds those flags once for both (layer-flags.ts).
 */
import { createHash } from 'node:crypto';
import { ForbiddenError, PayloadTooLargeError, ValidationError } from '../../shared/errors';
import { callerNode, header, httpHandler, json, parseJsonBody, readBody } from '../../shared/http';
import { pureMasters, type ClusterNode } from '../../shared/cluster-model';
import { assertCanPublish } from '../cluster';
import { describeError, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { applyDepsFromEnv, eventTopicFromEnv, geoServerNodesFromEnv, membershipFromEnv, nodePausesFromEnv } from '../adapters/from-env';
import { GeoServerNodePublishError } from '../errors';
import { MAX_CHANGE_SET_BYTES } from '../change-set-limits';
import { publishIdempotently, type PublishDeps } from '../publish';
import { buildChangeSchemas } from '../events';
// Every request publishes: the SNS client is bundled and created at cold start.
import * as snsSdk from '../adapters/sns-sdk';

const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

// Records a metric on every invocation (publishes a latency on every request): the buffer is created at cold start.
metrics.prepare();
const membership = membershipFromEnv();
/** The nodes that have a GeoServer: they publish through the REST gateway only. */
const geoServerNodes = new Set(Object.keys(geoServerNodesFromEnv(membership)));
// The pause is checked by the log append itself (one transaction with the range when the
// log's instance knows the head), so an uncontended publish reads nothing before it commits.
// In a cluster with a pure master, the master-stores queue's consumer brings the pure masters'
// stores up and marks events published, after the answer (publish.ts `masterStoresQueued`).
const deps: PublishDeps = {
  ...applyDepsFromEnv({ pausesInLog: true }),
  topic: eventTopicFromEnv(snsSdk),
  now: () => new Date(),
  pauses: nodePausesFromEnv(),
  masterStoresQueued: pureMasters(membership.nodes).length > 0,
  appliesToGeoServers: geoServerNodes.size > 0,
};
// Every request parses a change.
buildChangeSchemas();

/**
 * A change set's JSON (one change's `properties` are bounded at 1 MiB by the event rules):
 * inside Lambda's 6 MB request payload and, stored, inside one DynamoDB transaction.
 */
const MAX_CHANGE_BYTES = MAX_CHANGE_SET_BYTES;
/** Styles carry their whole SLD; 1 MiB is far above any real one. */
const MAX_SINGLE_CHANGE_BYTES = 1024 * 1024;

function isChangeSet(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, 'changes');
}

export const handler = httpHandler(async (event) => {
  const started = performance.now();
  const caller = callerNode(event);
  logger.appendKeys({ node: caller.nodeId });
  const node = declaredNode(caller.nodeId);
  // Refused before the body is even read: a pure slave never publishes, whatever it sends.
  // A paused node is refused by the append (PublishDeps.pauses), before anything is stored.
  assertCanPublish(node);
  if (geoServerNodes.has(node.name)) throw new GeoServerNodePublishError(node.name);
  const idempotencyKey = parseIdempotencyKey(header(event, IDEMPOTENCY_KEY_HEADER));
  const body = parseJsonBody(event, MAX_CHANGE_BYTES);
  // One change keeps its own bound (its properties are at most 1 MiB of JSON).
  if (!isChangeSet(body) && Buffer.byteLength(readBody(event, MAX_CHANGE_BYTES), 'utf8') > MAX_SINGLE_CHANGE_BYTES) {
    throw new PayloadTooLargeError(MAX_SINGLE_CHANGE_BYTES);
  }
  const idempotency =
    idempotencyKey === undefined
      ? undefined
      : { key: idempotencyKey, bodyHash: createHash('sha256').update(readBody(event, MAX_CHANGE_BYTES)).digest('hex') };
  const outcome = await publishIdempotently(deps, { cluster: membership.cluster, node }, body, idempotency);
  if (outcome.replayed) {
    logger.info('configuration change replayed for its idempotency key');
    return json(201, outcome.answer, { 'idempotent-replayed': 'true' });
  }
  const { result } = outcome;
  const sequences = `${result.events[0]?.sequence}..${result.events[result.events.length - 1]?.sequence}`;
  logger.appendKeys({ sequence: result.events[0]?.sequence, sequences });
  metrics.addMetric(METRIC.publishLatency, MetricUnit.Milliseconds, performance.now() - started);
  if (result.published) metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, result.events.length);
  for (const failure of result.deferredFailures) {
    logger.error('configuration change committed; a later step failed and will be recovered', { stage: failure.stage, error: describeError(failure.error) });
  }
  logger.info('configuration change published', { events: result.events.length, published: result.published });
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
