/**
 * A gateway write and a resync of its master taking its hold, interleaved step by step: the write
 * reads the hold before it waits for the cluster's write lease (the handler's check), and the
 * resync takes its hold under that lease (job-runner.ts, `bootstrapStep`). Whichever way they
 * interleave, no write reaches the master's GeoServer once the hold is taken: one whose first
 * read came before the hold reads it again once it holds the lease (`refusal`), and a resync
 * whose first step comes while a write is forwarded waits for that write to end.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryEventBodyStore, MemoryEventLog, MemoryJobStore, MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { handleGatewayCall, type GatewayOptions, type GatewayRequest } from '../../../../lambdas/config-sync/gateway/gateway';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { gatewayWriteRefusal, newJob, type Job } from '../../../../lambdas/config-sync/jobs';
import { standInPerTest } from '../../../support/standin-per-test';
import { adminRequest } from './recording-gateway';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';

const standIn = standInPerTest();
const SOURCE = 'gs-other';

function setUp() {
  const storing = storingPublisher();
  const jobs = new MemoryJobStore();
  const lease = new MemoryWriteLease();
  /** The gateway's serializer and the master's apply function's: two, over the one lease item, as two Lambda functions have. */
  const gatewayWrites = leaseSerializer(lease, { waitMs: 60_000, ttlMs: 35_000, backoff: { baseMs: 1, capMs: 2 } });
  let leaseWaited: (() => void) | undefined;
  const resyncWrites = leaseSerializer(lease, {
    waitMs: 60_000,
    ttlMs: 35_000,
    // Told when the resync finds the lease held; waits a turn of the event loop, not a time.
    sleep: async () => {
      leaseWaited?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  });
  const runner: JobRunnerDeps = {
    cluster: 'test-cluster',
    store: storing.store,
    jobs,
    apply: { store: storing.store, log: new MemoryEventLog(), bodies: new MemoryEventBodyStore() },
    rest: standIn.rest,
    compareMode: 'both-ways',
    now: () => new Date(),
    writes: resyncWrites,
  };
  const upstream = new HttpUpstream(standIn.geoserver.url, 5000, 6 * 1024 * 1024);
  const sent: GatewayRequest[] = [];
  let onForward: (() => Promise<void>) | undefined;
  const recording = {
    async send(call: GatewayRequest, timeoutMs?: number) {
      if (call.method !== 'GET') {
        sent.push(call);
        await onForward?.();
      }
      return upstream.send(call, timeoutMs);
    },
  };
  const refusal = () => gatewayWriteRefusal({ store: storing.store, jobs }, MASTER_NODE, new Date());
  const write = (call: GatewayRequest, options: Partial<GatewayOptions> = {}) =>
    handleGatewayCall(recording, storing, call, { writes: gatewayWrites, refusal, readBack: masterView(recording), ...options });
  async function startResync(): Promise<Job> {
    const job = newJob({ id: 'resync-1', node: MASTER_NODE, kind: 'resync', requestedBy: MASTER_NODE, source: SOURCE, hasGeoServer: true, now: new Date() });
    expect(await jobs.start(job, new Date())).toEqual({ started: true });
    return job;
  }
  /** The resync's first slice (its first step: the hold taken), with a deadline already past. */
  const resyncStep = (job: Job) => runJobSlice(runner, MASTER_NODE, job.id, Date.now() - 1);
  return {
    storing,
    sent,
    refusal,
    write,
    startResync,
    resyncStep,
    /** Runs `hook` as the next write is forwarded, before the master gets it. */
    atForward(hook: () => Promise<void>) {
      onForward = async () => {
        onForward = undefined;
        await hook();
      };
    },
    /** Resolves once the resync has found the lease held (never, if it does not wait for it). */
    leaseWaitedFor: () => new Promise<void>((resolve) => (leaseWaited = resolve)),
  };
}

const workspace = (name: string) => adminRequest('POST', '/workspaces', JSON.stringify({ workspace: { name } }));

test("a resync that takes the master's hold after the write's first read of it, before the write holds the lease: the write is refused under the lease, nothing forwarded", async () => {
  const s = setUp();
  // The handler's read, before the write waits for the lease: no hold yet.
  expect(await s.refusal()).toBeUndefined();
  // The resync's first step comes in between.
  const resync = await s.startResync();
  expect(await s.resyncStep(resync)).toBe('more');
  expect(await s.storing.store.readProgress(MASTER_NODE)).toMatchObject({ heldBy: resync.id });

  await expect(s.write(workspace('late'))).rejects.toMatchObject({ status: 409, code: 'NODE_HELD_BY_RESYNC', details: { resync: { job: resync.id, state: 'running' } } });
  expect(s.sent).toEqual([]);
  expect(standIn.geoserver.catalog.get('workspace', 'late')).toBeUndefined();
  expect(s.storing.published).toEqual([]);
});

test("a resync whose first step comes while a write is being forwarded takes the master's hold only once that write is published, and refuses the next", async () => {
  const s = setUp();
  expect(await s.refusal()).toBeUndefined();
  const resync = await s.startResync();
  let resyncSlice: Promise<string> | undefined;
  let heldAtForward: string | undefined;
  s.atForward(async () => {
    // The write holds the lease: the resync's step either takes the hold now (nothing orders
    // them) or waits for the lease. Whichever comes first is awaited, then the hold is read.
    resyncSlice = s.resyncStep(resync);
    await Promise.race([resyncSlice, s.leaseWaitedFor()]);
    heldAtForward = (await s.storing.store.readProgress(MASTER_NODE)).heldBy;
  });

  const answer = await s.write(workspace('first'));
  expect(answer).toMatchObject({ status: 201, replication: 'published' });
  expect(heldAtForward).toBeUndefined();
  expect(s.storing.published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`)).toEqual(['add workspace/first', 'add namespace/first']);

  // The lease given back, the resync takes its hold; the next write is refused, nothing forwarded.
  expect(await resyncSlice).toBe('more');
  expect(await s.storing.store.readProgress(MASTER_NODE)).toMatchObject({ heldBy: resync.id });
  s.sent.length = 0;
  await expect(s.write(workspace('second'))).rejects.toMatchObject({ status: 409, code: 'NODE_HELD_BY_RESYNC' });
  expect(s.sent).toEqual([]);
  expect(standIn.geoserver.catalog.get('workspace', 'second')).toBeUndefined();
});

test("an upload into a store, whose first read of the hold came before a resync took it, is refused under the lease: nothing forwarded, no capture started", async () => {
  const s = setUp();
  standIn.geoserver.catalog.addWorkspace({ name: 'topp' });
  expect(await s.refusal()).toBeUndefined();
  const resync = await s.startResync();
  expect(await s.resyncStep(resync)).toBe('more');

  const upload = adminRequest('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp', 'text/plain');
  await expect(s.write(upload)).rejects.toMatchObject({ status: 409, code: 'NODE_HELD_BY_RESYNC', details: { resync: { job: resync.id, state: 'running' } } });
  expect(s.sent).toEqual([]);
  expect(standIn.geoserver.catalog.get('dataStore', 'topp:roads')).toBeUndefined();
});

test("a resync whose first step comes while an upload is being forwarded takes the master's hold only once the upload's capture is asked for", async () => {
  const s = setUp();
  standIn.geoserver.catalog.addWorkspace({ name: 'topp' });
  const resync = await s.startResync();
  let resyncSlice: Promise<string> | undefined;
  let heldAtForward: string | undefined;
  s.atForward(async () => {
    resyncSlice = s.resyncStep(resync);
    await Promise.race([resyncSlice, s.leaseWaitedFor()]);
    heldAtForward = (await s.storing.store.readProgress(MASTER_NODE)).heldBy;
  });
  let heldAtCapture: string | undefined;
  const captureUpload = async () => {
    heldAtCapture = (await s.storing.store.readProgress(MASTER_NODE)).heldBy;
    return { job: 'capture-1', outcome: 'queued' as const };
  };

  const upload = adminRequest('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp', 'text/plain');
  const answer = await s.write(upload, { captureUpload });
  expect(answer).toMatchObject({ status: 201, replication: 'capture' });
  expect(heldAtForward).toBeUndefined();
  expect(heldAtCapture).toBeUndefined();
  expect(await resyncSlice).toBe('more');
  expect(await s.storing.store.readProgress(MASTER_NODE)).toMatchObject({ heldBy: resync.id });
});
