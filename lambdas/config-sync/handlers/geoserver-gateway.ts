/**
 * ANY /geoserver/rest/{proxy+}: the cluster as a GeoServer REST endpoint (gateway/gateway.ts).
 * The route has no authorizer: the caller's HTTP Basic credentials go to the master's GeoServer,
 * whose security decides, and are never stored or logged.
 *
 * Limits, answered with JSON errors: a request body over 6 MiB is 413 (Lambda's synchronous
 * payload limit; API Gateway allows 10 MB); a GeoServer answer over 4 MiB is 502 (it travels
 * base64-encoded, byte for byte, inside Lambda's 6 MB response); a GeoServer that does not answer
 * within 25 s is 504 (API Gateway ends the request at 30 s); one that cannot be reached is 502.
 */
import { AppError, PayloadTooLargeError } from '../../shared/errors';
import { httpHandler, type HttpEvent, type HttpResult } from '../../shared/http';
import { requireEnv } from '../../shared/env';
import { findNode } from '../cluster';
import { logger } from '../../shared/observability';
import { applyDepsFromEnv, eventTopicFromEnv, membershipFromEnv, nodePausesFromEnv } from '../adapters/from-env';
import { assertNotPaused } from '../pause';
import { HttpUpstream, UpstreamUnavailableError } from '../adapters/geoserver-upstream';
import { handleGatewayCall, type ChangePublisher } from '../gateway/gateway';
import { publishChange, type PublishDeps } from '../publish';

const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const UPSTREAM_TIMEOUT_MS = 25_000;
const REST_PREFIX = '/geoserver/rest';

const membership = membershipFromEnv();
const master = findNode(membership, requireEnv('GATEWAY_MASTER_NODE'));
const upstream = new HttpUpstream(requireEnv('GATEWAY_GEOSERVER_URL'), UPSTREAM_TIMEOUT_MS, MAX_RESPONSE_BYTES);
const deps: PublishDeps = { ...applyDepsFromEnv(), topic: eventTopicFromEnv(), now: () => new Date() };
const pauses = nodePausesFromEnv();
/** Methods that never change GeoServer's configuration, forwarded even while the master is paused. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

const publisher: ChangePublisher = {
  async publish(change) {
    const result = await publishChange(deps, { cluster: membership.cluster, node: master }, change);
    return result.event.sequence;
  },
};

export const handler = httpHandler(async (event: HttpEvent): Promise<HttpResult> => {
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (body.length > MAX_REQUEST_BYTES) throw new PayloadTooLargeError(MAX_REQUEST_BYTES);
  const rawPath = event.rawPath;
  const path = rawPath.startsWith(`${REST_PREFIX}/`) ? rawPath.slice(REST_PREFIX.length) : '/';
  const method = event.requestContext.http.method;
  logger.appendKeys({ node: master.name });
  // A paused master publishes nothing: its writes are refused before they reach its GeoServer,
  // which would otherwise change without the cluster following.
  if (!READS.has(method)) await assertNotPaused(pauses, master.name);
  try {
    const answer = await handleGatewayCall(upstream, publisher, {
      method,
      path,
      query: event.rawQueryString ?? '',
      headers: event.headers as Record<string, string>,
      body,
    });
    const log = {
      method,
      path,
      status: answer.status,
      replication: answer.replication,
      ...(answer.category ? { category: answer.category } : {}),
      ...(answer.sequences.length ? { sequences: answer.sequences } : {}),
      ...(answer.error ? { error: answer.error } : {}),
    };
    if (answer.replication === 'publish-failed') logger.error('geoserver gateway call', log);
    else logger.info('geoserver gateway call', log);
    return {
      statusCode: answer.status,
      headers: answer.headers,
      body: answer.body.toString('base64'),
      isBase64Encoded: true,
    };
  } catch (error) {
    if (error instanceof UpstreamUnavailableError) {
      throw new AppError(error.timedOut ? 504 : 502, error.timedOut ? 'GEOSERVER_TIMEOUT' : 'GEOSERVER_UNAVAILABLE', error.message);
    }
    throw error;
  }
});
