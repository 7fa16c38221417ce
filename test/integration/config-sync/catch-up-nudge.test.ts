// The lag measure's catch-up nudge (lambdas/config-sync/catch-up-nudge.ts), with the handlers
// invoked directly against freshly started emulators (DynamoDB Local and fauxqs): a consuming
// node left behind with an empty queue (its deliveries lost) gets one message from the measure
// and reaches the head through its apply function; a node that is paused, held by a resync, has
// messages queued or dead-lettered, is at the head, or lacks only events too young to call lost,
// gets nothing, and neither does a pure master.
import { DeleteMessageCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { HttpResult } from '../../../lambdas/shared/http';
import { DynamoJobStore } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoNodePauses } from '../../../lambdas/config-sync/adapters/dynamo-node-pauses';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { newJob } from '../../../lambdas/config-sync/jobs';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';
import { sqsEvent } from '../../support/sqs-event';
import { applyInProcess } from './apply-in-process';

jest.setTimeout(120_000);

const CLUSTER = 'nudges';
const NODES = { 'master-1': 'master', 'slave-1': 'slave', 'slave-2': 'slave', 'slave-3': 'slave', 'slave-4': 'slave', 'slave-5': 'slave', 'slave-6': 'slave' };
const SLAVES = ['slave-1', 'slave-2', 'slave-3', 'slave-4', 'slave-5', 'slave-6'] as const;

type HttpHandler = (event: unknown) => Promise<HttpResult>;
interface MeasureResult {
  head: number;
  lag: Record<string, number>;
  nudged: Record<string, number>;
  skipped: Record<string, string>;
  failed: string[];
}
let aws: EmulatedAws;
let publish: HttpHandler;
let measure: (event: { time?: string }) => Promise<MeasureResult>;
let store: DynamoNodeStore;
let pauses: DynamoNodePauses;
const appliers = new Map<string, (event: SQSEvent) => Promise<SQSBatchResponse>>();
const savedEnv = { ...process.env };

beforeAll(async () => {
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: [...SLAVES] });
  Object.assign(process.env, aws.environment(CLUSTER, NODES));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = <T>(path: string): T => (require(path) as { handler: T }).handler;
  publish = load('../../../lambdas/config-sync/handlers/publish-event');
  measure = load('../../../lambdas/config-sync/handlers/measure-lag');
  store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
  pauses = new DynamoNodePauses(aws.nodeStoreTable, aws.dynamo);
});

afterAll(async () => {
  process.env = savedEnv;
  await aws?.stop();
});

/** A node's apply function (NODE_NAME is read at cold start: one module instance per node), kept warm across the file's tests. */
function applier(node: string): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const existing = appliers.get(node);
  if (existing) return existing;
  const apply = applyInProcess({ NODE_NAME: node });
  appliers.set(node, apply);
  return apply;
}


async function publishWorkspace(id: string): Promise<number> {
  const answer = await publish({
    version: '2.0',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'add', object: { type: 'workspace', id }, properties: { name: id } }),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST' }, authorizer: { lambda: { nodeId: 'master-1', role: 'master' } } },
  });
  expect(answer.statusCode).toBe(201);
  return (JSON.parse(answer.body ?? '{}') as { sequence: number }).sequence;
}

/** The deliveries of `node` lost: its queue emptied behind its apply function's back (a purge by hand). */
async function loseDeliveries(node: string): Promise<void> {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: aws.queues[node]!.queueUrl }));
}

/** What a queue holds now, received and deleted: receives until one answers nothing (the emulator's queues answer at once). */
async function received(url: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages: batch = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
    );
    if (batch.length === 0) return messages;
    messages.push(...batch);
    for (const message of batch) await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
  }
}

/** Every slave's queue delivered to its apply function: the cluster at rest. */
async function settle(): Promise<void> {
  for (const node of SLAVES) {
    const messages = await received(aws.queues[node]!.queueUrl);
    if (messages.length > 0) expect(await applier(node)(sqsEvent(messages))).toEqual({ batchItemFailures: [] });
  }
}

/** A run of the measure `minutes` after now (its scheduled event's time, the clock of the nudge). */
const measureAt = (minutes: number) => measure({ time: new Date(Date.now() + minutes * 60_000).toISOString() });


describe("the lag measure's catch-up nudge", () => {
  beforeEach(settle);

  it('sends a node left behind with an empty queue one message, through which its apply function reaches the head', async () => {
    const first = await publishWorkspace('nudge-a');
    await settle();
    expect(await store.readCursor('slave-1')).toBe(first);
    // Four events whose deliveries to slave-1 are lost; the others get theirs.
    for (const id of ['nudge-b', 'nudge-c', 'nudge-d', 'nudge-e']) await publishWorkspace(id);
    await loseDeliveries('slave-1');
    await settle();
    const head = first + 4;

    const result = await measureAt(2);
    expect(result.lag['slave-1']).toBe(4);
    expect(result.nudged).toEqual({ 'slave-1': head });
    expect(result.failed).toEqual([]);
    const [nudge, ...more] = await received(aws.queues['slave-1']!.queueUrl);
    expect(more).toEqual([]);
    // As the topic would have delivered the log's last event (raw delivery), in the cluster's message group.
    expect(JSON.parse(nudge!.Body ?? '')).toMatchObject({ sequence: head, cluster: CLUSTER, origin: 'master-1', object: { id: 'nudge-e' } });
    expect(nudge!.Attributes?.MessageGroupId).toBe(CLUSTER);
    expect(nudge!.MessageAttributes?.origin?.StringValue).toBe('master-1');

    // The warm apply function (its last batch known, the queue showing no backlog) fills the gap.
    expect(await applier('slave-1')(sqsEvent([nudge!]))).toEqual({ batchItemFailures: [] });
    expect(await store.readCursor('slave-1')).toBe(head);
    const after = await measureAt(3);
    expect(after.lag['slave-1']).toBe(0);
    expect(after.nudged).toEqual({});
  });

  it('nudges no node whose first missing event is too recent to call lost, and no pure master, however far behind', async () => {
    await publishWorkspace('recent-a');
    await loseDeliveries('slave-2');
    const result = await measure({ time: new Date().toISOString() });
    expect(result.lag['slave-2']).toBe(1);
    expect(result.skipped['slave-2']).toBe('in-flight');
    // The pure master's store is left to the master-stores queue, which this cluster lacks: it is behind.
    expect(result.lag['master-1']).toBeGreaterThan(0);
    expect(Object.keys(result.skipped)).not.toContain('master-1');
    expect(result.nudged).toEqual({});
    expect(await received(aws.queues['slave-2']!.queueUrl)).toEqual([]);

    // A minute later it is nudged.
    expect((await measureAt(2)).nudged).toEqual({ 'slave-2': result.head });
  });

  it('nudges no node at the head, paused, or whose queue or dead-letter queue holds a message', async () => {
    await publishWorkspace('held-a');
    await settle();
    await publishWorkspace('held-b');
    // slave-1: its delivery waits in its queue. slave-2: paused (its delivery lost). slave-3: a dead letter.
    await loseDeliveries('slave-2');
    await loseDeliveries('slave-3');
    await pauses.write('slave-2', { since: new Date().toISOString(), by: 'master-1' });
    await aws.sqs.send(
      new SendMessageCommand({ QueueUrl: aws.queues['slave-3']!.deadLetterQueueUrl, MessageBody: '{"sequence":1}', MessageGroupId: CLUSTER, MessageDeduplicationId: 'dead-1' }),
    );
    // slave-4: its delivery applied.
    expect(await applier('slave-4')(sqsEvent(await received(aws.queues['slave-4']!.queueUrl)))).toEqual({ batchItemFailures: [] });
    try {
      const result = await measureAt(5);
      expect(result.lag).toMatchObject({ 'slave-1': 1, 'slave-2': 1, 'slave-3': 1, 'slave-4': 0 });
      expect(result.skipped).toMatchObject({ 'slave-1': 'queue-not-empty', 'slave-2': 'paused', 'slave-3': 'dead-letters' });
      expect(result.skipped).not.toHaveProperty('slave-4');
      expect(result.nudged).toEqual({});
      // slave-1's queue holds its delivery alone; slave-2's and slave-3's nothing.
      expect((await received(aws.queues['slave-1']!.queueUrl)).map((message) => JSON.parse(message.Body ?? '').sequence)).toEqual([result.head]);
      expect(await received(aws.queues['slave-2']!.queueUrl)).toEqual([]);
      expect(await received(aws.queues['slave-3']!.queueUrl)).toEqual([]);
    } finally {
      await pauses.write('slave-2', undefined);
      await received(aws.queues['slave-3']!.deadLetterQueueUrl);
    }
    // Resumed and the dead letter gone: both are nudged (slave-1's queue was emptied above).
    expect(Object.keys((await measureAt(6)).nudged).sort()).toEqual(['slave-1', 'slave-2', 'slave-3']);
    await settle();
    const caughtUp = await measureAt(7);
    expect(caughtUp.lag).toMatchObject({ 'slave-1': 0, 'slave-2': 0, 'slave-3': 0, 'slave-4': 0 });
  });

  // Last: it leaves slave-5 held and slave-6 with a job that never ends.
  it('nudges no node held by a resync (the resync applies the log after its snapshot) or running a job (its slices share the queue)', async () => {
    await publishWorkspace('jobs-a');
    await loseDeliveries('slave-5');
    await loseDeliveries('slave-6');
    await store.holdForResync('slave-5', 'resync-holding', Date.now() + 10 * 60_000);
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const started = newJob({ id: 'drift-running', node: 'slave-6', kind: 'drift', requestedBy: 'master-1', hasGeoServer: false, now: new Date() });
    expect(await jobs.start(started, new Date())).toEqual({ started: true });

    const result = await measureAt(5);
    expect(result.lag).toMatchObject({ 'slave-5': 1, 'slave-6': 1 });
    expect(result.skipped).toMatchObject({ 'slave-5': 'held', 'slave-6': 'job-running' });
    expect(Object.keys(result.nudged)).not.toContain('slave-5');
    expect(Object.keys(result.nudged)).not.toContain('slave-6');
    expect(await received(aws.queues['slave-5']!.queueUrl)).toEqual([]);
    expect(await received(aws.queues['slave-6']!.queueUrl)).toEqual([]);
  });
});
