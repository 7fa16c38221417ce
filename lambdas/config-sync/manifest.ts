/**
 * Configuration sync, declared once: each function's handler, routes, schedule, queue, the
 * environment it reads and the IAM actions it needs. The CDK construct
 * (cdk/constructs/config-sync-service.ts) builds exactly this, one apply function per
 * consuming node; the OpenAPI document (api/openapi.ts) takes every operation from it.
 */
import type { ServiceManifest } from '../shared/manifest';
import { CONFIG_SYNC_API as API, GATEWAY_API } from './api';
import { CONFIG_SYNC_ENV, GEOSERVER_NODES_FILE, type ConfigSyncEnv } from './env-names';

export { CONFIG_SYNC_ENV, type ConfigSyncEnv };

/**
 * - `eventLog`, `nodeStore`: the tables (lambdas/config-sync/tables.ts); node store grants with a
 *   scope are limited to those nodes' partitions (`dynamodb:LeadingKeys`).
 * - `clusterLog`: the event log, the cluster's own log partition only (`dynamodb:LeadingKeys`):
 *   its events and head item, never the table's other partitions (the gateway's write lease,
 *   Idempotency-Key claims). `publishLog`: that partition and the Idempotency-Key claims'
 *   (`<cluster>#idempotency#*#*`), what POST /config/events writes.
 * - `eventLogVoids`: the event log, for items of the void attributes only (`dynamodb:Attributes`)
 *   in the cluster's own log partition (`dynamodb:LeadingKeys`): a reader closing a hole
 *   (`EventLog.closeHoles`) may write voids, never an event, the gateway's lease or a claim.
 * - `eventBodies`: `events/<cluster>/*` of the bodies bucket; `objectBodies`: `objects/<node>/*`
 *   of the scoped nodes, `objects/*` for `allNodes`.
 * - `topic`; `queues`, `deadLetterQueues`: every consuming node's (named by nodeQueueNames), or the
 *   scoped nodes' that consume.
 * - `eventSourceMappings`: the SQS event source mappings of every consuming node's apply function.
 */
export type ConfigSyncResource =
  | 'eventLog'
  | 'clusterLog'
  | 'publishLog'
  | 'eventLogVoids'
  | 'nodeStore'
  | 'eventBodies'
  | 'objectBodies'
  | 'topic'
  | 'queues'
  | 'deadLetterQueues'
  | 'eventSourceMappings';
/**
 * Which nodes' partitions, prefixes or queues: the apply function's own node, the publishers
 * without a GeoServer (those POST /config/events publishes for), the pure masters, the consuming
 * nodes that declare a GeoServer (GEOSERVER_NODES_FILE), every other node (whose store the cluster's
 * functions bring up to date themselves, with no GeoServer's apply function), all.
 */
export type ConfigSyncScope = 'ownNode' | 'publishers' | 'pureMasters' | 'geoserverNodes' | 'nodesWithoutGeoServer' | 'allNodes';
/** `republishSchedule` (also the gateway's sweep) and `lagSchedule` (the lag alarms' period): both every minute. */
export type ConfigSyncSchedule = 'republishSchedule' | 'lagSchedule';

const ddb = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`);
const s3 = (...actions: string[]) => actions.map((action) => `s3:${action}`);
const COMMON: readonly ConfigSyncEnv[] = [
  CONFIG_SYNC_ENV.clusterName,
  CONFIG_SYNC_ENV.clusterNodes,
  CONFIG_SYNC_ENV.eventLogTable,
  CONFIG_SYNC_ENV.nodeStoreTable,
  CONFIG_SYNC_ENV.topicArn,
  CONFIG_SYNC_ENV.bodyBucket,
];
/** The functions that act on consuming nodes' queues (depths, redrives, job slices). */
const WITH_QUEUES: readonly ConfigSyncEnv[] = [...COMMON, CONFIG_SYNC_ENV.queueUrlPrefix];
// ConditionCheckItem: a commit of an object written unread checks that the object has no
// parking record (apply.ts, `writableUnread`).
const STORE_WRITE = ddb('GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem');
const BODY_WRITE = s3('GetObject', 'PutObject', 'DeleteObject');

// Least privilege, spelled out per function: exactly the calls its handler makes.
export const CONFIG_SYNC_MANIFEST = {
  /** One per consuming node, on that node's queue. */
  Apply: {
    entry: 'config-sync/handlers/apply-events.ts',
    environment: [...WITH_QUEUES, CONFIG_SYNC_ENV.nodeName],
    grants: [
      // ConditionCheckItem: a delivery to a node keeping up is committed on condition that the
      // log's item carries its digest (apply.ts, `checkInCommit`), instead of reading the item.
      { on: 'eventLog', actions: ddb('GetItem', 'Query', 'ConditionCheckItem') },
      { on: 'eventLogVoids', actions: ddb('PutItem') },
      // ConditionCheckItem (in STORE_WRITE) also checks its node's own pause item in a capture's
      // log append (the append and the topic: the gateway's grants, which the construct adds for a
      // publishing node with a GeoServer).
      { on: 'nodeStore', actions: STORE_WRITE, scope: 'ownNode' },
      // Its jobs (jobs.ts): their differences (Query, DeleteItem), and a resync replacing its store.
      { on: 'nodeStore', actions: ddb('Query', 'DeleteItem'), scope: 'ownNode' },
      // A resync job reads its source's store: any node's, read only (its cursor, its objects
      // page by page, and which of the node's own objects it holds).
      { on: 'nodeStore', actions: ddb('GetItem', 'BatchGetItem', 'Query'), scope: 'allNodes' },
      { on: 'eventBodies', actions: s3('GetObject') },
      { on: 'objectBodies', actions: BODY_WRITE, scope: 'ownNode' },
      { on: 'objectBodies', actions: s3('GetObject'), scope: 'allNodes' },
      // A message that is no event of the cluster is set aside in its own dead-letter queue at once.
      { on: 'deadLetterQueues', actions: ['sqs:SendMessage'], scope: 'ownNode' },
    ],
    queueConsumer: true,
  },
  PublishEvent: {
    entry: 'config-sync/handlers/publish-event.ts',
    // GEOSERVER_NODES_FILE: a node with a GeoServer publishes through the gateway only.
    environment: COMMON,
    bundledFiles: [GEOSERVER_NODES_FILE],
    grants: [
      { on: 'eventLog', actions: ddb('GetItem', 'Query') },
      // Its events, the head, and its callers' Idempotency-Key claims: never the gateway's write lease.
      { on: 'publishLog', actions: ddb('PutItem', 'UpdateItem') },
      // ConditionCheckItem (in STORE_WRITE) also checks the publisher's pause item in the log append's transaction.
      { on: 'nodeStore', actions: STORE_WRITE, scope: 'publishers' },
      { on: 'topic', actions: ['sns:Publish'] },
      // DeleteObject: a body stored for a log append that then stored nothing (publish.ts).
      { on: 'eventBodies', actions: s3('GetObject', 'PutObject', 'DeleteObject') },
      { on: 'objectBodies', actions: BODY_WRITE, scope: 'publishers' },
    ],
    routes: [{ method: 'POST', path: '/config/events', access: 'node', api: API.publishConfigEvent }],
  },
  /** A bounded page of event summaries (head, then the range); nodes and operators. */
  ListEvents: {
    entry: 'config-sync/handlers/list-events.ts',
    environment: COMMON,
    grants: [{ on: 'eventLog', actions: ddb('GetItem', 'Query') }],
    routes: [{ method: 'GET', path: '/config/events', access: 'node', api: API.listConfigEvents }],
  },
  ListNodes: {
    entry: 'config-sync/handlers/list-nodes.ts',
    environment: WITH_QUEUES,
    bundledFiles: [GEOSERVER_NODES_FILE],
    grants: [
      // Query: the last event, when a node is behind the head (lag.ts).
      { on: 'eventLog', actions: ddb('GetItem', 'Query') },
      // Query: the node's parking records.
      { on: 'nodeStore', actions: ddb('GetItem', 'Query') },
      { on: 'queues', actions: ['sqs:GetQueueAttributes'] },
      { on: 'deadLetterQueues', actions: ['sqs:GetQueueAttributes'] },
    ],
    routes: [{ method: 'GET', path: '/nodes', access: 'node', api: API.listNodes }],
  },
  GetCatalog: {
    entry: 'config-sync/handlers/get-catalog.ts',
    environment: COMMON,
    grants: [
      // BatchGetItem: what the page's objects live in (liveness.ts).
      { on: 'nodeStore', actions: ddb('GetItem', 'BatchGetItem', 'Query') },
      { on: 'objectBodies', actions: s3('GetObject'), scope: 'allNodes' },
    ],
    routes: [{ method: 'GET', path: '/nodes/{node}/catalog', access: 'node', api: API.getNodeCatalog }],
  },
  GetCatalogObject: {
    entry: 'config-sync/handlers/get-catalog-object.ts',
    environment: COMMON,
    grants: [
      { on: 'nodeStore', actions: ddb('GetItem', 'BatchGetItem') },
      { on: 'objectBodies', actions: s3('GetObject'), scope: 'allNodes' },
    ],
    routes: [{ method: 'GET', path: '/nodes/{node}/catalog/{type}/{id}', access: 'node', api: API.getNodeCatalogObject }],
  },
  ResyncNode: {
    entry: 'config-sync/handlers/resync-node.ts',
    environment: WITH_QUEUES,
    // A consuming node's resync is a job its apply function runs (queued here); a pure master,
    // which has no queue, is resynced within the request.
    // So it rewrites only pure masters' stores and object bodies; for any other node it reads
    // (a source's snapshot) and starts the job (the node's job lock and job items).
    // ConditionCheckItem: a pure master's catch-up after its copy commits lone events unread; a
    // cancel (job-cancel.ts) checks any node's job lock or resync hold in its transaction.
    // It serves POST /nodes/{node}/jobs/{id}/cancel too, with these grants: the job lock, job
    // items and cursor item (a resync's hold) of any node, and the queue of the capture that waited.
    grants: [
      { on: 'eventLog', actions: ddb('GetItem', 'Query') },
      { on: 'eventLogVoids', actions: ddb('PutItem') },
      { on: 'nodeStore', actions: ddb('GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'ConditionCheckItem'), scope: 'allNodes' },
      { on: 'nodeStore', actions: ddb('DeleteItem'), scope: 'pureMasters' },
      { on: 'eventBodies', actions: s3('GetObject') },
      { on: 'objectBodies', actions: s3('GetObject'), scope: 'allNodes' },
      { on: 'objectBodies', actions: BODY_WRITE, scope: 'pureMasters' },
      { on: 'queues', actions: ['sqs:SendMessage'] },
    ],
    routes: [
      { method: 'POST', path: '/nodes/{node}/resync', access: 'node', api: API.resyncNode },
      { method: 'POST', path: '/nodes/{node}/jobs/{id}/cancel', access: 'node', api: API.cancelNodeJob },
    ],
  },
  RedriveNode: {
    entry: 'config-sync/handlers/redrive-node.ts',
    environment: WITH_QUEUES,
    bundledFiles: [GEOSERVER_NODES_FILE],
    grants: [
      // Retrying parked events: read them from the log, apply them to the node's store. Only for
      // a node without a GeoServer: a GeoServer node's apply function retries its own (the
      // redrive queues it a retry request), so of its store the redrive only lists the parked.
      { on: 'eventLog', actions: ddb('GetItem', 'Query') },
      { on: 'eventLogVoids', actions: ddb('PutItem') },
      { on: 'nodeStore', actions: ddb('GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'), scope: 'nodesWithoutGeoServer' },
      { on: 'nodeStore', actions: ddb('Query'), scope: 'geoserverNodes' },
      { on: 'eventBodies', actions: s3('GetObject') },
      { on: 'objectBodies', actions: BODY_WRITE, scope: 'nodesWithoutGeoServer' },
      { on: 'deadLetterQueues', actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'] },
      { on: 'queues', actions: ['sqs:SendMessage'] },
    ],
    routes: [{ method: 'POST', path: '/nodes/{node}/redrive', access: 'node', api: API.redriveNode }],
  },
  /**
   * A node's dead-letter messages, read without consuming them: received, held for the request and
   * made visible again (ChangeMessageVisibility). Operators may list. Dead-letter queues only.
   */
  ListDeadLetters: {
    entry: 'config-sync/handlers/list-dead-letters.ts',
    environment: WITH_QUEUES,
    grants: [{ on: 'deadLetterQueues', actions: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility'] }],
    routes: [{ method: 'GET', path: '/nodes/{node}/dead-letters', access: 'node', api: API.listNodeDeadLetters }],
  },
  /** Deletes the named set-aside messages of a node's dead-letter queue (the node itself or a master). Dead-letter queues only. */
  DiscardDeadLetters: {
    entry: 'config-sync/handlers/discard-dead-letters.ts',
    environment: WITH_QUEUES,
    grants: [{ on: 'deadLetterQueues', actions: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'] }],
    routes: [{ method: 'POST', path: '/nodes/{node}/dead-letters/discard', access: 'node', api: API.discardNodeDeadLetters }],
  },
  /** Starts a drift check, reconcile or capture job on a GeoServer node (jobs.ts): its apply function runs it. */
  StartNodeJob: {
    entry: 'config-sync/handlers/start-node-job.ts',
    environment: WITH_QUEUES,
    bundledFiles: [GEOSERVER_NODES_FILE],
    // Only a node with a GeoServer has these jobs: any other is refused before anything is written.
    grants: [
      // The node's job lock and job items (TransactWriteItems of an Update and a Put).
      { on: 'nodeStore', actions: ddb('GetItem', 'PutItem', 'UpdateItem'), scope: 'geoserverNodes' },
      { on: 'queues', actions: ['sqs:SendMessage'], scope: 'geoserverNodes' },
    ],
    routes: [
      { method: 'POST', path: '/nodes/{node}/drift', access: 'node', api: API.checkNodeDrift },
      { method: 'POST', path: '/nodes/{node}/reconcile', access: 'node', api: API.reconcileNode },
      { method: 'POST', path: '/nodes/{node}/capture', access: 'node', api: API.captureNode },
    ],
  },
  /** A node's jobs and the differences its latest drift check found. Operators may read them. */
  ReadNodeJobs: {
    entry: 'config-sync/handlers/read-node-jobs.ts',
    environment: COMMON,
    grants: [{ on: 'nodeStore', actions: ddb('GetItem', 'Query'), scope: 'allNodes' }],
    routes: [
      { method: 'GET', path: '/nodes/{node}/drift', access: 'node', api: API.getNodeDrift },
      { method: 'GET', path: '/nodes/{node}/jobs/{id}', access: 'node', api: API.getNodeJob },
    ],
  },
  RepublishPending: {
    entry: 'config-sync/handlers/republish-pending.ts',
    environment: COMMON,
    grants: [
      { on: 'eventLog', actions: ddb('GetItem', 'Query') },
      // Marking events published and advancing the watermark (the head item).
      { on: 'clusterLog', actions: ddb('UpdateItem') },
      { on: 'eventLogVoids', actions: ddb('PutItem') },
      { on: 'topic', actions: ['sns:Publish'] },
      { on: 'eventBodies', actions: s3('GetObject') },
      { on: 'nodeStore', actions: STORE_WRITE, scope: 'pureMasters' },
      { on: 'objectBodies', actions: BODY_WRITE, scope: 'pureMasters' },
    ],
    schedule: {
      setting: 'republishSchedule',
      description: 'Publishes configuration events committed to the log but not yet published, and catches up master stores',
    },
  },
  /**
   * POST /nodes/{node}/pause and /resume (the node itself or a master; operators are refused):
   * records the pause in the node's store partition and disables or enables the node's event
   * source mapping, exactly those of the cluster's consuming nodes.
   */
  SwitchConsumption: {
    entry: 'config-sync/handlers/switch-consumption.ts',
    environment: [CONFIG_SYNC_ENV.clusterName, CONFIG_SYNC_ENV.clusterNodes, CONFIG_SYNC_ENV.nodeStoreTable, CONFIG_SYNC_ENV.nodeEventSources],
    grants: [
      { on: 'nodeStore', actions: ddb('GetItem', 'PutItem', 'DeleteItem'), scope: 'allNodes' },
      { on: 'eventSourceMappings', actions: ['lambda:UpdateEventSourceMapping'] },
    ],
    routes: [
      { method: 'POST', path: '/nodes/{node}/pause', access: 'node', api: API.pauseNode },
      { method: 'POST', path: '/nodes/{node}/resume', access: 'node', api: API.resumeNode },
    ],
  },
  /**
   * Every minute: each node's lag behind the log head as a metric (the apply functions of a stopped
   * node cannot report it); then a nudge, on its own queue, of each consuming node that is behind
   * and will get nothing on its own (catch-up-nudge.ts).
   */
  MeasureLag: {
    entry: 'config-sync/handlers/measure-lag.ts',
    environment: WITH_QUEUES,
    grants: [
      // Query: the last event, when a node is behind the head (lag.ts), and a lagging node's first
      // missing event and the log's last one (the nudge's age and message).
      { on: 'eventLog', actions: ddb('GetItem', 'Query') },
      // Every node's cursor and resync hold; a lagging node's pause and its latest job (its job
      // lock and record; TransactGetItems of a record in parts takes GetItem).
      { on: 'nodeStore', actions: ddb('GetItem'), scope: 'allNodes' },
      // A lagging node's queue depths (a nudge only into an empty queue), and the nudge itself.
      // The queues are SQS-managed encrypted: no KMS key to grant.
      { on: 'queues', actions: ['sqs:GetQueueAttributes', 'sqs:SendMessage'] },
      { on: 'deadLetterQueues', actions: ['sqs:GetQueueAttributes'] },
    ],
    schedule: {
      setting: 'lagSchedule',
      description: "Records every node's lag behind the event log as a metric, for the lag alarms, and nudges each consuming node left behind with nothing queued",
    },
  },
} as const satisfies ServiceManifest<ConfigSyncEnv, ConfigSyncResource, ConfigSyncScope, ConfigSyncSchedule>;

/**
 * The consumer of the master-stores queue (`masterStoresQueueNames`), built only when the
 * cluster has pure masters: the queue is subscribed to every event of the topic, and the
 * function brings every pure master's store up to the highest sequence a batch delivered
 * (master-stores.ts), with what RepublishPending's catch-up of the same stores needs.
 */
export const MASTER_STORES_CONSUMER = {
  entry: 'config-sync/handlers/catch-up-master-stores.ts',
  environment: COMMON,
  grants: [
    // ConditionCheckItem: a lone change delivered to a store right before it is committed on
    // condition that the log's item carries its digest (master-stores.ts catchUpFromQueue).
    { on: 'eventLog', actions: ddb('GetItem', 'Query', 'ConditionCheckItem') },
    // UpdateItem: marking the delivered events published (master-stores.ts markDelivered).
    { on: 'clusterLog', actions: ddb('UpdateItem') },
    { on: 'eventLogVoids', actions: ddb('PutItem') },
    { on: 'eventBodies', actions: s3('GetObject') },
    // ConditionCheckItem (in STORE_WRITE) also checks the master's pause item in that commit.
    { on: 'nodeStore', actions: STORE_WRITE, scope: 'pureMasters' },
    { on: 'objectBodies', actions: BODY_WRITE, scope: 'pureMasters' },
  ],
} as const;

/**
 * The GeoServer REST gateway, built only when `cluster.gateway` switches it on, so a manifest of
 * its own: the stack builds it, and the OpenAPI document includes its route, only then. Its route
 * `ANY /geoserver/rest/{proxy+}` has no authorizer of the cluster's (`geoserver` access): the
 * caller's HTTP Basic credentials go to the master GeoServer, whose security decides the write;
 * what the write changed is read back with the master node's own credentials (its secret, below).
 * It publishes as that master (`ownNode` is the gateway's master), so it may do what PublishEvent
 * does for that node only.
 */
export const GATEWAY_ROUTE_PATH = '/geoserver/rest/{proxy+}';
/** What publishing as the gateway's master takes (the gateway's writes, and its sweep's). */
const PUBLISH_AS_GATEWAY_MASTER = [
  { on: 'eventLog', actions: ddb('GetItem', 'Query', 'PutItem', 'UpdateItem') },
  // Query: a style rename (and a recovery) finds the layers and layer groups that name a style in its master's store.
  { on: 'nodeStore', actions: [...STORE_WRITE, 'dynamodb:Query'], scope: 'ownNode' },
  { on: 'topic', actions: ['sns:Publish'] },
  { on: 'eventBodies', actions: s3('GetObject', 'PutObject', 'DeleteObject') },
  { on: 'objectBodies', actions: BODY_WRITE, scope: 'ownNode' },
] as const;
export const GEOSERVER_GATEWAY = {
  entry: 'config-sync/handlers/geoserver-gateway.ts',
  environment: [
    ...WITH_QUEUES,
    CONFIG_SYNC_ENV.gatewayMasterNode,
    CONFIG_SYNC_ENV.gatewayGeoserverUrl,
    CONFIG_SYNC_ENV.gatewayAllowedSourceIps,
    CONFIG_SYNC_ENV.clusterOperators,
    // The master node's own GeoServer secret (the stack grants GetSecretValue on it alone): a write
    // is forwarded with its caller's credentials, but read back with the master's. GeoServer's REST
    // API serves its secured catalog (data security, HIDE mode): read with a restricted caller's
    // credentials, a layer group hidden from it answers 404 and one it sees partly comes back without
    // the entries it may not see, and publishing those would remove them from every node. The
    // function can already publish any change as the master to every node, so reading the master's
    // whole catalog adds little to what it may do.
    CONFIG_SYNC_ENV.geoserverCredentialsSecret,
  ],
  grants: [
    ...PUBLISH_AS_GATEWAY_MASTER,
    // An upload into a store starts a capture of the master (its job lock and job items, in
    // STORE_WRITE): its first slice is a message on the master's queue, the only queue it sends to.
    { on: 'queues', actions: ['sqs:SendMessage'], scope: 'ownNode' },
  ],
  routes: [{ method: 'ANY', path: GATEWAY_ROUTE_PATH, access: 'geoserver', api: GATEWAY_API.geoserverRest }],
} as const;

/**
 * The gateway's sweep (gateway/recovery.ts), built with the gateway: on the republish schedule,
 * it publishes what an unfinished gateway write (its process died between the master's answer and
 * the log append, or the append failed) left on the master, when no later write did. It reads the
 * master's GeoServer with the master node's credentials (`NODE_NAME` is the gateway's master; the
 * stack grants its secret alone and places it in the GeoServer's VPC) and publishes as that master:
 * the gateway's grants to publish, and, as an upload's intent is recovered by a capture of the
 * master (recovery.ts), the gateway's to start one (its job items in STORE_WRITE, its first slice
 * on the master's queue).
 */
export const GATEWAY_SWEEP = {
  entry: 'config-sync/handlers/recover-gateway-writes.ts',
  environment: [...WITH_QUEUES, CONFIG_SYNC_ENV.nodeName, CONFIG_SYNC_ENV.geoserverUrl, CONFIG_SYNC_ENV.geoserverCredentialsSecret],
  grants: [...PUBLISH_AS_GATEWAY_MASTER, { on: 'queues', actions: ['sqs:SendMessage'], scope: 'ownNode' }],
  schedule: {
    setting: 'republishSchedule',
    description: "Publishes what a gateway write whose process died before its log append left on the master GeoServer, when no later write did",
  },
} as const;

export const GATEWAY_MANIFEST = { GeoServerGateway: GEOSERVER_GATEWAY, RecoverGatewayWrites: GATEWAY_SWEEP } as const satisfies ServiceManifest<
  ConfigSyncEnv,
  ConfigSyncResource,
  ConfigSyncScope,
  ConfigSyncSchedule
>;
