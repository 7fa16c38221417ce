/**
 * A wait for a node job (`reconcile`, `capture`, `drift`, `resync`, `job --wait`) whose polling
 * meets an answer that passes by itself (API Gateway's throttle or 5xx, a request with no answer):
 * the job goes on in the cluster whatever the CLI does, so a poll is asked again rather than the
 * wait ended as if the job were refused; and a wait that does end before the job says that the job
 * goes on and how to follow it, never only the poll's error (which reads as the job refused:
 * "try again" would start another, refused 409 JOB_RUNNING).
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-job-wait-');
const { run, requested } = cli;

const at = '2026-12-04T03:00:00.000Z';
const job = (state: string, phase: string) => ({
  id: 'j-1', node: 'gs-1', kind: 'reconcile', state, phase,
  progress: { compared: 4, missing: 1, extra: 0, different: 0, toFix: 1, fixed: state === 'succeeded' ? 1 : 0, failed: 0, restCalls: 3, published: 0 },
  failures: [], createdAt: at, updatedAt: at, finishedAt: state === 'succeeded' ? at : null, error: null,
});
const started = { status: 202, body: { job: job('queued', 'scan-store') } };
const throttled = { status: 429, body: { message: 'Too Many Requests' } };
const unavailable = { status: 503, body: { message: 'Service Unavailable' } };

it('a poll throttled or answered 503 is asked again: the wait goes on to the job\'s end', async () => {
  cli.script = {
    'POST /nodes/gs-1/reconcile': started,
    'GET /nodes/gs-1/jobs/j-1': [throttled, unavailable, { status: 200, body: { job: job('succeeded', 'done') } }],
  };
  const result = await run('reconcile', 'gs-1', '--yes', '--interval', '50');
  expect(result).toMatchObject({ code: 0, err: '' });
  expect(result.out).toContain('gs-1: reconcile job j-1 succeeded');
  expect(requested()).toEqual(['POST /nodes/gs-1/reconcile', ...Array(3).fill('GET /nodes/gs-1/jobs/j-1')]);
});

it('a wait that gives up on its polls says the job goes on, and how to follow it', async () => {
  cli.script = { 'POST /nodes/gs-1/reconcile': started, 'GET /nodes/gs-1/jobs/j-1': unavailable };
  const result = await run('reconcile', 'gs-1', '--yes', '--interval', '50');
  expect(result.code).toBe(1);
  expect(result.err).toContain('503 Service Unavailable');
  expect(result.err).toContain('stopped waiting for reconcile job j-1 on gs-1, which goes on in the cluster; follow it: geocluster job gs-1 j-1 --wait');
});

it('a poll refused for good (the token revoked meanwhile) ends the wait at once, saying the job goes on', async () => {
  cli.script = { 'POST /nodes/gs-1/reconcile': started, 'GET /nodes/gs-1/jobs/j-1': { status: 403, body: { message: 'Forbidden' } } };
  const result = await run('reconcile', 'gs-1', '--yes', '--interval', '50');
  expect(result.code).toBe(1);
  expect(result.err).toContain('stopped waiting for reconcile job j-1 on gs-1, which goes on in the cluster');
  expect(requested()).toEqual(['POST /nodes/gs-1/reconcile', 'GET /nodes/gs-1/jobs/j-1']);
});
