import * as path from 'node:path';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../../local/account';
import { readTopology, resolver, type CfnTemplate } from '../../../local/template';

const endpoints = {
  queueUrl: (name: string) => `http://sqs.local:9324/${LOCAL_ACCOUNT_ID}/${name}`,
  secretString: (logicalId: string) => `value-of-${logicalId}`,
};
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

// A small stack in the shape CDK synthesizes.
const template: CfnTemplate = {
  Resources: {
    StatusTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'geo-status',
        KeySchema: [{ AttributeName: 'executionId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'executionId', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    },
    UnnamedTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'nodeId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'nodeId', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: false },
      },
    },
    PutStatusRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [
          {
            PolicyName: 'inline',
            PolicyDocument: {
              Statement: [{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [getAtt('StatusTable'), '/index/*']] } }],
            },
          },
        ],
      },
    },
    PutStatusPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: getAtt('StatusTable') },
            { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: '*' },
          ],
        },
        Roles: [{ Ref: 'PutStatusRole' }],
      },
    },
    OtherRolePolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] },
        Roles: [{ Ref: 'SomeOtherRole' }],
      },
    },
    PutStatusFn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Handler: 'index.handler',
        Role: getAtt('PutStatusRole'),
        Timeout: 10,
        Environment: {
          Variables: {
            TABLE_NAME: { Ref: 'StatusTable' },
            QUEUE_URL: { Ref: 'ChangesQueue' },
            TOPIC_ARN: { Ref: 'ChangesTopic' },
            RETRY: 5,
            FLAG: true,
          },
        },
      },
      Metadata: { 'aws:cdk:path': 'geo-cluster/Status/PutStatus/Resource', 'aws:asset:path': 'asset.put' },
    },
    AuthorizeFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'auth/main.authorize' },
      Metadata: { 'aws:cdk:path': 'geo-cluster/NodeAuth/AuthorizeNode/Resource', 'aws:asset:path': 'asset.auth' },
    },
    CursorKey: { Type: 'AWS::SecretsManager::Secret', Properties: { GenerateSecretString: { PasswordLength: 64 } } },
    CleanupFn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Handler: 'index.handler',
        Timeout: 60,
        // As CDK renders `secret.secretValue` into an environment variable.
        Environment: { Variables: { KEY: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: 'CursorKey' }, ':SecretString:::}}']] } } },
      },
      Metadata: { 'aws:cdk:path': 'geo-cluster/Status/CleanupExpired/Resource', 'aws:asset:path': 'asset.cleanup' },
    },
    ApplyFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler' },
      Metadata: { 'aws:cdk:path': 'geo-cluster/ConfigSync/Apply-slave-1/Resource', 'aws:asset:path': 'asset.apply' },
    },
    CustomResourceProviderFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Code: { ZipFile: 'exports.handler = () => {}' } },
      Metadata: { 'aws:cdk:path': 'geo-cluster/Custom/Resource' },
    },
    Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'geo', ProtocolType: 'HTTP' } },
    NodeAuthorizer: {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: { Ref: 'Api' },
        AuthorizerType: 'REQUEST',
        AuthorizerResultTtlInSeconds: 60,
        AuthorizerUri: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':apigateway:',
              { Ref: 'AWS::Region' },
              ':lambda:path/2015-03-31/functions/',
              getAtt('AuthorizeFn'),
              '/invocations',
            ],
          ],
        },
        IdentitySource: ['$request.header.Authorization'],
      },
    },
    PutStatusIntegration: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: { ApiId: { Ref: 'Api' }, IntegrationType: 'AWS_PROXY', IntegrationUri: getAtt('PutStatusFn') },
    },
    PutStatusRoute: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: 'Api' },
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: 'NodeAuthorizer' },
        RouteKey: 'PUT /executions/{executionId}',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'PutStatusIntegration' }]] },
      },
    },
    GetStatusRoute: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: 'Api' },
        AuthorizationType: 'NONE',
        RouteKey: 'GET /executions/{executionId}',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'PutStatusIntegration' }]] },
      },
    },
    DanglingRoute: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: { ApiId: { Ref: 'Api' }, RouteKey: 'GET /nowhere', Target: 'integrations/unknown' },
    },
    CleanupSchedule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: [{ Arn: getAtt('CleanupFn'), Id: 'Target0' }],
      },
      Metadata: { 'aws:cdk:path': 'geo-cluster/Status/CleanupSchedule/Resource' },
    },
    DisabledSchedule: {
      Type: 'AWS::Events::Rule',
      Properties: { ScheduleExpression: 'rate(1 day)', State: 'DISABLED', Targets: [{ Arn: getAtt('CleanupFn'), Id: 'T' }] },
    },
    EventPatternRule: {
      Type: 'AWS::Events::Rule',
      Properties: { EventPattern: { source: ['aws.s3'] }, Targets: [{ Arn: getAtt('CleanupFn'), Id: 'T' }] },
    },
    ChangesTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: 'geo-config-changes.fifo', FifoTopic: true, ContentBasedDeduplication: false },
    },
    PlainTopic: { Type: 'AWS::SNS::Topic', Properties: {} },
    ChangesQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: 'geo-slave-1.fifo',
        FifoQueue: true,
        ContentBasedDeduplication: false,
        MessageRetentionPeriod: 1209600,
        VisibilityTimeout: 180,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt('ChangesDlq'), maxReceiveCount: 5 },
      },
    },
    ChangesDlq: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true, MessageRetentionPeriod: 1209600 } },
    ChangesSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'ChangesTopic' },
        Endpoint: getAtt('ChangesQueue'),
        RawMessageDelivery: true,
        FilterPolicy: { origin: [{ 'anything-but': ['slave-1'] }] },
      },
    },
    EmailSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'email', TopicArn: { Ref: 'PlainTopic' }, Endpoint: 'ops@example.com' },
    },
    ApplySource: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        BatchSize: 7,
        EventSourceArn: getAtt('ChangesQueue'),
        FunctionName: { Ref: 'ApplyFn' },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    },
    DefaultBatchSource: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { EventSourceArn: getAtt('ChangesDlq'), FunctionName: { Ref: 'ApplyFn' } },
    },
    StreamSource: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { EventSourceArn: getAtt('StatusTable', 'StreamArn'), FunctionName: { Ref: 'ApplyFn' } },
    },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
  },
};

describe('resolver', () => {
  const resolve = resolver(template, endpoints);

  it('resolves Ref of a table to its table name, or its logical id when unnamed', () => {
    expect(resolve({ Ref: 'StatusTable' })).toBe('geo-status');
    expect(resolve({ Ref: 'UnnamedTable' })).toBe('UnnamedTable');
  });

  it('resolves Ref of a queue to its URL through the endpoints', () => {
    expect(resolve({ Ref: 'ChangesQueue' })).toBe(`http://sqs.local:9324/${LOCAL_ACCOUNT_ID}/geo-slave-1.fifo`);
    // An unnamed FIFO queue gets the .fifo suffix SQS requires.
    expect(resolve({ Ref: 'ChangesDlq' })).toBe(`http://sqs.local:9324/${LOCAL_ACCOUNT_ID}/ChangesDlq.fifo`);
  });

  it('resolves Ref of a topic to its ARN', () => {
    expect(resolve({ Ref: 'ChangesTopic' })).toBe(`arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:geo-config-changes.fifo`);
    expect(resolve({ Ref: 'PlainTopic' })).toBe(`arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:PlainTopic`);
  });

  it('resolves Ref of a function or bucket to its name, and an unknown Ref to itself', () => {
    expect(resolve({ Ref: 'PutStatusFn' })).toBe('PutStatusFn');
    expect(resolve({ Ref: 'Bucket' })).toBe('bucket');
    expect(resolve({ Ref: 'SomeParameter' })).toBe('SomeParameter');
  });

  it('resolves the pseudo parameters', () => {
    expect(resolve({ Ref: 'AWS::Region' })).toBe('us-east-1');
    expect(resolve({ Ref: 'AWS::AccountId' })).toBe('000000000000');
    expect(resolve({ Ref: 'AWS::Partition' })).toBe('aws');
    expect(resolve({ Ref: 'AWS::URLSuffix' })).toBe('amazonaws.com');
  });

  it.each([
    ['StatusTable', `arn:aws:dynamodb:us-east-1:000000000000:table/geo-status`],
    ['ChangesQueue', `arn:aws:sqs:us-east-1:000000000000:geo-slave-1.fifo`],
    ['ChangesTopic', `arn:aws:sns:us-east-1:000000000000:geo-config-changes.fifo`],
    ['PutStatusFn', `arn:aws:lambda:us-east-1:000000000000:function:PutStatusFn`],
    ['Bucket', 'arn:aws:s3:::bucket'],
  ])('resolves Fn::GetAtt %s.Arn', (id, arn) => {
    expect(resolve(getAtt(id))).toBe(arn);
  });

  it('resolves the queue and topic name and URL attributes', () => {
    expect(resolve(getAtt('ChangesQueue', 'QueueName'))).toBe('geo-slave-1.fifo');
    expect(resolve(getAtt('ChangesQueue', 'QueueUrl'))).toBe(`http://sqs.local:9324/${LOCAL_ACCOUNT_ID}/geo-slave-1.fifo`);
    expect(resolve(getAtt('ChangesTopic', 'TopicName'))).toBe('geo-config-changes.fifo');
  });

  it('refuses Fn::GetAtt of an unknown resource', () => {
    expect(() => resolve(getAtt('Missing'))).toThrow('Template references unknown resource Missing');
  });

  it('resolves Fn::Join over resolved parts', () => {
    expect(
      resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:', { Ref: 'AWS::Region' }, ':table/', { Ref: 'StatusTable' }]] }),
    ).toBe('arn:aws:dynamodb:us-east-1:table/geo-status');
    expect(resolve({ 'Fn::Join': [',', ['a', 1, true]] })).toBe('a,1,true');
  });

  it('resolves Fn::Select over Fn::Split', () => {
    const arn = getAtt('ChangesTopic');
    expect(resolve({ 'Fn::Select': [5, { 'Fn::Split': [':', arn] }] })).toBe('geo-config-changes.fifo');
    expect(resolve({ 'Fn::Select': ['3', { 'Fn::Split': [':', arn] }] })).toBe('us-east-1');
    expect(resolve({ 'Fn::Select': [9, { 'Fn::Split': [':', arn] }] })).toBeNull();
    expect(resolve({ 'Fn::Select': [1, ['a', { Ref: 'StatusTable' }]] })).toBe('geo-status');
  });

  it('resolves inside objects and arrays and leaves scalars alone', () => {
    expect(resolve({ names: [{ Ref: 'StatusTable' }, 'x', 3, null, false], nested: { region: { Ref: 'AWS::Region' } } })).toEqual({
      names: ['geo-status', 'x', 3, null, false],
      nested: { region: 'us-east-1' },
    });
  });
});

describe('readTopology', () => {
  const assemblyDir = path.join('/tmp', 'cdk.out');
  const topology = readTopology(template, assemblyDir, endpoints);

  it('reads the tables with their keys and TTL attribute', () => {
    expect(topology.tables).toEqual([
      {
        logicalId: 'StatusTable',
        tableName: 'geo-status',
        keySchema: [{ AttributeName: 'executionId', KeyType: 'HASH' }],
        attributeDefinitions: [{ AttributeName: 'executionId', AttributeType: 'S' }],
        globalSecondaryIndexes: undefined,
        ttlAttribute: 'expiresAt',
      },
      expect.objectContaining({ logicalId: 'UnnamedTable', tableName: 'UnnamedTable', ttlAttribute: undefined }),
    ]);
  });

  it('reads only the bundled functions, with bundle file, handler, resolved environment and timeout', () => {
    expect([...topology.functions.keys()].sort()).toEqual(['ApplyFn', 'AuthorizeFn', 'CleanupFn', 'PutStatusFn']);
    expect(topology.functions.get('PutStatusFn')).toEqual({
      logicalId: 'PutStatusFn',
      name: 'Status/PutStatus',
      bundleFile: path.join(assemblyDir, 'asset.put', 'index.js'),
      handlerExport: 'handler',
      environment: {
        TABLE_NAME: 'geo-status',
        QUEUE_URL: `http://sqs.local:9324/${LOCAL_ACCOUNT_ID}/geo-slave-1.fifo`,
        TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:geo-config-changes.fifo',
        RETRY: '5',
        FLAG: 'true',
      },
      timeoutMs: 10_000,
      policy: [
        { effect: 'Allow', actions: ['dynamodb:Query'], resources: ['arn:aws:dynamodb:us-east-1:000000000000:table/geo-status/index/*'] },
        { effect: 'Allow', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: ['arn:aws:dynamodb:us-east-1:000000000000:table/geo-status'] },
        { effect: 'Deny', actions: ['dynamodb:DeleteItem'], resources: ['*'] },
      ],
    });
    // A function without a role has no permissions at all.
    expect(topology.functions.get('CleanupFn')?.policy).toEqual([]);
  });

  it('puts the local value of a generated secret where the environment resolves it on deploy', () => {
    expect(topology.functions.get('CleanupFn')?.environment).toEqual({ KEY: 'value-of-CursorKey' });
    const broken = structuredClone(template);
    const cleanup = broken.Resources.CleanupFn as unknown as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    cleanup.Properties.Environment.Variables.KEY = '{{resolve:secretsmanager:StatusTable:SecretString:::}}';
    expect(() => readTopology(broken, assemblyDir, endpoints)).toThrow('which is no secret of the template');
  });

  it('splits a handler at its last dot and defaults the timeout to 3 s', () => {
    expect(topology.functions.get('AuthorizeFn')).toMatchObject({
      name: 'NodeAuth/AuthorizeNode',
      bundleFile: path.join(assemblyDir, 'asset.auth', 'auth/main.js'),
      handlerExport: 'authorize',
      environment: {},
      timeoutMs: 3000,
    });
  });

  it('refuses to serve a CUSTOM route whose authorizer it cannot resolve, rather than serve it open', () => {
    const broken = structuredClone(template);
    for (const resource of Object.values(broken.Resources)) {
      if (resource.Type === 'AWS::ApiGatewayV2::Route' && resource.Properties?.AuthorizationType === 'CUSTOM') {
        resource.Properties.AuthorizerId = { Ref: 'NoSuchAuthorizer' };
      }
    }
    expect(() => readTopology(broken, assemblyDir, endpoints)).toThrow('needs an authorizer the local runtime cannot resolve');
  });

  it('reads the routes with their function and, for CUSTOM routes, the REQUEST authorizer', () => {
    expect(topology.routes).toHaveLength(2);
    expect(topology.routes).toEqual(
      expect.arrayContaining([
        {
          method: 'PUT',
          path: '/executions/{executionId}',
          functionId: 'PutStatusFn',
          authorizer: { functionId: 'AuthorizeFn', identitySource: ['$request.header.Authorization'], cacheTtlSeconds: 60 },
        },
        { method: 'GET', path: '/executions/{executionId}', functionId: 'PutStatusFn', authorizer: undefined },
      ]),
    );
  });

  it('reads enabled schedules with their target functions', () => {
    expect(topology.schedules).toEqual([{ name: 'CleanupSchedule', expression: 'rate(15 minutes)', functionIds: ['CleanupFn'] }]);
  });

  it('reads topics, FIFO or not', () => {
    expect(topology.topics).toEqual([
      { logicalId: 'ChangesTopic', topicName: 'geo-config-changes.fifo', fifo: true, contentBasedDeduplication: false },
      { logicalId: 'PlainTopic', topicName: 'PlainTopic', fifo: false, contentBasedDeduplication: false },
    ]);
  });

  it('reads queues with their attributes and the dead-letter queue link', () => {
    expect(topology.queues).toEqual([
      {
        logicalId: 'ChangesQueue',
        queueName: 'geo-slave-1.fifo',
        fifo: true,
        attributes: {
          FifoQueue: 'true',
          ContentBasedDeduplication: 'false',
          MessageRetentionPeriod: '1209600',
          VisibilityTimeout: '180',
        },
        deadLetterQueueId: 'ChangesDlq',
        maxReceiveCount: 5,
      },
      {
        logicalId: 'ChangesDlq',
        queueName: 'ChangesDlq.fifo',
        fifo: true,
        attributes: { FifoQueue: 'true', MessageRetentionPeriod: '1209600' },
        deadLetterQueueId: undefined,
        maxReceiveCount: undefined,
      },
    ]);
  });

  it('reads SQS subscriptions with raw delivery and the filter policy, and skips other protocols', () => {
    expect(topology.subscriptions).toEqual([
      {
        topicId: 'ChangesTopic',
        queueId: 'ChangesQueue',
        rawMessageDelivery: true,
        filterPolicy: { origin: [{ 'anything-but': ['slave-1'] }] },
      },
    ]);
  });

  it('reads SQS event sources with batch size (default 10) and partial batch failures, and skips other sources', () => {
    expect(topology.queueSources).toEqual([
      { logicalId: 'ApplySource', queueId: 'ChangesQueue', functionId: 'ApplyFn', batchSize: 7, reportBatchItemFailures: true },
      { logicalId: 'DefaultBatchSource', queueId: 'ChangesDlq', functionId: 'ApplyFn', batchSize: 10, reportBatchItemFailures: false },
    ]);
  });

  it('reads buckets', () => {
    expect(topology.buckets).toEqual([{ logicalId: 'Bucket', bucketName: 'bucket' }]);
  });
});
