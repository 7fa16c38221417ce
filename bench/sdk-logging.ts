/**
 * What the AWS SDK's logger middleware costs a function per call, and so what
 * lambdas/shared/sdk-client.ts `withoutSdkLogging` saves: the CPU time of the calls an apply
 * function makes (a three-item TransactWriteItems of catalog objects, a ten-event Query of the
 * log, a GetItem of the cursor) from a DynamoDB client with the SDK's default stack, against
 * the same client without the middleware, in alternating rounds in one process.
 *
 * The server is a stub in a child process that answers each operation with a fixed body, and
 * the figure is this process's CPU time: the client's own work (serializing, signing, parsing,
 * and the middleware's copies), which DynamoDB Local's would drown.
 */
import { spawn } from 'node:child_process';
import { DynamoDBClient, GetItemCommand, QueryCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { withoutSdkLogging } from '../lambdas/shared/sdk-client';
import { median } from './profile';

export interface SdkLoggingFigures {
  /** CPU milliseconds per call, median over the rounds. */
  withMiddleware: number;
  withoutMiddleware: number;
  callsPerRound: number;
  rounds: number;
}

export async function benchSdkLogging(options: { calls?: number; rounds?: number } = {}): Promise<SdkLoggingFigures> {
  const calls = options.calls ?? 1000;
  const rounds = options.rounds ?? 9;
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
  // The stub runs in a child process, so that this process's CPU time is the client's alone.
  const stub = spawn(
    process.execPath,
    [
      '-e',
      `const answers = ${JSON.stringify(answers)};
       const server = require('node:http').createServer((request, response) => {
         const operation = String(request.headers['x-amz-target'] || '').split('.')[1] || '';
         request.resume();
         request.on('end', () => { response.setHeader('content-type', 'application/x-amz-json-1.0'); response.end(answers[operation] || '{}'); });
       });
       server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    stub.stdout.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
    stub.once('exit', (code) => reject(new Error(`the stub server exited with ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
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
    // Each side goes first in every other round, so neither gains from going second.
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        withRuns.push(await cpuPerCall(clients.with));
        withoutRuns.push(await cpuPerCall(clients.without));
      } else {
        withoutRuns.push(await cpuPerCall(clients.without));
        withRuns.push(await cpuPerCall(clients.with));
      }
    }
    return { withMiddleware: median(withRuns), withoutMiddleware: median(withoutRuns), callsPerRound: calls, rounds };
  } finally {
    stub.kill();
  }
}
