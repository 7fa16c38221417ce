/**
 * fauxqs (SNS + SQS + S3 on ONE endpoint), in-process when possible, otherwise a supervised Node child.
 *
 * What fauxqs expects from code that creates topics/queues/buckets on it:
 *  - Credentials: anything, never validated (use LOCAL_CREDENTIALS).
 *  - Region: taken from the SigV4 Authorization header, fallback us-east-1. Region is part of a
 *    resource's identity (a queue created through an eu-west-1 client is invisible to us-east-1),
 *    so every client must use LOCAL_REGION.
 *  - Account id: always 000000000000 (LOCAL_ACCOUNT_ID), e.g.
 *      arn:aws:sqs:us-east-1:000000000000:<queue>   arn:aws:sns:us-east-1:000000000000:<topic>
 *  - Queue URLs: CreateQueue/GetQueueUrl/ListQueues return
 *      http://sqs.us-east-1.localhost:<fauxqsPort>/000000000000/<queue>
 *    whose host does not resolve (no *.localhost DNS). An SQS client built with an explicit
 *    `endpoint` ignores that host, but one configured through AWS_ENDPOINT_URL_SQS (or with no
 *    endpoint) sends the request to the queue URL's host and fails with ENOTFOUND. So hand out
 *    localQueueUrl() instead, http://127.0.0.1:<fauxqsPort>/000000000000/<queue>: fauxqs finds
 *    a queue by its name when the URL carries no region, so both forms address the same queue.
 *  - S3: set `forcePathStyle: true`. The SDK happens to use path style for an IP endpoint such as
 *    awsEndpoint, but with a host name (e.g. localhost) it goes virtual-hosted, which needs
 *    <bucket>.localhost DNS that does not exist here.
 *
 * fauxqs hard-codes 0.0.0.0 in startFauxqs(), which we redirect to 127.0.0.1 (see loopbackOnly),
 * and serves any Host: the same redirect puts ./loopback-host's check in front of its server, so a
 * request addressed to another name (a web page that rebound its name to 127.0.0.1) is refused 403.
 */
import { spawn } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { LOCAL_ACCOUNT_ID } from './account';
import { LocalStartError, errorCode, oneLine } from './errors';
import { guardServer } from './loopback-host.cjs';
import { PortInUseError } from './ports';
import { ManagedChild, waitUntilReady, type StartedService } from './supervisor';

// fauxqs is ESM-only; this CommonJS file may only load it with import(), so resolve its types likewise.
type FauxqsModule = typeof import('fauxqs', { with: { 'resolution-mode': 'import' } });
type FauxqsServer = Awaited<ReturnType<FauxqsModule['startFauxqs']>>;

export type FauxqsMode = 'in-process' | 'child';

/** A queue URL that works with every SQS client configuration (see the queue URL note above). */
export function localQueueUrl(awsEndpoint: string, queueName: string): string {
  return `${awsEndpoint.replace(/\/+$/, '')}/${LOCAL_ACCOUNT_ID}/${queueName}`;
}

export async function startFauxqsServer(
  port: number,
  dataDir: string | undefined,
  mode: 'auto' | FauxqsMode,
  timeoutMs: number,
): Promise<StartedService & { mode: FauxqsMode }> {
  const [major = 0] = process.versions.node.split('.').map(Number);
  if (major < 22) {
    throw new LocalStartError(
      `fauxqs needs Node 22+ (this is ${process.version}): run through npx (e.g. npx tsx ...) so node_modules/.bin/node is used`,
    );
  }
  const endpoint = `http://127.0.0.1:${port}`;
  if (mode !== 'child') {
    const fauxqs = await importFauxqs(mode === 'auto');
    if (fauxqs !== undefined) {
      const server = await startInProcess(fauxqs, port, dataDir);
      try {
        await waitUntilReady('fauxqs', endpoint, timeoutMs, undefined, () => probeSqs(endpoint));
      } catch (err) {
        await server.stop();
        throw err;
      }
      let stopping: Promise<void> | undefined;
      return { endpoint, mode: 'in-process', stop: () => (stopping ??= server.stop()) };
    }
  }
  const child = startFauxqsChild(port, dataDir);
  try {
    await waitUntilReady('fauxqs', endpoint, timeoutMs, child, () => probeSqs(endpoint));
  } catch (err) {
    await child.stop();
    if (child.outputTail().includes(`${CHILD_PORT_IN_USE} ${port}`)) throw portTaken(port);
    throw err;
  }
  return { endpoint, mode: 'child', stop: () => child.stop() };
}

/** Resolves to undefined (when allowed) if this context cannot import ES modules, e.g. a Jest VM. */
async function importFauxqs(allowUnavailable: boolean): Promise<FauxqsModule | undefined> {
  try {
    return await withoutSqliteWarning(() => import('fauxqs'));
  } catch (err) {
    if (allowUnavailable && errorCode(err)?.startsWith('ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING')) return undefined;
    throw new LocalStartError(`Cannot load fauxqs on Node ${process.version} (${oneLine(err)}): run npm ci, and use npx so Node 22 runs it`);
  }
}

/** fauxqs loads node:sqlite, whose ExperimentalWarning on Node 22 would only confuse `npm start` users. */
async function withoutSqliteWarning<T>(load: () => Promise<T>): Promise<T> {
  const original = process.emitWarning;
  const filtered = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const message = typeof warning === 'string' ? warning : warning.message;
    if (message.startsWith('SQLite is an experimental feature')) return;
    (original as (...a: unknown[]) => void).call(this, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
  try {
    return await load();
  } finally {
    if (process.emitWarning === filtered) process.emitWarning = original;
  }
}

async function startInProcess(fauxqs: FauxqsModule, port: number, dataDir: string | undefined): Promise<FauxqsServer> {
  try {
    return await loopbackOnly(port, () =>
      fauxqs.startFauxqs({ port, logger: false, ...(dataDir === undefined ? {} : { dataDir }) }),
    );
  } catch (err) {
    if (errorCode(err) === 'EADDRINUSE') {
      throw portTaken(port);
    }
    throw err;
  }
}

/** What the refusal of a request addressed to another name calls the emulator. */
const SERVICE = 'the local SNS/SQS/S3 emulator (fauxqs)';

/**
 * startFauxqs() always listens on 0.0.0.0 and has no host option. While it starts, rewrite that one
 * listen call (matched by its port) to 127.0.0.1 so the emulator is not exposed to the network,
 * and guard that server's requests by their Host (fauxqs has added its request listener by then).
 */
async function loopbackOnly<T>(port: number, start: () => Promise<T>): Promise<T> {
  const original = net.Server.prototype.listen;
  const patched = function (this: net.Server, ...args: unknown[]): net.Server {
    const [first] = args;
    if (typeof first === 'object' && first !== null && 'host' in first && 'port' in first) {
      const options = first as net.ListenOptions;
      if (options.host === '0.0.0.0' && options.port === port) {
        args[0] = { ...options, host: '127.0.0.1' };
        if ('listeners' in this) guardServer(this as HttpServer, SERVICE);
      }
    }
    return (original as (...a: unknown[]) => net.Server).apply(this, args);
  };
  net.Server.prototype.listen = patched as typeof original;
  try {
    return await start();
  } finally {
    // Only restore our own patch, in case someone else wrapped listen meanwhile.
    if (net.Server.prototype.listen === patched) net.Server.prototype.listen = original;
  }
}

function portTaken(port: number): PortInUseError {
  return new PortInUseError(port, `Port ${port} (fauxqs SNS/SQS/S3) was taken while starting: stop the other process or choose another port`);
}

/** The line the child prints, with the port, when it cannot listen because the port is in use. */
const CHILD_PORT_IN_USE = 'fauxqs-child: EADDRINUSE';
/** The line the child prints once it listens: until then, an answer on its port is another process's. */
const CHILD_LISTENING = 'fauxqs-child: listening';

/** Same startup as in-process, for contexts that cannot import() ES modules (see importFauxqs). */
const FAUXQS_CHILD_SCRIPT = `
import net from 'node:net';
import { createRequire } from 'node:module';
const { port, dataDir, guard } = JSON.parse(process.env.FAUXQS_CHILD_OPTIONS);
const { guardServer } = createRequire(guard)(guard);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] && typeof args[0] === 'object' && args[0].host === '0.0.0.0') {
    args[0] = { ...args[0], host: '127.0.0.1' };
    guardServer(this, ${JSON.stringify(SERVICE)});
  }
  return listen.apply(this, args);
};
const { startFauxqs } = await import('fauxqs');
let server;
try {
  server = await startFauxqs({ port, logger: false, ...(dataDir ? { dataDir } : {}) });
} catch (err) {
  if (err?.code !== 'EADDRINUSE') throw err;
  console.error('${CHILD_PORT_IN_USE} ' + port);
  process.exit(1);
}
console.log('${CHILD_LISTENING}');
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// stdin is a pipe from the parent: EOF means the parent is gone, even if it was SIGKILLed.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
`;

function startFauxqsChild(port: number, dataDir: string | undefined): ManagedChild {
  return new ManagedChild(
    'fauxqs',
    spawn(process.execPath, ['--input-type=module', '--eval', FAUXQS_CHILD_SCRIPT], {
      // The eval'd script resolves 'fauxqs' from its working directory, i.e. this package.
      cwd: __dirname,
      env: { ...process.env, FAUXQS_CHILD_OPTIONS: JSON.stringify({ port, dataDir, guard: path.join(__dirname, 'loopback-host.cjs') }) },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    CHILD_LISTENING,
  );
}

/** SQS ListQueues over the JSON protocol, without pulling an SQS client into runtime code. */
async function probeSqs(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
    body: '{}',
    signal: AbortSignal.timeout(2000),
  });
  const body = await response.text();
  if (!response.ok || !body.includes('QueueUrls')) throw new Error(`ListQueues answered ${response.status}: ${body.slice(0, 200)}`);
}
