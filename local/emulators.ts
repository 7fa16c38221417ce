/**
 * Local stand-ins for the AWS services the cluster uses, so `npm start` and the integration tests
 * need neither an AWS account nor Docker: DynamoDB Local (./dynamodb-local) and fauxqs for SNS,
 * SQS and S3 (./fauxqs), started together on checked ports (./ports) as supervised children
 * (./supervisor). This module only starts and stops the pair and says how a function reaches them.
 *
 * The account constants live in ./account; they are re-exported here because most tests that
 * start emulators import them from this module alongside startEmulators.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_SYNC_LOCAL_ENV } from '../lambdas/config-sync/env-names';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './account';
import { assertJava17, startDynamoDbLocal } from './dynamodb-local';
import { LocalStartError, errorCode, oneLine } from './errors';
import { startFauxqsServer, type FauxqsMode } from './fauxqs';
import { assertPortFree, startOnPort } from './ports';

export { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './account';
export { LocalStartError } from './errors';
export { localQueueUrl, type FauxqsMode } from './fauxqs';
export { assertPortFree, findFreePort } from './ports';

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
  /**
   * Picks a free port for a port given as 0 (again when another process takes the one picked
   * before the emulator binds it); tests make it return a busy port first. @default findFreePort
   */
  pickPort?: () => Promise<number>;
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
    [CONFIG_SYNC_LOCAL_ENV.sqsEndpoint]: emulators.awsEndpoint,
    AWS_ENDPOINT_URL_S3: emulators.awsEndpoint,
    // The S3 emulator serves path-style requests only.
    [CONFIG_SYNC_LOCAL_ENV.s3ForcePathStyle]: 'true',
  };
}

export async function startEmulators(opts: EmulatorOptions = {}): Promise<RunningEmulators> {
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  // A port given is checked up front: DynamoDB Local's own "address in use" would be a Java
  // stack trace. A port asked as 0 is picked just before its emulator starts, and picked again
  // if another process binds it first (./ports startOnPort); the endpoints name the ports bound.
  const wantedDynamoPort = opts.dynamoPort ?? 8000;
  const wantedFauxqsPort = opts.fauxqsPort ?? 4566;
  if (wantedDynamoPort !== 0 && wantedDynamoPort === wantedFauxqsPort) {
    throw new LocalStartError(`DynamoDB Local and fauxqs cannot share port ${wantedDynamoPort}: give them different ports`);
  }
  await checkChosenPort(wantedDynamoPort, 'DynamoDB Local', '--dynamo-port');
  await checkChosenPort(wantedFauxqsPort, 'fauxqs SNS/SQS/S3', '--aws-port');
  // Neither emulator picks the other's port: two picks can coincide, since nothing holds the first yet.
  const taken = new Set([wantedDynamoPort, wantedFauxqsPort].filter((port) => port !== 0));

  const dynamoDataDir = opts.dataDir === undefined ? undefined : ensureDir(path.join(opts.dataDir, 'dynamodb'));
  const fauxqsDataDir = opts.dataDir === undefined ? undefined : ensureDir(path.join(opts.dataDir, 'fauxqs'));

  await assertJava17();

  const [dynamo, fauxqs] = await Promise.allSettled([
    startOnPort(wantedDynamoPort, 'DynamoDB Local', (port) => startDynamoDbLocal(port, dynamoDataDir, timeoutMs), {
      pick: opts.pickPort,
      taken,
      option: '--dynamo-port',
    }),
    startOnPort(wantedFauxqsPort, 'fauxqs SNS/SQS/S3', (port) => startFauxqsServer(port, fauxqsDataDir, opts.fauxqsMode ?? 'auto', timeoutMs), {
      pick: opts.pickPort,
      taken,
      option: '--aws-port',
    }),
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

/** `option`: npm start's flag that chooses this port, named in the message of a busy one. */
async function checkChosenPort(port: number, what: string, option: string): Promise<void> {
  if (port === 0) return;
  await assertPortFree(port, what, `stop the other process (an earlier \`npm start\`?) or choose another port: npm start -- ${option} N (0 picks a free one)`);
}

/**
 * Creates a data folder readable by its owner alone: DynamoDB Local writes its database (the
 * catalogs, stores' connection parameters, token hashes) with the default umask, 0644.
 */
function ensureDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (err) {
    throw new LocalStartError(`Cannot create data folder ${dir} (${errorCode(err) ?? oneLine(err)}): choose a writable folder`);
  }
  return dir;
}
