// A capture of a master whose GeoServer URL answers 404 to every request: its servlet container
// while the GeoServer web application is being redeployed or upgraded, a proxy in front of it
// with no route for the path, a `geoserver.url` naming the wrong context path. No GeoServer
// answers 404 to the catalog's own listings (`/workspaces`) or to `/about/version`, so this is no
// GeoServer that lost its catalog: it is one that cannot be read now. A capture must publish
// nothing from it (every stored object, read as absent, would be published as removed from every
// node: the whole cluster's configuration gone), and wait for it as for a GeoServer that is down.
import { MemoryJobStore } from '../../../../lambdas/config-sync/adapters/memory';
import { catchUp } from '../../../../lambdas/config-sync/apply';
import { GeoServerUnavailableError } from '../../../../lambdas/config-sync/geoserver/errors';
import type { GeoServerRest } from '../../../../lambdas/config-sync/geoserver/ports';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob } from '../../../../lambdas/config-sync/jobs';
import { applyDeps, CLUSTER, type Harness } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';
import { masterWithRoadsRetitled } from './capture-on-a-slave';

const standIn = standInPerTest();

/**
 * The master's GeoServer as the job reaches it: the stand-in, or (`down`) a container answering
 * 404 to every path. With `backAtListing`, a `down` GeoServer comes back as the catalog's
 * workspace listing is asked for (its redeploy ends between an object's read and that check).
 */
function switchable(): { rest: GeoServerRest; down: boolean; backAtListing: boolean } {
  const state = {
    down: false,
    backAtListing: false,
    rest: {
      get url() {
        return standIn.rest.url;
      },
      send: async (request: Parameters<GeoServerRest['send']>[0]) => {
        if (state.down && state.backAtListing && request.path === '/workspaces.json') state.down = false;
        return state.down ? { status: 404, text: '<html><body><h1>HTTP Status 404 – Not Found</h1></body></html>' } : standIn.rest.send(request);
      },
    },
  };
  return state;
}

/** One edit in the web UI: the capture has one difference to publish. */
const masterInLine = (): Promise<Harness> => masterWithRoadsRetitled(standIn.geoserver.catalog);

function captureDeps(h: Harness, jobs: MemoryJobStore, rest: GeoServerRest, published: string[]): JobRunnerDeps {
  return {
    cluster: CLUSTER,
    store: h.store,
    jobs,
    apply: applyDeps(h),
    rest,
    compareMode: 'both-ways',
    now: () => new Date(),
    publish: async (change) => {
      const event = await h.append(change, 'master-1');
      await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
      published.push(`${change.kind} ${change.object.type}/${change.object.id}`);
      return event.sequence;
    },
  };
}

/** A capture of the master with one edit to publish, its GeoServer switchable, run to the end of its scan. */
async function captureScanned() {
  const h = await masterInLine();
  const jobs = new MemoryJobStore();
  const job = await started(jobs, 'capture');
  const geoserver = switchable();
  const published: string[] = [];
  const deps = captureDeps(h, jobs, geoserver.rest, published);
  return { h, jobs, job, geoserver, published, deps };
}

/** Runs slices with no time left in each (a step per slice) until the job reaches its fix phase, the scan done. */
async function scannedToFix(deps: JobRunnerDeps, jobs: MemoryJobStore, id: string): Promise<string> {
  let outcome = 'more';
  for (let slice = 0; slice < 20 && (await jobs.read('master-1', id))!.phase !== 'fix'; slice += 1) outcome = await runJobSlice(deps, 'master-1', id, Date.now() - 1);
  expect({ outcome, phase: (await jobs.read('master-1', id))!.phase }).toEqual({ outcome: 'more', phase: 'fix' });
  return outcome;
}

async function started(jobs: MemoryJobStore, kind: 'capture' | 'drift') {
  const job = newJob({ id: `${kind}-1`, node: 'master-1', kind, requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  return job;
}

test('a capture scanning a GeoServer URL that answers 404 to everything publishes nothing and waits for it, as for a GeoServer that is down', async () => {
  const h = await masterInLine();
  const jobs = new MemoryJobStore();
  const job = await started(jobs, 'capture');
  const geoserver = switchable();
  geoserver.down = true;
  const published: string[] = [];
  const deps = captureDeps(h, jobs, geoserver.rest, published);

  for (let slice = 0; slice < 5; slice += 1) {
    await expect(runJobSlice(deps, 'master-1', job.id, Date.now() + 5_000)).rejects.toBeInstanceOf(GeoServerUnavailableError);
  }
  expect(published).toEqual([]);
  expect(await jobs.read('master-1', job.id)).toMatchObject({ state: 'running', progress: { missing: 0 } });

  // Back: the capture goes on from its checkpoint and publishes the one edit.
  geoserver.down = false;
  let outcome = 'more';
  for (let slice = 0; slice < 20 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, 'master-1', job.id, Date.now() + 5_000);
  expect(outcome).toBe('done');
  // What the GeoServer holds, once it can be read: the edit (and the defaults it adds, both ways), no removal.
  expect(published).toContain('modify featureType/topp:roads');
  expect(published.filter((change) => !change.startsWith('modify '))).toEqual([]);
  expect((await h.store.listObjects('master-1', { limit: 100 })).objects.map((object) => `${object.type}/${object.id}`)).toEqual(
    expect.arrayContaining(['workspace/topp', 'dataStore/topp:pg', 'featureType/topp:roads', 'featureType/topp:rivers']),
  );
});

test('a capture whose GeoServer URL turns to answering 404 to everything after its scan publishes no removal, and goes on once it is back', async () => {
  const { jobs, job, geoserver, published, deps } = await captureScanned();
  let outcome = await scannedToFix(deps, jobs, job.id);

  geoserver.down = true;
  await expect(runJobSlice(deps, 'master-1', job.id, Date.now() + 5_000)).rejects.toBeInstanceOf(GeoServerUnavailableError);
  expect(published).toEqual([]);

  geoserver.down = false;
  for (let slice = 0; slice < 20 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, 'master-1', job.id, Date.now() + 5_000);
  expect(outcome).toBe('done');
  // What the GeoServer holds, once it can be read: the edit (and the defaults it adds, both ways), no removal.
  expect(published).toContain('modify featureType/topp:roads');
  expect(published.filter((change) => !change.startsWith('modify '))).toEqual([]);
});

test('a capture whose GeoServer comes back between an object read as absent and its catalog listing publishes no removal: it reads the object again', async () => {
  const { h, jobs, job, geoserver, published, deps } = await captureScanned();
  let outcome = await scannedToFix(deps, jobs, job.id);

  // Down for the difference's read, back for the listing that checks it answers its catalog.
  geoserver.down = true;
  geoserver.backAtListing = true;
  for (let slice = 0; slice < 20 && outcome !== 'done'; slice += 1) {
    try {
      outcome = await runJobSlice(deps, 'master-1', job.id, Date.now() + 5_000);
    } catch (error) {
      expect(error).toBeInstanceOf(GeoServerUnavailableError);
    }
  }
  expect(geoserver.down).toBe(false);
  expect(outcome).toBe('done');
  expect(published).toContain('modify featureType/topp:roads');
  expect(published.filter((change) => !change.startsWith('modify '))).toEqual([]);
  expect((await h.store.listObjects('master-1', { limit: 100 })).objects.map((object) => `${object.type}/${object.id}`)).toContain('featureType/topp:roads');
});

test('a drift check of a GeoServer URL that answers 404 to everything reports nothing missing: it waits for the GeoServer', async () => {
  const h = await masterInLine();
  const jobs = new MemoryJobStore();
  const job = await started(jobs, 'drift');
  const geoserver = switchable();
  geoserver.down = true;
  const deps = captureDeps(h, jobs, geoserver.rest, []);

  await expect(runJobSlice(deps, 'master-1', job.id, Date.now() + 5_000)).rejects.toBeInstanceOf(GeoServerUnavailableError);
  expect(await jobs.read('master-1', job.id)).toMatchObject({ state: 'running', progress: { missing: 0 } });
  expect(await jobs.readDifferences('master-1', job.id)).toEqual([]);
});
