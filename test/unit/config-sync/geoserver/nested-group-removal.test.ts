// Layer groups holding other layer groups, removed: GeoServer refuses to remove a group another
// group still holds ("Unable to delete layer group referenced by layer group", 500), with or without
// `recurse`, so whatever removes nested groups must remove the outer one first and never both at
// once. A capture of a master whose web UI removed both publishes the outer one's removal first
// (each applies on a slave's GeoServer); a reconcile of a GeoServer holding both as extras deletes
// the outer one first, in a batch of its own.
import { MemoryJobStore } from '../../../../lambdas/config-sync/adapters/memory';
import { applyDeliveredEvent, catchUp, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import { add, applyDeps, CLUSTER, harness, type Harness } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';
import { startGeoServerStandIn } from '../../../support/geoserver-standin';
import { CachedCredentials, HttpGeoServer } from '../../../../lambdas/config-sync/adapters/geoserver-http';

const standIn = standInPerTest();

const entry = (type: 'layer' | 'layerGroup', name: string) => ({ '@type': type, name });
// Named so that their ids sort inner before outer: an order by id alone removes the inner one first.
const INNER = { name: 'a-inner', mode: 'SINGLE', publishables: { published: [entry('layer', 'topp:roads')] } };
const OUTER = { name: 'b-outer', mode: 'SINGLE', publishables: { published: [entry('layerGroup', 'a-inner'), entry('layer', 'topp:rivers')] } };
// Held by the outer one through a workspace's group, by its qualified name.
const WS_INNER = { name: 'c-inner', mode: 'SINGLE', publishables: { published: [entry('layer', 'topp:rivers')] } };
const TOP = { name: 'd-top', mode: 'SINGLE', publishables: { published: [entry('layerGroup', 'topp:c-inner')] } };

const HISTORY = [
  add('workspace', 'topp', { name: 'topp' }),
  add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
  add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'generic' } }),
  add('featureType', 'topp:rivers', { name: 'rivers', nativeName: 'rivers', store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('layer', 'topp:rivers', { name: 'rivers', resource: { '@class': 'featureType', name: 'topp:rivers' }, defaultStyle: { name: 'generic' } }),
];
const GROUPS = [
  add('layerGroup', 'a-inner', INNER),
  add('layerGroup', 'b-outer', OUTER),
  add('layerGroup', 'topp:c-inner', { ...WS_INNER, workspace: { name: 'topp' } }),
  add('layerGroup', 'd-top', TOP),
];

/** A GeoServer's catalog as the history leaves it, with the nested groups or without them. */
function seed(catalog: typeof standIn.geoserver.catalog, groups: boolean): void {
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'roads', nativeName: 'roads' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'rivers', nativeName: 'rivers' });
  if (!groups) return;
  catalog.addLayerGroup(undefined, INNER);
  catalog.addLayerGroup(undefined, OUTER);
  catalog.addLayerGroup('topp', WS_INNER);
  catalog.addLayerGroup(undefined, TOP);
}

function jobDeps(h: Harness, jobs: MemoryJobStore, extra: Partial<JobRunnerDeps>): JobRunnerDeps {
  return {
    cluster: CLUSTER,
    store: h.store,
    jobs,
    apply: applyDeps(h),
    rest: standIn.rest,
    compareMode: 'stored-properties',
    now: () => new Date(),
    ...extra,
  };
}

async function run(deps: JobRunnerDeps, job: Job): Promise<Job> {
  expect(await deps.jobs.start(job, new Date())).toEqual({ started: true });
  let outcome: string | undefined;
  for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, job.node, job.id, Date.now() + 10_000);
  expect(outcome).toBe('done');
  return (await deps.jobs.read(job.node, job.id))!;
}

test("a capture of a master whose web UI removed nested layer groups publishes each outer group's removal before the inner one's: every removal applies on a slave's GeoServer", async () => {
  const h = harness();
  const history = await h.appendAll([...HISTORY, ...GROUPS]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  const slaveGeoServer = await startGeoServerStandIn();
  try {
    const slaveRest = new HttpGeoServer({ url: slaveGeoServer.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })) });
    const slave: ApplyDeps = { ...applyDeps(h), geoserver: { rest: slaveRest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
    const SLAVE = { cluster: CLUSTER, node: 'gs-1' };
    for (const event of history) await applyDeliveredEvent(slave, SLAVE, event);
    expect([...slaveGeoServer.catalog.objects.layerGroup.keys()].sort()).toEqual(['a-inner', 'b-outer', 'd-top', 'topp:c-inner']);

    // The master's GeoServer: the history, with the groups removed in its web UI (outer ones first, as it must).
    seed(standIn.geoserver.catalog, false);
    const published: string[] = [];
    const jobs = new MemoryJobStore();
    const deps = jobDeps(h, jobs, {
      compareMode: 'both-ways',
      publish: async (change) => {
        const event = await h.append(change, 'master-1');
        await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
        published.push(`${change.kind} ${change.object.type}/${change.object.id}`);
        await applyDeliveredEvent(slave, SLAVE, event);
        return event.sequence;
      },
    });
    const ran = await run(deps, newJob({ id: 'capture-1', node: 'master-1', kind: 'capture', requestedBy: 'master-1', hasGeoServer: true, now: new Date() }));

    const removals = published.filter((change) => change.startsWith('remove layerGroup/'));
    expect({ state: ran.state, failures: ran.failures, removals: [...removals].sort() }).toEqual({
      state: 'succeeded',
      failures: [],
      removals: ['remove layerGroup/a-inner', 'remove layerGroup/b-outer', 'remove layerGroup/d-top', 'remove layerGroup/topp:c-inner'],
    });
    expect(removals.indexOf('remove layerGroup/b-outer')).toBeLessThan(removals.indexOf('remove layerGroup/a-inner'));
    expect(removals.indexOf('remove layerGroup/d-top')).toBeLessThan(removals.indexOf('remove layerGroup/topp:c-inner'));
    expect({ parked: await h.store.listParked('gs-1'), groups: [...slaveGeoServer.catalog.objects.layerGroup.keys()] }).toEqual({ parked: [], groups: [] });
    expect(slaveGeoServer.violations).toEqual([]);
  } finally {
    await slaveGeoServer.close();
  }
});

test('a reconcile of a GeoServer holding nested layer groups the store lacks deletes each outer group before the inner one, and reports all fixed', async () => {
  const h = harness();
  await h.appendAll(HISTORY);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'gs-1' });
  seed(standIn.geoserver.catalog, true);

  const jobs = new MemoryJobStore();
  const deps = jobDeps(h, jobs, { apply: { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } } } });
  const ran = await run(deps, newJob({ id: 'reconcile-1', node: 'gs-1', kind: 'reconcile', requestedBy: 'gs-1', hasGeoServer: true, now: new Date() }));

  expect({ state: ran.state, progress: ran.progress, failures: ran.failures }).toEqual({
    state: 'succeeded',
    progress: expect.objectContaining({ extra: 4, toFix: 4, fixed: 4, failed: 0 }),
    failures: [],
  });
  expect([...standIn.geoserver.catalog.objects.layerGroup.keys()]).toEqual([]);
  // What the store holds stays.
  expect(standIn.geoserver.catalog.get('layer', 'topp:roads')).toBeDefined();
});
