import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { ALARM_NAME_SEPARATOR } from '../../cdk/constructs/monitoring';
import { CLUSTER_NAME_PATTERN } from '../../lambdas/shared/cluster-model';
import { METRIC } from '../../lambdas/shared/metric-names';
import { runbookEntries, runbookEntryOf } from '../support/runbook';
import { XRAY_ACTIONS, actionsOfStatement, logicalIdsOf, statementsOf, synthesize, type Synthesized } from '../support/synth';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

type Resource = Synthesized['json']['Resources'][string];
const alarms = (json: Synthesized['json']) =>
  Object.values(json.Resources).filter((r): r is Resource => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);
const alarmNamed = (json: Synthesized['json'], name: string) => {
  const found = alarms(json).find((alarm) => alarm.AlarmName === name);
  if (!found) throw new Error(`No alarm named ${name}; have ${alarms(json).map((a) => a.AlarmName).join(', ')}`);
  return found;
};
const topicId = (json: Synthesized['json'], cluster = 'geo') =>
  logicalIdsOf(json, 'AWS::SNS::Topic').find((id) => json.Resources[id]!.Properties.TopicName === `${cluster}-cluster-alarms`)!;

describe('alarm topic', () => {
  it('is encrypted and refuses anything but TLS', () => {
    const id = topicId(synth.json);
    expect(synth.json.Resources[id]!.Properties.KmsMasterKeyId).toBeDefined();
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it("lets this account's alarms of the cluster publish to it: its policy replaces SNS's default, so without the grant CloudWatch is refused", () => {
    // CloudWatch publishes as its service principal, which no identity policy speaks for: a topic
    // policy with no Allow for it (enforceSSL's Deny alone) refuses every alarm notification.
    const id = topicId(synth.json);
    const policy = Object.values(synth.json.Resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy' && JSON.stringify(r.Properties.Topics) === JSON.stringify([{ Ref: id }]));
    const allows = (policy?.Properties.PolicyDocument.Statement as { Effect: string; Principal?: unknown; Action: unknown; Condition?: Record<string, Record<string, unknown>> }[]).filter(
      (statement) => statement.Effect === 'Allow',
    );
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: id },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      }),
    ]);
    // Only the cluster's alarms (named `<cluster>_...`) of this account and region.
    expect(JSON.stringify(allows[0]!.Condition!.ArnLike!['aws:SourceArn'])).toBe(
      JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:geo_*']] }),
    );
  });

  it("lets every alarm of its cluster publish, and none of another cluster whose name starts with this one's and a dash (geo, geo-test)", () => {
    // The ArnLike pattern of the topic's grant, over the ARN of an alarm in one account and region.
    const resolved = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '123456789012' } as Record<string, string>;
    const grantPattern = (json: Synthesized['json'], cluster: string) => {
      const topic = topicId(json, cluster);
      expect(topic).toBeDefined();
      const policy = Object.values(json.Resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy' && JSON.stringify(r.Properties.Topics) === JSON.stringify([{ Ref: topic }]));
      const allow = (policy!.Properties.PolicyDocument.Statement as { Effect: string; Condition?: { ArnLike?: Record<string, unknown> } }[]).find((statement) => statement.Effect === 'Allow')!;
      const [separator, parts] = (allow.Condition!.ArnLike!['aws:SourceArn'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      const glob = parts.map((part) => (typeof part === 'string' ? part : resolved[(part as { Ref: string }).Ref]!)).join(separator);
      // ArnLike: `*` any run of characters, `?` any one, the rest as it is.
      return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    };
    const alarmArns = (json: Synthesized['json']) => alarms(json).map((alarm) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarm.AlarmName as string}`);
    const other = synthesize({ name: 'geo-test' });
    const own = grantPattern(synth.json, 'geo');
    const others = grantPattern(other.json, 'geo-test');
    expect(alarmArns(synth.json).filter((arn) => !own.test(arn))).toEqual([]);
    expect(alarmArns(other.json).length).toBeGreaterThan(0);
    expect(alarmArns(other.json).filter((arn) => !others.test(arn))).toEqual([]);
    expect(alarmArns(other.json).filter((arn) => own.test(arn))).toEqual([]);
    expect(alarmArns(synth.json).filter((arn) => others.test(arn))).toEqual([]);
    // Which holds as long as no cluster name can hold the separator.
    expect(CLUSTER_NAME_PATTERN.test(`geo${ALARM_NAME_SEPARATOR}test`)).toBe(false);
  });

  it("is encrypted with the cluster's own rotated key, whose policy lets CloudWatch alarms publish to it", () => {
    // The AWS managed alias/aws/sns key's policy does not let cloudwatch.amazonaws.com use it:
    // a topic encrypted with it never receives an alarm.
    const keyId = synth.json.Resources[topicId(synth.json)]!.Properties.KmsMasterKeyId as { 'Fn::GetAtt'?: [string, string] };
    expect(keyId['Fn::GetAtt']?.[1]).toBe('Arn');
    const key = synth.json.Resources[keyId['Fn::GetAtt']![0]]!;
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        }),
      ]),
    );
  });

  it('has no subscriptions by default and one e-mail subscription per configured address', () => {
    expect(logicalIdsOf(synth.json, 'AWS::SNS::Subscription').map((id) => synth.json.Resources[id]!.Properties.Protocol)).not.toContain('email');
    const withEmails = synthesize({ observability: { alarmEmails: ['ops@example.com', 'oncall@example.com'] } });
    const emails = Object.values(withEmails.json.Resources)
      .filter((r) => r.Type === 'AWS::SNS::Subscription' && r.Properties.Protocol === 'email')
      .map((r) => ({ endpoint: r.Properties.Endpoint, topic: r.Properties.TopicArn }));
    expect(emails).toEqual([
      { endpoint: 'ops@example.com', topic: { Ref: topicId(withEmails.json) } },
      { endpoint: 'oncall@example.com', topic: { Ref: topicId(withEmails.json) } },
    ]);
  });

  it('every alarm notifies it when it fires and when it clears', () => {
    const all = alarms(synth.json);
    expect(all.length).toBeGreaterThan(0);
    for (const alarm of all) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId(synth.json) }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId(synth.json) }]);
    }
  });
});

describe("each alarm's runbook", () => {
  // A person paged by an alarm reads its description first: it names the runbook's entry
  // (docs/operations.md, "When an alarm fires"). test/infra/geoserver-gateway.test.ts checks
  // that every kind of alarm has an entry, on a cluster that has every kind.
  it("names an entry of the runbook that exists, within CloudWatch's 1,024 characters", () => {
    const entries = runbookEntries();
    expect(entries.length).toBeGreaterThan(0);
    const all = alarms(synth.json);
    expect(all.length).toBeGreaterThan(0);
    const unfit = all
      .map((alarm) => ({ alarm: alarm.AlarmName as string, length: String(alarm.AlarmDescription).length, entry: runbookEntryOf(alarm.AlarmDescription) }))
      .filter(({ length, entry }) => length > 1024 || entry === undefined || !entries.includes(entry));
    expect(unfit).toEqual([]);
  });

  it("a node's dead-letter alarm says how to list what is there, as a redrive leaves what was set aside", () => {
    expect(alarmNamed(synth.json, 'geo_slave-1-dead-letters').AlarmDescription).toEqual(expect.stringContaining('GET /nodes/slave-1/dead-letters'));
  });
});

describe('per node alarms', () => {
  it.each(['slave-1', 'slave-2'])('%s: dead-letter queue depth above 0', (node) => {
    const alarm = alarmNamed(synth.json, `geo_${node}-dead-letters`);
    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/dlq/), 'QueueName'] } }],
    });
  });

  it.each(['slave-1', 'slave-2'])('%s: any event parked in 5 minutes (the custom EventsParked metric the apply function emits)', (node) => {
    expect(alarmNamed(synth.json, `geo_${node}-parked`)).toMatchObject({
      Namespace: 'GeoServerCluster',
      MetricName: 'EventsParked',
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'geo' },
        { Name: 'node', Value: node },
      ]),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmDescription: expect.stringContaining(`POST /nodes/${node}/redrive`),
    });
  });

  it("master-1 (a pure master): any event parked in 5 minutes, which its store's catch-up and publishes report as EventsParked of the node", () => {
    // A pure master's store is applied by the same applier (master-stores.ts, publish.ts), which
    // parks what it cannot apply and records EventsParked with the node's dimension; it has no
    // queue, but its parked events wait for a redrive just the same.
    expect(alarmNamed(synth.json, 'geo_master-1-parked')).toMatchObject({
      Namespace: 'GeoServerCluster',
      MetricName: 'EventsParked',
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'geo' },
        { Name: 'node', Value: 'master-1' },
      ]),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmDescription: expect.stringContaining('POST /nodes/master-1/redrive'),
    });
  });

  it.each(['slave-1', 'slave-2'])('%s: oldest message older than the configured age (default 900 s)', (node) => {
    expect(alarmNamed(synth.json, `geo_${node}-oldest-message`)).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/queue/), 'QueueName'] } }],
    });
  });

  it.each(['master-1', 'slave-1', 'slave-2'])('%s: lag above the threshold for the configured minutes (the custom Lag metric)', (node) => {
    expect(alarmNamed(synth.json, `geo_${node}-lag`)).toMatchObject({
      Namespace: 'GeoServerCluster',
      MetricName: 'Lag',
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'geo' },
        { Name: 'node', Value: node },
      ]),
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 100,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
  });

  it("the pure masters' catch-up: its dead-letter queue depth above 0, and no such alarm without a pure master", () => {
    expect(alarmNamed(synth.json, 'geo_master-stores_dead-letters')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^ConfigSyncMasterStoresDlq/), 'QueueName'] } }],
    });
    const noPureMaster = synthesize({ nodes: [{ name: 'hub', role: 'both' }, { name: 'slave-1', role: 'slave' }] });
    expect(alarms(noPureMaster.json).map((alarm) => alarm.AlarmName)).not.toContain('geo_master-stores_dead-letters');
    expect(alarms(noPureMaster.json).map((alarm) => alarm.AlarmName)).toContain('geo_slave-1-dead-letters');
  });

  it("no two alarms share a name, even beside a consuming node named after the pure masters' catch-up queue", () => {
    // Node master-stores' dead-letter alarm is `<cluster>_master-stores-dead-letters`: the catch-up
    // queue's alarm must not take that name too (two resources would manage one alarm).
    const named = synthesize({ nodes: [{ name: 'master-1', role: 'master' }, { name: 'master-stores', role: 'slave' }] });
    const names = alarms(named.json).map((alarm) => alarm.AlarmName);
    expect(names).toEqual(expect.arrayContaining(['geo_master-stores-dead-letters', 'geo_master-stores_dead-letters']));
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  it('thresholds follow the cluster configuration', () => {
    const tuned = synthesize({
      observability: { lagThreshold: 7, lagMinutes: 3, oldestMessageAgeSeconds: 120, api5xxPercent: 2.5, republishBacklogMinutes: 4 },
    });
    expect(alarmNamed(tuned.json, 'geo_slave-1-lag')).toMatchObject({ Threshold: 7, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(alarmNamed(tuned.json, 'geo_slave-1-oldest-message')).toMatchObject({ Threshold: 120 });
    expect(alarmNamed(tuned.json, 'geo_api-5xx')).toMatchObject({ Threshold: 2.5 });
    expect(alarmNamed(tuned.json, 'geo_republish-backlog')).toMatchObject({ EvaluationPeriods: 4, DatapointsToAlarm: 4 });
  });
});

describe('per function alarms', () => {
  it('every function has an errors alarm and a throttles alarm on its own metrics', () => {
    const functions = logicalIdsOf(synth.json, 'AWS::Lambda::Function');
    const byFunction = (metricName: string) =>
      alarms(synth.json)
        .filter((alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === metricName)
        .map((alarm) => alarm.Dimensions[0].Value.Ref)
        .sort();
    expect(byFunction('Errors')).toEqual([...functions].sort());
    expect(byFunction('Throttles')).toEqual([...functions].sort());
  });
});

describe('API and publishing alarms', () => {
  it('the API alarms on its 5xx percentage (default above 1%)', () => {
    const alarm = alarmNamed(synth.json, 'geo_api-5xx');
    expect(alarm.Threshold).toBe(1);
    const expression = alarm.Metrics.find((m: { Expression?: string }) => m.Expression);
    expect(expression.Expression).toBe('IF(requests > 0, 100 * errors / requests, 0)');
    const metricNames = alarm.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
      (m: { Id: string; MetricStat: { Metric: { MetricName: string; Namespace: string } } }) => [m.Id, m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName],
    );
    expect(metricNames.sort()).toEqual([
      ['errors', 'AWS/ApiGateway', '5xx'],
      ['requests', 'AWS/ApiGateway', 'Count'],
    ]);
  });

  it('the republish backlog alarms when it stays above zero', () => {
    expect(alarmNamed(synth.json, 'geo_republish-backlog')).toMatchObject({
      Namespace: 'GeoServerCluster',
      MetricName: 'RepublishBacklog',
      Threshold: 0,
      EvaluationPeriods: 10,
    });
  });
});

describe('the README', () => {
  // An operator finds an alarm by the name the README gives it: each alarm the default cluster
  // has must be named there, as `<cluster>_...` with `<node>` or `<function>` for the part that varies.
  it('names every alarm the cluster has', () => {
    const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
    const nodes: string[] = cdkJson.context.cluster.nodes.map((node: { name: string }) => node.name);
    const documented = new Set(
      alarms(synth.json).map((alarm) => {
        const rest = String(alarm.AlarmName).replace(/^geo_/, '');
        if (alarm.Namespace === 'AWS/Lambda') return `<cluster>_<function>-${rest.slice(rest.lastIndexOf('-') + 1)}`;
        const node = nodes.find((name) => rest.startsWith(`${name}-`));
        return `<cluster>_${node ? `<node>-${rest.slice(node.length + 1)}` : rest}`;
      }),
    );
    expect(documented.size).toBeGreaterThan(5);
    // The README's examples of a function's place.
    for (const place of ['Status-PutStatus', 'ConfigSync-slave-1-Apply']) {
      expect(readme).toContain(`\`${place}\``);
      alarmNamed(synth.json, `geo_${place}-errors`);
    }
    expect([...documented].filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('dashboard', () => {
  it('is one dashboard for the cluster showing its alarms, lag per node, queues and executions', () => {
    const ids = logicalIdsOf(synth.json, 'AWS::CloudWatch::Dashboard');
    expect(ids).toHaveLength(1);
    // The body is a Fn::Join of escaped JSON; without the escapes its metric arrays read plainly.
    const body = JSON.stringify(synth.json.Resources[ids[0]!]!.Properties.DashboardBody).replace(/\\/g, '');
    for (const title of ['Alarms', 'Lag (events behind the log)', 'Dead-letter depth', 'Oldest queued event (s)', 'Executions', 'API 5xx %']) {
      expect(body).toContain(title);
    }
    for (const node of ['master-1', 'slave-1', 'slave-2']) expect(body).toContain(`"GeoServerCluster","Lag","node","${node}"`);
    expect(body).toContain('"label":"master-stores"');
  });

  it('draws every custom metric the functions emit', () => {
    const ids = logicalIdsOf(synth.json, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(synth.json.Resources[ids[0]!]!.Properties.DashboardBody).replace(/\\/g, '');
    // A GeoServer node's REST errors and the gateway's stale intents are drawn in a cluster that has them (geoserver-gateway.test.ts).
    const missing = Object.values(METRIC).filter((name) => !body.includes(`"GeoServerCluster","${name}"`));
    expect(missing).toEqual([METRIC.geoServerErrors, METRIC.staleGatewayIntents]);
  });
});

describe('the dashboard of a larger cluster', () => {
  it('shows every alarm in alarm status widgets of at most 100 alarms each (CloudWatch refuses a dashboard with more in one)', () => {
    const slaves = Array.from({ length: 10 }, (_, i) => ({ name: `slave-${i + 1}`, role: 'slave' }));
    const large = synthesize({ nodes: [{ name: 'master-1', role: 'master' }, ...slaves] });
    const total = alarms(large.json).length;
    expect(total).toBeGreaterThan(100);
    const ids = logicalIdsOf(large.stacks.cluster, 'AWS::CloudWatch::Dashboard');
    expect(ids).toHaveLength(1);
    // The body is a Fn::Join of JSON text around references (the alarms' ARNs): each reference as a placeholder.
    const [, parts] = large.stacks.cluster.Resources[ids[0]!]!.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'arn')).join('')) as {
      widgets: { type: string; properties: { alarms?: string[] } }[];
    };
    const counts = body.widgets.filter((widget) => widget.type === 'alarm').map((widget) => widget.properties.alarms!.length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(100);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(total);
  });
});

describe('the lag measure', () => {
  it("runs every minute and may only read the log and the node store, and of the queues read depths and send a catch-up nudge (config-sync-stack.test.ts checks which queues)", () => {
    const fn = logicalIdsOf(synth.json, 'AWS::Lambda::Function').find((id) => id.includes('MeasureLag'))!;
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } })],
    });
    const actions = statementsOf(synth.json, fn)
      .flatMap(actionsOfStatement)
      .filter((action) => !action.startsWith('logs:') && !XRAY_ACTIONS.includes(action));
    expect([...new Set(actions)].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'sqs:GetQueueAttributes', 'sqs:SendMessage']);
  });
});

describe('the operator console', () => {
  it('GET /console is served by a function with no data permissions at all', () => {
    const route = Object.values(synth.json.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === 'GET /console');
    expect(route?.Properties.AuthorizationType).toBe('NONE');
    const fn = logicalIdsOf(synth.json, 'AWS::Lambda::Function').find((id) => id.includes('ServeConsole'))!;
    const actions = statementsOf(synth.json, fn)
      .flatMap(actionsOfStatement)
      .filter((action) => !action.startsWith('logs:') && !XRAY_ACTIONS.includes(action));
    expect(actions).toEqual([]);
  });
});
