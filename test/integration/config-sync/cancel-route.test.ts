/**
 * POST /nodes/{node}/jobs/{id}/cancel over HTTP against the local cluster, whose IAM gate holds
 * the ResyncNode function to its grants: a resync of a paused slave waits in its queue, and is
 * cancelled (its transaction checking the node's job lock and cursor item), the same answer
 * again; who may not cancel, a body, an unknown job are refused as documented; once the node is
 * resumed, the cancelled job's message finds it ended and a new resync starts and finishes.
 */
import { api } from '../../support/cluster-client';
import { eventually } from '../../support/eventually';

jest.setTimeout(120_000);


afterEach(async () => {
  // Never leave the shared cluster paused, whatever failed.
  await api('POST', '/nodes/slave-1/resume', { node: 'master-1' });
});

test('a queued resync of a paused slave is cancelled over HTTP, the node free at once; refusals as documented', async () => {
  expect((await api('POST', '/nodes/slave-1/pause', { node: 'master-1' })).status).toBe(200);
  const started = await api('POST', '/nodes/slave-1/resync', { node: 'master-1' });
  expect(started.status).toBe(202);
  const id: string = started.body.job!.id;
  const path = `/nodes/slave-1/jobs/${id}/cancel` as const;

  expect(await api('POST', path, { node: 'slave-2' })).toMatchObject({ status: 403 });
  expect(await api('POST', path, { node: 'ops' })).toMatchObject({ status: 403 });
  expect(await api('POST', path, { node: 'master-1', body: '{"now": true}', headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 400 });
  expect(await api('POST', '/nodes/slave-1/jobs/00000000-0000-4000-8000-000000000000/cancel', { node: 'master-1' })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  expect((await api('GET', `/nodes/slave-1/jobs/${id}`, { node: 'ops' })).body.job).toMatchObject({ state: 'queued' });

  const cancelled = await api('POST', path, { node: 'slave-1' });
  expect(cancelled).toMatchObject({ status: 200, body: { job: { id, kind: 'resync', state: 'cancelled', phase: 'bootstrap', error: expect.stringMatching(/^cancelled by slave-1 /) } } });
  expect(await api('POST', path, { node: 'master-1' })).toMatchObject({ status: 200, body: cancelled.body });
  expect((await api('GET', `/nodes/slave-1/jobs/${id}`, { node: 'ops' })).body.job).toEqual(cancelled.body.job);

  // Free at once: a new resync starts (queued behind the pause), and runs once the node resumes.
  const next = await api('POST', '/nodes/slave-1/resync', { node: 'master-1' });
  expect(next.status).toBe(202);
  expect((await api('POST', '/nodes/slave-1/resume', { node: 'master-1' })).status).toBe(200);
  const ended = await eventually('the new resync', async () => (await api('GET', `/nodes/slave-1/jobs/${next.body.job!.id}`, { node: 'ops' })).body.job, (job) => job.state !== 'queued' && job.state !== 'running', 60_000);
  expect(ended.state).toBe('succeeded');
  // The cancelled job's message, delivered after the resume, changed nothing.
  expect((await api('GET', `/nodes/slave-1/jobs/${id}`, { node: 'ops' })).body.job).toEqual(cancelled.body.job);
  // A job that ended otherwise: 409, nothing written.
  expect(await api('POST', `/nodes/slave-1/jobs/${next.body.job!.id}/cancel`, { node: 'master-1' })).toMatchObject({ status: 409, body: { code: 'JOB_ENDED', job: { state: 'succeeded' } } });
});
