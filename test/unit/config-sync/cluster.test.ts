import {
  assertCanOperate,
  assertCanPublish,
  consumingNodes,
  findNode,
  type ClusterMembership,
} from '../../../lambdas/config-sync/cluster';
import { canPublish, clusterNodesSchema, consumes, nodeNameSchema, type NodeRole } from '../../../lambdas/shared/cluster-model';
import { membershipFromEnv } from '../../../lambdas/config-sync/adapters/from-env';
import { parseAuthorizationHeader } from '../../../lambdas/shared/node-token';
import { PureSlavePublishError, UnknownNodeError } from '../../../lambdas/config-sync/errors';
import { AppError } from '../../../lambdas/shared/errors';
import * as z from 'zod/mini';

describe('node roles', () => {
  const table: [NodeRole, boolean, boolean][] = [
    ['master', true, false],
    ['slave', false, true],
    ['both', true, true],
  ];

  it.each(table)('a %s node: publishes %s, consumes (gets a queue) %s', (role, publishes, hasQueue) => {
    expect(canPublish(role)).toBe(publishes);
    expect(consumes(role)).toBe(hasQueue);
  });

  it('refuses a publish from a pure slave with a 403 that says so', () => {
    const refuse = () => assertCanPublish({ name: 'slave-2', role: 'slave' });
    expect(refuse).toThrow(PureSlavePublishError);
    expect(refuse).toThrow('Node slave-2 is a pure slave: configuration changes must be published by a master');
    try {
      refuse();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ status: 403, code: 'PURE_SLAVE' });
    }
  });

  it('lets masters and both-nodes publish', () => {
    expect(() => assertCanPublish({ name: 'm', role: 'master' })).not.toThrow();
    expect(() => assertCanPublish({ name: 'b', role: 'both' })).not.toThrow();
  });
});

describe('membership', () => {
  const membership: ClusterMembership = {
    cluster: 'prod',
    nodes: [
      { name: 'master-1', role: 'master' },
      { name: 'both-1', role: 'both' },
      { name: 'slave-1', role: 'slave' },
    ],
  };

  it('finds a declared node', () => {
    expect(findNode(membership, 'slave-1')).toEqual({ name: 'slave-1', role: 'slave' });
  });

  it('answers 404 for an undeclared node', () => {
    expect(() => findNode(membership, 'ghost')).toThrow(UnknownNodeError);
    expect(() => findNode(membership, 'ghost')).toThrow('Node ghost is not a member of cluster prod');
    expect(() => findNode(membership, 'ghost')).toThrow(expect.objectContaining({ status: 404, code: 'NODE_NOT_FOUND' }));
  });

  it('gives queues to slaves and both-nodes only', () => {
    expect(consumingNodes(membership).map((node) => node.name)).toEqual(['both-1', 'slave-1']);
  });

  it('accepts node names that fit in queue names and tokens, and rejects the rest', () => {
    const secret = 'A'.repeat(43);
    for (const name of ['a', 'node-1', '0lead', 'x'.repeat(31)]) {
      expect(z.safeParse(nodeNameSchema, name).success).toBe(true);
      // Every valid name can also be presented in a token.
      expect(parseAuthorizationHeader(`Bearer ${name}.${secret}`)).toEqual({ nodeId: name, secret });
    }
    for (const name of ['', '-lead', 'has space', 'dot.ted', 'x'.repeat(32), 'colon:s', 'Node_2', 'UPPER']) {
      expect(z.safeParse(nodeNameSchema, name).success).toBe(false);
    }
  });

  // The rules of the node list are one function (nodeListIssues), applied by the schema CDK
  // checks the cluster file with and by the functions' reading of CLUSTER_NODES: both refuse
  // each of these, naming the rule.
  const invalidLists: [string, { name: string; role: string }[], RegExp][] = [
    ['no node', [], /must declare at least one node/],
    ['a name twice', [{ name: 'm', role: 'master' }, { name: 'm', role: 'slave' }], /duplicate node name 'm'/],
    ['no publisher', [{ name: 's', role: 'slave' }], /must include a master or both node/],
    ['an unknown role', [{ name: 'm', role: 'primary' }], /primary/],
    ['an invalid name', [{ name: 'Node_1', role: 'master' }], /Node_1|lowercase/],
  ];

  it.each(invalidLists)('the schema of the declared nodes refuses %s', (_case, nodes) => {
    expect(z.safeParse(clusterNodesSchema, nodes).success).toBe(false);
  });

  it('the schema of the declared nodes names the list rules it breaks', () => {
    const result = z.safeParse(clusterNodesSchema, [{ name: 'm', role: 'slave' }, { name: 'm', role: 'slave' }]);
    expect(result.success ? [] : result.error.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [[1, 'name'], "duplicate node name 'm'"],
      [[], 'must include a master or both node'],
    ]);
    expect(z.safeParse(clusterNodesSchema, [{ name: 'm', role: 'master' }, { name: 's', role: 'slave' }]).success).toBe(true);
  });

  describe('the membership functions read from CLUSTER_NAME and CLUSTER_NODES', () => {
    const saved = { name: process.env.CLUSTER_NAME, nodes: process.env.CLUSTER_NODES };
    afterEach(() => {
      for (const [key, value] of [['CLUSTER_NAME', saved.name], ['CLUSTER_NODES', saved.nodes]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });
    const read = (cluster: string, nodes: string) => {
      process.env.CLUSTER_NAME = cluster;
      process.env.CLUSTER_NODES = nodes;
      return membershipFromEnv();
    };

    it('reads the nodes in their declared order', () => {
      expect(read('prod', '{"m":"master","s-1":"slave","b":"both"}')).toEqual({
        cluster: 'prod',
        nodes: [{ name: 'm', role: 'master' }, { name: 's-1', role: 'slave' }, { name: 'b', role: 'both' }],
      });
    });

    it.each(invalidLists.filter(([name]) => name !== 'a name twice'))('refuses %s, naming the variable and the rule', (_case, nodes, message) => {
      const json = JSON.stringify(Object.fromEntries(nodes.map((node) => [node.name, node.role])));
      expect(() => read('prod', json)).toThrow(/CLUSTER_NODES/);
      expect(() => read('prod', json)).toThrow(message);
    });

    it.each([
      ['{not json', /CLUSTER_NODES must be a JSON object of node names to roles, got '\{not json'/],
      ['["m"]', /must be a JSON object/],
      ['null', /must be a JSON object/],
      ['{"m":7}', /gives node m the role 7: expected one of master, slave, both/],
    ])('refuses CLUSTER_NODES %s', (nodes, message) => {
      expect(() => read('prod', nodes)).toThrow(message);
    });

    it('refuses a cluster name the model does not allow', () => {
      expect(() => read('Prod', '{"m":"master"}')).toThrow(/CLUSTER_NAME must be 1-20 lowercase letters, digits or dashes, starting with a letter, and not with "set-aside-", got 'Prod'/);
      expect(() => read('', '{"m":"master"}')).toThrow(/CLUSTER_NAME is required/);
      expect(() => read('set-aside-prod', '{"m":"master"}')).toThrow(/CLUSTER_NAME .*and not with "set-aside-", got 'set-aside-prod'/);
    });
  });
});

describe('who may resync or redrive a node', () => {
  const master = { name: 'master-1', role: 'master' as const };
  const both = { name: 'hub', role: 'both' as const };
  const slave1 = { name: 'slave-1', role: 'slave' as const };
  const slave2 = { name: 'slave-2', role: 'slave' as const };

  it.each([
    [master, slave1],
    [both, slave2],
    [slave1, slave1],
  ])('%o may act on %o', (caller, target) => {
    expect(() => assertCanOperate(caller, target, 'resync')).not.toThrow();
  });

  it("refuses a slave acting on another node's store with a 403 naming both", () => {
    expect(() => assertCanOperate(slave1, slave2, 'redrive')).toThrow(
      expect.objectContaining({ status: 403, message: 'Node slave-1 may not redrive node slave-2: only the node itself or a master may' }),
    );
    expect(() => assertCanOperate(slave1, master, 'resync')).toThrow(expect.objectContaining({ status: 403 }));
  });
});
