/**
 * Deferred modules (DEFERRED_MODULES in cdk/constructs/cluster-function.ts): a function whose
 * code requires one gets it as a file of its own beside index.js, out of index.js; a function
 * that does not require it gets no such file. A function whose every request sends with a
 * client bundles it into index.js instead. And no cold start, as the bench measures it
 * (`require` of index.js in a fresh Node process), loads a deferred module.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { withQuietBundling } from '../../cdk/app';
import { ClusterFunction, DEFERRED_MODULES } from '../../cdk/constructs/cluster-function';
import { CONFIG_SYNC_ENV, GEOSERVER_NODES_FILE } from '../../lambdas/config-sync/env-names';

type Fn = 'catalogObject' | 'getStatus' | 'apply' | 'publish' | 'listNodes' | 'resync' | 'measureLag';
const ENTRIES: Record<Fn, string> = {
  catalogObject: 'config-sync/handlers/get-catalog-object.ts',
  resync: 'config-sync/handlers/resync-node.ts',
  getStatus: 'status/handlers/get-status.ts',
  apply: 'config-sync/handlers/apply-events.ts',
  publish: 'config-sync/handlers/publish-event.ts',
  listNodes: 'config-sync/handlers/list-nodes.ts',
  measureLag: 'config-sync/handlers/measure-lag.ts',
};

let outdir: string;
let assetDirs: Record<Fn, string>;
/** GET /nodes' function, bundled with a GeoServer nodes file naming a node the cluster lacks. */
let listNodesWithFile: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'sgc-deferred-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Deferred');
  const file = path.join(outdir, 'geoserver-nodes-test.json');
  writeFileSync(file, JSON.stringify({ 'gs-9': 'https://gs-9.example.org/geoserver' }));
  // A function is bundled as it is built (CDK stages its asset in the constructor), so the
  // builds are quiet too, not only the synth: no "Bundling asset ..." line per function.
  const { functions, withFile } = withQuietBundling(() => {
    const built = Object.entries(ENTRIES).map(([name, entry]) => [name, new ClusterFunction(stack, name, { entry })] as const);
    const listNodesWithFile = new ClusterFunction(stack, 'listNodesWithFile', { entry: ENTRIES.listNodes, bundledFiles: { [GEOSERVER_NODES_FILE]: file } });
    app.synth();
    return { functions: built, withFile: listNodesWithFile };
  });
  const dirOf = (fn: ClusterFunction) => {
    const asset = stack.resolve((fn.node.defaultChild as CfnFunction).code) as { s3Key: string };
    return path.join(outdir, `asset.${asset.s3Key.replace(/\.zip$/, '')}`);
  };
  assetDirs = Object.fromEntries(functions.map(([name, fn]) => [name, dirOf(fn)])) as Record<Fn, string>;
  listNodesWithFile = dirOf(withFile);
}, 300_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const indexOf = (fn: Fn) => readFileSync(path.join(assetDirs[fn], 'index.js'), 'utf8');
const chunkOf = (fn: Fn, name: string) => path.join(assetDirs[fn], `${name}.js`);

/** What the chunk exports (requiring it runs the client's module code, as a first use would). */
function exportsOf(chunk: string): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return Object.keys(require(chunk) as Record<string, unknown>).sort();
}

test('the S3 client is bundled beside index.js of a function that offloads bodies, not into it', () => {
  const index = indexOf('catalogObject');
  expect(index).toContain('require("./s3-sdk")');
  // The S3 client's service name: only the client's own code carries it.
  expect(index).not.toContain('AmazonS3');
  const chunk = chunkOf('catalogObject', 's3-sdk');
  expect(readFileSync(chunk, 'utf8')).toContain('AmazonS3');
  expect(exportsOf(chunk)).toEqual(['DeleteObjectCommand', 'GetObjectCommand', 'NoSuchKey', 'PutObjectCommand', 'S3Client']);
  // Secrets Manager is required by the apply function only, SNS by publishers, SQS by functions that send to queues.
  for (const other of ['secrets-manager-sdk', 'sns-sdk', 'sqs-sdk']) expect(existsSync(chunkOf('catalogObject', other))).toBe(false);
});

test("the SQS client is bundled beside the apply function, not into it, and the SNS client only in its job path's chunk", () => {
  const index = indexOf('apply');
  expect(index).toContain('require("./sqs-sdk")');
  // Only a capture job publishes from the apply function: its chunk carries the SNS client.
  expect(index).not.toContain('require("./sns-sdk")');
  expect(existsSync(chunkOf('apply', 'sns-sdk'))).toBe(false);
  expect(readFileSync(chunkOf('apply', 'job-slices'), 'utf8')).toContain('AmazonSimpleNotificationService');
  // The clients' service names: only each client's own code carries it.
  expect(index).not.toContain('AmazonSimpleNotificationService');
  expect(index).not.toContain('AmazonSQS');
  expect(readFileSync(chunkOf('apply', 'sqs-sdk'), 'utf8')).toContain('AmazonSQS');
  expect(exportsOf(chunkOf('apply', 'sqs-sdk'))).toEqual([
    'ChangeMessageVisibilityBatchCommand',
    'DeleteMessageCommand',
    'GetQueueAttributesCommand',
    'ReceiveMessageCommand',
    'SQSClient',
    'SendMessageCommand',
  ]);
});

test('the SQS client is bundled beside the lag measure, which sends only to nudge a node that is behind, not into it', () => {
  const index = indexOf('measureLag');
  expect(index).toContain('require("./sqs-sdk")');
  expect(index).not.toContain('AmazonSQS');
  expect(readFileSync(chunkOf('measureLag', 'sqs-sdk'), 'utf8')).toContain('AmazonSQS');
  for (const other of ['sns-sdk', 'job-slices']) expect(existsSync(chunkOf('measureLag', other))).toBe(false);
});

test('a function whose every request sends with SNS or SQS has the client in index.js', () => {
  expect(indexOf('publish')).toContain('AmazonSimpleNotificationService');
  expect(existsSync(chunkOf('publish', 'sns-sdk'))).toBe(false);
  expect(indexOf('listNodes')).toContain('AmazonSQS');
  expect(existsSync(chunkOf('listNodes', 'sqs-sdk'))).toBe(false);
});

test('the job runner is bundled beside the resync and apply functions, which run it on rare paths only, not into them', () => {
  // An error message only the job runner's code carries.
  const marker = 'a resync job names no source';
  for (const fn of ['resync', 'apply'] as const) {
    const index = indexOf(fn);
    expect(index).toContain('require("./job-slices")');
    expect(index).not.toContain(marker);
    const chunk = chunkOf(fn, 'job-slices');
    expect(readFileSync(chunk, 'utf8')).toContain(marker);
    expect(exportsOf(chunk)).toEqual(['nodeJobRunner', 'storeSliceRunner']);
  }
});

test('a function that requires no deferred module gets none', () => {
  for (const deferred of DEFERRED_MODULES) {
    expect(existsSync(chunkOf('getStatus', path.posix.basename(deferred.specifier)))).toBe(false);
  }
});

/** A cluster of a master and a slave without GeoServers, as the functions' environment declares it. */
const CLUSTER_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  [CONFIG_SYNC_ENV.clusterName]: 'deferred',
  [CONFIG_SYNC_ENV.clusterNodes]: JSON.stringify({ 'master-1': 'master', 'slave-1': 'slave' }),
  [CONFIG_SYNC_ENV.eventLogTable]: 'events',
  [CONFIG_SYNC_ENV.nodeStoreTable]: 'store',
  [CONFIG_SYNC_ENV.topicArn]: 'arn:aws:sns:us-east-1:111111111111:deferred.fifo',
  [CONFIG_SYNC_ENV.bodyBucket]: 'bodies',
  [CONFIG_SYNC_ENV.queueUrlPrefix]: 'https://sqs.us-east-1.amazonaws.com/111111111111/',
  [CONFIG_SYNC_ENV.nodeName]: 'slave-1',
};

/** The deferred modules a fresh Node process has loaded once `require(index.js)` returns: the cold import's. */
function loadedAtColdStart(fn: Fn): string[] {
  const index = path.join(assetDirs[fn], 'index.js');
  const script = `require(${JSON.stringify(index)});process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...env, ...CLUSTER_ENV } }).toString()) as string[];
  return loaded.filter((file) => file !== index).map((file) => path.basename(file, '.js')).sort();
}

test('no cold start loads a deferred module', () => {
  expect(loadedAtColdStart('apply')).toEqual([]);
  expect(loadedAtColdStart('publish')).toEqual([]);
  expect(loadedAtColdStart('listNodes')).toEqual([]);
  expect(loadedAtColdStart('resync')).toEqual([]);
  expect(loadedAtColdStart('measureLag')).toEqual([]);
});

test('a function reads the GeoServer nodes file bundled beside its index.js at cold start', () => {
  expect(existsSync(path.join(assetDirs.listNodes, GEOSERVER_NODES_FILE))).toBe(false);
  expect(existsSync(path.join(listNodesWithFile, GEOSERVER_NODES_FILE))).toBe(true);
  const index = path.join(listNodesWithFile, 'index.js');
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  // The file names a node CLUSTER_ENV lacks: the cold import refuses it, so it was read.
  expect(() => execFileSync(process.execPath, ['-e', `require(${JSON.stringify(index)})`], { env: { ...env, ...CLUSTER_ENV }, stdio: 'pipe' })).toThrow(
    /The bundled file geoserver-nodes.json names gs-9, which CLUSTER_NODES does not declare/,
  );
});
