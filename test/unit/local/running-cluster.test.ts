/**
 * A second persisted `npm start` of a checkout whose cluster runs is refused before it touches
 * `.local/`: with --fresh it would otherwise remove the running cluster's data under it. A
 * cluster.json whose process has ended, or whose pid a later process holds, names no running cluster.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLocalCluster } from '../../../local/cluster';
import { runningClusterFile } from '../../../local/cluster-file';
import { LocalStartError } from '../../../local/errors';
import { processStart } from '../../../local/process-runs';

let dir: string;
/** A port in use, as DynamoDB Local's is by the running cluster: a start that got that far fails there. */
let busy: net.Server;
let busyPort: number;
beforeAll(async () => {
  busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen({ port: 0, host: '127.0.0.1' }, resolve));
  busyPort = (busy.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'running-cluster-'));
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(dir, 'data', 'shared-local-instance.db'), 'the running cluster’s tables');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The parent of this test process stands for the npm start that runs the cluster. */
const runner = process.ppid;
function clusterFile(pid: number, pidStart: number | undefined): void {
  writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify({ url: 'http://127.0.0.1:3000', credentialsTable: 'Credentials', pid, pidStart }));
}

test.each([
  ['a persisted run', { fresh: false, persist: true }],
  ['a --fresh one', { fresh: true, persist: true }],
  ['an --in-memory --fresh one', { fresh: true, persist: false }],
])("%s beside the checkout's running cluster is refused, naming it and what to do, and its data is kept", async (_name, options) => {
  clusterFile(runner, processStart(runner));
  const start = startLocalCluster({ stateDir: dir, port: 0, dynamoPort: busyPort, awsPort: 0, ...options });
  await expect(start).rejects.toBeInstanceOf(LocalStartError);
  await expect(start).rejects.toThrow(`a local cluster of this checkout is already running (pid ${runner}, http://127.0.0.1:3000;`);
  await expect(start).rejects.toThrow(`stop it first (Ctrl-C where it runs, or kill -INT ${runner}), or run one that keeps nothing beside it: npm start -- --in-memory`);
  expect(readFileSync(path.join(dir, 'data', 'shared-local-instance.db'), 'utf8')).toBe('the running cluster’s tables');
  expect(readdirSync(dir).filter((entry) => entry.startsWith('cdk.out'))).toEqual([]);
});

test('a cluster.json whose process has ended names no running cluster', () => {
  clusterFile(spawnSync(process.execPath, ['-e', '0']).pid as number, undefined);
  expect(runningClusterFile(dir)).toBeUndefined();
});

(processStart() !== undefined ? test : test.skip)('nor does one whose pid a later process holds (another start time)', () => {
  clusterFile(runner, (processStart(runner) as number) + 1);
  expect(runningClusterFile(dir)).toBeUndefined();
  clusterFile(runner, processStart(runner));
  expect(runningClusterFile(dir)).toEqual({ url: 'http://127.0.0.1:3000', pid: runner });
});

test('no cluster.json, or one that is not JSON, names none', () => {
  expect(runningClusterFile(dir)).toBeUndefined();
  writeFileSync(path.join(dir, 'cluster.json'), '{');
  expect(runningClusterFile(dir)).toBeUndefined();
});

test("a --fresh run started while the checkout's persisted cluster is still starting (no cluster.json yet) is refused, and its data is kept", async () => {
  const outcome = (start: Promise<unknown>) => start.then(() => new Error('started'), (error: unknown) => error as Error);
  // The first start synthesizes before it yields, then waits on its ports: it is starting, with
  // no cluster.json written yet (that comes once its API listens). It fails later, on the busy port.
  const first = outcome(startLocalCluster({ stateDir: dir, port: 0, dynamoPort: busyPort, awsPort: 0, persist: true }));
  const second = outcome(startLocalCluster({ stateDir: dir, port: 0, dynamoPort: busyPort, awsPort: 0, persist: true, fresh: true }));
  expect((await second).message).toContain(`a local cluster of this checkout is already starting or running (pid ${process.pid}`);
  expect(readFileSync(path.join(dir, 'data', 'shared-local-instance.db'), 'utf8')).toBe('the running cluster’s tables');
  expect((await first).message).toMatch(/in use/);
  // The first, failed, holds the folder no longer: a start after it gets as far as the ports again.
  expect((await outcome(startLocalCluster({ stateDir: dir, port: 0, dynamoPort: busyPort, awsPort: 0, persist: true }))).message).toMatch(/in use/);
}, 120_000);

test.each([
  ['empty (a write cut short)', ''],
  ['not a list of mapping ids', '{"Mapping": false}'],
])('a kept list of paused nodes that is %s is refused before anything starts, naming the file and what to do', async (_name, contents) => {
  const file = path.join(dir, 'data', 'disabled-event-source-mappings.json');
  writeFileSync(file, contents);
  const start = startLocalCluster({ stateDir: dir, port: 0, dynamoPort: busyPort, awsPort: 0, persist: true });
  await expect(start).rejects.toBeInstanceOf(LocalStartError);
  await expect(start).rejects.toThrow(`${file} is not a JSON list of event source mapping ids`);
  expect(readFileSync(file, 'utf8')).toBe(contents);
}, 120_000);

test("a functions' log that cannot be written (--function-log naming a folder) is refused before anything starts, naming it", async () => {
  const start = startLocalCluster({ stateDir: dir, port: 0, dynamoPort: busyPort, awsPort: 0, persist: false, functionLogFile: dir });
  await expect(start).rejects.toBeInstanceOf(LocalStartError);
  await expect(start).rejects.toThrow(`Cannot write the functions' log ${dir} (EISDIR): choose another file with --function-log FILE`);
}, 120_000);

test.each([
  ["DynamoDB Local's (--dynamo-port, 8000 unless given)", { dynamoPort: 'same', awsPort: 0 }],
  ["fauxqs SNS/SQS/S3's (--aws-port, 4566 unless given)", { dynamoPort: 0, awsPort: 'same' }],
] as const)('an API port that is also %s port is refused before anything starts, naming both', async (option, ports) => {
  const free = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const pick = (value: 'same' | 0) => (value === 'same' ? free : value);
  const start = startLocalCluster({ stateDir: dir, port: free, dynamoPort: pick(ports.dynamoPort), awsPort: pick(ports.awsPort), persist: false, runSchedules: false });
  const outcome = await start.then(
    async (cluster) => {
      await cluster.stop();
      return undefined;
    },
    (error: Error) => error,
  );
  expect(outcome).toBeInstanceOf(LocalStartError);
  expect(outcome?.message).toBe(`--port ${free} is also ${option}: the API and the emulators each need a port of their own (0 picks a free one)`);
}, 120_000);
