/**
 * A resync's catch-up meets an event the node cannot apply (not a transient failure): as the
 * queue's applier does, it retries it up to MAX_APPLY_ATTEMPTS and then parks it and goes on,
 * rather than failing the whole job at the first attempt (which, on a GeoServer node, would
 * leave the GeoServer never reconciled with the copied store).
 */
import { MemoryJobStore } from '../../../lambdas/config-sync/adapters/memory';
import { catchUp } from '../../../lambdas/config-sync/apply';
import { MAX_PROPERTIES_BYTES } from '../../../lambdas/config-sync/events';
import { runJobSlice, type JobRunnerDeps } from '../../../lambdas/config-sync/job-runner';
import { newJob } from '../../../lambdas/config-sync/jobs';
import { add, applyDeps, CLUSTER, harness, modify } from './fixtures';

const SOURCE = 'master-1';
const TARGET = 'slave-9';

test("a resync's catch-up parks an event its node cannot apply and finishes, as the queue would, instead of failing the job at its first attempt", async () => {
  const h = harness();
  await h.appendAll([add('workspace', 'a', { name: 'a' }), add('workspace', 'big', { name: 'big' })]);
  await catchUp(applyDeps(h), { cluster: CLUSTER, node: SOURCE });
  // After the snapshot's sequence (2): two patches each within bounds, which together make the
  // object larger than an object may be (the second is refused and must be parked), then more.
  const half = Math.ceil(MAX_PROPERTIES_BYTES / 2) + 10;
  await h.appendAll([
    modify('workspace', 'big', { one: 'x'.repeat(half) }),
    modify('workspace', 'big', { two: 'y'.repeat(half) }),
    add('workspace', 'after', { name: 'after' }),
  ]);
  const jobs = new MemoryJobStore();
  const job = newJob({ id: 'resync-1', node: TARGET, kind: 'resync', requestedBy: SOURCE, source: SOURCE, hasGeoServer: false, now: new Date() });
  expect(await jobs.start(job, new Date())).toEqual({ started: true });
  const deps: JobRunnerDeps = { cluster: CLUSTER, store: h.store, jobs, apply: { ...applyDeps(h), warn: () => undefined }, compareMode: 'stored-properties', now: () => new Date(), pageSize: 10 };

  let outcome: string | undefined;
  for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, TARGET, job.id, Date.now() + 10_000);

  const ended = (await jobs.read(TARGET, job.id))!;
  expect({ state: ended.state, error: ended.error, resync: ended.resync }).toEqual({
    state: 'succeeded',
    error: null,
    resync: { snapshotSequence: 2, cursor: 5, appliedFromLog: 3 },
  });
  expect((await h.store.listParked(TARGET)).map((record) => ({ object: record.object, sequences: record.sequences }))).toEqual([
    { object: { type: 'workspace', id: 'big' }, sequences: [4] },
  ]);
  expect((await h.store.readObjects(TARGET, [{ type: 'workspace', id: 'after' }])).map((object) => object.lastSequence)).toEqual([5]);
});
