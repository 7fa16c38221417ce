/**
 * IAM in front of DynamoDB Local: every function reaches DynamoDB through this proxy with its
 * own access key, and a call its role's policy does not allow is refused with DynamoDB's
 * `AccessDeniedException`, as in AWS. So a missing permission fails locally, in `npm start`
 * and the integration tests, instead of on the first deploy. (Calls that are not from a
 * function, such as the runtime's own table setup, go straight to DynamoDB Local.)
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCOUNT_ID } from './account';
import { dynamoPermissions, isAllowed, type PolicyStatement } from './iam';
import { foreignHostMessage, isLoopbackHost } from './loopback-host.cjs';

export interface DynamoGate {
  /** The endpoint functions use instead of DynamoDB Local's. */
  readonly endpoint: string;
  /** The access key a function signs with: how the gate knows who calls. */
  accessKeyOf(functionId: string): string;
  /**
   * Fault injection for tests (`POST /__local/faults/refuse-writes`): from now on, refuse with
   * `AccessDeniedException` every write by this function of an item whose sort key `key` is
   * `itemKey`, as an explicit deny in its role would. It lets a test make exactly one node
   * unable to apply one object, which nothing in the deployed product can ask for. `itemKey`
   * `*` refuses every write of the function; `<cluster>/0` refuses the event log's head item,
   * which every log append writes.
   */
  refuseWrites(functionId: string, itemKey: string): void;
  /** Lifts every refusal `refuseWrites` added. */
  clearFaults(): void;
  /** The function an access key belongs to (other local endpoints identify callers by it too). */
  functionOf(accessKey: string): string | undefined;
  /**
   * How many calls each function has sent, by operation, since the gate started (refused ones
   * too): what the propagation bench's `calls` part counts per event, which no load on the
   * machine changes, where times do.
   */
  callCounts(): { readonly functionId: string; readonly operation: string; readonly calls: number }[];
  close(): Promise<void>;
}

const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** The sort keys (`key` attribute) of the items a write request touches. */
function writtenItemKeys(operation: string, body: Record<string, unknown>): string[] {
  type Keyed = { key?: { S?: string }; cluster?: { S?: string }; sequence?: { N?: string } };
  type Request = { Item?: Keyed; Key?: Keyed };
  // Node store items by their sort key `key`; event log items (partition `cluster`, sort
  // `sequence`) as `<cluster>/<sequence>`, so a test can refuse the log head (`<cluster>/0`, which
  // every append's transaction writes) and nothing else of the table.
  const keyOf = (request: Request | undefined) => {
    const item = request?.Item ?? request?.Key;
    if (item?.key?.S !== undefined) return item.key.S;
    return item?.cluster?.S !== undefined && item.sequence?.N !== undefined ? `${item.cluster.S}/${item.sequence.N}` : undefined;
  };
  const requests: (Request | undefined)[] = [];
  if (operation === 'TransactWriteItems') {
    for (const item of (body.TransactItems as Record<string, Request>[] | undefined) ?? []) requests.push(...Object.values(item));
  } else if (operation === 'BatchWriteItem') {
    for (const writes of Object.values((body.RequestItems as Record<string, { PutRequest?: Request; DeleteRequest?: Request }[]> | undefined) ?? {})) {
      for (const write of writes) requests.push(write.PutRequest ?? write.DeleteRequest);
    }
  } else {
    requests.push(body as Request);
  }
  return requests.map(keyOf).filter((key): key is string => key !== undefined);
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

function deny(response: ServerResponse, message: string, status = 400): void {
  const body = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException', message });
  response.writeHead(status, {
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
 * @param partitionKeys each table's partition key attribute, by table name (for `dynamodb:LeadingKeys`)
 */
export async function startDynamoGate(
  upstream: string,
  policies: ReadonlyMap<string, readonly PolicyStatement[]>,
  onDenied: (message: string) => void = () => undefined,
  partitionKeys: ReadonlyMap<string, string> = new Map(),
): Promise<DynamoGate> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const functionByKey = new Map([...policies.keys()].map((id) => [`${ACCESS_KEY_PREFIX}${id}`, id]));
  const refusedWrites = new Map<string, Set<string>>();
  /** `<function id> <operation>` -> calls. */
  const calls = new Map<string, number>();

  const server = createServer((request, response) => {
    // DNS rebinding (./loopback-host): a request addressed to another name reaches no table.
    if (!isLoopbackHost(request.headers.host)) {
      request.resume();
      response.shouldKeepAlive = false;
      deny(response, foreignHostMessage(request.headers.host, 'the local DynamoDB IAM gate'), 403);
      return;
    }
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(request);
      } catch {
        // The caller hung up before its request ended: there is no one to answer.
        response.destroy();
        return;
      }
      const accessKey = CREDENTIAL.exec(request.headers.authorization ?? '')?.[1];
      const functionId = accessKey === undefined ? undefined : functionByKey.get(accessKey);
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1];
      if (functionId !== undefined && operation) {
        const counted = `${functionId} ${operation}`;
        calls.set(counted, (calls.get(counted) ?? 0) + 1);
        let parsed: Record<string, unknown> = {};
        try {
          const value: unknown = JSON.parse(body.toString('utf8'));
          // `null`, an array or a number is as malformed to DynamoDB as a body that is not JSON.
          if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>;
        } catch {
          // DynamoDB Local answers the malformed request itself.
        }
        const statements = policies.get(functionId) ?? [];
        const refused = dynamoPermissions(operation, parsed, (table) => partitionKeys.get(table)).find((permission) => !isAllowed(statements, permission));
        if (refused) {
          const message =
            `User: arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/${functionId}/local is not authorized to perform: ` +
            `${refused.action} on resource: ${refused.resource} because no identity-based policy allows the ${refused.action} action`;
          onDenied(message);
          deny(response, message);
          return;
        }
        const refusedKeys = refusedWrites.get(functionId);
        // `*` refuses every write of the function (e.g. a publish that dies before its log append).
        const refusedKey =
          refusedKeys && WRITE_OPERATIONS.has(operation)
            ? refusedKeys.has('*')
              ? '*'
              : writtenItemKeys(operation, parsed).find((key) => refusedKeys.has(key))
            : undefined;
        if (refusedKey !== undefined) {
          const message =
            `User: arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/${functionId}/local is not authorized to perform: ` +
            `dynamodb:${operation} on item ${refusedKey} with an explicit deny (local fault injection)`;
          onDenied(message);
          deny(response, message);
          return;
        }
      }
      const forwarded = httpRequest(
        { agent, host: target.hostname, port: target.port, method: request.method, path: request.url, headers: { ...request.headers, host: target.host } },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          // DynamoDB Local dying in the middle of its answer ends ours too: pipe() alone would
          // leave the caller waiting for the rest until its function timed out.
          answer.on('close', () => {
            if (!answer.complete) response.destroy();
          });
          answer.pipe(response);
        },
      );
      forwarded.on('error', (error) => {
        // Once the answer has begun, it cannot become a 502: the caller sees it cut short.
        if (response.headersSent) {
          response.destroy();
          return;
        }
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`DynamoDB Local did not answer: ${error.message}`);
      });
      forwarded.end(body);
    })().catch((error: unknown) => {
      // Nothing a caller sends may end the cluster: a request the gate fails on is answered 500.
      console.error(`DynamoDB IAM gate: ${String(error)}`);
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('The local IAM gate failed on this request');
      } else response.destroy();
    });
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
    refuseWrites: (functionId, itemKey) => {
      const keys = refusedWrites.get(functionId) ?? new Set<string>();
      keys.add(itemKey);
      refusedWrites.set(functionId, keys);
    },
    clearFaults: () => refusedWrites.clear(),
    functionOf: (accessKey) => functionByKey.get(accessKey),
    callCounts: () =>
      [...calls].map(([counted, count]) => {
        const [functionId = '', operation = ''] = counted.split(' ');
        return { functionId, operation, calls: count };
      }),
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
