/**
 * A .local/cluster.json whose `npm start` has ended without removing it (killed, not stopped)
 * names a cluster that is not running: the CLI says so, and sends nothing where it points (its
 * URL, its credentials table). So does one whose pid a later process was given (another start
 * time). One whose process runs is used as before, and flags that name the cluster make the file
 * irrelevant.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { processStart } from '../../../local/process-runs';
import { startCannedServer, type CannedServer } from '../../support/canned-server';
import { runCliCollected } from '../../support/run-cli';

let server: CannedServer;
let cwd: string;
/** A process that has ended: its pid is free. */
const ended = spawnSync(process.execPath, ['-e', '0']).pid as number;

beforeAll(async () => {
  // Stands in for the API and for DynamoDB Local at once: whatever reaches it is recorded.
  server = await startCannedServer(() => ({ status: 200, body: JSON.stringify({ head: 0, nodes: [] }) }));
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-stale-'));
  mkdirSync(path.join(cwd, '.local'));
  writeFileSync(path.join(cwd, '.local', 'node-tokens.json'), JSON.stringify({ 'master-1': 'master-1.secretAsecretAsecretA' }));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

/** Linux's /proc gives a process's start time; elsewhere the pid alone is recorded and checked. */
const onLinux = processStart() !== undefined;

function clusterFile(pid: number, pidStart?: number): void {
  const file = { url: server.url, credentialsTable: 'Credentials', dynamoEndpoint: server.url, masters: ['master-1'], names: ['master-1', 'slave-1'], pid, pidStart };
  writeFileSync(path.join(cwd, '.local', 'cluster.json'), JSON.stringify(file));
}

const run = (...argv: string[]) => runCliCollected(argv, { tty: false, env: {}, cwd });

test('an API command refuses the file of a cluster whose process has ended, naming it, and reaches nothing', async () => {
  clusterFile(ended);
  const got = await run('nodes');
  expect(got.code).toBe(3);
  expect(got.err).toContain(`cluster.json names a local cluster that is not running: the npm start that wrote it (pid ${ended}) has ended without removing it`);
  expect(got.err).toContain('--url or GEOCLUSTER_URL');
  expect(server.requests).toHaveLength(0);
});

test('token issue refuses it too, before the credentials table it names is written', async () => {
  clusterFile(ended);
  const got = await run('token', 'issue', 'slave-1');
  expect(got.code).toBe(3);
  expect(got.err).toContain(`(pid ${ended}) has ended without removing it`);
  expect(got.err).toContain('--table or GEOCLUSTER_CREDENTIALS_TABLE');
  expect(server.requests).toHaveLength(0);
});

(onLinux ? test : test.skip)('the file of a cluster whose pid another process now holds is refused too, and reaches nothing', async () => {
  // The parent of this test process runs, but it started at another time than the file records:
  // it was given the pid after the npm start that wrote the file ended.
  const other = process.ppid;
  clusterFile(other, (processStart(other) as number) + 1);
  const got = await run('nodes');
  expect(got.code).toBe(3);
  expect(got.err).toContain(`(pid ${other}) has ended without removing it (pid ${other} now belongs to another process)`);
  expect(server.requests).toHaveLength(0);
});

test('the file of a running cluster is used: its URL', async () => {
  clusterFile(process.pid, processStart()); // this process stands for the running npm start
  const got = await run('nodes');
  expect(got.code).toBe(0);
  expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /nodes']);
});

test('a cluster named by --url and --token is reached whatever the file says', async () => {
  clusterFile(ended);
  const got = await run('nodes', '--url', server.url, '--token', 'master-1.secretAsecretAsecretA');
  expect(got.code).toBe(0);
  expect(server.requests).toHaveLength(1);
});

test('a file without a start time (an older npm start, or one not on Linux) is judged by its pid alone', async () => {
  clusterFile(process.pid);
  const got = await run('nodes');
  expect(got.code).toBe(0);
  expect(server.requests).toHaveLength(1);
});
