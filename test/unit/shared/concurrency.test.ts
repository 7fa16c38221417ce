import { mapConcurrently } from '../../../lambdas/shared/concurrency';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapConcurrently', () => {
  it('keeps at most `limit` calls in flight and returns results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      for (let i = 0; i < n; i++) await tick();
      inFlight -= 1;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('after a failure starts nothing new and throws only once the calls in flight have settled', async () => {
    const started: number[] = [];
    let settled = 0;
    const call = mapConcurrently([0, 1, 2, 3, 4], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error('first fails');
      for (let i = 0; i < 3; i++) await tick();
      settled += 1;
      return n;
    });
    await expect(call).rejects.toThrow('first fails');
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(1);
  });
});
