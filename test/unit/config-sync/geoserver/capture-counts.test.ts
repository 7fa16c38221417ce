// What a capture's progress counts as fixed: each difference of its scan that an event published
// after the scan brought the nodes to, once, also when the step that published it died before its
// checkpoint and was redone (finding it unchanged); never one nobody published.
import { MemoryJobStore } from '../../../../lambdas/config-sync/adapters/memory';
import { catchUp } from '../../../../lambdas/config-sync/apply';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import { applyDeps, CLUSTER, harness, modify, remove, type Harness } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';
import { DyingJobStore, masterWithRoadsRetitled, ROADS_AND_RIVERS, seedRoadsAndRivers } from './capture-on-a-slave';

const standIn = standInPerTest();

/** The master's store as `ROADS_AND_RIVERS` leaves it; its GeoServer the same, then roads retitled, lakes made and rivers removed in its web UI. */
async function masterWithThreeEdits(): Promise<Harness> {
  const catalog = standIn.geoserver.catalog;
  const h = await masterWithRoadsRetitled(catalog);
  catalog.addResource('featureType', 'topp', 'pg', { name: 'lakes', nativeName: 'lakes', title: 'Lakes' });
  catalog.deleteResource('featureType', 'topp:rivers', true);
  return h;
}

/**
 * A capture of master-1 run slice by slice to its end, each change published as the gateway
 * publishes it (logged, applied to the master's store); `atFix` runs once, when the scan is done;
 * `atScan` once, after the scan's first page (then one store object a page).
 */
async function capture(h: Harness, jobs: MemoryJobStore, atFix?: () => Promise<void>, atScan?: () => Promise<void>): Promise<{ ran: Job; published: string[] }> {
  const job = newJob({ id: 'capture-1', node: 'master-1', kind: 'capture', requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  const published: string[] = [];
  const deps: JobRunnerDeps = {
    cluster: CLUSTER,
    store: h.store,
    jobs,
    apply: applyDeps(h),
    rest: standIn.rest,
    compareMode: 'both-ways',
    ...(atScan ? { pageSize: 1 } : {}),
    now: () => new Date(),
    publish: async (change) => {
      const event = await h.append(change, 'master-1');
      await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
      published.push(`${change.kind} ${change.object.type}/${change.object.id}`);
      return event.sequence;
    },
  };
  let outcome: string | undefined;
  let pending = atFix;
  let scanning = atScan;
  for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) {
    const current = (await jobs.read('master-1', job.id))!;
    if (scanning && current.phase === 'scan-store' && current.checkpoint.after !== undefined) {
      await scanning();
      scanning = undefined;
    }
    if (pending && (await jobs.read('master-1', job.id))!.phase === 'fix') {
      await pending();
      pending = undefined;
    }
    outcome = await runJobSlice(deps, 'master-1', job.id, Date.now() - 1).catch(() => 'died');
  }
  expect({ outcome, pending, scanning }).toEqual({ outcome: 'done', pending: undefined, scanning: undefined });
  return { ran: (await jobs.read('master-1', job.id))!, published };
}

test('a capture counts each difference it published fixed: every one of them', async () => {
  const { ran, published } = await capture(await masterWithThreeEdits(), new MemoryJobStore());

  expect(published).toEqual(expect.arrayContaining(['modify featureType/topp:roads', 'add featureType/topp:lakes', 'add layer/topp:lakes', 'remove featureType/topp:rivers']));
  expect(ran.progress).toMatchObject({ toFix: published.length, fixed: published.length, failed: 0 });
});

test('a capture step that dies before its checkpoint, redone, counts the differences it published before it died fixed, once each', async () => {
  const jobs = new DyingJobStore();
  const { ran, published } = await capture(await masterWithThreeEdits(), jobs);

  expect(jobs.died).toBe(true);
  // Published once each, before the death; the redone step found them all unchanged.
  expect(new Set(published).size).toBe(published.length);
  expect(ran.progress).toMatchObject({ toFix: published.length, fixed: published.length, failed: 0 });
});

test('a difference the master undid after the scan is not counted fixed: nothing was published for it', async () => {
  const { ran, published } = await capture(await masterWithThreeEdits(), new MemoryJobStore(), async () => {
    standIn.geoserver.catalog.deleteResource('featureType', 'topp:lakes', true);
  });

  // lakes and its layer: two differences of the scan, neither published.
  expect(published.filter((change) => change.endsWith('/topp:lakes'))).toEqual([]);
  expect(ran.progress).toMatchObject({ toFix: published.length + 2, fixed: published.length, failed: 0 });
});

test("a difference a gateway write published after the scan is counted fixed: the nodes were brought to the master's GeoServer by it", async () => {
  const h = await masterWithThreeEdits();
  const { ran, published } = await capture(h, new MemoryJobStore(), async () => {
    // As the gateway publishes the removal of rivers (its layer first) it made on the master's GeoServer.
    await h.appendAll([remove('layer', 'topp:rivers'), remove('featureType', 'topp:rivers')]);
    await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  });

  expect(published.filter((change) => change.endsWith('/topp:rivers'))).toEqual([]);
  expect(ran.progress).toMatchObject({ toFix: published.length + 2, fixed: published.length + 2, failed: 0 });
});

test('a difference a gateway write preceded during the scan, which the master then undid, is not counted fixed: the write was before the difference was found', async () => {
  const h = harness();
  await h.appendAll(ROADS_AND_RIVERS);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  const catalog = standIn.geoserver.catalog;
  seedRoadsAndRivers(catalog);
  // A first capture leaves the master's store as its GeoServer holds it.
  await capture(h, new MemoryJobStore());
  const roads = () => catalog.get('featureType', 'topp:roads')!;
  const { ran, published } = await capture(
    h,
    new MemoryJobStore(),
    async () => {
      // The web UI undoes its edit: the master's GeoServer holds what the store holds again.
      roads().title = 'Roads, by the gateway';
    },
    async () => {
      // Between two pages of the scan: a gateway write of roads (logged, on the master's GeoServer),
      // then an edit of it in the master's web UI, which the scan's later page finds.
      await h.appendAll([modify('featureType', 'topp:roads', { title: 'Roads, by the gateway' })]);
      await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
      roads().title = 'Roads, in the web UI';
    },
  );

  // Found by the scan (after the gateway's write), then gone with nothing published: fixed by nobody.
  expect(published).toEqual([]);
  expect(ran.progress).toMatchObject({ toFix: 1, fixed: 0, failed: 0 });
});
