import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { nodeRolesJson } from '../../lambdas/shared/cluster-model';
import { CREDENTIALS_TABLE } from '../../lambdas/shared/credentials-table';
import { NODE_AUTH_ENV, NODE_AUTH_MANIFEST, type NodeAuthEnv } from '../../lambdas/shared/node-auth-manifest';
import type { ClusterConfig } from '../cluster-config';
import type { ClusterFunction } from './cluster-function';
import { declaredFunction } from './declared-functions';
import { allow } from './routes';

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
    const environment: Record<NodeAuthEnv, string> = {
      [NODE_AUTH_ENV.credentialsTable]: this.credentialsTable.tableName,
      [NODE_AUTH_ENV.clusterNodes]: nodeRolesJson(props.cluster.nodes),
      [NODE_AUTH_ENV.clusterOperators]: JSON.stringify(props.cluster.operators.map((operator) => operator.name)),
    };
    this.authorizerFunction = declaredFunction(this, 'AuthorizeNode', NODE_AUTH_MANIFEST.AuthorizeNode, {
      environment: (name) => environment[name],
      grant: (grant) => [allow([...grant.actions], [this.credentialsTable.tableArn])],
    });
    this.authorizer = new HttpLambdaAuthorizer('NodeAuthorizer', this.authorizerFunction, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: props.cacheTtl ?? Duration.minutes(1),
    });
  }
}
