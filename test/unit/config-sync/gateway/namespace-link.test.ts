/**
 * The reads around a namespace's or workspace's PUT (namespace-link.ts): a workspace with many
 * data stores is read a few at a time, not one after another, and what is published keeps the
 * order of the objects read (the other object first, then the stores as the master lists them).
 */
import { linkedBefore, linkedChanges, type LinkReader } from '../../../../lambdas/config-sync/gateway/namespace-link';
import { MASTER_READ_CONCURRENCY } from '../../../../lambdas/config-sync/gateway/limits';
import type { ManagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';

const STORES = Array.from({ length: 30 }, (_, index) => `store-${String(index).padStart(2, '0')}`);

/** A master whose every object read takes a few milliseconds, counting how many run at once. */
function slowMaster(state: (path: string) => JsonObject | undefined) {
  let inFlight = 0;
  let most = 0;
  const reader: LinkReader = {
    async names(path) {
      return path === '/workspaces/sf/datastores' ? STORES : [];
    },
    async object(_target, path) {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return state(path);
    },
  };
  return { reader, most: () => most };
}

const target = { type: 'namespace', id: 'sf', path: '/namespaces/sf' } as unknown as ManagedPath;

test('reads the data stores of a workspace a few at a time, and publishes the changed ones in the order listed', async () => {
  let uri = 'urn:old';
  const master = slowMaster((path): JsonObject => {
    if (path === '/workspaces/sf') return { name: 'sf', isolated: false };
    const store = path.split('/').pop() as string;
    // Every other store has the namespace's URI as its `namespace` parameter: a save rewrites those.
    return { name: store, connectionParameters: { namespace: STORES.indexOf(store) % 2 === 0 ? uri : 'urn:other' } };
  });
  const linked = await linkedBefore(master.reader, target, 'PUT');
  expect(linked.map((object) => object.id)).toEqual(['sf', ...STORES.map((store) => `sf:${store}`)]);
  expect(master.most()).toBeGreaterThan(1);
  expect(master.most()).toBeLessThanOrEqual(MASTER_READ_CONCURRENCY);

  uri = 'urn:new';
  const changes = await linkedChanges(master.reader, linked);
  expect(changes.map((change) => change.object.id)).toEqual(STORES.filter((_, index) => index % 2 === 0).map((store) => `sf:${store}`));
  expect(master.most()).toBeLessThanOrEqual(MASTER_READ_CONCURRENCY);
});
