/**
 * The GeoServer REST gateway in the synthesized stack: switched on by cluster.gateway, one
 * `ANY /geoserver/rest/{proxy+}` route with no authorizer of the cluster's (GeoServer's own
 * Basic authentication decides), a function that knows only the master's GeoServer URL, may
 * publish as that master and nothing else, runs in its VPC, and a throttle of its own.
 */
import {
  API_GATEWAY_TIMEOUT_MS,
  LEASE_TTL_MS,
  LEASE_WAIT_MS,
  PUBLISH_RESERVE_MS,
  REQUEST_BUDGET_MS,
} from '../../lambdas/config-sync/gateway/limits';
import { runbookEntries, runbookEntryOf } from '../support/runbook';
import { METRIC } from '../../lambdas/shared/metric-names';
import { actionsOfStatement, functionId, logicalIdsOf, statementsOf, synthesize, type Synthesized } from '../support/synth';

const NODES = [
  { name: 'master-1', role: 'master' },
  {
    name: 'gs-main',
    role: 'both',
    geoserver: {
      url: 'http://10.0.3.20:8080/geoserver',
      credentialsSecret: 'geo/gs-main',
      network: { vpcId: 'vpc-0a1b2c3d', subnetIds: ['subnet-0a1b2c3d'], securityGroupIds: ['sg-0a1b2c3d'], reachAws: 'nat' },
    },
  },
  { name: 'gs-1', role: 'slave', geoserver: { url: 'http://10.0.3.21:8080/geoserver', credentialsSecret: 'geo/gs-1' } },
];

const gatewayFunction = (json: Synthesized['json']) =>
  logicalIdsOf(json, 'AWS::Lambda::Function').find((id) => json.Resources[id]!.Properties.Environment?.Variables?.GATEWAY_MASTER_NODE);

describe('switched on', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({
      nodes: NODES,
      operators: [{ name: 'ops' }],
      gateway: { enabled: true, rateLimit: 5, burstLimit: 10, allowedSourceIps: ['203.0.113.0/24', '2001:db8::/32'] },
    });
  });

  test('one ANY route to the gateway function, without an authorizer, throttled on its own', () => {
    const routes = logicalIdsOf(synth.json, 'AWS::ApiGatewayV2::Route')
      .map((id) => synth.json.Resources[id]!.Properties)
      .filter((route) => route.RouteKey.includes('/geoserver/rest'));
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ RouteKey: 'ANY /geoserver/rest/{proxy+}' });
    expect(routes[0]!.AuthorizerId).toBeUndefined();
    expect(routes[0]!.AuthorizationType ?? 'NONE').toBe('NONE');
    const stage = logicalIdsOf(synth.json, 'AWS::ApiGatewayV2::Stage').map((id) => synth.json.Resources[id]!.Properties)[0]!;
    expect(stage.RouteSettings).toEqual({ 'ANY /geoserver/rest/{proxy+}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 } });
  });

  test('the stage is deployed after the route its settings name (API Gateway refuses settings of a route it does not have yet)', () => {
    // Created in one deployment (a new cluster, or the gateway switched on), a stage whose
    // RouteSettings name a route not created yet fails: "Unable to find Route by key ...".
    const [stageId] = logicalIdsOf(synth.json, 'AWS::ApiGatewayV2::Stage');
    const routeId = logicalIdsOf(synth.json, 'AWS::ApiGatewayV2::Route').find((id) => synth.json.Resources[id]!.Properties.RouteKey === 'ANY /geoserver/rest/{proxy+}');
    expect(routeId).toBeDefined();
    const dependsOn = (synth.json.Resources[stageId!] as { DependsOn?: string | string[] }).DependsOn;
    expect([dependsOn ?? []].flat()).toContain(routeId);
  });

  test("the function knows the master's GeoServer URL and its secret's name (no credentials), may read that secret alone (its read-backs), and runs in its VPC", () => {
    const id = gatewayFunction(synth.json)!;
    const properties = synth.json.Resources[id]!.Properties;
    const variables = properties.Environment.Variables as Record<string, string>;
    expect(variables).toMatchObject({ GATEWAY_MASTER_NODE: 'gs-main', GATEWAY_GEOSERVER_URL: 'http://10.0.3.20:8080/geoserver', GEOSERVER_CREDENTIALS_SECRET: 'geo/gs-main' });
    // The secret's name, never credentials themselves.
    const { GEOSERVER_CREDENTIALS_SECRET: _, ...others } = variables;
    expect(JSON.stringify(others)).not.toMatch(/CREDENTIALS|password/i);
    expect(properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0a1b2c3d'], SecurityGroupIds: ['sg-0a1b2c3d'] });
    const statements = statementsOf(synth.json, id);
    const secrets = statements.filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('secretsmanager:')));
    expect(secrets).toHaveLength(1);
    expect(actionsOfStatement(secrets[0]!)).toEqual(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(secrets[0]!.Resource)).toContain('geo/gs-main');
    expect(JSON.stringify(secrets[0]!.Resource)).not.toContain('geo/gs-1');
    expect(statements.flatMap(actionsOfStatement)).toContain('sns:Publish');
  });

  test('its allow list reaches the function, which checks each caller against it', () => {
    const variables = synth.json.Resources[gatewayFunction(synth.json)!]!.Properties.Environment.Variables;
    expect(JSON.parse(variables.GATEWAY_ALLOWED_SOURCE_IPS)).toEqual(['203.0.113.0/24', '2001:db8::/32']);
  });

  test("the operators' names reach it, whose tokens it refuses like the nodes' rather than pass them to the master", () => {
    const variables = synth.json.Resources[gatewayFunction(synth.json)!]!.Properties.Environment.Variables;
    expect(JSON.parse(variables.CLUSTER_OPERATORS)).toEqual(['ops']);
  });

  test("it writes only the master's own node store items", () => {
    const id = gatewayFunction(synth.json)!;
    const keyed = statementsOf(synth.json, id).filter((statement) => statement.Condition?.['ForAllValues:StringEquals']);
    expect(keyed.map((statement) => statement.Condition!['ForAllValues:StringEquals'])).toEqual([{ 'dynamodb:LeadingKeys': ['gs-main'] }]);
  });

  test("it sends messages to the master's queue alone (an upload's capture), no other node's", () => {
    const id = gatewayFunction(synth.json)!;
    const sends = statementsOf(synth.json, id).filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('sqs:')));
    expect(sends.flatMap(actionsOfStatement)).toEqual(['sqs:SendMessage']);
    const queues = sends.flatMap((statement) => [statement.Resource].flat()).map((resource) => JSON.stringify(resource));
    expect(queues).toHaveLength(1);
    expect(queues[0]).toMatch(/gsmainqueue/);
  });

  test('its timeout leaves the request budget room, stays under API Gateway\'s, and a dead holder\'s write lease outlasts it', () => {
    const id = gatewayFunction(synth.json)!;
    const timeoutSeconds = synth.json.Resources[id]!.Properties.Timeout as number;
    expect(timeoutSeconds).toBe(29);
    expect(REQUEST_BUDGET_MS).toBeLessThan(timeoutSeconds * 1000);
    expect(timeoutSeconds * 1000).toBeLessThan(API_GATEWAY_TIMEOUT_MS);
    // a live holder is stopped by Lambda before its lease could expire under it
    expect(LEASE_TTL_MS).toBeGreaterThan(timeoutSeconds * 1000 + 5000);
    expect(LEASE_WAIT_MS + PUBLISH_RESERVE_MS).toBeLessThan(REQUEST_BUDGET_MS);
  });

  test("its sweep runs on the republish schedule, reads the master's GeoServer with the master's own secret alone, in its VPC, and publishes as that master only", () => {
    const id = functionId(synth.json, 'RecoverGatewayWrites');
    expect(id).toBeDefined();
    const properties = synth.json.Resources[id]!.Properties;
    expect(properties.Environment.Variables).toMatchObject({ NODE_NAME: 'gs-main', GEOSERVER_URL: 'http://10.0.3.20:8080/geoserver' });
    expect(properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0a1b2c3d'], SecurityGroupIds: ['sg-0a1b2c3d'] });
    const statements = statementsOf(synth.json, id);
    const secrets = statements.filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('secretsmanager:')));
    expect(secrets).toHaveLength(1);
    expect(JSON.stringify(secrets[0]!.Resource)).toContain('geo/gs-main');
    expect(JSON.stringify(secrets[0]!.Resource)).not.toContain('geo/gs-1');
    const keyed = statements.filter((statement) => statement.Condition?.['ForAllValues:StringEquals']);
    expect(keyed.map((statement) => statement.Condition!['ForAllValues:StringEquals'])).toEqual([{ 'dynamodb:LeadingKeys': ['gs-main'] }]);
    const rules = logicalIdsOf(synth.json, 'AWS::Events::Rule').map((rule) => synth.json.Resources[rule]!.Properties);
    const rule = rules.find((candidate) => JSON.stringify(candidate.Targets).includes(id));
    expect(rule).toMatchObject({ ScheduleExpression: 'rate(1 minute)' });
    // An upload's intent is recovered by a capture of the master: its first slice goes to the master's queue alone.
    const sends = statements.filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('sqs:')));
    expect(sends.flatMap(actionsOfStatement)).toEqual(['sqs:SendMessage']);
    const queues = sends.flatMap((statement) => [statement.Resource].flat()).map((resource) => JSON.stringify(resource));
    expect(queues).toHaveLength(1);
    expect(queues[0]).toMatch(/gsmainqueue/);
    expect(properties.Environment.Variables.QUEUE_URL_PREFIX).toBeDefined();
  });

  test("an alarm goes off when the sweep finds intents whose recovery keeps failing", () => {
    const alarms = Object.values(synth.json.Resources).filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm').map((resource) => resource.Properties);
    expect(alarms.find((alarm) => alarm.MetricName === 'StaleGatewayIntents')).toMatchObject({ Threshold: 0, EvaluationPeriods: 1, Statistic: 'Maximum', TreatMissingData: 'notBreaching' });
  });

  test("POST /config/events writes only the store items and object bodies of publishers without a GeoServer: it refuses a GeoServer node before writing (the gateway publishes for it)", () => {
    const id = functionId(synth.json, 'PublishEvent');
    const statements = statementsOf(synth.json, id);
    const keyed = statements.filter((statement) => statement.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys']);
    expect(keyed.length).toBeGreaterThan(0);
    for (const statement of keyed) expect(statement.Condition!['ForAllValues:StringEquals']).toEqual({ 'dynamodb:LeadingKeys': ['master-1'] });
    const bodyWrites = statements.filter((statement) => actionsOfStatement(statement).includes('s3:DeleteObject'));
    expect(bodyWrites.length).toBeGreaterThan(0);
    const written = bodyWrites.flatMap((statement) => [statement.Resource].flat()).map((resource) => JSON.stringify(resource));
    // Object bodies of its own node; event bodies: one whose append stored nothing is deleted.
    expect(written).toEqual(expect.arrayContaining([expect.stringContaining('/objects/master-1/*'), expect.stringMatching(/\/events\/[^/]+\/\*/)]));
    expect(written).toHaveLength(2);
  });

  test('cdk-nag finds nothing unacknowledged', () => {
    for (const report of synth.validationReport.pluginReports) expect(report.conclusion).toBe('success');
  });

  test("the runbook has an entry for each kind of alarm of a cluster that has every kind (nodes, a pure master, GeoServers, the gateway), and none for a kind no stack makes", () => {
    const named = Object.values(synth.json.Resources)
      .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map((resource) => runbookEntryOf(resource.Properties.AlarmDescription));
    expect([...new Set(named)].sort()).toEqual([...runbookEntries()].sort());
  });

  test("its dashboard draws every custom metric the functions emit, the GeoServers' REST errors and the gateway's stale intents among them", () => {
    const [dashboard] = logicalIdsOf(synth.json, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(synth.json.Resources[dashboard!]!.Properties.DashboardBody).replace(/\\/g, '');
    expect(Object.values(METRIC).filter((name) => !body.includes(`"GeoServerCluster","${name}"`))).toEqual([]);
  });

  test('with an allow list, synth warns about nothing of the gateway', () => {
    expect(synth.warnings.filter((warning) => warning.includes('gateway'))).toEqual([]);
  });
});

test('switched on without an allow list: synth warns that every address can reach the master GeoServer', () => {
  const synth = synthesize({ nodes: NODES, gateway: { enabled: true } });
  expect(gatewayFunction(synth.json)).toBeDefined();
  expect(synth.warnings).toEqual([
    expect.stringMatching(/^cluster\.gateway is enabled without allowedSourceIps: every address .* master gs-main's GeoServer.*Keeping it private/),
  ]);
});

test('switched off (the default): no route and no function', () => {
  const synth = synthesize({ nodes: NODES });
  expect(gatewayFunction(synth.json)).toBeUndefined();
  // nor its sweep, nor the alarm on what the sweep reports
  expect(() => functionId(synth.json, 'RecoverGatewayWrites')).toThrow(/No function/);
  expect(Object.values(synth.json.Resources).filter((resource) => resource.Properties?.MetricName === 'StaleGatewayIntents')).toEqual([]);
  const keys = logicalIdsOf(synth.json, 'AWS::ApiGatewayV2::Route').map((id) => synth.json.Resources[id]!.Properties.RouteKey as string);
  expect(keys.some((key) => key.includes('/geoserver/rest'))).toBe(false);
});
