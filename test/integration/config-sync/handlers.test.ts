// The config-sync Lambda handlers, invoked directly with API Gateway / SQS / EventBridge events
// and the environment the CDK construct gives them, against freshly started emulators. (The
// end-to-end scenarios over HTTP and the local runtime live elsewhere.)
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { HttpResult } from '../../../lambdas/shared/http';
import { DynamoEventLog } from '../../../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoJobStore } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoNodePauses } from '../../../lambdas/config-sync/adapters/dynamo-node-pauses';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { JOB_RETENTION_MS, jobRunningMessage } from '../../../lambdas/config-sync/jobs';
import { retryParkedMessage } from '../../../lambdas/config-sync/geoserver/invocation';
import { receiveAll, startEmulatedAws, type EmulatedAws } from './emulated-aws';
import { sqsEvent } from '../../support/sqs-event';

jest.setTimeout(120_000);

const CLUSTER = 'handlers';
const NODES = { 'master-1': 'master', 'master-2': 'both', 'slave-1': 'slave', 'slave-2': 'slave' };

type HttpHandler = (event: unknown, context?: unknown) => Promise<HttpResult>;
interface Handlers {
  publish: HttpHandler;
  listNodes: HttpHandler;
  catalog: HttpHandler;
  catalogObject: HttpHandler;
  resync: HttpHandler;
  redrive: HttpHandler;
  readJobs: HttpHandler;
  republish: (event: { time?: string }) => Promise<{ republished: number; caughtUp: Record<string, number> }>;
  catchUpMasterStores: (event: SQSEvent) => Promise<void>;
  apply: (node: string) => Promise<ApplyHandler>;
}
/** A node's apply function, with the DynamoDB client class of its own module registry (whose `send` a test may count). */
type ApplyHandler = ((event: SQSEvent) => Promise<SQSBatchResponse>) & { readonly dynamoClient: typeof DynamoDBClient };

let aws: EmulatedAws;
let handlers: Handlers;
const savedEnv = { ...process.env };

beforeAll(async () => {
  // master-stores: the queue of every event that a cluster with a pure master has (CatchUpMasterStores).
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: ['master-2', 'slave-1', 'slave-2', 'master-stores'] });
  Object.assign(process.env, aws.environment(CLUSTER, NODES));
  // Loaded after the environment is set: handlers read it at cold start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = <T>(path: string): T => (require(path) as { handler: T }).handler;
  handlers = {
    publish: load('../../../lambdas/config-sync/handlers/publish-event'),
    listNodes: load('../../../lambdas/config-sync/handlers/list-nodes'),
    catalog: load('../../../lambdas/config-sync/handlers/get-catalog'),
    catalogObject: load('../../../lambdas/config-sync/handlers/get-catalog-object'),
    resync: load('../../../lambdas/config-sync/handlers/resync-node'),
    redrive: load('../../../lambdas/config-sync/handlers/redrive-node'),
    readJobs: load('../../../lambdas/config-sync/handlers/read-node-jobs'),
    republish: load('../../../lambdas/config-sync/handlers/republish-pending'),
    catchUpMasterStores: load('../../../lambdas/config-sync/handlers/catch-up-master-stores'),
    // NODE_NAME is read at cold start: one module instance per node.
    apply: async (node) => {
      let handler: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;
      let dynamoClient: typeof DynamoDBClient | undefined;
      process.env.NODE_NAME = node;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        handler = (require('../../../lambdas/config-sync/handlers/apply-events') as { handler: typeof handler }).handler;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        dynamoClient = (require('@aws-sdk/client-dynamodb') as { DynamoDBClient: typeof DynamoDBClient }).DynamoDBClient;
      });
      delete process.env.NODE_NAME;
      if (!handler || !dynamoClient) throw new Error('apply handler not loaded');
      const loaded = handler;
      // Its job path reads the environment when the first job record comes (job-slices.ts): the
      // node's, as in Lambda, for the whole call.
      const apply = async (event: SQSEvent) => {
        process.env.NODE_NAME = node;
        try {
          return await loaded(event);
        } finally {
          delete process.env.NODE_NAME;
        }
      };
      return Object.assign(apply, { dynamoClient });
    },
  };
});

afterAll(async () => {
  process.env = savedEnv;
  await aws?.stop();
});

function http(options: {
  node?: string;
  body?: unknown;
  contentType?: string;
  path?: Record<string, string>;
  query?: Record<string, string>;
}): unknown {
  const role = options.node === undefined ? undefined : (NODES as Record<string, string>)[options.node] ?? 'master';
  return {
    version: '2.0',
    headers: options.contentType === undefined ? {} : { 'content-type': options.contentType },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    isBase64Encoded: false,
    pathParameters: options.path,
    queryStringParameters: options.query,
    requestContext: {
      http: { method: 'POST' },
      ...(options.node === undefined ? {} : { authorizer: { lambda: { nodeId: options.node, role } } }),
    },
  };
}

function body(result: HttpResult): Record<string, unknown> {
  return JSON.parse(result.body ?? '{}') as Record<string, unknown>;
}

const publishAs = (node: string, change: unknown) =>
  handlers.publish(http({ node, body: change, contentType: 'application/json' }));

function drain(node: string, expected: number): Promise<Message[]> {
  return receiveAll(aws.sqs, aws.queues[node]?.queueUrl as string, expected);
}

const eventLog = () => new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });

/** The master-stores queue's `count` new messages handed to CatchUpMasterStores, as its event source would. */
async function deliverToMasterStores(count: number): Promise<void> {
  await handlers.catchUpMasterStores(sqsEvent(await drain('master-stores', count)));
}


describe('POST /config/events', () => {
  test('refuses pure slaves, undeclared nodes, non-JSON, bad fields and oversized bodies, writing nothing', async () => {
    const slave = await publishAs('slave-1', { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: {} });
    expect(slave.statusCode).toBe(403);
    expect(body(slave)).toMatchObject({ code: 'PURE_SLAVE' });
    expect(body(slave).message).toMatch(/pure slave/);

    expect((await publishAs('ghost', { kind: 'remove', object: { type: 'workspace', id: 'x' } })).statusCode).toBe(403);
    expect((await handlers.publish(http({ body: '{}', contentType: 'application/json' }))).statusCode).toBe(401);
    expect((await handlers.publish(http({ node: 'master-1', body: 'kind=add', contentType: 'text/plain' }))).statusCode).toBe(415);

    const invalid = await publishAs('master-1', { kind: 'add', object: { type: 'workspace', id: 'a b' }, properties: {} });
    expect(invalid.statusCode).toBe(400);
    expect(body(invalid)).toMatchObject({ code: 'INVALID_REQUEST', field: 'object.id' });

    const huge = 'x'.repeat(1024 * 1024 + 1);
    const tooLarge = await publishAs('master-1', { kind: 'add', object: { type: 'style', id: 'huge' }, properties: { format: 'sld', body: huge } });
    expect(tooLarge.statusCode).toBe(413);

    const list = body(await handlers.listNodes(http({ node: 'slave-1' })));
    expect(list.head).toBe(0);
  });

  test('a master change is logged, published and applied locally; slaves apply it from their queue', async () => {
    const created = await publishAs('master-1', { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } });
    expect(created.statusCode).toBe(201);
    // A pure master's store is left to the master-stores queue.
    expect(body(created)).toMatchObject({ sequence: 1, published: true, appliedLocally: false, event: { sequence: 1, origin: 'master-1' } });
    const style = { kind: 'add', object: { type: 'style', id: 'topp:big' }, properties: { format: 'sld', body: `<sld>${'x'.repeat(300 * 1024)}</sld>` } };
    const large = await publishAs('master-2', style);
    expect(large.statusCode).toBe(201);
    // master-2, a `both` node, applies its own event on the request only when its store is
    // right before it; event 1 is not applied there yet, so its queue brings both.
    expect(body(large)).toMatchObject({ sequence: 2, published: true, appliedLocally: false });
    expect(body(large).event).toHaveProperty('bodyRef');

    // master-2's queue delivers every event, its own too.
    const applyMaster2 = await handlers.apply('master-2');
    const toMaster2 = await drain('master-2', 2);
    expect(toMaster2.map((message) => (JSON.parse(message.Body ?? '') as { sequence: number }).sequence)).toEqual([1, 2]);
    expect(await applyMaster2(sqsEvent(toMaster2))).toEqual({ batchItemFailures: [] });

    const applySlave = await handlers.apply('slave-1');
    const messages = await drain('slave-1', 2);
    expect(messages).toHaveLength(2);
    expect(await applySlave(sqsEvent(messages))).toEqual({ batchItemFailures: [] });

    const object = await handlers.catalogObject(http({ node: 'slave-1', path: { node: 'slave-1', type: 'style', id: 'topp:big' } }));
    expect(object.statusCode).toBe(200);
    expect(body(object)).toMatchObject({ type: 'style', id: 'topp:big', lastSequence: 2, lastOrigin: 'master-2', properties: style.properties });

    const nodes = body(await handlers.listNodes(http({ node: 'slave-1' })));
    expect(nodes.head).toBe(2);
    expect(nodes.nodes).toEqual([
      { name: 'master-1', role: 'master', lastAppliedSequence: 0, lag: 2, queueDepth: null, deadLetterDepth: null, failing: null, parked: [], paused: false, resync: null, job: null },
      { name: 'master-2', role: 'both', lastAppliedSequence: 2, lag: 0, queueDepth: expect.any(Number), deadLetterDepth: 0, failing: null, parked: [], paused: false, resync: null, job: null },
      { name: 'slave-1', role: 'slave', lastAppliedSequence: 2, lag: 0, queueDepth: expect.any(Number), deadLetterDepth: 0, failing: null, parked: [], paused: false, resync: null, job: null },
      { name: 'slave-2', role: 'slave', lastAppliedSequence: 0, lag: 2, queueDepth: 2, deadLetterDepth: 0, failing: null, parked: [], paused: false, resync: null, job: null },
    ]);

    // A resync that left slave-2's store half-copied (its job record gone here): held, and
    // GET /nodes says so, with why and the request that resumes it.
    await new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo }).holdForResync('slave-2', 'lost-resync', Date.now() - 1, true);
    const held = body(await handlers.listNodes(http({ node: 'slave-1' })));
    expect((held.nodes as { name: string; resync: unknown }[]).find((node) => node.name === 'slave-2')?.resync).toEqual({
      job: 'lost-resync',
      state: 'incomplete',
      storeIncomplete: true,
      error: 'resync job lost-resync is gone',
      resume: 'POST /nodes/slave-2/resync',
    });
    await new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo }).finishSnapshot('slave-2', 0);

    // Nothing delivered to the master-stores queue yet: both events still look unpublished to
    // the log. Its consumer applies them to the pure master's store and marks them published.
    expect((await eventLog().listUnpublished(CLUSTER, 10)).map((event) => event.sequence)).toEqual([1, 2]);
    await deliverToMasterStores(2);
    expect(await eventLog().listUnpublished(CLUSTER, 10)).toEqual([]);
    const caughtUp = body(await handlers.listNodes(http({ node: 'slave-1' })));
    expect((caughtUp.nodes as { name: string }[]).find((node) => node.name === 'master-1')).toMatchObject({ lastAppliedSequence: 2, lag: 0 });
    // The schedule finds nothing left to send or apply.
    const run = await handlers.republish({ time: new Date().toISOString() });
    expect(run).toMatchObject({ republished: 0, caughtUp: { 'master-1': 0 } });
  });

  test("a message that is no event of the cluster goes to the node's dead-letter queue at once, and the later messages of its batch are applied", async () => {
    await publishAs('master-1', { kind: 'add', object: { type: 'namespace', id: 'topp' }, properties: { uri: 'http://topp' } });
    const messages = await drain('slave-1', 1);
    expect(messages).toHaveLength(1);
    const poison: Message = {
      MessageId: 'poison-1',
      ReceiptHandle: 'poison-1',
      Body: '{"not":"an event"}',
      MessageAttributes: { origin: { DataType: 'String', StringValue: 'intruder' } },
    };
    const event = sqsEvent([poison, ...messages]);
    const response = await (await handlers.apply('slave-1'))(event);
    // Nothing is retried: the poison message is set aside, the event after it applied.
    expect(response.batchItemFailures).toEqual([]);
    const sequence = (JSON.parse(messages[0]?.Body ?? '{}') as { sequence: number }).sequence;
    const nodes = body(await handlers.listNodes(http({ node: 'slave-1' }))).nodes as { name: string; lastAppliedSequence: number }[];
    expect(nodes.find((node) => node.name === 'slave-1')?.lastAppliedSequence).toBe(sequence);
    const deadLetters = await receiveAll(aws.sqs, aws.queues['slave-1']?.deadLetterQueueUrl as string, 1);
    expect(deadLetters.map((message) => [message.Body, message.MessageAttributes?.origin?.StringValue])).toEqual([['{"not":"an event"}', 'intruder']]);
    await deliverToMasterStores(1);
  });
});

describe('catalog', () => {
  test('lists with type filter and paging; 404 for unknown nodes and objects; 400 for bad parameters', async () => {
    const page = await handlers.catalog(http({ node: 'slave-1', path: { node: 'master-1' }, query: { limit: '1' } }));
    expect(page.statusCode).toBe(200);
    const first = body(page);
    expect(first).toMatchObject({ node: 'master-1', cursor: 3, next: 'namespace/topp' });
    expect((first.objects as unknown[]).length).toBe(1);
    const rest = body(await handlers.catalog(http({ node: 'slave-1', path: { node: 'master-1' }, query: { limit: '10', next: 'namespace/topp' } })));
    expect((rest.objects as { id: string }[]).map((object) => object.id)).toEqual(['topp:big', 'topp']);
    expect(rest.next).toBeUndefined();
    const styles = body(await handlers.catalog(http({ node: 'slave-1', path: { node: 'master-1' }, query: { type: 'style' } })));
    expect((styles.objects as { id: string }[]).map((object) => object.id)).toEqual(['topp:big']);

    expect(body(await handlers.catalog(http({ node: 'slave-1', path: { node: 'nobody' } })))).toMatchObject({ code: 'NODE_NOT_FOUND' });
    expect((await handlers.catalog(http({ node: 'slave-1', path: { node: 'master-1' }, query: { type: 'bogus' } }))).statusCode).toBe(400);
    expect((await handlers.catalog(http({ node: 'slave-1', path: { node: 'master-1' }, query: { limit: '0' } }))).statusCode).toBe(400);
    const missing = await handlers.catalogObject(http({ node: 'slave-1', path: { node: 'master-1', type: 'layer', id: 'topp:none' } }));
    expect(missing.statusCode).toBe(404);
    expect(body(missing)).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    // Ids short in characters but long in UTF-8 bytes, longer than any store key: not found, not a store error.
    const tooLong = await handlers.catalogObject(http({ node: 'slave-1', path: { node: 'master-1', type: 'workspace', id: 'é'.repeat(512) } }));
    expect([tooLong.statusCode, body(tooLong).code]).toEqual([404, 'OBJECT_NOT_FOUND']);
    const tooLongNext = await handlers.catalog(http({ node: 'slave-1', path: { node: 'master-1' }, query: { type: 'workspace', next: `workspace/${'é'.repeat(512)}` } }));
    expect(tooLongNext.statusCode).toBe(400);
    // A `next` no page of this listing hands out is refused, not taken as "start over" (page one again).
    for (const [query, message] of [
      [{ type: 'workspace', next: 'style/topp:big' }, /with type=workspace it is the key `workspace\/<id>` of a workspace, not of a style/],
      [{ next: 'zz/topp' }, /"zz" is no object type/],
      [{ type: 'style', next: 'style/a/b' }, /of a style, whose id must be "name" or "workspace:name"/],
    ] as const) {
      const refused = await handlers.catalog(http({ node: 'slave-1', path: { node: 'master-1' }, query }));
      expect([refused.statusCode, body(refused)]).toEqual([400, expect.objectContaining({ code: 'INVALID_REQUEST', field: 'next' })]);
      expect(body(refused).message).toMatch(message);
    }

    await publishAs('master-1', { kind: 'remove', object: { type: 'namespace', id: 'topp' } });
    await deliverToMasterStores(1);
    const tombstone = await handlers.catalogObject(http({ node: 'slave-1', path: { node: 'master-1', type: 'namespace', id: 'topp' } }));
    expect(tombstone.statusCode).toBe(404);
  });

  test('the nodes and their catalogs are read with a token only: each function fails closed without the authorizer\'s caller', async () => {
    for (const answer of [
      await handlers.listNodes(http({})),
      await handlers.catalog(http({ path: { node: 'master-1' } })),
      await handlers.catalogObject(http({ path: { node: 'master-1', type: 'workspace', id: 'topp' } })),
    ]) {
      expect([answer.statusCode, body(answer).code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });
});

/**
 * Hands the job's message to the node's apply function, as its queue would deliver it (the
 * queue itself is behind earlier tests' undeleted messages here; the scenarios over the local
 * runtime deliver job messages through the queue).
 */
async function runJob(node: string, id: string): Promise<void> {
  const apply = await handlers.apply(node);
  const message: Message = { MessageId: `job-${id}`, ReceiptHandle: `job-${id}`, Body: JSON.stringify({ runJob: id }), Attributes: { ApproximateReceiveCount: '1' } };
  expect(await apply(sqsEvent([message]))).toEqual({ batchItemFailures: [] });
}

const jobs = {
  read: (node: string, id: string) => new DynamoJobStore(process.env.NODE_STORE_TABLE_NAME!, new DynamoDBClient({})).read(node, id),
};

describe('drift report', () => {
  test('a node with no check yet answers 404 saying how to start one', async () => {
    // "drift check of node master-2 does not exist" left the caller to guess what to do.
    const result = await handlers.readJobs(http({ node: 'master-1', path: { node: 'master-2' } }));
    expect(result.statusCode).toBe(404);
    expect(body(result)).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('start one with POST /nodes/master-2/drift (geocluster drift master-2)') });
  });
});

describe('resync and redrive', () => {
  test('a node that never applied anything resyncs from the first master to the same store', async () => {
    const refused = await handlers.resync(http({ node: 'slave-1', path: { node: 'slave-2' } }));
    expect(refused.statusCode).toBe(403); // a slave may resync only itself
    // A consuming node's resync is a job its own apply function runs from its queue.
    const result = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' } }));
    expect(result.statusCode).toBe(202);
    expect(body(result)).toMatchObject({ node: 'slave-2', source: 'master-1', job: { node: 'slave-2', kind: 'resync', state: 'queued', phase: 'bootstrap' } });
    const job = (body(result).job as { id: string }).id;
    // One job per node at a time.
    const busy = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' } }));
    expect({ status: busy.statusCode, code: body(busy).code }).toEqual({ status: 409, code: 'JOB_RUNNING' });
    // Queued, it starts only when the node's queue delivers it (a paused node's after the resume):
    // said, as for the other jobs, not "wait for it to end" alone.
    expect(body(busy).message).toBe(jobRunningMessage('slave-2', { id: job, kind: 'resync', state: 'queued' }));
    await runJob('slave-2', job);
    const ended = await jobs.read('slave-2', job);
    expect(ended).toMatchObject({ state: 'succeeded', phase: 'done', source: 'master-1', resync: { cursor: 4 }, error: null });
    // The finished job's record carries the node store's TTL attribute: it expires JOB_RETENTION_MS after it finished.
    const { Item: record } = await aws.dynamo.send(new GetItemCommand({ TableName: aws.nodeStoreTable, Key: { node: { S: 'slave-2' }, key: { S: `#jobs/${job}` } } }));
    const kept = Number(record?.expiresAt?.N) - Date.parse(ended!.finishedAt!) / 1000;
    expect(kept).toBeGreaterThan(JOB_RETENTION_MS / 1000 - 1);
    expect(kept).toBeLessThan(JOB_RETENTION_MS / 1000 + 5);
    const objectsOf = async (node: string) =>
      body(await handlers.catalog(http({ node: 'slave-1', path: { node }, query: { includeDeleted: 'true' } }))).objects;
    expect(await objectsOf('slave-2')).toEqual(await objectsOf('master-1'));

    const explicit = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' }, body: { source: 'master-2' }, contentType: 'application/json' }));
    expect(body(explicit)).toMatchObject({ source: 'master-2', job: { source: 'master-2' } });
    await runJob('slave-2', (body(explicit).job as { id: string }).id);
    expect(await jobs.read('slave-2', (body(explicit).job as { id: string }).id)).toMatchObject({ state: 'succeeded', resync: { cursor: 4 } });
    // A pure master has no queue: it is resynced within the request.
    const master = await handlers.resync(http({ node: 'master-1', path: { node: 'master-1' }, body: { source: 'master-2' }, contentType: 'application/json' }));
    expect(master.statusCode).toBe(200);
    expect(body(master)).toMatchObject({ node: 'master-1', source: 'master-2', sequence: 4 });
    const self = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' }, body: { source: 'slave-2' }, contentType: 'application/json' }));
    expect(self.statusCode).toBe(400);
    expect(body(self)).toMatchObject({ field: 'source' });
  });

  test('a resync that failed before its copy began gives the node back, and GET /nodes shows the failed job with why until the next job', async () => {
    // master-2 is being resynced itself: no snapshot of it can be taken.
    const nodeStore = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    await nodeStore.holdForResync('master-2', 'elsewhere', Date.now() + 60_000, false);
    const started = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' }, body: { source: 'master-2' }, contentType: 'application/json' }));
    const id = (body(started).job as { id: string }).id;
    await runJob('slave-2', id);
    await nodeStore.releaseResyncHold('master-2', 'elsewhere');
    const slave2 = (nodes: Record<string, unknown>) => (nodes.nodes as { name: string }[]).find((node) => node.name === 'slave-2');
    expect(slave2(body(await handlers.listNodes(http({ node: 'slave-1' }))))).toMatchObject({
      resync: null,
      job: { id, kind: 'resync', state: 'failed', source: 'master-2', error: expect.stringContaining('source node master-2 is being resynced itself') },
    });

    const again = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' } }));
    await runJob('slave-2', (body(again).job as { id: string }).id);
    expect(slave2(body(await handlers.listNodes(http({ node: 'slave-1' }))))).toMatchObject({ resync: null, job: { kind: 'resync', state: 'succeeded', error: null } });
  });

  test("a job started while a paused node runs one (its next slice waits in the paused queue) is 409 JOB_RUNNING saying the job goes on only after the resume", async () => {
    const started = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' } }));
    expect(started.statusCode).toBe(202);
    const job = body(started).job as { id: string; kind: 'resync'; state: 'running' };
    // Its first slice ran, then the node was paused: its next slice's message waits in the queue.
    const store = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const record = (await store.read('slave-2', job.id))!;
    expect(await store.save({ ...record, state: 'running', slices: 1, updatedAt: new Date().toISOString() })).toBe('saved');
    const pauses = new DynamoNodePauses(aws.nodeStoreTable, aws.dynamo);
    await pauses.write('slave-2', { since: '2026-12-07T10:00:00.000Z', by: 'master-1' });
    try {
      const busy = await handlers.resync(http({ node: 'master-1', path: { node: 'slave-2' } }));
      expect({ status: busy.statusCode, code: body(busy).code }).toEqual({ status: 409, code: 'JOB_RUNNING' });
      // "wait for it to end" alone had the caller wait on a job that cannot move until the resume.
      expect(body(busy).message).toBe(
        `Node slave-2 is running job ${job.id} (resync); the node is paused (since 2026-12-07T10:00:00.000Z, by master-1), ` +
          "so the job goes on only after POST /nodes/slave-2/resume; wait for it to end",
      );
    } finally {
      await pauses.write('slave-2', undefined);
    }
    await runJob('slave-2', job.id);
    expect(await jobs.read('slave-2', job.id)).toMatchObject({ state: 'succeeded' });
  });

  test("a pure master's resync is a job whose slices run within the requests asking for it: 202 while it goes on, 200 once done", async () => {
    // A request with only 5 s left keeps them all for its answer: one step of the job each.
    const short = { getRemainingTimeInMillis: () => 5_000 };
    const resync = () => handlers.resync(http({ node: 'master-1', path: { node: 'master-1' }, body: { source: 'master-2' }, contentType: 'application/json' }), short);
    const first = await resync();
    expect(first.statusCode).toBe(202);
    expect(body(first)).toMatchObject({ node: 'master-1', source: 'master-2', job: { node: 'master-1', kind: 'resync', state: 'running', phase: 'bootstrap', slices: 1 } });
    const id = (body(first).job as { id: string }).id;
    expect(first.headers?.location).toBe(`/nodes/master-1/jobs/${id}`);
    // Another resync of the node (another source) waits for this one.
    const other = await handlers.resync(http({ node: 'master-1', path: { node: 'master-1' }, body: { source: 'slave-1' }, contentType: 'application/json' }));
    expect({ status: other.statusCode, code: body(other).code }).toEqual({ status: 409, code: 'JOB_RUNNING' });
    // Nothing runs a pure master's job between requests: "wait for it to end" alone had the caller
    // wait on a job that moves only when its own resync is sent again, or may be replaced once stale.
    const saved = (body(other).job as { updatedAt: string }).updatedAt;
    expect(body(other).message).toBe(
      `Node master-1 is running job ${id} (resync from master-2), which goes on only while its resync is sent again: ` +
        `POST /nodes/master-1/resync with {"source": "master-2"} (geocluster resync master-1 --source master-2) until it answers 200; ` +
        `nobody continuing it, a new resync may replace it once it has saved nothing for 15 minutes (from ${new Date(Date.parse(saved) + 15 * 60_000).toISOString()})`,
    );
    // The same call again goes on with the job, from its checkpoint, until it is done.
    const answers = [first];
    while (answers.length < 20 && answers[answers.length - 1]!.statusCode === 202) answers.push(await resync());
    const done = answers[answers.length - 1]!;
    expect(done.statusCode).toBe(200);
    expect(answers.length).toBeGreaterThan(3);
    expect(new Set(answers.map((answer) => (body(answer).job as { id: string }).id))).toEqual(new Set([id]));
    expect(body(done)).toMatchObject({ node: 'master-1', source: 'master-2', sequence: 4, job: { id, state: 'succeeded', slices: answers.length } });
    // The snapshot at master-2's cursor, then the log after it.
    expect(body(done).appliedFromLog).toBe(4 - (body(done).snapshotSequence as number));
    const objectsOf = async (node: string) => body(await handlers.catalog(http({ node: 'slave-1', path: { node }, query: { includeDeleted: 'true' } }))).objects;
    // As every store at sequence 4 (slave-2 resynced to it above).
    expect(await objectsOf('master-1')).toEqual(await objectsOf('slave-2'));
  });

  test('redrive moves dead letters back and retries parked events; a pure master has only parked events', async () => {
    const pair = aws.queues['slave-2'];
    if (!pair) throw new Error('no queues');
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: pair.deadLetterQueueUrl,
        MessageBody: '{"poison":true}',
        MessageGroupId: CLUSTER,
        MessageDeduplicationId: 'poison-1',
        MessageAttributes: { origin: { DataType: 'String', StringValue: 'master-1' } },
      }),
    );
    const context = { getRemainingTimeInMillis: () => 25_000 };
    const refused = await handlers.redrive(http({ node: 'slave-1', path: { node: 'slave-2' } }), context);
    expect(refused.statusCode).toBe(403); // a slave may redrive only itself
    const result = await handlers.redrive(http({ node: 'master-1', path: { node: 'slave-2' } }), context);
    expect(result.statusCode).toBe(200);
    expect(body(result)).toEqual({ node: 'slave-2', moved: 1, more: false, parked: { cleared: [], stillParked: [], more: false } });
    const master = await handlers.redrive(http({ node: 'master-1', path: { node: 'master-1' } }), context);
    expect(master.statusCode).toBe(200);
    expect(body(master)).toEqual({ node: 'master-1', moved: 0, more: false, parked: { cleared: [], stillParked: [], more: false } });
  });
});

describe('job slices', () => {
  test('a slice that fails for a reason other than the GeoServer is delivered again only after a backoff, never at once', async () => {
    const node = 'slave-1';
    const queueUrl = aws.queues[node]?.queueUrl as string;
    // A job record that cannot be read: the slice fails before it starts, every time.
    await aws.dynamo.send(
      new PutItemCommand({ TableName: aws.nodeStoreTable, Item: { node: { S: node }, key: { S: '#jobs/unreadable-job' }, job: { S: '{not json' } } }),
    );
    const body = JSON.stringify({ runJob: 'unreadable-job' });
    // A group of its own: the cluster's group is behind earlier tests' undeleted messages.
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: 'job-backoff', MessageDeduplicationId: 'job-backoff-1' }));
    const receive = async (): Promise<Message | undefined> => {
      const { Messages = [] } = await aws.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
      );
      return Messages.find((message) => message.Body === body);
    };
    let message: Message | undefined;
    for (let attempt = 0; attempt < 10 && !message; attempt += 1) message = await receive();
    if (!message) throw new Error('the job message never arrived');
    const failedAt = Date.now();
    expect(await (await handlers.apply(node))(sqsEvent([message]))).toEqual({ batchItemFailures: [{ itemIdentifier: message.MessageId }] });
    // The queue's own visibility timeout here is 5 s; the backoff after a first delivery is 10-12 s.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 6_500 - (Date.now() - failedAt))));
    expect(await receive()).toBeUndefined();
    await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  });

  // The job path runs before the batch's events and a failed slice is reported alone: the events
  // after it are applied and acknowledged, and the slice comes back after them, which is as if it
  // had been queued after them (docs/architecture.md, "Job slices and events in one batch"). Were the
  // slice reported with every later message, as FIFO asks of events, a slice that waits for the
  // node's store to catch up (a master's reconcile, job-runner.ts `ownEventsNotApplied`) would hold
  // back the very events it waits for.
  test('a failed job slice is reported alone: the events after it in its batch are applied and acknowledged', async () => {
    const node = 'slave-1';
    await aws.dynamo.send(
      new PutItemCommand({ TableName: aws.nodeStoreTable, Item: { node: { S: node }, key: { S: '#jobs/unreadable-job-2' }, job: { S: '{not json' } } }),
    );
    await publishAs('master-1', { kind: 'add', object: { type: 'namespace', id: 'after-job' }, properties: { uri: 'http://after-job' } });
    const messages = await drain(node, 1);
    expect(messages).toHaveLength(1);
    const job: Message = { MessageId: 'job-unreadable-job-2', ReceiptHandle: 'job-unreadable-job-2', Body: JSON.stringify({ runJob: 'unreadable-job-2' }), Attributes: { ApproximateReceiveCount: '1' } };
    const response = await (await handlers.apply(node))(sqsEvent([job, ...messages]));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: job.MessageId }]);
    const sequence = (JSON.parse(messages[0]?.Body ?? '{}') as { sequence: number }).sequence;
    const nodes = body(await handlers.listNodes(http({ node }))).nodes as { name: string; lastAppliedSequence: number }[];
    // Applied (the read ahead may have taken the node further, to events of earlier tests in the log).
    expect(nodes.find((listed) => listed.name === node)?.lastAppliedSequence).toBeGreaterThanOrEqual(sequence);
    await deliverToMasterStores(1);
  });
});

/** The DynamoDB commands a spied client's calls sent, named as the API names them. */
function commandsOf(calls: readonly (readonly unknown[])[]): string[] {
  return calls.map(([command]) => (command as object).constructor.name.replace(/Command$/, ''));
}

describe("a slave's apply function", () => {
  /** A workspace master-1 publishes: its event. */
  const publish = async (id: string) => {
    const created = await publishAs('master-1', { kind: 'add', object: { type: 'workspace', id }, properties: { name: id } });
    expect(created.statusCode).toBe(201);
    return body(created).event as { sequence: number };
  };
  /** The event's message as the topic put it in the queue at `sentAt` (its SentTimestamp). */
  const delivery = (event: { sequence: number }, sentAt = Date.now()) =>
    sqsEvent([{ MessageId: `delivery-${event.sequence}`, ReceiptHandle: `delivery-${event.sequence}`, Body: JSON.stringify(event), Attributes: { SentTimestamp: String(sentAt) } }]);
  test('reads the log ahead of its queue only when the delivery shows a backlog (a message the queue held when its previous batch ended)', async () => {
    const cursor = async () =>
      (body(await handlers.listNodes(http({ node: 'slave-1' }))).nodes as { name: string; lastAppliedSequence: number }[]).find((node) => node.name === 'slave-1')?.lastAppliedSequence;
    const apply = await handlers.apply('slave-1');

    const a = await publish('ahead-a');
    const b = await publish('ahead-b');
    // The instance's first batch: nothing is known of the queue yet, so it reads ahead (b too).
    expect(await apply(delivery(a, Date.now()))).toEqual({ batchItemFailures: [] });
    expect(await cursor()).toBe(b.sequence);

    const c = await publish('ahead-c');
    const d = await publish('ahead-d');
    const beforeC = Date.now();
    // c was sent after the previous batch ended: the node keeps up, c is applied alone.
    expect(await apply(delivery(c, Date.now()))).toEqual({ batchItemFailures: [] });
    expect(await cursor()).toBe(c.sequence);

    const e = await publish('ahead-e');
    // d waited in the queue behind c's batch: a backlog, so the log is read ahead (e too).
    expect(await apply(delivery(d, beforeC))).toEqual({ batchItemFailures: [] });
    expect(await cursor()).toBe(e.sequence);
  });

  test("drops the messages of events its read ahead applied (a burst's duplicates) with one read of the log each and no read of the cursor", async () => {
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    const apply = await handlers.apply('slave-2');
    const [a, b, c] = [await publish('burst-a'), await publish('burst-b'), await publish('burst-c')];
    // The instance's first batch: c, its gap filled from the log. The queue still holds a and b.
    expect(await apply(delivery(c!))).toEqual({ batchItemFailures: [] });
    expect(await store.readCursor('slave-2')).toBe(c!.sequence);

    // The handler's own module registry (one per node) has its own client class.
    const send = jest.spyOn(apply.dynamoClient.prototype, 'send');
    const callsOf = async (deliver: () => Promise<SQSBatchResponse>): Promise<string[]> => {
      send.mockClear();
      expect(await deliver()).toEqual({ batchItemFailures: [] });
      return commandsOf(send.mock.calls).sort();
    };
    let later: { sequence: number } | undefined;
    try {
      // The cursor this instance committed is past them, and the log holds nothing after it: dropped.
      expect(await callsOf(() => apply(delivery(a!)))).toEqual(['Query']);
      expect(await callsOf(() => apply(delivery(b!)))).toEqual(['Query']);
      // Published since: the duplicate's read of the log finds them, and one read of their objects
      // (not of the cursor) and one commit against that cursor apply them.
      await publish('burst-d');
      later = await publish('burst-e');
      expect(await callsOf(() => apply(delivery(c!)))).toEqual(['BatchGetItem', 'Query', 'TransactWriteItems']);
    } finally {
      send.mockRestore();
    }
    expect(await store.readCursor('slave-2')).toBe(later.sequence);
    const objects = await store.readObjects('slave-2', ['a', 'b', 'c', 'd', 'e'].map((id) => ({ type: 'workspace' as const, id: `burst-${id}` })));
    expect(objects.map((object) => object.id).sort()).toEqual(['burst-a', 'burst-b', 'burst-c', 'burst-d', 'burst-e']);
  });

  test("after a resync's finish on another instance set its store below the cursor it knows, drops the duplicates, and its next event (no backlog, checked in its commit) fills the gap from the log", async () => {
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    const apply = await handlers.apply('slave-2');
    const [a, b, c] = [await publish('lowered-a'), await publish('lowered-b'), await publish('lowered-c')];
    expect(await apply(delivery(c!))).toEqual({ batchItemFailures: [] });
    expect(await store.readCursor('slave-2')).toBe(c!.sequence);
    // A resync from a source that holds only a: its prune takes b and c, its finish sets the cursor to a.
    const ref = (id: string) => ({ type: 'workspace' as const, id });
    await store.removeUnlessNewer('slave-2', [ref('lowered-b'), ref('lowered-c')], c!.sequence);
    await store.finishSnapshot('slave-2', a!.sequence);
    // b's message, at or below the cursor this instance knows, with nothing in the log after it: dropped.
    const send = jest.spyOn(apply.dynamoClient.prototype, 'send');
    try {
      expect(await apply(delivery(b!))).toEqual({ batchItemFailures: [] });
      expect(commandsOf(send.mock.calls)).toEqual(['Query']);
    } finally {
      send.mockRestore();
    }
    expect(await store.readCursor('slave-2')).toBe(a!.sequence);
    // The next event, one message after the last batch ended: its commit against c fails, and the gap is filled.
    const d = await publish('lowered-d');
    const sendD = jest.spyOn(apply.dynamoClient.prototype, 'send');
    try {
      expect(await apply(delivery(d))).toEqual({ batchItemFailures: [] });
      // The copy's commit against c, checking the log's item (no read first), fails on the cursor; then the cursor, the gap and its objects are read, and committed.
      expect(commandsOf(sendD.mock.calls)).toEqual(['TransactWriteItems', 'GetItem', 'Query', 'BatchGetItem', 'TransactWriteItems']);
    } finally {
      sendD.mockRestore();
    }
    expect(await store.readCursor('slave-2')).toBe(d.sequence);
    const objects = await store.readObjects('slave-2', ['a', 'b', 'c', 'd'].map((id) => ref(`lowered-${id}`)));
    expect(objects.map((object) => [object.id, object.lastSequence, object.deleted]).sort()).toEqual([
      ['lowered-a', a!.sequence, false],
      ['lowered-b', b!.sequence, false],
      ['lowered-c', c!.sequence, false],
      ['lowered-d', d.sequence, false],
    ]);
  });
});

describe('a recursive remove in the catalog', () => {
  const SLD = '<?xml version="1.0"?><StyledLayerDescriptor version="1.0.0"/>';
  test("what a workspace removed with recurse held is gone from the node's catalog, also once the workspace is created again", async () => {
    const changes = [
      { kind: 'add', object: { type: 'workspace', id: 'gone' }, properties: { name: 'gone' } },
      { kind: 'add', object: { type: 'dataStore', id: 'gone:pg' }, properties: { name: 'pg', type: 'PostGIS' } },
      { kind: 'add', object: { type: 'featureType', id: 'gone:roads' }, properties: { name: 'roads', store: { '@class': 'dataStore', name: 'gone:pg' } } },
      { kind: 'add', object: { type: 'layer', id: 'gone:roads' }, properties: { name: 'roads', resource: { '@class': 'featureType', name: 'gone:roads' } } },
      { kind: 'add', object: { type: 'style', id: 'gone:line' }, properties: { name: 'line', format: 'sld', body: SLD } },
      { kind: 'remove', object: { type: 'workspace', id: 'gone' }, recurse: true },
      { kind: 'add', object: { type: 'workspace', id: 'gone' }, properties: { name: 'gone' } },
    ];
    const set = await publishAs('master-1', { changes });
    expect(`${set.statusCode} ${set.body}`).toMatch(/^201 /);
    const last = await publishAs('master-1', { kind: 'add', object: { type: 'style', id: 'gone:fill' }, properties: { name: 'fill', format: 'sld', body: SLD } });
    expect(last.statusCode).toBe(201);
    const event = body(last).event as { sequence: number };
    // Delivered to slave-2 alone: its apply function reads every event before it from the log.
    const apply = await handlers.apply('slave-2');
    expect(await apply(sqsEvent([{ MessageId: 'last', ReceiptHandle: 'last', Body: JSON.stringify(event), Attributes: { SentTimestamp: String(Date.now()) } }]))).toEqual({
      batchItemFailures: [],
    });

    const ids = async (query: Record<string, string>) =>
      (body(await handlers.catalog(http({ node: 'slave-1', path: { node: 'slave-2' }, query: { limit: '100', next: 'dataStore/a:a', ...query } }))).objects as {
        type: string;
        id: string;
        deleted: boolean;
      }[])
        .filter((object) => object.id === 'gone' || object.id.startsWith('gone:'))
        .map((object) => `${object.type}/${object.id}${object.deleted ? ' (deleted)' : ''}`);
    expect(await ids({})).toEqual(['style/gone:fill', 'workspace/gone']);
    expect(await ids({ includeDeleted: 'true' })).toEqual([
      'dataStore/gone:pg (deleted)',
      'featureType/gone:roads (deleted)',
      'layer/gone:roads (deleted)',
      'style/gone:fill',
      'style/gone:line (deleted)',
      'workspace/gone',
    ]);
    for (const [type, id] of [
      ['featureType', 'gone:roads'],
      ['layer', 'gone:roads'],
      ['style', 'gone:line'],
    ]) {
      const answer = await handlers.catalogObject(http({ node: 'slave-1', path: { node: 'slave-2', type: type!, id: id! } }));
      expect([type, answer.statusCode, body(answer).code]).toEqual([type, 404, 'OBJECT_NOT_FOUND']);
    }
    const kept = await handlers.catalogObject(http({ node: 'slave-1', path: { node: 'slave-2', type: 'style', id: 'gone:fill' } }));
    expect([kept.statusCode, body(kept)]).toEqual([200, expect.objectContaining({ id: 'gone:fill', deleted: false })]);
    expect(body(kept)).not.toHaveProperty('cascadedAt');

    // The listing of one type, a page at a time: each page's `next` is taken by the next page.
    const styles: string[] = [];
    let next: string | undefined;
    do {
      const page = await handlers.catalog(
        http({ node: 'slave-1', path: { node: 'slave-2' }, query: { type: 'style', limit: '1', includeDeleted: 'true', ...(next === undefined ? {} : { next }) } }),
      );
      expect(page.statusCode).toBe(200);
      styles.push(...(body(page).objects as { id: string }[]).map((object) => object.id));
      next = body(page).next as string | undefined;
    } while (next !== undefined);
    expect(styles.filter((id) => id.startsWith('gone:'))).toEqual(['gone:fill', 'gone:line']);
  });
});

describe('a redrive request queued for a node that has no GeoServer (any more)', () => {
  it('is taken as a retry of its parked events, not read as an event that fails for ever', async () => {
    // A redrive of a GeoServer node queues this request for its apply function. With the node's
    // GeoServer taken out of the cluster configuration meanwhile, the request must still not
    // be parsed as an event: it would fail every receive, then again after each redrive.
    const apply = await handlers.apply('slave-2');
    const message: Message = { MessageId: 'retry-parked-1', ReceiptHandle: 'retry-parked-1', Body: retryParkedMessage(new Date()), Attributes: { ApproximateReceiveCount: '1' } };
    expect(await apply(sqsEvent([message]))).toEqual({ batchItemFailures: [] });
  });
});

/** Drains `queue` up to the message of event `sequence` (earlier tests leave messages there), and returns that one. */
async function drainUntil(queue: string, sequence: number): Promise<Message | undefined> {
  for (let tries = 0; tries < 100; tries += 1) {
    const found = (await drain(queue, 1)).find((message) => (JSON.parse(message.Body ?? '{}') as { sequence?: number }).sequence === sequence);
    if (found) return found;
  }
  return undefined;
}

describe("a slave's apply function, given a message that is not the log's event", () => {
  it("a message of the cluster that differs from the log's event at its sequence goes to the dead-letter queue, and the log's event is applied", async () => {
    const published = await publishAs('master-1', { kind: 'add', object: { type: 'namespace', id: 'genuine' }, properties: { uri: 'http://genuine' } });
    const real = await drainUntil('slave-1', body(published).sequence as number);
    const forgedBody = JSON.stringify({ ...(JSON.parse(real?.Body ?? '{}') as object), properties: { uri: 'http://forged' } });
    const forged: Message = { ...real, MessageId: 'forged-1', ReceiptHandle: 'forged-1', Body: forgedBody, Attributes: { ApproximateReceiveCount: '1' } };
    const response = await (await handlers.apply('slave-1'))(sqsEvent([forged]));
    expect(response.batchItemFailures).toEqual([]);
    const [object] = await new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo }).readObjects('slave-1', [{ type: 'namespace', id: 'genuine' }]);
    expect(object?.properties).toEqual({ uri: 'http://genuine' });
    const deadLetters = await receiveAll(aws.sqs, aws.queues['slave-1']?.deadLetterQueueUrl as string, 1);
    expect(deadLetters.map((message) => message.Body)).toEqual([forgedBody]);
    // The real message, delivered after, finds its event applied.
    expect((await (await handlers.apply('slave-1'))(sqsEvent([real!]))).batchItemFailures).toEqual([]);
  });
});

describe("the master-stores queue's consumer", () => {
  it("takes no message for an event it is not: one past the log's head, or one that differs from the log's event at its sequence, is skipped, never applied, marked or retried", async () => {
    const published = await publishAs('master-1', { kind: 'add', object: { type: 'namespace', id: 'mastered' }, properties: { uri: 'http://mastered' } });
    const sequence = body(published).sequence as number;
    // Earlier messages are drained with it: the store catches up from the log.
    const real = await drainUntil('master-stores', sequence);
    const realBody = JSON.parse(real?.Body ?? '{}') as Record<string, unknown>;
    expect(realBody.sequence).toBe(sequence);
    const forged = (id: string, change: Record<string, unknown>): Message => ({
      MessageId: `forged-${id}`,
      ReceiptHandle: `forged-${id}`,
      Body: JSON.stringify({ ...realBody, object: { type: 'namespace', id }, properties: { uri: `http://${id}` }, ...change }),
      Attributes: { ApproximateReceiveCount: '1' },
    });
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    const log = eventLog();
    const head = await log.head(CLUSTER);
    expect(head).toBe(sequence);
    // The real event, a copy of its sequence with other content, and the log's next sequence (allocated by no publisher).
    await handlers.catchUpMasterStores(sqsEvent([real!, forged('differing', {}), forged('next', { sequence: head + 1 })]));
    // Then one further past the head, alone.
    await handlers.catchUpMasterStores(sqsEvent([forged('further', { sequence: head + 5 })]));
    expect(await store.readCursor('master-1')).toBe(head);
    const objects = await store.readObjects('master-1', ['mastered', 'differing', 'next', 'further'].map((id) => ({ type: 'namespace' as const, id })));
    expect(objects.map((object) => [object.id, object.properties])).toEqual([['mastered', { uri: 'http://mastered' }]]);
    // Nothing marked published past the head: the log's next event, once appended, is still found unpublished.
    const { Item: headItem } = await aws.dynamo.send(new GetItemCommand({ TableName: aws.eventLogTable, Key: { cluster: { S: CLUSTER }, sequence: { N: '0' } } }));
    expect(Number(headItem?.publishedThrough?.N ?? 0)).toBeLessThanOrEqual(head);
  });

  it("applies a master's changes one after another with two calls each, reading nothing first: its commit checks the log's item and the pause; a forged next event is still skipped", async () => {
    const change = (id: string) => ({ kind: 'add', object: { type: 'namespace', id }, properties: { uri: `http://${id}` } });
    // The store brought up to the head first (from the log, the earlier messages dropped), then
    // one delivery that finds it right before its event, as the deliveries below do.
    const first = body(await publishAs('master-1', change('keeping-up-0'))).sequence as number;
    await handlers.catchUpMasterStores(sqsEvent([(await drainUntil('master-stores', first))!]));
    const second = body(await publishAs('master-1', change('keeping-up-00'))).sequence as number;
    await handlers.catchUpMasterStores(sqsEvent(await drain('master-stores', 1)));
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    expect(await store.readCursor('master-1')).toBe(second);
    const send = jest.spyOn(DynamoDBClient.prototype, 'send');
    const callsOf = async (deliver: () => Promise<void>): Promise<string[]> => {
      send.mockClear();
      await deliver();
      return commandsOf(send.mock.calls).sort();
    };
    try {
      for (const id of ['keeping-up-1', 'keeping-up-2', 'keeping-up-3']) {
        const sequence = body(await publishAs('master-1', change(id))).sequence as number;
        const [message] = await drain('master-stores', 1);
        expect(JSON.parse(message?.Body ?? '{}')).toMatchObject({ sequence });
        // The commit (with the checks of the log's item and of the master's pause), the published
        // mark (two writes when the log's watermark is held back by an event earlier tests of this
        // file left unmarked).
        const calls = await callsOf(() => handlers.catchUpMasterStores(sqsEvent([message!])));
        expect(calls.filter((call) => call !== 'UpdateItem')).toEqual(['TransactWriteItems']);
        expect(calls).toContain('UpdateItem');
        expect(await store.readCursor('master-1')).toBe(sequence);
        expect((await eventLog().listUnpublished(CLUSTER, 1000)).map((event) => event.sequence)).not.toContain(sequence);
      }
    } finally {
      send.mockRestore();
    }
    // Paused since its last delivery: the commit refuses the next change, and the store keeps its cursor.
    const pauses = new DynamoNodePauses(aws.nodeStoreTable, aws.dynamo);
    await pauses.write('master-1', { since: new Date().toISOString(), by: 'master-1' });
    const whilePaused = body(await publishAs('master-2', change('while-paused'))).sequence as number;
    await handlers.catchUpMasterStores(sqsEvent([(await drainUntil('master-stores', whilePaused))!]));
    expect(await store.readCursor('master-1')).toBe(whilePaused - 1);
    await pauses.write('master-1', undefined);
    // A copy of the next event with other content, delivered before the real one: never applied or marked.
    const next = body(await publishAs('master-1', change('genuine-next'))).sequence as number;
    const real = (await drain('master-stores', 1))[0]!;
    const forged: Message = { ...real, MessageId: 'forged-next', ReceiptHandle: 'forged-next', Body: JSON.stringify({ ...(JSON.parse(real.Body ?? '{}') as object), properties: { uri: 'http://forged' } }) };
    await handlers.catchUpMasterStores(sqsEvent([forged]));
    const [object] = await store.readObjects('master-1', [{ type: 'namespace', id: 'genuine-next' }]);
    expect(object?.properties).toEqual({ uri: 'http://genuine-next' });
    expect((await eventLog().listUnpublished(CLUSTER, 1000)).map((event) => event.sequence)).toContain(next);
    await handlers.catchUpMasterStores(sqsEvent([real]));
    expect((await eventLog().listUnpublished(CLUSTER, 1000)).map((event) => event.sequence)).not.toContain(next);
    expect(await store.readCursor('master-1')).toBe(next);
  });

  it("commits a lone change with the pause checked in the commit also when the log's window it read last holds the change (a burst, after a batch of several): no read of the pause", async () => {
    const change = (id: string) => ({ kind: 'add', object: { type: 'namespace', id }, properties: { uri: `http://${id}` } });
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    // The store brought up to the head first (from the log, the earlier messages dropped).
    const start = body(await publishAs('master-1', change('window-0'))).sequence as number;
    await handlers.catchUpMasterStores(sqsEvent([(await drainUntil('master-stores', start))!]));
    expect(await store.readCursor('master-1')).toBe(start);
    const sequences: number[] = [];
    for (const id of ['window-1', 'window-2', 'window-3']) sequences.push(body(await publishAs('master-1', change(id))).sequence as number);
    const messages = await drain('master-stores', 3);
    expect(messages.map((message) => (JSON.parse(message.Body ?? '{}') as { sequence: number }).sequence)).toEqual(sequences);
    // Two messages in one batch: compared with the log, whose window read from the first holds the third too.
    await handlers.catchUpMasterStores(sqsEvent(messages.slice(0, 2)));
    expect(await store.readCursor('master-1')).toBe(sequences[1]);
    const send = jest.spyOn(DynamoDBClient.prototype, 'send');
    try {
      await handlers.catchUpMasterStores(sqsEvent(messages.slice(2)));
      const calls = commandsOf(send.mock.calls).sort();
      // The commit (with the checks of the log's item and of the master's pause) and the published mark.
      expect(calls.filter((call) => call !== 'UpdateItem')).toEqual(['TransactWriteItems']);
    } finally {
      send.mockRestore();
    }
    expect(await store.readCursor('master-1')).toBe(sequences[2]);
    expect((await eventLog().listUnpublished(CLUSTER, 1000)).map((event) => event.sequence)).not.toContain(sequences[2]);
  });

  it('tries no commit for a message that comes late (its event applied from the log with a later one delivered first), nor reads the store or the pause: it is found applied', async () => {
    const change = (id: string) => ({ kind: 'add', object: { type: 'namespace', id }, properties: { uri: `http://${id}` } });
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    const start = body(await publishAs('master-1', change('late-0'))).sequence as number;
    await handlers.catchUpMasterStores(sqsEvent([(await drainUntil('master-stores', start))!]));
    const sequences: number[] = [];
    for (const id of ['late-1', 'late-2', 'late-3', 'late-4']) sequences.push(body(await publishAs('master-1', change(id))).sequence as number);
    const [first, second, third, fourth] = await drain('master-stores', 4);
    // As concurrent publishers' messages come: the first, then the fourth (the store takes the
    // second and third from the log with it), then the second and the third, late.
    for (const message of [first, fourth, second]) await handlers.catchUpMasterStores(sqsEvent([message!]));
    expect(await store.readCursor('master-1')).toBe(sequences[3]);
    const send = jest.spyOn(DynamoDBClient.prototype, 'send');
    try {
      await handlers.catchUpMasterStores(sqsEvent([third!]));
      // Compared with the log (its window, read for the second, holds it: no call) and marked, nothing else.
      const calls = commandsOf(send.mock.calls);
      expect(calls.filter((call) => call !== 'UpdateItem')).toEqual([]);
      expect(calls).toContain('UpdateItem');
    } finally {
      send.mockRestore();
    }
    expect(await store.readCursor('master-1')).toBe(sequences[3]);
    const objects = await store.readObjects('master-1', ['late-1', 'late-2', 'late-3', 'late-4'].map((id) => ({ type: 'namespace' as const, id })));
    expect(objects).toHaveLength(4);
    expect((await eventLog().listUnpublished(CLUSTER, 1000)).map((event) => event.sequence).filter((sequence) => sequences.includes(sequence))).toEqual([]);
  });
});
