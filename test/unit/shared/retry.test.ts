import { AGAIN, again, backoffCeilingMs, retry, RetriesExhaustedError, type RetryOptions } from '../../../lambdas/shared/retry';

/** Records the waits instead of waiting; the random source is fixed so waits are exact. */
function harness(options: Partial<RetryOptions> = {}) {
  const waits: number[] = [];
  const opts: RetryOptions = {
    backoff: { baseMs: 10, capMs: 50 },
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 1,
    ...options,
  };
  return { waits, opts };
}

describe('retry', () => {
  it('returns the first value that is not AGAIN, waiting a doubling, capped backoff between attempts', async () => {
    const { waits, opts } = harness();
    const seen: number[] = [];
    const value = await retry(async (n) => {
      seen.push(n);
      return n < 5 ? AGAIN : 'done';
    }, opts);
    expect(value).toBe('done');
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(waits).toEqual([10, 20, 40, 50, 50]);
  });

  it('waits a random part of the ceiling (full jitter)', async () => {
    const { waits, opts } = harness({ random: () => 0.25 });
    await retry(async (n) => (n < 2 ? AGAIN : 1), opts);
    expect(waits).toEqual([2.5, 5]);
  });

  it('gives up after maxAttempts with the error `exhausted` builds, or RetriesExhaustedError', async () => {
    const { opts } = harness({ maxAttempts: 3 });
    let calls = 0;
    await expect(
      retry(async () => {
        calls += 1;
        return AGAIN;
      }, opts),
    ).rejects.toEqual(new RetriesExhaustedError(3));
    expect(calls).toBe(3);
    await expect(retry(async () => AGAIN, { ...opts, exhausted: (attempts) => new Error(`lost ${attempts} times`) })).rejects.toThrow('lost 3 times');
  });

  it('retries only the errors `retryable` accepts, and rethrows the last one when attempts run out', async () => {
    const { opts } = harness({ maxAttempts: 4, retryable: (error) => error instanceof RangeError });
    let calls = 0;
    await expect(
      retry(async () => {
        calls += 1;
        throw new RangeError(`conflict ${calls}`);
      }, opts),
    ).rejects.toThrow('conflict 4');
    calls = 0;
    await expect(
      retry(async () => {
        calls += 1;
        throw new TypeError('bad request');
      }, opts),
    ).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });

  it('rethrows every error at once when no `retryable` is given', async () => {
    const { waits, opts } = harness();
    await expect(retry(async () => Promise.reject(new Error('no')), opts)).rejects.toThrow('no');
    expect(waits).toEqual([]);
  });

  it('lets one attempt ask for its own backoff for the next wait', async () => {
    const { waits, opts } = harness();
    await retry(async (n) => (n === 0 ? again({ baseMs: 1, capMs: 1 }) : n === 1 ? AGAIN : 'ok'), opts);
    expect(waits).toEqual([1, 20]);
  });

  it('starts no attempt after the deadline', async () => {
    let clock = 0;
    const { opts } = harness({
      deadlineMs: 100,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
      backoff: { baseMs: 30, capMs: 30 },
    });
    let calls = 0;
    await expect(
      retry(async () => {
        calls += 1;
        return AGAIN;
      }, opts),
    ).rejects.toBeInstanceOf(RetriesExhaustedError);
    // Attempts at 0, 30, 60 and 90 ms; the next would start at 120, past the deadline.
    expect(calls).toBe(4);
  });

  it('computes the ceiling from the retry number, never beyond the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffCeilingMs({ baseMs: 20, capMs: 1000 }, n))).toEqual([20, 40, 80, 160]);
    expect(backoffCeilingMs({ baseMs: 20, capMs: 1000 }, 1_000)).toBe(1000);
  });
});
