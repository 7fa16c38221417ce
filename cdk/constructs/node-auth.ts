import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { nodeRolesJson } from '../../lambdas/shared/cluster-model';
import { CREDENTIALS_TABLE } from '../../lambdas/shared/credentials-table';
import type { ClusterConfig } from '../cluster-config';
import { ClusterFunction } from './cluster-function';

export interface NodeAuthProps {
  readonly cluster: ClusterConfig;
  /** How long API Gateway caches a verdict per token; a revoked token works this long. @default Duration.minutes(1) */
  readonly cacheTtl?: Duration;
}

/**
 * Identity for every write and listing route: a credentials table holding a hash of each node's
 * and operator's token and a Lambda authorizer that checks it and hands the caller's name and
 * role (a node's, or `operator`) to the route.
 * A Lambda authorizer, rather than IAM auth, behaves the same in AWS and in the local runtime.
 */
export class NodeAuth extends Construct {
  readonly credentialsTable: Table;
  readonly authorizer: HttpLambdaAuthorizer;
  readonly authorizerFunction: ClusterFunction;

  constructor(scope: Construct, id: string, props: NodeAuthProps) {
    super(scope, id);
    this.credentialsTable = new Table(this, 'Credentials', {
      partitionKey: { name: CREDENTIALS_TABLE.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.authorizerFunction = new ClusterFunction(this, 'AuthorizeNode', {
      entry: 'shared/handlers/authorize-node.ts',
      environment: {
        CREDENTIALS_TABLE_NAME: this.credentialsTable.tableName,
        CLUSTER_NODES: nodeRolesJson(props.cluster.nodes),
        CLUSTER_OPERATORS: JSON.stringify(props.cluster.operators.map((operator) => operator.name)),
      },
    });
    this.credentialsTable.grant(this.authorizerFunction, 'dynamodb:GetItem');
    this.authorizer = new HttpLambdaAuthorizer('NodeAuthorizer', this.authorizerFunction, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: props.cacheTtl ?? Duration.minutes(1),
    });
  }
}
