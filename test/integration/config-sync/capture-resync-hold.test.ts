/**
 * A capture or reconcile of a `both` node whose store a resync holds, against DynamoDB Local and
 * the SQS emulator (started by this file), through the StartNodeJob and gateway handlers and the
 * job runner the apply function runs: while the resync copies its snapshot POST capture and
 * reconcile are 409 NODE_HELD_BY_RESYNC (wait for it), as are an upload and any other write
 * through the gateway, before anything reaches the master's GeoServer; a capture queued behind the
 * resync (an upload forwarded just before the resync took the hold) ends failed in its first slice
 * once the resync fails part way, publishing nothing, and then POST capture and reconcile, uploads
 * and other gateway writes are 409 (resync again) with nothing stored, forwarded or queued. A
 * drift check is still started.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { HttpResult } from '../../../lambdas/shared/http';
import { CachedCredentials, HttpGeoServer } from '../../../lambdas/config-sync/adapters/geoserver-http';
import { DynamoEventLog } from '../../../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoJobStore } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { MemoryEventBodyStore } from '../../../lambdas/config-sync/adapters/memory';
import type { ApplyDeps } from '../../../lambdas/config-sync/apply';
import { runJobSlice, type JobRunnerDeps } from '../../../lambdas/config-sync/job-runner';
import { newJob } from '../../../lambdas/config-sync/jobs';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { seedObjects, writeStoredObjects } from '../../support/seed-catalog';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(180_000);

const CLUSTER = 'resync-hold';
const SOURCE = 'gs-source';
const MASTER = 'gs-main';
const NODES = { [SOURCE]: 'master', [MASTER]: 'both' };
const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

type HttpHandler = (event: unknown) => Promise<HttpResult>;

let aws: EmulatedAws;
let geoserver: GeoServerStandIn;
let startJob: HttpHandler;
let gateway: HttpHandler;
const savedEnv = { ...process.env };

beforeAll(async () => {
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: [MASTER] });
  geoserver = await startGeoServerStandIn();
  Object.assign(process.env, aws.environment(CLUSTER, NODES), {
    GEOSERVER_NODES: JSON.stringify({ [MASTER]: geoserver.url }),
    GATEWAY_MASTER_NODE: MASTER,
    GATEWAY_GEOSERVER_URL: geoserver.url,
    // The master node's own credentials, with which the gateway reads a write back (the local
    // runtime's form of its secret).
    GEOSERVER_CREDENTIALS: 'admin:geoserver',
  });
  // Loaded after the environment is set: handlers read it at cold start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (path: string): HttpHandler => (require(path) as { handler: HttpHandler }).handler;
  startJob = load('../../../lambdas/config-sync/handlers/start-node-job');
  gateway = load('../../../lambdas/config-sync/handlers/geoserver-gateway');
}, 120_000);

afterAll(async () => {
  process.env = savedEnv;
  await aws?.stop();
  if (geoserver) {
    expect(geoserver.violations).toEqual([]);
    await geoserver.close();
  }
});

/** POST /nodes/gs-main/<kind>, asked by gs-main. */
async function post(kind: 'capture' | 'reconcile' | 'drift'): Promise<{ status: number | undefined; body: Record<string, unknown> }> {
  const result = await startJob({
    version: '2.0',
    rawPath: `/nodes/${MASTER}/${kind}`,
    headers: {},
    isBase64Encoded: false,
    pathParameters: { node: MASTER },
    requestContext: { http: { method: 'POST' }, authorizer: { lambda: { nodeId: MASTER, role: 'both' } } },
  });
  return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as Record<string, unknown> };
}

/** An upload into a new store of topp through the gateway: the master's answer and what the gateway made of it. */
async function upload(store: string): Promise<{ status: number | undefined; replicated: string | undefined; job: string | undefined; body: Record<string, unknown> }> {
  const result = await gateway({
    version: '2.0',
    rawPath: `/geoserver/rest/workspaces/topp/datastores/${store}/external.shp`,
    rawQueryString: '',
    headers: { authorization: ADMIN, 'content-type': 'text/plain' },
    body: `/srv/gis/${store}.shp`,
    isBase64Encoded: false,
    requestContext: { http: { method: 'PUT', sourceIp: '127.0.0.1' } },
  });
  const headers = (result.headers ?? {}) as Record<string, string>;
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
  return { status: result.statusCode, replicated: headers['x-cluster-replicated'], job: headers['x-cluster-job'], body: body.startsWith('{') ? (JSON.parse(body) as Record<string, unknown>) : {} };
}

/** A write through the gateway other than an upload: a new workspace. */
async function postWorkspace(name: string): Promise<{ status: number | undefined; body: Record<string, unknown> }> {
  const result = await gateway({
    version: '2.0',
    rawPath: '/geoserver/rest/workspaces',
    rawQueryString: '',
    headers: { authorization: ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: { name } }),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', sourceIp: '127.0.0.1' } },
  });
  return { status: result.statusCode, body: JSON.parse(Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8').toString('utf8') || '{}') as Record<string, unknown> };
}

/** The job messages on gs-main's queue (received and left to become visible again). */
async function queued(): Promise<number> {
  const { Messages = [] } = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queues[MASTER]!.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
  return Messages.length;
}

test('a capture or reconcile of a master whose store a resync holds is refused at its start, and one queued behind the resync fails in its first slice once it failed part way, publishing nothing', async () => {
  const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
  const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
  const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
  await writeStoredObjects(aws.dynamo, aws.nodeStoreTable, SOURCE, seedObjects(350, SOURCE), 4);
  await store.finishSnapshot(SOURCE, 0);
  await store.finishSnapshot(MASTER, 0);
  geoserver.catalog.addWorkspace({ name: 'topp' });
  const published: string[] = [];
  const apply: ApplyDeps = { store, log, bodies: new MemoryEventBodyStore(), holeWaitMs: 0 };
  const deps: JobRunnerDeps = {
    cluster: CLUSTER,
    store,
    jobs,
    apply,
    rest: new HttpGeoServer({ url: geoserver.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })) }),
    compareMode: 'both-ways',
    now: () => new Date(),
    publish: async (change) => {
      published.push(`${change.kind} ${change.object.type}/${change.object.id}`);
      return (await log.append({ cluster: CLUSTER, origin: MASTER, publishedAt: new Date().toISOString(), ...change })).sequence;
    },
  };

  // A resync of gs-main from gs-source: its snapshot, then two pages copied into gs-main's store.
  const resync = newJob({ id: 'resync-1', node: MASTER, kind: 'resync', requestedBy: MASTER, source: SOURCE, hasGeoServer: true, now: new Date() });
  expect(await jobs.start(resync, new Date())).toEqual({ started: true });
  for (let slice = 0; slice < 3; slice += 1) expect(await runJobSlice(deps, MASTER, resync.id, Date.now() - 1)).toBe('more');
  expect(await store.readProgress(MASTER)).toEqual({ cursor: 0, heldBy: resync.id, storeIncomplete: true });

  // While it runs: refused, waiting for it named.
  for (const kind of ['capture', 'reconcile'] as const) {
    const refused = await post(kind);
    expect(refused).toMatchObject({ status: 409, body: { code: 'NODE_HELD_BY_RESYNC', resync: { job: resync.id, state: 'running' } } });
    expect(refused.body.message).toContain(`wait for that resync to finish, then ${kind} again`);
  }
  // An upload, or any other write, through the gateway: refused before the master's GeoServer
  // sees it (the upload's capture would compare it with the half-copied store), nothing published.
  const sent = geoserver.requests.length;
  const logged = await log.head(CLUSTER);
  const refusedUpload = await upload('roads');
  expect(refusedUpload).toMatchObject({ status: 409, replicated: undefined, job: undefined, body: { code: 'NODE_HELD_BY_RESYNC', resync: { job: resync.id, state: 'running' } } });
  expect(refusedUpload.body.message).toMatch(new RegExp(`^The gateway's master ${MASTER} is held by resync job ${resync.id}.*wait for that resync to finish, then send the request again$`));
  const refusedWrite = await postWorkspace('sf');
  expect(refusedWrite).toMatchObject({ status: 409, body: { code: 'NODE_HELD_BY_RESYNC', resync: { job: resync.id, state: 'running' } } });
  expect(geoserver.requests.length).toBe(sent);
  expect(geoserver.catalog.get('dataStore', 'topp:roads')).toBeUndefined();
  expect(geoserver.catalog.get('workspace', 'sf')).toBeUndefined();
  expect(await log.head(CLUSTER)).toBe(logged);
  expect(await jobs.latest(MASTER)).toMatchObject({ id: resync.id });
  expect(await queued()).toBe(0);

  // A capture an upload forwarded just before the resync took the hold asked for: it waits for the resync.
  const capture = newJob({ id: 'upload-capture', node: MASTER, kind: 'capture', requestedBy: MASTER, hasGeoServer: true, now: new Date() });
  expect(await jobs.follow(capture, new Date())).toMatchObject({ outcome: 'queued', after: { id: resync.id } });

  // The source's store cannot be read: the resync fails part way, the master's store half-copied,
  // and its final save hands the node to the waiting capture.
  const unreadable = Object.assign(Object.create(store) as DynamoNodeStore, { listObjects: () => Promise.reject(new Error('source unreadable')) });
  expect(await runJobSlice({ ...deps, store: unreadable }, MASTER, resync.id, Date.now() - 1)).toBe('done');
  expect(await jobs.read(MASTER, resync.id)).toMatchObject({ state: 'failed', error: 'Error: source unreadable', progress: { copied: 200 } });
  expect(await jobs.successor(MASTER, resync.id)).toMatchObject({ id: capture.id });

  // The capture's first slice: failed, naming the resync. Compared with the half-copied store,
  // it would have published what the GeoServer holds that the copy had not reached as added.
  const head = await log.head(CLUSTER);
  let outcome = 'more';
  for (let slice = 0; slice < 20 && outcome === 'more'; slice += 1) outcome = await runJobSlice(deps, MASTER, capture.id, Date.now() - 1);
  expect(outcome).toBe('done');
  expect(published).toEqual([]);
  expect(await log.head(CLUSTER)).toBe(head);
  const ended = (await jobs.read(MASTER, capture.id))!;
  expect(ended).toMatchObject({ state: 'failed', progress: { compared: 0, published: 0 } });
  expect(ended.error).toMatch(new RegExp(`^NODE_HELD_BY_RESYNC: Node ${MASTER}'s store is held by resync job ${resync.id}.*stopped part way \\(Error: source unreadable\\); resync the node again`));

  // Now the store is left half-copied: refused, asking for a resync; nothing stored or queued.
  for (const kind of ['capture', 'reconcile'] as const) {
    const refused = await post(kind);
    expect(refused).toMatchObject({ status: 409, body: { code: 'NODE_HELD_BY_RESYNC', resync: { job: resync.id, state: 'incomplete', storeIncomplete: true } } });
    expect(refused.body.message).toContain(`resync the node again (POST /nodes/${MASTER}/resync, geocluster resync ${MASTER}) and ${kind} once it has finished`);
  }
  // An upload or other write through the gateway: refused, asking for a resync; nothing sent to
  // the master's GeoServer, published, stored or queued.
  const sentAfter = geoserver.requests.length;
  const refusedAfter = await upload('rivers');
  expect(refusedAfter).toMatchObject({ status: 409, replicated: undefined, job: undefined, body: { code: 'NODE_HELD_BY_RESYNC', resync: { job: resync.id, state: 'incomplete', storeIncomplete: true } } });
  expect(refusedAfter.body.message).toContain(
    `stopped part way (Error: source unreadable); resync the node again (POST /nodes/${MASTER}/resync, geocluster resync ${MASTER}) and send the request once it has finished`,
  );
  expect(await postWorkspace('sf')).toMatchObject({ status: 409, body: { code: 'NODE_HELD_BY_RESYNC', resync: { job: resync.id, state: 'incomplete' } } });
  expect(geoserver.requests.length).toBe(sentAfter);
  expect(geoserver.catalog.get('dataStore', 'topp:rivers')).toBeUndefined();
  expect(geoserver.catalog.get('workspace', 'sf')).toBeUndefined();
  expect(await log.head(CLUSTER)).toBe(head);
  expect((await jobs.latest(MASTER))?.id).toBe(capture.id);
  expect(await queued()).toBe(0);

  // A drift check writes nothing: it is started.
  const drift = await post('drift');
  expect(drift).toMatchObject({ status: 202, body: { job: { kind: 'drift', state: 'queued' } } });
  expect(await store.readProgress(MASTER)).toEqual({ cursor: 0, heldBy: resync.id, storeIncomplete: true });
});
