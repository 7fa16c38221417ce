// Starts the real emulators (DynamoDB Local on Java, fauxqs) on free ports. Inside Jest, fauxqs
// runs as a child process (the test VM cannot import() ES modules); the in-process mode that
// `npm start` uses is exercised through a tsx child process below.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LocalStartError,
  assertPortFree,
  findFreePort,
  localQueueUrl,
  startEmulators,
  type RunningEmulators,
} from '../../local/emulators';
import { dynamoDbLocalClasspath, loopbackLauncher } from '../../local/dynamodb-local';
import { requestWithHost } from '../support/host-header';

jest.setTimeout(90_000);

const clientConfig = (endpoint: string) => ({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const portOf = (endpoint: string): number => Number(new URL(endpoint).port);

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}

/** Resolves true when `port` can be bound on `host`, i.e. nothing listens there or on 0.0.0.0. */
function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A server on a free loopback port that accepts connections and never answers; `close` drops them. */
async function openBlocker(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

/** An unsigned-but-well-formed call of each emulator: ListTables on DynamoDB Local, ListQueues on fauxqs. */
const DYNAMO_LIST_TABLES = {
  method: 'POST',
  headers: {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': 'DynamoDB_20120810.ListTables',
    authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20260101/${LOCAL_REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
  },
  body: '{}',
};
const SQS_LIST_QUEUES = { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' }, body: '{}' };

/**
 * DNS rebinding: a page on evil.example that rebinds its name to 127.0.0.1 reaches the emulator
 * with `Host: evil.example` and, being same-origin, could read the answer. Each emulator refuses
 * such a request with 403, naming the host, and still answers one addressed to a loopback name.
 */
async function expectOnlyLoopbackNames(dynamoEndpoint: string, awsEndpoint: string): Promise<void> {
  for (const [endpoint, call] of [
    [dynamoEndpoint, DYNAMO_LIST_TABLES],
    [awsEndpoint, SQS_LIST_QUEUES],
  ] as const) {
    const port = portOf(endpoint);
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1.evil.example', `localhost.evil.example:${port}`]) {
      const refused = await requestWithHost(endpoint, host, call);
      expect({ host, status: refused.status }).toEqual({ host, status: 403 });
      expect(refused.body).toContain(`'${host}'`);
      expect(refused.body).toMatch(/not a loopback name/);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost', 'LocalHost']) {
      const answered = await requestWithHost(endpoint, host, call);
      expect({ host, status: answered.status }).toEqual({ host, status: 200 });
    }
  }
}

describe('startEmulators', () => {
  let emulators: RunningEmulators | undefined;

  afterEach(async () => {
    await emulators?.stop();
    emulators = undefined;
  });

  test('serves DynamoDB, SNS FIFO -> SQS FIFO and S3, then releases both ports on stop', async () => {
    emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
    const { dynamoEndpoint, awsEndpoint } = emulators;
    expect(dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(awsEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulators.fauxqsMode).toBe('child');

    // DynamoDB Local: create a table through one region/credential pair, read it through another
    // (-sharedDb makes both see the same tables).
    const dynamo = new DynamoDBClient(clientConfig(dynamoEndpoint));
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'executions',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await dynamo.send(new PutItemCommand({ TableName: 'executions', Item: { id: { S: 'e1' }, status: { S: 'RUNNING' } } }));
    const otherDynamo = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'other', secretAccessKey: 'other' },
    });
    expect((await otherDynamo.send(new ListTablesCommand({}))).TableNames).toEqual(['executions']);
    const item = await otherDynamo.send(new GetItemCommand({ TableName: 'executions', Key: { id: { S: 'e1' } } }));
    expect(item.Item?.['status']).toEqual({ S: 'RUNNING' });

    // SNS FIFO topic -> SQS FIFO queue.
    const sqs = new SQSClient(clientConfig(awsEndpoint));
    const sns = new SNSClient(clientConfig(awsEndpoint));
    const { QueueUrl: queueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'config-events.fifo', Attributes: { FifoQueue: 'true' } }),
    );
    // fauxqs's own URL has an unresolvable host; localQueueUrl() must address the same queue and
    // also work for clients configured only through AWS_ENDPOINT_URL_SQS, as the Lambdas are.
    expect(queueUrl).toBe(`http://sqs.${LOCAL_REGION}.localhost:${portOf(awsEndpoint)}/${LOCAL_ACCOUNT_ID}/config-events.fifo`);
    const usableQueueUrl = localQueueUrl(awsEndpoint, 'config-events.fifo');
    expect(usableQueueUrl).toBe(`${awsEndpoint}/${LOCAL_ACCOUNT_ID}/config-events.fifo`);
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.['QueueArn'];
    expect(queueArn).toBe(`arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:config-events.fifo`);
    const { TopicArn: topicArn } = await sns.send(
      new CreateTopicCommand({ Name: 'config-events.fifo', Attributes: { FifoTopic: 'true' } }),
    );
    expect(topicArn).toBe(`arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:config-events.fifo`);
    await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn, Attributes: { RawMessageDelivery: 'true' } }),
    );

    const publish = (message: string) =>
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: message,
          MessageGroupId: 'workspace-topp',
          MessageDeduplicationId: 'change-1',
          MessageAttributes: { origin: { DataType: 'String', StringValue: 'node-a' } },
        }),
      );
    await publish('{"change":1}');
    await publish('{"change":1,"duplicate":true}'); // same deduplication id: must be dropped

    process.env['AWS_ENDPOINT_URL_SQS'] = awsEndpoint;
    const envConfiguredSqs = new SQSClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const received = await envConfiguredSqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: usableQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      )
      .finally(() => delete process.env['AWS_ENDPOINT_URL_SQS']);
    expect(received.Messages).toHaveLength(1);
    const [message] = received.Messages ?? [];
    expect(message?.Body).toBe('{"change":1}');
    expect(message?.Attributes?.['MessageGroupId']).toBe('workspace-topp');
    expect(message?.MessageAttributes?.['origin']?.StringValue).toBe('node-a');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }));
    const after = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(after.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });

    // S3 on the same endpoint.
    const s3 = new S3Client({ ...clientConfig(awsEndpoint), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'cluster-config' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'cluster-config', Key: 'workspaces/topp.xml', Body: '<workspace/>', ContentType: 'text/xml' }),
    );
    const object = await s3.send(new GetObjectCommand({ Bucket: 'cluster-config', Key: 'workspaces/topp.xml' }));
    expect(await object.Body?.transformToString()).toBe('<workspace/>');

    // Both must only listen on loopback (DynamoDB Local through its loopback launcher).
    const external = externalIPv4();
    if (external !== undefined) {
      expect(await canBind(external, portOf(awsEndpoint))).toBe(true);
      expect(await canBind(external, portOf(dynamoEndpoint))).toBe(true);
    }

    for (const client of [dynamo, otherDynamo, sqs, envConfiguredSqs, sns, s3]) client.destroy();
    const stopping = emulators.stop();
    expect(emulators.stop()).toBe(stopping); // idempotent
    await stopping;
    await expect(assertPortFree(portOf(dynamoEndpoint), 'DynamoDB Local')).resolves.toBeUndefined();
    await expect(assertPortFree(portOf(awsEndpoint), 'fauxqs')).resolves.toBeUndefined();
    await expect(new DynamoDBClient({ ...clientConfig(dynamoEndpoint), maxAttempts: 1 }).send(new ListTablesCommand({}))).rejects.toThrow();
  });

  test('DynamoDB Local and fauxqs refuse a request addressed to a name that is not loopback (DNS rebinding)', async () => {
    emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
    await expectOnlyLoopbackNames(emulators.dynamoEndpoint, emulators.awsEndpoint);
  });

  test('a busy port fails fast with a one-line LocalStartError', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const busyPort = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(assertPortFree(busyPort, 'API')).rejects.toThrow(
        new LocalStartError(`Port ${busyPort} (API) is in use: stop the other process or pass --port N`),
      );
      const failure = startEmulators({ dynamoPort: busyPort, fauxqsPort: 0 });
      await expect(failure).rejects.toBeInstanceOf(LocalStartError);
      // Each names the npm start option that chooses another port.
      await expect(failure).rejects.toThrow(new RegExp(`^Port ${busyPort} \\(DynamoDB Local\\) is in use: [^\\n]+npm start -- --dynamo-port N \\(0 picks a free one\\)$`));
      await expect(startEmulators({ dynamoPort: 0, fauxqsPort: busyPort })).rejects.toThrow(
        new RegExp(`^Port ${busyPort} \\(fauxqs SNS/SQS/S3\\) is in use: [^\\n]+npm start -- --aws-port N \\(0 picks a free one\\)$`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  test('a port asked as 0 that another process takes before an emulator binds it is replaced by another free one', async () => {
    // Servers that accept connections and never answer, as a port taken between pick and bind may be held.
    const blockers = await Promise.all([openBlocker(), openBlocker()]);
    const busy = blockers.map((blocker) => blocker.port);
    // The first two picks (one per emulator) are the busy ports, as if taken since they were picked.
    const picked: number[] = [];
    const pickPort = async () => {
      const port = busy[picked.length] ?? (await findFreePort());
      picked.push(port);
      return port;
    };
    try {
      emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0, pickPort });
      expect(picked.slice(0, 2)).toEqual(busy);
      // The endpoints, which the banner and cluster.json print, name the ports bound.
      for (const endpoint of [emulators.dynamoEndpoint, emulators.awsEndpoint]) {
        expect(busy).not.toContain(portOf(endpoint));
        expect(picked.slice(2)).toContain(portOf(endpoint));
      }
      const dynamo = new DynamoDBClient(clientConfig(emulators.dynamoEndpoint));
      const sqs = new SQSClient(clientConfig(emulators.awsEndpoint));
      await expect(dynamo.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
      await expect(sqs.send(new ListQueuesCommand({}))).resolves.toBeDefined();
      dynamo.destroy();
      sqs.destroy();
    } finally {
      await Promise.all(blockers.map((blocker) => blocker.close()));
    }
  });

  test("a picked port another cluster's emulators took is not mistaken for this start's own", async () => {
    // The other cluster's emulators answer the same requests as ours would: only the emulator
    // this start launched saying it listens tells the two apart.
    emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
    const theirs = [portOf(emulators.dynamoEndpoint), portOf(emulators.awsEndpoint)];
    const picked: number[] = [];
    const pickPort = async () => {
      const port = theirs[picked.length] ?? (await findFreePort());
      picked.push(port);
      return port;
    };
    const ours = await startEmulators({ dynamoPort: 0, fauxqsPort: 0, pickPort });
    try {
      expect(picked.slice(0, 2).sort()).toEqual([...theirs].sort());
      expect(theirs).not.toContain(portOf(ours.dynamoEndpoint));
      expect(theirs).not.toContain(portOf(ours.awsEndpoint));
      // Each cluster sees its own tables.
      const dynamo = new DynamoDBClient(clientConfig(ours.dynamoEndpoint));
      await dynamo.send(new CreateTableCommand({ TableName: 'ours', AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
      dynamo.destroy();
      const other = new DynamoDBClient(clientConfig(emulators.dynamoEndpoint));
      expect((await other.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      other.destroy();
    } finally {
      await ours.stop();
    }
  });

  test('an emulator gives up after every port picked for it was taken, naming them', async () => {
    const blockers = await Promise.all(Array.from({ length: 10 }, () => openBlocker()));
    const busy = blockers.map((blocker) => blocker.port);
    let next = 0;
    const pickPort = async () => busy[next++ % busy.length] as number;
    try {
      const failure = startEmulators({ dynamoPort: 0, fauxqsPort: 0, pickPort });
      await expect(failure).rejects.toBeInstanceOf(LocalStartError);
      await expect(failure).rejects.toThrow(
        /^DynamoDB Local could not start on a free port: another process took each port picked for it \((\d+, ){4}\d+\) before it could bind it; retry, or choose a port: npm start -- --dynamo-port N$/,
      );
      // fauxqs, started beside it, gave up likewise and nothing is left running on the ports tried.
      expect(next).toBe(10);
    } finally {
      await Promise.all(blockers.map((blocker) => blocker.close()));
    }
  });

  test('missing Java is reported with what to install', async () => {
    const savedPath = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    const attempt = startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
    try {
      await expect(attempt).rejects.toThrow(
        /^Java 17\+ is required for DynamoDB Local but `java` is not on PATH: install it \(apt-get install openjdk-17-jdk-headless\) and retry$/,
      );
    } finally {
      process.env['PATH'] = savedPath;
      await attempt.then((started) => started.stop(), () => undefined);
    }
  });

  test('in-process fauxqs (as under npm start) works and SIGTERM leaves no emulator behind', async () => {
    const repoRoot = path.resolve(__dirname, '..', '..');
    const script = `
      const { startEmulators } = require('./local/emulators.ts');
      startEmulators({ dynamoPort: 0, fauxqsPort: 0, fauxqsMode: 'in-process' }).then(
        (e) => console.log(JSON.stringify({ dynamoEndpoint: e.dynamoEndpoint, awsEndpoint: e.awsEndpoint, fauxqsMode: e.fauxqsMode })),
        (err) => { console.error(err); process.exit(1); },
      );`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--eval', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        void exited.then(() => reject(new Error(`child exited early: ${stderr}`)));
      });
      const started = JSON.parse(firstLine) as Pick<RunningEmulators, 'dynamoEndpoint' | 'awsEndpoint' | 'fauxqsMode'>;
      expect(started.fauxqsMode).toBe('in-process');

      const sqs = new SQSClient(clientConfig(started.awsEndpoint));
      await sqs.send(new CreateQueueCommand({ QueueName: 'probe' }));
      expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls).toEqual([
        `http://sqs.${LOCAL_REGION}.localhost:${portOf(started.awsEndpoint)}/${LOCAL_ACCOUNT_ID}/probe`,
      ]);
      sqs.destroy();
      await expectOnlyLoopbackNames(started.dynamoEndpoint, started.awsEndpoint);
      const external = externalIPv4();
      if (external !== undefined) expect(await canBind(external, portOf(started.awsEndpoint))).toBe(true);

      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM'); // the default signal action is kept after our cleanup
      // DynamoDB Local runs in its own process group; it must still go away with its parent.
      expect(await eventually(() => canBind('127.0.0.1', portOf(started.dynamoEndpoint)), 10_000)).toBe(true);
      expect(await canBind('127.0.0.1', portOf(started.awsEndpoint))).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

test('findFreePort returns a bindable port', async () => {
  const port = await findFreePort();
  expect(port).toBeGreaterThan(0);
  expect(await canBind('127.0.0.1', port)).toBe(true);
});

describe("DynamoDB Local's loopback launcher", () => {
  const cache = () => mkdtempSync(path.join(tmpdir(), 'sgc-launcher-'));

  test('is compiled once into its cache and reused', async () => {
    const dir = cache();
    try {
      const first = await loopbackLauncher(dynamoDbLocalClasspath(), dir);
      expect(first).toBeDefined();
      expect(existsSync(path.join(first as string, 'LoopbackDynamoDbLocal.class'))).toBe(true);
      const compiledAt = statSync(path.join(first as string, 'LoopbackDynamoDbLocal.class')).mtimeMs;
      await expect(loopbackLauncher(dynamoDbLocalClasspath(), dir)).resolves.toBe(first);
      expect(statSync(path.join(first as string, 'LoopbackDynamoDbLocal.class')).mtimeMs).toBe(compiledAt);
      // Nothing but the one compiled folder is left behind.
      expect(readdirSync(dir)).toEqual([path.basename(first as string)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with a cache it cannot write (a read-only node_modules), is compiled for the start alone, outside it', async () => {
    const dir = cache();
    // A file where the cache's folder would go: creating the cache fails, as on a read-only file system.
    writeFileSync(path.join(dir, 'node_modules'), '');
    const unwritable = path.join(dir, 'node_modules', '.cache', 'dynamodb-local-loopback');
    let launcher: string | undefined;
    try {
      launcher = await loopbackLauncher(dynamoDbLocalClasspath(), unwritable);
      expect(launcher).toBeDefined();
      expect(existsSync(path.join(launcher as string, 'LoopbackDynamoDbLocal.class'))).toBe(true);
      expect(path.relative(tmpdir(), launcher as string)).toMatch(/^sgc-dynamodb-local-loopback-/);
    } finally {
      if (launcher !== undefined) rmSync(launcher, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without javac, is not built and a warning says DynamoDB Local listens on every interface', async () => {
    const dir = cache();
    const savedPath = process.env['PATH'];
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    process.env['PATH'] = '/nonexistent';
    try {
      await expect(loopbackLauncher(dynamoDbLocalClasspath(), dir)).resolves.toBeUndefined();
      expect(warn.mock.calls).toEqual([[expect.stringMatching(/^DynamoDB Local listens on every network interface: `javac` is not on PATH .*install a JDK/)]]);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.env['PATH'] = savedPath;
      warn.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
