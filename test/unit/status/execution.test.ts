import {
  activeWrite,
  applyWrite,
  canTransition,
  dismiss,
  isExpired,
  PHASES,
  reapIfLost,
  type ExecutionStatus,
  type Phase,
} from '../../../lambdas/status/execution';
import { AppError } from '../../../lambdas/shared/errors';
import { ogcStatusOf } from '../../../lambdas/status/protocols/ogcapi';
import { wps2StatusOf } from '../../../lambdas/status/protocols/wps2';
import { isVisibleToWps1 } from '../../../lambdas/status/protocols/wps1';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const ctx = (now = T0, nodeId = 'node-a') => ({ executionId: 'exec-1', nodeId, now });

function status(phase: Phase, overrides: Partial<ExecutionStatus> = {}): ExecutionStatus {
  return {
    executionId: 'exec-1',
    processName: 'gs:Buffer',
    phase,
    progress: 0,
    nodeId: 'node-a',
    creationTime: T0.toISOString(),
    lastUpdated: T0.toISOString(),
    ...(phase === 'SUCCEEDED' || phase === 'FAILED' ? { completionTime: T0.toISOString() } : {}),
    version: 3,
    ...overrides,
  };
}

// The table of REFERENCE.md 1, written out pair by pair: [from, to, allowed].
const EXPECTED: Record<Phase, Record<Phase, boolean>> = {
  QUEUED: { QUEUED: true, RUNNING: true, SUCCEEDED: false, DISMISSING: true, FAILED: true },
  RUNNING: { QUEUED: false, RUNNING: true, SUCCEEDED: true, DISMISSING: true, FAILED: true },
  SUCCEEDED: { QUEUED: false, RUNNING: false, SUCCEEDED: true, DISMISSING: false, FAILED: false },
  DISMISSING: { QUEUED: false, RUNNING: false, SUCCEEDED: false, DISMISSING: true, FAILED: true },
  FAILED: { QUEUED: false, RUNNING: false, SUCCEEDED: false, DISMISSING: false, FAILED: true },
};

describe('phase transitions', () => {
  const pairs = PHASES.flatMap((from) => PHASES.map((to) => [from, to, EXPECTED[from][to]] as const));

  it.each(pairs)('%s -> %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  // Through applyWrite, for executions that were not dismissed (DISMISSING always is).
  it.each(pairs.filter(([from]) => from !== 'DISMISSING'))('a node writing %s -> %s is accepted: %s', (from, to, allowed) => {
    const write = () => applyWrite(status(from), { phase: to }, ctx(later(1000)));
    if (allowed) {
      expect(write().status.phase).toBe(to);
    } else {
      expect(write).toThrow(`Cannot switch process status from ${from} to ${to}`);
    }
  });

  it.each(PHASES)('a new execution can start only QUEUED (%s)', (phase) => {
    const write = () => applyWrite(undefined, { phase, processName: 'gs:Buffer' }, ctx());
    if (phase === 'QUEUED') expect(write().status).toMatchObject({ phase: 'QUEUED', version: 1, nodeId: 'node-a' });
    else expect(write).toThrow(`Cannot create process status in phase ${phase}`);
  });

  it('refuses a create without processName, naming the field', () => {
    expect(() => applyWrite(undefined, { phase: 'QUEUED' }, ctx())).toThrow(
      expect.objectContaining({ status: 400, field: 'processName' }),
    );
  });
});

describe('applyWrite', () => {
  it('keeps a creation time the node sends from its past, and never one later than the creating write', () => {
    const earlier = later(-60_000).toISOString();
    expect(applyWrite(undefined, { phase: 'QUEUED', processName: 'gs:Buffer', creationTime: earlier }, ctx()).status.creationTime).toBe(earlier);
    // A node whose clock runs ahead: the status would be created after its own last update (and
    // listed ahead of every newer execution), so it is created when the write arrived.
    const ahead = applyWrite(undefined, { phase: 'QUEUED', processName: 'gs:Buffer', creationTime: later(3_600_000).toISOString() }, ctx()).status;
    expect(ahead.creationTime).toBe(T0.toISOString());
    expect(ahead.creationTime <= ahead.lastUpdated).toBe(true);
  });

  it('keeps unsent fields, bumps the version and records the heartbeat and writer', () => {
    const current = status('RUNNING', { task: 'reading', userName: 'alice', progress: 10 });
    const { status: next } = applyWrite(current, { phase: 'RUNNING', progress: 40 }, ctx(later(5000), 'node-b'));
    expect(next).toMatchObject({ progress: 40, task: 'reading', userName: 'alice', version: 4, nodeId: 'node-b' });
    expect(next.lastUpdated).toBe(later(5000).toISOString());
    expect(next.creationTime).toBe(current.creationTime);
  });

  it('sets completionTime once, when the phase first completes, and never again', () => {
    const running = status('RUNNING');
    const succeeded = applyWrite(running, { phase: 'SUCCEEDED' }, ctx(later(1000))).status;
    expect(succeeded.completionTime).toBe(later(1000).toISOString());
    expect(succeeded.progress).toBe(100);
    const rewritten = applyWrite(succeeded, { phase: 'SUCCEEDED', task: 'done' }, ctx(later(9000))).status;
    expect(rewritten.completionTime).toBe(later(1000).toISOString());
    expect(rewritten.lastUpdated).toBe(later(9000).toISOString());
  });

  it('sets startTime once, on the write that takes the execution from QUEUED to RUNNING, and keeps it', () => {
    const queued = applyWrite(undefined, { phase: 'QUEUED', processName: 'gs:Buffer' }, ctx()).status;
    expect(queued.startTime).toBeUndefined();
    const requeued = applyWrite(queued, { phase: 'QUEUED', task: 'waiting' }, ctx(later(500))).status;
    expect(requeued.startTime).toBeUndefined();
    const started = applyWrite(requeued, { phase: 'RUNNING' }, ctx(later(1000))).status;
    expect(started.startTime).toBe(later(1000).toISOString());
    const progressed = applyWrite(started, { phase: 'RUNNING', progress: 50 }, ctx(later(2000))).status;
    expect(progressed.startTime).toBe(later(1000).toISOString());
    const done = applyWrite(progressed, { phase: 'SUCCEEDED' }, ctx(later(3000))).status;
    expect(done.startTime).toBe(later(1000).toISOString());
  });

  it.each(['FAILED', 'DISMISSING'] as const)('sets no startTime for an execution that goes from QUEUED to %s without running', (phase) => {
    expect(applyWrite(status('QUEUED'), { phase }, ctx(later(1000))).status.startTime).toBeUndefined();
  });

  it.each(['RUNNING', 'SUCCEEDED', 'FAILED'] as const)('makes up no startTime for a RUNNING status stored without one (before start times were recorded), writing %s', (phase) => {
    expect(applyWrite(status('RUNNING'), { phase }, ctx(later(1000))).status.startTime).toBeUndefined();
  });

  it('does not set completionTime for an active phase', () => {
    expect(applyWrite(status('QUEUED'), { phase: 'RUNNING' }, ctx()).status.completionTime).toBeUndefined();
  });

  it('refuses to replace the result location of a succeeded execution, and lets a repeat or a first one through', () => {
    const succeeded = status('SUCCEEDED', { resultLocation: 'https://results.example/a' });
    expect(() => applyWrite(succeeded, { phase: 'SUCCEEDED', resultLocation: 'https://results.example/b' }, ctx(later(1000)))).toThrow(
      expect.objectContaining({ status: 409, code: 'IMMUTABLE_FIELD', message: expect.stringContaining('resultLocation') }),
    );
    const repeated = applyWrite(succeeded, { phase: 'SUCCEEDED', resultLocation: 'https://results.example/a' }, ctx(later(1000))).status;
    expect(repeated.resultLocation).toBe('https://results.example/a');
    const first = applyWrite(status('SUCCEEDED'), { phase: 'SUCCEEDED', resultLocation: 'https://results.example/a' }, ctx(later(1000))).status;
    expect(first.resultLocation).toBe('https://results.example/a');
    // Before it completes, the location is not yet served to anyone: a node may still correct it.
    const running = status('RUNNING', { resultLocation: 'https://results.example/a' });
    expect(applyWrite(running, { phase: 'SUCCEEDED', resultLocation: 'https://results.example/b' }, ctx(later(1000))).status.resultLocation).toBe(
      'https://results.example/b',
    );
  });

  it('refuses to change processName or userName', () => {
    expect(() => applyWrite(status('RUNNING'), { phase: 'RUNNING', processName: 'other' }, ctx())).toThrow(
      expect.objectContaining({ code: 'IMMUTABLE_FIELD' }),
    );
    expect(() =>
      applyWrite(status('RUNNING', { userName: 'alice' }), { phase: 'RUNNING', userName: 'bob' }, ctx()),
    ).toThrow(expect.objectContaining({ code: 'IMMUTABLE_FIELD' }));
  });
});

describe('dismissal', () => {
  it.each(['QUEUED', 'RUNNING'] as const)('%s becomes DISMISSING', (phase) => {
    const outcome = dismiss(status(phase), 'exec-1');
    expect(outcome).toMatchObject({ action: 'dismissing', status: { phase: 'DISMISSING', dismissed: true, version: 4 } });
  });

  it.each(['SUCCEEDED', 'FAILED'] as const)('a %s execution is removed', (phase) => {
    expect(dismiss(status(phase), 'exec-1').action).toBe('remove');
  });

  it('an unknown execution is 404 and a second dismiss is 410', () => {
    expect(() => dismiss(undefined, 'nope')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => dismiss(status('DISMISSING', { dismissed: true }), 'exec-1')).toThrow(
      expect.objectContaining({ status: 410, code: 'ALREADY_DISMISSED' }),
    );
  });

  it.each(['QUEUED', 'RUNNING'] as const)('a node writing %s after a dismiss is told to stop', (phase) => {
    const dismissed = status('DISMISSING', { dismissed: true });
    let error: unknown;
    try {
      applyWrite(dismissed, { phase }, ctx());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 409, code: 'EXECUTION_DISMISSED', details: { status: dismissed } });
  });

  it('a job that succeeds after a dismiss ends FAILED', () => {
    const outcome = applyWrite(status('DISMISSING', { dismissed: true }), { phase: 'SUCCEEDED' }, ctx(later(100)));
    expect(outcome.dismissed).toBe(true);
    expect(outcome.status).toMatchObject({ phase: 'FAILED', exception: { code: 'Dismissed' } });
    expect(outcome.status.completionTime).toBe(later(100).toISOString());
  });

  it('a node acknowledging with FAILED keeps its own exception, or gets the dismissal one', () => {
    const dismissed = status('DISMISSING', { dismissed: true });
    expect(applyWrite(dismissed, { phase: 'FAILED' }, ctx()).status.exception?.code).toBe('Dismissed');
    const own = { code: 'Cancelled', message: 'stopped at step 3' };
    expect(applyWrite(dismissed, { phase: 'FAILED', exception: own }, ctx()).status.exception).toEqual(own);
  });

  it("a FAILED written again without an exception (a node's retried save) keeps the job's own failure", () => {
    const own = { code: 'Cancelled', message: 'stopped at step 3' };
    const failed = applyWrite(status('DISMISSING', { dismissed: true }), { phase: 'FAILED', exception: own }, ctx()).status;
    const again = applyWrite(failed, { phase: 'FAILED' }, ctx(later(100)));
    expect(again.status).toMatchObject({ phase: 'FAILED', dismissed: true, exception: own });
  });
});

describe('a dismiss a node writes (phase DISMISSING) reads as dismissed to the end', () => {
  // GeoServer's own path: a client sends Dismiss to a node, whose status tracker saves DISMISSING.
  // Only DELETE /executions/{id} used to set `dismissed`, which the protocols read once the phase
  // is FAILED: the job then read as failed, and as a failure again in WPS 1.0.0.
  const dismissing = applyWrite(status('RUNNING'), { phase: 'DISMISSING' }, ctx(later(1000))).status;
  const protocols = (s: ExecutionStatus) => [ogcStatusOf(s), wps2StatusOf(s), isVisibleToWps1(s)];

  it('while its node stops it, every protocol says dismissed', () => {
    expect(protocols(dismissing)).toEqual(['dismissed', 'Dismissed', false]);
  });

  it('once its node stopped it (FAILED), as after DELETE /executions/{id}', () => {
    const stopped = applyWrite(dismissing, { phase: 'FAILED' }, ctx(later(2000))).status;
    expect(stopped.exception?.code).toBe('Dismissed');
    expect(protocols(stopped)).toEqual(['dismissed', 'Dismissed', false]);
  });

  it('once it succeeded anyway (stored FAILED, exception Dismissed)', () => {
    const finished = applyWrite(dismissing, { phase: 'SUCCEEDED' }, ctx(later(2000)));
    expect(finished.dismissed).toBe(true);
    expect([finished.status.phase, ...protocols(finished.status)]).toEqual(['FAILED', 'dismissed', 'Dismissed', false]);
  });

  it('a second dismiss is 410 ALREADY_DISMISSED', () => {
    expect(() => dismiss(dismissing, 'exec-1')).toThrow(expect.objectContaining({ status: 410, code: 'ALREADY_DISMISSED' }));
  });

  // GeoServer's WPSExecutionManager.cancel saves DISMISSING from whichever node got the Dismiss,
  // not the one running the job. nodeId names the node running it: the reaper's NodeLost blames
  // it, and a listing by node finds its jobs there.
  it('recorded by another node, it keeps the running node as nodeId, as DELETE /executions/{id} does', () => {
    const byOther = applyWrite(status('RUNNING', { nodeId: 'node-a' }), { phase: 'DISMISSING' }, ctx(later(1000), 'node-b')).status;
    expect(byOther).toMatchObject({ phase: 'DISMISSING', dismissed: true, nodeId: 'node-a' });
    expect(reapIfLost(byOther, later(3_600_000), 60_000)?.exception?.message).toMatch(/^Node node-a /);
    // The running node's own end of it is still its write.
    expect(applyWrite(byOther, { phase: 'FAILED' }, ctx(later(2000), 'node-a')).status.nodeId).toBe('node-a');
  });

  // As such a write was stored before the flag: DISMISSING without `dismissed`.
  const storedBefore = status('DISMISSING', { lastUpdated: T0.toISOString() });

  it('stored before the flag, and its node lost: the reaper fails it, and it still reads as dismissed', () => {
    const reaped = reapIfLost(storedBefore, later(3_600_000), 60_000);
    expect(reaped?.phase).toBe('FAILED');
    expect(protocols(reaped as ExecutionStatus)).toEqual(['dismissed', 'Dismissed', false]);
  });

  it('stored before the flag: a second dismiss is 410 ALREADY_DISMISSED', () => {
    expect(storedBefore.dismissed).toBeUndefined();
    expect(() => dismiss(storedBefore, 'exec-1')).toThrow(expect.objectContaining({ status: 410, code: 'ALREADY_DISMISSED' }));
  });
});

describe('timestamps never go backwards', () => {
  it('a write whose clock is behind the stored lastUpdated keeps the stored one', () => {
    const stored = status('RUNNING', { lastUpdated: later(5000).toISOString() });
    const written = applyWrite(stored, { phase: 'RUNNING', progress: 50 }, ctx(later(1000))).status;
    expect(written.lastUpdated).toBe(later(5000).toISOString());
  });

  it('a completion by a writer with a lagging clock is not before the last update', () => {
    const stored = status('RUNNING', { lastUpdated: later(5000).toISOString() });
    const done = applyWrite(stored, { phase: 'SUCCEEDED' }, ctx(later(1000))).status;
    expect(done.completionTime).toBe(later(5000).toISOString());
    expect(done.completionTime! <= done.lastUpdated).toBe(true);
  });

  it('a write with a later clock takes its own time', () => {
    const stored = status('RUNNING', { lastUpdated: later(1000).toISOString() });
    expect(applyWrite(stored, { phase: 'RUNNING' }, ctx(later(2000))).status.lastUpdated).toBe(later(2000).toISOString());
  });
});

describe('reaper rule', () => {
  const timeout = 300_000;

  it.each(['QUEUED', 'RUNNING', 'DISMISSING'] as const)('fails a silent %s execution, naming the node', (phase) => {
    const reaped = reapIfLost(status(phase, { nodeId: 'node-7' }), later(timeout + 1), timeout);
    expect(reaped).toMatchObject({ phase: 'FAILED', exception: { code: 'NodeLost' }, version: 4 });
    expect(reaped?.exception?.message).toContain('node-7');
    expect(reaped?.completionTime).toBe(later(timeout + 1).toISOString());
    // Failing it is an update: completionTime never after lastUpdated.
    expect(reaped?.lastUpdated).toBe(reaped?.completionTime);
  });

  it('leaves an execution with a recent heartbeat alone', () => {
    expect(reapIfLost(status('RUNNING'), later(timeout), timeout)).toBeUndefined();
  });

  it.each(['SUCCEEDED', 'FAILED'] as const)('never reaps a %s execution', (phase) => {
    expect(reapIfLost(status(phase), later(timeout * 10), timeout)).toBeUndefined();
  });
});

describe('expiry rule', () => {
  const retention = 60_000;

  it('expires a completed status once completion and last update are both past the retention', () => {
    const done = status('SUCCEEDED', { completionTime: T0.toISOString(), lastUpdated: later(30_000).toISOString() });
    expect(isExpired(done, later(retention + 1), retention)).toBe(false); // last update too recent
    expect(isExpired(done, later(30_000 + retention + 1), retention)).toBe(true);
  });

  it('never expires an active status', () => {
    expect(isExpired(status('RUNNING'), later(retention * 100), retention)).toBe(false);
  });
});

describe('activeWrite (the single-update form of a progress write)', () => {
  const ctx = { executionId: 'e-1', nodeId: 'node-2', now: new Date('2026-11-23T12:00:00.000Z') };

  it('describes a RUNNING write as allowed from QUEUED or RUNNING, setting only what the write carries', () => {
    expect(activeWrite({ phase: 'RUNNING', progress: 40, task: 'buffering' }, ctx)).toEqual({
      from: ['RUNNING', 'QUEUED'],
      startTime: '2026-11-23T12:00:00.000Z',
      set: { phase: 'RUNNING', nodeId: 'node-2', lastUpdated: '2026-11-23T12:00:00.000Z', progress: 40, task: 'buffering' },
    });
  });

  it('carries the immutable fields as conditions, not as values to set', () => {
    const write = activeWrite({ phase: 'QUEUED', processName: 'gs:Buffer', userName: 'alice', nextPoll: '2026-11-23T12:00:05.000Z' }, ctx);
    expect(write).toEqual({
      from: ['QUEUED'],
      processName: 'gs:Buffer',
      userName: 'alice',
      set: { phase: 'QUEUED', nodeId: 'node-2', lastUpdated: '2026-11-23T12:00:00.000Z', nextPoll: '2026-11-23T12:00:05.000Z' },
    });
  });

  it.each(['SUCCEEDED', 'FAILED', 'DISMISSING'] as const)('leaves a %s write to the read-first path', (phase) => {
    expect(activeWrite({ phase }, ctx)).toBeUndefined();
  });
});
