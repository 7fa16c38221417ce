import { RemovalPolicy } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { COMPLETION_INDEX, HEARTBEAT_INDEX } from '../../lambdas/status/adapters/dynamo-status-store';
import type { ClusterConfig } from '../cluster-config';
import { ClusterFunction } from './cluster-function';
import { addLambdaRoute, allow } from './routes';

export interface StatusServiceProps {
  readonly cluster: ClusterConfig;
  readonly api: HttpApi;
  /** Authorizer of node (write) routes; read routes use it too when `requireAuthForReads` is set. */
  readonly nodeAuthorizer: IHttpRouteAuthorizer;
}

/**
 * The shared execution status map: the table GeoServer kept in Hazelcast, the API that nodes
 * write and clients poll, and the scheduled cleanup and reaper.
 */
export class StatusService extends Construct {
  readonly table: Table;
  readonly functions: Record<string, ClusterFunction> = {};

  constructor(scope: Construct, id: string, props: StatusServiceProps) {
    super(scope, id);
    const settings = props.cluster.status;

    this.table = new Table(this, 'Executions', {
      partitionKey: { name: 'executionId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Sparse and write-sharded: see lambdas/status/adapters/dynamo-status-store.ts.
    this.table.addGlobalSecondaryIndex({
      indexName: COMPLETION_INDEX,
      partitionKey: { name: 'completedShard', type: AttributeType.STRING },
      sortKey: { name: 'completedSort', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: HEARTBEAT_INDEX,
      partitionKey: { name: 'activeShard', type: AttributeType.STRING },
      sortKey: { name: 'heartbeatSort', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    const environment = {
      STATUS_TABLE_NAME: this.table.tableName,
      STATUS_INDEX_SHARDS: String(settings.indexShards),
      STATUS_RETENTION_MINUTES: String(settings.retentionMinutes),
      HEARTBEAT_TIMEOUT_SECONDS: String(settings.heartbeatTimeoutSeconds),
      DEFAULT_RETRY_AFTER_SECONDS: String(settings.defaultRetryAfterSeconds),
    };
    const tableArn = this.table.tableArn;
    const indexArn = (name: string) => `${tableArn}/index/${name}`;
    const fn = (name: string, entry: string, statements: PolicyStatement[]) => {
      const created = new ClusterFunction(this, name, { entry, environment });
      statements.forEach((statement) => created.addToRolePolicy(statement));
      this.functions[name] = created;
      return created;
    };

    const putStatus = fn('PutStatus', 'status/handlers/put-status.ts', [
      allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [tableArn]),
    ]);
    const getStatus = fn('GetStatus', 'status/handlers/get-status.ts', [allow(['dynamodb:GetItem'], [tableArn])]);
    const listStatuses = fn('ListStatuses', 'status/handlers/list-statuses.ts', [
      allow(['dynamodb:Query'], [indexArn(COMPLETION_INDEX), indexArn(HEARTBEAT_INDEX)]),
      allow(['dynamodb:Scan'], [tableArn]),
    ]);
    const dismissStatus = fn('DismissStatus', 'status/handlers/dismiss-status.ts', [
      allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], [tableArn]),
    ]);
    const cleanup = fn('CleanupExpired', 'status/handlers/cleanup.ts', [
      allow(['dynamodb:Query'], [indexArn(COMPLETION_INDEX)]),
      allow(['dynamodb:DeleteItem'], [tableArn]),
    ]);
    const reaper = fn('ReapLostExecutions', 'status/handlers/reap-lost.ts', [
      allow(['dynamodb:Query'], [indexArn(HEARTBEAT_INDEX)]),
      allow(['dynamodb:PutItem'], [tableArn]),
    ]);

    const readAuthorizer = settings.requireAuthForReads ? props.nodeAuthorizer : undefined;
    const route = (path: string, method: HttpMethod, target: ClusterFunction, authorizer?: IHttpRouteAuthorizer) =>
      addLambdaRoute(props.api, path, method, target, authorizer);
    route('/executions/{executionId}', HttpMethod.PUT, putStatus, props.nodeAuthorizer);
    route('/executions/{executionId}', HttpMethod.DELETE, dismissStatus, props.nodeAuthorizer);
    route('/executions/{executionId}', HttpMethod.GET, getStatus, readAuthorizer);
    route('/executions', HttpMethod.GET, listStatuses, readAuthorizer);

    new Rule(this, 'CleanupSchedule', {
      description: 'Removes completed execution statuses past their retention',
      schedule: Schedule.expression(settings.cleanupSchedule),
      targets: [new LambdaFunction(cleanup)],
    });
    new Rule(this, 'ReaperSchedule', {
      description: 'Fails executions whose node stopped sending heartbeats',
      schedule: Schedule.expression(settings.reaperSchedule),
      targets: [new LambdaFunction(reaper)],
    });
  }
}
