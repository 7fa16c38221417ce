/**
 * What an operator sees of a node's jobs, over real HTTP on a spawned local cluster (a master
 * and a slave with a stand-in GeoServer): a job's REST calls to the node's GeoServer are
 * recorded as an apply's are (GET /nodes shows it reachable, with its version, before any event
 * reached it; unreachable while a job's slice waits on it), and a node whose latest job failed
 * says so in GET /nodes and under `geocluster nodes`, with the job, its error and what to run
 * next; a change the GeoServer refuses a reconcile counts in the node's GeoServerErrors metric,
 * as a refused event does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { FAST_RETRY_ENV, sleep, SyncCluster, type NodesAnswer } from './scenario-support';
import { runCliCollected, type CliRun } from '../../support/run-cli';

jest.setTimeout(180_000);

const MASTER = 'master-1';
const SLAVE = 'gs-1';

let cluster: SyncCluster;
let geoserver: GeoServerStandIn;
let cliDir: string;

beforeAll(async () => {
  cliDir = mkdtempSync(path.join(tmpdir(), 'geocluster-node-jobs-'));
  geoserver = await startGeoServerStandIn({ version: '2.25.4' });
  cluster = await SyncCluster.start(
    'node-jobs',
    [
      { name: MASTER, role: 'master' },
      { name: SLAVE, role: 'slave', geoserver: { url: geoserver.url, credentialsSecret: `local/${SLAVE}` } },
    ],
    'config-sync-node-jobs',
    {},
    FAST_RETRY_ENV,
  );
}, 240_000);

afterAll(async () => {
  rmSync(cliDir, { recursive: true, force: true });
  await cluster?.stop();
  if (geoserver) {
    expect(geoserver.violations).toEqual([]);
    await geoserver.close();
  }
});

async function slaveState(): Promise<any> {
  const answer = await cluster.api('GET', '/nodes', cluster.reader);
  expect(answer.status).toBe(200);
  return (answer.body as NodesAnswer).nodes.find((node) => node.name === SLAVE);
}

async function startJob(kind: 'drift' | 'reconcile'): Promise<string> {
  const response = await cluster.api('POST', `/nodes/${SLAVE}/${kind}`, { node: MASTER });
  expect(response.status).toBe(202);
  return (response.body as { job: { id: string } }).job.id;
}

async function jobEnded(id: string, timeoutMs = 90_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await cluster.api('GET', `/nodes/${SLAVE}/jobs/${id}`, { node: MASTER });
    expect(response.status).toBe(200);
    const job = (response.body as { job: any }).job;
    if (job.state === 'succeeded' || job.state === 'failed') return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state} (${job.phase})`);
    await sleep(200);
  }
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await sleep(200);
  }
}

function geocluster(args: string[]): Promise<CliRun> {
  return runCliCollected(args, { tty: false, env: { GEOCLUSTER_URL: cluster.spawned.url, GEOCLUSTER_TOKEN: cluster.spawned.tokens[MASTER] }, cwd: cliDir });
}

test("a job's calls to a GeoServer no event has reached yet show it reachable, with its version, in GET /nodes and the CLI", async () => {
  const before = await slaveState();
  expect(before).toMatchObject({ lastAppliedSequence: 0, geoserver: { url: geoserver.url, reachable: null, version: null, checkedAt: null } });

  const id = await startJob('reconcile');
  const job = await jobEnded(id);
  expect(job).toMatchObject({ state: 'succeeded', error: null });
  expect(job.progress.restCalls).toBeGreaterThan(0);

  const after = await slaveState();
  expect(after).toMatchObject({ lastAppliedSequence: 0, geoserver: { reachable: true, version: '2.25.4', lastError: null } });
  expect(Date.parse(after.geoserver.checkedAt)).toBeGreaterThanOrEqual(Date.parse(job.createdAt));

  const nodes = await geocluster(['nodes']);
  expect(nodes.code).toBe(0);
  const row = nodes.out.split('\n').find((line) => line.startsWith(`${SLAVE} `));
  expect(row?.split(/\s{2,}/).at(-1)).toBe('reachable (2.25.4)');
});

test("a job's slice that finds the GeoServer down shows it unreachable with why, and reachable again once the slice goes through", async () => {
  await geoserver.setDown('503');
  const id = await startJob('drift');
  const down = await until('GET /nodes shows the GeoServer unreachable', slaveState, (node) => node.geoserver.reachable === false);
  expect(down.geoserver.lastError).toMatchObject({ status: 503, sequence: null, message: expect.stringContaining('answered 503') });
  expect(down.job).toMatchObject({ id, state: expect.stringMatching(/^(queued|running)$/) });

  await geoserver.setDown(null);
  expect(await jobEnded(id)).toMatchObject({ state: 'succeeded' });
  const back = await until('GET /nodes shows the GeoServer reachable again', slaveState, (node) => node.geoserver.reachable === true);
  expect(back.geoserver.lastError).toMatchObject({ status: 503 });
});

test('a node whose latest job failed says so: GET /nodes carries the job and its error, `geocluster nodes` names it with what to run next', async () => {
  // A sign-in page in front of the GeoServer answers 200 with HTML: no listing a drift check can read.
  geoserver.rejectNext((request) => request.method === 'GET' && request.path.endsWith('/rest/workspaces.json'), 200, '<html><body>Sign in</body></html>');
  const id = await startJob('drift');
  const job = await jobEnded(id);
  expect(job).toMatchObject({ state: 'failed', error: expect.stringContaining('is not JSON') });

  const node = await slaveState();
  expect(node.job).toMatchObject({ id, kind: 'drift', state: 'failed', error: job.error });

  const nodes = await geocluster(['nodes']);
  expect(nodes.code).toBe(0);
  expect(nodes.out.split('\n')).toContain(`${SLAVE}: drift job ${id} FAILED: ${job.error}; details: geocluster job ${SLAVE} ${id}; after a fix: geocluster drift ${SLAVE}`);

  // The next job replaces the note.
  expect(await jobEnded(await startJob('drift'))).toMatchObject({ state: 'succeeded' });
  expect((await geocluster(['nodes'])).out).not.toContain('FAILED');
});

/**
 * The `GeoServerErrors` count each node's apply function emitted so far (Powertools EMF lines the
 * local runtime writes to the harness's log file, as CloudWatch Logs would receive them).
 */
function geoServerErrorsByNode(): Map<string, number> {
  const logFile = path.resolve(__dirname, '..', '..', '..', '.local', 'integration-config-sync-node-jobs-cluster.log');
  const counts = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"GeoServerErrors"') || !line.startsWith('{')) continue;
    const emf = JSON.parse(line) as { node?: string; GeoServerErrors?: number };
    if (emf.node !== undefined && typeof emf.GeoServerErrors === 'number') counts.set(emf.node, (counts.get(emf.node) ?? 0) + emf.GeoServerErrors);
  }
  return counts;
}

test("a change the GeoServer refuses a reconcile is listed unfixed on the job and counted in the node's GeoServerErrors metric, as a refused event is", async () => {
  const before = geoServerErrorsByNode().get(SLAVE) ?? 0;
  // Made behind the cluster's back: an extra the reconcile deletes, which the GeoServer refuses.
  geoserver.catalog.addWorkspace({ name: 'scratch' });
  geoserver.rejectNext((request) => request.method === 'DELETE' && request.path.endsWith('/rest/workspaces/scratch'), 400, 'Workspace scratch is in use');
  const job = await jobEnded(await startJob('reconcile'));
  expect(job).toMatchObject({ state: 'succeeded', progress: { failed: 1 }, failures: [{ type: 'workspace', id: 'scratch', message: expect.stringContaining('Workspace scratch is in use') }] });
  await until('the GeoServerErrors metric counts the refusal', async () => geoServerErrorsByNode().get(SLAVE) ?? 0, (count) => count >= before + 1, 10_000);
  expect(geoServerErrorsByNode().get(SLAVE)).toBe(before + 1);
});
