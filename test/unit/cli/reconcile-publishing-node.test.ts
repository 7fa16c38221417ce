/**
 * `geocluster reconcile <node>` of a node that publishes (role master or both, with a GeoServer):
 * the reconcile deletes from that GeoServer every object the cluster's store lacks, and what was
 * made in its web UI and never captured is held by no node, so it is lost for good. The console
 * asks first; the CLI refuses (exit 2, before anything is started) unless --yes is given, saying
 * what would be deleted and what to run first (drift lists them, capture publishes them). The
 * role comes from GET /nodes, asked only when --yes is absent; a GET /nodes that fails starts
 * nothing. A slave's GeoServer holds nothing of its own: its reconcile needs no --yes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCliCollected } from '../../support/run-cli';
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-reconcile-publishing-');
const { run, requested } = cli;

const at = '2026-12-04T03:00:00.000Z';
const ok = (body: unknown) => ({ status: 200, body });
const node = (name: string, role: string, geoserver = true) => ({
  name, role, lastAppliedSequence: 7, lag: 0, queueDepth: role === 'master' ? null : 0, deadLetterDepth: role === 'master' ? null : 0, paused: false,
  ...(geoserver ? { geoserver: { url: `http://127.0.0.1:1/${name}`, reachable: true, version: '2.26.2', checkedAt: at, lastError: null, rejected: [], unclearedProperties: [] } } : {}),
});
const nodes = (...members: ReturnType<typeof node>[]) => ok({ head: 7, nodes: members });
const job = (node: string, state: string) => ({
  id: 'j-1', node, kind: 'reconcile', state, phase: state === 'succeeded' ? 'done' : 'scan-store',
  progress: { compared: 4, missing: 0, extra: 1, different: 0, toFix: 1, fixed: state === 'succeeded' ? 1 : 0, failed: 0, restCalls: 3 },
  failures: [], createdAt: at, updatedAt: at, finishedAt: state === 'succeeded' ? at : null, error: null,
});
const cluster = nodes(node('gs-main', 'master'), node('gs-both', 'both'), node('gs-1', 'slave'), node('master-1', 'master', false));
const started = (name: string) => ({
  [`POST /nodes/${name}/reconcile`]: { status: 202, body: { job: job(name, 'queued') } },
  [`GET /nodes/${name}/jobs/j-1`]: ok({ job: job(name, 'succeeded') }),
});

describe('reconcile of a node that publishes, without --yes', () => {
  it.each([
    ['a master', 'gs-main', 'master', []],
    ['a both node', 'gs-both', 'both', []],
    ['a master, --detach', 'gs-main', 'master', ['--detach']],
    ['a master, --json', 'gs-main', 'master', ['--json']],
  ])('%s: refused, exit 2, nothing started; it says what would be deleted and what to run first', async (_, name, role, extra) => {
    cli.script = { 'GET /nodes': cluster, ...started(name) };
    const result = await run('reconcile', name, '--interval', '50', ...extra);
    expect({ code: result.code, out: result.out }).toEqual({ code: 2, out: '' });
    expect(requested()).toEqual(['GET /nodes']);
    expect(result.err).toMatch(new RegExp(`^geocluster: ${name} is a ${role} node: a reconcile deletes from its GeoServer every object the cluster's store lacks`));
    // What is lost, and what to run instead (each named with this node).
    expect(result.err).toContain('lost for good');
    expect(result.err).toContain(`geocluster drift ${name}`);
    expect(result.err).toContain(`geocluster capture ${name}`);
    expect(result.err).toContain(`geocluster reconcile ${name} --yes`);
  });

  it('a role this geocluster does not know (a newer cluster\'s), with a GeoServer: refused, as it may publish', async () => {
    cli.script = { 'GET /nodes': nodes(node('gs-x', 'editor')), ...started('gs-x') };
    const result = await run('reconcile', 'gs-x', '--interval', '50');
    expect(result.code).toBe(2);
    expect(requested()).toEqual(['GET /nodes']);
    expect(result.err).toMatch(/^geocluster: gs-x is a node of role editor, which this geocluster does not know: it may publish, and a reconcile deletes from its GeoServer every object the cluster's store lacks/);
    expect(result.err).toContain('geocluster reconcile gs-x --yes');
  });
});

describe('reconcile that goes ahead', () => {
  it.each([
    ['a master with --yes', 'gs-main', ['--yes']],
    ['a both node with --yes, --detach', 'gs-both', ['--yes', '--detach']],
  ])('%s: started at once, GET /nodes not asked', async (_, name, extra) => {
    cli.script = { 'GET /nodes': cluster, ...started(name) };
    const result = await run('reconcile', name, '--interval', '50', ...extra);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(requested()[0]).toBe(`POST /nodes/${name}/reconcile`);
    expect(requested()).not.toContain('GET /nodes');
  });

  it('a slave: no --yes needed (its GeoServer holds nothing of its own)', async () => {
    cli.script = { 'GET /nodes': cluster, ...started('gs-1') };
    const result = await run('reconcile', 'gs-1', '--interval', '50');
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain('gs-1: reconcile job j-1 succeeded');
    expect(requested()).toEqual(['GET /nodes', 'POST /nodes/gs-1/reconcile', 'GET /nodes/gs-1/jobs/j-1']);
  });

  it('a master without a GeoServer: sent, the API says it has none (naming those that have), GET /nodes asked once', async () => {
    cli.script = {
      'GET /nodes': cluster,
      'POST /nodes/master-1/reconcile': { status: 409, body: { code: 'NO_GEOSERVER', message: 'Node master-1 declares no GeoServer: there is nothing to compare its store with' } },
    };
    const result = await run('reconcile', 'master-1');
    expect(result.code).toBe(1);
    expect(result.err).toBe('geocluster: 409 NO_GEOSERVER: Node master-1 declares no GeoServer: there is nothing to compare its store with; the nodes with a GeoServer are gs-main, gs-both, gs-1\n');
    expect(requested()).toEqual(['GET /nodes', 'POST /nodes/master-1/reconcile']);
  });

  it('a node the cluster does not list: sent, the API names the problem', async () => {
    cli.script = {
      'GET /nodes': cluster,
      'POST /nodes/gs-9/reconcile': { status: 404, body: { code: 'NODE_NOT_FOUND', message: 'Node gs-9 is not a member of cluster geo' } },
    };
    const result = await run('reconcile', 'gs-9');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^geocluster: 404 NODE_NOT_FOUND: Node gs-9 is not a member of cluster geo; the nodes with a GeoServer are gs-main, gs-both, gs-1/);
  });
});

describe('a GET /nodes that fails: nothing is reconciled blindly', () => {
  it.each([
    ['a 500', { status: 500, body: { message: 'Internal Server Error' } }, 1, /500 Internal Server Error/],
    ['a refusal of the API', { status: 409, body: { code: 'SOMETHING', message: 'not now' } }, 1, /409 SOMETHING: not now/],
    ['an answer not the API\'s', ok({ head: 7, nodes: {} }), 1, /GET \/nodes answered 200 with an unexpected body/],
  ])('%s: not started, saying why, and what --yes would do', async (_, answer, code, why) => {
    cli.script = { 'GET /nodes': answer, ...started('gs-1') };
    const result = await run('reconcile', 'gs-1');
    expect(result.code).toBe(code);
    expect(requested()).toEqual(['GET /nodes']);
    expect(result.err).toMatch(/^geocluster: reconcile gs-1 not started: GET \/nodes, which tells whether gs-1 publishes, failed: /);
    expect(result.err).toMatch(why);
    expect(result.err).toContain('--yes');
  });
});

describe('a GET /nodes without an answer: nothing is reconciled', () => {
  it('no answer within --timeout: not started, saying so (GET /nodes changed nothing), exit 3, no reconcile sent', async () => {
    const paths: string[] = [];
    // Takes each request and answers none.
    const silent = createServer((request) => void paths.push(`${request.method} ${request.url}`));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const result = await runCliCollected(['reconcile', 'gs-1', '--timeout', '1'], { tty: false, env: { GEOCLUSTER_URL: url, GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' }, cwd: cli.scratch });
      expect(result.code).toBe(3);
      expect(result.err).toMatch(/^geocluster: reconcile gs-1 not started: GET \/nodes, which tells whether gs-1 publishes, failed: no answer \(timed out after 1 s\)/);
      expect(paths).toEqual(['GET /nodes']);
    } finally {
      await new Promise<void>((resolve) => {
        silent.close(() => resolve());
        silent.closeAllConnections();
      });
    }
    // The CLI's own --timeout (1 s) bounds it; a loaded machine may take longer than Jest's 5 s default to get there.
  }, 15_000);
});

it('--yes applies to reconcile only', async () => {
  const result = await run('capture', 'gs-main', '--yes');
  expect(result.code).toBe(2);
  expect(result.err).toMatch(/^geocluster: --yes does not apply to capture/);
  expect(requested()).toEqual([]);
});

it('the help of reconcile names --yes and what it confirms', async () => {
  const { out } = await run('reconcile', '--help');
  expect(out).toMatch(/^Usage: geocluster reconcile <node> \[--yes\]/);
  expect(out).toMatch(/--yes: .*master or both/);
});

describe('resync of a node that publishes with a GeoServer, without --yes', () => {
  const resyncJob = (name: string) => ({ ...job(name, 'succeeded'), kind: 'resync', source: 'master-1', resync: { snapshotSequence: 7, cursor: 7, appliedFromLog: 0 } });
  const resyncStarted = (name: string) => ({
    [`POST /nodes/${name}/resync`]: { status: 202, body: { node: name, source: 'master-1', job: { ...resyncJob(name), state: 'queued', phase: 'bootstrap', finishedAt: null } } },
    [`GET /nodes/${name}/jobs/j-1`]: ok({ job: resyncJob(name) }),
  });

  it('a both node: refused, exit 2, nothing started, naming the closing reconcile and what to run first', async () => {
    cli.script = { 'GET /nodes': cluster, ...resyncStarted('gs-both') };
    const result = await run('resync', 'gs-both', '--interval', '50');
    expect({ code: result.code, out: result.out }).toEqual({ code: 2, out: '' });
    expect(requested()).toEqual(['GET /nodes']);
    expect(result.err).toMatch(/^geocluster: gs-both is a both node: its resync ends with a reconcile, which deletes from its GeoServer every object the cluster's store lacks/);
    expect(result.err).toContain('geocluster drift gs-both');
    expect(result.err).toContain('geocluster capture gs-both');
    expect(result.err).toContain('geocluster resync gs-both --yes');
  });

  it.each([
    ['a slave with a GeoServer', 'gs-1'],
    ['a pure master (no GeoServer)', 'master-1'],
    // A master has no queue: its resync runs within the requests, copies its store and ends there,
    // with no reconcile of its GeoServer (resync-node.ts), so nothing of that GeoServer is deleted.
    ['a master with a GeoServer (its resync ends with no reconcile)', 'gs-main'],
  ])('%s: goes ahead after the role read', async (_, name) => {
    cli.script = { 'GET /nodes': cluster, ...resyncStarted(name) };
    const result = await run('resync', name, '--interval', '50');
    expect(result.code).toBe(0);
    expect(requested()).toEqual(['GET /nodes', `POST /nodes/${name}/resync`, `GET /nodes/${name}/jobs/j-1`]);
  });

  it('--yes: resynced without reading the roles', async () => {
    cli.script = { 'GET /nodes': cluster, ...resyncStarted('gs-both') };
    const result = await run('resync', 'gs-both', '--yes', '--interval', '50');
    expect(result.code).toBe(0);
    expect(requested()).toEqual(['POST /nodes/gs-both/resync', 'GET /nodes/gs-both/jobs/j-1']);
  });
});
