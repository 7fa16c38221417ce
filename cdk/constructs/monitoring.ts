import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, NODE_DIMENSION } from '../../lambdas/shared/metric-names';
import { consumes } from '../../lambdas/shared/cluster-model';
import { gatewayMaster, type ClusterConfig } from '../cluster-config';
import type { ClusterFunction } from './cluster-function';

/**
 * Between the cluster's name and an alarm's in the alarms' names (`<cluster>_<alarm>`): a
 * character no cluster name holds (CLUSTER_NAME_PATTERN: letters, digits and dashes), so the
 * alarm topic's grant (`<cluster>_*`) matches this cluster's alarms alone. With a dash, cluster
 * `geo`'s `geo-*` also matched every alarm of a cluster `geo-test` in the same account and region.
 */
export const ALARM_NAME_SEPARATOR = '_';

/** The most alarms one alarm status widget of a dashboard may list (the dashboard body's `alarms`: 1-100 ARNs). */
const MAX_ALARMS_PER_WIDGET = 100;

export interface MonitoringProps {
  readonly cluster: ClusterConfig;
  /** CloudWatch namespace of the functions' custom metrics. */
  readonly metricsNamespace: string;
  readonly api: HttpApi;
  /** Every function of the cluster, by a name for alarms and the dashboard. */
  readonly functions: Record<string, ClusterFunction>;
  /** Each consuming node's queue and dead-letter queue. */
  readonly nodeQueues: Record<string, { readonly queue: Queue; readonly deadLetterQueue: Queue }>;
  /** The pure masters' catch-up queue and its dead-letter queue, when the cluster has a pure master. */
  readonly masterStores?: { readonly queue: Queue; readonly deadLetterQueue: Queue };
}

/**
 * The cluster's alarms, one SNS topic they notify (with the configured e-mail subscriptions),
 * and one dashboard. Thresholds come from `cluster.observability` (cdk/cluster-config.ts).
 *
 * Written with aws-cloudwatch directly rather than cdk-monitoring-constructs (its aws-cdk-lib
 * peer range would fit): see docs/architecture.md, "Alarms and the dashboard".
 */
export class Monitoring extends Construct {
  readonly alarmTopic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { cluster, metricsNamespace } = props;
    const thresholds = cluster.observability;

    // The topic's own key: CloudWatch alarms publish to an encrypted topic only when the key's
    // policy lets cloudwatch.amazonaws.com use it, which the AWS managed alias/aws/sns key's does not.
    const alarmKey = new Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic of GeoServer cluster ${cluster.name}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    alarmKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      topicName: `${cluster.name}-cluster-alarms`,
      displayName: `GeoServer cluster ${cluster.name} alarms`,
      enforceSSL: true,
      masterKey: alarmKey,
    });
    // The topic's policy (enforceSSL's) replaces SNS's default one, which let the account's
    // principals publish; CloudWatch publishes as its service principal, which no identity policy
    // speaks for, so without this the alarms' notifications are refused. Only this account's
    // alarms of this cluster (all named `<cluster>_...`: ALARM_NAME_SEPARATOR), in this region.
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${cluster.name}${ALARM_NAME_SEPARATOR}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    for (const email of thresholds.alarmEmails) this.alarmTopic.addSubscription(new EmailSubscription(email));
    const notify = new SnsAction(this.alarmTopic);

    // An alarm lives in the stack of what it watches: a node's alarms in the node's nested stack
    // (ConfigSyncService), so that a node costs the cluster's stack no resource beyond its own.
    const homes = new Map<Stack, Construct>([[Stack.of(this), this]]);
    const homeOf = (watched: Construct): Construct => {
      const stack = Stack.of(watched);
      let home = homes.get(stack);
      if (!home) homes.set(stack, (home = new Construct(stack, 'Monitoring')));
      return home;
    };
    /**
     * @param runbook the alarm's entry in docs/operations.md, "When an alarm fires" (its heading,
     * e.g. `<node>-dead-letters`), which the description names last: what a person paged by it
     * reads first.
     */
    const alarm = (
      watched: Construct,
      alarmId: string,
      description: string,
      runbook: string,
      settings: Omit<ConstructorParameters<typeof Alarm>[2], 'alarmDescription' | 'alarmName'>,
    ) => {
      const created = new Alarm(homeOf(watched), alarmId, {
        alarmName: `${cluster.name}${ALARM_NAME_SEPARATOR}${alarmId}`,
        alarmDescription: `${description} Runbook: docs/operations.md, "When an alarm fires", ${runbook}.`,
        ...settings,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    const custom = (metricName: string, statistic: string, dimensions: Record<string, string> = {}, period = Duration.minutes(1)) =>
      new Metric({ namespace: metricsNamespace, metricName, statistic, period, dimensionsMap: { service: cluster.name, ...dimensions } });

    // Per consuming node: dead letters, stale queue.
    for (const [node, { queue, deadLetterQueue }] of Object.entries(props.nodeQueues)) {
      alarm(
        deadLetterQueue,
        `${node}-dead-letters`,
        `Node ${node}'s dead-letter queue holds messages: events it could not apply, or messages set aside as no event of the cluster's log. ` +
          `List them: GET /nodes/${node}/dead-letters. An event: fix the cause, then POST /nodes/${node}/redrive. Set aside: POST /nodes/${node}/dead-letters/discard.`,
        '<node>-dead-letters',
        {
          metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        },
      );
      alarm(queue, `${node}-oldest-message`, `Node ${node} has a queued event older than ${thresholds.oldestMessageAgeSeconds} s: it is down, paused or failing.`, '<node>-oldest-message', {
        metric: queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold: thresholds.oldestMessageAgeSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    if (props.masterStores) {
      // Nothing there needs a redrive (the republish schedule catches the pure masters' stores up
      // to the head), but a batch that failed five times is a fault to look into, not to let age out.
      // `_`, as in the queue's name (masterStoresQueueNames): no node's alarm (`<node>-dead-letters`,
      // a node name has no `_`) can take its name.
      const { deadLetterQueue } = props.masterStores;
      alarm(
        deadLetterQueue,
        'master-stores_dead-letters',
        'CatchUpMasterStores failed a batch five times: it is in the master-stores dead-letter queue. Nothing is lost (the republish schedule catches ' +
          "the pure masters' stores up to the log head); find the cause in the function's log, then purge the queue.",
        'master-stores_dead-letters',
        {
          metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        },
      );
    }
    for (const { name: node } of cluster.nodes) {
      // Every node's store parks what it cannot apply, a pure master's too (its catch-up and its
      // publishes apply with the same applier, and report EventsParked with the node's dimension).
      alarm(props.nodeQueues[node]?.queue ?? this, `${node}-parked`, `Node ${node} parked events it could not apply (a change its GeoServer refused, or one its store cannot take): GET /nodes lists them under parked, with the reason. Fix the cause, then POST /nodes/${node}/redrive.`, '<node>-parked', {
        metric: custom(METRIC.eventsParked, 'Sum', { [NODE_DIMENSION]: node }, Duration.minutes(5)),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm(props.nodeQueues[node]?.queue ?? this, `${node}-lag`, `Node ${node} has been more than ${thresholds.lagThreshold} events behind the log for ${thresholds.lagMinutes} minutes.`, '<node>-lag', {
        metric: custom(METRIC.lag, 'Maximum', { [NODE_DIMENSION]: node }),
        threshold: thresholds.lagThreshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: thresholds.lagMinutes,
        datapointsToAlarm: thresholds.lagMinutes,
        // No measure: the MeasureLag function failed or did not run, which its errors alarm reports.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    // Per function: errors and throttles.
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(fn, `${name}-errors`, `Function ${name} failed (an unhandled error, a timeout or a failed batch).`, '<function>-errors', {
        metric: fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm(fn, `${name}-throttles`, `Function ${name} was throttled: raise its concurrency or the account limit.`, '<function>-throttles', {
        metric: fn.metricThrottles({ statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    // The API: share of 5xx answers.
    const period = Duration.minutes(5);
    const api5xxPercent = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: props.api.metricServerError({ statistic: 'Sum', period }),
        requests: props.api.metricCount({ statistic: 'Sum', period }),
      },
      period,
      label: 'API 5xx %',
    });
    alarm(this, 'api-5xx', `More than ${thresholds.api5xxPercent}% of API requests answered 5xx in 5 minutes.`, 'api-5xx', {
      metric: api5xxPercent,
      threshold: thresholds.api5xxPercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // Publishing: events committed but not on the topic.
    alarm(this, 'republish-backlog', `Committed configuration events have stayed unpublished for ${thresholds.republishBacklogMinutes} minutes: SNS publishes keep failing.`, 'republish-backlog', {
      metric: custom(METRIC.republishBacklog, 'Maximum'),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: thresholds.republishBacklogMinutes,
      datapointsToAlarm: thresholds.republishBacklogMinutes,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // The gateway's crash window: intents whose recovery keeps failing (handlers/recover-gateway-writes.ts).
    if (gatewayMaster(cluster)) alarm(this, 'stale-gateway-intents', 'Gateway writes the master took have stayed unpublished for over 15 minutes: their recovery keeps failing, and master reconciles leave extras meanwhile (docs/operations.md, "When publishing fails").', 'stale-gateway-intents', {
      metric: custom(METRIC.staleGatewayIntents, 'Maximum'),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${cluster.name}-cluster` });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: 8, height: 6 });
    /** One line per node of `nodes` (default: every node), labelled with its name and `suffix`. */
    const perNode = (metricName: string, statistic: string, nodes: readonly { readonly name: string }[] = cluster.nodes, suffix = '') =>
      nodes.map(({ name }) => custom(metricName, statistic, { [NODE_DIMENSION]: name }).with({ label: `${name}${suffix}`, period: Duration.minutes(1) }));
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `# GeoServer cluster \`${cluster.name}\`\nAlarms notify the SNS topic \`${cluster.name}-cluster-alarms\`.`, width: 24, height: 2 }),
    );
    // An alarm status widget shows at most 100 alarms (CloudWatch refuses a dashboard body with
    // more in one): a cluster of more than a few consuming nodes has more, so one widget per 100.
    const alarmPages = Array.from({ length: Math.ceil(this.alarms.length / MAX_ALARMS_PER_WIDGET) }, (_, page) =>
      this.alarms.slice(page * MAX_ALARMS_PER_WIDGET, (page + 1) * MAX_ALARMS_PER_WIDGET),
    );
    for (const [page, alarms] of alarmPages.entries()) {
      const title = alarmPages.length === 1 ? 'Alarms' : `Alarms (${page + 1} of ${alarmPages.length})`;
      this.dashboard.addWidgets(new AlarmStatusWidget({ title, alarms, width: 24, height: 6 }));
    }
    this.dashboard.addWidgets(
      graph('API requests and 5xx', [props.api.metricCount({ statistic: 'Sum', period })], [props.api.metricServerError({ statistic: 'Sum', period })]),
      graph('API 5xx %', [api5xxPercent]),
      graph('API latency p99 (ms)', [props.api.metricLatency({ statistic: 'p99', period }), props.api.metricIntegrationLatency({ statistic: 'p99', period })]),
    );
    this.dashboard.addWidgets(
      graph('Lag (events behind the log)', perNode(METRIC.lag, 'Maximum')),
      graph('Events applied', perNode(METRIC.eventsApplied, 'Sum')),
      graph('Apply latency p99 (ms)', perNode(METRIC.applyLatency, 'p99')),
    );
    // What keeps a consuming node from applying: deliveries that failed (retried, then
    // dead-lettered), messages set aside as no event of the log, events parked; and, for a node
    // with a GeoServer, its GeoServer's REST errors.
    const consuming = cluster.nodes.filter((node) => consumes(node.role));
    const withGeoServer = consuming.filter((node) => node.geoserver !== undefined);
    this.dashboard.addWidgets(
      graph('Apply failures', perNode(METRIC.applyFailures, 'Sum', consuming)),
      graph('Parked and set aside', perNode(METRIC.eventsParked, 'Sum', consuming, ' parked'), perNode(METRIC.messagesSetAside, 'Sum', consuming, ' set aside')),
      ...(withGeoServer.length > 0 ? [graph('GeoServer REST errors', perNode(METRIC.geoServerErrors, 'Sum', withGeoServer))] : []),
    );
    // The pure masters' catch-up queue is drawn beside the nodes' queues, under its own label.
    const queues = [...Object.entries(props.nodeQueues), ...(props.masterStores ? [['master-stores', props.masterStores] as const] : [])];
    this.dashboard.addWidgets(
      graph('Queue depth', queues.map(([node, q]) => q.queue.metricApproximateNumberOfMessagesVisible({ label: node, statistic: 'Maximum', period: Duration.minutes(1) }))),
      graph('Dead-letter depth', queues.map(([node, q]) => q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: node, statistic: 'Maximum', period: Duration.minutes(1) }))),
      graph('Oldest queued event (s)', queues.map(([node, q]) => q.queue.metricApproximateAgeOfOldestMessage({ label: node, statistic: 'Maximum', period: Duration.minutes(1) }))),
    );
    this.dashboard.addWidgets(
      graph(
        'Executions',
        [METRIC.executionsCreated, METRIC.executionsCompleted, METRIC.executionsFailed, METRIC.executionsReaped, METRIC.executionsCleaned].map((name) =>
          custom(name, 'Sum', {}, period).with({ label: name }),
        ),
      ),
      graph(
        'Publishing',
        // With the lag measure's catch-up nudges (catch-up-nudge.ts): nodes sent one, and nudges that failed.
        [METRIC.eventsPublished, METRIC.eventsRepublished, METRIC.republishBacklog, METRIC.nodesNudged, METRIC.nudgeFailures].map((name) =>
          custom(name, name === METRIC.republishBacklog ? 'Maximum' : 'Sum', {}, period).with({ label: name }),
        ),
        [
          custom(METRIC.publishLatency, 'p99', {}, period).with({ label: 'publish latency p99 (ms)' }),
          // The gateway's writes whose recovery keeps failing (their alarm above).
          ...(gatewayMaster(cluster) ? [custom(METRIC.staleGatewayIntents, 'Maximum', {}, period).with({ label: METRIC.staleGatewayIntents })] : []),
        ],
      ),
      graph(
        'Function errors and throttles',
        Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ label: name, statistic: 'Sum', period })),
        Object.entries(props.functions).map(([name, fn]) => fn.metricThrottles({ label: `${name} throttles`, statistic: 'Sum', period })),
      ),
    );
  }
}
