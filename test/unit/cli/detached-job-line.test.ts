/**
 * A job started with --detach (`resync`, `drift`, `reconcile`, `capture`) and a wait that stops
 * before the job ends say the same thing: which job runs, in what state, and the one command that
 * follows it. One line for every command, so a reader (or a script) meets one form, not a
 * resync's "started as job" beside the other jobs' "<kind> job <id> <state>".
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-detached-');
const { run } = cli;

const at = '2026-12-04T03:00:00.000Z';
const job = (node: string, kind: string, id: string) => ({
  id, node, kind, state: 'queued', phase: 'scan-store', progress: {}, failures: [], createdAt: at, updatedAt: at, finishedAt: null, error: null,
});

it.each([
  ['reconcile', ['reconcile', 'slave-1', '--yes', '--detach'], { 'POST /nodes/slave-1/reconcile': { status: 202, body: { job: job('slave-1', 'reconcile', 'j-1') } } },
    'slave-1: reconcile job j-1 queued; follow it: geocluster job slave-1 j-1 --wait'],
  ['drift', ['drift', 'slave-1', '--detach'], { 'POST /nodes/slave-1/drift': { status: 202, body: { job: job('slave-1', 'drift', 'j-1') } } },
    'slave-1: drift job j-1 queued; follow it: geocluster job slave-1 j-1 --wait'],
  ['resync, its source named', ['resync', 'slave-2', '--yes', '--detach'],
    { 'POST /nodes/slave-2/resync': { status: 202, body: { node: 'slave-2', source: 'master-1', job: { ...job('slave-2', 'resync', 'j-2'), phase: 'bootstrap', source: 'master-1' } } } },
    'slave-2: resync job j-2 queued (from master-1); follow it: geocluster job slave-2 j-2 --wait'],
])('%s --detach: the job, its state and how to follow it, in the one form', async (_, argv, script, line) => {
  cli.script = script;
  const result = await run(...argv);
  expect(result).toMatchObject({ code: 0, err: '' });
  expect(result.out).toBe(`${line}\n`);
});

it('a wait that stops before the job ends names the same command, in the same words', async () => {
  cli.script = {
    'POST /nodes/slave-1/reconcile': { status: 202, body: { job: job('slave-1', 'reconcile', 'j-1') } },
    'GET /nodes/slave-1/jobs/j-1': { status: 503, body: { message: 'Service Unavailable' } },
  };
  const result = await run('reconcile', 'slave-1', '--yes', '--interval', '50');
  expect(result.code).toBe(1);
  expect(result.err).toContain('stopped waiting for reconcile job j-1 on slave-1, which goes on in the cluster; follow it: geocluster job slave-1 j-1 --wait');
});
