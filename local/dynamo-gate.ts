/**
 * IAM in front of DynamoDB Local: every function reaches DynamoDB through this proxy with its
 * own access key, and a call its role's policy does not allow is refused with DynamoDB's
 * `AccessDeniedException`, as in AWS. So a missing permission fails locally, in `npm start`
 * and the integration tests, instead of on the first deploy. (Calls that are not from a
 * function, such as the runtime's own table setup, go straight to DynamoDB Local.)
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dynamoPermissions, isAllowed, type PolicyStatement } from './iam';

export interface DynamoGate {
  /** The endpoint functions use instead of DynamoDB Local's. */
  readonly endpoint: string;
  /** The access key a function signs with: how the gate knows who calls. */
  accessKeyOf(functionId: string): string;
  close(): Promise<void>;
}

const ACCESS_KEY_PREFIX = 'LOCALFN';
const CREDENTIAL = /Credential=([^/,\s]+)\//;

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function deny(response: ServerResponse, message: string): void {
  const body = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException', message });
  response.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-errortype': 'AccessDeniedException',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * @param upstream DynamoDB Local's endpoint
 * @param policies each function's policy statements, by logical id
 * @param onDenied told of every refused call (the local log)
 */
export async function startDynamoGate(
  upstream: string,
  policies: ReadonlyMap<string, readonly PolicyStatement[]>,
  onDenied: (message: string) => void = () => undefined,
): Promise<DynamoGate> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const functionByKey = new Map([...policies.keys()].map((id) => [`${ACCESS_KEY_PREFIX}${id}`, id]));

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const accessKey = CREDENTIAL.exec(request.headers.authorization ?? '')?.[1];
      const functionId = accessKey === undefined ? undefined : functionByKey.get(accessKey);
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1];
      if (functionId !== undefined && operation) {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          // DynamoDB Local answers the malformed request itself.
        }
        const statements = policies.get(functionId) ?? [];
        const refused = dynamoPermissions(operation, parsed).find((permission) => !isAllowed(statements, permission));
        if (refused) {
          const message =
            `User: arn:aws:sts::000000000000:assumed-role/${functionId}/local is not authorized to perform: ` +
            `${refused.action} on resource: ${refused.resource} because no identity-based policy allows the ${refused.action} action`;
          onDenied(message);
          deny(response, message);
          return;
        }
      }
      const forwarded = httpRequest(
        { agent, host: target.hostname, port: target.port, method: request.method, path: request.url, headers: { ...request.headers, host: target.host } },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', (error) => {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`DynamoDB Local did not answer: ${error.message}`);
      });
      forwarded.end(body);
    })();
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyOf: (functionId) => `${ACCESS_KEY_PREFIX}${functionId}`,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
