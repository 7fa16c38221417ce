/**
 * The whole cluster on one machine: synthesizes the CDK app, starts the emulators, creates what
 * the template declares, runs the bundled functions and serves the API. Used by `npm start`,
 * the integration tests and the benchmarks alike.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import * as path from 'node:path';
import { createClusterApp, withQuietBundling } from '../cdk/app';
import { bundleCacheDir } from '../cdk/bundle-cache';
import { rateToMs, type ClusterConfig } from '../cdk/cluster-config';
import { CONFIG_SYNC_ENV, CONFIG_SYNC_LOCAL_ENV, CONFIG_SYNC_LOCAL_PASSTHROUGH_ENV } from '../lambdas/config-sync/env-names';
import { CredentialsStore } from '../lambdas/shared/adapters/credentials-store';
import { canPublish } from '../lambdas/shared/cluster-model';
import { LocalApiServer, type AdminHandler } from './api-server';
import { readTokenFile, settleTokens, unquotedJsonError, writePrivateJson, writeTokenFile, type HeldElsewhere } from './node-tokens';
import { replaceFile } from './replace-file';
import { assemblyDirName, removeStaleAssemblies } from './stale-assemblies';
import { runningClusterFile, START_LOCK_FILE, takeStartLock, writeClusterFile } from './cluster-file';
import { LocalStartError, errorCode, oneLine } from './errors';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './account';
import {
  assertPortFree,
  localAwsEnvironment,
  localQueueUrl,
  startEmulators,
  type RunningEmulators,
} from './emulators';
import { startDynamoGate } from './dynamo-gate';
import { startLocalLambdaApi } from './lambda-api';
import { localGeoServerCredentials } from './geoserver';
import { LocalFunctionHost, type InvocationListener } from './lambda-runner';
import { provisionMessaging, type RunningMessaging } from './messaging';
import { flattenNestedStacks } from './nested-stacks';
import { readTopology, type CfnTemplate, type LocalTable, type LocalTopology } from './template';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_STATE_DIR = path.join(REPO_ROOT, '.local');

export interface LocalClusterOptions {
  /** API port; 0 picks a free one. @default 3000 */
  port?: number;
  /** Keep data between runs under `stateDir`. @default true */
  persist?: boolean;
  /** Delete persisted data first. @default false */
  fresh?: boolean;
  /** @default <repo>/.local */
  stateDir?: string;
  /** @default 8000 (0 = any free port) */
  dynamoPort?: number;
  /** @default 4566 (0 = any free port) */
  awsPort?: number;
  /** Run schedules on their timers; tests trigger them explicitly instead. @default true */
  runSchedules?: boolean;
  /** Overrides cdk.json context, e.g. a test cluster. */
  context?: Record<string, unknown>;
  /**
   * Refuse a function's DynamoDB call its role's policy does not allow, as AWS does (see
   * local/dynamo-gate.ts). Off only for benchmarks, which measure our code, not the emulation.
   * @default true
   */
  enforceIam?: boolean;
  /**
   * Host names besides loopback's that the API's routes answer to (`--allow-host`); every other
   * name is refused 403, against DNS rebinding (local/loopback-host.cjs). @default none
   */
  allowedHosts?: readonly string[];
  /**
   * Where the functions' own output goes (their JSON log lines and metrics), appended.
   * @default this process's stdout and stderr
   */
  functionLogFile?: string;
  /** Told of every function invocation once it ended (the benches' timelines). */
  onInvocation?: InvocationListener;
  log?: (line: string) => void;
}

export interface LocalCluster {
  url: string;
  /** A working token per declared node and operator, but those in `tokensElsewhere`. */
  tokens: Record<string, string>;
  /** Names a persisted restart has no token of: one minted since with `geocluster token issue` ('issued'), or revoked ('revoked'). */
  tokensElsewhere: Record<string, HeldElsewhere>;
  cluster: ClusterConfig;
  topology: LocalTopology;
  emulators: RunningEmulators;
  /** Fires a schedule now, with `time` as the event's clock. */
  runSchedule(name: string, time?: Date): Promise<unknown[]>;
  stop(): Promise<void>;
}

/** Synthesizes the app into `outdir` and reads its topology (names and bundles; no emulator needed). */
export function synthesizeTopology(outdir: string, context?: Record<string, unknown>): LocalTopology {
  const { assembly, stack } = withQuietBundling(() => {
    const { app, stack } = createClusterApp({ outdir, context, bundleCacheDir: bundleCacheDir(), cloudFormationValidation: false });
    return { assembly: app.synth(), stack };
  });
  return readTopology(flattenNestedStacks(assembly.getStackArtifact(stack.artifactId).template, assembly.directory) as CfnTemplate, assembly.directory, {
    queueUrl: (name) => name,
    secretString: localSecrets(undefined),
  });
}

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  // A run that keeps its data in stateDir (or wipes it, --fresh) holds it from its first step to its stop.
  if (!((options.persist ?? true) || options.fresh)) return startUnlocked(options);
  const running = runningClusterFile(stateDir);
  if (running === undefined) {
    const lock = takeStartLock(stateDir);
    if ('heldBy' in lock) {
      throw new LocalStartError(
        `a local cluster of this checkout is already starting or running (pid ${lock.heldBy}; ${path.join(stateDir, START_LOCK_FILE)}) and keeps its data in ${stateDir}: ` +
          `stop it first (Ctrl-C where it runs, or kill -INT ${lock.heldBy}), or run one that keeps nothing beside it: npm start -- --in-memory --port 0 --dynamo-port 0 --aws-port 0`,
      );
    }
    try {
      const cluster = await startUnlocked(options);
      return {
        ...cluster,
        stop: async () => {
          try {
            await cluster.stop();
          } finally {
            lock.release();
          }
        },
      };
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  return startUnlocked(options);
}

async function startUnlocked(options: LocalClusterOptions): Promise<LocalCluster> {
  const log = options.log ?? (() => undefined);
  const port = options.port ?? 3000;
  const persist = options.persist ?? true;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const dataDir = path.join(stateDir, 'data');
  // A persisted run of this checkout already running owns stateDir: a second one would wipe its
  // data under it (--fresh) or rewrite its assembly before failing on a port, so it is refused
  // before anything is touched. An --in-memory run keeps its own assembly and no data: it may run beside.
  const running = persist || options.fresh ? runningClusterFile(stateDir) : undefined;
  if (running) {
    throw new LocalStartError(
      `a local cluster of this checkout is already running (pid ${running.pid}, ${String(running.url)}; ${path.join(stateDir, 'cluster.json')}) and keeps its data in ${stateDir}: ` +
        `stop it first (Ctrl-C where it runs, or kill -INT ${running.pid}), or run one that keeps nothing beside it: npm start -- --in-memory --port 0 --dynamo-port 0 --aws-port 0`,
    );
  }
  if (port !== 0) {
    // Free now, the port would be taken by this run's own emulator before the API binds it, and
    // the API's "in use" would send the developer looking for another process.
    const shared =
      port === (options.dynamoPort ?? 8000) ? "DynamoDB Local's (--dynamo-port, 8000 unless given)"
      : port === (options.awsPort ?? 4566) ? "fauxqs SNS/SQS/S3's (--aws-port, 4566 unless given)"
      : undefined;
    if (shared) throw new LocalStartError(`--port ${port} is also ${shared}: the API and the emulators each need a port of their own (0 picks a free one)`);
    await assertPortFree(port, 'API', 'stop the other process or pass --port N');
  }
  if (options.fresh && existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });

  // Read before anything starts: a file that cannot be read stops the start with its name.
  const mappingsFile = path.join(dataDir, 'disabled-event-source-mappings.json');
  const disabledMappings = persist ? readDisabledMappings(mappingsFile) : new Set<string>();

  removeStaleAssemblies(stateDir);
  log('Synthesizing the CDK app (bundling functions with esbuild, or reusing unchanged bundles)...');
  const assemblyDir = path.join(stateDir, persist ? 'cdk.out' : assemblyDirName());
  const { assembly, stack } = withQuietBundling(() => {
    const { app, stack } = createClusterApp({ outdir: assemblyDir, context: options.context, bundleCacheDir: bundleCacheDir(), cloudFormationValidation: false });
    return { assembly: app.synth(), stack };
  });
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const template = flattenNestedStacks(artifact.template, assembly.directory) as CfnTemplate & { Outputs?: Record<string, { Value: unknown }> };

  // Opened before anything starts: a file that cannot be written stops the start with its name.
  const functionLog = options.functionLogFile === undefined ? undefined : openFunctionLog(options.functionLogFile);

  log('Starting DynamoDB Local and fauxqs (SNS/SQS/S3)...');
  let emulators: RunningEmulators;
  try {
    emulators = await startEmulators({
      dataDir: persist ? dataDir : undefined,
      dynamoPort: options.dynamoPort ?? 8000,
      fauxqsPort: options.awsPort ?? 4566,
    });
  } catch (error) {
    functionLog?.destroy();
    throw error;
  }
  const stopped: Array<() => Promise<void>> = [() => emulators.stop()];
  const stopAll = async () => {
    for (const stop of stopped.reverse()) await stop().catch(() => undefined);
    if (!persist) rmSync(assemblyDir, { recursive: true, force: true });
  };

  try {
    const topology = readTopology(template, assembly.directory, {
      queueUrl: (name) => localQueueUrl(emulators.awsEndpoint, name),
      secretString: localSecrets(persist ? path.join(stateDir, 'secrets.json') : undefined),
    });
    const dynamo = new DynamoDBClient({ endpoint: emulators.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const createdTables = new Set<string>();
    for (const table of topology.tables) if (await ensureTable(dynamo, table)) createdTables.add(table.tableName);
    const messaging: RunningMessaging = await provisionMessaging(topology, emulators);

    const credentialsTable = outputValue(template, 'CredentialsTableName', topology);
    // A persisted restart keeps the credentials the table holds (local/node-tokens.ts); a table
    // this start created (first run, --fresh, --in-memory) gets a new token for every name.
    const tokenFile = persist ? path.join(stateDir, 'node-tokens.json') : undefined;
    const tableIsNew = createdTables.has(credentialsTable);
    const { tokens, elsewhere: tokensElsewhere } = await settleTokens(
      new CredentialsStore(dynamo, credentialsTable),
      [...stack.cluster.nodes, ...stack.cluster.operators].map((member) => member.name),
      tokenFile && !tableIsNew ? readTokenFile(tokenFile) : {},
      tableIsNew,
    );
    if (tokenFile) writeTokenFile(tokenFile, tokens);

    const gate =
      options.enforceIam === false
        ? undefined
        : await startDynamoGate(
            emulators.dynamoEndpoint,
            new Map([...topology.functions.values()].map((fn) => [fn.logicalId, fn.policy])),
            // Always shown, even when quiet: it is a bug in the stack's policies.
            (message) => (options.log ?? console.error)(`IAM denied: ${message}`),
            new Map(topology.tables.flatMap((table) => table.keySchema.filter((key) => key.KeyType === 'HASH').map((key) => [table.tableName, key.AttributeName] as const))),
          );
    if (gate) stopped.push(() => gate.close());
    // Pausing a node switches its apply function's event source mapping through the Lambda API.
    // An event source mapping keeps its state in AWS; here the disabled ones are kept with the
    // data (so --fresh forgets them with the pauses), and come back disabled after a restart.
    const lambdaApi = await startLocalLambdaApi({
      pollers: () => messaging.pollersByMapping(),
      onSwitched: (uuid, enabled) => {
        if (enabled) disabledMappings.delete(uuid);
        else disabledMappings.add(uuid);
        if (persist) replaceFile(mappingsFile, `${JSON.stringify([...disabledMappings])}\n`);
      },
      ...(gate
        ? {
            identify: (accessKey: string) => gate.functionOf(accessKey),
            policies: new Map([...topology.functions.values()].map((fn) => [fn.logicalId, fn.policy])),
          }
        : {}),
    });
    stopped.push(() => lambdaApi.close());
    // Test tuning of the local runtime (e.g. a shorter retry backoff), when this process was given it.
    const passedThrough = Object.fromEntries(CONFIG_SYNC_LOCAL_PASSTHROUGH_ENV.flatMap((name) => (process.env[name] ? [[name, process.env[name] as string]] : [])));
    const sharedEnvironment = { ...localAwsEnvironment(emulators), AWS_ENDPOINT_URL_LAMBDA: lambdaApi.endpoint, ...passedThrough };
    const functionOutput = functionLog;
    if (functionOutput) stopped.push(() => new Promise<void>((resolve) => functionOutput.end(resolve)));
    const hosts = new Map<string, LocalFunctionHost>();
    for (const fn of topology.functions.values()) {
      const base = gate
        ? { ...sharedEnvironment, AWS_ENDPOINT_URL_DYNAMODB: gate.endpoint, AWS_ACCESS_KEY_ID: gate.accessKeyOf(fn.logicalId) }
        : sharedEnvironment;
      // No Secrets Manager here: a GeoServer node's credentials come from this process's environment
      // (for the gateway, which reads its writes back with them, its master's).
      const geoserverNode = fn.environment[CONFIG_SYNC_ENV.geoserverCredentialsSecret]
        ? (fn.environment[CONFIG_SYNC_ENV.nodeName] ?? fn.environment[CONFIG_SYNC_ENV.gatewayMasterNode])
        : undefined;
      const environment = geoserverNode ? { ...base, [CONFIG_SYNC_LOCAL_ENV.geoserverCredentials]: localGeoServerCredentials(geoserverNode) } : base;
      hosts.set(fn.logicalId, new LocalFunctionHost(fn, environment, functionOutput, options.onInvocation));
    }
    // Each function starts on its first invocation, as in Lambda: a cluster whose run never
    // calls a function never loads its bundle.
    stopped.push(async () => {
      await Promise.all([...hosts.values()].map((host) => host.stop()));
    });

    const runSchedule = async (name: string, time = new Date()): Promise<unknown[]> => {
      const schedule = topology.schedules.find((candidate) => candidate.name === name);
      if (!schedule) throw new Error(`No schedule named '${name}' (have: ${topology.schedules.map((s) => s.name).join(', ')})`);
      const event = {
        version: '0',
        id: `local-${Date.now()}`,
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: LOCAL_ACCOUNT_ID,
        time: time.toISOString(),
        region: LOCAL_REGION,
        resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:rule/${name}`],
        detail: {},
      };
      return Promise.all(schedule.functionIds.map((id) => hosts.get(id)!.invoke(event)));
    };

    const admin: AdminHandler = async ({ method, path: adminPath, body }) => {
      if (method === 'GET' && adminPath === '/health') return { status: 200, body: { ok: true } };
      if (method === 'GET' && adminPath === '/schedules') return { status: 200, body: topology.schedules };
      // The routes the template declares, as served: what a test reads to cover every route.
      if (method === 'GET' && adminPath === '/routes') {
        return { status: 200, body: topology.routes.map((route) => ({ method: route.method, path: route.path, authorized: route.authorizer !== undefined })) };
      }
      const schedule = /^\/schedules\/([^/]+)$/.exec(adminPath);
      if (method === 'POST' && schedule) {
        const parsed = parseScheduleBody(body);
        if ('error' in parsed) return { status: 400, body: parsed.error };
        const time = parsed.time;
        try {
          return { status: 200, body: { results: await runSchedule(decodeURIComponent(schedule[1] as string), time) } };
        } catch (error) {
          return { status: 404, body: { code: 'NOT_FOUND', message: (error as Error).message } };
        }
      }
      if (adminPath === '/faults/refuse-writes') return faultAdmin(method, body);
      // The DynamoDB calls each function has sent, by operation (the propagation bench's `calls` part).
      if (method === 'GET' && adminPath === '/dynamo-calls') {
        if (!gate) return { status: 409, body: { code: 'NO_IAM_GATE', message: 'counting DynamoDB calls needs the IAM gate: start without --no-iam' } };
        const names = new Map([...topology.functions.values()].map((fn) => [fn.logicalId, fn.name]));
        return {
          status: 200,
          body: gate
            .callCounts()
            .map((count) => ({ function: names.get(count.functionId) ?? count.functionId, operation: count.operation, calls: count.calls }))
            .sort((a, b) => a.function.localeCompare(b.function) || a.operation.localeCompare(b.operation)),
        };
      }
      // The CPU each function's execution environments have spent, and their invocations (the
      // propagation bench splits a burst's CPU by function with it).
      if (method === 'GET' && adminPath === '/functions') {
        return {
          status: 200,
          body: [...hosts.values()]
            .map((host) => ({ function: host.fn.name, ...host.usage }))
            .sort((a, b) => a.function.localeCompare(b.function)),
        };
      }
      return messaging.admin({ method, path: adminPath, body });
    };

    /**
     * Test fault injection, local only: `POST {"function": "<construct name or logical id>",
     * "itemKey": "<sort key>"}` makes the IAM gate refuse that function's writes of that item;
     * `DELETE` lifts every refusal. Needs the gate (not with --no-iam).
     */
    const faultAdmin = (method: string, body: string): { status: number; body: unknown } => {
      if (!gate) return { status: 409, body: { code: 'NO_IAM_GATE', message: 'fault injection needs the IAM gate: start without --no-iam' } };
      if (method === 'DELETE') {
        gate.clearFaults();
        return { status: 200, body: { cleared: true } };
      }
      if (method !== 'POST') return { status: 405, body: { code: 'METHOD_NOT_ALLOWED', message: 'POST or DELETE' } };
      let request: { function?: unknown; itemKey?: unknown };
      try {
        request = JSON.parse(body) as typeof request;
      } catch {
        return { status: 400, body: { code: 'INVALID_JSON', message: 'body: expected {"function": ..., "itemKey": ...}' } };
      }
      const fn = [...topology.functions.values()].find((candidate) => candidate.name === request.function || candidate.logicalId === request.function);
      if (!fn) return { status: 404, body: { code: 'NOT_FOUND', message: `function: no function named ${String(request.function)}`, field: 'function' } };
      if (typeof request.itemKey !== 'string' || request.itemKey === '') {
        return { status: 400, body: { code: 'INVALID_REQUEST', message: 'itemKey: must be a non-empty string', field: 'itemKey' } };
      }
      gate.refuseWrites(fn.logicalId, request.itemKey);
      return { status: 200, body: { function: fn.name, itemKey: request.itemKey } };
    };

    const server = new LocalApiServer({ routes: topology.routes, hosts, admin, allowedHosts: options.allowedHosts });
    const boundPort = await server.listen(port);
    stopped.push(() => server.close());
    if (persist) {
      // Where `npx geocluster` finds the running cluster (beside node-tokens.json), and the
      // credentials table `geocluster token` writes (in DynamoDB Local, as npm run node-token does),
      // and the nodes that publish, whose first is the CLI's default token (`--as` picks another);
      // `names`, every node and operator the cluster declares, the only names the authorizer takes
      // a token of, so that `geocluster token issue` refuses to mint one it would never accept.
      const masters = stack.cluster.nodes.filter((node) => canPublish(node.role)).map((node) => node.name);
      const names = [...stack.cluster.nodes, ...stack.cluster.operators].map((member) => member.name);
      // The file records this process and goes when the cluster stops (local/cluster-file.ts): a
      // cluster that is not running is not named to the CLI.
      const removeClusterFile = writeClusterFile(stateDir, { url: `http://127.0.0.1:${boundPort}`, credentialsTable, dynamoEndpoint: emulators.dynamoEndpoint, masters, names });
      stopped.push(async () => removeClusterFile());
    }

    await messaging.start(hosts, disabledMappings);
    stopped.push(() => messaging.stop());

    if (options.runSchedules ?? true) {
      const timers = topology.schedules.map((schedule) => {
        let running = false;
        const timer = setInterval(() => {
          if (running) return; // a slow run is never overlapped by the next tick
          running = true;
          runSchedule(schedule.name)
            .catch((error: unknown) => log(`schedule ${schedule.name} failed: ${String(error)}`))
            .finally(() => (running = false));
        }, rateToMs(schedule.expression));
        timer.unref();
        return timer;
      });
      stopped.push(async () => timers.forEach(clearInterval));
    }

    return {
      url: `http://127.0.0.1:${boundPort}`,
      tokens,
      tokensElsewhere,
      cluster: stack.cluster,
      topology,
      emulators,
      runSchedule,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The functions' log (`--function-log`, .local/functions.log), opened now, so that one that
 * cannot be written (a folder, no permission) stops the start naming it. Every started function
 * pipes its stdout and stderr into what this answers. Should a write fail later (a full disk),
 * that is said once on stderr and their output dropped from then on: the cluster goes on, where
 * the file stream's unhandled 'error' ended npm start.
 */
function openFunctionLog(file: string): Writable {
  let fd: number;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    fd = openSync(file, 'a');
  } catch (error) {
    throw new LocalStartError(`Cannot write the functions' log ${file} (${errorCode(error) ?? oneLine(error)}): choose another file with --function-log FILE`);
  }
  const stream = createWriteStream('', { fd, flags: 'a' });
  let failed = false;
  stream.on('error', (error) => {
    if (failed) return;
    failed = true;
    console.error(`The functions' log ${file} cannot be written (${errorCode(error) ?? oneLine(error)}): their output is dropped from now on`);
  });
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (failed) return done();
      if (stream.write(chunk)) return done();
      const resume = () => {
        stream.off('drain', resume);
        stream.off('error', resume);
        done();
      };
      stream.once('drain', resume);
      stream.once('error', resume);
    },
    final(done) {
      if (failed) return done();
      stream.end(() => done());
    },
    destroy(error, done) {
      stream.destroy();
      done(error);
    },
  });
  // Every started function pipes its stdout and stderr here, four listeners of each kind per
  // pipe: past a few functions Node warned of a leak on every start, which it is not.
  output.setMaxListeners(0);
  return output;
}

/**
 * The event source mappings paused (nodes paused) in an earlier run, kept in `file`: none without
 * the file; one that is not a JSON list of ids stops the start, naming it.
 */
function readDisabledMappings(file: string): Set<string> {
  if (!existsSync(file)) return new Set();
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    value = error;
  }
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
    throw new LocalStartError(
      `${file} is not a JSON list of event source mapping ids (the nodes paused in an earlier run): fix it, remove it (every node starts resumed), or start over with --fresh`,
    );
  }
  return new Set(value as string[]);
}

/** The body of `POST /__local/schedules/{name}`: empty, or `{"time": "<ISO 8601 instant>"}`. */
function parseScheduleBody(body: string): { time: Date } | { error: { code: string; message: string; field?: string } } {
  if (body.trim() === '') return { time: new Date() };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { error: { code: 'INVALID_JSON', message: `Request body is not valid JSON: ${(error as Error).message}`, field: 'body' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: { code: 'INVALID_REQUEST', message: 'body: must be a JSON object like {"time": "2030-01-01T00:00:00Z"}', field: 'body' } };
  }
  const requested = (value as { time?: unknown }).time;
  if (requested === undefined) return { time: new Date() };
  const time = typeof requested === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(requested) ? new Date(requested) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) {
    return { error: { code: 'INVALID_REQUEST', message: 'time: must be an ISO 8601 instant', field: 'time' } };
  }
  return { time };
}

function outputValue(template: { Outputs?: Record<string, { Value: unknown }> }, name: string, topology: LocalTopology): string {
  const value = template.Outputs?.[name]?.Value as { Ref?: string } | undefined;
  const table = topology.tables.find((candidate) => candidate.logicalId === value?.Ref);
  if (!table) throw new Error(`The stack has no output ${name} naming a table`);
  return table.tableName;
}

/**
 * What Secrets Manager's GenerateSecretString does on deploy: a random value per secret, kept in
 * a git-ignored file by persisted runs (so cursors a client holds survive a restart), else new
 * each run. The file is readable by its owner only, and never quoted in an error (node-tokens.ts).
 */
export function localSecrets(file: string | undefined): (logicalId: string) => string {
  let secrets: Record<string, string> = {};
  if (file && existsSync(file)) {
    try {
      secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch (error) {
      throw new LocalStartError(`${file} is not JSON (${unquotedJsonError(error)}): fix it, or start over with --fresh`);
    }
  }
  return (logicalId) => {
    let value = secrets[logicalId];
    if (value === undefined) {
      value = randomBytes(48).toString('base64url');
      secrets[logicalId] = value;
      if (file) writePrivateJson(file, secrets);
    }
    return value;
  };
}

/** Creates the table, or brings a kept one up to date; true when this call created it. */
async function ensureTable(dynamo: DynamoDBClient, table: LocalTable): Promise<boolean> {
  try {
    const { Table: existing } = await dynamo.send(new DescribeTableCommand({ TableName: table.tableName }));
    // A table kept from an earlier run gets the indexes the stack has added since, as a deploy would.
    const present = new Set((existing?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    for (const index of table.globalSecondaryIndexes ?? []) {
      if (present.has(index.IndexName)) continue;
      await dynamo.send(
        new UpdateTableCommand({
          TableName: table.tableName,
          AttributeDefinitions: table.attributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection } }],
        }),
      );
    }
    return false;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await dynamo.send(
    new CreateTableCommand({
      TableName: table.tableName,
      KeySchema: table.keySchema,
      AttributeDefinitions: table.attributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: table.globalSecondaryIndexes?.map((index) => ({
        IndexName: index.IndexName,
        KeySchema: index.KeySchema,
        Projection: index.Projection,
      })),
    }),
  );
  if (table.ttlAttribute) {
    await dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: table.tableName,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      }),
    );
  }
  return true;
}
