/**
 * The local Lambda API's UpdateEventSourceMapping over a real queue poller (stand-in SQS client
 * and function): as in AWS, disabling a mapping answers at once ("Disabling") even while its
 * function is busy with a batch, which it finishes; nothing is received once the answer is sent,
 * and a resume while that batch runs does not start a second poll beside it.
 */
import * as net from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalFunctionHost } from '../../../local/lambda-runner';
import { startLocalLambdaApi, type LocalLambdaApi } from '../../../local/lambda-api';
import { QueuePoller } from '../../../local/messaging';
import { requestWithHost } from '../../support/host-header';

let api: LocalLambdaApi | undefined;
let poller: QueuePoller | undefined;
afterEach(async () => {
  await poller?.stop();
  await api?.close();
});

it('disables a mapping at once while its function runs a long batch, which it finishes; receives stop with the answer', async () => {
  let receives = 0;
  let receiving = 0;
  let mostAtOnce = 0;
  let sent = 0;
  const sqs = {
    async send(command: { constructor: { name: string } }) {
      if (command.constructor.name !== 'ReceiveMessageCommand') return {};
      receives += 1;
      receiving += 1;
      mostAtOnce = Math.max(mostAtOnce, receiving);
      try {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (sent === 0) {
          sent += 1;
          return { Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: 'slow' }] };
        }
        return {};
      } finally {
        receiving -= 1;
      }
    },
  } as unknown as SQSClient;
  // The function takes 4 s with its batch (a GeoServer node's apply while its GeoServer is slow: up to 2 min).
  let delivered = false;
  let invoked = false;
  const host = {
    fn: { name: 'Apply' },
    async invoke() {
      invoked = true;
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      delivered = true;
      return { batchItemFailures: [] };
    },
    async stop() {},
  } as unknown as LocalFunctionHost;
  poller = new QueuePoller(
    sqs,
    { logicalId: 'Mapping', queueId: 'Queue', functionId: 'Apply', batchSize: 10, reportBatchItemFailures: true },
    'http://127.0.0.1:1/000000000000/queue.fifo',
    'arn:aws:sqs:us-east-1:000000000000:queue.fifo',
    host,
  );
  const pollers = new Map([[poller.mappingId, poller]]);
  api = await startLocalLambdaApi({ pollers: () => pollers });
  poller.start();
  while (!invoked) await new Promise((resolve) => setTimeout(resolve, 10));

  const put = (enabled: boolean) =>
    fetch(`${api!.endpoint}/2015-03-31/event-source-mappings/Mapping`, { method: 'PUT', body: JSON.stringify({ Enabled: enabled }), signal: AbortSignal.timeout(10_000) });
  const asked = Date.now();
  const disabled = await put(false);
  expect(disabled.status).toBe(202);
  expect(((await disabled.json()) as { State: string }).State).toBe('Disabling');
  // The pause function calling this has 10 s: it must not wait out the batch.
  expect(Date.now() - asked).toBeLessThan(2_000);
  expect(delivered).toBe(false);
  const receivedByAnswer = receives;

  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(receives).toBe(receivedByAnswer);

  // Resumed while the batch still runs: the polling goes on after it, one poll at a time.
  expect((await put(true)).status).toBe(202);
  while (!delivered) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(receives).toBeGreaterThan(receivedByAnswer);
  expect(mostAtOnce).toBe(1);
}, 30_000);

it('refuses 403 a request addressed to a name that is not loopback (DNS rebinding), switching nothing', async () => {
  let started = 0;
  let disabled = 0;
  const mapping = { functionId: 'Apply', isRunning: true, start: () => (started += 1), disable: async () => void (disabled += 1) } as unknown as QueuePoller;
  api = await startLocalLambdaApi({ pollers: () => new Map([['Mapping', mapping]]) });
  const url = `${api.endpoint}/2015-03-31/event-source-mappings/Mapping`;
  const port = new URL(api.endpoint).port;
  for (const host of ['evil.example', `evil.example:${port}`]) {
    const refused = await requestWithHost(url, host, { method: 'PUT', body: JSON.stringify({ Enabled: false }) });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).Message).toMatch(/^Host 'evil\.example(:\d+)?' is not a loopback name: the local Lambda API/);
    expect((await requestWithHost(url, host)).status).toBe(403);
  }
  expect(disabled).toBe(0);
  const answered = await requestWithHost(url, `localhost:${port}`, { method: 'PUT', body: JSON.stringify({ Enabled: false }) });
  expect(answered.status).toBe(202);
  expect(disabled).toBe(1);
  expect(started).toBe(0);
});

it('closes at once while a client holds a request open (npm start\'s stop waits on this close)', async () => {
  const mapping = { functionId: 'Apply', isRunning: true, start: () => undefined, disable: async () => undefined } as unknown as QueuePoller;
  api = await startLocalLambdaApi({ pollers: () => new Map([['Mapping', mapping]]) });
  const { hostname, port } = new URL(api.endpoint);
  // A PUT whose body never comes: the server's own timeouts would hold the close for minutes.
  const client = net.connect(Number(port), hostname);
  try {
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const ended = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => undefined);
    client.write(`PUT /2015-03-31/event-source-mappings/Mapping HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 100\r\n\r\n{"Ena`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const asked = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([api.close(), new Promise((resolve) => (timer = setTimeout(resolve, 3_000)))]);
    clearTimeout(timer);
    expect(Date.now() - asked).toBeLessThan(2_000);
    await ended;
  } finally {
    client.destroy();
  }
}, 10_000);
