/**
 * The local IAM gate in front of a real DynamoDB Local: a function's calls go through when its
 * policy allows them and fail with DynamoDB's AccessDeniedException, writing nothing, when not.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { startDynamoGate, type DynamoGate } from '../../local/dynamo-gate';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type RunningEmulators } from '../../local/emulators';
import { tableArn } from '../../local/iam';
import { requestWithHost } from '../support/host-header';

jest.setTimeout(60_000);

let emulators: RunningEmulators;
let gate: DynamoGate;
const denied: string[] = [];
const clients: DynamoDBClient[] = [];

function clientFor(accessKeyId: string, endpoint = gate.endpoint): DynamoDBClient {
  const client = new DynamoDBClient({ region: LOCAL_REGION, endpoint, credentials: { accessKeyId, secretAccessKey: 'local' }, maxAttempts: 1 });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
  const admin = clientFor(LOCAL_CREDENTIALS.accessKeyId, emulators.dynamoEndpoint);
  for (const TableName of ['gate-status', 'gate-other']) {
    await admin.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          { AttributeName: 'shard', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [{ IndexName: 'byShard', KeySchema: [{ AttributeName: 'shard', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  gate = await startDynamoGate(
    emulators.dynamoEndpoint,
    new Map([
      [
        'Writer',
        [
          { effect: 'Allow' as const, actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [tableArn('gate-status')] },
          { effect: 'Allow' as const, actions: ['dynamodb:Query'], resources: [`${tableArn('gate-status')}/index/*`] },
        ],
      ],
      ['Nothing', []],
    ]),
    (message) => denied.push(message),
  );
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await gate?.close();
  await emulators?.stop();
});

const item = (id: string) => ({ id: { S: id }, shard: { S: 's0' } });

test("a function's allowed calls reach DynamoDB Local", async () => {
  const writer = clientFor(gate.accessKeyOf('Writer'));
  await writer.send(new PutItemCommand({ TableName: 'gate-status', Item: item('a') }));
  expect((await writer.send(new GetItemCommand({ TableName: 'gate-status', Key: { id: { S: 'a' } } }))).Item).toEqual(item('a'));
  const { Items } = await writer.send(
    new QueryCommand({ TableName: 'gate-status', IndexName: 'byShard', KeyConditionExpression: '#shard = :s', ExpressionAttributeNames: { '#shard': 'shard' }, ExpressionAttributeValues: { ':s': { S: 's0' } } }),
  );
  expect(Items).toEqual([item('a')]);
});

test('a call its policy does not allow is AccessDeniedException and writes nothing', async () => {
  const writer = clientFor(gate.accessKeyOf('Writer'));
  const direct = clientFor(LOCAL_CREDENTIALS.accessKeyId, emulators.dynamoEndpoint);
  const refusals = [
    new UpdateItemCommand({ TableName: 'gate-status', Key: { id: { S: 'a' } }, UpdateExpression: 'SET #shard = :s', ExpressionAttributeNames: { '#shard': 'shard' }, ExpressionAttributeValues: { ':s': { S: 's1' } } }),
    new PutItemCommand({ TableName: 'gate-other', Item: item('b') }),
    new QueryCommand({ TableName: 'gate-status', KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': { S: 'a' } } }),
    new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'gate-status', Item: item('c') } }, { Put: { TableName: 'gate-other', Item: item('c') } }] }),
  ];
  for (const command of refusals) {
    await expect(writer.send(command as never)).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
  }
  expect(denied).toEqual([
    expect.stringContaining(`assumed-role/Writer/local is not authorized to perform: dynamodb:UpdateItem on resource: ${tableArn('gate-status')}`),
    expect.stringContaining(`dynamodb:PutItem on resource: ${tableArn('gate-other')}`),
    expect.stringContaining(`dynamodb:Query on resource: ${tableArn('gate-status')} `),
    expect.stringContaining(`dynamodb:PutItem on resource: ${tableArn('gate-other')}`),
  ]);
  // Nothing was written, not even the allowed half of the transaction.
  expect((await direct.send(new GetItemCommand({ TableName: 'gate-status', Key: { id: { S: 'a' } } }))).Item).toEqual(item('a'));
  expect((await direct.send(new GetItemCommand({ TableName: 'gate-status', Key: { id: { S: 'c' } } }))).Item).toBeUndefined();
  expect((await direct.send(new GetItemCommand({ TableName: 'gate-other', Key: { id: { S: 'b' } } }))).Item).toBeUndefined();
});

test('a function with no permissions can do nothing; a caller that is not a function is not checked', async () => {
  await expect(clientFor(gate.accessKeyOf('Nothing')).send(new GetItemCommand({ TableName: 'gate-status', Key: { id: { S: 'a' } } }))).rejects.toMatchObject({
    name: 'AccessDeniedException',
  });
  const tooling = clientFor(LOCAL_CREDENTIALS.accessKeyId);
  expect((await tooling.send(new GetItemCommand({ TableName: 'gate-other', Key: { id: { S: 'zz' } } }))).Item).toBeUndefined();
});

test("the gate counts each function's calls by operation, refused ones too, and no caller that is not a function", async () => {
  const count = (functionId: string, operation: string) =>
    gate.callCounts().find((row) => row.functionId === functionId && row.operation === operation)?.calls ?? 0;
  const before = { get: count('Writer', 'GetItem'), put: count('Writer', 'PutItem'), update: count('Writer', 'UpdateItem'), nothing: count('Nothing', 'GetItem') };
  const writer = clientFor(gate.accessKeyOf('Writer'));
  await writer.send(new PutItemCommand({ TableName: 'gate-status', Item: item('counted') }));
  await writer.send(new GetItemCommand({ TableName: 'gate-status', Key: { id: { S: 'counted' } } }));
  await writer.send(new GetItemCommand({ TableName: 'gate-status', Key: { id: { S: 'counted' } } }));
  await expect(
    writer.send(new UpdateItemCommand({ TableName: 'gate-status', Key: { id: { S: 'counted' } }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'shard' }, ExpressionAttributeValues: { ':s': { S: 's9' } } })),
  ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  await clientFor(LOCAL_CREDENTIALS.accessKeyId).send(new GetItemCommand({ TableName: 'gate-status', Key: { id: { S: 'counted' } } }));
  expect({ get: count('Writer', 'GetItem'), put: count('Writer', 'PutItem'), update: count('Writer', 'UpdateItem'), nothing: count('Nothing', 'GetItem') }).toEqual({
    get: before.get + 2,
    put: before.put + 1,
    update: before.update + 1,
    nothing: before.nothing,
  });
  expect(gate.callCounts().every((row) => row.functionId === 'Writer' || row.functionId === 'Nothing')).toBe(true);
});

test('a request addressed to a name that is not loopback (DNS rebinding) is refused 403 and reaches nothing', async () => {
  const port = new URL(gate.endpoint).port;
  const put = (host: string, id: string) =>
    requestWithHost(gate.endpoint, host, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.PutItem',
        authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20260101/${LOCAL_REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ TableName: 'gate-other', Item: item(id) }),
    });
  for (const host of ['evil.example', `evil.example:${port}`]) {
    const refused = await put(host, `rebound-${host}`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toMatch(new RegExp(`^Host '${host.replace('.', '\\.')}' is not a loopback name: the local DynamoDB IAM gate`));
  }
  const admin = clientFor(LOCAL_CREDENTIALS.accessKeyId, emulators.dynamoEndpoint);
  for (const host of ['evil.example', `evil.example:${port}`]) {
    expect((await admin.send(new GetItemCommand({ TableName: 'gate-other', Key: { id: { S: `rebound-${host}` } } }))).Item).toBeUndefined();
  }
  // The same call addressed to loopback goes through.
  expect((await put(`localhost:${port}`, 'by-localhost')).status).toBe(200);
  expect((await admin.send(new GetItemCommand({ TableName: 'gate-other', Key: { id: { S: 'by-localhost' } } }))).Item).toEqual(item('by-localhost'));
});
