// A capture of a master's GeoServer whose every published event a slave with a GeoServer of its
// own applies, for the tests of what the master's web UI changed (resource-moved.test.ts,
// capture-combinations.test.ts, the nested-group tests): the slave must end as the master, nothing
// parked; and a job run to its end on a node whose GeoServer is a stand-in (`runJobOn`).
import { MemoryJobStore } from '../../../../lambdas/config-sync/adapters/memory';
import { applyDeliveredEvent, catchUp, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import type { NodeStore } from '../../../../lambdas/config-sync/ports';
import { add, applyDeps, CLUSTER, harness, type Harness } from '../fixtures';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';
import { CachedCredentials, HttpGeoServer } from '../../../../lambdas/config-sync/adapters/geoserver-http';
import type { GeoServerRest } from '../../../../lambdas/config-sync/geoserver/ports';
import { NodePausedError } from '../../../../lambdas/config-sync/pause';

/** What `captureOnASlave` ran: the job, what it published (`remove layer/topp:x recurse`), and the slave's GeoServer. */
export interface TypeChangeRun {
  readonly outcome: string | undefined;
  readonly ran: Job;
  readonly published: readonly string[];
  readonly h: Harness;
  readonly slaveGeoServer: GeoServerStandIn;
  /** Slices that threw (were delivered again). */
  readonly died: number;
  /** With `pausedAfter`: the capture the pause stopped (`ran` is the one started after the resume). */
  readonly stopped?: Job;
  /** Runs one more capture to its end: the job, and what it published. */
  readonly captureAgain: () => Promise<{ readonly ran: Job; readonly published: readonly string[] }>;
}

/** The master's GeoServer (a stand-in per test) and its REST client. */
export interface MasterGeoServer {
  readonly geoserver: GeoServerStandIn;
  readonly rest: GeoServerRest;
}

/**
 * `history` logged and applied to master-1's store and to a slave's GeoServer (a stand-in of its
 * own); `onTheMaster` then makes the master's GeoServer what its web UI made it. A capture of the
 * master publishes as the gateway does: logged, applied to the master's store, delivered to the
 * slave. `jobStore` may be a store that fails a save; with `dieAfter`, the capture's invocation
 * dies (a transient failure of its store) at its next read after that many publishes, its
 * checkpoint not saved; a slice that throws is delivered again. With `pausedAfter`, the master
 * is paused after that many publishes (its next publish refused, the capture ending `failed`),
 * then resumed, and a new capture run to its end. `check` runs before the slave's GeoServer
 * closes.
 */
export async function captureOnASlave(
  master: MasterGeoServer,
  history: readonly ConfigChange[],
  onTheMaster: () => Promise<void>,
  jobStore: MemoryJobStore | undefined,
  check: (run: TypeChangeRun) => Promise<void>,
  dieAfter?: number,
  pausedAfter?: number,
): Promise<void> {
  const h = harness();
  const logged = await h.appendAll(history);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  const slaveGeoServer = await startGeoServerStandIn();
  try {
    const slaveRest = new HttpGeoServer({ url: slaveGeoServer.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })) });
    const slave: ApplyDeps = { ...applyDeps(h), geoserver: { rest: slaveRest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
    const SLAVE = { cluster: CLUSTER, node: 'gs-1' };
    for (const event of logged) await applyDeliveredEvent(slave, SLAVE, event);
    expect(await h.store.listParked('gs-1')).toEqual([]);

    await onTheMaster();

    const jobs = jobStore ?? new MemoryJobStore();
    const published: string[] = [];
    let dying = false;
    let paused = false;
    // The capture's reads of the master's store, failing once when its invocation dies.
    const store: NodeStore = new Proxy(h.store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'readObjects' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          if (dying) {
            dying = false;
            throw Object.assign(new Error('the invocation died'), { transient: true });
          }
          return value.apply(target, args);
        };
      },
    });
    const deps: JobRunnerDeps = {
      cluster: CLUSTER,
      store,
      jobs,
      apply: applyDeps(h),
      rest: master.rest,
      compareMode: 'both-ways',
      now: () => new Date(),
      publish: async (change) => {
        if (paused) throw new NodePausedError('master-1', { since: new Date().toISOString(), by: 'master-1' });
        const event = await h.append(change, 'master-1');
        await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
        published.push(`${change.kind} ${change.object.type}/${change.object.id}${change.kind === 'remove' && change.recurse ? ' recurse' : ''}`);
        await applyDeliveredEvent(slave, SLAVE, event);
        if (published.length === dieAfter) dying = true;
        if (published.length === pausedAfter) paused = true;
        return event.sequence;
      },
    };
    let died = 0;
    /** A capture job started and run until it ends (or 50 slices). */
    const runCapture = async (id: string): Promise<{ outcome: string | undefined; ran: Job }> => {
      const job = newJob({ id, node: 'master-1', kind: 'capture', requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
      expect(await jobs.start(job, new Date())).toEqual({ started: true });
      let outcome: string | undefined;
      for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) {
        outcome = await runJobSlice(deps, 'master-1', job.id, Date.now() + 10_000).catch(() => 'died');
        if (outcome === 'died') died += 1;
        if ((await jobs.read('master-1', job.id))?.state === 'failed') break;
      }
      return { outcome, ran: (await jobs.read('master-1', job.id))! };
    };
    let stopped: Job | undefined;
    if (pausedAfter !== undefined) {
      stopped = (await runCapture('capture-0')).ran;
      paused = false;
    }
    const { outcome, ran } = await runCapture('capture-1');
    let again = 1;
    const captureAgain = async () => {
      const before = published.length;
      again += 1;
      const { ran: rerun } = await runCapture(`capture-${again}`);
      return { ran: rerun, published: published.slice(before) };
    };
    await check({ outcome, ran, published, h, slaveGeoServer, died, captureAgain, ...(stopped === undefined ? {} : { stopped }) });
    expect(slaveGeoServer.violations).toEqual([]);
  } finally {
    await slaveGeoServer.close();
  }
}

/** A GeoServer's layer groups, each with its entries. */
export const groups = (gs: { catalog: { objects: { layerGroup: Map<string, Record<string, unknown>> } } }) =>
  Object.fromEntries([...gs.catalog.objects.layerGroup].map(([id, value]) => [id, value.publishables]));

/** A GeoServer's stores, resources (with their store) and layers (with their resource), and its layer groups' entries. */
export function catalogShape(gs: GeoServerStandIn) {
  const { objects } = gs.catalog;
  const name = (reference: unknown) => (reference as { name?: string } | undefined)?.name;
  return {
    stores: ['dataStore', 'coverageStore'].flatMap((type) => [...objects[type as 'dataStore'].keys()].map((id) => `${type}/${id}`)).sort(),
    resources: Object.fromEntries(['featureType', 'coverage'].flatMap((type) => [...objects[type as 'featureType']].map(([id, value]) => [`${type}/${id}`, name(value.store)]))),
    layers: Object.fromEntries([...objects.layer].map(([id, value]) => [id, `${(value.resource as Record<string, string>)['@class']}/${name(value.resource)}`])),
    groups: groups(gs),
  };
}

/**
 * A job of `kind` run slice by slice to its end on `node`, whose GeoServer (and apply) is
 * `geoserver`, against `h`'s store; the job as it ended (its differences in `jobs`).
 */
export async function runJobOn(geoserver: MasterGeoServer, h: Harness, kind: Job['kind'], node: string, id: string, jobs = new MemoryJobStore()): Promise<Job> {
  const job = newJob({ id, node, kind, requestedBy: 'master-1', ...(kind === 'resync' ? { source: 'master-1' } : {}), hasGeoServer: true, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  const deps: JobRunnerDeps = {
    cluster: CLUSTER,
    store: h.store,
    jobs,
    apply: { ...applyDeps(h), geoserver: { rest: geoserver.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } } },
    rest: geoserver.rest,
    compareMode: 'stored-properties',
    now: () => new Date(),
  };
  let outcome: string | undefined;
  for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, node, id, Date.now() + 10_000);
  expect(outcome).toBe('done');
  return (await jobs.read(node, id))!;
}

/** A layer group's entry naming a layer or a layer group. */
export const groupEntry = (type: 'layer' | 'layerGroup', name: string) => ({ '@type': type, name });

/** The catalog the nested-group tests start from: workspace topp, its store pg, roads and rivers with their layers. */
export const ROADS_AND_RIVERS = [
  add('workspace', 'topp', { name: 'topp' }),
  add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
  add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'generic' } }),
  add('featureType', 'topp:rivers', { name: 'rivers', nativeName: 'rivers', store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('layer', 'topp:rivers', { name: 'rivers', resource: { '@class': 'featureType', name: 'topp:rivers' }, defaultStyle: { name: 'generic' } }),
];

/** A GeoServer's catalog as `ROADS_AND_RIVERS` leaves it. */
export function seedRoadsAndRivers(catalog: GeoServerStandIn['catalog']): void {
  catalog.addWorkspace({ name: 'topp' });
  catalog.addStore('dataStore', 'topp', { name: 'pg', type: 'PostGIS' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'roads', nativeName: 'roads' });
  catalog.addResource('featureType', 'topp', 'pg', { name: 'rivers', nativeName: 'rivers' });
}

/**
 * A master whose store is `ROADS_AND_RIVERS` applied and whose GeoServer holds the same, with
 * roads retitled in its web UI: a capture's one difference, which tests edit further.
 */
export async function masterWithRoadsRetitled(catalog: GeoServerStandIn['catalog']): Promise<Harness> {
  const h = harness();
  await h.appendAll(ROADS_AND_RIVERS);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: 'master-1' });
  seedRoadsAndRivers(catalog);
  catalog.get('featureType', 'topp:roads')!.title = 'Roads, edited';
  return h;
}

/**
 * A job store whose first save of a checkpoint past the first entry fails, as when the step's
 * invocation died before saving it: transient, as the store's timeout would be, so the slice is
 * delivered again and redone from the checkpoint before, the job not failed.
 */
export class DyingJobStore extends MemoryJobStore {
  died = false;
  override async save(saved: Job): Promise<'saved' | 'superseded'> {
    if (!this.died && (saved.checkpoint.index ?? 0) > 0) {
      this.died = true;
      throw Object.assign(new Error('the invocation died'), { transient: true });
    }
    return super.save(saved);
  }
}
