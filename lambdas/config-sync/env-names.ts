/**
 * Config sync's environment variable names, apart from its manifest: the functions read them,
 * and the manifest (which also carries the API schemas, lambdas/config-sync/api.ts) is for the
 * CDK side and the OpenAPI document, so no function bundles those schemas for a name.
 */

/** Environment variable names, shared by the construct (which sets them) and adapters/from-env.ts (which reads them). */
export const CONFIG_SYNC_ENV = {
  clusterName: 'CLUSTER_NAME',
  /** JSON object node name -> role. */
  clusterNodes: 'CLUSTER_NODES',
  eventLogTable: 'EVENT_LOG_TABLE_NAME',
  nodeStoreTable: 'NODE_STORE_TABLE_NAME',
  topicArn: 'CONFIG_TOPIC_ARN',
  bodyBucket: 'EVENT_BODY_BUCKET_NAME',
  /**
   * What every SQS queue URL of the account and region starts with
   * (`https://sqs.<region>.<suffix>/<account>/`): a node's queue URLs are this prefix and its
   * queue names (nodeQueueNames in lambdas/shared/cluster-model.ts).
   */
  queueUrlPrefix: 'QUEUE_URL_PREFIX',
  /** The node whose queue an apply function consumes. */
  nodeName: 'NODE_NAME',
  /**
   * JSON object node -> GeoServer URL of the nodes that have one (`{}` when none). CDK does not
   * set it: it bundles the same JSON as GEOSERVER_NODES_FILE beside the functions that read it
   * (with 30 nodes' URLs it alone passes Lambda's 4 KB environment); tests running a handler
   * from source set it. An apply function of such a node gets `GEOSERVER_URL` and
   * `GEOSERVER_CREDENTIALS_SECRET`, only when its node has a GeoServer (see adapters/from-env.ts).
   */
  geoserverNodes: 'GEOSERVER_NODES',
  /** An apply function's own GeoServer (cluster.nodes[].geoserver.url); unset: the node has none. */
  geoserverUrl: 'GEOSERVER_URL',
  /** The Secrets Manager name or ARN of that GeoServer's credentials (never the credentials). */
  geoserverCredentialsSecret: 'GEOSERVER_CREDENTIALS_SECRET',
  /** The REST gateway's master node and its GeoServer's URL (cluster.gateway). */
  gatewayMasterNode: 'GATEWAY_MASTER_NODE',
  gatewayGeoserverUrl: 'GATEWAY_GEOSERVER_URL',
  /** JSON array of the addresses and CIDR blocks that may call the gateway; unset: any. */
  gatewayAllowedSourceIps: 'GATEWAY_ALLOWED_SOURCE_IPS',
  /** JSON array of the cluster's read-only operators' names (cluster.operators): the gateway refuses their tokens. */
  clusterOperators: 'CLUSTER_OPERATORS',
  /** The consuming nodes' apply functions' SQS event source mapping UUIDs (pause and resume), as node-event-sources.ts writes them. */
  nodeEventSources: 'NODE_EVENT_SOURCES',
} as const;
export type ConfigSyncEnv = (typeof CONFIG_SYNC_ENV)[keyof typeof CONFIG_SYNC_ENV];

/**
 * The file beside a function's bundle holding what GEOSERVER_NODES would (node -> GeoServer URL),
 * written at synth by the config-sync construct for the functions that declare it, and read once
 * at cold start from local disk (no network call).
 */
export const GEOSERVER_NODES_FILE = 'geoserver-nodes.json';

/** Variables the local runtime sets (local/) and CDK never does; the functions read them when set. */
export const CONFIG_SYNC_LOCAL_ENV = {
  /**
   * A GeoServer's credentials themselves (`user:password` or `{"username","password"}`), in
   * place of the secret where there is no Secrets Manager.
   */
  geoserverCredentials: 'GEOSERVER_CREDENTIALS',
  /** `true` where the S3 endpoint serves path-style requests only (the emulator). */
  s3ForcePathStyle: 'AWS_S3_FORCE_PATH_STYLE',
  /** The SDK's own endpoint overrides (the SDK reads them too): the SQS client must know of them. */
  sqsEndpoint: 'AWS_ENDPOINT_URL_SQS',
  awsEndpoint: 'AWS_ENDPOINT_URL',
  /**
   * The first wait, in seconds, of an apply function's retry backoff (a GeoServer that cannot
   * take changes, a failed job slice) in place of BACKOFF_BASE_SECONDS (10 s); it still doubles
   * per delivery up to the cap. Only the integration scenarios set it (low), to see a GeoServer
   * recover without waiting out 10 s, 20 s, 40 s; the handler test keeps the default.
   */
  retryBackoffBaseSeconds: 'LOCAL_RETRY_BACKOFF_BASE_SECONDS',
} as const;

/**
 * Of CONFIG_SYNC_LOCAL_ENV, the variables the local runtime passes from its own environment to
 * every function when set (`npm start` never sets them): test tuning of the local runtime.
 */
export const CONFIG_SYNC_LOCAL_PASSTHROUGH_ENV: readonly string[] = [CONFIG_SYNC_LOCAL_ENV.retryBackoffBaseSeconds];
