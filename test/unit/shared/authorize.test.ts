/**
 * The node authorizer's decision: declared names with their own secret pass; every other
 * well-formed token is refused after the same steps (one read of its name's hash), so the time
 * of a refusal does not say whether the cluster declares the name.
 */
import { authorize } from '../../../lambdas/shared/authorize';
import { generateToken } from '../../../lambdas/shared/node-token';

const slave = generateToken('slave-1');
/** A node removed from the cluster configuration whose token is still in the table. */
const removed = generateToken('slave-9');

function credentials() {
  const hashes = new Map([
    ['slave-1', slave.secretHash],
    ['slave-9', removed.secretHash],
  ]);
  const reads: string[] = [];
  return {
    reads,
    async secretHashOf(name: string) {
      reads.push(name);
      return hashes.get(name);
    },
  };
}

const roleOf = (name: string) => (name === 'slave-1' ? 'slave' : name === 'ops' ? 'operator' : undefined);

describe('authorize', () => {
  it('passes a declared node with its own secret, with its role', async () => {
    const store = credentials();
    expect(await authorize(store, roleOf, `Bearer ${slave.token}`)).toEqual({ isAuthorized: true, context: { nodeId: 'slave-1', role: 'slave' } });
    expect(store.reads).toEqual(['slave-1']);
  });

  it.each([
    ['a declared node with another secret', `Bearer slave-1.${'y'.repeat(43)}`, 'slave-1'],
    ['a declared operator without a stored token', `Bearer ops.${'y'.repeat(43)}`, 'ops'],
    ['an undeclared name', `Bearer stranger.${'x'.repeat(43)}`, 'stranger'],
    ['an undeclared name whose token the table still holds', `Bearer ${removed.token}`, 'slave-9'],
  ])('refuses %s after one read of its hash, like any other', async (_case, header, read) => {
    const store = credentials();
    expect(await authorize(store, roleOf, header)).toEqual({ isAuthorized: false, context: {} });
    expect(store.reads).toEqual([read]);
  });

  it('refuses a malformed header without reading anything', async () => {
    const store = credentials();
    for (const header of [undefined, '', 'Basic abc', `Bearer ${slave.token.replace('.', '')}`, 'Bearer a.b']) {
      expect(await authorize(store, roleOf, header)).toEqual({ isAuthorized: false, context: {} });
    }
    expect(store.reads).toEqual([]);
  });
});
