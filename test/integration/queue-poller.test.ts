/**
 * The local queue poller (local/messaging.ts) against fauxqs (started by this file): as with the
 * Lambda SQS event source, a failed message comes back when the visibility timeout the function
 * set ends (the apply function's backoff, ChangeMessageVisibility), not sooner; one whose
 * visibility the function left alone comes back after the local retry delay (1 s) rather than
 * the queue's timeout.
 */
import { ChangeMessageVisibilityCommand, CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localQueueUrl } from '../../local/emulators';
import { startFauxqsServer } from '../../local/fauxqs';
import type { LocalFunctionHost } from '../../local/lambda-runner';
import { provisionMessaging, QueuePoller } from '../../local/messaging';
import type { LocalTopology } from '../../local/template';
import { startOnPort } from '../../local/ports';
import type { StartedService } from '../../local/supervisor';

jest.setTimeout(60_000);

let fauxqs: StartedService;
let sqs: SQSClient;

beforeAll(async () => {
  // A free port, picked again if a test worker starting beside takes it before fauxqs binds it.
  fauxqs = await startOnPort(0, 'fauxqs', (port) => startFauxqsServer(port, undefined, 'child', 30_000), { option: '--aws-port' });
  sqs = new SQSClient({ endpoint: fauxqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
});

afterAll(async () => {
  sqs?.destroy();
  await fauxqs?.stop();
});

/**
 * The function under the poller: it fails its first delivery with a 4 s backoff of its own (as
 * the apply function does while its GeoServer is down), fails the later ones without one, and
 * takes delivery number `takes`. `deliveries`: when each came.
 */
function backingOff(queueUrl: string, takes: number): { deliveries: number[]; host: LocalFunctionHost } {
  const deliveries: number[] = [];
  const invoke = async (event: SQSEvent) => {
    deliveries.push(Date.now());
    const [record] = event.Records;
    if (deliveries.length === 1) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record!.receiptHandle, VisibilityTimeout: 4 }));
    }
    return { batchItemFailures: deliveries.length < takes ? [{ itemIdentifier: record!.messageId }] : [] };
  };
  return { deliveries, host: { fn: { name: 'Backoff' }, invoke, stop: async () => undefined } as unknown as LocalFunctionHost };
}

/** Waits until the function took its delivery (20 s at most), then stops the polling. */
async function untilTaken(deliveries: readonly number[], takes: number, stop: () => Promise<void>): Promise<void> {
  try {
    const deadline = Date.now() + 20_000;
    while (deliveries.length < takes && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await stop();
  }
}

test('a failed message returns when the visibility the function set ends; one it left alone after the local retry delay', async () => {
  const name = 'poller-backoff.fifo';
  await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', VisibilityTimeout: '30' } }));
  const queueUrl = localQueueUrl(fauxqs.endpoint, name);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'event', MessageGroupId: 'cluster', MessageDeduplicationId: 'event-1' }));

  const { deliveries, host } = backingOff(queueUrl, 3);
  const source = { logicalId: 'Mapping', queueId: 'Queue', functionId: 'Backoff', batchSize: 10, reportBatchItemFailures: true };
  const poller = new QueuePoller(sqs, source, queueUrl, `arn:aws:sqs:${LOCAL_REGION}:000000000000:${name}`, host);
  poller.start();
  await untilTaken(deliveries, 3, () => poller.stop());
  expect(deliveries).toHaveLength(3);
  const [first, second, third] = deliveries as [number, number, number];
  // The function's 4 s, not the poller's 1 s (a receive waits up to 1 s more).
  expect(second - first).toBeGreaterThanOrEqual(3900);
  expect(second - first).toBeLessThan(8000);
  // Left alone: the local retry delay, not the queue's 30 s.
  expect(third - second).toBeLessThan(4000);
});

test('the pollers the local cluster provisions keep the backoff a function set too (their queue URLs reach the emulator)', async () => {
  const name = 'provisioned-backoff.fifo';
  const messaging = await oneQueueCluster(name, 'Backoff');
  // The queue URL the local cluster hands out, as its functions and pollers get it.
  const [described] = ((await messaging.admin({ method: 'GET', path: '/queues' } as never)) as { body: { url: string }[] }).body;
  const queueUrl = described!.url;
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'event', MessageGroupId: 'cluster', MessageDeduplicationId: 'event-1' }));
  const { deliveries, host } = backingOff(queueUrl, 2);
  await messaging.start(new Map([['Backoff', host]]));
  await untilTaken(deliveries, 2, () => messaging.stop());
  expect(deliveries).toHaveLength(2);
  const [first, second] = deliveries as [number, number];
  expect(second - first).toBeGreaterThanOrEqual(3900);
});

test('a poller is paused and resumed by its name, URL-encoded or as is; an unknown name is answered with the names there are', async () => {
  const name = 'admin-named.fifo';
  const messaging = await oneQueueCluster(name, 'Apply');
  const host = { fn: { name: 'ConfigSync/slave-2/Apply' }, invoke: async () => ({ batchItemFailures: [] }), stop: async () => undefined } as unknown as LocalFunctionHost;
  await messaging.start(new Map([['Apply', host]]));
  const admin = (path: string) => messaging.admin({ method: 'POST', path } as never) as Promise<{ status: number; body: { running?: boolean; message?: string } }>;
  try {
    // As the docs write it, URL-encoded.
    expect(await admin('/pollers/ConfigSync%2Fslave-2%2FApply/pause')).toMatchObject({ status: 200, body: { running: false } });
    expect(await admin('/pollers/ConfigSync%2Fslave-2%2FApply/resume')).toMatchObject({ status: 200, body: { running: true } });
    // As the name reads in GET /__local/pollers, slashes and all.
    expect(await admin('/pollers/ConfigSync/slave-2/Apply/pause')).toMatchObject({ status: 200, body: { running: false } });
    expect(await admin('/pollers/ConfigSync/slave-2/Apply/resume')).toMatchObject({ status: 200, body: { running: true } });
    // The node's name alone is not a poller's: the answer lists the pollers.
    const unknown = await admin('/pollers/slave-2/pause');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain("'slave-2'");
    expect(unknown.body.message).toContain('ConfigSync/slave-2/Apply');
    // A broken percent-encoding is the request's fault, not the runtime's.
    const garbled = await admin('/pollers/%E0/pause');
    expect(garbled.status).toBe(400);
    expect(garbled.body.message).toContain('%E0');
  } finally {
    await messaging.stop();
  }
});

/** The local cluster's messaging with one FIFO queue, `name`, whose messages go to function `functionId`. */
async function oneQueueCluster(name: string, functionId: string) {
  const topology: LocalTopology = {
    tables: [],
    functions: new Map(),
    routes: [],
    schedules: [],
    topics: [],
    queues: [{ logicalId: 'Queue', queueName: name, fifo: true, attributes: { FifoQueue: 'true', VisibilityTimeout: '30' } }],
    subscriptions: [],
    queueSources: [{ logicalId: 'Mapping', queueId: 'Queue', functionId, batchSize: 10, reportBatchItemFailures: true }],
    buckets: [],
  };
  return provisionMessaging(topology, { dynamoEndpoint: 'unused', awsEndpoint: fauxqs.endpoint, fauxqsMode: 'child', stop: async () => undefined });
}
