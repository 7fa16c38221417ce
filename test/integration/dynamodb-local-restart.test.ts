/**
 * DynamoDB Local dying while the cluster runs (killed, out of memory): the runtime reports it and
 * starts it again on the same port with the same data folder, so the endpoint every function was
 * given answers again and the data kept on disk is still there.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION, findFreePort } from '../../local/emulators';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import type { StartedService } from '../../local/supervisor';

jest.setTimeout(120_000);

let dataDir: string;
let dynamo: StartedService | undefined;
let client: DynamoDBClient | undefined;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'dynamodb-restart-'));
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The pid of the Java process serving `port` (this test's own: its port is unique to it). */
function javaPidOn(port: number): number {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  const found = lines.find((line) => /\bjava\b/.test(line) && line.includes(` -port ${port} `));
  if (found === undefined) throw new Error(`no java process serves port ${port}`);
  return Number(found.trim().split(/\s+/)[0]);
}

it('is restarted on its port with its data, and the death reported, when it dies', async () => {
  const port = await findFreePort();
  const reports: string[] = [];
  dynamo = await startDynamoDbLocal(port, dataDir, 60_000, (line) => reports.push(line));
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  await client.send(
    new CreateTableCommand({
      TableName: 'kept',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(new PutItemCommand({ TableName: 'kept', Item: { id: { S: 'a' }, value: { S: 'stored' } } }));

  const killed = javaPidOn(port);
  process.kill(killed, 'SIGKILL');

  const deadline = Date.now() + 60_000;
  let item: Record<string, unknown> | undefined;
  while (item === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    item = await client
      .send(new GetItemCommand({ TableName: 'kept', Key: { id: { S: 'a' } } }))
      .then((answer) => answer.Item)
      .catch(() => undefined);
  }
  expect(item).toEqual({ id: { S: 'a' }, value: { S: 'stored' } });
  expect(javaPidOn(port)).not.toBe(killed);
  expect(reports[0]).toMatch(new RegExp(`DynamoDB Local on http://127.0.0.1:${port} was killed by SIGKILL|exited with code`));
  expect(reports.at(-1)).toBe(`DynamoDB Local answers again on http://127.0.0.1:${port}`);
});

it('is not restarted when it is stopped, or killed by the signal hooks on Ctrl-C', async () => {
  const port = await findFreePort();
  const reports: string[] = [];
  const started = await startDynamoDbLocal(port, undefined, 60_000, (line) => reports.push(line));
  // A listener of our own, so that the supervisor's hook does not raise SIGINT again on this process.
  const keep = () => undefined;
  process.on('SIGINT', keep);
  try {
    // What the supervisor's SIGINT hook does to every child before npm start's own shutdown runs.
    process.emit('SIGINT', 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(reports).toEqual([]);
    expect(() => javaPidOn(port)).toThrow(/no java process/);
  } finally {
    process.off('SIGINT', keep);
    await started.stop();
  }
});
