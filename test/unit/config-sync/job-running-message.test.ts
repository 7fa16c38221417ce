import { jobRunningMessage, noResyncSourceMessage } from '../../../lambdas/config-sync/jobs';

describe('409 JOB_RUNNING message', () => {
  it('tells the caller that a queued job waits for its node queue, and for the resume of a paused node', () => {
    // A capture sent to a paused node stays queued until the resume: "wait for it to end" alone
    // had the caller wait on a job that cannot move.
    expect(jobRunningMessage('gs-main', { id: 'j1', kind: 'capture', state: 'queued' })).toBe(
      "Node gs-main is running job j1 (capture); it is queued, and starts when the node's queue delivers it " +
        '(a paused node\'s only after POST /nodes/gs-main/resume); wait for it to end',
    );
  });

  it("tells the caller that a running job of a node paused meanwhile goes on only after the resume", () => {
    // Its next slice waits in the paused queue: "wait for it to end" alone had the caller wait on a job that cannot move.
    expect(jobRunningMessage('gs-1', { id: 'j3', kind: 'reconcile', state: 'running' }, { since: '2026-12-07T10:00:00.000Z', by: 'master-1' })).toBe(
      'Node gs-1 is running job j3 (reconcile); the node is paused (since 2026-12-07T10:00:00.000Z, by master-1), so the job goes on only after POST /nodes/gs-1/resume; wait for it to end',
    );
  });

  it('keeps the short message for a job already running', () => {
    expect(jobRunningMessage('gs-1', { id: 'j2', kind: 'drift', state: 'running' })).toBe('Node gs-1 is running job j2 (drift); wait for it to end');
  });
});

describe('409 NO_RESYNC_SOURCE message', () => {
  it('says how to name a source: the body member and the CLI option', () => {
    // "name a source node" said neither where nor how.
    expect(noResyncSourceMessage('geo', 'master-1')).toBe(
      'Cluster geo has no master other than master-1 to resync it from: name another node whose store to copy, ' +
        '{"source": "<node>"} in the request\'s body (geocluster resync master-1 --source <node>)',
    );
  });
});
