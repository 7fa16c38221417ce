import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { clusterConfigFromContext, gatewayMaster, parseClusterConfig, rateToMs } from '../../cdk/cluster-config';

const valid = { name: 'geo', nodes: [{ name: 'master-1', role: 'master' }, { name: 'slave-1', role: 'slave' }] };

describe('cluster configuration', () => {
  it('fills defaults for status settings', () => {
    const config = parseClusterConfig(valid);
    expect(config.status).toMatchObject({ retentionMinutes: 1440, heartbeatTimeoutSeconds: 300, indexShards: 8, requireAuthForReads: false });
  });

  it('accepts the rate expressions EventBridge does', () => {
    for (const rate of ['rate(1 minute)', 'rate(2 minutes)', 'rate(1 hour)', 'rate(12 hours)', 'rate(10 minutes)']) {
      expect(parseClusterConfig({ ...valid, status: { cleanupSchedule: rate, reaperSchedule: rate } }).status).toMatchObject({ cleanupSchedule: rate, reaperSchedule: rate });
    }
  });

  it('declares no operators unless asked', () => {
    expect(parseClusterConfig(valid).operators).toEqual([]);
    expect(parseClusterConfig({ ...valid, operators: [{ name: 'ops' }] }).operators).toEqual([{ name: 'ops' }]);
  });

  it('says when the cluster key is missing', () => {
    expect(() => parseClusterConfig(undefined)).toThrow("cdk.json context key 'cluster' is missing");
  });

  it.each([
    [{ ...valid, nodes: [{ name: 'a', role: 'boss' }] }, 'cluster.nodes[0].role'],
    [{ ...valid, nodes: [] }, 'cluster.nodes: must declare at least one node'],
    [{ ...valid, name: 'Geo Cluster' }, 'cluster.name'],
    // The cluster's name is its messages' group, and a dead letter whose group starts so is one the apply function set aside.
    [{ ...valid, name: 'set-aside-prod' }, 'cluster.name: must be 1-20 lowercase letters, digits or dashes, starting with a letter, and not with "set-aside-"'],
    [{ ...valid, nodes: [{ name: 'UPPER', role: 'slave' }] }, 'cluster.nodes[0].name'],
    [{ ...valid, status: { indexShards: 0 } }, 'cluster.status.indexShards'],
    [{ ...valid, status: { reaperSchedule: 'every minute' } }, 'cluster.status.reaperSchedule'],
    // EventBridge refuses these (the unit's number must agree with the value, which must be positive): the deploy would fail.
    [{ ...valid, status: { cleanupSchedule: 'rate(5 minute)' } }, 'cluster.status.cleanupSchedule'],
    [{ ...valid, status: { reaperSchedule: 'rate(1 minutes)' } }, 'cluster.status.reaperSchedule'],
    [{ ...valid, status: { cleanupSchedule: 'rate(1 hours)' } }, 'cluster.status.cleanupSchedule'],
    [{ ...valid, status: { reaperSchedule: 'rate(0 minutes)' } }, 'cluster.status.reaperSchedule'],
    [{ ...valid, status: { retentionMinute: 5 } }, 'cluster.status'],
    [{ ...valid, nodes: [{ name: 'a', role: 'master' }, { name: 'a', role: 'slave' }] }, "cluster.nodes[1].name: duplicate node name 'a'"],
    [{ ...valid, nodes: [{ name: 's', role: 'slave' }] }, 'cluster.nodes: must include a master or both node'],
    // Node `a`'s dead-letter queue is `<cluster>-a-dlq.fifo`, the very name of node `a-dlq`'s queue: the deploy would fail.
    [
      { ...valid, nodes: [{ name: 'master-1', role: 'master' }, { name: 'a', role: 'slave' }, { name: 'a-dlq', role: 'both' }] },
      "cluster.nodes[2].name: node 'a-dlq' would share its queue's name with the dead-letter queue of node 'a'",
    ],
    [{ ...valid, operators: [{ name: 'slave-1' }] }, "cluster.operators[0].name: 'slave-1' is already a node or operator name"],
    [{ ...valid, operators: [{ name: 'ops' }, { name: 'ops' }] }, "cluster.operators[1].name: 'ops' is already a node or operator name"],
    [{ ...valid, operators: [{ name: 'Ops Team' }] }, 'cluster.operators[0].name'],
    [{ ...valid, operators: [{ name: 'ops', role: 'admin' }] }, 'cluster.operators[0]'],
  ])('names the bad key (%#)', (raw, expected) => {
    expect(() => parseClusterConfig(raw)).toThrow(expected);
  });

  describe('-c clusterFile=path.json', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'sgc-cluster-file-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const context = (values: Record<string, unknown>) => (key: string) => values[key];

    it('takes the cluster from the file instead of cdk.json context', () => {
      const file = path.join(dir, 'second.json');
      writeFileSync(file, JSON.stringify({ name: 'second', nodes: [{ name: 'm', role: 'master' }] }));
      const config = clusterConfigFromContext(context({ clusterFile: file, cluster: valid }));
      expect(config.name).toBe('second');
      expect(config.nodes).toEqual([{ name: 'm', role: 'master' }]);
      expect(clusterConfigFromContext(context({ cluster: valid })).name).toBe('geo');
    });

    it('names the file when it is missing, not JSON, or invalid', () => {
      const missing = path.join(dir, 'missing.json');
      expect(() => clusterConfigFromContext(context({ clusterFile: missing }))).toThrow(`Cannot read cluster file ${missing}`);
      const broken = path.join(dir, 'broken.json');
      writeFileSync(broken, '{ name: ');
      expect(() => clusterConfigFromContext(context({ clusterFile: broken }))).toThrow(`Cluster file ${broken} is not JSON`);
      const invalid = path.join(dir, 'invalid.json');
      writeFileSync(invalid, JSON.stringify({ ...valid, name: 'Bad Name' }));
      expect(() => clusterConfigFromContext(context({ clusterFile: invalid }))).toThrow(`Invalid cluster configuration in cluster file ${invalid}:\n  cluster.name`);
    });
  });

  const geoserver = {
    url: 'http://10.0.3.21:8080/geoserver',
    credentialsSecret: 'geo/slave-1/geoserver-admin',
    network: { vpcId: 'vpc-0a1b2c3d', subnetIds: ['subnet-0a1b2c3d'], securityGroupIds: ['sg-0a1b2c3d'], reachAws: 'nat' },
  };
  const withGeoServer = (node: Record<string, unknown>) => ({ ...valid, nodes: [valid.nodes[0], { name: 'slave-1', role: 'slave', ...node }] });

  it('accepts a consuming node with its GeoServer, its secret and its network', () => {
    expect(parseClusterConfig(withGeoServer({ geoserver })).nodes[1]).toEqual({ name: 'slave-1', role: 'slave', geoserver });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geo/slave-1-AbCdEf';
    const endpoints = { ...geoserver.network, reachAws: 'vpc-endpoints', routeTableIds: ['rtb-0a1b2c3d'] };
    expect(() => parseClusterConfig(withGeoServer({ geoserver: { ...geoserver, credentialsSecret: arn, network: endpoints } }))).not.toThrow();
    expect(() => parseClusterConfig(withGeoServer({ geoserver: { url: 'https://maps.example.org/geoserver', credentialsSecret: 'x' } }))).not.toThrow();
  });

  it.each([
    [{ geoserver: { ...geoserver, url: 'ftp://host/geoserver' } }, 'cluster.nodes[1].geoserver.url'],
    [{ geoserver: { ...geoserver, url: 'http://admin:secret@host/geoserver' } }, 'cluster.nodes[1].geoserver.url: must not carry credentials'],
    [{ geoserver: { url: geoserver.url } }, 'cluster.nodes[1].geoserver.credentialsSecret'],
    [{ geoserver: { ...geoserver, credentialsSecret: 'has spaces' } }, 'cluster.nodes[1].geoserver.credentialsSecret: must be a Secrets Manager secret name or ARN'],
    // A partial ARN (no six-character suffix) names the secret to the API, but the grant would be
    // that exact ARN, which the secret's own (suffixed) ARN never matches: denied at run time.
    [
      { geoserver: { ...geoserver, credentialsSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geo/slave-1' } },
      'cluster.nodes[1].geoserver.credentialsSecret: must be a Secrets Manager secret name or ARN',
    ],
    [{ geoserver: { ...geoserver, network: { ...geoserver.network, subnetIds: [] } } }, 'cluster.nodes[1].geoserver.network.subnetIds: must name at least one subnet'],
    [{ geoserver: { ...geoserver, network: { ...geoserver.network, securityGroupIds: ['default'] } } }, 'cluster.nodes[1].geoserver.network.securityGroupIds[0]'],
    // Lambda's VpcConfig takes at most 5 security groups and 16 subnets: more fail the function's deploy.
    [
      { geoserver: { ...geoserver, network: { ...geoserver.network, securityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-0a1b2c3${i}`) } } },
      'cluster.nodes[1].geoserver.network.securityGroupIds',
    ],
    [
      { geoserver: { ...geoserver, network: { ...geoserver.network, subnetIds: Array.from({ length: 17 }, (_, i) => `subnet-0a1b2c${String(i).padStart(2, '0')}`) } } },
      'cluster.nodes[1].geoserver.network.subnetIds',
    ],
    [{ geoserver: { ...geoserver, network: { ...geoserver.network, reachAws: 'vpc-endpoints' } } }, 'cluster.nodes[1].geoserver.network.routeTableIds: is required'],
    [{ geoserver: { ...geoserver, network: { ...geoserver.network, reachAws: 'internet' } } }, 'cluster.nodes[1].geoserver.network.reachAws'],
    [{ geoserver: { ...geoserver, user: 'admin' } }, 'cluster.nodes[1].geoserver'],
    [{ role: 'master', geoserver }, 'cluster.nodes[1].geoserver: a pure master applies no events'],
  ])('names the bad GeoServer key (%#)', (node, expected) => {
    expect(() => parseClusterConfig(withGeoServer(node))).toThrow(expected);
  });

  describe("the secret's KMS key (credentialsSecretKey)", () => {
    const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const withKey = (credentialsSecretKey: unknown, credentialsSecret = geoserver.credentialsSecret) =>
      withGeoServer({ geoserver: { ...geoserver, credentialsSecret, credentialsSecretKey } });

    it('is optional, and kept as given: a key ARN, a multi-Region key ARN, in any partition', () => {
      expect(parseClusterConfig(withGeoServer({ geoserver })).nodes[1]?.geoserver?.credentialsSecretKey).toBeUndefined();
      expect(parseClusterConfig(withKey(KEY)).nodes[1]?.geoserver?.credentialsSecretKey).toBe(KEY);
      for (const key of ['arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab', 'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab']) {
        expect(parseClusterConfig(withKey(key)).nodes[1]?.geoserver?.credentialsSecretKey).toBe(key);
      }
      // A secret named by ARN, with its key in the same Region.
      expect(() => parseClusterConfig(withKey(KEY, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geo/slave-1-AbCdEf'))).not.toThrow();
    });

    it.each([
      // An alias names a key to KMS calls, but IAM matches a grant against the key's own ARN: never an alias's.
      ['arn:aws:kms:eu-west-1:123456789012:alias/geoserver', 'cluster.nodes[1].geoserver.credentialsSecretKey: is an alias'],
      ['alias/geoserver', 'cluster.nodes[1].geoserver.credentialsSecretKey: is an alias'],
      ['1234abcd-12ab-34cd-56ef-1234567890ab', "cluster.nodes[1].geoserver.credentialsSecretKey: must be the KMS key's full ARN"],
      ['arn:aws:kms:eu-west-1:123456789012:key/*', "cluster.nodes[1].geoserver.credentialsSecretKey: must be the KMS key's full ARN"],
      ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:geo/slave-1-AbCdEf', "cluster.nodes[1].geoserver.credentialsSecretKey: must be the KMS key's full ARN"],
      [42, 'cluster.nodes[1].geoserver.credentialsSecretKey'],
    ])('refuses %p, naming the key', (key, expected) => {
      expect(() => parseClusterConfig(withKey(key))).toThrow(expected);
    });

    it("refuses a key in another Region than the secret's ARN: Secrets Manager encrypts a secret with a key of its own Region", () => {
      expect(() => parseClusterConfig(withKey(KEY, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:geo/slave-1-AbCdEf'))).toThrow(
        "cluster.nodes[1].geoserver.credentialsSecretKey: is in eu-west-1, the secret in us-east-1",
      );
    });
  });

  describe('the subnets of the interface endpoints (reachAws vpc-endpoints)', () => {
    const network = (extra: Record<string, unknown> = {}, subnetIds = ['subnet-0a1b2c3d', 'subnet-0a1b2c3e']) => ({
      ...geoserver.network,
      subnetIds,
      reachAws: 'vpc-endpoints',
      routeTableIds: ['rtb-0a1b2c3d'],
      ...extra,
    });
    const node = (name: string, net: Record<string, unknown>) => ({ name, role: 'slave', geoserver: { ...geoserver, credentialsSecret: `geo/${name}`, network: net } });
    const twoNodes = (a: Record<string, unknown>, b: Record<string, unknown>) => ({ ...valid, nodes: [valid.nodes[0], node('gs-a', a), node('gs-b', b)] });

    it('accepts one subnet per Availability Zone, named by zone, and a single subnet without them', () => {
      const endpointSubnets = { 'eu-west-1a': 'subnet-0a1b2c3d', 'eu-west-1b': 'subnet-0b1b2c3d', 'us-west-2-lax-1a': 'subnet-0c1b2c3d' };
      expect(parseClusterConfig(withGeoServer({ geoserver: { ...geoserver, network: network({ endpointSubnets }) } })).nodes[1]!.geoserver!.network!.endpointSubnets).toEqual(endpointSubnets);
      expect(() => parseClusterConfig(withGeoServer({ geoserver: { ...geoserver, network: network({}, ['subnet-0a1b2c3d']) } }))).not.toThrow();
    });

    it.each([
      // Two subnets may share a zone, which an interface endpoint refuses at deploy; their ids do not say.
      [network(), "cluster.nodes[1].geoserver.network.endpointSubnets: is required with reachAws 'vpc-endpoints' and more than one subnet"],
      [network({ endpointSubnets: {} }), 'cluster.nodes[1].geoserver.network.endpointSubnets: must name at least one subnet'],
      [network({ endpointSubnets: { 'eu-west-1a': 'subnet-0a1b2c3d', 'eu-west-1b': 'subnet-0a1b2c3d' } }), "cluster.nodes[1].geoserver.network.endpointSubnets.eu-west-1b: subnet-0a1b2c3d is named for eu-west-1a too"],
      [network({ endpointSubnets: { euw1az1: 'subnet-0a1b2c3d' } }), 'cluster.nodes[1].geoserver.network.endpointSubnets.euw1az1: must be an Availability Zone name'],
      [network({ endpointSubnets: { 'eu-west-1a': 'sub-1' } }), 'cluster.nodes[1].geoserver.network.endpointSubnets.eu-west-1a: must be an id like'],
      [{ ...geoserver.network, endpointSubnets: { 'eu-west-1a': 'subnet-0a1b2c3d' } }, "cluster.nodes[1].geoserver.network.endpointSubnets: is only for reachAws 'vpc-endpoints'"],
    ])('names what is wrong with them (%#)', (net, expected) => {
      expect(() => parseClusterConfig(withGeoServer({ geoserver: { ...geoserver, network: net } }))).toThrow(expected);
    });

    it("nodes in one VPC share its endpoints: their zones' subnets must agree", () => {
      const a = network({ endpointSubnets: { 'eu-west-1a': 'subnet-0a1b2c3d' } });
      expect(() => parseClusterConfig(twoNodes(a, network({ endpointSubnets: { 'eu-west-1b': 'subnet-0b1b2c3d' } })))).not.toThrow();
      expect(() => parseClusterConfig(twoNodes(a, network({ endpointSubnets: { 'eu-west-1a': 'subnet-0a1b2c3d' } })))).not.toThrow();
      expect(() => parseClusterConfig(twoNodes(a, network({ endpointSubnets: { 'eu-west-1a': 'subnet-0e1b2c3d' } })))).toThrow(
        "cluster.nodes[2].geoserver.network.endpointSubnets.eu-west-1a: node gs-a names subnet-0a1b2c3d for eu-west-1a in vpc-0a1b2c3d, whose interface endpoints both nodes share (one subnet per zone)",
      );
      expect(() => parseClusterConfig(twoNodes(a, network({ endpointSubnets: { 'eu-west-1b': 'subnet-0a1b2c3d' } })))).toThrow(
        'cluster.nodes[2].geoserver.network.endpointSubnets.eu-west-1b: node gs-a names subnet-0a1b2c3d for eu-west-1a',
      );
      // In another VPC, the same zone may have another subnet.
      expect(() => parseClusterConfig(twoNodes(a, network({ vpcId: 'vpc-0e1b2c3d', endpointSubnets: { 'eu-west-1a': 'subnet-0e1b2c3d' } })))).not.toThrow();
    });
  });

  describe('the GeoServer REST gateway', () => {
    const gs = (name: string, role = 'both') => ({ name, role, geoserver: { url: `http://${name}:8080/geoserver`, credentialsSecret: `geo/${name}` } });

    it('is off by default', () => {
      const config = parseClusterConfig(valid);
      expect(config.gateway).toEqual({ enabled: false, rateLimit: 20, burstLimit: 40 });
      expect(gatewayMaster(config)).toBeUndefined();
    });

    it("forwards to the only 'both' node with a GeoServer, or the one it names", () => {
      expect(gatewayMaster(parseClusterConfig({ ...valid, nodes: [...valid.nodes, gs('gs-a'), gs('gs-s', 'slave')], gateway: { enabled: true } }))?.name).toBe('gs-a');
      const two = { ...valid, nodes: [gs('gs-a'), gs('gs-b')], gateway: { enabled: true, master: 'gs-b' } };
      expect(gatewayMaster(parseClusterConfig(two))?.name).toBe('gs-b');
    });

    it.each([
      [{ nodes: valid.nodes, gateway: { enabled: true } }, "cluster.gateway.enabled: needs a node with role 'both' that declares geoserver"],
      [{ nodes: [gs('gs-a'), gs('gs-b')], gateway: { enabled: true } }, 'cluster.gateway.master: must name which of gs-a, gs-b'],
      [{ nodes: [gs('gs-a'), gs('gs-s', 'slave')], gateway: { enabled: true, master: 'gs-s' } }, "cluster.gateway.master: must name a 'both' node that declares geoserver; 'gs-s'"],
      [{ nodes: [gs('gs-a')], gateway: { enabled: true, allowedSourceIps: ['203.0.113.0/24', 'office'] } }, "cluster.gateway.allowedSourceIps[1]: 'office' is not an IPv4 or IPv6 address or CIDR block"],
      [{ nodes: [gs('gs-a')], gateway: { enabled: true, allowedSourceIps: ['203.0.113.0/40'] } }, "cluster.gateway.allowedSourceIps[0]: '203.0.113.0/40' has a prefix length that is not 0-32"],
      [{ nodes: [gs('gs-a')], gateway: { enabled: true, allowedSourceIps: [] } }, 'cluster.gateway.allowedSourceIps: must list at least one address or CIDR block'],
      [{ nodes: valid.nodes, gateway: { enabled: true, rateLimit: 0 } }, 'cluster.gateway.rateLimit'],
      [{ nodes: valid.nodes, gateway: { enable: true } }, 'cluster.gateway'],
    ])('names the bad gateway key (%#)', (overrides, expected) => {
      expect(() => parseClusterConfig({ ...valid, ...overrides })).toThrow(expected);
    });
  });

  it('parses schedule rates', () => {
    expect(rateToMs('rate(1 minute)')).toBe(60_000);
    expect(rateToMs('rate(15 minutes)')).toBe(900_000);
    expect(rateToMs('rate(2 hours)')).toBe(7_200_000);
    expect(() => rateToMs('cron(0 * * * ? *)')).toThrow('Unsupported schedule expression');
  });
});
