/**
 * A master's reconcile that removes a blocking resource's layer with recurse (its GeoServer holds
 * the coverage topp:x where the store states a feature type) writes back the stated layer groups
 * that cascade changed (job-runner.ts, `writeBackGroups`). A gateway write to one of those groups
 * meanwhile must not be undone: the write-back runs under the cluster's write lease, reading the
 * store under it, and leaves a group one of the master's own events not yet applied names as that
 * write made it. Calls under the lease that take longer in all than the lease lasts keep it
 * (job-runner.ts, `LEASED_CALL_MS`): no other writer can take it while one of them runs. While a
 * gateway write the master took is unpublished (its intent left with the lease), nothing is written
 * back: the groups are reported unfixed rather than written over what that write did.
 */
import { MemoryEventBodyStore, MemoryEventLog, MemoryEventTopic, MemoryJobStore, MemoryNodeStore, MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { catchUp } from '../../../../lambdas/config-sync/apply';
import { fixOrder } from '../../../../lambdas/config-sync/geoserver/drift';
import type { GeoServerRest } from '../../../../lambdas/config-sync/geoserver/ports';
import { leaseSerializer, type WriteSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import { publishChange, type PublishDeps } from '../../../../lambdas/config-sync/publish';
import { standInPerTest } from '../../../support/standin-per-test';
import { add, modify } from '../fixtures';

const CLUSTER = 'test-cluster';
const NODE = 'gs-main';
const standIn = standInPerTest();

const group = (name: string, title: string) => ({
  name,
  title,
  mode: 'SINGLE',
  publishables: { published: ['topp:x', 'topp:y'].map((layer) => ({ '@type': 'layer', name: layer })) },
});

async function master() {
  const store = new MemoryNodeStore();
  const log = new MemoryEventLog();
  const bodies = new MemoryEventBodyStore();
  const publishing: PublishDeps = { store, log, bodies, topic: new MemoryEventTopic(), now: () => new Date() };
  const publishAs = async (node: string, change: ConfigChange) =>
    (await publishChange(publishing, { cluster: CLUSTER, node: { name: node, role: node === NODE ? 'both' : 'master' } }, change)).event.sequence;
  for (const change of [
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', workspace: { name: 'topp' } }),
    add('featureType', 'topp:x', { name: 'x', nativeName: 'x', title: 'X', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:x', { name: 'x', resource: { '@class': 'featureType', name: 'topp:x' }, defaultStyle: { name: 'generic' } }),
    add('featureType', 'topp:y', { name: 'y', nativeName: 'y', title: 'Y', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:y', { name: 'y', resource: { '@class': 'featureType', name: 'topp:y' }, defaultStyle: { name: 'generic' } }),
    add('layerGroup', 'g1', group('g1', 'one')),
    add('layerGroup', 'g2', group('g2', 'before')),
  ]) {
    await publishAs(NODE, change);
  }
  // The master's GeoServer holds x as a coverage, which the groups name.
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addStore('coverageStore', 'topp', { name: 'dem', type: 'GeoTIFF' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'y', nativeName: 'y', title: 'Y' });
  catalog.addResource('coverage', 'topp', 'dem', { name: 'x', nativeName: 'x', title: 'X' });
  catalog.addLayerGroup(undefined, group('g1', 'one'));
  catalog.addLayerGroup(undefined, group('g2', 'before'));

  const jobs = new MemoryJobStore();
  const lease = new MemoryWriteLease();
  const deps = (rest: GeoServerRest, writes: WriteSerializer): JobRunnerDeps => ({
    cluster: CLUSTER,
    store,
    jobs,
    apply: { store, log, bodies },
    rest,
    compareMode: 'both-ways',
    now: () => new Date(),
    publish: (change) => publishAs(NODE, change),
    writes,
  });
  const job = newJob({ id: 'reconcile-1', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  return { store, log, bodies, jobs, lease, deps, job, publishAs };
}

/** The user's write through the gateway: g2 retitled on the master's GeoServer, then published (`publish`). */
async function retitleThroughGateway(publish: () => Promise<number>): Promise<void> {
  const answer = await fetch(`${standIn.geoserver.restUrl}/layergroups/g2`, {
    method: 'PUT',
    headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
    body: JSON.stringify({ layerGroup: { title: 'user' } }),
  });
  expect(answer.status).toBe(200);
  await publish();
}

/** Runs the job a step per slice (a deadline already past); its outcome. */
async function runSteps(deps: JobRunnerDeps, job: Job): Promise<string | undefined> {
  let outcome: string | undefined;
  for (let slice = 0; slice < 40 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, job.id, Date.now() - 1);
  return outcome;
}

/** Whether the job's next step writes back the groups a cascade changed. */
async function atWriteBack(deps: JobRunnerDeps, current: Job): Promise<boolean> {
  if (current.phase !== 'fix') return false;
  const entries = fixOrder(await deps.jobs.readDifferences(NODE, current.id));
  return entries[current.checkpoint.index ?? 0]?.regroups !== undefined;
}

function expectGroups(): void {
  const published = (name: string) => (standIn.geoserver.catalog.get('layerGroup', name)?.publishables as { published: { name: string }[] }).published.map((entry) => entry.name);
  // Both written back with the layer the cascade took; g2 as the user's write left it.
  expect(published('g1')).toEqual(['topp:x', 'topp:y']);
  expect(published('g2')).toEqual(['topp:x', 'topp:y']);
  expect(standIn.geoserver.catalog.get('layerGroup', 'g2')?.title).toBe('user');
}

test("a gateway write to a group the cascade changed, sent while the reconcile writes the groups back, waits for the write-back and is not undone", async () => {
  const m = await master();
  let gatewayWaited: (() => void) | undefined;
  const waited = new Promise<void>((resolve) => (gatewayWaited = resolve));
  const gatewayWrites = leaseSerializer(m.lease, {
    waitMs: 60_000,
    ttlMs: 35_000,
    // Told when the gateway write finds the lease held; waits a turn of the event loop, not a time.
    sleep: async () => {
      gatewayWaited?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  });
  let gatewayWrite: Promise<void> | undefined;
  const hooked: GeoServerRest = {
    url: standIn.rest.url,
    async send(request) {
      // The first group written back: the user's write comes now, and either waits for the lease or is done first.
      if (request.method !== 'GET' && request.path.startsWith('/layergroups/') && gatewayWrite === undefined) {
        gatewayWrite = gatewayWrites.run(() => retitleThroughGateway(() => m.publishAs(NODE, modify('layerGroup', 'g2', { title: 'user' }))));
        await Promise.race([gatewayWrite, waited]);
      }
      return standIn.rest.send(request);
    },
  };
  const deps = m.deps(hooked, leaseSerializer(m.lease, { waitMs: 100, ttlMs: 35_000, backoff: { baseMs: 5, capMs: 20 } }));

  expect(await runSteps(deps, m.job)).toBe('done');
  expect(gatewayWrite).toBeDefined();
  await gatewayWrite;
  expect(await m.jobs.read(NODE, m.job.id)).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
  expectGroups();
});

test("a group a gateway write changed since the cascade, whose event the master's store has not applied yet, is written back once the store has applied it, as that write left it", async () => {
  const m = await master();
  const deps = m.deps(standIn.rest, leaseSerializer(m.lease, { waitMs: 100, ttlMs: 35_000, backoff: { baseMs: 5, capMs: 20 } }));
  let written = false;
  let waitedForStore: unknown;
  let outcome: string | undefined;
  for (let slice = 0; slice < 40 && outcome !== 'done'; slice += 1) {
    const current = (await m.jobs.read(NODE, m.job.id))!;
    if (!written && (await atWriteBack(deps, current))) {
      written = true;
      // Another master's event the store has not applied yet: the master's own next one is left to its queue.
      await m.publishAs('master-2', add('workspace', 'elsewhere', { name: 'elsewhere' }));
      // The user's write to g2 after the cascade took x out of it: the gateway publishes what it changed, the title.
      await retitleThroughGateway(() => m.publishAs(NODE, modify('layerGroup', 'g2', { title: 'user' })));
      expect((await m.store.readObjects(NODE, [{ type: 'layerGroup', id: 'g2' }]))[0]?.properties.title).toBe('before');
      // The write-back waits for the store, writing nothing; the slice is delivered again once the queue has brought the store on.
      const groupsBefore = JSON.stringify([...standIn.geoserver.catalog.objects.layerGroup]);
      waitedForStore = await runJobSlice(deps, NODE, m.job.id, Date.now() - 1).catch((error: unknown) => error);
      expect(JSON.stringify([...standIn.geoserver.catalog.objects.layerGroup])).toBe(groupsBefore);
      await catchUp({ store: m.store, log: m.log, bodies: m.bodies }, { cluster: CLUSTER, node: NODE });
    }
    outcome = await runJobSlice(deps, NODE, m.job.id, Date.now() - 1);
  }
  expect(outcome).toBe('done');
  expect(written).toBe(true);
  expect(waitedForStore).toMatchObject({ transient: true, message: expect.stringContaining('layer groups g2') });
  expect(await m.jobs.read(NODE, m.job.id)).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
  expectGroups();
});

test('a reconcile whose calls under the write lease take longer in all than the lease lasts keeps it through every call: no other writer could take it meanwhile', async () => {
  const m = await master();
  // Five groups the cascade changes, written back one after another under one lease.
  for (const name of ['g3', 'g4', 'g5']) {
    await m.publishAs(NODE, add('layerGroup', name, group(name, name)));
    standIn.geoserver.catalog.addLayerGroup(undefined, group(name, name));
  }
  // A clock only the GeoServer's calls move: each ends 9 s after it began (within its client's 10 s
  // timeout; calls made at once overlap), so four one after another outlast a 35 s lease.
  let clock = 1_000_000;
  const leased: { readonly call: string; readonly heldToTheEnd: boolean }[] = [];
  const slow: GeoServerRest = {
    url: standIn.rest.url,
    async send(request) {
      // A call made while the reconcile holds the lease (the scan's are made without it).
      const underLease = m.lease.holder !== undefined;
      const began = clock;
      const answer = await standIn.rest.send(request);
      clock = Math.max(clock, began + 9_000);
      // Another writer, as the call ends, would find the lease held (an unexpired holder), or take it over.
      const holder = m.lease.holder;
      if (underLease) leased.push({ call: `${request.method} ${request.path}`, heldToTheEnd: holder !== undefined && holder.until >= clock });
      return answer;
    },
  };
  const deps = m.deps(slow, leaseSerializer(m.lease, { waitMs: 100, ttlMs: 35_000, now: () => clock, backoff: { baseMs: 5, capMs: 20 } }));

  expect(await runSteps(deps, m.job)).toBe('done');
  expect(await m.jobs.read(NODE, m.job.id)).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
  // The groups written back under one lease, and every call under it ended with the lease still held.
  expect(leased.filter(({ call }) => call.startsWith('PUT /layergroups/')).length).toBeGreaterThanOrEqual(5);
  expect(leased.filter(({ heldToTheEnd }) => !heldToTheEnd)).toEqual([]);
  expect(m.lease.holder).toBeUndefined();
});

test("a gateway PUT to a group the master took and nobody published yet (its intent left with the lease) is not undone by the write-back: the groups are reported not written back", async () => {
  const m = await master();
  // A job slice recovers no intents (it has no recovery): they stay unrecovered under its lease.
  const deps = m.deps(standIn.rest, leaseSerializer(m.lease, { waitMs: 100, ttlMs: 35_000, backoff: { baseMs: 5, capMs: 20 } }));
  let died = false;
  let outcome: string | undefined;
  for (let slice = 0; slice < 40 && outcome !== 'done'; slice += 1) {
    if (!died && (await atWriteBack(deps, (await m.jobs.read(NODE, m.job.id))!))) {
      died = true;
      // The cascade took x out of the groups; then a gateway write retitled g2 on the master and
      // its writer died before the log append: only its intent says so.
      m.lease.intents.set('dead-writer', {
        owner: 'dead-writer',
        at: new Date().toISOString(),
        method: 'PUT',
        path: '/layergroups/g2',
        objects: [{ type: 'layerGroup', id: 'g2', path: '/layergroups/g2' }],
      });
      await retitleThroughGateway(async () => 0);
    }
    outcome = await runJobSlice(deps, NODE, m.job.id, Date.now() - 1);
  }
  expect(outcome).toBe('done');
  expect(died).toBe(true);
  // The dead write stands on the master, for its recovery to publish; nothing was written back over it.
  expect(standIn.geoserver.catalog.get('layerGroup', 'g2')?.title).toBe('user');
  // The dead write's PUT the only write to a group (the cascade's changes are the layer removal's).
  expect(standIn.geoserver.requests.filter((request) => request.method !== 'GET' && request.path.includes('/rest/layergroups/')).map((request) => `${request.method} ${request.path}`)).toEqual([
    'PUT /geoserver/rest/layergroups/g2',
  ]);
  const ended = (await m.jobs.read(NODE, m.job.id))!;
  expect(ended.state).toBe('succeeded');
  expect(ended.progress.failed).toBe(2);
  expect(ended.failures.filter((failure) => failure.type === 'layerGroup').map((failure) => failure.id).sort()).toEqual(['g1', 'g2']);
  expect(ended.failures.find((failure) => failure.id === 'g2')?.message).toEqual(expect.stringContaining('not written back'));
  expect(ended.failures.find((failure) => failure.id === 'g2')?.message).toEqual(expect.stringContaining('PUT /layergroups/g2'));
  expect(m.lease.intents.has('dead-writer')).toBe(true);
});
