/**
 * The `scan-geoserver` phase of a node's job (the GeoServer's whole catalog listed for what the
 * store lacks) on a catalog too large, or a GeoServer too slow, for the listing to fit in one slice
 * (the apply function's invocation). The listing goes on step by step, each saving how far it got,
 * so the job finishes across several slices with what one slice would have found, in as many REST
 * calls: a slice that dies part way repeats only the listings of the step it died in.
 *
 * Time is the invocation's as the GeoServer spends it: each REST call takes COST_MS of it (a clock
 * of the test's, which `Date.now` reads), a slice's deadline is when the apply function's would be
 * (job-slices.ts: its 60 s at most), and a call made after the invocation's timeout never answers
 * (the invocation ended there, the slice with it).
 */
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { catchUp } from '../../../lambdas/config-sync/apply';
import type { GeoServerRest, RestRequest } from '../../../lambdas/config-sync/geoserver/ports';
import { runJobSlice, type JobRunnerDeps, type SliceOutcome } from '../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../lambdas/config-sync/jobs';
import { applyDeps, CLUSTER, harness, type Harness } from './fixtures';
import { ROADS_AND_RIVERS, seedRoadsAndRivers } from './geoserver/capture-on-a-slave';
import { standInPerTest } from '../../support/standin-per-test';

const standIn = standInPerTest();
const NODE = 'gs-1';
/** What one REST call takes of the invocation's time. */
const COST_MS = 1_000;
/** The apply function's timeout, and a slice's deadline within it (job-slices.ts, MAX_SLICE_MS). */
const INVOCATION_MS = 120_000;
const SLICE_MS = 60_000;

/** The test's clock, moved on by each REST call; `Date.now` reads it. */
let elapsed = 0;
beforeEach(() => {
  elapsed = 0;
  const realNow = Date.now.bind(Date);
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + elapsed);
});
afterEach(() => jest.restoreAllMocks());

/**
 * The stand-in as a slow GeoServer: every call takes COST_MS of the invocation that makes it
 * (`invocation`: the REST client of one, ending at `ends`); one made once its invocation's time is
 * up never answers (`hung`), nor does any later one of that invocation (it ended). `paths`: every
 * GET answered, in order.
 */
function slow() {
  const gate = {
    hung: 0,
    paths: [] as string[],
    invocation(ends: number): { readonly rest: GeoServerRest; readonly died: () => boolean } {
      let ended = false;
      const rest: GeoServerRest = {
        get url() {
          return standIn.rest.url;
        },
        send: (request: RestRequest) => {
          if (!ended) elapsed += COST_MS;
          if (ended || Date.now() > ends) {
            ended = true;
            gate.hung += 1;
            return new Promise<never>(() => undefined);
          }
          gate.paths.push(request.path);
          return standIn.rest.send(request);
        },
      };
      return { rest, died: () => ended };
    },
  };
  return gate;
}

/** A catalog the store lacks most of: 30 workspaces of 3 stores of 2 feature types, a style and a layer group each. */
function seedLargeCatalog(): void {
  const catalog = standIn.geoserver.catalog;
  seedRoadsAndRivers(catalog);
  for (let w = 0; w < 30; w += 1) {
    const ws = `ws${w}`;
    catalog.addWorkspace({ name: ws });
    for (let s = 0; s < 3; s += 1) {
      catalog.addStore('dataStore', ws, { name: `pg${s}`, type: 'PostGIS' });
      for (let r = 0; r < 2; r += 1) catalog.addResource('featureType', ws, `pg${s}`, { name: `t${s}_${r}`, nativeName: `t${s}_${r}` });
    }
    catalog.addStyleInfo(ws, { name: `style${w}`, format: 'sld', filename: `style${w}.sld` });
    catalog.addLayerGroup(ws, { name: `group${w}`, publishables: { published: [{ '@type': 'layer', name: `${ws}:t0_0` }] } });
  }
}

async function node(): Promise<Harness> {
  const h = harness();
  await h.appendAll(ROADS_AND_RIVERS);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: NODE });
  seedLargeCatalog();
  return h;
}

function deps(h: Harness, jobs: MemoryJobStore, rest: GeoServerRest): JobRunnerDeps {
  return { cluster: CLUSTER, store: h.store, jobs, apply: applyDeps(h), rest, compareMode: 'stored-properties', now: () => new Date() };
}

async function startDrift(jobs: MemoryJobStore, id: string): Promise<Job> {
  const job = newJob({ id, node: NODE, kind: 'drift', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  return job;
}

/**
 * One slice as the apply function runs it: its deadline SLICE_MS into the invocation, which ends
 * `ends` in (INVOCATION_MS). 'died' when a call outlasted the invocation (the slice never ends).
 */
async function slice(h: Harness, jobs: MemoryJobStore, gate: ReturnType<typeof slow>, id: string, ends = INVOCATION_MS): Promise<SliceOutcome | 'died'> {
  const start = Date.now();
  const invocation = gate.invocation(start + ends);
  const outcome = runJobSlice(deps(h, jobs, invocation.rest), NODE, id, start + SLICE_MS);
  // Watched until the race is settled: a watch left running after a slice that ended kept the
  // test's worker from exiting ("A worker process has failed to exit gracefully").
  let settled = false;
  const died = new Promise<'died'>((resolve) => {
    const check = () => {
      if (settled) return;
      if (invocation.died()) resolve('died');
      else setTimeout(check, 2);
    };
    check();
  });
  return Promise.race([outcome, died]).finally(() => {
    settled = true;
  });
}

/** The job run to its end in a single slice, with no deadline and no timeout: what the scan finds, and its calls. */
async function inOneSlice(h: Harness) {
  const jobs = new MemoryJobStore();
  const gate = slow();
  await startDrift(jobs, 'drift-one');
  expect(await runJobSlice(deps(h, jobs, gate.invocation(Number.POSITIVE_INFINITY).rest), NODE, 'drift-one', Number.POSITIVE_INFINITY)).toBe('done');
  const job = (await jobs.read(NODE, 'drift-one'))!;
  expect(job).toMatchObject({ state: 'succeeded', slices: 1 });
  return { job, differences: await jobs.readDifferences(NODE, 'drift-one'), paths: gate.paths };
}

test('a catalog whose listing outlasts a slice is listed across several slices, with the same differences and the same REST calls as in one', async () => {
  const h = await node();
  const one = await inOneSlice(h);
  // The listing alone takes longer than an invocation.
  expect(one.paths.length * COST_MS).toBeGreaterThan(INVOCATION_MS);
  expect(one.job.progress.extra).toBeGreaterThan(30 * 9);

  const jobs = new MemoryJobStore();
  const gate = slow();
  await startDrift(jobs, 'drift-sliced');
  const outcomes: (SliceOutcome | 'died')[] = [];
  const scanning: number[] = [];
  for (let n = 0; n < 20 && outcomes.at(-1) !== 'done'; n += 1) {
    const phase = (await jobs.read(NODE, 'drift-sliced'))!.phase;
    outcomes.push(await slice(h, jobs, gate, 'drift-sliced'));
    if (phase === 'scan-geoserver') scanning.push(n);
  }
  // No slice outlasted its invocation, and the listing went on over several of them.
  expect(outcomes).not.toContain('died');
  expect(outcomes.at(-1)).toBe('done');
  expect(scanning.length).toBeGreaterThan(1);

  const job = (await jobs.read(NODE, 'drift-sliced'))!;
  expect(job).toMatchObject({ state: 'succeeded', error: null });
  expect(job.progress).toEqual(one.job.progress);
  expect(await jobs.readDifferences(NODE, 'drift-sliced')).toEqual(one.differences);
  // The same calls, each made once: no listing read again.
  expect([...gate.paths].sort()).toEqual([...one.paths].sort());
  // The checkpoint ends without the listing's progress.
  expect(job.checkpoint).not.toHaveProperty('listing');
}, 60_000);

test('a slice that dies part way through the listing: the next goes on from the last step saved, repeating only the listings of the step it died in', async () => {
  const h = await node();
  const one = await inOneSlice(h);

  const jobs = new MemoryJobStore();
  // Where the paths stood at each save of the job: the listings after the last one were lost with the slice.
  const gate = slow();
  const savedAt: number[] = [];
  const save = jobs.save.bind(jobs);
  jobs.save = async (job) => {
    savedAt.push(gate.paths.length);
    return save(job);
  };
  await startDrift(jobs, 'drift-dies');

  // Slices until the scan of the GeoServer has saved a step, then one that dies in its next step.
  let outcome: SliceOutcome | 'died' = 'more';
  for (let n = 0; n < 20; n += 1) {
    outcome = await slice(h, jobs, gate, 'drift-dies');
    const job = (await jobs.read(NODE, 'drift-dies'))!;
    if (outcome !== 'more' || (job.phase === 'scan-geoserver' && 'listing' in job.checkpoint)) break;
  }
  expect(outcome).toBe('more');
  // The invocation ends a few calls into the slice's listing: after its first save, before its step
  // ends. A step first reads the extra layer groups the last one left (`extrasLeft`), a call each.
  const left = (await jobs.read(NODE, 'drift-dies'))!.checkpoint.extrasLeft ?? [];
  const groupsLeft = left.filter((entry) => entry.type === 'layerGroup').length;
  expect(await slice(h, jobs, gate, 'drift-dies', (groupsLeft + 5) * COST_MS)).toBe('died');
  const lost = gate.paths.slice(savedAt.at(-1)!);
  expect(lost.length).toBeGreaterThan(0);

  const after: (SliceOutcome | 'died')[] = [];
  for (let n = 0; n < 20 && outcome !== 'done'; n += 1) {
    outcome = await slice(h, jobs, gate, 'drift-dies');
    after.push(outcome);
  }
  expect(after).not.toContain('died');
  expect(outcome).toBe('done');
  const job = (await jobs.read(NODE, 'drift-dies'))!;
  expect(job).toMatchObject({ state: 'succeeded', error: null });
  expect(await jobs.readDifferences(NODE, 'drift-dies')).toEqual(one.differences);
  expect(job.progress.extra).toBe(one.job.progress.extra);
  // Every listing read once, but for those of the step the slice died in.
  const counts = (paths: readonly string[]) => {
    const counted = new Map<string, number>();
    for (const path of paths) counted.set(path, (counted.get(path) ?? 0) + 1);
    return counted;
  };
  const once = counts(one.paths);
  const repeated = [...counts(gate.paths)].filter(([path, count]) => count > (once.get(path) ?? 0)).map(([path]) => path);
  expect(repeated.length).toBeGreaterThan(0);
  expect(lost).toEqual(expect.arrayContaining(repeated));
  expect(gate.paths.length).toBeLessThanOrEqual(one.paths.length + lost.length);
}, 60_000);

test('a catalog with more extra layer groups than one slice can read is scanned across slices too, their reads bounded as the listing is', async () => {
  const h = await node();
  // Layer groups the store lacks, each read (for the groups it holds) once listed: more reads than an invocation makes.
  for (let g = 0; g < 200; g += 1) {
    standIn.geoserver.catalog.addLayerGroup(undefined, { name: `global${g}`, publishables: { published: [{ '@type': 'layer', name: 'ws0:t0_0' }] } });
  }
  const one = await inOneSlice(h);
  expect(one.job.progress.extra).toBeGreaterThan(200);

  const jobs = new MemoryJobStore();
  const gate = slow();
  await startDrift(jobs, 'drift-groups');
  const outcomes: (SliceOutcome | 'died')[] = [];
  for (let n = 0; n < 30 && outcomes.at(-1) !== 'done'; n += 1) outcomes.push(await slice(h, jobs, gate, 'drift-groups'));
  expect(outcomes).not.toContain('died');
  const job = (await jobs.read(NODE, 'drift-groups'))!;
  expect(job).toMatchObject({ state: 'succeeded', error: null });
  expect(job.progress).toEqual(one.job.progress);
  expect(await jobs.readDifferences(NODE, 'drift-groups')).toEqual(one.differences);
  // Each call made once: no group read, nor listing, again.
  expect([...gate.paths].sort()).toEqual([...one.paths].sort());
  expect(job.checkpoint).not.toHaveProperty('extrasLeft');
}, 60_000);
