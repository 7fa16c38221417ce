/**
 * ANY /geoserver/rest/{proxy+}: the cluster as a GeoServer REST endpoint (gateway/gateway.ts).
 * The route has no authorizer: the caller's HTTP Basic credentials go to the master's GeoServer,
 * whose security decides, and are never stored or logged. What a write changed is read back with the
 * master node's own credentials (`GEOSERVER_CREDENTIALS_SECRET`, cached per instance), as the
 * sweep and a capture read the master: GeoServer's data security shows a restricted caller only
 * part of the catalog (HIDE mode: what it may not see answers 404, a layer group comes back
 * without those entries), and publishing that part would remove the rest from every node.
 *
 * Only callers from `cluster.gateway.allowedSourceIps` pass, when it is set
 * (gateway/source-allow-list.ts): others get 403 before anything is read or forwarded.
 *
 * Limits (gateway/limits.ts), answered with JSON errors: a request body over 5 MiB is 413 (Lambda
 * takes 6 MB per request, API Gateway 10 MB); a GeoServer answer over 4 MiB is 502
 * GEOSERVER_ANSWER_TOO_LARGE (it travels base64-encoded inside Lambda's 6 MB response; reading a
 * write back may read more), and so is any answer of the master's over the 20 MiB the gateway
 * reads at all, naming the call it answered; the master's calls of one request share a 26 s
 * budget and running out of it is 504 (API Gateway ends the request at 30 s); a master that
 * cannot be reached, or whose secret cannot be read for the read-backs (gateway/master-read-back.ts), is 502; a write that cannot get the cluster's write lease within 10 s is 503
 * with Retry-After.
 *
 * A method GeoServer's REST API has not (PATCH, any but GET, HEAD, OPTIONS, POST, PUT, DELETE)
 * is 405 with `Allow`, nothing read or forwarded (gateway.ts, `GATEWAY_METHODS`).
 *
 * A write to a replicated path, or an upload, whose caller the master does not accept (wrong
 * credentials: its `GET /about/version` answers 401) gets that 401 before the cluster's write
 * lease is taken, so such callers cannot keep other writes waiting (gateway/caller-check.ts); one
 * with no credentials at all is answered 401 without asking the master.
 *
 * A write (POST, PUT, DELETE; uploads included) is refused before it is forwarded
 * while the master is paused (409 NODE_PAUSED) or held by a resync, running or left half-copied
 * (409 NODE_HELD_BY_RESYNC, naming the resync and what to do).
 */
import { AppError } from '../../shared/errors';
import { errorResponse, httpHandler, requestBaseUrl, type HttpEvent, type HttpResult } from '../../shared/http';
import { envJson, optionalEnv, requireEnv } from '../../shared/env';
import { findNode } from '../cluster';
import { operatorNamesFromJson } from '../../shared/cluster-model';
import { describeError, logger } from '../../shared/observability';
import { applyDepsFromEnv, eventTopicFromEnv, gatewayLeaseFromEnv, geoServerCredentialsFromEnv, jobStoreFromEnv, membershipFromEnv, nodePausesFromEnv, nodeQueuesFromEnv, sqsFromEnv } from '../adapters/from-env';
import { assertNotPaused } from '../pause';
import { HttpUpstream, UpstreamAnswerTooLargeError, UpstreamUnavailableError } from '../adapters/geoserver-upstream';
import { assertGatewayMethod, handleGatewayCall, locationThroughGateway, type ChangePublisher } from '../gateway/gateway';
import { masterReadBack } from '../gateway/master-read-back';
import { gatewayWriteRefusal } from '../jobs';
import { uploadCapture } from '../gateway/upload-capture';
import { enqueueJob } from '../adapters/sqs-jobs';
import {
  GatewayBodyTooLargeError,
  LEASE_TTL_MS,
  LEASE_WAIT_MS,
  MasterAnswerTooLargeError,
  MasterTimeoutError,
  MAX_READ_BACK_BYTES,
  MAX_REQUEST_BODY_BYTES,
  MAX_RESPONSE_BODY_BYTES,
  PUBLISH_RESERVE_MS,
  REQUEST_BUDGET_MS,
  UPSTREAM_CALL_TIMEOUT_MS,
} from '../gateway/limits';
import { ALLOW_ALL, SourceNotAllowedError, sourceAllowList, type SourceAllowList } from '../gateway/source-allow-list';
import { describeIntent, GatewayBusyError, leaseSerializer } from '../gateway/write-lease';
import { styleUsersInStore } from '../gateway/style-users';
import { catalogInStore } from '../gateway/master-catalog';
import { gatewayRecovery } from '../gateway/recovery';
import { CallerCheck } from '../gateway/caller-check';
import { CONFIG_SYNC_ENV } from '../env-names';
import { publishChange, type PublishDeps } from '../publish';
import { buildChangeSchemas } from '../events';
// Every request publishes: the SNS client is bundled and created at cold start.
import * as snsSdk from '../adapters/sns-sdk';
// An upload into a store starts a capture of the master, whose first slice is an SQS message:
// the SQS client is loaded on the first upload (most calls are not uploads; deferred-sdk.ts).
import { loadSqsSdk } from '../adapters/deferred-sdk';

const REST_PREFIX = '/geoserver/rest';

const membership = membershipFromEnv();
const master = findNode(membership, requireEnv(CONFIG_SYNC_ENV.gatewayMasterNode));
const masterUrl = requireEnv(CONFIG_SYNC_ENV.gatewayGeoserverUrl);
const upstream = new HttpUpstream(masterUrl, UPSTREAM_CALL_TIMEOUT_MS, MAX_READ_BACK_BYTES);
// The master node's own credentials (its secret, read on the first write and cached per instance):
// every read-back of a write is made with them, the write itself with its caller's (gateway.ts, `readBack`).
const readBack = masterReadBack(upstream, geoServerCredentialsFromEnv());
// A write's caller is shown to the master before the write lease is taken: one it refuses holds nothing (gateway/caller-check.ts).
const callers = new CallerCheck(upstream);
const deps: PublishDeps = { ...applyDepsFromEnv(), topic: eventTopicFromEnv(snsSdk), now: () => new Date() };
const pauses = nodePausesFromEnv();
// A style rename also publishes the layers and groups that name the style, found in the master's store.
const styleUsers = styleUsersInStore(deps.store, master.name);
// A workspace or store rename also publishes what moved with it, found in the master's store.
const catalog = catalogInStore(deps.store, master.name);
// Each write records its intent with the lease; the next holder publishes what an unfinished one changed (recovery.ts).
// An upload's intent is recovered by a capture of the master, as the upload itself is (`captureUpload`, below).
const recovery = gatewayRecovery({
  stored: (refs) => deps.store.readObjects(master.name, refs),
  styleUsers,
  catalog,
  publisher: { publish: (change) => publisher.publish(change) },
  captureUpload: () => captureUpload(),
});
// Every write parses the change it publishes.
buildChangeSchemas();
/** Methods that never change GeoServer's configuration, forwarded even while the master is paused. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const writes = leaseSerializer(gatewayLeaseFromEnv(membership.cluster), {
  waitMs: LEASE_WAIT_MS,
  ttlMs: LEASE_TTL_MS,
  onReleaseFailure: (error) =>
    logger.error('gateway write lease not released; it ends at its expiry', { error: describeError(error) }),
  // The intents stay for the next holder (another write, or the sweep with the master node's credentials).
  onRecoveryFailure: (error, pending) =>
    logger.error('gateway: writes an earlier holder left unpublished could not be recovered; this write goes on', {
      error: describeError(error),
      intents: pending.map(describeIntent),
    }),
});

const allowed = allowListFromEnv();

/** `GATEWAY_ALLOWED_SOURCE_IPS` (cluster.gateway.allowedSourceIps): unset lets every address call. */
function allowListFromEnv(): SourceAllowList {
  const raw = optionalEnv(CONFIG_SYNC_ENV.gatewayAllowedSourceIps);
  if (raw === undefined) return ALLOW_ALL;
  const entries = envJson(raw);
  if (!Array.isArray(entries) || entries.length === 0 || !entries.every((entry) => typeof entry === 'string')) {
    throw new Error(`Environment variable ${CONFIG_SYNC_ENV.gatewayAllowedSourceIps} must be a JSON array of addresses and CIDR blocks, got '${raw}'`);
  }
  try {
    return sourceAllowList(entries as string[]);
  } catch (error) {
    throw new Error(`Environment variable ${CONFIG_SYNC_ENV.gatewayAllowedSourceIps}: ${(error as Error).message}`);
  }
}

const jobs = jobStoreFromEnv();
const masterQueue = nodeQueuesFromEnv(membership)[master.name]!;
const sqs = sqsFromEnv(loadSqsSdk);

// After an upload the master took, and for an upload's intent an earlier write left (recovery.ts):
// a capture of the master (upload-capture.ts), its first slice sent to the master's queue.
const captureUpload = uploadCapture({
  store: deps.store,
  jobs,
  master: master.name,
  enqueue: (job) => enqueueJob(sqs, jobs, masterQueue.queueUrl, membership.cluster, job),
  requestedBy: 'gateway upload',
});

const clusterNodes = membership.nodes.map((node) => node.name);
// `CLUSTER_OPERATORS` (cluster.operators' names); unset: none.
const clusterOperators = operatorNamesFromJson(CONFIG_SYNC_ENV.clusterOperators, optionalEnv(CONFIG_SYNC_ENV.clusterOperators) ?? '[]');


const publisher: ChangePublisher = {
  async publish(change) {
    const result = await publishChange(deps, { cluster: membership.cluster, node: master }, change);
    return result.event.sequence;
  },
};

/**
 * On every answer of the master's passed on: the gateway serves them from the API's origin, the
 * operator console's too. A document among them (GeoServer's HTML representations, a page that
 * echoes the request) is sandboxed into an origin of its own, where no script of it reaches the
 * console's token, and no answer is sniffed into HTML. REST clients read neither header.
 */
const CONFINED = { 'content-security-policy': 'sandbox', 'x-content-type-options': 'nosniff' } as const;

/** The master's answer headers with its `Location` leading through the gateway (`locationThroughGateway`); left out when the request names no host to build that from. */
function withGatewayLocation(headers: Record<string, string>, event: HttpEvent): Record<string, string> {
  const location = headers.location;
  if (location === undefined) return headers;
  const { location: _, ...others } = headers;
  try {
    return { ...others, location: locationThroughGateway(location, masterUrl, `${requestBaseUrl(event)}${REST_PREFIX}`) };
  } catch {
    return others;
  }
}

export const handler = httpHandler(async (event: HttpEvent): Promise<HttpResult> => {
  const arrived = Date.now();
  const sourceIp = event.requestContext.http.sourceIp;
  if (!allowed.allows(sourceIp)) {
    logger.warn('geoserver gateway call refused: source address not allowed', { sourceIp, method: event.requestContext.http.method });
    throw new SourceNotAllowedError(sourceIp);
  }
  // A method the gateway never forwards (PATCH) is 405 whatever else holds: not a 409 saying a
  // resume or a finished resync would let it through.
  assertGatewayMethod(event.requestContext.http.method);
  const raw = event.body ?? '';
  // Counted as Lambda received it (base64 for binary bodies): that is what its limit applies to.
  const carried = event.isBase64Encoded ? raw.length : Buffer.byteLength(raw, 'utf8');
  if (carried > MAX_REQUEST_BODY_BYTES) throw new GatewayBodyTooLargeError(carried);
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const rawPath = event.rawPath;
  const path = rawPath.startsWith(`${REST_PREFIX}/`) ? rawPath.slice(REST_PREFIX.length) : '/';
  const method = event.requestContext.http.method;
  logger.appendKeys({ node: master.name });
  // A paused master publishes nothing, and a resync holding the master leaves its store half-copied
  // (GatewayWriteHeldByResyncError): its writes, uploads included, are refused before they reach
  // its GeoServer, which would otherwise change without the cluster following. A write to a
  // replicated path, or an upload into a store, reads the hold again once it holds the write
  // lease, under which a resync takes it (`refusal`): one taken while this write waited for the
  // lease is found there.
  const refusal = () => gatewayWriteRefusal({ store: deps.store, jobs }, master.name, new Date());
  if (!READS.has(method)) {
    const [, refused] = await Promise.all([assertNotPaused(pauses, master.name), refusal()]);
    if (refused) throw refused;
  }
  try {
    const answer = await handleGatewayCall(
      upstream,
      publisher,
      { method, path, query: event.rawQueryString ?? '', headers: event.headers as Record<string, string>, body },
      { writes, callers, deadline: arrived + REQUEST_BUDGET_MS, publishReserveMs: PUBLISH_RESERVE_MS, styleUsers, catalog, recovery, clusterNodes, clusterOperators, captureUpload, refusal, readBack },
    );
    const log = {
      method,
      path,
      status: answer.status,
      replication: answer.replication,
      ...(answer.category ? { category: answer.category } : {}),
      ...(answer.sequences.length ? { sequences: answer.sequences } : {}),
      ...(answer.error ? { error: answer.error } : {}),
      ...(answer.notReplicated ? { notReplicated: answer.notReplicated } : {}),
      ...(answer.warning ? { warning: answer.warning } : {}),
      ...(answer.recovered ? { recovered: answer.recovered } : {}),
      ...(answer.capture ? { capture: answer.capture } : {}),
    };
    if (answer.recovered?.refused) {
      logger.error('gateway: writes an earlier holder left unpublished hold what the cluster refuses; given up, the master differs from the other nodes there', {
        refused: answer.recovered.refused,
      });
    }
    if (answer.replication === 'publish-failed') logger.error('geoserver gateway call', log);
    else if (answer.notReplicated || answer.warning) logger.warn('geoserver gateway call', log);
    else logger.info('geoserver gateway call', log);
    // Checked after publishing: what the master applied is published whatever it answered.
    if (answer.body.length > MAX_RESPONSE_BODY_BYTES) throw new MasterAnswerTooLargeError(answer.body.length, method.toUpperCase(), answer);
    return {
      statusCode: answer.status,
      headers: { ...withGatewayLocation(answer.headers, event), ...CONFINED },
      body: answer.body.toString('base64'),
      isBase64Encoded: true,
    };
  } catch (error) {
    if (error instanceof GatewayBusyError) {
      logger.warn('geoserver gateway write refused: write lease busy', { method, path, waitedMs: error.waitedMs });
      return errorResponse(error);
    }
    // Over what the gateway reads of any answer (the caller's, or a write's read of its object):
    // the master answered, too much, which is not a master out of reach.
    if (error instanceof UpstreamAnswerTooLargeError) {
      logger.error('geoserver gateway call failed: the master answered more than the gateway reads', { method, path, error: error.message });
      throw new MasterAnswerTooLargeError({ method: error.method, path: error.path, ...(error.bytes === undefined ? {} : { bytes: error.bytes }) }, method.toUpperCase());
    }
    if (error instanceof UpstreamUnavailableError) {
      logger.error('geoserver gateway call failed', { method, path, error: error.message, ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }) });
      throw error.timedOut ? new MasterTimeoutError(error.message, method.toUpperCase(), master.name) : new AppError(502, 'GEOSERVER_UNAVAILABLE', error.message);
    }
    throw error;
  }
});
