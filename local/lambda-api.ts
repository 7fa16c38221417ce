/**
 * The one Lambda API call the cluster's functions make, served locally: UpdateEventSourceMapping
 * (REST-JSON, `PUT /2015-03-31/event-source-mappings/{UUID}` with `{"Enabled": bool}`), which
 * pauses or resumes the queue poller standing in for that mapping, plus GetEventSourceMapping to
 * read its state. The functions reach it through `AWS_ENDPOINT_URL_LAMBDA` with the official SDK
 * client, as they reach Lambda in AWS. No emulator on npm serves event source mappings over
 * real queues, so this is hand-written; it answers in the wire format the SDK parses and, like
 * the DynamoDB gate, refuses a caller whose role the template does not allow the call
 * (AccessDeniedException), knowing the caller by its access key.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAllowed, type PolicyStatement } from './iam';
import { foreignHostMessage, isLoopbackHost } from './loopback-host.cjs';
import type { QueuePoller } from './messaging';
import { LOCAL_ACCOUNT_ID as LOCAL_ACCOUNT, LOCAL_REGION } from './account';

export interface LocalLambdaApi {
  readonly endpoint: string;
  close(): Promise<void>;
}

const MAPPING_PATH = /^\/2015-03-31\/event-source-mappings\/([^/?]+)\/?$/;
const CREDENTIAL = /Credential=([^/,\s]+)\//;
const MAX_BODY_BYTES = 64 * 1024;

export function eventSourceMappingArn(uuid: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-source-mapping:${uuid}`;
}

function send(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) request.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * @param pollers the queue pollers by mapping UUID
 * @param identify the function (logical id) an access key belongs to, when IAM is enforced
 * @param policies each function's policy statements, when IAM is enforced
 */
export async function startLocalLambdaApi(options: {
  pollers: () => ReadonlyMap<string, QueuePoller>;
  /** Told each mapping switched on or off (the cluster keeps the state across restarts, as AWS does). */
  onSwitched?: (uuid: string, enabled: boolean) => void;
  identify?: (accessKey: string) => string | undefined;
  policies?: ReadonlyMap<string, readonly PolicyStatement[]>;
}): Promise<LocalLambdaApi> {
  const describe = (uuid: string, poller: QueuePoller, state: 'Enabled' | 'Disabled' | 'Enabling' | 'Disabling') => ({
    UUID: uuid,
    EventSourceMappingArn: eventSourceMappingArn(uuid),
    FunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${poller.functionId}`,
    State: state,
    LastModified: Date.now() / 1000,
  });

  const server = createServer((request, response) => {
    void (async () => {
      // DNS rebinding (./loopback-host): a request addressed to another name switches nothing.
      if (!isLoopbackHost(request.headers.host)) {
        request.resume();
        send(response, 403, { Type: 'User', Message: foreignHostMessage(request.headers.host, 'the local Lambda API') }, 'AccessDeniedException');
        return;
      }
      const match = MAPPING_PATH.exec(request.url ?? '');
      const method = request.method ?? 'GET';
      if (!match || (method !== 'PUT' && method !== 'GET')) {
        send(response, 404, { Type: 'User', Message: `The local Lambda API serves only event source mappings, not ${method} ${request.url}` }, 'ResourceNotFoundException');
        return;
      }
      const uuid = decodeURIComponent(match[1] as string);
      const action = method === 'PUT' ? 'lambda:UpdateEventSourceMapping' : 'lambda:GetEventSourceMapping';
      if (options.identify && options.policies) {
        const accessKey = CREDENTIAL.exec(request.headers.authorization ?? '')?.[1];
        const caller = accessKey === undefined ? undefined : options.identify(accessKey);
        const allowed = caller !== undefined && isAllowed(options.policies.get(caller) ?? [], { action, resource: eventSourceMappingArn(uuid) });
        if (!allowed) {
          send(response, 403, { Type: 'User', Message: `${caller ?? 'An unknown caller'} is not authorized to perform: ${action} on resource: ${eventSourceMappingArn(uuid)}` }, 'AccessDeniedException');
          return;
        }
      }
      const poller = options.pollers().get(uuid);
      if (!poller) {
        send(response, 404, { Type: 'User', Message: `The resource you requested does not exist. (Service: Lambda, event source mapping ${uuid})` }, 'ResourceNotFoundException');
        return;
      }
      if (method === 'GET') {
        send(response, 200, describe(uuid, poller, poller.isRunning ? 'Enabled' : 'Disabled'));
        return;
      }
      let enabled: unknown;
      try {
        enabled = (JSON.parse((await readBody(request)) || '{}') as { Enabled?: unknown }).Enabled;
      } catch {
        send(response, 400, { Type: 'User', Message: 'The request body is not valid JSON' }, 'InvalidParameterValueException');
        return;
      }
      if (enabled === undefined) {
        send(response, 202, describe(uuid, poller, poller.isRunning ? 'Enabled' : 'Disabled'));
        return;
      }
      if (typeof enabled !== 'boolean') {
        send(response, 400, { Type: 'User', Message: 'Enabled must be a boolean' }, 'InvalidParameterValueException');
        return;
      }
      // As in AWS, the answer is the transition: when it is sent the poller receives no more, while
      // a batch it received is still delivered (its function may take minutes with it).
      if (enabled) poller.start();
      else await poller.disable();
      options.onSwitched?.(uuid, enabled);
      send(response, 202, describe(uuid, poller, enabled ? 'Enabling' : 'Disabling'));
    })().catch((error: unknown) => send(response, 500, { Type: 'Service', Message: String(error) }, 'ServiceException'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    // The cluster is stopping: a request a client still holds open (a body it never finishes
    // sending) or a kept-alive connection must not hold the stop for the server's timeouts.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
