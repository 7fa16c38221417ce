/**
 * The exit code of every command that ends on a node job, against a stand-in API on 127.0.0.1:
 * a job that succeeded but could not fix (or publish) every object ends with exit 4, whichever
 * command waited for it or read it (README "The CLI": 4 when "the job waited for failed (or, for a
 * reconcile or capture, could not fix every object)"). An operator's script that follows an
 * upload's capture with `geocluster job <master> <id> --wait` (README, `X-Cluster-Job`) must not
 * read 0 when the capture left objects unpublished on the other nodes.
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-job-exits-');
const { run } = cli;

const at = '2026-12-04T03:00:00.000Z';
const ok = (body: unknown) => ({ status: 200, body });
const job = (kind: string, extra: Record<string, unknown> = {}) => ({
  id: 'j-1',
  node: 'gs-1',
  kind,
  state: 'succeeded',
  phase: 'done',
  progress: { compared: 4, missing: 1, extra: 0, different: 0, toFix: 1, fixed: 0, failed: 1, restCalls: 3, published: 0 },
  failures: [{ type: 'layer', id: 'topp:roads', message: 'PUT /layers/topp:roads: 500 refused' }],
  createdAt: at,
  updatedAt: at,
  finishedAt: at,
  error: null,
  ...extra,
});
/** gs-1 as GET /nodes lists it: a slave, whose reconcile needs no --yes (the CLI asks its role first). */
const slaveGs1 = ok({ head: 7, nodes: [{ name: 'gs-1', role: 'slave', lastAppliedSequence: 7, lag: 0, queueDepth: 0, deadLetterDepth: 0, paused: false, geoserver: { url: 'http://127.0.0.1:1/gs-1', reachable: true, version: '2.26.2', checkedAt: at, lastError: null, rejected: [], unclearedProperties: [] } }] });
const clean = (kind: string) => job(kind, { progress: { compared: 4, missing: 1, toFix: 1, fixed: 1, failed: 0, restCalls: 3 }, failures: [] });

describe('a job that succeeded but left objects unfixed ends every command that reads it with exit 4', () => {
  it.each(['reconcile', 'capture'])('%s: exit 4, each failure listed', async (kind) => {
    cli.script = {
      'GET /nodes': slaveGs1,
      [`POST /nodes/gs-1/${kind}`]: { status: 202, body: { job: job(kind, { state: 'queued', phase: 'scan-store', finishedAt: null }) } },
      'GET /nodes/gs-1/jobs/j-1': ok({ job: job(kind) }),
    };
    const result = await run(kind, 'gs-1', '--interval', '50');
    expect(result.code).toBe(4);
    expect(result.out).toContain('failed: layer/topp:roads: PUT /layers/topp:roads: 500 refused');
  });

  it.each(['reconcile', 'capture'])('job --wait on a %s: exit 4, as the command that started it', async (kind) => {
    cli.script = { 'GET /nodes/gs-1/jobs/j-1': [ok({ job: job(kind, { state: 'running', phase: 'fix', finishedAt: null }) }), ok({ job: job(kind) })] };
    const result = await run('job', 'gs-1', 'j-1', '--wait', '--interval', '50');
    expect(result.code).toBe(4);
    expect(result.out).toContain('failed: layer/topp:roads');
  });

  it('job without --wait on a reconcile that has ended so: exit 4, as for a failed one', async () => {
    cli.script = { 'GET /nodes/gs-1/jobs/j-1': ok({ job: job('reconcile') }) };
    expect((await run('job', 'gs-1', 'j-1')).code).toBe(4);
  });

  it("resync of a GeoServer node whose closing reconcile left objects unfixed: exit 4", async () => {
    const resync = job('resync', { source: 'master-1', resync: { snapshotSequence: 9, cursor: 9, appliedFromLog: 0 } });
    cli.script = {
      'GET /nodes': slaveGs1,
      'POST /nodes/gs-1/resync': { status: 202, body: { node: 'gs-1', source: 'master-1', job: { ...resync, state: 'queued', phase: 'bootstrap', finishedAt: null } } },
      'GET /nodes/gs-1/jobs/j-1': ok({ job: resync }),
    };
    const result = await run('resync', 'gs-1', '--interval', '50');
    expect(result.code).toBe(4);
    expect(result.out).toContain('failed: layer/topp:roads');
  });

  it.each([
    ['reconcile', ['reconcile', 'gs-1', '--interval', '50']],
    ['reconcile', ['job', 'gs-1', 'j-1', '--wait', '--interval', '50']],
    ['reconcile', ['job', 'gs-1', 'j-1']],
    ['resync', ['resync', 'gs-1', '--interval', '50']],
  ])('a %s that fixed everything: %j exits 0', async (kind, argv) => {
    const done = clean(kind);
    cli.script = {
      'GET /nodes': slaveGs1,
      'POST /nodes/gs-1/reconcile': { status: 202, body: { job: { ...done, state: 'queued', phase: 'scan-store', finishedAt: null } } },
      'POST /nodes/gs-1/resync': { status: 202, body: { node: 'gs-1', source: 'master-1', job: { ...done, state: 'queued', phase: 'bootstrap', finishedAt: null } } },
      'GET /nodes/gs-1/jobs/j-1': ok({ job: done }),
    };
    expect((await run(...argv)).code).toBe(0);
  });
});

describe('drift --last of a check that failed before it had compared everything', () => {
  it('says the check failed and why, not that it is still reading, and exits 4', async () => {
    const failed = job('drift', {
      state: 'failed',
      phase: 'scan-store',
      progress: { compared: 200, missing: 0, extra: 0, different: 0, toFix: null, fixed: 0, failed: 0, restCalls: 210, published: 0 },
      failures: [],
      error: 'GeoServerReadRefusedError: GET /workspaces/topp/datastores/pg.json answered 404',
    });
    cli.script = { 'GET /nodes/gs-1/drift': ok({ node: 'gs-1', job: failed, complete: false, counts: { missing: 0, extra: 0, different: 0 }, differences: [] }) };
    const result = await run('drift', 'gs-1', '--last');
    expect(result.out).not.toContain('still reading');
    expect(result.out).toContain('gs-1: the latest check (drift job j-1) failed before it had compared everything: GeoServerReadRefusedError: GET /workspaces/topp/datastores/pg.json answered 404');
    expect(result.out).toContain('geocluster drift gs-1');
    expect(result.code).toBe(4);
  });

  it('a check still reading is said to be so, exit 0', async () => {
    const running = job('drift', { state: 'running', phase: 'scan-store', finishedAt: null, failures: [] });
    cli.script = { 'GET /nodes/gs-1/drift': ok({ node: 'gs-1', job: running, complete: false, counts: { missing: 0, extra: 0, different: 0 }, differences: [] }) };
    const result = await run('drift', 'gs-1', '--last');
    expect(result.out).toContain('gs-1: the check is still reading: no differences to list yet (geocluster job gs-1 j-1 --wait)');
    expect(result.code).toBe(0);
  });
});
