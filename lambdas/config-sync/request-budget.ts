/**
 * How long a node route's request may work before it must answer (a redrive, a dead-letter
 * listing or discard): the function's remaining time less what answering takes, at least a second,
 * at most `capMs`; `fallbackMs` when no Lambda context is given.
 */
import type { Context } from 'aws-lambda';

/** Time kept back from the function's timeout to answer. */
export const ANSWER_RESERVE_MS = 5_000;

export function requestBudgetMs(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, fallbackMs: number, capMs = Number.POSITIVE_INFINITY): number {
  const remaining = context ? context.getRemainingTimeInMillis() - ANSWER_RESERVE_MS : fallbackMs;
  return Math.max(1_000, Math.min(capMs, remaining));
}
