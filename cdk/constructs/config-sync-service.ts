import { Annotations, ArnFormat, Aws, Duration, Lazy, Names, NestedStack, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnSecurityGroup, CfnVPCEndpoint } from 'aws-cdk-lib/aws-ec2';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { HttpApi, IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CONFIG_SYNC_ENV,
  CONFIG_SYNC_MANIFEST,
  GATEWAY_MANIFEST,
  GEOSERVER_GATEWAY,
  MASTER_STORES_CONSUMER,
  type ConfigSyncEnv,
  type ConfigSyncResource,
  type ConfigSyncSchedule,
  type ConfigSyncScope,
} from '../../lambdas/config-sync/manifest';
import { EVENT_LOG_TABLE, idempotencyClaimPartition, NODE_STORE_TABLE, VOID_ITEM_ATTRIBUTES } from '../../lambdas/config-sync/tables';
import type { Grant } from '../../lambdas/shared/manifest';
import { canPublish, consumes, masterStoresQueueNames, nodeQueueNames, nodeRolesJson, pureMasters, type ClusterNode } from '../../lambdas/shared/cluster-model';
import { FUNCTION_TIMEOUT_MS as GATEWAY_FUNCTION_TIMEOUT_MS } from '../../lambdas/config-sync/gateway/limits';
import { gatewayMaster, interfaceEndpointSubnets, type ClusterConfig, type ClusterConfigNode } from '../cluster-config';
import { writeSynthFile, type ClusterFunction } from './cluster-function';
import { GEOSERVER_NODES_FILE } from '../../lambdas/config-sync/env-names';
import { nodeEventSourcesValue } from '../../lambdas/config-sync/node-event-sources';
import { declaredFunction, type ManifestBinding } from './declared-functions';
import { allow, allowEach } from './routes';

export interface ConfigSyncServiceProps {
  readonly cluster: ClusterConfig;
  readonly api: HttpApi;
  /** Authorizer of node routes (publish, resync, redrive). */
  readonly nodeAuthorizer: IHttpRouteAuthorizer;
  /** Authorizer of read routes, when reads need a token too. @default none (open reads) */
  readonly readAuthorizer?: IHttpRouteAuthorizer;
  /** Deliveries of one event to a node before it moves to the node's dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** How long a node that is down keeps receiving into its queue. @default Duration.days(14), the SQS maximum */
  readonly queueRetention?: Duration;
}

export interface NodeQueues {
  /**
   * The nested stack that holds everything of this node: queues, subscription, apply function
   * and their alarms (see ConfigSyncService).
   */
  readonly stack: NestedStack;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly apply: ClusterFunction;
  /** The apply function's event source mapping: disabled while the node is paused. */
  readonly eventSource: SqsEventSource;
}

const APPLY_TIMEOUT = Duration.seconds(30);
/** The pure masters' stores' catch-up: a log read that may wait up to 12 s for a young hole, then the writes. */
const MASTER_STORES_TIMEOUT = Duration.seconds(30);
/**
 * A node with a GeoServer makes REST calls per event (up to 10 s each), so its apply function
 * gets longer; its queue's visibility timeout follows (six times, AWS's advice).
 */
const GEOSERVER_APPLY_TIMEOUT = Duration.seconds(120);
/**
 * Deliveries before the dead-letter queue, for a node with a GeoServer: the SQS maximum.
 * A GeoServer that is down makes the function back off (10 s doubling to 25 min per
 * delivery), so 1,000 deliveries last longer than the queue keeps a message (14 days): a
 * GeoServer that is down sends nothing to the dead-letter queue. Changes the GeoServer
 * refuses are parked by the function (apply.ts), with GeoServer's answer.
 */
const GEOSERVER_MAX_RECEIVE_COUNT = 1000;

/**
 * GeoServer's JMS master/slave clustering on SNS and SQS: masters publish configuration
 * changes, which get a cluster-wide sequence in the event log and go to an SNS FIFO topic (one
 * message group per cluster: one total order). Each consuming node has its own durable SQS
 * FIFO queue (the virtual topic), a dead-letter queue, and an apply function that writes the
 * changes to that node's store.
 *
 * Each consuming node's resources (its queues and their policies, its subscription, its apply
 * function with role, log group and event source, and their alarms: about 15) live in a
 * CloudFormation nested stack of the node's own. In the cluster's stack a node then costs one
 * resource, so the 500-resource limit of a stack no longer caps the cluster at 14 consuming
 * nodes; each nested stack references the shared tables, topic and bucket and nothing of
 * another node's.
 */
export class ConfigSyncService extends Construct {
  readonly eventLog: Table;
  readonly nodeStore: Table;
  readonly bodies: Bucket;
  readonly topic: Topic;
  readonly nodeQueues: Record<string, NodeQueues> = {};
  /** The pure masters' stores' queue pair, when the cluster has pure masters. */
  masterStores?: { readonly queue: Queue; readonly deadLetterQueue: Queue };
  readonly functions: Record<string, ClusterFunction> = {};

  private readonly cluster: ClusterConfig;

  constructor(scope: Construct, id: string, props: ConfigSyncServiceProps) {
    super(scope, id);
    const { cluster } = props;
    this.cluster = cluster;
    const stack = Stack.of(this);
    const publishers = cluster.nodes.filter((node) => canPublish(node.role));
    const consumers = cluster.nodes.filter((node) => consumes(node.role));

    // A TTL attribute (the event log's: `expiresAt` of Idempotency-Key claims, which events never carry).
    const table = (name: string, partitionKey: string, sortKey: { name: string; type: AttributeType }, timeToLiveAttribute?: string) =>
      new Table(this, name, {
        partitionKey: { name: partitionKey, type: AttributeType.STRING },
        sortKey,
        timeToLiveAttribute,
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.eventLog = table('EventLog', EVENT_LOG_TABLE.partitionKey, { name: EVENT_LOG_TABLE.sortKey, type: AttributeType.NUMBER }, 'expiresAt');
    // Its TTL attribute expires finished (and abandoned) job records: see JOB_RETENTION_MS.
    this.nodeStore = table('NodeStore', NODE_STORE_TABLE.partitionKey, { name: NODE_STORE_TABLE.sortKey, type: AttributeType.STRING }, NODE_STORE_TABLE.ttlAttribute);

    this.bodies = new Bucket(this, 'EventBodies', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1), noncurrentVersionExpiration: Duration.days(30) }],
    });
    Validations.of(this.bodies).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Private bucket of large event bodies, written and read only by the cluster functions; access is audited with CloudTrail data events where required rather than a second log bucket per cluster.',
    });

    this.topic = new Topic(this, 'Changes', {
      topicName: `${cluster.name}-config-changes.fifo`,
      fifo: true,
      contentBasedDeduplication: false,
      enforceSSL: true,
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });

    const queuePairs = new Map<string, Omit<NodeQueues, 'apply' | 'eventSource'>>();
    for (const node of consumers) {
      const nodeStack = new NestedStack(this, node.name, {
        description: `Node ${node.name} of GeoServer cluster '${cluster.name}': its queues, subscription and apply function (serverless-geoserver-cluster)`,
      });
      const names = nodeQueueNames(cluster.name, node.name);
      const deadLetterQueue = new Queue(nodeStack, `${node.name}-dlq`, {
        queueName: names.deadLetterQueue,
        fifo: true,
        retentionPeriod: props.queueRetention ?? Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const queue = new Queue(nodeStack, `${node.name}-queue`, {
        queueName: names.queue,
        fifo: true,
        contentBasedDeduplication: false,
        retentionPeriod: props.queueRetention ?? Duration.days(14),
        // AWS's advice for Lambda sources: at least six times the function timeout.
        visibilityTimeout: Duration.seconds((node.geoserver ? GEOSERVER_APPLY_TIMEOUT : APPLY_TIMEOUT).toSeconds() * 6),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: {
          queue: deadLetterQueue,
          maxReceiveCount: node.geoserver ? GEOSERVER_MAX_RECEIVE_COUNT : (props.maxReceiveCount ?? 5),
        },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // The subscription, with the queue policy that lets the topic send, in the node's stack.
      // Written out rather than with SqsSubscription, which declares the queue's stack
      // dependent on the topic's: a nested stack cannot be, it is deployed as part of it.
      const sendFromTopic = queue.addToResourcePolicy(
        new PolicyStatement({
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          principals: [new ServicePrincipal('sns.amazonaws.com')],
          conditions: { ArnEquals: { 'aws:SourceArn': this.topic.topicArn } },
        }),
      );
      const subscription = new Subscription(nodeStack, 'Subscription', {
        topic: this.topic,
        protocol: SubscriptionProtocol.SQS,
        endpoint: queue.queueArn,
        // Every event, a `both` node's own too: its queue is how its store gets them when its
        // publish request could not apply them (lambdas/config-sync/apply.ts, "Own events").
        rawMessageDelivery: true,
      });
      if (sendFromTopic.policyDependable) subscription.node.addDependency(sendFromTopic.policyDependable);
      queuePairs.set(node.name, { stack: nodeStack, queue, deadLetterQueue });
    }

    // Object keys are generated per event and per object version, so S3 grants name key
    // prefixes; each prefix wildcard is acknowledged below with that reason.
    // cdk-nag names the bucket's ARN as the template does: in the cluster's stack by the bucket's
    // logical id, in a node's nested stack by the parameter CDK passes it as.
    const bucket = this.bodies.node.defaultChild as CfnBucket;
    const acknowledgePrefixes = (scope: Construct, bucketArnToken: string, prefixes: readonly string[]) => {
      for (const prefix of prefixes) {
        Validations.of(scope).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${bucketArnToken}/${prefix}]`,
          reason: `Keys under ${prefix} are generated per event or object version; the grant is limited to that prefix of the cluster's private bucket.`,
        });
      }
    };
    acknowledgePrefixes(this, `<${stack.resolve(stack.getLogicalId(bucket))}.Arn>`, [
      `events/${cluster.name}/*`,
      'objects/*',
      ...cluster.nodes.map((node) => `objects/${node.name}/*`),
    ]);
    for (const [node, { stack: nodeStack }] of queuePairs) {
      acknowledgePrefixes(nodeStack, `<referenceto${Names.uniqueId(bucket)}Arn>`, [`events/${cluster.name}/*`, 'objects/*', `objects/${node}/*`]);
    }

    const nodeNames = (nodes: readonly ClusterNode[]) => nodes.map((node) => node.name);
    const geoserverNodes = consumers.filter((node) => node.geoserver);
    const scoped: Record<Exclude<ConfigSyncScope, 'ownNode'>, string[]> = {
      // Those POST /config/events publishes for: a node with a GeoServer publishes through the gateway only.
      publishers: nodeNames(publishers.filter((node) => !node.geoserver)),
      pureMasters: nodeNames(pureMasters(cluster.nodes)),
      // The nodes the GeoServer nodes file names (below): consuming nodes that declare a GeoServer.
      geoserverNodes: nodeNames(geoserverNodes),
      // The rest: nodes whose stores the cluster's functions update with no GeoServer to reach.
      nodesWithoutGeoServer: nodeNames(cluster.nodes.filter((node) => !geoserverNodes.includes(node))),
      allNodes: nodeNames(cluster.nodes),
    };
    const environment: Record<ConfigSyncEnv, string | undefined> = {
      [CONFIG_SYNC_ENV.clusterName]: cluster.name,
      [CONFIG_SYNC_ENV.clusterNodes]: nodeRolesJson(cluster.nodes),
      [CONFIG_SYNC_ENV.eventLogTable]: this.eventLog.tableName,
      [CONFIG_SYNC_ENV.nodeStoreTable]: this.nodeStore.tableName,
      [CONFIG_SYNC_ENV.topicArn]: this.topic.topicArn,
      [CONFIG_SYNC_ENV.bodyBucket]: this.bodies.bucketName,
      // Pseudo parameters only: the same value in the cluster's stack and in a node's.
      [CONFIG_SYNC_ENV.queueUrlPrefix]: `https://sqs.${Aws.REGION}.${Aws.URL_SUFFIX}/${Aws.ACCOUNT_ID}/`,
      // Set per apply function (of a node with a GeoServer, for the GeoServer's two).
      [CONFIG_SYNC_ENV.nodeName]: undefined,
      [CONFIG_SYNC_ENV.geoserverUrl]: undefined,
      [CONFIG_SYNC_ENV.geoserverCredentialsSecret]: undefined,
      [CONFIG_SYNC_ENV.gatewayMasterNode]: gatewayMaster(cluster)?.name,
      [CONFIG_SYNC_ENV.gatewayGeoserverUrl]: gatewayMaster(cluster)?.geoserver.url,
      [CONFIG_SYNC_ENV.gatewayAllowedSourceIps]: cluster.gateway.allowedSourceIps ? JSON.stringify(cluster.gateway.allowedSourceIps) : undefined,
      // Operators' tokens are cluster tokens too, which the gateway never passes on to the master.
      [CONFIG_SYNC_ENV.clusterOperators]: JSON.stringify(cluster.operators.map((operator) => operator.name)),
      // Resolved at synth, when every apply function's event source mapping exists.
      [CONFIG_SYNC_ENV.nodeEventSources]: Lazy.string({
        produce: () => nodeEventSourcesValue(Object.keys(this.nodeQueues), (node) => this.nodeQueues[node]!.eventSource.eventSourceMappingId),
      }),
      // Never set: bundled as GEOSERVER_NODES_FILE instead (below), 30 nodes' URLs alone passing Lambda's 4 KB environment.
      [CONFIG_SYNC_ENV.geoserverNodes]: undefined,
    };
    // Node -> GeoServer URL, beside each function that declares the file (read once at cold start, from local disk).
    const geoserverNodesFile = writeSynthFile(
      this,
      'geoserver-nodes',
      JSON.stringify(Object.fromEntries(consumers.flatMap((node) => (node.geoserver ? [[node.name, node.geoserver.url.replace(/\/+$/, '')]] : [])))),
    );
    const bundledFiles = Object.fromEntries(
      Object.entries({ ...CONFIG_SYNC_MANIFEST, ...GATEWAY_MANIFEST })
        .filter(([, declaration]) => ((declaration as { bundledFiles?: readonly string[] }).bundledFiles ?? []).includes(GEOSERVER_NODES_FILE))
        .map(([name]) => [name, { [GEOSERVER_NODES_FILE]: geoserverNodesFile }]),
    );
    /** The queues of these nodes (those that consume), of every consuming node when unscoped. */
    const queueArns = (kind: 'queue' | 'deadLetterQueue', nodes?: readonly string[]) =>
      [...queuePairs.entries()].filter(([node]) => nodes === undefined || nodes.includes(node)).map(([, pair]) => pair[kind].queueArn);
    /** The statements of one grant; `ownNode` is the apply function's node. */
    const statements = (grant: Grant<ConfigSyncResource, ConfigSyncScope>, ownNode?: string): PolicyStatement[] => {
      const nodes = grant.scope === undefined ? undefined : grant.scope === 'ownNode' ? (ownNode ? [ownNode] : []) : scoped[grant.scope];
      const actions = [...grant.actions];
      switch (grant.on) {
        case 'eventLog':
          return [allow(actions, [this.eventLog.tableArn])];
        case 'clusterLog':
          // The cluster's log partition (events and head item): not the gateway's write lease or a claim.
          return [allow(actions, [this.eventLog.tableArn], { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [cluster.name] } })];
        case 'publishLog':
          // The cluster's log partition and the Idempotency-Key claims' partitions: one pattern for
          // every publisher's claims, so the grant does not grow with the cluster.
          return [
            allow(actions, [this.eventLog.tableArn], {
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [cluster.name, idempotencyClaimPartition(cluster.name, '*', '*')] },
            }),
          ];
        case 'eventLogVoids':
          // Void items only (dynamo-event-log.ts closeHoles): never an event. In the cluster's log
          // partition only: a put replaces a whole item, and the table's other partitions (the
          // gateway's write lease, Idempotency-Key claims) are no hole's.
          return [
            allow(actions, [this.eventLog.tableArn], {
              'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...VOID_ITEM_ATTRIBUTES], 'dynamodb:LeadingKeys': [cluster.name] },
            }),
          ];
        case 'nodeStore':
          // Store items of these nodes only (the partition key is the node name).
          if (nodes === undefined) return [allow(actions, [this.nodeStore.tableArn])];
          return nodes.length ? [allow(actions, [this.nodeStore.tableArn], { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': nodes } })] : [];
        case 'eventBodies':
          return [allow(actions, [this.bodies.arnForObjects(`events/${cluster.name}/*`)])];
        case 'objectBodies':
          // Offloaded object properties live under objects/<node>/; superseded ones are deleted.
          if (nodes === undefined || grant.scope === 'allNodes') return [allow(actions, [this.bodies.arnForObjects('objects/*')])];
          return allowEach(actions, nodes.map((node) => this.bodies.arnForObjects(`objects/${node}/*`)));
        case 'topic':
          return [allow(actions, [this.topic.topicArn])];
        case 'eventSourceMappings': {
          // The consumers come first (below), so every mapping exists when a grant names them.
          return allowEach(actions, Object.values(this.nodeQueues).map((q) => q.eventSource.eventSourceMappingArn));
        }
        case 'queues':
        case 'deadLetterQueues': {
          return allowEach(actions, queueArns(grant.on === 'queues' ? 'queue' : 'deadLetterQueue', nodes));
        }
      }
    };
    const binding = (ownNode?: string): ManifestBinding<ConfigSyncEnv, ConfigSyncResource, ConfigSyncScope, ConfigSyncSchedule> => ({
      environment: (name) => environment[name],
      grant: (grant) => statements(grant, ownNode),
      // Both run every minute, which is not a setting: the lag alarm counts minutes
      // (cluster.observability.lagMinutes), and the gateway's sweep bounds its waits by it
      // (RECOVERY_WANTED_MS and UPLOAD_SETTLE_MS in gateway/limits.ts).
      schedule: () => 'rate(1 minute)',
      api: props.api,
      authorizers: { node: props.nodeAuthorizer, read: props.readAuthorizer, open: undefined },
      bundledFiles,
    });
    const options = (name: string) => ({ timeout: name === 'Apply' ? APPLY_TIMEOUT : Duration.seconds(29), memorySize: 512 });

    // Queue consumers first: the pause switch's grant and environment name their event source mappings.
    const declarations = Object.entries(CONFIG_SYNC_MANIFEST).sort(([, a], [, b]) => Number('queueConsumer' in b) - Number('queueConsumer' in a));
    for (const [name, declaration] of declarations) {
      if (!('queueConsumer' in declaration)) {
        this.functions[name] = declaredFunction(this, name, declaration, binding(), options(name));
        continue;
      }
      // One consumer per consuming node, on that node's queue.
      for (const node of consumers) {
        const pair = queuePairs.get(node.name) as Omit<NodeQueues, 'apply' | 'eventSource'>;
        const geoserver = node.geoserver;
        // In the node's own stack, so just `Apply` (its path: ConfigSync/<node>/Apply).
        const apply = declaredFunction(pair.stack, name, declaration, binding(node.name), {
          ...options(name),
          ...(geoserver ? { timeout: GEOSERVER_APPLY_TIMEOUT } : {}),
          environment: {
            [CONFIG_SYNC_ENV.nodeName]: node.name,
            // A node with a GeoServer (cluster.nodes[].geoserver): its URL and secret name, never credentials.
            ...(geoserver ? { [CONFIG_SYNC_ENV.geoserverUrl]: geoserver.url, [CONFIG_SYNC_ENV.geoserverCredentialsSecret]: geoserver.credentialsSecret } : {}),
          },
        });
        if (geoserver) {
          // Its own secret only; it retries its own parked events on a redrive's request
          // (listing and clearing records); the event source already grants
          // ChangeMessageVisibility on its queue (the backoff).
          for (const statement of secretReads(stack, geoserver)) apply.addToRolePolicy(statement);
          if (canPublish(node.role)) {
            // A capture publishes the master GeoServer's differences as this node's events,
            // through the publish path: exactly what the gateway may do for its master (its
            // node's pause checked in the log append, a ConditionCheck in its own partition).
            for (const grant of GEOSERVER_GATEWAY.grants) for (const statement of statements(grant, node.name)) apply.addToRolePolicy(statement);
          }
          if (geoserver.network) this.placeInVpc(apply, node.name, geoserver.network, { publishes: canPublish(node.role) });
        }
        // Its jobs (jobs.ts) run in slices through its own queue: each slice queues the next.
        apply.addToRolePolicy(allow(['sqs:SendMessage'], [pair.queue.queueArn]));
        const eventSource = new SqsEventSource(pair.queue, { batchSize: 10, reportBatchItemFailures: true });
        apply.addEventSource(eventSource);
        this.functions[`${name}-${node.name}`] = apply;
        this.nodeQueues[node.name] = { ...pair, apply, eventSource };
      }
    }

    // The pure masters' stores follow the log through a queue of their own: subscribed to every
    // event (no filter: a pure master's own events too, which its publish request may have left),
    // consumed one batch at a time (one message group) by a function that catches every pure
    // master's store up to the batch's highest sequence (lambdas/config-sync/master-stores.ts).
    if (pureMasters(cluster.nodes).length > 0) {
      const names = masterStoresQueueNames(cluster.name);
      const deadLetterQueue = new Queue(this, 'MasterStoresDlq', {
        queueName: names.deadLetterQueue,
        fifo: true,
        retentionPeriod: props.queueRetention ?? Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new Queue(this, 'MasterStores', {
        queueName: names.queue,
        fifo: true,
        contentBasedDeduplication: false,
        retentionPeriod: props.queueRetention ?? Duration.days(14),
        visibilityTimeout: Duration.seconds(MASTER_STORES_TIMEOUT.toSeconds() * 6),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // Nothing in it needs a redrive: the republish schedule catches the stores up to the head.
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      });
      this.topic.addSubscription(new SqsSubscription(queue, { rawMessageDelivery: true }));
      const consumer = declaredFunction(this, 'CatchUpMasterStores', MASTER_STORES_CONSUMER, binding(), { timeout: MASTER_STORES_TIMEOUT, memorySize: 512 });
      consumer.addEventSource(new SqsEventSource(queue, { batchSize: 10 }));
      this.functions.CatchUpMasterStores = consumer;
      this.masterStores = { queue, deadLetterQueue };
    }

    const master = gatewayMaster(cluster);
    if (master) {
      // Its timeout is what the gateway's time budget and its write lease's expiry are sized against.
      // It reads back what a write changed with the master node's own secret, as the sweep does
      // (a caller's credentials see only its part of a secured catalog: lambdas/config-sync/manifest.ts).
      const gateway = declaredFunction(this, 'GeoServerGateway', GATEWAY_MANIFEST.GeoServerGateway, binding(master.name), {
        ...options('GeoServerGateway'),
        timeout: Duration.millis(GATEWAY_FUNCTION_TIMEOUT_MS),
        environment: { [CONFIG_SYNC_ENV.geoserverCredentialsSecret]: master.geoserver.credentialsSecret },
      });
      for (const statement of secretReads(stack, master.geoserver)) gateway.addToRolePolicy(statement);
      if (master.geoserver.network) this.placeInVpc(gateway, master.name, master.geoserver.network, { publishes: true });
      if (cluster.gateway.allowedSourceIps === undefined) {
        // Allowed (GeoServer's own authentication still decides), but rarely what an operator meant.
        Annotations.of(gateway).addWarningV2(
          'serverless-geoserver-cluster:gatewayOpenToEveryAddress',
          `cluster.gateway is enabled without allowedSourceIps: every address on the internet can reach the REST API of master ${master.name}'s GeoServer, ` +
            'which then relies on its own authentication alone. List the addresses your administrators and tools call from ' +
            '(docs/operations.md, "Keeping it private").',
        );
      }
      this.functions.GeoServerGateway = gateway;
      // Its sweep: reads the master's GeoServer with the master node's own secret, as the master's apply function does.
      const sweep = declaredFunction(this, 'RecoverGatewayWrites', GATEWAY_MANIFEST.RecoverGatewayWrites, binding(master.name), {
        ...options('RecoverGatewayWrites'),
        environment: {
          [CONFIG_SYNC_ENV.nodeName]: master.name,
          [CONFIG_SYNC_ENV.geoserverUrl]: master.geoserver.url,
          [CONFIG_SYNC_ENV.geoserverCredentialsSecret]: master.geoserver.credentialsSecret,
        },
      });
      for (const statement of secretReads(stack, master.geoserver)) sweep.addToRolePolicy(statement);
      if (master.geoserver.network) this.placeInVpc(sweep, master.name, master.geoserver.network, { publishes: true });
      this.functions.RecoverGatewayWrites = sweep;
    }
  }

  private readonly vpcEndpoints = new Set<string>();
  /** The DynamoDB and S3 gateway endpoints of each VPC, by VPC id: every node placed there adds its route tables. */
  private readonly gatewayEndpoints = new Map<string, CfnVPCEndpoint[]>();
  /** The security group of each VPC's interface endpoints, by VPC id: every node placed there may reach them. */
  private readonly endpointGroups = new Map<string, CfnSecurityGroup>();

  /**
   * Runs a node's apply function in its GeoServer's VPC. Lambda needs to create network
   * interfaces there (AWS's AWSLambdaVPCAccessExecutionRole, spelled out: EC2 has no resource
   * scoping for these calls). With `reachAws: 'vpc-endpoints'` the stack creates, once per
   * VPC, gateway endpoints for DynamoDB and S3 and interface endpoints for SQS and Secrets
   * Manager, and for SNS once a function placed there publishes (a publishing node's capture,
   * the gateway and its sweep): everything the functions call. The gateway endpoints are on the
   * route tables of every node placed in the VPC; the interface endpoints are in the subnets the
   * VPC's nodes name for them, one per zone (interfaceEndpointSubnets).
   */
  private placeInVpc(
    fn: ClusterFunction,
    node: string,
    network: NonNullable<NonNullable<ClusterConfigNode['geoserver']>['network']>,
    { publishes }: { readonly publishes: boolean },
  ): void {
    const stack = Stack.of(this);
    (fn.node.defaultChild as CfnFunction).addPropertyOverride('VpcConfig', {
      SubnetIds: network.subnetIds,
      SecurityGroupIds: network.securityGroupIds,
    });
    fn.addToRolePolicy(
      allow(
        ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        ['*'],
      ),
    );
    Validations.of(fn.role ?? fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `Lambda creates and deletes the network interfaces of ${fn.node.id} in the VPC of node ${node}'s GeoServer; EC2 offers no resource-level scoping for these calls (the same statement as AWS's AWSLambdaVPCAccessExecutionRole).`,
    });
    if (network.reachAws !== 'vpc-endpoints') return;
    // The interface endpoints' own security group, which takes HTTPS from the security groups of
    // every function placed in the VPC: theirs need allow only outbound traffic, and an endpoint
    // carrying them would refuse the functions unless they also let HTTPS in from themselves.
    let endpointGroup = this.endpointGroups.get(network.vpcId);
    if (!endpointGroup) {
      endpointGroup = new CfnSecurityGroup(this, `${network.vpcId}-endpoints`, {
        groupDescription: `Interface endpoints of GeoServer cluster functions in ${network.vpcId}: HTTPS from their security groups`,
        vpcId: network.vpcId,
        securityGroupIngress: [],
      });
      this.endpointGroups.set(network.vpcId, endpointGroup);
    }
    const ingress = (endpointGroup.securityGroupIngress ?? []) as CfnSecurityGroup.IngressProperty[];
    const allowed = new Set(ingress.map((rule) => rule.sourceSecurityGroupId));
    endpointGroup.securityGroupIngress = [
      ...ingress,
      ...network.securityGroupIds
        .filter((group) => !allowed.has(group))
        .map((group): CfnSecurityGroup.IngressProperty => ({ ipProtocol: 'tcp', fromPort: 443, toPort: 443, sourceSecurityGroupId: group, description: `HTTPS from the functions of node ${node}` })),
    ];
    const interfaceEndpoint = (service: string) => {
      if (this.vpcEndpoints.has(`${network.vpcId}/${service}`)) return;
      this.vpcEndpoints.add(`${network.vpcId}/${service}`);
      new CfnVPCEndpoint(this, `${network.vpcId}-${service}`, {
        vpcId: network.vpcId,
        serviceName: `com.amazonaws.${stack.region}.${service}`,
        vpcEndpointType: 'Interface',
        // One subnet per Availability Zone (EC2 refuses two of one zone): those named for them.
        subnetIds: interfaceEndpointSubnets(this.cluster, network.vpcId),
        securityGroupIds: [endpointGroup.attrGroupId],
        privateDnsEnabled: true,
      });
    };
    if (publishes) interfaceEndpoint('sns');
    // A gateway endpoint serves only the route tables it is on: each node in the VPC adds its own
    // (a second node's subnets often have their own table, one per zone).
    const gateways = this.gatewayEndpoints.get(network.vpcId);
    if (gateways) {
      for (const endpoint of gateways) {
        const tables = endpoint.routeTableIds ?? [];
        endpoint.routeTableIds = [...tables, ...(network.routeTableIds ?? []).filter((table) => !tables.includes(table))];
      }
      return;
    }
    this.gatewayEndpoints.set(
      network.vpcId,
      ['dynamodb', 's3'].map(
        (service) =>
          new CfnVPCEndpoint(this, `${network.vpcId}-${service}`, {
            vpcId: network.vpcId,
            serviceName: `com.amazonaws.${stack.region}.${service}`,
            vpcEndpointType: 'Gateway',
            routeTableIds: [...(network.routeTableIds ?? [])],
          }),
      ),
    );
    for (const service of ['sqs', 'secretsmanager']) interfaceEndpoint(service);
  }
}

/**
 * What a function needs to read a GeoServer node's secret: `secretsmanager:GetSecretValue` on it
 * and, for a secret under a customer managed key (`credentialsSecretKey`), `kms:Decrypt` on that
 * key, which Secrets Manager calls as the reader to decrypt the secret's data key. Scoped as the
 * Secrets Manager guide's key policies are ("Secret encryption and decryption"): only through
 * Secrets Manager in the stack's Region (`kms:ViaService`) and only for this secret (its ARN is
 * the `SecretARN` of every encryption context Secrets Manager passes; StringLike, as a secret named
 * by name is granted by its ARN with the `-??????` suffix). The AWS managed key needs no grant.
 */
function secretReads(stack: Stack, geoserver: NonNullable<ClusterConfigNode['geoserver']>): PolicyStatement[] {
  const secret = secretArn(stack, geoserver.credentialsSecret);
  const read = allow(['secretsmanager:GetSecretValue'], [secret]);
  if (geoserver.credentialsSecretKey === undefined) return [read];
  return [
    read,
    allow(['kms:Decrypt'], [geoserver.credentialsSecretKey], {
      StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
      StringLike: { 'kms:EncryptionContext:SecretARN': secret },
    }),
  ];
}

/**
 * The ARN to grant for a secret named by name or ARN. A name gets Secrets Manager's random
 * six-character suffix (`-??????`), so the grant matches that secret and no other.
 */
function secretArn(stack: Stack, secret: string): string {
  if (secret.startsWith('arn:')) return secret;
  return stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secret}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}
