/**
 * Retry with backoff, written once for the loops the SDK's own retry strategy cannot run: the
 * SDK retries a request that failed in transit or was throttled, but not an answer that asks the
 * caller to decide again, such as a lost compare-and-swap (re-read, then write), a cancelled
 * transaction, a batch's unprocessed keys, or a GeoServer that refused a change. Those loops
 * call `retry` with their own limit and backoff.
 *
 * Backoff is exponential with full jitter (a random wait up to the ceiling): writers that lost
 * one round would otherwise come back in lock step and collide again.
 */

/** Returned by an attempt that did not succeed but may be tried again (e.g. a lost compare-and-swap). */
export const AGAIN: unique symbol = Symbol('retry again');

/** An attempt's "try again", with a backoff for this retry only (e.g. a cheaper wait for a cheaper conflict). */
export interface Again {
  readonly [AGAIN]: Backoff;
}

export function again(backoff: Backoff): Again {
  return { [AGAIN]: backoff };
}

/** Wait before retry n (1 for the first retry): a random time up to min(capMs, baseMs * 2^(n-1)). */
export interface Backoff {
  readonly baseMs: number;
  readonly capMs: number;
}

/**
 * Between reads or writes of a DynamoDB batch's unprocessed keys: they come back when a partition
 * is throttled, and an immediate resend would be throttled again (AWS asks for exponential backoff).
 */
export const UNPROCESSED_ITEMS_BACKOFF: Backoff = { baseMs: 20, capMs: 1000 };

export function backoffCeilingMs(backoff: Backoff, retry: number): number {
  return Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(Math.max(retry - 1, 0), 30));
}

export interface RetryOptions {
  /** Attempts in all, the first included. @default unbounded (then give a `deadlineMs`, or rely on the caller's own end) */
  readonly maxAttempts?: number;
  /** No attempt starts later than this many ms after the first one. */
  readonly deadlineMs?: number;
  readonly backoff: Backoff;
  /** Which thrown errors are worth another attempt; others propagate at once. @default none */
  readonly retryable?: (error: unknown) => boolean;
  /**
   * The error thrown when the attempts or the time run out: by default the last attempt's error,
   * or a RetriesExhaustedError when the last attempt returned AGAIN.
   */
  readonly exhausted?: (attempts: number, lastError: unknown) => Error;
  /** For tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** The attempts ran out while each one asked to be tried again. */
export class RetriesExhaustedError extends Error {
  constructor(readonly attempts: number) {
    super(`Gave up after ${attempts} attempts`);
    this.name = 'RetriesExhaustedError';
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt(n)` (n = 0, 1, ...) until it returns a value other than AGAIN (or `again(...)`),
 * waiting a backoff between attempts; a thrown error is retried only if `retryable` says so.
 */
export async function retry<T>(attempt: (n: number) => Promise<T | typeof AGAIN | Again>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const deadline = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : now() + options.deadlineMs;
  for (let n = 0; ; n += 1) {
    let lastError: unknown;
    let backoff = options.backoff;
    try {
      const outcome = await attempt(n);
      if (outcome === AGAIN) lastError = undefined;
      else if (isAgain(outcome)) backoff = outcome[AGAIN];
      else return outcome as T;
    } catch (error) {
      if (!(options.retryable?.(error) ?? false)) throw error;
      lastError = error;
    }
    const attempts = n + 1;
    const waitMs = random() * backoffCeilingMs(backoff, attempts);
    if (attempts >= maxAttempts || now() + waitMs > deadline) {
      throw options.exhausted?.(attempts, lastError) ?? lastError ?? new RetriesExhaustedError(attempts);
    }
    await sleep(waitMs);
  }
}

function isAgain(value: unknown): value is Again {
  return typeof value === 'object' && value !== null && AGAIN in value;
}
