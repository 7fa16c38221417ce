/**
 * The log lines of a GeoServer node's job path, invoked as the apply function runs it (a job's
 * message in a batch) against freshly started emulators, with Powertools writing its lines as a
 * deployed function does: every line the job's slice causes carries the node and the
 * invocation's request id, as the batch's own lines do, the warnings of the stores the job path
 * builds (job-slices.ts) among them.
 *
 * The resync's source is a slave whose queue nobody drains here: its cursor stays behind the
 * log, so the catch-up reads the log, where an allocation nobody wrote (a publisher that died)
 * is an old hole, which the catch-up closes as void, with a warning.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { HttpResult } from '../../../lambdas/shared/http';
import { DynamoJobStore } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { applyInProcess, jobMessage, nodePost } from './apply-in-process';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(120_000);

const CLUSTER = 'job-path-logs';
const MASTER = 'master-1';
const SOURCE = 'slave-1';
const GEOSERVER_NODE = 'gs-1';
const NODES = { [MASTER]: 'master', [SOURCE]: 'slave', [GEOSERVER_NODE]: 'slave' };

type HttpHandler = (event: unknown, context?: unknown) => Promise<HttpResult>;
type ApplyHandler = (event: SQSEvent, context?: Partial<Context>) => Promise<SQSBatchResponse>;

let aws: EmulatedAws;
let geoserver: GeoServerStandIn;
let publish: HttpHandler;
let resync: HttpHandler;
let applyOnGeoServerNode: ApplyHandler;
let jobs: DynamoJobStore;
/** The key of the event log's head item. */
let headSequence: number;
const savedEnv = { ...process.env };
/** The JSON log lines the functions wrote. */
const logged: Record<string, any>[] = [];

beforeAll(async () => {
  geoserver = await startGeoServerStandIn();
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: [SOURCE, GEOSERVER_NODE] });
  Object.assign(process.env, aws.environment(CLUSTER, NODES), {
    GEOSERVER_NODES: JSON.stringify({ [GEOSERVER_NODE]: geoserver.url }),
    POWERTOOLS_SERVICE_NAME: CLUSTER,
    // Warnings and errors written, as a deployed function writes them (the test setup silences them).
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
  /* eslint-disable @typescript-eslint/no-require-imports */
  // Required once the log level is set: the logger reads it when its module loads.
  headSequence = (require('../../../lambdas/config-sync/adapters/dynamo-event-log') as typeof import('../../../lambdas/config-sync/adapters/dynamo-event-log')).HEAD_SEQUENCE;
  jest.isolateModules(() => {
    publish = (require('../../../lambdas/config-sync/handlers/publish-event') as { handler: HttpHandler }).handler;
    resync = (require('../../../lambdas/config-sync/handlers/resync-node') as { handler: HttpHandler }).handler;
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
  // The apply function's, as its node's (apply-in-process.ts).
  applyOnGeoServerNode = applyInProcess({ NODE_NAME: GEOSERVER_NODE, GEOSERVER_URL: geoserver.url, GEOSERVER_CREDENTIALS: 'admin:geoserver' });
  // Powertools writes warnings and errors to stderr, the rest to stdout.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const lines = String(chunk).split('\n').filter((line) => line.startsWith('{') && line.includes('"message"'));
      for (const line of lines) logged.push(JSON.parse(line) as Record<string, any>);
      return lines.length > 0 ? true : write(chunk, ...(rest as []));
    });
  }
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


/** The part of a Lambda context the logger puts on every line, and the remaining time a slice reads. */
const lambdaContext = (requestId: string): Partial<Context> => ({
  awsRequestId: requestId,
  functionName: `${CLUSTER}-apply-${GEOSERVER_NODE}`,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${CLUSTER}-apply-${GEOSERVER_NODE}`,
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 120_000,
});

test("the warnings of a resync's catch-up (a hole of the log closed as void) carry the node and the request id, as the batch's lines do", async () => {
  const created = await publish(http(MASTER, {}, { kind: 'add', object: { type: 'workspace', id: 'logs-a' }, properties: { name: 'logs-a' } }));
  expect(created.statusCode).toBe(201);
  const sequence = bodyOf(created).sequence as number;
  // Two sequences allocated a minute ago by a publisher that died before writing them.
  await aws.dynamo.send(
    new UpdateItemCommand({
      TableName: aws.eventLogTable,
      Key: { cluster: { S: CLUSTER }, sequence: { N: String(headSequence) } },
      UpdateExpression: 'SET #head = :head, #allocatedAt = :at',
      ExpressionAttributeNames: { '#head': 'head', '#allocatedAt': 'allocatedAt' },
      ExpressionAttributeValues: { ':head': { N: String(sequence + 2) }, ':at': { N: String(Date.now() - 60_000) } },
    }),
  );
  const started = await resync(http(MASTER, { node: GEOSERVER_NODE }, { source: SOURCE }));
  expect(started.statusCode).toBe(202);
  const id = bodyOf(started).job.id as string;

  expect(await applyOnGeoServerNode(jobMessage(id), lambdaContext('request-1'))).toEqual({ batchItemFailures: [] });
  expect(await jobs.read(GEOSERVER_NODE, id)).toMatchObject({ state: 'succeeded' });
  const closed = logged.filter((line) => line.message === 'event log hole closed as void');
  expect(closed).toEqual([expect.objectContaining({ from: sequence + 1, to: sequence + 2 })]);
  expect(closed[0]).toMatchObject({ node: GEOSERVER_NODE, function_request_id: 'request-1' });
});
