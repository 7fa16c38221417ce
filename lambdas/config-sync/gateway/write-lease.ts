/**
 * Writes through the gateway are serialized per cluster: a write holds the cluster's write lease
 * from the moment it reads the object before the write, through forwarding it to the master and
 * reading it back, until its changes are in the event log. Gateway functions run as many
 * concurrent Lambda instances, so the lease lives in the event log table (a conditional put,
 * adapters/dynamo-gateway-lease.ts): the order of the log is then the order in which the master
 * applied the writes, whoever sent them.
 *
 * A lease names its owner (a random token per write) and an expiry, so a holder that died
 * (Lambda stopped it, its instance vanished) blocks other writes only until the expiry: the next
 * writer takes it over. The expiry is longer than a gateway function may run (./limits.ts), so
 * a holder that is still running never loses it. Waiters retry with jittered, capped backoff
 * and give up after a bounded wait with a 503 and `Retry-After`.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../shared/errors';

export type LeaseAttempt = { readonly acquired: true } | { readonly acquired: false; readonly heldUntil: number };

/** The cluster's write lease (one per cluster). */
export interface LeaseStore {
  /** Takes the lease for `owner` until `until` (epoch ms) unless another owner holds an unexpired one at `now`. */
  tryAcquire(owner: string, now: number, until: number): Promise<LeaseAttempt>;
  /** Gives the lease back if `owner` still holds it; a no-op otherwise. */
  release(owner: string): Promise<void>;
}

/** Runs a write with the cluster's writes serialized around it. */
export interface WriteSerializer {
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** 503: another write held the lease for the whole wait. */
export class GatewayBusyError extends AppError {
  constructor(
    readonly waitedMs: number,
    readonly retryAfterSeconds: number,
    heldUntil: number,
  ) {
    super(
      503,
      'GATEWAY_BUSY',
      `Another write through the gateway held the cluster's write lease for the ${waitedMs} ms this write waited ` +
        `(writes are applied one at a time, in order); retry after ${retryAfterSeconds} s. The lease ends at ${new Date(heldUntil).toISOString()} at the latest.`,
      undefined,
      { retryAfterSeconds },
    );
  }
}

export interface LeaseOptions {
  readonly waitMs: number;
  readonly ttlMs: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly newOwner?: () => string;
  /** Told when a release failed (the lease then ends at its expiry). */
  readonly onReleaseFailure?: (error: unknown) => void;
  /** Backoff between attempts: the first ceiling and the cap, in ms. */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
}

/** A serializer over the cluster's lease. */
export function leaseSerializer(store: LeaseStore, options: LeaseOptions): WriteSerializer {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const newOwner = options.newOwner ?? randomUUID;
  const { baseMs, capMs } = options.backoff ?? { baseMs: 20, capMs: 250 };

  async function acquire(): Promise<string> {
    const owner = newOwner();
    const started = now();
    const giveUpAt = started + options.waitMs;
    for (let attempt = 0; ; attempt += 1) {
      const at = now();
      const result = await store.tryAcquire(owner, at, at + options.ttlMs);
      if (result.acquired) return owner;
      const after = now();
      const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
      // Never sleep past the holder's expiry by much: a dead holder's lease is taken over then.
      const untilExpiry = Math.max(1, result.heldUntil - after + 1);
      const delay = Math.min(Math.ceil(Math.random() * ceiling) + 1, untilExpiry);
      if (after + delay > giveUpAt) {
        const remainingSeconds = Math.ceil((result.heldUntil - after) / 1000);
        // A live holder usually finishes in well under a second; a dead one's lease ends at heldUntil.
        throw new GatewayBusyError(after - started, Math.min(5, Math.max(1, remainingSeconds)), result.heldUntil);
      }
      await sleep(delay);
    }
  }

  return {
    async run(work) {
      const owner = await acquire();
      try {
        return await work();
      } finally {
        try {
          await store.release(owner);
        } catch (error) {
          options.onReleaseFailure?.(error);
        }
      }
    },
  };
}

/** No serialization: each write runs at once (a single-writer setting, and unit tests). */
export const UNSERIALIZED: WriteSerializer = { run: (work) => work() };
