import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CfnRoute, CfnStage, HttpApi, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ClusterConfig } from '../cluster-config';
import { ClusterFunction } from '../constructs/cluster-function';
import { Monitoring } from '../constructs/monitoring';
import { NodeAuth } from '../constructs/node-auth';
import { OperatorConsole } from '../constructs/operator-console';
import { GATEWAY_ROUTE_PATH } from '../../lambdas/config-sync/manifest';
import { ConfigSyncService } from '../constructs/config-sync-service';
import { PollingProtocols } from '../constructs/polling-protocols';
import { StatusService } from '../constructs/status-service';

/** CloudWatch namespace of the functions' custom metrics; the cluster is their `service` dimension. */
export const METRICS_NAMESPACE = 'GeoServerCluster';

/**
 * API Gateway access log lines as JSON, so Logs Insights filters them by field; `requestId` is
 * the `apiRequestId` every function logs for the same request.
 */
const JSON_ACCESS_LOG = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    method: '$context.httpMethod',
    path: '$context.path',
    routeKey: '$context.routeKey',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    node: '$context.authorizer.nodeId',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
  }),
);

export interface ClusterStackProps extends StackProps {
  readonly cluster: ClusterConfig;
}

/**
 * One cluster: its API (one endpoint and one node authorizer for both services) and the
 * services behind it. Services are constructs rather than stacks of their own so that they
 * share the API without cross-stack exports, which would pin each other's deployments.
 */
export class ClusterStack extends Stack {
  readonly cluster: ClusterConfig;
  readonly api: HttpApi;
  readonly nodeAuth: NodeAuth;
  readonly status: StatusService;
  readonly configSync: ConfigSyncService;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    this.cluster = props.cluster;
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new HttpApi(this, 'Api', {
      apiName: `${props.cluster.name}-cluster`,
      description: `Cluster services of GeoServer cluster '${props.cluster.name}'`,
      createDefaultStage: false,
    });
    const stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 1000, burstLimit: 2000 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: JSON_ACCESS_LOG,
      },
    });
    this.nodeAuth = new NodeAuth(this, 'NodeAuth', { cluster: props.cluster });
    this.status = new StatusService(this, 'Status', {
      cluster: props.cluster,
      api: this.api,
      nodeAuthorizer: this.nodeAuth.authorizer,
    });
    new PollingProtocols(this, 'Polling', {
      cluster: props.cluster,
      api: this.api,
      nodeAuthorizer: this.nodeAuth.authorizer,
      statusTable: this.status.table,
      listingIndexArns: this.status.listingIndexArns,
      cursorKeyEnvironment: this.status.cursorKeyEnvironment,
    });
    this.configSync = new ConfigSyncService(this, 'ConfigSync', {
      cluster: props.cluster,
      api: this.api,
      nodeAuthorizer: this.nodeAuth.authorizer,
      readAuthorizer: props.cluster.status.requireAuthForReads ? this.nodeAuth.authorizer : undefined,
    });

    if (props.cluster.gateway.enabled) {
      // The gateway route gets its own, lower throttle than the stage's (cluster.gateway).
      const routeKey = `ANY ${GATEWAY_ROUTE_PATH}`;
      (stage.node.defaultChild as CfnStage).addPropertyOverride('RouteSettings', {
        [routeKey]: {
          ThrottlingRateLimit: props.cluster.gateway.rateLimit,
          ThrottlingBurstLimit: props.cluster.gateway.burstLimit,
        },
      });
      // API Gateway refuses settings of a route it does not have yet ("Unable to find Route by
      // key"): the stage waits for the route when both are created or changed in one deployment.
      const route = this.api.node.findAll().find((child): child is CfnRoute => child instanceof CfnRoute && child.routeKey === routeKey);
      if (!route) throw new Error(`cluster.gateway is enabled, but the API has no route ${routeKey}`);
      stage.node.addDependency(route);
    }
    new OperatorConsole(this, 'Console', { api: this.api });

    // Every function logs and counts for this cluster, at the configured level, and is alarmed on.
    const functions = this.node.findAll().filter((child): child is ClusterFunction => child instanceof ClusterFunction);
    for (const fn of functions) {
      fn.observe({ serviceName: props.cluster.name, metricsNamespace: METRICS_NAMESPACE, logLevel: props.cluster.observability.logLevel });
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      cluster: props.cluster,
      metricsNamespace: METRICS_NAMESPACE,
      api: this.api,
      // Named by their place in the cluster: `Status-GetStatus`, `ConfigSync-<node>-Apply`.
      functions: Object.fromEntries(functions.map((fn) => [fn.node.path.split('/').slice(1).join('-'), fn])),
      nodeQueues: this.configSync.nodeQueues,
      ...(this.configSync.masterStores ? { masterStores: this.configSync.masterStores } : {}),
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the cluster API' });
    new CfnOutput(this, 'CredentialsTableName', {
      value: this.nodeAuth.credentialsTable.tableName,
      description: 'Where `npm run node-token` stores node token hashes',
    });
    new CfnOutput(this, 'StatusTableName', { value: this.status.table.tableName });
    new CfnOutput(this, 'ConfigTopicArn', { value: this.configSync.topic.topicArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.alarmTopic.topicArn, description: 'Subscribe here to receive the cluster alarms' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    for (const acknowledgement of [
      {
        id: 'AwsSolutions-L1',
        reason: 'Functions run on Node.js 22, the runtime this project is built and tested on; moving runtime is a deliberate upgrade.',
      },
    ]) {
      Validations.of(this).acknowledge(acknowledgement);
    }
  }
}
