import { MemoryEventLog } from '../../../lambdas/config-sync/adapters/memory';
import { lagCounter } from '../../../lambdas/config-sync/lag';
import { CLUSTER } from './fixtures';

const draft = (id: string) => ({
  cluster: CLUSTER,
  origin: 'master-1',
  publishedAt: '2026-01-01T00:00:00.000Z',
  kind: 'add' as const,
  object: { type: 'workspace' as const, id },
  properties: { name: id },
});

describe("a node's lag", () => {
  it("counts to the log's last event: voids and never-written sequences at its end hold nothing to apply", async () => {
    const log = new MemoryEventLog();
    await log.appendAll([draft('a'), draft('b'), draft('c')]);
    log.abandonAllocation(CLUSTER, 2);
    await log.closeHoles(CLUSTER, 1, 5);
    log.abandonAllocation(CLUSTER, 1);
    const head = await log.head(CLUSTER);
    expect(head).toBe(6);
    const lagOf = lagCounter(log, CLUSTER, head);
    expect(await lagOf(3)).toBe(0);
    expect(await lagOf(1)).toBe(2);
    expect(await lagOf(0)).toBe(3);
    expect(await lagOf(5)).toBe(0);
    expect(await lagOf(6)).toBe(0);
  });

  it('counts the voids between the cursor and the last event, which the node has yet to pass', async () => {
    const log = new MemoryEventLog();
    await log.appendAll([draft('a')]);
    log.abandonAllocation(CLUSTER, 2);
    await log.closeHoles(CLUSTER, 1, 3);
    await log.appendAll([draft('b')]);
    expect(await lagCounter(log, CLUSTER, await log.head(CLUSTER))(1)).toBe(3);
  });

  it('reads the last event once, and not at all while every node is at the head', async () => {
    const lastEvent = jest.fn(async () => 4);
    const atHead = lagCounter({ lastEvent }, CLUSTER, 6);
    expect(await Promise.all([atHead(6), atHead(6)])).toEqual([0, 0]);
    expect(lastEvent).not.toHaveBeenCalled();
    expect(await Promise.all([atHead(1), atHead(2), atHead(6)])).toEqual([3, 2, 0]);
    expect(lastEvent).toHaveBeenCalledTimes(1);
    expect(lastEvent).toHaveBeenCalledWith(CLUSTER, 6);
  });
});
