/**
 * POST /nodes/{node}/jobs/{id}/cancel against DynamoDB Local and the SQS emulator (started by this
 * file), through the ResyncNode function (which serves the cancel) and the StartNodeJob handler and the job runner the apply
 * function runs: a running job ends `cancelled` and the node takes a new job at once; a slice
 * running as the cancel lands stops at its next checkpoint, saving nothing; two cancels at once
 * answer the same; a cancel racing the job's own end leaves exactly one outcome; a resync is
 * cancelled (its hold given back) before its copy began, and refused with 409 once it has.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { HttpResult } from '../../../lambdas/shared/http';
import { CachedCredentials, HttpGeoServer } from '../../../lambdas/config-sync/adapters/geoserver-http';
import { DynamoEventLog } from '../../../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoJobStore } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { MemoryEventBodyStore } from '../../../lambdas/config-sync/adapters/memory';
import type { ApplyDeps } from '../../../lambdas/config-sync/apply';
import { runJobSlice, type JobRunnerDeps } from '../../../lambdas/config-sync/job-runner';
import { jobView, newJob, type Job } from '../../../lambdas/config-sync/jobs';
import type { CatalogQuery } from '../../../lambdas/config-sync/ports';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { seedObjects, writeStoredObjects } from '../../support/seed-catalog';
import { receiveAll, startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(180_000);

const CLUSTER = 'cancels';
const SOURCE = 'master-1';
const NODE = 'gs-slave';
const NODES = { [SOURCE]: 'master', [NODE]: 'slave', 'slave-2': 'slave' };

type HttpHandler = (event: unknown) => Promise<HttpResult>;

let aws: EmulatedAws;
let geoserver: GeoServerStandIn;
let startJob: HttpHandler;
let cancelJob: HttpHandler;
let readJobs: HttpHandler;
let store: DynamoNodeStore;
let jobs: DynamoJobStore;
let deps: JobRunnerDeps;
const savedEnv = { ...process.env };

beforeAll(async () => {
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: [NODE, 'slave-2'] });
  geoserver = await startGeoServerStandIn();
  Object.assign(process.env, aws.environment(CLUSTER, NODES), { GEOSERVER_NODES: JSON.stringify({ [NODE]: geoserver.url }) });
  // Loaded after the environment is set: handlers read it at cold start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (path: string): HttpHandler => (require(path) as { handler: HttpHandler }).handler;
  startJob = load('../../../lambdas/config-sync/handlers/start-node-job');
  cancelJob = load('../../../lambdas/config-sync/handlers/resync-node');
  readJobs = load('../../../lambdas/config-sync/handlers/read-node-jobs');
  store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
  jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
  const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
  const apply: ApplyDeps = { store, log, bodies: new MemoryEventBodyStore(), holeWaitMs: 0 };
  deps = {
    cluster: CLUSTER,
    store,
    jobs,
    apply,
    rest: new HttpGeoServer({ url: geoserver.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })) }),
    compareMode: 'stored-properties',
    now: () => new Date(),
    pageSize: 50,
  };
  await writeStoredObjects(aws.dynamo, aws.nodeStoreTable, SOURCE, seedObjects(220, SOURCE), 4);
  await store.finishSnapshot(SOURCE, 0);
  await writeStoredObjects(aws.dynamo, aws.nodeStoreTable, NODE, seedObjects(220, SOURCE), 4);
  await store.finishSnapshot(NODE, 0);
}, 120_000);

afterAll(async () => {
  process.env = savedEnv;
  await aws?.stop();
  await geoserver?.close();
});

function request(handler: HttpHandler, path: string, method: 'GET' | 'POST', params: Record<string, string>, caller = NODE, body?: string) {
  return handler({
    version: '2.0',
    rawPath: path,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    pathParameters: params,
    requestContext: { http: { method }, authorizer: { lambda: { nodeId: caller, role: NODES[caller as keyof typeof NODES] } } },
  }).then((result) => ({ status: result.statusCode, body: JSON.parse(result.body ?? '{}') as Record<string, unknown> }));
}

const cancel = (id: string, caller = NODE, body?: string) => request(cancelJob, `/nodes/${NODE}/jobs/${id}/cancel`, 'POST', { node: NODE, id }, caller, body);
const startDrift = () => request(startJob, `/nodes/${NODE}/drift`, 'POST', { node: NODE });
const readJob = (id: string) => request(readJobs, `/nodes/${NODE}/jobs/${id}`, 'GET', { node: NODE, id });

/** Runs slices of the job until it is no longer `more`, each with a deadline already past (one step each). */
async function runToEnd(id: string, runner: JobRunnerDeps = deps): Promise<string> {
  let outcome = 'more';
  for (let slice = 0; slice < 50 && outcome === 'more'; slice += 1) outcome = await runJobSlice(runner, NODE, id, Date.now() - 1);
  return outcome;
}

/** The job messages on the node's queue, taken off it. */
async function drainQueue(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queues[NODE]!.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => message.Body ?? ''));
    // Deleted: a FIFO queue delivers nothing more of the message group while one is in flight.
    for (const message of Messages) await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: aws.queues[NODE]!.queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }
}

/** A store whose next listing of `node`'s objects waits until `release` is called; `reached` resolves once it is waiting. */
function gatedStore(node: string): { store: DynamoNodeStore; reached: Promise<void>; release: () => void } {
  let release!: () => void;
  let reachedNow!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (reachedNow = resolve));
  let gated = false;
  const wrapped = Object.assign(Object.create(store) as DynamoNodeStore, {
    listObjects: async (listed: string, query: CatalogQuery) => {
      if (listed === node && !gated) {
        gated = true;
        reachedNow();
        await gate;
      }
      return store.listObjects(listed, query);
    },
  });
  return { store: wrapped, reached, release };
}

test('a running drift check is cancelled: it ends cancelled naming who cancelled it, the node takes a new job at once, and a cancel sent again answers the same', async () => {
  const started = await startDrift();
  expect(started.status).toBe(202);
  const id = (started.body.job as Job).id;
  expect(await runJobSlice(deps, NODE, id, Date.now() - 1)).toBe('more');
  const before = (await jobs.read(NODE, id))!;

  // A slave may not cancel another node's job: only the node itself or a master, as for starting one.
  const forbidden = await cancel(id, 'slave-2');
  expect(forbidden.status).toBe(403);
  expect(forbidden.body.message).toMatch(/slave-2 may not cancel the jobs of node gs-slave/);
  // A body where none is taken: 400, nothing written.
  const withBody = await cancel(id, NODE, '{"force": true}');
  expect(withBody).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
  expect(withBody.body.message).toMatch(/this route takes no body/);
  expect(await jobs.read(NODE, id)).toEqual(before);

  const cancelled = await cancel(id, SOURCE);
  expect(cancelled.status).toBe(200);
  const job = cancelled.body.job as Job;
  expect(job).toMatchObject({ id, state: 'cancelled', phase: before.phase, progress: before.progress, slices: before.slices });
  expect(job.finishedAt).not.toBeNull();
  expect(job.error).toBe(`cancelled by ${SOURCE} (POST /nodes/${NODE}/jobs/${id}/cancel); what it did before stays done: a drift check or reconcile shows what is left`);
  expect((await readJob(id)).body.job).toEqual(job);

  // Sent again (a retry): the same answer, nothing written.
  expect(await cancel(id, SOURCE)).toEqual(cancelled);
  // Its late slice (its message still queued) finds it ended and stops.
  expect(await runJobSlice(deps, NODE, id, Date.now() - 1)).toBe('done');
  expect(jobView((await jobs.read(NODE, id))!)).toEqual(job);

  // The node's lock is given back: a new job starts at once, no staleness wait.
  const next = await startDrift();
  expect(next.status).toBe(202);
  expect(await runToEnd((next.body.job as Job).id)).toBe('done');
  expect(await jobs.read(NODE, (next.body.job as Job).id)).toMatchObject({ state: 'succeeded' });

  // A job that ended otherwise: 409 naming how it ended, nothing written.
  const succeeded = await cancel((next.body.job as Job).id);
  expect(succeeded).toMatchObject({ status: 409, body: { code: 'JOB_ENDED', job: { state: 'succeeded' } } });
  expect(succeeded.body.message).toMatch(/has already ended \(succeeded at .*\): there is nothing to cancel/);
  // Unknown jobs: 404.
  expect(await cancel('9f0c1a52-0000-4000-8000-000000000000')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  expect(await cancel('not a job id')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  await drainQueue();
});

test('a slice running as the cancel lands stops at its next checkpoint and saves nothing over the cancel', async () => {
  const started = await startDrift();
  const id = (started.body.job as Job).id;
  expect(await runJobSlice(deps, NODE, id, Date.now() - 1)).toBe('more');
  const gated = gatedStore(NODE);
  const slice = runJobSlice({ ...deps, store: gated.store }, NODE, id, Date.now() + 60_000);
  await gated.reached;
  const cancelled = await cancel(id);
  expect(cancelled).toMatchObject({ status: 200, body: { job: { state: 'cancelled' } } });
  gated.release();
  expect(await slice).toBe('superseded');
  expect(jobView((await jobs.read(NODE, id))!)).toEqual(cancelled.body.job);
  expect((await startDrift()).status).toBe(202);
  await drainQueue();
  // That drift check is left to end, for the next test.
  expect(await runToEnd((await jobs.latest(NODE))!.id)).toBe('done');
});

test('two cancels at once answer the same: one write, one cancelled job', async () => {
  const started = await startDrift();
  const id = (started.body.job as Job).id;
  expect(await runJobSlice(deps, NODE, id, Date.now() - 1)).toBe('more');
  const [first, second] = await Promise.all([cancel(id), cancel(id, SOURCE)]);
  expect(first.status).toBe(200);
  expect(second).toEqual(first);
  expect(jobView((await jobs.read(NODE, id))!)).toEqual(first.body.job);
  await drainQueue();
});

test("a cancel racing the job's own end: exactly one of them wins, and the node is free either way", async () => {
  const outcomes = new Set<string>();
  for (let round = 0; round < 6; round += 1) {
    const started = await startDrift();
    const id = (started.body.job as Job).id;
    // Up to its last step: the scan of the GeoServer's listing, which ends the check.
    let job = (await jobs.read(NODE, id))!;
    while (job.phase !== 'scan-geoserver') {
      expect(await runJobSlice(deps, NODE, id, Date.now() - 1)).toBe('more');
      job = (await jobs.read(NODE, id))!;
    }
    const [slice, cancelled] = await Promise.all([runJobSlice(deps, NODE, id, Date.now() + 60_000), cancel(id)]);
    const ended = (await jobs.read(NODE, id))!;
    if (cancelled.status === 200) {
      expect(slice).toBe('superseded');
      expect(jobView(ended)).toEqual(cancelled.body.job);
      outcomes.add('cancelled');
    } else {
      expect(slice).toBe('done');
      expect(cancelled).toMatchObject({ status: 409, body: { code: 'JOB_ENDED', job: { state: 'succeeded' } } });
      expect(ended.state).toBe('succeeded');
      outcomes.add('succeeded');
    }
    expect(await jobs.latest(NODE)).toMatchObject({ id });
    expect((await startDrift()).status).toBe(202);
    expect(await runToEnd((await jobs.latest(NODE))!.id)).toBe('done');
  }
  expect(outcomes.size).toBeGreaterThan(0);
  await drainQueue();
});

test('a resync is cancelled before its copy began, its hold given back; once the copy began the cancel is refused (409), the job going on', async () => {
  // Taken its snapshot and its hold, copied nothing yet: cancelled, the node applies again.
  const first = newJob({ id: 'resync-before-copy', node: NODE, kind: 'resync', requestedBy: NODE, source: SOURCE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(first, new Date())).toEqual({ started: true });
  expect(await runJobSlice(deps, NODE, first.id, Date.now() - 1)).toBe('more');
  expect(await store.readProgress(NODE)).toMatchObject({ heldBy: first.id });
  // The copy's first step running as the cancel lands: it copies nothing, and takes no hold again.
  const gated = gatedStore(SOURCE);
  const slice = runJobSlice({ ...deps, store: gated.store }, NODE, first.id, Date.now() + 60_000);
  await gated.reached;
  expect(await cancel(first.id)).toMatchObject({ status: 200, body: { job: { state: 'cancelled', phase: 'bootstrap' } } });
  expect((await store.readProgress(NODE)).heldBy).toBeUndefined();
  gated.release();
  expect(await slice).toBe('superseded');
  expect(await store.readProgress(NODE)).toEqual({ cursor: 0 });
  expect(await jobs.read(NODE, first.id)).toMatchObject({ state: 'cancelled', progress: { copied: 0 } });

  // Its copy began: the store is half-copied, so the cancel is refused, saying why and what to do.
  const second = newJob({ id: 'resync-copying', node: NODE, kind: 'resync', requestedBy: NODE, source: SOURCE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(second, new Date())).toEqual({ started: true });
  for (let slice = 0; slice < 2; slice += 1) expect(await runJobSlice(deps, NODE, second.id, Date.now() - 1)).toBe('more');
  expect(await store.readProgress(NODE)).toMatchObject({ heldBy: second.id, storeIncomplete: true });
  const before = await jobs.read(NODE, second.id);
  const refused = await cancel(second.id);
  expect(refused).toMatchObject({ status: 409, body: { code: 'RESYNC_COPYING', job: { id: second.id, state: 'running' } } });
  expect(refused.body.message).toMatch(
    new RegExp(`^Resync job ${second.id} of node ${NODE} has begun replacing its store .* wait for it to finish \\(geocluster job ${NODE} ${second.id} --wait\\)`),
  );
  expect(await jobs.read(NODE, second.id)).toEqual(before);
  // It goes on to its end: the catch-up and closing reconcile may then be cancelled, the store whole again.
  let job = (await jobs.read(NODE, second.id))!;
  while (job.checkpoint.step !== 'catch-up') {
    expect(await runJobSlice(deps, NODE, second.id, Date.now() - 1)).toBe('more');
    job = (await jobs.read(NODE, second.id))!;
  }
  expect(await cancel(second.id)).toMatchObject({ status: 200, body: { job: { state: 'cancelled' } } });
  expect(await store.readProgress(NODE)).toEqual({ cursor: 0 });
  const after = await startDrift();
  expect(after.status).toBe(202);
  expect(await cancel((after.body.job as Job).id)).toMatchObject({ status: 200 });
  await drainQueue();
});

test("the capture waiting to follow a cancelled job gets the node and its first slice is queued; a waiting capture is not cancelled itself (409), the running job's reconcile relying on it", async () => {
  await drainQueue();
  const started = await startDrift();
  const drift = (started.body.job as Job).id;
  expect(started.status).toBe(202);
  expect((await receiveAll(aws.sqs, aws.queues[NODE]!.queueUrl, 1)).map((message) => message.Body)).toEqual([JSON.stringify({ runJob: drift })]);
  // An upload's capture waiting for the drift check (JobStore.follow), then the check cancelled.
  const capture = newJob({ id: 'waiting-capture', node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.follow(capture, new Date())).toMatchObject({ outcome: 'queued', after: { id: drift } });
  expect(await cancel(drift)).toMatchObject({ status: 200, body: { job: { id: drift, state: 'cancelled' } } });
  expect(await jobs.latest(NODE)).toMatchObject({ id: capture.id, state: 'queued' });
  expect((await receiveAll(aws.sqs, aws.queues[NODE]!.queueUrl, 1)).map((message) => message.Body)).toEqual([JSON.stringify({ runJob: capture.id })]);
  // That capture is the node's job now: a new one is refused until it ends.
  expect(await startDrift()).toMatchObject({ status: 409, body: { code: 'JOB_RUNNING', job: { id: capture.id } } });
  expect(await cancel(capture.id)).toMatchObject({ status: 200, body: { job: { id: capture.id, state: 'cancelled' } } });

  // A capture waiting behind a running job is refused: a reconcile leaves the upload's objects alone only while it waits.
  const next = await startDrift();
  const running = (next.body.job as Job).id;
  const waiting = newJob({ id: 'waiting-capture-2', node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() });
  expect(await jobs.follow(waiting, new Date())).toMatchObject({ outcome: 'queued' });
  const refused = await cancel(waiting.id);
  expect(refused).toMatchObject({ status: 409, body: { code: 'CAPTURE_WAITING', job: { id: waiting.id, state: 'queued' } } });
  expect(refused.body.message).toContain(`cancel job ${running} instead (the capture then starts at once), or cancel this capture once it runs`);
  expect(await jobs.follower(NODE, running)).toMatchObject({ id: waiting.id, state: 'queued' });
  // As it says: the running job cancelled, the capture runs, and may be cancelled then.
  expect(await cancel(running)).toMatchObject({ status: 200 });
  expect(await cancel(waiting.id)).toMatchObject({ status: 200, body: { job: { id: waiting.id, state: 'cancelled' } } });
  expect((await startDrift()).status).toBe(202);
  await drainQueue();
});
