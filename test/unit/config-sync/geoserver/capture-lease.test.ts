/**
 * A master's capture reads each difference from its GeoServer and publishes it under the
 * cluster's write lease (job-runner.ts, `captureStep`), so a gateway write cannot land between the
 * read and the publish. One entry may read many objects (the layer groups a removal with recurse
 * changed on the nodes are each read again, `regroupPending`): on a slow GeoServer that outlasts
 * the lease unless every read keeps it (`LEASED_CALL_MS`), and a lease another writer took over
 * meanwhile must stop the capture before it publishes what it read under it.
 */
import { MemoryEventBodyStore, MemoryEventLog, MemoryEventTopic, MemoryJobStore, MemoryNodeStore, MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import type { GeoServerRest } from '../../../../lambdas/config-sync/geoserver/ports';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob } from '../../../../lambdas/config-sync/jobs';
import { publishChange, type PublishDeps } from '../../../../lambdas/config-sync/publish';
import { standInPerTest } from '../../../support/standin-per-test';
import { add, modify } from '../fixtures';

const CLUSTER = 'test-cluster';
const NODE = 'gs-main';
const GROUPS = ['g1', 'g2', 'g3', 'g4', 'g5'];
const standIn = standInPerTest();

const group = (name: string, layers: readonly string[]) => ({
  name,
  title: name,
  mode: 'SINGLE',
  publishables: { published: layers.map((layer) => ({ '@type': 'layer', name: layer })) },
});

/**
 * A master whose store took x out of five groups by a removal with recurse that nothing has
 * published the groups again since (a capture stopped before its regroup): its next capture
 * reads each group from the master's GeoServer and publishes it, one entry, five reads.
 */
async function master(options: { readonly yieldsToRecovery?: boolean } = {}) {
  const store = new MemoryNodeStore();
  const log = new MemoryEventLog();
  const bodies = new MemoryEventBodyStore();
  const publishing: PublishDeps = { store, log, bodies, topic: new MemoryEventTopic(), now: () => new Date() };
  const published: ConfigChange[] = [];
  const publish = async (change: ConfigChange) => (await publishChange(publishing, { cluster: CLUSTER, node: { name: NODE, role: 'both' } }, change)).event.sequence;
  for (const change of [
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    ...['x', 'y'].flatMap((name) => [
      add('featureType', `topp:${name}`, { name, nativeName: name, title: name, store: { '@class': 'dataStore', name: 'topp:pg' } }),
      add('layer', `topp:${name}`, { name, resource: { '@class': 'featureType', name: `topp:${name}` }, defaultStyle: { name: 'generic' } }),
    ]),
    ...GROUPS.map((name) => add('layerGroup', name, group(name, ['topp:x', 'topp:y']))),
    { kind: 'remove', object: { type: 'layer', id: 'topp:x' }, recurse: true } as ConfigChange,
    { kind: 'remove', object: { type: 'featureType', id: 'topp:x' } } as ConfigChange,
  ]) {
    await publish(change);
  }
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'y', nativeName: 'y', title: 'y' });
  for (const name of GROUPS) catalog.addLayerGroup(undefined, group(name, ['topp:y']));

  const jobs = new MemoryJobStore();
  const lease = new MemoryWriteLease();
  let clock = 1_000_000;
  const time = { now: () => clock, advance: (ms: number) => void (clock += ms) };
  const deps = (rest: GeoServerRest): JobRunnerDeps => ({
    cluster: CLUSTER,
    store,
    jobs,
    apply: { store, log, bodies },
    rest,
    compareMode: 'both-ways',
    now: () => new Date(),
    publish: async (change) => {
      published.push(change);
      return publish(change);
    },
    writes: leaseSerializer(lease, {
      waitMs: 100,
      ttlMs: 35_000,
      now: time.now,
      backoff: { baseMs: 5, capMs: 20 },
      // As the apply function's (job-slices.ts): its waits move the clock on.
      ...(options.yieldsToRecovery ? { yieldsToRecovery: true, sleep: async (ms: number) => time.advance(ms) } : {}),
    }),
  });
  const job = newJob({ id: 'capture-1', node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  /** The job run a step per slice (a deadline already past), each slice's outcome or error. */
  const run = async (): Promise<unknown[]> => {
    const outcomes: unknown[] = [];
    for (let slice = 0; slice < 40 && outcomes[outcomes.length - 1] !== 'done'; slice += 1) {
      outcomes.push(await runJobSlice(deps(currentRest!), NODE, job.id, Date.now() - 1).catch((error: unknown) => error));
    }
    return outcomes;
  };
  let currentRest: GeoServerRest | undefined;
  return { store, jobs, lease, time, job, publish, published, run, use: (rest: GeoServerRest) => void (currentRest = rest) };
}

const regroupsPublished = (published: readonly ConfigChange[]) => published.filter((change) => change.object.type === 'layerGroup').map((change) => change.object.id);

test("a capture whose reads of the master's GeoServer under the write lease take longer in all than the lease lasts keeps it through every read and publish", async () => {
  const m = await master();
  const leased: { readonly call: string; readonly heldToTheEnd: boolean }[] = [];
  m.use({
    url: standIn.rest.url,
    async send(request) {
      // Each call ends 9 s after it began (within its client's 10 s timeout): four outlast a 35 s lease.
      const underLease = m.lease.holder !== undefined;
      const answer = await standIn.rest.send(request);
      m.time.advance(9_000);
      const holder = m.lease.holder;
      if (underLease) leased.push({ call: `${request.method} ${request.path}`, heldToTheEnd: holder !== undefined && holder.until >= m.time.now() });
      return answer;
    },
  });

  const outcomes = await m.run();
  expect(outcomes[outcomes.length - 1]).toBe('done');
  expect(outcomes.filter((outcome) => outcome instanceof Error)).toEqual([]);
  expect(await m.jobs.read(NODE, m.job.id)).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
  expect(regroupsPublished(m.published).sort()).toEqual(GROUPS);
  expect(leased.filter(({ call }) => call.startsWith('GET /layergroups/')).length).toBeGreaterThanOrEqual(GROUPS.length);
  expect(leased.filter(({ heldToTheEnd }) => !heldToTheEnd)).toEqual([]);
  expect(m.lease.holder).toBeUndefined();
});

test('a capture that finds the write lease taken over after a read publishes nothing it read under it: a gateway write to the group meanwhile is not undone, and the capture goes on after a retry', async () => {
  const m = await master();
  const gatewayWrites = leaseSerializer(m.lease, { waitMs: 100, ttlMs: 35_000, now: m.time.now, backoff: { baseMs: 5, capMs: 20 } });
  let written: string | undefined;
  m.use({
    url: standIn.rest.url,
    async send(request) {
      const answer = await standIn.rest.send(request);
      const name = /^\/layergroups\/([^/.]+)/.exec(request.path)?.[1];
      if (written === undefined && m.lease.holder !== undefined && request.method === 'GET' && name !== undefined) {
        written = name;
        // The read outlives the lease (a GeoServer that hung past its client's bound, an instance
        // frozen): a gateway write takes the lease over, retitles the group the capture just read
        // on the master's GeoServer and publishes it.
        m.time.advance(40_000);
        await gatewayWrites.run(async () => {
          const put = await fetch(`${standIn.geoserver.restUrl}/layergroups/${name}`, {
            method: 'PUT',
            headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
            body: JSON.stringify({ layerGroup: { title: 'user' } }),
          });
          expect(put.status).toBe(200);
          await m.publish(modify('layerGroup', name, { title: 'user' }));
        });
      }
      return answer;
    },
  });

  const outcomes = await m.run();
  expect(written).toBeDefined();
  // The step stopped as transient (its slice delivered again), then the capture ended.
  expect(outcomes.filter((outcome) => outcome instanceof Error)).toEqual([expect.objectContaining({ name: 'WriteLeaseLostError', transient: true })]);
  expect(outcomes[outcomes.length - 1]).toBe('done');
  expect(await m.jobs.read(NODE, m.job.id)).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
  // The group the gateway wrote is left as that write published it; the others published again.
  expect((await m.store.readObjects(NODE, [{ type: 'layerGroup', id: written! }]))[0]?.properties.title).toBe('user');
  // What the capture published of it, it read after that write (its own difference, read again).
  const ofWritten = m.published.filter((change) => change.object.id === written);
  expect(ofWritten.map((change) => (change.kind === 'modify' ? change.patch.title : change.kind === 'add' ? change.properties.title : change.kind))).toEqual(ofWritten.map(() => 'user'));
  expect(regroupsPublished(m.published).sort()).toEqual(GROUPS);
});

test("a capture asked by the gateway's sweep to leave it the lease publishes nothing more while the mark stands, fails nothing, and goes on once the sweep has taken the lease", async () => {
  const m = await master({ yieldsToRecovery: true });
  m.use(standIn.rest);
  // A sweep run found the lease held and left its mark (gateway/sweep.ts).
  await m.lease.wantRecovery(m.time.now() + 90_000);
  const slice = await runJobSlice(
    {
      cluster: CLUSTER,
      store: m.store,
      jobs: m.jobs,
      apply: { store: m.store, log: new MemoryEventLog(), bodies: new MemoryEventBodyStore() },
      rest: standIn.rest,
      compareMode: 'both-ways',
      now: () => new Date(),
      publish: async () => Promise.reject(new Error('nothing is published while the mark stands')),
      writes: leaseSerializer(m.lease, { waitMs: 100, ttlMs: 35_000, now: m.time.now, sleep: async (ms) => m.time.advance(ms), backoff: { baseMs: 5, capMs: 20 }, yieldsToRecovery: true }),
    },
    NODE,
    m.job.id,
    Date.now() - 1,
  );
  expect(slice).toBe('more');
  expect(m.published).toEqual([]);
  expect(await m.jobs.read(NODE, m.job.id)).toMatchObject({ state: 'running', progress: { failed: 0 }, failures: [] });
  // The sweep takes the lease (its take clears the mark), recovers, gives it back: the capture goes on to its end.
  const sweep = leaseSerializer(m.lease, { waitMs: 100, ttlMs: 35_000, now: m.time.now, recover: async () => [] });
  await sweep.run(async () => undefined);
  expect(m.lease.recoveryWantedUntil).toBeUndefined();
  const outcomes = await m.run();
  expect(outcomes[outcomes.length - 1]).toBe('done');
  expect(await m.jobs.read(NODE, m.job.id)).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
  expect(regroupsPublished(m.published).sort()).toEqual(GROUPS);
});
