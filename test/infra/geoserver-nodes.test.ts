/**
 * GeoServer nodes in the synthesized stack: each apply function gets its GeoServer's URL and
 * secret name, may read only its own secret and touch only its own queues, runs in the VPC
 * the configuration names, and the stack creates the VPC endpoints it was asked for; the
 * queue of a GeoServer node never dead-letters a change because its GeoServer is down.
 * cdk-nag runs on this synth too (it throws on an unacknowledged finding).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BACKOFF_CAP_SECONDS } from '../../lambdas/config-sync/geoserver/invocation';
import { actionsOfStatement, logicalIdsOf, statementsOf, synthesize, type Synthesized } from '../support/synth';

const CLUSTER: string = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context.cluster.name;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geo/gs-2-AbCdEf';
const NODES = [
  { name: 'master-1', role: 'master' },
  {
    name: 'gs-1',
    role: 'slave',
    geoserver: {
      url: 'http://10.0.3.21:8080/geoserver',
      credentialsSecret: 'geo/gs-1',
      network: {
        vpcId: 'vpc-0a1b2c3d',
        subnetIds: ['subnet-0a1b2c3d', 'subnet-0a1b2c3e'],
        securityGroupIds: ['sg-0a1b2c3d'],
        reachAws: 'vpc-endpoints',
        routeTableIds: ['rtb-0a1b2c3d'],
        endpointSubnets: { 'eu-west-1a': 'subnet-0a1b2c3d', 'eu-west-1b': 'subnet-0a1b2c4d' },
      },
    },
  },
  { name: 'gs-2', role: 'both', geoserver: { url: 'https://maps.example.org/geoserver', credentialsSecret: SECRET_ARN } },
  { name: 'plain', role: 'slave' },
];

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ nodes: NODES });
});

type Json = Synthesized['json'];

function applyOf(json: Json, node: string): string {
  const id = logicalIdsOf(json, 'AWS::Lambda::Function').find((candidate) => json.Resources[candidate]!.Properties.Environment?.Variables?.NODE_NAME === node);
  if (!id) throw new Error(`no apply function for ${node}`);
  return id;
}

function queueOf(json: Json, queueName: string): string {
  const id = logicalIdsOf(json, 'AWS::SQS::Queue').find((candidate) => json.Resources[candidate]!.Properties.QueueName === queueName);
  if (!id) throw new Error(`no queue ${queueName}`);
  return id;
}

const resolvedJson = (value: unknown) => JSON.stringify(value);

test("each GeoServer node's apply function knows its GeoServer and its secret, and no credentials", () => {
  const env = (node: string) => synth.json.Resources[applyOf(synth.json, node)]!.Properties.Environment.Variables;
  expect(env('gs-1')).toMatchObject({ GEOSERVER_URL: 'http://10.0.3.21:8080/geoserver', GEOSERVER_CREDENTIALS_SECRET: 'geo/gs-1' });
  expect(env('gs-2')).toMatchObject({ GEOSERVER_URL: 'https://maps.example.org/geoserver', GEOSERVER_CREDENTIALS_SECRET: SECRET_ARN });
  expect(env('plain').GEOSERVER_URL).toBeUndefined();
  for (const node of ['gs-1', 'gs-2', 'plain']) expect(env(node).GEOSERVER_CREDENTIALS).toBeUndefined();
  // GET /nodes knows which nodes have a GeoServer: from the file bundled beside it (no function's environment holds the URLs).
  expect(synth.geoServerNodes).toEqual({
    'gs-1': 'http://10.0.3.21:8080/geoserver',
    'gs-2': 'https://maps.example.org/geoserver',
  });
  for (const id of logicalIdsOf(synth.json, 'AWS::Lambda::Function')) expect(synth.json.Resources[id]!.Properties.Environment?.Variables?.GEOSERVER_NODES).toBeUndefined();
});

test('an apply function may read only its own secret; no other function reads any', () => {
  const secretReads = (id: string) =>
    statementsOf(synth.json, id).filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('secretsmanager:')));
  const gs1 = secretReads(applyOf(synth.json, 'gs-1'));
  expect(gs1).toHaveLength(1);
  expect(actionsOfStatement(gs1[0]!)).toEqual(['secretsmanager:GetSecretValue']);
  expect(resolvedJson(gs1[0]!.Resource)).toContain(':secret:geo/gs-1-??????');
  const gs2 = secretReads(applyOf(synth.json, 'gs-2'));
  expect(gs2.map((statement) => statement.Resource)).toEqual([SECRET_ARN]);
  const others = logicalIdsOf(synth.json, 'AWS::Lambda::Function').filter(
    (id) => id !== applyOf(synth.json, 'gs-1') && id !== applyOf(synth.json, 'gs-2'),
  );
  for (const id of others) expect(secretReads(id)).toEqual([]);
});

test('an apply function may delay retries on its own queue only, and send only to its own queue (its next job slice) and its own dead-letter queue (a message set aside)', () => {
  const sqsOf = (node: string) =>
    statementsOf(synth.json, applyOf(synth.json, node)).filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('sqs:')));
  const queue = { 'Fn::GetAtt': [queueOf(synth.json, `${CLUSTER}-gs-1.fifo`), 'Arn'] };
  const dlq = { 'Fn::GetAtt': [queueOf(synth.json, `${CLUSTER}-gs-1-dlq.fifo`), 'Arn'] };
  const gs1 = sqsOf('gs-1');
  // Its event source lets it change visibility on its own queue: the backoff.
  expect(gs1).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:ChangeMessageVisibility']), Resource: queue }));
  // A job runs in slices through the node's own queue: each slice queues the next, there only;
  // a message that is no event of the cluster goes to its own dead-letter queue.
  const sends = gs1.filter((statement) => actionsOfStatement(statement).includes('sqs:SendMessage'));
  expect(sends).toEqual(
    expect.arrayContaining([expect.objectContaining({ Action: 'sqs:SendMessage', Resource: queue }), expect.objectContaining({ Action: 'sqs:SendMessage', Resource: dlq })]),
  );
  expect(sends).toHaveLength(2);
  for (const statement of gs1) expect([queue, dlq]).toContainEqual(statement.Resource);
  // Every node runs its jobs (a resync) the same way: each sends to its own queues only.
  const plainQueues = [`${CLUSTER}-plain.fifo`, `${CLUSTER}-plain-dlq.fifo`].map((name) => ({ 'Fn::GetAtt': [queueOf(synth.json, name), 'Arn'] }));
  for (const statement of sqsOf('plain')) expect(plainQueues).toContainEqual(statement.Resource);
});

test('a GeoServer that is down never sends a change to the dead-letter queue: 1,000 receives with backoff outlast the 14-day retention', () => {
  const queue = (node: string) => synth.json.Resources[queueOf(synth.json, `${CLUSTER}-${node}.fifo`)]!.Properties;
  expect(queue('gs-1').RedrivePolicy.maxReceiveCount).toBe(1000);
  expect(queue('gs-2').RedrivePolicy.maxReceiveCount).toBe(1000);
  expect(queue('plain').RedrivePolicy.maxReceiveCount).toBe(5);
  // 10 s doubling to the cap: 1,000 deliveries take longer than the retention.
  expect(990 * BACKOFF_CAP_SECONDS).toBeGreaterThan(queue('gs-1').MessageRetentionPeriod);
  const timeout = synth.json.Resources[applyOf(synth.json, 'gs-1')]!.Properties.Timeout as number;
  expect(queue('gs-1').VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
});

/**
 * A capture job (a `both` node's apply function) publishes as its node, with the node's pause
 * checked inside the log append's transaction (a `ConditionCheck` of its pause item, in the node
 * store's partition of the node): the check is allowed on that partition alone.
 */
test("a capturing node's apply function may check its own pause in the log append, and no other node's", () => {
  // Besides the event log's items (a delivery to a node keeping up is committed on condition of
  // its log item's digest), checked with the log's reads, unconditioned: the log is the cluster's.
  const checks = (node: string) =>
    statementsOf(synth.json, applyOf(synth.json, node)).filter((statement) => actionsOfStatement(statement).includes('dynamodb:ConditionCheckItem'));
  for (const node of ['gs-2', 'gs-1', 'plain']) {
    const statements = checks(node);
    const onLog = statements.filter((statement) => resolvedJson(statement.Resource).includes('EventLog'));
    expect(onLog).toHaveLength(1);
    expect(actionsOfStatement(onLog[0]!).sort()).toEqual(['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query']);
    const onStore = statements.filter((statement) => !onLog.includes(statement));
    expect(onStore.length).toBeGreaterThan(0);
    for (const statement of onStore) {
      expect(resolvedJson(statement.Resource)).toContain('NodeStore');
      expect(statement.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [node] } });
    }
  }
  // The capture's append itself: only the node that publishes may write the event log beyond voids.
  const logWrites = (node: string) =>
    statementsOf(synth.json, applyOf(synth.json, node)).filter(
      (statement) => resolvedJson(statement.Resource).includes('EventLog') && statement.Condition === undefined && actionsOfStatement(statement).includes('dynamodb:UpdateItem'),
    );
  expect(logWrites('gs-2')).toHaveLength(1);
  expect(logWrites('gs-1')).toEqual([]);
});

test("runs a node's apply function in its GeoServer's VPC, with the endpoints asked for, once per VPC", () => {
  const gs1 = synth.json.Resources[applyOf(synth.json, 'gs-1')]!.Properties;
  expect(gs1.VpcConfig).toEqual({ SubnetIds: ['subnet-0a1b2c3d', 'subnet-0a1b2c3e'], SecurityGroupIds: ['sg-0a1b2c3d'] });
  expect(synth.json.Resources[applyOf(synth.json, 'gs-2')]!.Properties.VpcConfig).toBeUndefined();
  const endpoints = logicalIdsOf(synth.json, 'AWS::EC2::VPCEndpoint').map((id) => synth.json.Resources[id]!.Properties);
  const services = endpoints.map((endpoint) => `${/\.([a-z0-9]+)"\]\]\}$/.exec(resolvedJson(endpoint.ServiceName))?.[1]} ${endpoint.VpcEndpointType}`);
  expect(services.sort()).toEqual(['dynamodb Gateway', 's3 Gateway', 'secretsmanager Interface', 'sqs Interface']);
  for (const endpoint of endpoints) expect(endpoint.VpcId).toBe('vpc-0a1b2c3d');
  const gateway = endpoints.find((endpoint) => endpoint.VpcEndpointType === 'Gateway');
  expect(gateway?.RouteTableIds).toEqual(['rtb-0a1b2c3d']);
  // The interface endpoints in the subnets named for them, one per zone, not the function's
  // (two subnets that may share a zone, which an interface endpoint refuses at deploy).
  for (const endpoint of endpoints.filter((each) => each.VpcEndpointType === 'Interface')) expect(endpoint.SubnetIds).toEqual(['subnet-0a1b2c3d', 'subnet-0a1b2c4d']);
  const ec2 = statementsOf(synth.json, applyOf(synth.json, 'gs-1')).filter((statement) => actionsOfStatement(statement).includes('ec2:CreateNetworkInterface'));
  expect(ec2).toHaveLength(1);
  // Exactly the EC2 actions of AWS's AWSLambdaVPCAccessExecutionRole (policy version v3, 2024-01-05),
  // which the Lambda service uses to manage the function's network interfaces.
  expect([...actionsOfStatement(ec2[0]!)].sort()).toEqual(
    [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ].sort(),
  );
  expect(
    statementsOf(synth.json, applyOf(synth.json, 'gs-2')).some((statement) => actionsOfStatement(statement).includes('ec2:CreateNetworkInterface')),
  ).toBe(false);
});

test('cdk-nag finds nothing unacknowledged', () => {
  for (const report of synth.validationReport.pluginReports) {
    expect({ plugin: report.pluginName, conclusion: report.conclusion }).toEqual({ plugin: report.pluginName, conclusion: 'success' });
  }
});

test("the node job routes (drift, reconcile, capture) write job items and queue slices of GeoServer nodes only: every other node's are refused before anything is written", () => {
  const fn = logicalIdsOf(synth.json, 'AWS::Lambda::Function').find((id) => id.includes('StartNodeJob'))!;
  const statements = statementsOf(synth.json, fn);
  const store = statements.filter((statement) => resolvedJson(statement.Resource).includes('NodeStore'));
  expect(store.length).toBeGreaterThan(0);
  for (const statement of store) expect(statement.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['gs-1', 'gs-2'] } });
  const sends = statements.filter((statement) => actionsOfStatement(statement).includes('sqs:SendMessage'));
  const queues = sends.flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]));
  expect(queues.map(resolvedJson).sort()).toEqual(['gs-1', 'gs-2'].map((node) => resolvedJson({ 'Fn::GetAtt': [queueOf(synth.json, `${CLUSTER}-${node}.fifo`), 'Arn'] })).sort());
});

test("a redrive writes the store items and bodies of nodes without a GeoServer only: of a GeoServer node's store it lists the parked records, its apply function retrying them", () => {
  const fn = logicalIdsOf(synth.json, 'AWS::Lambda::Function').find((id) => id.includes('RedriveNode'))!;
  const statements = statementsOf(synth.json, fn);
  const store = statements.filter((statement) => resolvedJson(statement.Resource).includes('NodeStore'));
  // Per node: the actions of every statement whose LeadingKeys name it (none unconditioned).
  const storeActions = (node: string) =>
    store
      .filter((statement) => {
        const keys = statement.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
        expect(keys).toBeDefined();
        return (keys as string[]).includes(node);
      })
      .flatMap(actionsOfStatement)
      .sort();
  const rewrite = ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
  expect(Object.fromEntries(NODES.map((node) => [node.name, storeActions(node.name)]))).toEqual({
    'master-1': rewrite,
    'gs-1': ['dynamodb:Query'],
    'gs-2': ['dynamodb:Query'],
    plain: rewrite,
  });
  // Bodies: written under the prefixes of nodes without a GeoServer only, never objects/*.
  const bodyWrites = statements
    .filter((statement) => actionsOfStatement(statement).includes('s3:PutObject'))
    .flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]))
    .map(resolvedJson);
  expect(bodyWrites).toHaveLength(2);
  expect(bodyWrites.filter((arn) => arn.includes('objects/master-1/*'))).toHaveLength(1);
  expect(bodyWrites.filter((arn) => arn.includes('objects/plain/*'))).toHaveLength(1);
});

test('a VPC reaching AWS through endpoints gets an SNS endpoint too when a function in it publishes (a capture, the gateway and its sweep)', () => {
  const network = { vpcId: 'vpc-0b1b2c3d', subnetIds: ['subnet-0b1b2c3d'], securityGroupIds: ['sg-0b1b2c3d'], reachAws: 'vpc-endpoints', routeTableIds: ['rtb-0b1b2c3d'] };
  const publishing = synthesize({
    nodes: [
      { name: 'master-1', role: 'master' },
      { name: 'gs-main', role: 'both', geoserver: { url: 'http://10.0.4.20:8080/geoserver', credentialsSecret: 'geo/gs-main', network } },
    ],
    gateway: { enabled: true, allowedSourceIps: ['203.0.113.0/24'] },
  });
  const endpoints = logicalIdsOf(publishing.json, 'AWS::EC2::VPCEndpoint').map((id) => publishing.json.Resources[id]!.Properties);
  const services = endpoints.map((endpoint) => `${/\.([a-z0-9]+)"\]\]\}$/.exec(resolvedJson(endpoint.ServiceName))?.[1]} ${endpoint.VpcEndpointType}`);
  expect(services.sort()).toEqual(['dynamodb Gateway', 's3 Gateway', 'secretsmanager Interface', 'sns Interface', 'sqs Interface']);
  for (const endpoint of endpoints) expect(endpoint.VpcId).toBe('vpc-0b1b2c3d');
});

test("two GeoServer nodes in one VPC reaching AWS through endpoints: the DynamoDB and S3 gateway endpoints are on both nodes' route tables", () => {
  // Two private subnets with a route table each (one per zone, the usual layout): the second
  // node's functions reach DynamoDB and S3 only if the gateway endpoints are on its table too.
  const network = (zone: string) => ({
    vpcId: 'vpc-0c1b2c3d',
    subnetIds: [`subnet-0c1b2c3${zone}`],
    securityGroupIds: ['sg-0c1b2c3d'],
    reachAws: 'vpc-endpoints',
    routeTableIds: [`rtb-0c1b2c3${zone}`],
  });
  const shared = synthesize({
    nodes: [
      { name: 'master-1', role: 'master' },
      { name: 'gs-a', role: 'slave', geoserver: { url: 'http://10.0.5.20:8080/geoserver', credentialsSecret: 'geo/gs-a', network: network('a') } },
      { name: 'gs-b', role: 'slave', geoserver: { url: 'http://10.0.6.20:8080/geoserver', credentialsSecret: 'geo/gs-b', network: network('b') } },
    ],
  });
  const gateways = logicalIdsOf(shared.json, 'AWS::EC2::VPCEndpoint')
    .map((id) => shared.json.Resources[id]!.Properties)
    .filter((endpoint) => endpoint.VpcEndpointType === 'Gateway');
  expect(gateways).toHaveLength(2);
  for (const endpoint of gateways) expect([...endpoint.RouteTableIds].sort()).toEqual(['rtb-0c1b2c3a', 'rtb-0c1b2c3b']);
});

test('nodes in one VPC share its interface endpoints: in the subnets they name by zone, or in the single subnet of the first when none names them', () => {
  const network = (subnet: string, endpointSubnets?: Record<string, string>) => ({
    vpcId: 'vpc-0e1b2c3d',
    subnetIds: [subnet],
    securityGroupIds: ['sg-0e1b2c3d'],
    reachAws: 'vpc-endpoints',
    routeTableIds: ['rtb-0e1b2c3d'],
    ...(endpointSubnets ? { endpointSubnets } : {}),
  });
  const interfaceSubnets = (nodes: { name: string; network: Record<string, unknown> }[]) => {
    const synthesized = synthesize({
      nodes: [
        { name: 'master-1', role: 'master' },
        ...nodes.map(({ name, network: net }, i) => ({ name, role: 'slave', geoserver: { url: `http://10.0.9.${20 + i}:8080/geoserver`, credentialsSecret: `geo/${name}`, network: net } })),
      ],
    });
    const interfaces = logicalIdsOf(synthesized.json, 'AWS::EC2::VPCEndpoint')
      .map((id) => synthesized.json.Resources[id]!.Properties)
      .filter((endpoint) => endpoint.VpcEndpointType === 'Interface');
    expect(interfaces).toHaveLength(2);
    return new Set(interfaces.map((endpoint) => JSON.stringify(endpoint.SubnetIds)));
  };
  // Each names its own zone's subnet: the endpoints are in both zones.
  expect(interfaceSubnets([
    { name: 'gs-a', network: network('subnet-0e1b2c3a', { 'eu-west-1a': 'subnet-0e1b2c3a' }) },
    { name: 'gs-b', network: network('subnet-0e1b2c3b', { 'eu-west-1b': 'subnet-0e1b2c3b' }) },
  ])).toEqual(new Set([JSON.stringify(['subnet-0e1b2c3a', 'subnet-0e1b2c3b'])]));
  // None names them: the first node's one subnet only, since the second's may be in the same zone.
  expect(interfaceSubnets([
    { name: 'gs-a', network: network('subnet-0e1b2c3a') },
    { name: 'gs-b', network: network('subnet-0e1b2c3b') },
  ])).toEqual(new Set([JSON.stringify(['subnet-0e1b2c3a'])]));
});

test("the interface endpoints accept HTTPS from the security groups of every node placed in their VPC", () => {
  // The function's security groups need only allow outbound traffic (docs/operations.md): an
  // endpoint that carried them would refuse the functions' connections unless they also allowed
  // inbound HTTPS from themselves. The endpoints have a security group of their own instead.
  const network = (zone: string) => ({
    vpcId: 'vpc-0d1b2c3d',
    subnetIds: [`subnet-0d1b2c3${zone}`],
    securityGroupIds: [`sg-0d1b2c3${zone}`],
    reachAws: 'vpc-endpoints',
    routeTableIds: [`rtb-0d1b2c3${zone}`],
  });
  const shared = synthesize({
    nodes: [
      { name: 'master-1', role: 'master' },
      { name: 'gs-a', role: 'both', geoserver: { url: 'http://10.0.7.20:8080/geoserver', credentialsSecret: 'geo/gs-a', network: network('a') } },
      { name: 'gs-b', role: 'slave', geoserver: { url: 'http://10.0.8.20:8080/geoserver', credentialsSecret: 'geo/gs-b', network: network('b') } },
    ],
  });
  const interfaces = logicalIdsOf(shared.json, 'AWS::EC2::VPCEndpoint')
    .map((id) => shared.json.Resources[id]!.Properties)
    .filter((endpoint) => endpoint.VpcEndpointType === 'Interface');
  expect(interfaces).toHaveLength(3);
  for (const endpoint of interfaces) {
    expect(endpoint.SecurityGroupIds).toHaveLength(1);
    const [group] = endpoint.SecurityGroupIds as { 'Fn::GetAtt'?: [string, string] }[];
    const resource = shared.json.Resources[group!['Fn::GetAtt']?.[0] ?? '']!;
    expect(resource?.Type).toBe('AWS::EC2::SecurityGroup');
    expect(resource.Properties.VpcId).toBe('vpc-0d1b2c3d');
    const https = (resource.Properties.SecurityGroupIngress as Record<string, unknown>[])
      .filter((rule) => rule.IpProtocol === 'tcp' && rule.FromPort === 443 && rule.ToPort === 443)
      .map((rule) => rule.SourceSecurityGroupId)
      .sort();
    expect(https).toEqual(['sg-0d1b2c3a', 'sg-0d1b2c3b']);
  }
});
