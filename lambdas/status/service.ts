/**
 * Use cases of the status service: the domain rules of execution.ts run against a StatusStore
 * with compare-and-swap, so concurrent writers on different nodes never lose an update or
 * produce an invalid phase sequence.
 */
import { ConflictError, NotFoundError, PreconditionFailedError } from '../shared/errors';
import { AGAIN, retry, type RetryOptions } from '../shared/retry';
import {
  activeWrite,
  applyWrite,
  dismiss,
  isExpired,
  reapIfLost,
  type ExecutionStatus,
  type StatusWrite,
  type WriteContext,
  type WriteOutcome,
} from './execution';
import type { StatusStore } from './ports';

/**
 * Enough for every realistic burst of writers on one execution; each retry re-reads. Every round
 * of contenders lets at least one through, and the jittered backoff below spreads the rest out, so
 * a burst of N writers needs far fewer than N rounds (20 parallel writers are an integration test).
 */
const MAX_CAS_ATTEMPTS = 25;

/** A write that kept losing the compare-and-swap race: a clear 409 the node may retry, not a 500. */
export class WriteContentionError extends ConflictError {
  constructor(executionId: string) {
    super(
      'WRITE_CONTENTION',
      `Execution ${executionId} kept changing under ${MAX_CAS_ATTEMPTS} concurrent attempts: retry the write`,
    );
  }
}

/**
 * Full-jitter backoff between compare-and-swap rounds, its bound doubling per lost race from
 * 2 ms to 100 ms: without it the losers of one round re-read and collide again in lock step, and
 * a writer can lose every round of a 10+ writer burst.
 */
function casRetries(executionId: string): RetryOptions {
  return { maxAttempts: MAX_CAS_ATTEMPTS, backoff: { baseMs: 2, capMs: 100 }, exhausted: () => new WriteContentionError(executionId) };
}

/**
 * A write's precondition, as a test of the stored status (`undefined` when none is stored): why
 * it does not hold (completing "Execution <id> ..."), or `undefined` when it does.
 */
export type WriteCondition = (current: ExecutionStatus | undefined) => string | undefined;

/**
 * Applies a node's write. Without a `condition`, a lost race is retried against the fresh state:
 * safe, because the transition rules are checked again against what is now stored. With one
 * (If-Match, If-None-Match: status-http.ts), the caller asked for strict compare-and-swap: a
 * stored status it does not hold for is a 412, and a lost race too if the retry finds it fails.
 *
 * The time is read from `clock` inside every attempt, after the read it is applied to: a time
 * taken once before the retries lags behind whatever the winners of earlier rounds stored. The
 * domain rule then keeps it at or after the stored `lastUpdated` (execution.ts `notBefore`).
 */
export async function writeStatus(
  store: StatusStore,
  write: StatusWrite,
  ctx: Omit<WriteContext, 'now'> & { now?: Date },
  condition?: WriteCondition,
  clock: () => Date = () => ctx.now ?? new Date(),
): Promise<WriteOutcome & { created: boolean }> {
  // A progress report on a live execution: one conditional update, no read. Anything else (a
  // creation, a refused or completing write, a dismissed execution) takes the read-and-CAS path.
  // The update is conditioned on the stored lastUpdated not being later than its own.
  const active = condition === undefined ? activeWrite(write, { ...ctx, now: clock() }) : undefined;
  if (active !== undefined) {
    const status = await store.applyActiveWrite(ctx.executionId, active);
    if (status !== undefined) return { status, dismissed: false, created: false };
  }
  return retry(async () => {
    const current = await store.get(ctx.executionId);
    const failed = condition?.(current);
    if (failed !== undefined) throw new PreconditionFailedError(`Execution ${ctx.executionId} ${failed}`, { currentVersion: current?.version ?? 0 });
    const outcome = applyWrite(current, write, { ...ctx, now: clock() });
    if (await store.put(outcome.status, current?.version ?? 0)) {
      return { ...outcome, created: current === undefined };
    }
    return AGAIN;
  }, casRetries(ctx.executionId));
}

export type DismissResult = { action: 'dismissing' | 'removed'; status: ExecutionStatus };

export async function dismissExecution(store: StatusStore, executionId: string): Promise<DismissResult> {
  return retry(async (): Promise<DismissResult | typeof AGAIN> => {
    const current = await store.get(executionId);
    const outcome = dismiss(current, executionId);
    const expected = current?.version ?? 0;
    if (outcome.action === 'remove') {
      if (await store.remove(executionId, expected)) return { action: 'removed', status: outcome.status };
    } else if (await store.put(outcome.status, expected)) {
      return { action: 'dismissing', status: outcome.status };
    }
    return AGAIN;
  }, casRetries(executionId));
}

export async function getStatus(store: StatusStore, executionId: string): Promise<ExecutionStatus> {
  const status = await store.get(executionId);
  if (!status) throw new NotFoundError('Execution', executionId);
  return status;
}

const SWEEP_PAGE_SIZE = 100;

/** Removes completed statuses past the retention. Returns how many were removed. */
export async function cleanupExpired(
  store: StatusStore,
  now: Date,
  retentionMs: number,
  maxItems = 10_000,
): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionMs).toISOString();
  let removed = 0;
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await store.completedBefore(cutoff, SWEEP_PAGE_SIZE, cursor);
    const expired = page.items.filter((status) => isExpired(status, now, retentionMs));
    // A status rewritten meanwhile fails the version check and stays: it is no longer expired.
    const results = await Promise.all(expired.map((status) => store.remove(status.executionId, status.version)));
    removed += results.filter(Boolean).length;
    seen += page.items.length;
    cursor = page.cursor;
  } while (cursor && seen < maxItems);
  return removed;
}

/** Fails active statuses whose node stopped sending heartbeats. Returns how many were failed. */
export async function reapLostExecutions(
  store: StatusStore,
  now: Date,
  heartbeatTimeoutMs: number,
  maxItems = 10_000,
): Promise<number> {
  const cutoff = new Date(now.getTime() - heartbeatTimeoutMs).toISOString();
  let reaped = 0;
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await store.silentSince(cutoff, SWEEP_PAGE_SIZE, cursor);
    const results = await Promise.all(
      page.items.map(async (status) => {
        const failed = reapIfLost(status, now, heartbeatTimeoutMs);
        // A heartbeat that lands meanwhile bumps the version: the node is alive, leave it be.
        return failed ? store.put(failed, status.version) : false;
      }),
    );
    reaped += results.filter(Boolean).length;
    seen += page.items.length;
    cursor = page.cursor;
  } while (cursor && seen < maxItems);
  return reaped;
}
