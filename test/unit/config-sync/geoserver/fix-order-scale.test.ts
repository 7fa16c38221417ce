// Reconciles and captures of large catalogs: the orders they make of their differences (fixOrder,
// and the nesting sorts of layer groups) read each difference a bounded number of times, not once
// per other difference (a job orders all its differences again in every slice), and so does a
// capture's look through every stored layer group for those an earlier cascade left changed.
import { MemoryEventBodyStore, MemoryEventLog, MemoryJobStore, MemoryNodeStore } from '../../../../lambdas/config-sync/adapters/memory';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { fixOrder, innerGroupsFirst, outerGroupsFirst, type DriftEntry } from '../../../../lambdas/config-sync/geoserver/drift';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob } from '../../../../lambdas/config-sync/jobs';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import type { StoredObject } from '../../../../lambdas/config-sync/ports';
import { FakeGeoServer } from './fake-geoserver';

/** `entries`, each counting the reads of `property` into `reads`. */
function counted(entries: readonly DriftEntry[], property: 'holds' | 'kind', reads: { count: number }): DriftEntry[] {
  return entries.map((entry) => {
    const { [property]: value, ...rest } = entry as DriftEntry & { holds?: readonly string[] };
    return Object.defineProperty({ ...rest }, property, {
      enumerable: true,
      get: () => {
        reads.count += 1;
        return value;
      },
    }) as DriftEntry;
  });
}

// 2,000 layer groups of a workspace in chains of ten, each holding the next by its local name.
const GROUPS = 2000;
const groups = (kind: DriftEntry['kind']) =>
  Array.from({ length: GROUPS }, (_, i) => ({ kind, type: 'layerGroup', id: `topp:g${i}`, ...(i % 10 === 9 ? {} : { holds: [`g${i + 1}`] }) }) as DriftEntry);

test.each([
  ['innerGroupsFirst', 'missing', innerGroupsFirst],
  ['outerGroupsFirst', 'extra', outerGroupsFirst],
] as const)('%s reads what each of 2,000 groups holds a bounded number of times, and orders every chain', (_, kind, order) => {
  const reads = { count: 0 };
  const ordered = order(counted(groups(kind), 'holds', reads));
  expect(reads.count).toBeLessThanOrEqual(2 * GROUPS);
  const at = new Map(ordered.map((entry, index) => [entry.id, index] as const));
  for (let i = 0; i < GROUPS; i += 1) {
    if (i % 10 === 9) continue;
    // The inner group (g(i+1)) is added before the group holding it, and removed after it.
    const inner = at.get(`topp:g${i + 1}`)!;
    const outer = at.get(`topp:g${i}`)!;
    expect(kind === 'missing' ? inner < outer : outer < inner).toBe(true);
  }
});

test('fixOrder reads each of 20,000 differences a bounded number of times, and still puts a blocking extra before the add it blocks', () => {
  const differences: DriftEntry[] = [];
  for (let i = 0; i < 5000; i += 1) {
    differences.push({ kind: 'extra', type: i % 2 === 0 ? 'dataStore' : 'featureType', id: `topp:x${i}` } as DriftEntry);
    differences.push({ kind: 'missing', type: 'coverage', id: `topp:y${i}` } as DriftEntry);
    differences.push({ kind: 'missing', type: 'layer', id: `topp:y${i}` } as DriftEntry);
    differences.push({ kind: 'missing', type: 'coverageStore', id: `topp:s${i}` } as DriftEntry);
  }
  // One coverage store blocked by a data store of its name, one coverage by a feature type of its name.
  differences.push({ kind: 'missing', type: 'coverageStore', id: 'topp:x0' } as DriftEntry);
  differences.push({ kind: 'missing', type: 'coverage', id: 'topp:x1' } as DriftEntry);
  const reads = { count: 0 };
  const ordered = fixOrder(counted(differences, 'kind', reads));
  expect(reads.count).toBeLessThanOrEqual(20 * differences.length);
  const at = (kind: string, type: string, id: string) => ordered.findIndex((entry) => entry.kind === kind && entry.type === type && entry.id === id);
  expect(at('extra', 'dataStore', 'topp:x0')).toBeGreaterThanOrEqual(0);
  expect(at('extra', 'dataStore', 'topp:x0')).toBeLessThan(at('missing', 'coverageStore', 'topp:x0'));
  expect(at('extra', 'featureType', 'topp:x1')).toBeLessThan(at('missing', 'coverage', 'topp:x1'));
  expect(ordered.find((entry) => entry.type === 'dataStore' && entry.id === 'topp:x0')).toMatchObject({ blocking: true });
  expect(ordered.find((entry) => entry.type === 'dataStore' && entry.id === 'topp:x2')).not.toHaveProperty('blocking');
  expect(ordered).toHaveLength(differences.length + 3); // the blocking resource's layer removed, added again, its groups written back
});

/**
 * Every capture looks for the groups an earlier removal with recurse left changed on the nodes
 * (its pending regroups step) among all the groups the store holds: that look reads each stored
 * group a bounded number of times, not once per entry of every other group.
 */
test("a capture's look for the groups an earlier cascade left reads each of 2,000 stored groups a bounded number of times", async () => {
  const stored = (type: StoredObject['type'], id: string, properties: JsonObject, extra: Partial<StoredObject> = {}) =>
    ({ type, id, properties, lastSequence: 1, lastOrigin: 'master-1', updatedAt: '2026-12-01T00:00:00.000Z', deleted: false, incomplete: false, ...extra }) as StoredObject;
  const objects: StoredObject[] = [stored('workspace', 'topp', { name: 'topp' })];
  for (let i = 0; i < GROUPS; i += 1) {
    objects.push(stored('layer', `topp:l${i}`, { name: `l${i}` }, i === 0 ? { lastSequence: 6, cascadedAt: 5 } : {}));
    const entries = [{ '@type': 'layer', name: `l${i}` }, ...(i % 10 === 9 ? [] : [{ '@type': 'layerGroup', name: `g${i + 1}` }])];
    objects.push(stored('layerGroup', `topp:g${i}`, { name: `g${i}`, workspace: { name: 'topp' }, publishables: { published: entries } }));
  }
  const memory = new MemoryNodeStore();
  await memory.replaceWithSnapshot('master-1', { cluster: 'test-cluster', sourceNode: 'master-1', sequence: 10, objects });
  // The store's listings, each layer group in them counting the reads of its id and properties.
  const reads = { count: 0 };
  const watched = (object: StoredObject): StoredObject => {
    if (object.type !== 'layerGroup') return object;
    const { id, properties, ...rest } = object;
    return Object.defineProperties({ ...rest }, {
      id: { enumerable: true, get: () => ((reads.count += 1), id) },
      properties: { enumerable: true, get: () => ((reads.count += 1), properties) },
    }) as StoredObject;
  };
  const store = new Proxy(memory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'listObjects') {
        return async (...args: Parameters<MemoryNodeStore['listObjects']>) => {
          const page = await target.listObjects(...args);
          return { ...page, objects: page.objects.map(watched) };
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const jobs = new MemoryJobStore();
  const published: ConfigChange[] = [];
  const geoserver = new FakeGeoServer();
  const deps: JobRunnerDeps = {
    cluster: 'test-cluster',
    store,
    jobs,
    apply: { store, log: new MemoryEventLog(), bodies: new MemoryEventBodyStore() },
    rest: geoserver,
    compareMode: 'both-ways',
    now: () => new Date(),
    publish: async (change) => {
      published.push(change);
      return 0;
    },
  };
  // A capture whose scan found no difference: its fix phase is the pending regroups step alone.
  const job = newJob({ id: 'capture-1', node: 'master-1', kind: 'capture', requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
  expect(await jobs.start({ ...job, phase: 'fix', checkpoint: { chunks: 0, index: 0 } }, new Date())).toEqual({ started: true });
  expect(await runJobSlice(deps, 'master-1', job.id, Date.now() + 60_000)).toBe('done');
  // The group naming the layer the cascade took was looked up on the master's GeoServer (which lacks it: nothing published).
  expect(geoserver.requests).toEqual(['GET /workspaces/topp/layergroups/g0.json']);
  expect(published).toEqual([]);
  expect(reads.count).toBeLessThanOrEqual(20 * GROUPS);
});
