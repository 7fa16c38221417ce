/**
 * A cluster of 30 consuming nodes (the largest the bench and docs/cost.md price) deploys within
 * CloudFormation's and Lambda's limits: each consuming node's resources are in a nested stack of
 * their own, so the cluster's stack grows by one resource per node (500 resources per stack),
 * and no function's environment outgrows Lambda's 4 KB however many nodes there are to name,
 * even when every consuming node has a GeoServer of a long URL and a secret ARN (under a customer
 * managed key, whose grant its readers' policies carry too), and every name is at its longest.
 */
import { environmentSizes } from '../../cdk/environment-limit';
import { CLOUDFORMATION_MAX_TEMPLATE_BYTES, alarmMathProblems, dashboardProblems, dashboardWidgets, type DashboardWidget } from '../support/dashboard-quotas';
import { iamPolicyProblems } from '../support/iam-limits';
import { synthesize, type Synthesized } from '../support/synth';

const CONSUMING = 30;
const nodesOf = (consuming: number) => [
  { name: 'master-1', role: 'master' },
  { name: 'hub', role: 'both' },
  ...Array.from({ length: consuming - 1 }, (_, i) => ({ name: `slave-${i + 1}`, role: 'slave' })),
];
/** CloudFormation's resources per stack; Lambda's environment variables per function, as the JSON of the variables map. */
const STACK_RESOURCE_LIMIT = 500;
const ENVIRONMENT_LIMIT_BYTES = 4 * 1024;

/** A node name at its longest (NODE_NAME_RULE: 31 characters). */
const longName = (prefix: string, i: number) => `${prefix}-${String(i).padStart(2, '0')}-`.padEnd(31, 'x');
/**
 * The worst case: the longest cluster name, every name at its longest, and every consuming node with
 * its own GeoServer, named by a long URL, and a secret named by its ARN, under a customer managed key.
 */
const geoServerNodesOf = (consuming: number): { name: string; role: string; geoserver?: { url: string; credentialsSecret: string; credentialsSecretKey: string } }[] => [
  { name: longName('master', 0), role: 'master' },
  ...Array.from({ length: consuming }, (_, i) => ({
    name: longName('geoserver-node', i),
    role: i === 0 ? 'both' : 'slave',
    geoserver: {
      url: `https://geoserver-node-${i}.internal.example-company.com:8443/geoserver`,
      credentialsSecret: `arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:geoserver/${longName('geoserver-node', i)}/admin-credentials-AbCdEf`,
      credentialsSecretKey: `arn:aws:kms:ap-southeast-2:123456789012:key/mrk-${String(i).padStart(32, '0')}`,
    },
  })),
];

/** Node names at their shortest, each unique: `0`-`z`, then `00`, `01`, ... */
const shortName = (i: number) => (i < 36 ? i.toString(36) : (Math.floor(i / 36) - 1).toString(36) + (i % 36).toString(36));
/** A `both` node, then `masters` pure masters and `slaves` slaves, every name at its shortest. */
const shortNodesOf = (masters: number, slaves: number) => [
  { name: shortName(0), role: 'both' },
  ...Array.from({ length: masters }, (_, i) => ({ name: shortName(1 + i), role: 'master' })),
  ...Array.from({ length: slaves }, (_, i) => ({ name: shortName(1 + masters + i), role: 'slave' })),
];
/**
 * The largest clusters the synth accepts, one at each of its limits. Most consuming nodes: 69, at
 * the pause switch's 4 KB environment (a consuming node adds about 54 bytes to it with names this
 * short). Most nodes: 101, where pure masters (two alarms each in the cluster's stack, about 17
 * bytes of that environment) fill the cluster stack's 500 resources and consuming nodes (one
 * nested stack each) that environment. (103 before the lag measure's catch-up nudge: its grants on
 * every consuming node's queue and dead-letter queue take two overflow managed policies in the
 * cluster's stack at 53 consuming nodes, as GET /nodes' grants do; 102 before the job cancel
 * route, a route and a Lambda permission.)
 */
const MOST_CONSUMING = shortNodesOf(0, 68);
const MOST_NODES = shortNodesOf(48, 52);
/** What one more consuming node adds to the pause switch's environment, with names this short; what one more pure master adds to the cluster's stack. */
const CONSUMING_NODE_BYTES = 54;
const PURE_MASTER_RESOURCES = 2;

let large: Synthesized;
let small: Synthesized;
let geoservers: Synthesized;
let mostConsuming: Synthesized;
let mostNodes: Synthesized;
beforeAll(() => {
  large = synthesize({ nodes: nodesOf(CONSUMING) });
  small = synthesize({ nodes: nodesOf(3) });
  geoservers = synthesize({ name: 'c'.repeat(20), nodes: geoServerNodesOf(CONSUMING) });
  mostConsuming = synthesize({ nodes: MOST_CONSUMING });
  mostNodes = synthesize({ nodes: MOST_NODES });
}, 600_000);

const nestedStackIds = (synth: Synthesized) =>
  Object.keys(synth.stacks.cluster.Resources).filter((id) => synth.stacks.cluster.Resources[id]!.Type === 'AWS::CloudFormation::Stack');

describe(`a cluster of ${CONSUMING} consuming nodes`, () => {
  it('has one nested stack per consuming node, and a consuming node costs the cluster stack that one resource', () => {
    expect(nestedStackIds(large)).toHaveLength(CONSUMING);
    expect(nestedStackIds(small)).toHaveLength(3);
    // Besides the nested stacks, and the managed policies CDK moves a role's statements into once
    // its inline policy would pass IAM's 10,240 characters (a grant naming every node's queues).
    const own = (synth: Synthesized) =>
      Object.values(synth.stacks.cluster.Resources).filter((resource) => !['AWS::CloudFormation::Stack', 'AWS::IAM::ManagedPolicy'].includes(resource.Type)).length;
    expect(own(large)).toBe(own(small));
    expect(Object.keys(large.stacks.cluster.Resources).length).toBeLessThan(STACK_RESOURCE_LIMIT);
  });

  it("keeps each node's queues, subscription, apply function and alarms in the node's nested stack", () => {
    for (const id of nestedStackIds(large)) {
      const types = Object.values(large.stacks.nested[id]!.Resources).map((resource) => resource.Type);
      const count = (type: string) => types.filter((t) => t === type).length;
      expect({
        queues: count('AWS::SQS::Queue'),
        queuePolicies: count('AWS::SQS::QueuePolicy'),
        subscriptions: count('AWS::SNS::Subscription'),
        functions: count('AWS::Lambda::Function'),
        eventSources: count('AWS::Lambda::EventSourceMapping'),
        alarms: count('AWS::CloudWatch::Alarm'),
      }).toEqual({ queues: 2, queuePolicies: 2, subscriptions: 1, functions: 1, eventSources: 1, alarms: 6 });
      expect(types.length).toBeLessThan(STACK_RESOURCE_LIMIT);
    }
  });

  it("gives no function an environment larger than Lambda's 4 KB, with every reference at its longest", () => {
    const worst = largestEnvironment(large);
    expect(worst.bytes).toBeLessThan(ENVIRONMENT_LIMIT_BYTES);
    // The estimate is not vacuous: the worst names every node's event source.
    expect(worst.bytes).toBeGreaterThan(CONSUMING * UUID_LENGTH);
  });
});

describe(`a cluster of ${CONSUMING} consuming nodes, each with a GeoServer, every name at its longest`, () => {
  it("gives no function an environment larger than Lambda's 4 KB", () => {
    const worst = largestEnvironment(geoservers);
    expect(worst.bytes).toBeLessThan(ENVIRONMENT_LIMIT_BYTES);
    // The estimate is not vacuous: the worst names every node, at its longest, with its event source.
    expect(worst.bytes).toBeGreaterThan(CONSUMING * (31 + UUID_LENGTH));
  });

  it('bundles every GeoServer URL beside the functions that read them, in no environment', () => {
    const urls = Object.fromEntries(geoServerNodesOf(CONSUMING).flatMap((node) => (node.geoserver ? [[node.name, node.geoserver.url]] : [])));
    expect(geoservers.geoServerNodes).toEqual(urls);
    // Alone, those URLs would pass the limit: why they are not in an environment.
    expect(Buffer.byteLength(JSON.stringify(urls))).toBeGreaterThan(ENVIRONMENT_LIMIT_BYTES * 0.75);
  });
});

/** The function whose environment is largest once deployed (as JSON, references at their longest), and its size. */
function largestEnvironment(synth: Synthesized): { id: string; bytes: number } {
  const sizes = environmentSizes(synth.json);
  expect(sizes.length).toBeGreaterThan(20);
  return sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

const UUID_LENGTH = 36;

describe("a cluster whose nodes would pass a function environment's 4 KB", () => {
  it('is refused at synth, naming the function, its size and the limit', () => {
    // 45 consuming nodes of 31-character names (44 fill the 4 KB exactly): the pause switch names each, with its event source mapping.
    expect(() => synthesize({ name: 'c'.repeat(20), nodes: geoServerNodesOf(45) })).toThrow(
      /larger than Lambda's 4096 bytes \(4 KB, the variables as JSON.*ConfigSyncSwitchConsumption\w*: \d{4} bytes[\s\S]*ConfigSync\/SwitchConsumption/,
    );
  });
});

describe("the largest clusters, within CloudWatch's and IAM's quotas", () => {
  const clusters = (): [string, Synthesized, number][] => [
    [`${CONSUMING} consuming nodes`, large, nodesOf(CONSUMING).length],
    [`${CONSUMING} consuming nodes with GeoServers, every name at its longest`, geoservers, geoServerNodesOf(CONSUMING).length],
    [`the most consuming nodes the synth accepts (${MOST_CONSUMING.length})`, mostConsuming, MOST_CONSUMING.length],
    [`the most nodes the synth accepts (${MOST_NODES.length})`, mostNodes, MOST_NODES.length],
  ];

  it('the largest clusters are at the limits the synth holds them to', () => {
    // One more consuming node would pass the pause switch's 4 KB; one more pure master, the cluster stack's 500 resources.
    expect(largestEnvironment(mostConsuming).bytes + CONSUMING_NODE_BYTES).toBeGreaterThan(ENVIRONMENT_LIMIT_BYTES);
    expect(largestEnvironment(mostNodes).bytes + CONSUMING_NODE_BYTES).toBeGreaterThan(ENVIRONMENT_LIMIT_BYTES);
    expect(Object.keys(mostNodes.stacks.cluster.Resources).length + PURE_MASTER_RESOURCES).toBeGreaterThan(STACK_RESOURCE_LIMIT);
  });

  it('draws every node, function and queue, in widgets of at most 500 metrics, 2,500 in all, alarm widgets of at most 100 alarms', () => {
    for (const [name, synth, nodes] of clusters()) {
      const widgets = dashboardWidgets(synth.stacks.cluster.Resources);
      const metricsOf = (title: string) => widgets.filter((widget) => widget.properties.title?.startsWith(title)).reduce((sum, widget) => sum + (widget.properties.metrics?.length ?? 0), 0);
      const functions = Object.values(synth.json.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function').length;
      // Nothing left out to stay within them: every node's lag, every function's errors and throttles.
      expect({ name, lag: metricsOf('Lag'), functions: metricsOf('Function errors and throttles') }).toEqual({ name, lag: nodes, functions: 2 * functions });
      expect({ name, problems: dashboardProblems(widgets) }).toEqual({ name, problems: [] });
    }
  });

  it('keeps every alarm on metric math within 10 metrics, and the cluster stack within CloudFormation\'s 1 MB template', () => {
    for (const [name, synth] of clusters()) {
      expect({ name, problems: alarmMathProblems(synth.json.Resources) }).toEqual({ name, problems: [] });
      expect(JSON.stringify(synth.stacks.cluster).length).toBeLessThan(CLOUDFORMATION_MAX_TEMPLATE_BYTES);
    }
  });

  it("keeps every role's policies within IAM's quotas once deployed: 10,240 characters inline, 6,144 a managed policy, 10 managed policies", () => {
    // A grant naming a resource of every node (their queues, event source mappings, object
    // prefixes) grows with the cluster: CDK moves statements into managed policies, but cannot split one.
    for (const [name, synth] of clusters()) expect({ name, problems: iamPolicyProblems(synth.json) }).toEqual({ name, problems: [] });
  });

  it('the check finds a widget, a dashboard or an expression over a quota', () => {
    const metric = (i: number) => ['GeoServerCluster', 'Lag', 'node', `n${i}`];
    const graph = (count: number): DashboardWidget => ({ type: 'metric', properties: { title: 'Lag', metrics: Array.from({ length: count }, (_, i) => metric(i)) } });
    expect(dashboardProblems([graph(500)])).toEqual([]);
    expect(dashboardProblems([graph(501)])).toEqual(["metric widget 'Lag': 501 metrics, over 500"]);
    expect(dashboardProblems(Array.from({ length: 6 }, () => graph(500)))).toEqual(['3000 metrics in all, over 2500']);
    expect(dashboardProblems([{ type: 'metric', properties: { title: 'Math', metrics: [[{ expression: 'x'.repeat(1025) }]] } }])).toEqual([
      "metric widget 'Math': an expression of 1025 characters, over 1024",
    ]);
    expect(dashboardProblems([{ type: 'alarm', properties: { title: 'Alarms', alarms: Array.from({ length: 101 }, (_, i) => `arn:${i}`) } }])).toEqual([
      "alarm widget 'Alarms': 101 alarms, not 1-100",
    ]);
  });
});
