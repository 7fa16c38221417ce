/**
 * What the AWS SDK's logger middleware costs a function per call, and so what
 * lambdas/shared/sdk-client.ts `withoutSdkLogging` saves: the CPU time of the calls an apply
 * function makes (a three-item TransactWriteItems of catalog objects, a ten-event Query of the
 * log, a GetItem of the cursor) from a DynamoDB client with the SDK's default stack, against
 * the same client without the middleware, in alternating rounds in one process.
 *
 * The server is a stub in this process that answers each operation with a fixed body: the
 * figure is the client's own work (serializing, signing, parsing, and the middleware's copies),
 * which DynamoDB Local's would drown. The stub's own CPU counts on both sides alike, which
 * pulls the ratio toward 1: the saving in a function is at least what this prints.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { withoutSdkLogging } from '../lambdas/shared/sdk-client';

export interface SdkLoggingFigures {
  /** CPU milliseconds per call, median over the rounds. */
  withMiddleware: number;
  withoutMiddleware: number;
  callsPerRound: number;
  rounds: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export async function benchSdkLogging(options: { calls?: number; rounds?: number } = {}): Promise<SdkLoggingFigures> {
  const calls = options.calls ?? 600;
  const rounds = options.rounds ?? 5;
  // A feature type as the catalog stores one: a JSON body of a few KB.
  const body = {
    S: JSON.stringify({
      featureType: {
        name: 'roads',
        nativeName: 'roads',
        title: 'Roads',
        keywords: ['transport', 'network'],
        attributes: Array.from({ length: 20 }, (_, i) => ({ name: `attribute${i}`, binding: 'java.lang.String', nillable: true })),
      },
    }),
  };
  const answers: Record<string, string> = {
    TransactWriteItems: '{}',
    Query: JSON.stringify({
      Count: 10,
      Items: Array.from({ length: 10 }, (_, i) => ({ pk: { S: 'bench#log' }, sk: { N: String(i) }, body, origin: { S: 'master' }, kind: { S: 'featureType' } })),
    }),
    GetItem: JSON.stringify({ Item: { pk: { S: 'bench#cursor' }, sequence: { N: '42' } } }),
  };
  const server = createServer((request, response) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      response.end(answers[operation] ?? '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = (quiet: boolean) => {
    const plain = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    return quiet ? withoutSdkLogging(plain) : plain;
  };
  const commands = [
    new TransactWriteItemsCommand({
      TransactItems: [0, 1, 2].map((i) => ({
        Put: { TableName: 'store', Item: { pk: { S: `bench#${i}` }, sk: { S: 'featureType' }, body, sequence: { N: '43' } }, ConditionExpression: 'attribute_not_exists(pk)' },
      })),
    }),
    new QueryCommand({ TableName: 'log', KeyConditionExpression: 'pk = :pk AND sk >= :from', ExpressionAttributeValues: { ':pk': { S: 'bench#log' }, ':from': { N: '0' } } }),
    new GetItemCommand({ TableName: 'store', Key: { pk: { S: 'bench#cursor' } } }),
  ];
  const cpuPerCall = async (target: DynamoDBClient) => {
    const started = process.cpuUsage();
    for (let i = 0; i < calls; i++) await target.send(commands[i % commands.length] as never);
    const used = process.cpuUsage(started);
    return (used.user + used.system) / 1000 / calls;
  };
  try {
    const clients = { with: client(false), without: client(true) };
    // Warm both (JIT, connections) before anything is measured.
    await cpuPerCall(clients.with);
    await cpuPerCall(clients.without);
    const withRuns: number[] = [];
    const withoutRuns: number[] = [];
    for (let round = 0; round < rounds; round++) {
      withRuns.push(await cpuPerCall(clients.with));
      withoutRuns.push(await cpuPerCall(clients.without));
    }
    return { withMiddleware: median(withRuns), withoutMiddleware: median(withoutRuns), callsPerRound: calls, rounds };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
