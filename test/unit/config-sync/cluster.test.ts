import {
  assertCanOperate,
  assertCanPublish,
  clusterMembershipSchema,
  consumingNodes,
  findNode,
  type ClusterMembership,
} from '../../../lambdas/config-sync/cluster';
import { canPublish, consumes, nodeNameSchema, type NodeRole } from '../../../lambdas/shared/cluster-model';
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

  it('validates a declared membership', () => {
    const valid = { cluster: 'prod', nodes: [{ name: 'm', role: 'master' }, { name: 's', role: 'slave' }] };
    expect(z.safeParse(clusterMembershipSchema, valid).success).toBe(true);
    const invalid = [
      { cluster: 'prod', nodes: [] },
      { cluster: 'prod', nodes: [{ name: 'm', role: 'master' }, { name: 'm', role: 'slave' }] },
      { cluster: 'prod', nodes: [{ name: 's', role: 'slave' }] },
      { cluster: 'prod', nodes: [{ name: 'm', role: 'primary' }] },
    ];
    for (const membership of invalid) expect(z.safeParse(clusterMembershipSchema, membership).success).toBe(false);
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
