import { Match } from 'aws-cdk-lib/assertions';
import { XRAY_ACTIONS, functionId, statementsOf, synthesize, type Synthesized } from '../support/synth';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

const actionsOf = (fn: string) =>
  statementsOf(synth.json, functionId(synth.json, fn))
    .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]))
    .filter((action) => !action.startsWith('logs:') && !action.startsWith('xray:'))
    .sort();

describe('execution status table', () => {
  it('is keyed by executionId, on demand, encrypted, with PITR, TTL and retained', () => {
    synth.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'executionId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
  });

  it('has sharded, sparse indexes on completion time and heartbeat', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byCompletionTime',
          KeySchema: [
            { AttributeName: 'completedShard', KeyType: 'HASH' },
            { AttributeName: 'completedSort', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'byHeartbeat',
          KeySchema: [
            { AttributeName: 'activeShard', KeyType: 'HASH' },
            { AttributeName: 'heartbeatSort', KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
  });
});

describe('listing indexes', () => {
  const indexes = () =>
    (Object.values(synth.json.Resources).find((r) => r.Type === 'AWS::DynamoDB::Table' && JSON.stringify(r.Properties.GlobalSecondaryIndexes ?? []).includes('byHeartbeat'))
      ?.Properties.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string; KeySchema: unknown; Projection: unknown }>;

  it.each([
    ['byUser', 'userKey'],
    ['byProcess', 'processKey'],
    ['byNode', 'nodeKey'],
    ['byUserProcess', 'userProcessKey'],
  ])('%s is keyed by %s and listSort and carries only the filter fields, so progress writes leave it alone', (name, partition) => {
    expect(indexes().find((index) => index.IndexName === name)).toEqual({
      IndexName: name,
      KeySchema: [
        { AttributeName: partition, KeyType: 'HASH' },
        { AttributeName: 'listSort', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['phase', 'userName', 'processName', 'nodeId'] },
    });
  });

  it('the table has six indexes of the twenty DynamoDB allows', () => {
    expect(indexes().map((index) => index.IndexName).sort()).toEqual(['byCompletionTime', 'byHeartbeat', 'byNode', 'byProcess', 'byUser', 'byUserProcess']);
  });

  const queriedIndexes = (fn: string) =>
    statementsOf(synth.json, functionId(synth.json, fn))
      .filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:Query'))
      .flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]))
      .map((resource) => JSON.stringify(resource).match(/\/index\/(\w+)/)?.[1])
      .sort();

  it.each([
    ['ListStatuses', ['byCompletionTime', 'byHeartbeat', 'byNode', 'byProcess', 'byUser', 'byUserProcess']],
    ['CleanupExpired', ['byCompletionTime']],
    ['ReapLostExecutions', ['byHeartbeat']],
  ])('%s may query exactly %j', (fn, names) => {
    expect(queriedIndexes(fn)).toEqual(names);
  });

  it('page cursors are signed with a key Secrets Manager generates, given only to the functions that list or sweep', () => {
    synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
    const keyed = Object.values(synth.json.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.STATUS_CURSOR_KEY !== undefined)
      .map((r) => String((r as { Metadata?: Record<string, unknown> }).Metadata?.['aws:cdk:path']).split('/').at(-2))
      .sort();
    expect(keyed).toEqual(['CleanupExpired', 'JobList', 'ListStatuses', 'ReapLostExecutions', 'ReindexStatuses']);
  });
});

describe('API routes', () => {
  const route = (routeKey: string) =>
    Object.values(synth.json.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === routeKey)?.Properties;

  it.each(['PUT /executions/{executionId}', 'DELETE /executions/{executionId}'])('%s needs a node token', (key) => {
    expect(route(key)).toMatchObject({ AuthorizationType: 'CUSTOM' });
  });

  it('GET /executions needs a token by default: a listing hands out the ids that let anyone poll or dismiss', () => {
    expect(route('GET /executions')).toMatchObject({ AuthorizationType: 'CUSTOM' });
  });

  it.each(['GET /executions/{executionId}'])('%s is open by default', (key) => {
    expect(route(key)).toBeDefined();
    expect(route(key)?.AuthorizationType ?? 'NONE').toBe('NONE');
  });

  it('a single switch makes the read routes authenticated too', () => {
    const locked = synthesize({ status: { requireAuthForReads: true } });
    const routes = Object.values(locked.json.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.length).toBeGreaterThanOrEqual(4);
    // All but the CORS preflights, which browsers send without credentials (lambdas/shared/cors.ts),
    // and the console page, which holds no data: it must load so the operator can enter a token,
    // which its own reads then send.
    for (const r of routes.filter((route) => !String(route.Properties.RouteKey).startsWith('OPTIONS '))) {
      if (r.Properties.RouteKey === 'GET /console') expect(r.Properties.AuthorizationType).toBe('NONE');
      else expect(r.Properties).toMatchObject({ AuthorizationType: 'CUSTOM' });
    }
  });

  it('uses a REQUEST Lambda authorizer with simple responses on the Authorization header', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerPayloadFormatVersion: '2.0',
    });
  });

  it('logs access and throttles the default stage', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 1000 }),
    });
  });
});

describe('schedules', () => {
  it.each([
    ['CleanupExpired', 'rate(15 minutes)'],
    ['ReapLostExecutions', 'rate(1 minute)'],
  ])('%s runs on %s', (fn, expression) => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: expression,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(synth.json, fn), 'Arn'] } })],
    });
  });
});

describe('functions', () => {
  it('all run Node.js 22 on arm64 with JSON logs', () => {
    const functions = Object.values(synth.json.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    // 16 for execution status (with the reindex), polling protocols (with the CORS preflight) and the authorizer; 9 for
    // configuration sync plus one apply function per consuming node (cdk.json declares two slaves),
    // with pause/resume, the lag measure and the event log reader, and the consumer of the pure
    // masters' stores' queue (cdk.json declares a pure master), the dead letters' listing and discard; the console.
    expect(functions.length).toBe(34);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' },
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'geo',
            POWERTOOLS_METRICS_NAMESPACE: 'GeoServerCluster',
            POWERTOOLS_LOG_LEVEL: 'INFO',
          },
        },
      });
    }
  });

  it('take their log level from the cluster configuration', () => {
    const debug = synthesize({ observability: { logLevel: 'DEBUG' } });
    const functions = Object.values(debug.json.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties.LoggingConfig.ApplicationLogLevel).toBe('DEBUG');
      expect(fn.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
    }
  });

  it("never set Lambda's log filter above INFO, which would drop every metric line: WARN and ERROR are Powertools' level alone", () => {
    // Powertools' embedded-metric-format lines carry no `level`, which Lambda reads as INFO: with
    // its application log filter at WARN, every custom metric (lag, parked, republish backlog) and
    // so every alarm on one would be dropped in AWS, where the local runtime filters nothing.
    const warn = synthesize({ observability: { logLevel: 'WARN' } });
    const functions = Object.values(warn.json.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties.LoggingConfig.ApplicationLogLevel).toBe('INFO');
      expect(fn.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL).toBe('WARN');
    }
  });

  it('the API writes JSON access logs naming the request id, route, status and calling node', () => {
    const stage = Object.values(synth.json.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage')!;
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      node: '$context.authorizer.nodeId',
      responseLatency: '$context.responseLatency',
    });
  });

  it.each([
    ['PutStatus', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']],
    ['GetStatus', ['dynamodb:GetItem']],
    ['ListStatuses', ['dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan']],
    ['DismissStatus', ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']],
    ['CleanupExpired', ['dynamodb:DeleteItem', 'dynamodb:Query']],
    ['ReapLostExecutions', ['dynamodb:PutItem', 'dynamodb:Query']],
    ['AuthorizeNode', ['dynamodb:GetItem']],
  ])('%s may only %j', (fn, actions) => {
    expect(actionsOf(fn)).toEqual(actions);
  });

  it('no statement grants a wildcard action or resource', () => {
    const statements = Object.values(synth.json.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(JSON.stringify(statement.Action)).not.toMatch(/\*/);
      // Tracing's statement is the one exception: X-Ray has no resource-level permissions.
      if (JSON.stringify(statement.Action) === JSON.stringify(XRAY_ACTIONS)) continue;
      expect(JSON.stringify(statement.Resource)).not.toMatch(/"\*"/);
    }
  });

  it('the poll function can read only the status table', () => {
    const resources = statementsOf(synth.json, functionId(synth.json, 'GetStatus'))
      .filter((s) => JSON.stringify(s.Action).includes('dynamodb'))
      .map((s) => JSON.stringify(s.Resource));
    expect(resources).toHaveLength(1);
    expect(resources[0]).toContain('StatusExecutions');
  });
});

describe('security checks', () => {
  it('cdk-nag AwsSolutions reports no unacknowledged finding', () => {
    const failures = synth.validationReport.pluginReports.filter((report) => report.conclusion === 'failure');
    expect(failures).toEqual([]);
  });
});
