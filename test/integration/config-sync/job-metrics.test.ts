/**
 * The metrics of the events a resync's catch-up applies, invoked as the functions run it (the
 * apply function handed the job's message, ResyncNode a pure master's request) against freshly
 * started emulators, with Powertools writing its embedded-metric-format lines as a deployed
 * function does: they count in the node's `EventsApplied`, with the same dimensions as a
 * batch's, the ones committed before a slice stopped part way too, and each once.
 *
 * The resyncs' source is a slave whose queue nobody drains here: its cursor stays behind the
 * log, so its snapshot is older than the events published, which the catch-up applies from the log.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { HttpResult } from '../../../lambdas/shared/http';
import { DynamoJobStore } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { applyInProcess, jobMessage, nodePost } from './apply-in-process';
import { receiveAll, startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(120_000);

const CLUSTER = 'job-metrics';
const MASTER = 'master-1';
const SOURCE = 'slave-1';
const GEOSERVER_NODE = 'gs-1';
const NODES = { [MASTER]: 'master', [SOURCE]: 'slave', [GEOSERVER_NODE]: 'slave' };

type HttpHandler = (event: unknown, context?: unknown) => Promise<HttpResult>;

let aws: EmulatedAws;
let geoserver: GeoServerStandIn;
let publish: HttpHandler;
let resync: HttpHandler;
let applyOnGeoServerNode: (event: SQSEvent) => Promise<SQSBatchResponse>;
let catchUpMasterStores: (event: SQSEvent) => Promise<void>;
let jobs: DynamoJobStore;
const savedEnv = { ...process.env };
/** The embedded-metric-format lines the functions wrote. */
const emf: Record<string, any>[] = [];

beforeAll(async () => {
  geoserver = await startGeoServerStandIn();
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: [SOURCE, GEOSERVER_NODE, 'master-stores'] });
  Object.assign(process.env, aws.environment(CLUSTER, NODES), {
    GEOSERVER_NODES: JSON.stringify({ [GEOSERVER_NODE]: geoserver.url }),
    POWERTOOLS_SERVICE_NAME: CLUSTER,
    POWERTOOLS_METRICS_NAMESPACE: 'GeoServerCluster',
  });
  // Metrics written, as a deployed function writes them (the test setup turns them off).
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
  // Loaded after the environment is set: handlers read it at cold start; the apply function's as its node's.
  /* eslint-disable @typescript-eslint/no-require-imports */
  jest.isolateModules(() => {
    publish = (require('../../../lambdas/config-sync/handlers/publish-event') as { handler: HttpHandler }).handler;
    resync = (require('../../../lambdas/config-sync/handlers/resync-node') as { handler: HttpHandler }).handler;
    catchUpMasterStores = (require('../../../lambdas/config-sync/handlers/catch-up-master-stores') as { handler: typeof catchUpMasterStores }).handler;
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
  // The apply function's, as its node's (apply-in-process.ts).
  applyOnGeoServerNode = applyInProcess({ NODE_NAME: GEOSERVER_NODE, GEOSERVER_URL: geoserver.url, GEOSERVER_CREDENTIALS: 'admin:geoserver' });
  const write = process.stdout.write.bind(process.stdout);
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const lines = String(chunk).split('\n').filter((line) => line.startsWith('{"_aws"'));
    for (const line of lines) emf.push(JSON.parse(line) as Record<string, any>);
    return lines.length > 0 ? true : write(chunk, ...(rest as []));
  });
}, 120_000);

afterAll(async () => {
  jest.restoreAllMocks();
  process.env = savedEnv;
  await aws?.stop();
  if (geoserver) {
    expect(geoserver.violations).toEqual([]);
    await geoserver.close();
  }
});

const http = (node: string, path: Record<string, string>, body?: unknown) => nodePost(NODES, node, path, body);

const bodyOf = (result: HttpResult) => JSON.parse(result.body ?? '{}') as Record<string, any>;

async function publishWorkspaces(names: readonly string[]): Promise<void> {
  for (const name of names) {
    const created = await publish(http(MASTER, {}, { kind: 'add', object: { type: 'workspace', id: name }, properties: { name } }));
    expect(created.statusCode).toBe(201);
  }
}

/**
 * The node's `EventsApplied` values the functions wrote so far, each line's dimensions with it
 * (a line holds every value one invocation recorded: a job's message comes in a batch, whose
 * own count of events is 0 beside the slice's).
 */
function eventsApplied(node: string): { value: number; dimensions: string[][] }[] {
  return emf
    .filter((line) => line.node === node && line.EventsApplied !== undefined)
    .flatMap((line) => [line.EventsApplied as number | number[]].flat().map((value) => ({ value, dimensions: line._aws.CloudWatchMetrics[0].Dimensions as string[][] })));
}

const sum = (values: readonly { value: number }[]) => values.reduce((total, { value }) => total + value, 0);


test("a GeoServer node's resync counts the events its catch-up applies in EventsApplied as a batch's, those before a stop part way too, each once", async () => {
  const names = ['metrics-a', 'metrics-b', 'metrics-c'];
  await publishWorkspaces(names);
  // The GeoServer cannot take the last one, once: the slice stops part way, to be delivered again.
  geoserver.rejectNext(
    (request) => request.method === 'POST' && request.path.endsWith('/rest/workspaces') && request.body.toString('utf8').includes('"metrics-c"'),
    503,
    'Service Unavailable',
  );
  const started = await resync(http(MASTER, { node: GEOSERVER_NODE }, { source: SOURCE }));
  expect(started.statusCode).toBe(202);
  const id = bodyOf(started).job.id as string;

  const first = await applyOnGeoServerNode(jobMessage(id, 1));
  expect(first.batchItemFailures).toEqual([{ itemIdentifier: `job-${id}-1` }]);
  const stopped = await jobs.read(GEOSERVER_NODE, id);
  expect(stopped).toMatchObject({ state: 'running', resync: { snapshotSequence: 0, appliedFromLog: 2 } });
  expect(sum(eventsApplied(GEOSERVER_NODE))).toBe(2);

  // Delivered again: the slice goes on from the node's cursor, counting only what it applies now.
  expect(await applyOnGeoServerNode(jobMessage(id, 2))).toEqual({ batchItemFailures: [] });
  const ended = await jobs.read(GEOSERVER_NODE, id);
  expect(ended).toMatchObject({ state: 'succeeded', resync: { snapshotSequence: 0, appliedFromLog: names.length } });
  const values = eventsApplied(GEOSERVER_NODE);
  expect(sum(values)).toBe(names.length);
  // The dimensions of every per-node metric of the apply function, a batch's EventsApplied among them.
  for (const { dimensions } of values) expect(dimensions).toEqual([['service', 'node']]);
});

test("a pure master's resync, run within its requests, counts the events its catch-up applies in the master's EventsApplied", async () => {
  await publishWorkspaces(['master-metrics-a', 'master-metrics-b']);
  const before = sum(eventsApplied(MASTER));
  const answers: HttpResult[] = [];
  do answers.push(await resync(http(MASTER, { node: MASTER }, { source: SOURCE })));
  while (answers.length < 20 && answers[answers.length - 1]!.statusCode === 202);
  const done = bodyOf(answers[answers.length - 1]!);
  expect(done).toMatchObject({ node: MASTER, source: SOURCE, snapshotSequence: 0, job: { state: 'succeeded' } });
  // The source's snapshot holds nothing: every event of the log came from it.
  expect(done.appliedFromLog).toBe(done.sequence);
  expect(done.appliedFromLog).toBeGreaterThanOrEqual(2);
  const values = eventsApplied(MASTER);
  expect(sum(values) - before).toBe(done.appliedFromLog);
  // As the apply function's: the cluster and the node.
  for (const { dimensions } of values) expect(dimensions).toEqual([['service', 'node']]);
});

test("a pure master's store, caught up by the master-stores queue, counts the events in the master's EventsApplied, each once", async () => {
  const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
  await publishWorkspaces(['queued-metrics-a', 'queued-metrics-b']);
  const cursorBefore = await store.readCursor(MASTER);
  const before = sum(eventsApplied(MASTER));
  // Every event the topic carried so far, as the queue's event source hands them over (a batch of up to 10).
  const head = bodyOf(await publish(http(MASTER, {}, { kind: 'add', object: { type: 'workspace', id: 'queued-metrics-c' }, properties: { name: 'queued-metrics-c' } }))).sequence as number;
  const messages = await receiveAll(aws.sqs, aws.queues['master-stores']!.queueUrl, head);
  expect(messages.length).toBeGreaterThanOrEqual(3);
  const batch: SQSEvent = {
    Records: messages.slice(-10).map((message) => ({ ...jobMessage(message.MessageId!, 1).Records[0]!, messageId: message.MessageId!, body: message.Body! })),
  };
  await catchUpMasterStores(batch);
  expect(await store.readCursor(MASTER)).toBe(head);
  const values = eventsApplied(MASTER);
  expect(sum(values) - before).toBe(head - cursorBefore);
  for (const { dimensions } of values) expect(dimensions).toEqual([['service', 'node']]);
  // Delivered again (a retried batch): nothing applied, nothing counted.
  await catchUpMasterStores(batch);
  expect(sum(eventsApplied(MASTER)) - before).toBe(head - cursorBefore);
});
