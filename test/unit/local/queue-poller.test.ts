/**
 * The local queue poller (local/messaging.ts) over a stand-in SQS client: an SQS call that fails
 * after a delivery (the emulator briefly unable to answer) is logged and the polling goes on, as
 * Lambda's event source retries; it must not end `npm start` with an unhandled rejection.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalFunctionHost } from '../../../local/lambda-runner';
import { QueuePoller } from '../../../local/messaging';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  jest.restoreAllMocks();
});

it('keeps polling when deleting a delivered batch fails', async () => {
  let received = 0;
  let deletes = 0;
  const sqs = {
    async send(command: { constructor: { name: string } }) {
      switch (command.constructor.name) {
        case 'ReceiveMessageCommand':
          received += 1;
          if (received > 2) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return {};
          }
          return { Messages: [{ MessageId: `m${received}`, ReceiptHandle: `r${received}`, Body: `body ${received}` }] };
        case 'DeleteMessageBatchCommand':
          deletes += 1;
          if (deletes === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:4566');
          return { Successful: [], Failed: [] };
        default:
          return {};
      }
    },
  } as unknown as SQSClient;
  const bodies: string[] = [];
  const poller = pollerInvoking(sqs, (records) => bodies.push(...records.map((record) => record.body)));
  try {
    await until(() => bodies.length >= 2);
    expect(bodies).toEqual(['body 1', 'body 2']);
    expect(poller.isRunning).toBe(true);
    expect(unhandled).toEqual([]);
  } finally {
    await poller.stop();
  }
});

it("stops at once at the cluster's end, its function's invocation in flight cut short and its batch given back, not waited out", async () => {
  const changed: unknown[] = [];
  let received = 0;
  const sqs = {
    async send(command: { constructor: { name: string }; input: unknown }) {
      if (command.constructor.name === 'ReceiveMessageCommand') {
        received += 1;
        if (received === 1) return { Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: 'slow' }] };
        await new Promise((resolve) => setTimeout(resolve, 20));
        return {};
      }
      if (command.constructor.name === 'ChangeMessageVisibilityBatchCommand') changed.push(command.input);
      return {};
    },
  } as unknown as SQSClient;
  // A function whose invocation takes its whole timeout (a GeoServer node's apply while its GeoServer hangs: up to 2 min).
  let invoked = false;
  let stopFunction: (error: Error) => void = () => undefined;
  const host = {
    fn: { name: 'Apply' },
    invoke: () =>
      new Promise((_resolve, reject) => {
        invoked = true;
        const timer = setTimeout(() => reject(new Error('timed out after 120000 ms')), 120_000);
        stopFunction = (error) => {
          clearTimeout(timer);
          reject(error);
        };
      }),
    async stop() {
      stopFunction(new Error('its execution environment exited (code 1)'));
    },
  } as unknown as LocalFunctionHost;
  const poller = startedPoller(sqs, host);
  while (!invoked) await new Promise((resolve) => setTimeout(resolve, 10));
  const stopping = Date.now();
  // The cap's timer is cleared once the stop wins, or it would hold the Jest worker open for 5 s.
  let cap: NodeJS.Timeout | undefined;
  await Promise.race([poller.stop(), new Promise((resolve) => (cap = setTimeout(resolve, 5_000)))]);
  clearTimeout(cap);
  expect(Date.now() - stopping).toBeLessThan(3_000);
  expect(poller.isRunning).toBe(false);
  // The batch comes back (after the local retry delay) for the next start, as after a crash.
  expect(changed).toEqual([{ QueueUrl: 'http://127.0.0.1:1/000000000000/queue.fifo', Entries: [{ Id: '0', ReceiptHandle: 'r1', VisibilityTimeout: 1 }] }]);
  await host.stop();
}, 30_000);

it("hands the function each message attribute as Lambda's SQS event does: a Binary one's value base64-encoded, a String one's as it is", async () => {
  // ReceiveMessage (the SDK) gives a Binary attribute's value as bytes; Lambda's SQS event carries
  // `binaryValue` as a base64 string (the event is JSON), and no member an attribute lacks.
  const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
  let received = 0;
  const sqs = {
    async send(command: { constructor: { name: string } }) {
      if (command.constructor.name !== 'ReceiveMessageCommand') return { Successful: [], Failed: [] };
      received += 1;
      if (received > 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return {};
      }
      return {
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'r1',
            Body: 'body',
            MessageAttributes: { blob: { DataType: 'Binary', BinaryValue: bytes }, origin: { DataType: 'String', StringValue: 'master-1' } },
          },
        ],
      };
    },
  } as unknown as SQSClient;
  const attributes: unknown[] = [];
  const poller = pollerInvoking(sqs, (records) => attributes.push(...records.map((record) => record.messageAttributes)));
  try {
    await until(() => attributes.length >= 1);
    expect(attributes).toStrictEqual([
      {
        blob: { binaryValue: Buffer.from(bytes).toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
        origin: { stringValue: 'master-1', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
    ]);
  } finally {
    await poller.stop();
  }
});

/** A started poller of one FIFO queue whose function hands each batch's records to `take` and fails none. */
function pollerInvoking(sqs: SQSClient, take: (records: { body: string; messageAttributes: unknown }[]) => void): QueuePoller {
  const host = {
    fn: { name: 'Apply' },
    async invoke(event: { Records: { body: string; messageAttributes: unknown }[] }) {
      take(event.Records);
      return { batchItemFailures: [] };
    },
    async stop() {},
  } as unknown as LocalFunctionHost;
  return startedPoller(sqs, host);
}

/** A started poller of one FIFO queue, delivering to `host` in batches of 10, reporting batch item failures. */
function startedPoller(sqs: SQSClient, host: LocalFunctionHost): QueuePoller {
  const poller = new QueuePoller(
    sqs,
    { logicalId: 'Mapping', queueId: 'Queue', functionId: 'Apply', batchSize: 10, reportBatchItemFailures: true },
    'http://127.0.0.1:1/000000000000/queue.fifo',
    'arn:aws:sqs:us-east-1:000000000000:queue.fifo',
    host,
  );
  poller.start();
  return poller;
}

/** Waits until `done` holds, for at most 5 s (the test's expectations then say what is missing). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
