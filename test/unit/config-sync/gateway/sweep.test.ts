/**
 * The gateway sweep's run (gateway/sweep.ts) against the in-memory lease, with the DynamoDB
 * adapter's rules: what it counts as stale (StaleGatewayIntents, which alarms) and what it does
 * while a job of the master's holds the lease, or a resync holds the master.
 */
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { STALE_INTENT_MS } from '../../../../lambdas/config-sync/gateway/limits';
import type { Recovered } from '../../../../lambdas/config-sync/gateway/recovery';
import { sweepGatewayIntents, type SweepDeps } from '../../../../lambdas/config-sync/gateway/sweep';
import { NodePausedError } from '../../../../lambdas/config-sync/pause';
import type { WriteIntent } from '../../../../lambdas/config-sync/gateway/write-lease';

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
    pending: async () => ({ ...(lease.holder ? { heldUntil: lease.holder.until } : {}), intents: [...lease.intents.values()] }),
    lease,
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

  it("counts nothing as stale while a capture holds the lease (one difference after another): it tried nothing, and nothing failed", async () => {
    const { lease, deps, tried } = setUp([stale, young]);
    // A capture's difference holds the lease as the run reads the item.
    lease.holder = { owner: 'capture-entry-41', until: T0 + 20_000 };
    const outcome = await sweepGatewayIntents(deps);
    expect(outcome.result).toEqual({ pending: 2, recovered: 0, sequences: [], skipped: 'held' });
    expect(outcome.stale).toBeUndefined();
    expect(tried).toEqual([]);
    expect([...lease.intents.keys()]).toEqual([stale.owner, young.owner]);
  });

  it('counts nothing either when the lease is taken between its read and the run\'s wait for it (the capture\'s next difference)', async () => {
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
    expect(outcome.stale).toBeUndefined();
    expect(tried).toEqual([]);
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
