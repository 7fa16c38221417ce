import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ownEventsFilterPolicy } from '../../lambdas/config-sync/cluster';
import { canPublish, consumes, nodeRolesJson, type ClusterNode } from '../../lambdas/shared/cluster-model';
import type { ClusterConfig } from '../cluster-config';
import { ClusterFunction } from './cluster-function';
import { addLambdaRoute, allow } from './routes';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';

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
  /** How often committed but unpublished events are published again. @default rate(1 minute) */
  readonly republishSchedule?: string;
}

export interface NodeQueues {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly apply: ClusterFunction;
  /** The apply function's event source mapping: disabled while the node is paused. */
  readonly eventSource: SqsEventSource;
}

const APPLY_TIMEOUT = Duration.seconds(30);

/**
 * GeoServer's JMS master/slave clustering on SNS and SQS: masters publish configuration
 * changes, which get a cluster-wide sequence in the event log and go to an SNS FIFO topic (one
 * message group per cluster: one total order). Each consuming node has its own durable SQS
 * FIFO queue (the virtual topic), a dead-letter queue, and an apply function that writes the
 * changes to that node's store.
 */
export class ConfigSyncService extends Construct {
  readonly eventLog: Table;
  readonly nodeStore: Table;
  readonly bodies: Bucket;
  readonly topic: Topic;
  readonly nodeQueues: Record<string, NodeQueues> = {};
  readonly functions: Record<string, ClusterFunction> = {};

  constructor(scope: Construct, id: string, props: ConfigSyncServiceProps) {
    super(scope, id);
    const { cluster } = props;
    const stack = Stack.of(this);
    const publishers = cluster.nodes.filter((node) => canPublish(node.role));
    const consumers = cluster.nodes.filter((node) => consumes(node.role));

    const table = (name: string, partitionKey: string, sortKey: { name: string; type: AttributeType }) =>
      new Table(this, name, {
        partitionKey: { name: partitionKey, type: AttributeType.STRING },
        sortKey,
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.eventLog = table('EventLog', 'cluster', { name: 'sequence', type: AttributeType.NUMBER });
    this.nodeStore = table('NodeStore', 'node', { name: 'key', type: AttributeType.STRING });

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

    const queueUrls: Record<string, { queueUrl: string; deadLetterQueueUrl: string }> = {};
    const queuePairs = new Map<string, Omit<NodeQueues, 'apply' | 'eventSource'>>();
    for (const node of consumers) {
      const deadLetterQueue = new Queue(this, `${node.name}-dlq`, {
        queueName: `${cluster.name}-${node.name}-dlq.fifo`,
        fifo: true,
        retentionPeriod: props.queueRetention ?? Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const queue = new Queue(this, `${node.name}-queue`, {
        queueName: `${cluster.name}-${node.name}.fifo`,
        fifo: true,
        contentBasedDeduplication: false,
        retentionPeriod: props.queueRetention ?? Duration.days(14),
        // AWS's advice for Lambda sources: at least six times the function timeout.
        visibilityTimeout: Duration.seconds(APPLY_TIMEOUT.toSeconds() * 6),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.topic.addSubscription(
        new SqsSubscription(queue, {
          rawMessageDelivery: true,
          // A node never receives its own events (the apply code drops them too: filter policy
          // changes take minutes to propagate).
          filterPolicy: subscriptionFilters(ownEventsFilterPolicy(node.name)),
        }),
      );
      queueUrls[node.name] = { queueUrl: queue.queueUrl, deadLetterQueueUrl: deadLetterQueue.queueUrl };
      queuePairs.set(node.name, { queue, deadLetterQueue });
    }

    const environment = {
      CLUSTER_NAME: cluster.name,
      CLUSTER_NODES: nodeRolesJson(cluster.nodes),
      EVENT_LOG_TABLE_NAME: this.eventLog.tableName,
      NODE_STORE_TABLE_NAME: this.nodeStore.tableName,
      CONFIG_TOPIC_ARN: this.topic.topicArn,
      EVENT_BODY_BUCKET_NAME: this.bodies.bucketName,
      NODE_QUEUES: stack.toJsonString(queueUrls),
    };

    // Least privilege, spelled out per function: exactly the calls its handler makes.
    const pureMasters = cluster.nodes.filter((node) => !consumes(node.role));
    const eventLog = (actions: string[]) => allow(actions.map((a) => `dynamodb:${a}`), [this.eventLog.tableArn]);
    /** Store items of these nodes only (the partition key is the node name). */
    const storeOf = (nodes: readonly ClusterNode[], actions: string[]) =>
      nodes.length
        ? [
            allow(actions.map((a) => `dynamodb:${a}`), [this.nodeStore.tableArn], {
              'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': nodes.map((node) => node.name) },
            }),
          ]
        : [];
    const storeWrite = ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'];
    const eventBodies = (actions: string[]) =>
      allow(actions.map((a) => `s3:${a}`), [this.bodies.arnForObjects(`events/${cluster.name}/*`)]);
    /** Offloaded object properties live under objects/<node>/; superseded ones are deleted. */
    const objectBodies = (nodes: readonly ClusterNode[] | 'all', actions: string[]) =>
      nodes === 'all'
        ? [allow(actions.map((a) => `s3:${a}`), [this.bodies.arnForObjects('objects/*')])]
        : nodes.length
          ? [allow(actions.map((a) => `s3:${a}`), nodes.map((node) => this.bodies.arnForObjects(`objects/${node.name}/*`)))]
          : [];
    const publish = allow(['sns:Publish'], [this.topic.topicArn]);
    // Object keys are generated per event and per object version, so S3 grants name key
    // prefixes; each prefix wildcard is acknowledged below with that reason.
    const bucketArnToken = `<${stack.resolve(stack.getLogicalId(this.bodies.node.defaultChild as CfnBucket))}.Arn>`;
    const prefixes = [`events/${cluster.name}/*`, 'objects/*', ...cluster.nodes.map((node) => `objects/${node.name}/*`)];
    for (const prefix of prefixes) {
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArnToken}/${prefix}]`,
        reason: `Keys under ${prefix} are generated per event or object version; the grant is limited to that prefix of the cluster's private bucket.`,
      });
    }

    const fn = (name: string, entry: string, statements: PolicyStatement[], extra: Record<string, string> = {}) => {
      const created = new ClusterFunction(this, name, {
        entry,
        environment: { ...environment, ...extra },
        timeout: name.startsWith('Apply') ? APPLY_TIMEOUT : Duration.seconds(29),
        memorySize: 512,
      });
      statements.forEach((statement) => created.addToRolePolicy(statement));
      this.functions[name] = created;
      return created;
    };

    // Queue URLs go into every function's environment, so the apply functions come second.
    for (const node of consumers) {
      const pair = queuePairs.get(node.name) as Omit<NodeQueues, 'apply' | 'eventSource'>;
      const apply = fn(
        `Apply-${node.name}`,
        'config-sync/handlers/apply-events.ts',
        [
          eventLog(['GetItem', 'Query']),
          ...storeOf([node], storeWrite),
          eventBodies(['GetObject']),
          ...objectBodies([node], ['GetObject', 'PutObject', 'DeleteObject']),
        ],
        { NODE_NAME: node.name },
      );
      const eventSource = new SqsEventSource(pair.queue, { batchSize: 10, reportBatchItemFailures: true });
      apply.addEventSource(eventSource);
      this.nodeQueues[node.name] = { ...pair, apply, eventSource };
    }

    const allQueues = Object.values(this.nodeQueues);
    const publishEvent = fn('PublishEvent', 'config-sync/handlers/publish-event.ts', [
      eventLog(['GetItem', 'Query', 'PutItem', 'UpdateItem']),
      ...storeOf(publishers, storeWrite),
      publish,
      eventBodies(['GetObject', 'PutObject']),
      ...objectBodies(publishers, ['GetObject', 'PutObject', 'DeleteObject']),
    ]);
    const listNodes = fn('ListNodes', 'config-sync/handlers/list-nodes.ts', [
      eventLog(['GetItem']),
      // Query: the node's parking records.
      allow(['dynamodb:GetItem', 'dynamodb:Query'], [this.nodeStore.tableArn]),
      ...(allQueues.length
        ? [allow(['sqs:GetQueueAttributes'], allQueues.flatMap((q) => [q.queue.queueArn, q.deadLetterQueue.queueArn]))]
        : []),
    ]);
    const getCatalog = fn('GetCatalog', 'config-sync/handlers/get-catalog.ts', [
      allow(['dynamodb:GetItem', 'dynamodb:Query'], [this.nodeStore.tableArn]),
      ...objectBodies('all', ['GetObject']),
    ]);
    const getCatalogObject = fn('GetCatalogObject', 'config-sync/handlers/get-catalog-object.ts', [
      allow(['dynamodb:GetItem', 'dynamodb:BatchGetItem'], [this.nodeStore.tableArn]),
      ...objectBodies('all', ['GetObject']),
    ]);
    const resyncNode = fn('ResyncNode', 'config-sync/handlers/resync-node.ts', [
      eventLog(['GetItem', 'Query']),
      ...storeOf(cluster.nodes, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']),
      eventBodies(['GetObject']),
      ...objectBodies('all', ['GetObject', 'PutObject', 'DeleteObject']),
    ]);
    const redriveNode = fn('RedriveNode', 'config-sync/handlers/redrive-node.ts', [
      // Retrying parked events: read them from the log, apply them to the node's store.
      eventLog(['GetItem', 'Query']),
      ...storeOf(cluster.nodes, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']),
      eventBodies(['GetObject']),
      ...objectBodies('all', ['GetObject', 'PutObject', 'DeleteObject']),
      ...(allQueues.length
        ? [
            allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage'], allQueues.map((q) => q.deadLetterQueue.queueArn)),
            allow(['sqs:SendMessage'], allQueues.map((q) => q.queue.queueArn)),
          ]
        : []),
    ]);
    const republish = fn('RepublishPending', 'config-sync/handlers/republish-pending.ts', [
      eventLog(['GetItem', 'Query', 'UpdateItem']),
      publish,
      eventBodies(['GetObject']),
      ...storeOf(pureMasters, storeWrite),
      ...objectBodies(pureMasters, ['GetObject', 'PutObject', 'DeleteObject']),
    ]);

    // Pause and resume: the node's pause item (in its own store partition) and exactly the
    // event source mappings of the cluster's consuming nodes.
    const switchConsumption = fn(
      'SwitchConsumption',
      'config-sync/handlers/switch-consumption.ts',
      [
        ...storeOf(cluster.nodes, ['GetItem', 'PutItem', 'DeleteItem']),
        ...(allQueues.length ? [allow(['lambda:UpdateEventSourceMapping'], allQueues.map((q) => q.eventSource.eventSourceMappingArn))] : []),
      ],
      { NODE_EVENT_SOURCES: stack.toJsonString(Object.fromEntries(Object.entries(this.nodeQueues).map(([node, q]) => [node, q.eventSource.eventSourceMappingId]))) },
    );

    const measureLag = fn('MeasureLag', 'config-sync/handlers/measure-lag.ts', [
      eventLog(['GetItem']),
      allow(['dynamodb:GetItem'], [this.nodeStore.tableArn]),
    ]);

    const route = (path: string, method: HttpMethod, target: ClusterFunction, authorizer?: IHttpRouteAuthorizer) =>
      addLambdaRoute(props.api, path, method, target, authorizer);
    route('/config/events', HttpMethod.POST, publishEvent, props.nodeAuthorizer);
    route('/nodes', HttpMethod.GET, listNodes, props.readAuthorizer);
    route('/nodes/{node}/catalog', HttpMethod.GET, getCatalog, props.readAuthorizer);
    route('/nodes/{node}/catalog/{type}/{id}', HttpMethod.GET, getCatalogObject, props.readAuthorizer);
    route('/nodes/{node}/resync', HttpMethod.POST, resyncNode, props.nodeAuthorizer);
    route('/nodes/{node}/redrive', HttpMethod.POST, redriveNode, props.nodeAuthorizer);
    // One function serves both switches: one integration, two routes.
    const switchIntegration = new HttpLambdaIntegration('SwitchConsumptionIntegration', switchConsumption);
    for (const path of ['/nodes/{node}/pause', '/nodes/{node}/resume']) {
      props.api.addRoutes({ path, methods: [HttpMethod.POST], integration: switchIntegration, authorizer: props.nodeAuthorizer });
    }

    new Rule(this, 'RepublishSchedule', {
      description: 'Publishes configuration events committed to the log but not yet published, and catches up master stores',
      schedule: Schedule.expression(props.republishSchedule ?? 'rate(1 minute)'),
      targets: [new LambdaFunction(republish)],
    });
    new Rule(this, 'LagSchedule', {
      description: "Records every node's lag behind the event log as a metric, for the lag alarms",
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(measureLag)],
    });
  }
}

/** The function side's filter policy (SNS's JSON form) as CDK subscription filters. */
function subscriptionFilters(policy: Record<string, readonly unknown[]>): Record<string, SubscriptionFilter> {
  return Object.fromEntries(Object.entries(policy).map(([attribute, conditions]) => [attribute, new SubscriptionFilter([...conditions])]));
}
