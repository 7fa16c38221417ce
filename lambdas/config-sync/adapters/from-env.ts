/**
 * The composition root of the config-sync functions: cluster membership and adapters,
 * configured from the environment and validated at cold start. Each handler asks only for
 * what it uses, so a function never needs (or is granted) more than that.
 *
 * Environment:
 * - `CLUSTER_NAME`; `CLUSTER_NODES`: JSON object node name -> role (`master`, `slave`, `both`)
 * - `EVENT_LOG_TABLE_NAME`, `NODE_STORE_TABLE_NAME`
 * - `CONFIG_TOPIC_ARN` (SNS FIFO topic)
 * - `EVENT_BODY_BUCKET_NAME` (large event bodies and object properties)
 * - `QUEUE_URL_PREFIX`: `https://sqs.<region>.<suffix>/<account>/`, to which a consuming node's queue names are added
 * - `NODE_NAME`: the node whose queue an apply function consumes
 * - `GEOSERVER_NODES`: JSON node -> GeoServer URL, for GET /nodes; CDK bundles it as a file
 *   beside the function instead (GEOSERVER_NODES_FILE), which is read when the variable is unset
 *   and must be there when `AWS_LAMBDA_FUNCTION_NAME` is set (in Lambda, or the local runtime)
 * - `GEOSERVER_URL`, `GEOSERVER_CREDENTIALS_SECRET` (Secrets Manager name or ARN): the apply
 *   function's own GeoServer, when its node has one. `GEOSERVER_CREDENTIALS`
 *   (`user:password` or `{"username","password"}`) replaces the secret where there is no
 *   Secrets Manager: the local runtime sets it, CDK never does.
 * - `NODE_EVENT_SOURCES`: each consuming node's apply function's SQS event source mapping UUID
 *   (../node-event-sources.ts; read by ./pause-from-env.ts)
 * - Locally: `AWS_ENDPOINT_URL_<SERVICE>` (read by the SDK itself) and `AWS_S3_FORCE_PATH_STYLE=true`
 * Names are CONFIG_SYNC_ENV's (what CDK sets) and CONFIG_SYNC_LOCAL_ENV's (what only local/ sets).
 *
 * Each SDK client is created once per function, on first use, with the SDK's default (standard)
 * retry strategy. The SNS and SQS modules come from the handler (deferred-sdk.ts): imported when
 * every invocation sends with the client, created at cold start; their loader when few do.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { boolEnv, envJson, optionalEnv, requireEnv } from '../../shared/env';
import { logger } from '../../shared/observability';
import type { ApplyDeps } from '../apply';
import { CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE } from '../../shared/cluster-names';
import { nodeQueueNames, nodesFromRolesJson, type ClusterNode } from '../../shared/cluster-nodes';
import { consumingNodes, findNode, type ClusterMembership } from '../cluster';
import { CONFIG_SYNC_ENV, CONFIG_SYNC_LOCAL_ENV, GEOSERVER_NODES_FILE } from '../env-names';
import { SdkClient, type SdkSource, type SnsSdk, type Sns, type SqsSdk, type Sqs } from './deferred-sdk';
import { DynamoEventLog } from './dynamo-event-log';
import { DynamoGatewayLease } from './dynamo-gateway-lease';
import { DynamoGeoServerStatusStore } from './dynamo-geoserver-status';
import { DynamoJobStore } from './dynamo-jobs';
import { CachedCredentials, HttpGeoServer, parseCredentials, type GeoServerCredentials } from './geoserver-http';
import { secretsManagerCredentials } from './secrets-manager-credentials';
import type { NodePauses, SwitchLease } from '../pause';
import { DynamoNodePauses, DynamoSwitchLease } from './dynamo-node-pauses';
import { DynamoNodeStore } from './dynamo-node-store';
import { S3Bucket, S3EventBodyStore, S3ObjectBodies } from './s3-body-store';
import { SnsEventTopic } from './sns-event-topic';
import { withoutSdkLogging } from '../../shared/sdk-client';
import type { Warn } from '../../shared/warn';
import { SqsCatchUpNudges, SqsDeadLetters, SqsQueueDepths, SqsRedrive, type NodeQueueMap, type QueuePair } from './sqs-queues';

/**
 * The cluster's name and declared nodes (`CLUSTER_NAME`, `CLUSTER_NODES`), checked by the cluster
 * model's rules. Checked without zod: every config-sync function reads them at cold start, where
 * a zod parse cost about 1.5 ms of PublishEvent's import (an ad hoc A/B of fresh processes;
 * docs/architecture.md, "Cold-import budget, with the official SDK clients", has where the
 * rest goes), and CDK has already checked the same facts against the cluster file's schema at
 * synth; this guards against an environment edited by hand.
 */
export function membershipFromEnv(): ClusterMembership {
  const cluster = requireEnv(CONFIG_SYNC_ENV.clusterName);
  if (!CLUSTER_NAME_PATTERN.test(cluster)) throw new Error(`Environment variable ${CONFIG_SYNC_ENV.clusterName} ${CLUSTER_NAME_RULE}, got '${cluster}'`);
  return { cluster, nodes: nodesFromRolesJson(CONFIG_SYNC_ENV.clusterNodes, requireEnv(CONFIG_SYNC_ENV.clusterNodes)) };
}

/** `NODE_NAME`, which must be a declared node. */
export function ownNodeFromEnv(membership: ClusterMembership): ClusterNode {
  const name = requireEnv(CONFIG_SYNC_ENV.nodeName);
  try {
    return findNode(membership, name);
  } catch {
    throw new Error(`Environment variable NODE_NAME names ${name}, which CLUSTER_NODES does not declare`);
  }
}

let dynamo: DynamoDBClient | undefined;

export function dynamoClient(): DynamoDBClient {
  dynamo ??= withoutSdkLogging(new DynamoDBClient({}));
  return dynamo;
}

let bucket: S3Bucket | undefined;

function bodyBucket(): S3Bucket {
  // The local emulator serves path-style requests only; AWS takes both.
  const forcePathStyle = boolEnv(CONFIG_SYNC_LOCAL_ENV.s3ForcePathStyle, false);
  bucket ??= new S3Bucket((sdk) => withoutSdkLogging(new sdk.S3Client({ forcePathStyle })), requireEnv(CONFIG_SYNC_ENV.bodyBucket));
  return bucket;
}

/**
 * The SQS client. By default the SDK sends each request to its queue URL's host
 * (`useQueueUrlAsEndpoint`), even when `AWS_ENDPOINT_URL_SQS` is set; the local emulator's
 * queue URLs name a host that does not resolve, so with an endpoint override the queue URL
 * only names the queue.
 */
export function sqsFromEnv(source: SdkSource<SqsSdk>): Sqs {
  const useQueueUrlAsEndpoint = !(optionalEnv(CONFIG_SYNC_LOCAL_ENV.sqsEndpoint) ?? optionalEnv(CONFIG_SYNC_LOCAL_ENV.awsEndpoint));
  return new SdkClient<SqsSdk, SQSClient>(source, (sdk) => withoutSdkLogging(new sdk.SQSClient({ useQueueUrlAsEndpoint })));
}

/**
 * `pausesInLog`: the log checks a publisher's pause (in the node store) inside its append.
 * `warn`: where it reports a hole it closed (default: the module's logger).
 */
export function eventLogFromEnv(options: { pausesInLog?: boolean; warn?: Warn } = {}): DynamoEventLog {
  return new DynamoEventLog({
    tableName: requireEnv(CONFIG_SYNC_ENV.eventLogTable),
    client: dynamoClient(),
    ...(options.pausesInLog ? { pausesTableName: requireEnv(CONFIG_SYNC_ENV.nodeStoreTable) } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  });
}

/** The cluster's gateway write lease, an item of the event log table. */
export function gatewayLeaseFromEnv(cluster: string): DynamoGatewayLease {
  return new DynamoGatewayLease(dynamoClient(), requireEnv(CONFIG_SYNC_ENV.eventLogTable), cluster);
}

/**
 * `warn`: where it reports a superseded body it could not delete (default: the module's logger).
 * `checksLog`: its commits can check an item of the event log (`StoreCommit.logCheck`), which
 * needs `dynamodb:ConditionCheckItem` on the log table.
 */
export function nodeStoreFromEnv(options: { warn?: Warn; checksLog?: boolean } = {}): DynamoNodeStore {
  return new DynamoNodeStore({
    tableName: requireEnv(CONFIG_SYNC_ENV.nodeStoreTable),
    client: dynamoClient(),
    bodies: new S3ObjectBodies(bodyBucket()),
    ...(options.warn ? { warn: options.warn } : {}),
    ...(options.checksLog ? { logTableName: requireEnv(CONFIG_SYNC_ENV.eventLogTable) } : {}),
  });
}

/** Each node's pause, in the node store (`NODE_STORE_TABLE_NAME`). */
export function nodePausesFromEnv(): NodePauses {
  return new DynamoNodePauses(requireEnv(CONFIG_SYNC_ENV.nodeStoreTable), dynamoClient());
}

/** The lease that runs one pause or resume of a node at a time (pause.ts). */
export function switchLeaseFromEnv(): SwitchLease {
  return new DynamoSwitchLease(requireEnv(CONFIG_SYNC_ENV.nodeStoreTable), dynamoClient());
}

export function eventBodiesFromEnv(): S3EventBodyStore {
  return new S3EventBodyStore(bodyBucket());
}

/**
 * What applying events to a store needs: the store, the log, the event bodies. `checksLog`: as
 * `nodeStoreFromEnv`'s (a queue consumer's, which checks delivered copies in its commits). `warn`: where
 * they all report (default: the module's logger; a module bundled on its own, job-slices.ts,
 * passes the function's, whose lines carry the node and the invocation's request id).
 */
export function applyDepsFromEnv(options: { pausesInLog?: boolean; checksLog?: boolean; warn?: Warn } = {}): ApplyDeps {
  const warn: Warn = options.warn ?? ((message, fields) => logger.warn(message, fields));
  const { checksLog, ...logOptions } = options;
  return {
    store: nodeStoreFromEnv({ warn, ...(checksLog ? { checksLog } : {}) }),
    log: eventLogFromEnv({ ...logOptions, warn }),
    bodies: eventBodiesFromEnv(),
    warn,
  };
}

export function eventTopicFromEnv(source: SdkSource<SnsSdk>): SnsEventTopic {
  const sns: Sns = new SdkClient<SnsSdk, SNSClient>(source, (sdk) => withoutSdkLogging(new sdk.SNSClient({})));
  return new SnsEventTopic(sns, requireEnv(CONFIG_SYNC_ENV.topicArn));
}

/** `QUEUE_URL_PREFIX`, to which the cluster model's queue names are added. */
function queueUrlPrefix(): string {
  const prefix = requireEnv(CONFIG_SYNC_ENV.queueUrlPrefix);
  if (!URL.canParse(prefix) || !prefix.endsWith('/')) {
    throw new Error(`Environment variable ${CONFIG_SYNC_ENV.queueUrlPrefix} must be a URL ending in '/', got '${prefix}'`);
  }
  return prefix;
}

function queuePair(prefix: string, cluster: string, node: string): QueuePair {
  const names = nodeQueueNames(cluster, node);
  return { queueUrl: `${prefix}${names.queue}`, deadLetterQueueUrl: `${prefix}${names.deadLetterQueue}` };
}

/** Every consuming node's queue and dead-letter queue URLs. */
export function nodeQueuesFromEnv(membership: ClusterMembership): NodeQueueMap {
  const prefix = queueUrlPrefix();
  return Object.fromEntries(consumingNodes(membership).map((node) => [node.name, queuePair(prefix, membership.cluster, node.name)]));
}

/** One node's queue and dead-letter queue URLs (an apply function's own). */
export function nodeQueuePairFromEnv(cluster: string, node: string): QueuePair {
  return queuePair(queueUrlPrefix(), cluster, node);
}

export function queueDepthsFromEnv(membership: ClusterMembership, sqs: Sqs): SqsQueueDepths {
  return new SqsQueueDepths(nodeQueuesFromEnv(membership), sqs);
}

/** The lag measure's catch-up nudges of the consuming nodes (../catch-up-nudge.ts). */
export function catchUpNudgesFromEnv(membership: ClusterMembership, sqs: Sqs): SqsCatchUpNudges {
  return new SqsCatchUpNudges(nodeQueuesFromEnv(membership), sqs);
}

export function redriveFromEnv(membership: ClusterMembership, sqs: Sqs): SqsRedrive {
  return new SqsRedrive(nodeQueuesFromEnv(membership), sqs);
}

export function deadLettersFromEnv(membership: ClusterMembership, sqs: Sqs): SqsDeadLetters {
  return new SqsDeadLetters(nodeQueuesFromEnv(membership), sqs);
}

/** The node's GeoServer (`GEOSERVER_URL`), or undefined when the node has none. */
export function geoServerFromEnv(): HttpGeoServer | undefined {
  const url = optionalEnv(CONFIG_SYNC_ENV.geoserverUrl);
  if (url === undefined) return undefined;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new Error(`Environment variable GEOSERVER_URL must be an http(s) URL, got '${url}'`);
  }
  return new HttpGeoServer({ url, credentials: geoServerCredentialsFromEnv() });
}

/**
 * A GeoServer node's own credentials, cached per instance (`CachedCredentials`): its secret
 * (`GEOSERVER_CREDENTIALS_SECRET`, read from Secrets Manager when first needed), or, in the local
 * runtime, `GEOSERVER_CREDENTIALS` itself.
 */
export function geoServerCredentialsFromEnv(): CachedCredentials {
  const inline = optionalEnv(CONFIG_SYNC_LOCAL_ENV.geoserverCredentials);
  let load: () => Promise<GeoServerCredentials>;
  if (inline !== undefined) {
    const credentials = parseCredentials(inline, 'Environment variable GEOSERVER_CREDENTIALS');
    load = async () => credentials;
  } else {
    load = secretsManagerCredentials(requireEnv(CONFIG_SYNC_ENV.geoserverCredentialsSecret));
  }
  return new CachedCredentials(load);
}

/**
 * JSON node -> GeoServer URL of the nodes that have one: `GEOSERVER_NODES` when set, else the
 * file CDK bundles beside the function (GEOSERVER_NODES_FILE; `dir` is the bundle's folder), read
 * from local disk once at cold start. Neither means none only outside Lambda (a handler run from
 * source); in Lambda (and the local runtime, which runs the same bundles) CDK always bundles the
 * file beside a function that declares it, so its absence is a broken bundle and fails the cold
 * start: read as none, PublishEvent would take direct publishes from GeoServer nodes, which must
 * publish through the gateway. Checked by hand rather than with a schema:
 * PublishEvent reads it at every cold start, where a zod parse of it cost about 0.05 of the
 * cold-import ratio (bench, ad hoc A/B of 31 runs).
 */
export function geoServerNodesFromEnv(membership: ClusterMembership, dir: string = __dirname): Readonly<Record<string, string>> {
  const env = optionalEnv(CONFIG_SYNC_ENV.geoserverNodes);
  const file = path.join(dir, GEOSERVER_NODES_FILE);
  const source = env !== undefined ? `Environment variable ${CONFIG_SYNC_ENV.geoserverNodes}` : `The bundled file ${GEOSERVER_NODES_FILE}`;
  const raw = env ?? (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
  if (raw === undefined) {
    // Set by Lambda, and by the local runtime for the bundles it runs (local/lambda-runner.ts).
    const lambda = optionalEnv('AWS_LAMBDA_FUNCTION_NAME');
    if (lambda === undefined) return {};
    throw new Error(
      `Function ${lambda} has no ${GEOSERVER_NODES_FILE} beside its handler (${file}) and ${CONFIG_SYNC_ENV.geoserverNodes} is unset: ` +
        'its bundle is broken (CDK bundles the file with every function whose manifest entry lists it in bundledFiles), ' +
        'so which nodes have a GeoServer is unknown',
    );
  }
  const nodes = nodeMapEnv(CONFIG_SYNC_ENV.geoserverNodes, raw, 'GeoServer URLs', source);
  for (const name of Object.keys(nodes)) {
    if (!membership.nodes.some((node) => node.name === name)) {
      throw new Error(`${source} names ${name}, which CLUSTER_NODES does not declare`);
    }
  }
  return nodes;
}

/**
 * An environment variable holding a JSON object of node names to strings (`GEOSERVER_NODES`),
 * checked by hand at cold start, as `membershipFromEnv` is. `values`
 * names what the strings are, and `source` where the text came from, for the error.
 */
export function nodeMapEnv(name: string, raw: string, values: string, source = `Environment variable ${name}`): Readonly<Record<string, string>> {
  const map = envJson(raw);
  if (typeof map !== 'object' || map === null || Array.isArray(map) || Object.values(map).some((value) => typeof value !== 'string')) {
    throw new Error(`${source} must be a JSON object of node names to ${values}, got '${raw}'`);
  }
  return map as Readonly<Record<string, string>>;
}

export function jobStoreFromEnv(): DynamoJobStore {
  return new DynamoJobStore(requireEnv(CONFIG_SYNC_ENV.nodeStoreTable), dynamoClient());
}

export function geoServerStatusFromEnv(): DynamoGeoServerStatusStore {
  return new DynamoGeoServerStatusStore(requireEnv(CONFIG_SYNC_ENV.nodeStoreTable), dynamoClient());
}

