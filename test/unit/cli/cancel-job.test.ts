/**
 * `geocluster cancel <node> <id>` against a stand-in API on 127.0.0.1: it sends
 * POST /nodes/{node}/jobs/{id}/cancel and prints the job as it ended (`cancelled`, who cancelled
 * it); a refusal (a job that ended otherwise, a resync copying its snapshot) is exit 1 with the
 * API's message; a job id or option it cannot take is exit 2 before any request. A cancelled job
 * read or waited for with `geocluster job` exits 4, as a failed one: it did not do its work.
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-cancel-');
const { run } = cli;

const at = '2026-12-07T18:00:00.000Z';
const cancelled = {
  id: 'j-1',
  node: 'gs-1',
  kind: 'reconcile',
  state: 'cancelled',
  phase: 'fix',
  progress: { compared: 40, missing: 3, extra: 0, different: 0, toFix: 3, fixed: 1, failed: 0, restCalls: 50, published: 0 },
  failures: [],
  createdAt: at,
  updatedAt: at,
  finishedAt: at,
  error: 'cancelled by master-1 (POST /nodes/gs-1/jobs/j-1/cancel); what it did before stays done: a drift check or reconcile shows what is left',
};

test('cancel <node> <id> sends the cancel and prints the job as it stopped: its phase, progress and who cancelled it', async () => {
  cli.script = { 'POST /nodes/gs-1/jobs/j-1/cancel': { status: 200, body: { job: cancelled } } };
  const result = await run('cancel', 'gs-1', 'j-1');
  expect(result.code).toBe(0);
  expect(result.out).toBe(
    'gs-1: reconcile job j-1 cancelled (fix): compared 40, missing 3, extra 0, different 0, toFix 3, fixed 1, failed 0, restCalls 50, published 0\n' +
      `  error: ${cancelled.error}\n`,
  );
  expect(cli.requested()).toEqual(['POST /nodes/gs-1/jobs/j-1/cancel']);
});

test('cancel --json prints the answer as it came', async () => {
  cli.script = { 'POST /nodes/gs-1/jobs/j-1/cancel': { status: 200, body: { job: cancelled } } };
  const result = await run('cancel', 'gs-1', 'j-1', '--json');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.out)).toEqual({ job: cancelled });
});

test.each([
  ['JOB_ENDED', 'Job j-1 (reconcile) of node gs-1 has already ended (succeeded at 2026-12-07T18:00:00.000Z): there is nothing to cancel'],
  ['RESYNC_COPYING', 'Resync job j-1 of node gs-1 has begun replacing its store with master-1\'s snapshot (200 objects copied): ... wait for it to finish'],
])('a refusal (%s) is exit 1 with the API\'s message', async (code, message) => {
  cli.script = { 'POST /nodes/gs-1/jobs/j-1/cancel': { status: 409, body: { code, message } } };
  const result = await run('cancel', 'gs-1', 'j-1');
  expect(result.code).toBe(1);
  expect(result.err).toContain(message);
});

test.each([
  [['cancel', 'gs-1'], /^geocluster: cancel needs <id>\nUsage: geocluster cancel <node> <id>/],
  [['cancel', 'gs-1', 'not a job'], /^geocluster: job id 'not a job' must be 1-64 letters, digits or dashes/],
  [['cancel', 'gs-1', 'j-1', '--wait'], /^geocluster: --wait does not apply to cancel \(it has no options of its own, besides those of every command\)\nUsage: geocluster cancel <node> <id>/],
])('geocluster %j: exit 2 before any request', async (argv, message) => {
  cli.script = {};
  const result = await run(...argv);
  expect(result.code).toBe(2);
  expect(result.err).toMatch(message);
  expect(cli.requested()).toEqual([]);
});

test.each([[['job', 'gs-1', 'j-1']], [['job', 'gs-1', 'j-1', '--wait', '--interval', '50']]])('geocluster %j of a cancelled job: exit 4, its error shown', async (argv) => {
  cli.script = { 'GET /nodes/gs-1/jobs/j-1': { status: 200, body: { job: cancelled } } };
  const result = await run(...argv);
  expect(result.code).toBe(4);
  expect(result.out).toContain('reconcile job j-1 cancelled (fix)');
  expect(result.out).toContain('error: cancelled by master-1');
});

test('the main help lists cancel among the commands', async () => {
  const result = await run('--help');
  expect(result.out).toMatch(/\n {2}cancel <node> <id> +cancel a node's queued or running job/);
});
