import { ANSWER_RESERVE_MS, requestBudgetMs } from '../../../lambdas/config-sync/request-budget';

const remaining = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe("a node route's time to work before it answers", () => {
  it("is the function's remaining time less the answer's reserve, within the cap", () => {
    expect(requestBudgetMs(remaining(30_000), 20_000)).toBe(30_000 - ANSWER_RESERVE_MS);
    expect(requestBudgetMs(remaining(30_000), 8_000, 8_000)).toBe(8_000);
  });
  it('is at least a second, however little time is left', () => {
    expect(requestBudgetMs(remaining(2_000), 20_000)).toBe(1_000);
  });
  it('is the fallback without a Lambda context', () => {
    expect(requestBudgetMs(undefined, 20_000)).toBe(20_000);
  });
});
