// withoutSdkLogging: the SDK's logger middleware is gone from every kind of client the functions
// create (so an SDK release that renames it fails here), a client without it no longer builds
// the logged copies of a request, and every client lambdas/ creates goes through it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SDK_LOGGER_MIDDLEWARE, withoutSdkLogging } from '../../../lambdas/shared/sdk-client';

const ROOT = path.join(__dirname, '..', '..', '..');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const middlewareNames = (client: { middlewareStack: { identify(): string[] } }) => client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);

describe('withoutSdkLogging', () => {
  const clients = {
    DynamoDBClient: () => new DynamoDBClient({ region: 'us-east-1', credentials }),
    SNSClient: () => new SNSClient({ region: 'us-east-1', credentials }),
    SQSClient: () => new SQSClient({ region: 'us-east-1', credentials }),
    S3Client: () => new S3Client({ region: 'us-east-1', credentials }),
    LambdaClient: () => new LambdaClient({ region: 'us-east-1', credentials }),
    SecretsManagerClient: () => new SecretsManagerClient({ region: 'us-east-1', credentials }),
  };

  it.each(Object.entries(clients))('removes the logger middleware from a %s, and only it', (_name, create) => {
    const plain = middlewareNames(create());
    expect(plain).toContain(SDK_LOGGER_MIDDLEWARE);
    const quiet = middlewareNames(withoutSdkLogging(create()));
    expect(quiet).not.toContain(SDK_LOGGER_MIDDLEWARE);
    expect(quiet).toEqual(plain.filter((name) => name !== SDK_LOGGER_MIDDLEWARE));
  });

  describe('against a server', () => {
    let server: Server;
    let endpoint: string;
    beforeAll(async () => {
      server = createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          response.setHeader('content-type', 'application/x-amz-json-1.0');
          response.end(JSON.stringify({ Item: { pk: { S: 'a' }, body: { S: 'secret-ish' } } }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const send = async (quiet: boolean) => {
      const info = jest.fn();
      const logger = { debug: jest.fn(), info, warn: jest.fn(), error: jest.fn() };
      const client = new DynamoDBClient({ region: 'us-east-1', credentials, endpoint, logger, maxAttempts: 1 });
      const output = await (quiet ? withoutSdkLogging(client) : client).send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }));
      return { output, info };
    };

    it('the logger middleware hands the client logger a copy of the input and output', async () => {
      const { info } = await send(false);
      expect(info).toHaveBeenCalledWith(expect.objectContaining({ commandName: 'GetItemCommand', input: expect.any(Object), output: expect.any(Object) }));
    });

    it('without it the command answers the same and no copy is made', async () => {
      const { output, info } = await send(true);
      expect(output.Item).toEqual({ pk: { S: 'a' }, body: { S: 'secret-ish' } });
      expect(info).not.toHaveBeenCalled();
    });
  });

  it('wraps every SDK client lambdas/ creates', () => {
    const sourceFiles = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) return sourceFiles(full);
        return name.endsWith('.ts') ? [full] : [];
      });
    const created: string[] = [];
    const unwrapped: string[] = [];
    for (const file of sourceFiles(path.join(ROOT, 'lambdas'))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (!/\bnew (?:sdk\.)?[A-Z]\w*Client\(/.test(line)) return;
          const where = `${path.relative(ROOT, file)}:${index + 1}`;
          created.push(where);
          if (!/withoutSdkLogging\(new (?:sdk\.)?[A-Z]\w*Client\(/.test(line)) unwrapped.push(where);
        });
    }
    // The scan finds what it is meant to find: the functions create at least their DynamoDB, SNS, SQS, S3, Lambda and Secrets Manager clients.
    expect(created.length).toBeGreaterThanOrEqual(6);
    expect(unwrapped).toEqual([]);
  });
});
