/**
 * A job whose step never finishes within its slice (the function's timeout ends every slice midway:
 * a GeoServer catalog so large, or so slow to list, that one step outlasts the invocation). Each
 * slice saves the job as it starts, which keeps the job from ever going stale, and its message
 * shares the node's FIFO message group with the node's events: re-delivered for ever, it would hold
 * the node's events back for good, with no request that could replace the job (409 JOB_RUNNING).
 * Such a job ends `failed` after a few slices in a row that died without finishing a step, naming
 * the phase that did not finish; a slice that dies once and then goes on, or slices that end
 * handled (a GeoServer that is down), never end it.
 */
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { catchUp } from '../../../lambdas/config-sync/apply';
import { GeoServerUnavailableError } from '../../../lambdas/config-sync/geoserver/errors';
import type { GeoServerRest, RestRequest } from '../../../lambdas/config-sync/geoserver/ports';
import { MAX_DEAD_SLICES, runJobSlice, type JobRunnerDeps } from '../../../lambdas/config-sync/job-runner';
import { newJob } from '../../../lambdas/config-sync/jobs';
import { applyDeps, CLUSTER, harness, type Harness } from './fixtures';
import { ROADS_AND_RIVERS, seedRoadsAndRivers } from './geoserver/capture-on-a-slave';
import { standInPerTest } from '../../support/standin-per-test';

const standIn = standInPerTest();
const NODE = 'gs-1';

/** The stand-in, or a GeoServer that never answers (`hang`: each call a slice's death by timeout) or answers 503 (`down`). */
function gated(): { rest: GeoServerRest; mode: 'up' | 'hang' | 'down'; hung: number } {
  const gate = {
    mode: 'up' as 'up' | 'hang' | 'down',
    hung: 0,
    rest: {
      get url() {
        return standIn.rest.url;
      },
      send: (request: RestRequest) => {
        if (gate.mode === 'hang') {
          gate.hung += 1;
          return new Promise<never>(() => undefined);
        }
        if (gate.mode === 'down') return Promise.resolve({ status: 503, text: 'Service Unavailable' });
        return standIn.rest.send(request);
      },
    },
  };
  return gate;
}

async function node(): Promise<Harness> {
  const h = harness();
  await h.appendAll(ROADS_AND_RIVERS);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: NODE });
  seedRoadsAndRivers(standIn.geoserver.catalog);
  return h;
}

function deps(h: Harness, jobs: MemoryJobStore, rest: GeoServerRest): JobRunnerDeps {
  return { cluster: CLUSTER, store: h.store, jobs, apply: applyDeps(h), rest, compareMode: 'stored-properties', now: () => new Date() };
}

async function drift(jobs: MemoryJobStore) {
  const job = newJob({ id: 'drift-1', node: NODE, kind: 'drift', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  return job;
}

/** A slice that dies midway: started, and never heard of again (its invocation timed out in a GeoServer call). */
async function dyingSlice(run: JobRunnerDeps, id: string, gate: { hung: number }): Promise<void> {
  const before = gate.hung;
  void runJobSlice(run, NODE, id, Date.now() + 60_000);
  for (let wait = 0; gate.hung === before && wait < 200; wait += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(gate.hung).toBeGreaterThan(before);
}

test('a job whose step dies in every slice ends failed, naming the phase, after a few slices in a row: the node is not held for good', async () => {
  const h = await node();
  const jobs = new MemoryJobStore();
  const job = await drift(jobs);
  const gate = gated();
  const run = deps(h, jobs, gate.rest);
  gate.mode = 'hang';

  for (let slice = 0; slice < MAX_DEAD_SLICES; slice += 1) await dyingSlice(run, job.id, gate);
  expect(await jobs.read(NODE, job.id)).toMatchObject({ state: 'running' });

  // The next delivery finds the slices before it all died in the same step: the job ends.
  expect(await runJobSlice(run, NODE, job.id, Date.now() + 60_000)).toBe('done');
  const ended = await jobs.read(NODE, job.id);
  expect(ended).toMatchObject({ state: 'failed', phase: 'scan-store' });
  expect(ended?.error).toContain(`its scan-store phase did not finish a step in ${MAX_DEAD_SLICES} slices in a row`);
  // The node is free: another job starts.
  const next = newJob({ id: 'drift-2', node: NODE, kind: 'drift', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(next, new Date())).toEqual({ started: true });
});

test('a slice that dies once, then a slice that finishes its steps: the job goes on and succeeds', async () => {
  const h = await node();
  const jobs = new MemoryJobStore();
  const job = await drift(jobs);
  const gate = gated();
  const run = deps(h, jobs, gate.rest);

  for (let round = 0; round < MAX_DEAD_SLICES + 1; round += 1) {
    gate.mode = 'hang';
    await dyingSlice(run, job.id, gate);
    gate.mode = 'up';
    // One step, then the slice ends: the deaths before it are forgotten.
    const outcome = await runJobSlice(run, NODE, job.id, Date.now() - 1);
    if (outcome === 'done') break;
  }
  let outcome = 'more';
  for (let slice = 0; slice < 20 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(run, NODE, job.id, Date.now() + 60_000);
  expect(await jobs.read(NODE, job.id)).toMatchObject({ state: 'succeeded', error: null });
});

test('slices that end because the GeoServer is down are no deaths: the job waits for it, however long', async () => {
  const h = await node();
  const jobs = new MemoryJobStore();
  const job = await drift(jobs);
  const gate = gated();
  const run = deps(h, jobs, gate.rest);
  gate.mode = 'down';

  for (let slice = 0; slice < MAX_DEAD_SLICES * 3; slice += 1) {
    await expect(runJobSlice(run, NODE, job.id, Date.now() + 60_000)).rejects.toBeInstanceOf(GeoServerUnavailableError);
  }
  expect(await jobs.read(NODE, job.id)).toMatchObject({ state: 'running' });
  gate.mode = 'up';
  let outcome = 'more';
  for (let slice = 0; slice < 20 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(run, NODE, job.id, Date.now() + 60_000);
  expect(await jobs.read(NODE, job.id)).toMatchObject({ state: 'succeeded', error: null });
});
