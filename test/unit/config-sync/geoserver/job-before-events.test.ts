/**
 * A node's apply function runs the job slices of a batch before the batch's events, whatever
 * their order in the queue, and reports a failed slice on its own while the events after it are
 * applied and acknowledged (handlers/apply-events.ts). So a reconcile may run wholly before events
 * queued ahead of it, or scan before them and fix after them (a slice that did not finish, or one
 * that failed and came back after the later events). docs/architecture.md ("Job slices and events
 * in one batch") says why that is safe on a slave: the events and the reconcile reach the same
 * GeoServer in every such order, because an event not yet applied is in neither the store nor the
 * GeoServer (its REST calls and its commit are one apply), an event's REST calls send the object's
 * whole state as the store holds it after the event, whatever the GeoServer held, and a fix reads
 * the store again when it is made, never trusting what the scan saw. This test pins it: each
 * schedule must leave the GeoServer as the queue's own order does.
 */
import { MemoryEventBodyStore, MemoryEventLog, MemoryJobStore, MemoryNodeStore } from '../../../../lambdas/config-sync/adapters/memory';
import { applyDeliveredBatch, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import { standInPerTest } from '../../../support/standin-per-test';
import { add, modify, remove } from '../fixtures';

const CLUSTER = 'test-cluster';
const NODE = 'slave-1';
const SLD = (name: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>${name}</Name></NamedLayer></StyledLayerDescriptor>`;
const style = (name: string) => add('style', name, { name, format: 'sld', languageVersion: { version: '1.0.0' }, body: SLD(name) });

/** What the node held, applied from its queue to its store and its GeoServer. */
const APPLIED: ConfigChange[] = [
  add('workspace', 'topp', { name: 'topp' }),
  add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
  add('featureType', 'topp:roads', { name: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
  style('green'),
];

/**
 * Queued ahead of the reconcile: each touches an object the reconcile finds apart (made so on the
 * node's GeoServer by hand below), so a fix made from what the scan saw would undo it.
 */
const QUEUED: ConfigChange[] = [
  // The scan finds the feature type `different` (retitled by hand): the event retitles it again.
  modify('featureType', 'topp:roads', { title: 'Main roads' }),
  // The scan finds style `rivers` an `extra` (made by hand): the event adds it, so it stays.
  style('rivers'),
  // The scan finds style `green` `missing` (removed by hand): the event removes it, so it stays away.
  remove('style', 'green'),
];

const standIn = standInPerTest();

async function slave() {
  const store = new MemoryNodeStore();
  const log = new MemoryEventLog();
  const bodies = new MemoryEventBodyStore();
  const apply: ApplyDeps = { store, log, bodies, geoserver: { rest: standIn.rest, options: { sleep: async () => undefined } } };
  const jobs = new MemoryJobStore();
  const deps: JobRunnerDeps = { cluster: CLUSTER, store, jobs, apply, rest: standIn.rest, compareMode: 'stored-properties', now: () => new Date(), pageSize: 2 };
  const append = async (changes: readonly ConfigChange[]) => {
    const events = [];
    for (const change of changes) events.push(await log.append({ cluster: CLUSTER, origin: 'master-1', publishedAt: new Date().toISOString(), ...change }));
    return events.map((event) => JSON.stringify(event));
  };
  /** Delivers messages as one batch of the node's queue; none may fail. */
  const deliver = async (messages: readonly string[]) => {
    const result = await applyDeliveredBatch(apply, { cluster: CLUSTER, node: NODE }, messages);
    expect(result.failure).toBeUndefined();
  };
  await deliver(await append(APPLIED));
  const catalog = standIn.geoserver.catalog;
  expect(catalog.get('featureType', 'topp:roads')?.title).toBe('Roads');
  // Drift made by hand on the node's GeoServer.
  catalog.update('featureType', 'topp:roads', { title: 'by hand' });
  catalog.addStyleWithBody(undefined, 'rivers', { bytes: Buffer.from(SLD('hand-made')), contentType: 'application/vnd.ogc.sld+xml', raw: true });
  catalog.deleteStyle('green', false);
  const queued = await append(QUEUED);

  const start = async (kind: Job['kind']): Promise<Job> => {
    const job = newJob({ id: `${kind}-${Math.random().toString(36).slice(2)}`, node: NODE, kind, requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
    expect(await jobs.start(job, new Date())).toEqual({ started: true });
    return job;
  };
  /** Runs the job's slices, one step each (a deadline already past), until `until` holds of it or it ends. */
  const runUntil = async (job: Job, until: (current: Job) => boolean = () => false) => {
    for (let slice = 0; slice < 50; slice += 1) {
      const current = (await jobs.read(NODE, job.id))!;
      if (until(current) || current.state === 'succeeded' || current.state === 'failed') return current;
      await runJobSlice(deps, NODE, job.id, Date.now() - 1);
    }
    throw new Error(`job ${job.id} did not end in 50 slices`);
  };
  return { store, jobs, queued, deliver, start, runUntil };
}

test.each([
  ['the events, then the reconcile (the queue\'s order)', 'events-first'],
  ['the reconcile wholly before the events queued ahead of it (its slice runs first in their batch)', 'job-first'],
  ['the reconcile\'s scan before the events, its fix after them (a slice that did not finish, or failed and came back after them)', 'straddling'],
] as const)('%s: the GeoServer ends as the queue\'s order leaves it, equal to the store', async (_label, schedule) => {
  const { store, jobs, queued, deliver, start, runUntil } = await slave();
  const reconcile = await start('reconcile');
  if (schedule === 'events-first') {
    await deliver(queued);
    await runUntil(reconcile);
  } else if (schedule === 'job-first') {
    const ended = await runUntil(reconcile);
    // It did find all three apart, and made the GeoServer equal to the store as it then was.
    expect(ended.progress).toMatchObject({ missing: 1, extra: 1, different: 1, fixed: 3 });
    expect(standIn.geoserver.catalog.get('style', 'green')).toBeDefined();
    await deliver(queued);
  } else {
    const scanned = await runUntil(reconcile, (current) => current.phase === 'fix');
    expect(scanned.progress).toMatchObject({ missing: 1, extra: 1, different: 1 });
    await deliver(queued);
    await runUntil(reconcile);
  }
  expect((await jobs.read(NODE, reconcile.id))!).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
  expect((await store.readProgress(NODE)).cursor).toBe(APPLIED.length + QUEUED.length);

  const catalog = standIn.geoserver.catalog;
  expect(catalog.get('featureType', 'topp:roads')?.title).toBe('Main roads');
  expect(catalog.get('style', 'rivers')).toBeDefined();
  expect(catalog.styleBodies.get('rivers')?.bytes.toString('utf8')).toBe(SLD('rivers'));
  expect(catalog.get('style', 'green')).toBeUndefined();
  // And a drift check afterwards finds the GeoServer equal to the store.
  const check = await runUntil(await start('drift'));
  expect(check).toMatchObject({ state: 'succeeded', progress: { missing: 0, extra: 0, different: 0 } });
  expect(await jobs.readDifferences(NODE, check.id)).toEqual([]);
});
