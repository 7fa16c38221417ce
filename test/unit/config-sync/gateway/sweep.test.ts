/**
 * The gateway sweep's run (gateway/sweep.ts) against the in-memory lease, with the DynamoDB
 * adapter's rules: what it counts as stale (StaleGatewayIntents, which alarms) and what it does
 * while a job of the master's holds the lease (the mark it leaves, which the job's next take
 * honours), or a resync holds the master, or the master is paused.
 */
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { LEASE_TTL_MS, LEASE_WAIT_MS, RECOVERY_WANTED_MS, STALE_INTENT_MS, SWEEP_LEASE_WAIT_MS } from '../../../../lambdas/config-sync/gateway/limits';
import type { Recovered } from '../../../../lambdas/config-sync/gateway/recovery';
import { sweepGatewayIntents, type SweepDeps } from '../../../../lambdas/config-sync/gateway/sweep';
import { NodePausedError } from '../../../../lambdas/config-sync/pause';
import { GatewayBusyError, leaseSerializer, type WriteIntent } from '../../../../lambdas/config-sync/gateway/write-lease';

const T0 = Date.parse('2026-12-06T12:00:00Z');

function intent(owner: string, ageMs: number): WriteIntent {
  return {
    owner,
    at: new Date(T0 - ageMs).toISOString(),
    method: 'DELETE',
    path: `/workspaces/topp/datastores/${owner}`,
    objects: [{ type: 'dataStore', id: `topp:${owner}`, path: `/workspaces/topp/datastores/${owner}` }],
  };
}

function setUp(intents: WriteIntent[]) {
  const lease = new MemoryWriteLease();
  for (const left of intents) lease.intents.set(left.owner, left);
  let clock = T0;
  const tried: WriteIntent[][] = [];
  let recovery: (pending: readonly WriteIntent[]) => Promise<Recovered> = async (pending) => ({
    owners: pending.map((one) => one.owner),
    sequences: pending.map((_, index) => 100 + index),
    refused: [],
    captures: [],
  });
  let hold: Error | undefined;
  const deps: SweepDeps = {
    pending: () => lease.pending(),
    lease,
    wantRecovery: (until) => lease.wantRecovery(until),
    wantedMs: RECOVERY_WANTED_MS,
    recover: (pending) => {
      tried.push([...pending]);
      return recovery(pending);
    },
    refusal: async () => hold,
    waitMs: 2_000,
    ttlMs: 35_000,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };
  return {
    lease,
    deps,
    tried,
    failWith: (error: Error) => (recovery = async () => Promise.reject(error)),
    holdByResync: (error: Error | undefined) => (hold = error),
  };
}

describe("the gateway sweep's run", () => {
  const stale = intent('died-20-min-ago', STALE_INTENT_MS + 5 * 60_000);
  const young = intent('died-1-min-ago', 60_000);

  it("asks for the lease when a holder keeps it through the run's wait, and counts the old intents left: the mark bounds that wait, so they are no longer waiting on a job", async () => {
    const { lease, deps, tried } = setUp([stale, young]);
    // A difference that holds the lease past the run's wait (a regroup on a slow GeoServer).
    lease.holder = { owner: 'capture-entry-41', until: T0 + 20_000 };
    const outcome = await sweepGatewayIntents(deps);
    expect(outcome.result).toEqual({ pending: 2, recovered: 0, sequences: [], skipped: 'held' });
    expect(outcome.stale).toEqual([stale]);
    expect(tried).toEqual([]);
    expect([...lease.intents.keys()]).toEqual([stale.owner, young.owner]);
    // The mark stands past the next run's start, a minute on, for it to find the lease free.
    expect(outcome.wantedUntil).toBe(T0 + RECOVERY_WANTED_MS);
    expect(lease.recoveryWantedUntil).toBe(T0 + RECOVERY_WANTED_MS);
  });

  it("asks for it too when the lease is taken between its read and the run's first take (the capture's next difference)", async () => {
    const { lease, deps, tried } = setUp([stale]);
    const read = deps.pending;
    const outcome = await sweepGatewayIntents({
      ...deps,
      pending: async () => {
        const item = await read();
        lease.holder = { owner: 'capture-entry-42', until: T0 + 30_000 };
        return item;
      },
    });
    expect(outcome.result).toMatchObject({ pending: 1, recovered: 0, skipped: 'held' });
    expect(outcome.stale).toEqual([stale]);
    expect(tried).toEqual([]);
    expect(lease.recoveryWantedUntil).toBe(T0 + RECOVERY_WANTED_MS);
  });

  it('counts the old intents a recovery it tried left (the master failing): those are what the alarm is for', async () => {
    const { lease, deps, tried, failWith } = setUp([stale, young]);
    failWith(new Error('the master answered 500'));
    const outcome = await sweepGatewayIntents(deps);
    expect(tried).toEqual([[stale, young]]);
    expect(outcome.result).toMatchObject({ pending: 2, recovered: 0, skipped: 'failed' });
    expect(outcome.failure).toMatchObject({ message: 'the master answered 500' });
    expect(outcome.stale).toEqual([stale]);
    expect(lease.holder).toBeUndefined();
    expect([...lease.intents.keys()]).toEqual([stale.owner, young.owner]);
  });

  it('recovers and clears them once the lease is free, counting none left (0, so the alarm clears)', async () => {
    const { lease, deps } = setUp([stale, young]);
    const outcome = await sweepGatewayIntents(deps);
    expect(outcome.result).toEqual({ pending: 2, recovered: 2, sequences: [100, 101] });
    expect(outcome.stale).toEqual([]);
    expect(lease.intents.size).toBe(0);
    expect(lease.holder).toBeUndefined();
  });

  it("recovers nothing while a resync holds the master (its store, which recovery compares with, is half-copied), and counts nothing; after the hold, it recovers", async () => {
    const { lease, deps, tried, holdByResync } = setUp([stale, young]);
    const held = new Error('NODE_HELD_BY_RESYNC: node gs-main is held by resync job r-1');
    holdByResync(held);
    const outcome = await sweepGatewayIntents(deps);
    expect(tried).toEqual([]);
    expect(outcome.result).toEqual({ pending: 2, recovered: 0, sequences: [], skipped: 'resync' });
    expect(outcome.heldBy).toBe(held);
    expect(outcome.stale).toBeUndefined();
    // The lease is given back and the intents stay, for a run after the hold.
    expect(lease.holder).toBeUndefined();
    expect([...lease.intents.keys()]).toEqual([stale.owner, young.owner]);

    holdByResync(undefined);
    const after = await sweepGatewayIntents(deps);
    expect(tried).toEqual([[stale, young]]);
    expect(after.result).toMatchObject({ recovered: 2 });
    expect(lease.intents.size).toBe(0);
  });

  it('recovers nothing while the master is paused (a paused master publishes nothing), and counts nothing; resumed, it recovers', async () => {
    const { lease, deps, tried, holdByResync } = setUp([stale]);
    const paused = new NodePausedError('gs-main', { since: '2026-12-06T11:00:00Z', by: 'gs-main' });
    holdByResync(paused);
    const outcome = await sweepGatewayIntents(deps);
    expect(tried).toEqual([]);
    expect(outcome.result).toEqual({ pending: 1, recovered: 0, sequences: [], skipped: 'paused' });
    expect(outcome.heldBy).toBe(paused);
    expect(outcome.stale).toBeUndefined();
    expect(lease.holder).toBeUndefined();
    expect([...lease.intents.keys()]).toEqual([stale.owner]);

    holdByResync(undefined);
    expect((await sweepGatewayIntents(deps)).result).toMatchObject({ recovered: 1 });
    expect(tried).toEqual([[stale]]);
  });

  it('costs one read when nothing is left', async () => {
    const { deps, tried } = setUp([]);
    const outcome = await sweepGatewayIntents(deps);
    expect(outcome.result).toEqual({ pending: 0, recovered: 0, sequences: [] });
    expect(tried).toEqual([]);
  });
});

/**
 * A capture or reconcile of the master takes the write lease for one difference (or batch) at a
 * time, the next as soon as the last is given back, and recovers no intent itself. The sweep run
 * that finds the lease held leaves a mark; the job's next take leaves the lease to it, so the
 * intents are recovered while the job runs, and the job goes on once they are.
 */
describe('the sweep while a job of the master takes the lease difference after difference', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A waiter's retry comes at most 251 ms after the lease is free (write-lease.ts, the capped backoff): two, the job's and the run's, at most. */
  const BACKOFFS_MS = 2 * 251;

  /**
   * A job that runs `count` differences under the lease, each holding it `holdMs`, taking the next
   * as soon as the last is given back; a difference whose take waited out the lease (a step that
   * found it held) is tried again, as the job's next step does.
   */
  function job(lease: MemoryWriteLease, count: number, holdMs: number) {
    const writes = leaseSerializer(lease, { waitMs: LEASE_WAIT_MS, ttlMs: LEASE_TTL_MS, yieldsToRecovery: true });
    const spans: { readonly from: number; readonly to: number }[] = [];
    const done = (async () => {
      while (spans.length < count) {
        try {
          await writes.run(async () => {
            const from = Date.now();
            await new Promise((resolve) => setTimeout(resolve, holdMs));
            spans.push({ from, to: Date.now() });
          });
        } catch (error) {
          if (!(error instanceof GatewayBusyError)) throw error;
        }
      }
    })();
    return { spans, done };
  }

  function sweep(lease: MemoryWriteLease, recoveredAt: number[], refusal: () => Promise<Error | undefined> = async () => undefined): Promise<ReturnType<typeof sweepGatewayIntents> extends Promise<infer T> ? T : never> {
    return sweepGatewayIntents({
      pending: () => lease.pending(),
      lease,
      wantRecovery: (until) => lease.wantRecovery(until),
      wantedMs: RECOVERY_WANTED_MS,
      recover: async (pending) => {
        recoveredAt.push(Date.now());
        return { owners: pending.map((one) => one.owner), sequences: pending.map((_, index) => 200 + index), refused: [], captures: [] };
      },
      refusal,
      waitMs: SWEEP_LEASE_WAIT_MS,
      ttlMs: LEASE_TTL_MS,
    });
  }

  const left = intent('died-2-min-ago', 2 * 60_000);

  it('recovers in the run that found the lease held, between two differences, and the job goes on after it', async () => {
    jest.useFakeTimers({ now: T0 });
    const lease = new MemoryWriteLease();
    lease.intents.set(left.owner, left);
    // Differences of 1.5 s each (a few reads of the master's GeoServer and a publish): 60 of them, 90 s.
    const capture = job(lease, 60, 1_500);
    await jest.advanceTimersByTimeAsync(5_200);
    expect(lease.holder).toBeDefined();
    const recoveredAt: number[] = [];
    const run = sweep(lease, recoveredAt);
    await jest.advanceTimersByTimeAsync(SWEEP_LEASE_WAIT_MS);
    const outcome = await run;
    expect(outcome.result).toEqual({ pending: 1, recovered: 1, sequences: [200] });
    expect(outcome.stale).toEqual([]);
    expect(lease.intents.size).toBe(0);
    // Once the difference in hand was done, not later, and outside every difference.
    expect(recoveredAt).toHaveLength(1);
    expect(recoveredAt[0]! - (T0 + 5_200)).toBeLessThanOrEqual(1_500 + BACKOFFS_MS);
    expect(capture.spans.filter(({ from, to }) => from < recoveredAt[0]! && recoveredAt[0]! < to)).toEqual([]);
    // The mark is gone with the take: the job takes the lease again at once, difference after difference.
    await jest.advanceTimersByTimeAsync(120_000);
    await capture.done;
    expect(capture.spans).toHaveLength(60);
    const gaps = capture.spans.slice(1).map(({ from }, index) => from - capture.spans[index]!.to);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(BACKOFFS_MS);
    expect(lease.recoveryWantedUntil).toBeUndefined();
  });

  it("recovers in the next run when the difference in hand outlasts the run's wait; the job waits for that run, no longer", async () => {
    jest.useFakeTimers({ now: T0 });
    const lease = new MemoryWriteLease();
    lease.intents.set(left.owner, left);
    // Differences of 25 s each (a regroup reading many groups from a slow GeoServer).
    const capture = job(lease, 6, 25_000);
    await jest.advanceTimersByTimeAsync(1_000);
    const recoveredAt: number[] = [];
    const first = sweep(lease, recoveredAt);
    await jest.advanceTimersByTimeAsync(SWEEP_LEASE_WAIT_MS);
    const outcome = await first;
    // Held through the wait: nothing tried, the mark left for the next run.
    expect(outcome.result).toEqual({ pending: 1, recovered: 0, sequences: [], skipped: 'held' });
    expect(outcome.stale).toEqual([]);
    expect(recoveredAt).toEqual([]);
    expect(lease.recoveryWantedUntil).toBeGreaterThan(T0 + 60_000 + SWEEP_LEASE_WAIT_MS);
    // The difference in hand ends at T0 + 25 s; the job takes no other while the mark stands.
    await jest.advanceTimersByTimeAsync(T0 + 60_000 - Date.now());
    expect(capture.spans).toHaveLength(1);
    expect(lease.holder).toBeUndefined();
    // The next run, a minute after the first, finds the lease free.
    const second = sweep(lease, recoveredAt);
    await jest.advanceTimersByTimeAsync(1_000);
    expect((await second).result).toEqual({ pending: 1, recovered: 1, sequences: [200] });
    expect(recoveredAt).toEqual([T0 + 60_000]);
    expect(lease.intents.size).toBe(0);
    // And the job goes on at once.
    await jest.advanceTimersByTimeAsync(200_000);
    await capture.done;
    expect(capture.spans).toHaveLength(6);
    expect(capture.spans[1]!.from - (T0 + 60_000)).toBeLessThanOrEqual(BACKOFFS_MS);
  });

  it('holds the job back no longer than the mark stands when no run comes to take the lease', async () => {
    jest.useFakeTimers({ now: T0 });
    const lease = new MemoryWriteLease();
    lease.intents.set(left.owner, left);
    const capture = job(lease, 4, 25_000);
    await jest.advanceTimersByTimeAsync(1_000);
    const run = sweep(lease, []);
    await jest.advanceTimersByTimeAsync(SWEEP_LEASE_WAIT_MS);
    expect((await run).result).toMatchObject({ recovered: 0, skipped: 'held' });
    // No other run (the sweep's function failing, say): the job takes the lease again once the mark lapses.
    await jest.advanceTimersByTimeAsync(200_000);
    await capture.done;
    expect(capture.spans).toHaveLength(4);
    expect(capture.spans[1]!.from).toBeLessThanOrEqual(T0 + 1_000 + RECOVERY_WANTED_MS + BACKOFFS_MS);
    expect([...lease.intents.keys()]).toEqual([left.owner]);
  });

  it('recovers nothing while the master is paused or a resync holds it, even once the job left it the lease, and the job goes on at once', async () => {
    for (const held of [new NodePausedError('gs-main', { since: '2026-12-06T11:00:00Z', by: 'gs-main' }), new Error('NODE_HELD_BY_RESYNC: node gs-main is held by resync job r-1')]) {
      jest.useFakeTimers({ now: T0 });
      const lease = new MemoryWriteLease();
      lease.intents.set(left.owner, left);
      const capture = job(lease, 20, 1_500);
      await jest.advanceTimersByTimeAsync(700);
      const recoveredAt: number[] = [];
      const run = sweep(lease, recoveredAt, async () => held);
      await jest.advanceTimersByTimeAsync(SWEEP_LEASE_WAIT_MS);
      const outcome = await run;
      expect(outcome.result).toMatchObject({ recovered: 0, skipped: held instanceof NodePausedError ? 'paused' : 'resync' });
      expect(outcome.stale).toBeUndefined();
      expect(recoveredAt).toEqual([]);
      expect([...lease.intents.keys()]).toEqual([left.owner]);
      // The run's take cleared the mark: the job is not held back for it.
      expect(lease.recoveryWantedUntil).toBeUndefined();
      await jest.advanceTimersByTimeAsync(60_000);
      await capture.done;
      const gaps = capture.spans.slice(1).map(({ from }, index) => from - capture.spans[index]!.to);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(BACKOFFS_MS);
      jest.useRealTimers();
    }
  });

  it("leaves no mark while the lease's holder is the write whose intent is the only one left (it clears it itself)", async () => {
    const lease = new MemoryWriteLease();
    const own = intent('live-gateway-write', 1_000);
    lease.intents.set(own.owner, own);
    lease.holder = { owner: own.owner, until: Date.now() + 30_000 };
    const recoveredAt: number[] = [];
    const outcome = await sweep(lease, recoveredAt);
    expect(outcome.result).toEqual({ pending: 1, recovered: 0, sequences: [], skipped: 'held' });
    expect(recoveredAt).toEqual([]);
    expect(lease.recoveryWantedUntil).toBeUndefined();
  });
});
