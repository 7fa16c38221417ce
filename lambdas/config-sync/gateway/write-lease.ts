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
 * a gateway holder that is still running never loses it; work that may run longer under it (a
 * job slice of the apply function, whose timeout is longer) renews it before each step
 * (`LeaseHold`). Waiters retry with jittered, capped backoff
 * and give up after a bounded wait with a 503 and `Retry-After`.
 *
 * A job slice of the master's takes the lease difference after difference and recovers no intent;
 * the gateway's sweep, finding the lease held while intents are left, marks it as wanted
 * (`AcquireOptions`, gateway/sweep.ts), and the job's takes (`LeaseOptions.yieldsToRecovery`) wait
 * while the mark stands, so the sweep gets the lease between two differences.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../shared/errors';
import type { ObjectType } from '../events';

/**
 * What a write through the gateway is about to change on the master, recorded with the lease
 * before the write is forwarded and cleared once its changes are in the log (recovery.ts). One
 * left behind (its writer died between the master's answer and the log append, or the append
 * failed) is found by whoever takes the lease next, who publishes what the master then holds
 * of those objects before going on.
 */
export interface WriteIntent {
  /** The lease owner (the write's token) that recorded it. */
  readonly owner: string;
  /** When it was recorded (ISO 8601). */
  readonly at: string;
  readonly method: string;
  /** The REST path written, under `<geoserver>/rest`, without its extension. */
  readonly path: string;
  /** A DELETE's `recurse`. */
  readonly recurse?: boolean;
  /** The objects the write may change, known before it was forwarded, with their REST paths on the master. */
  readonly objects: readonly IntentObject[];
  /** Collections in which the write may have created (or renamed to) a member it did not name beforehand. */
  readonly collections?: readonly string[];
}

/** What a log line or an answer says of an intent: the write, and when it was recorded. */
export function describeIntent(intent: WriteIntent): { readonly method: string; readonly path: string; readonly at: string } {
  return { method: intent.method, path: intent.path, at: intent.at };
}

/** An intent given up by its recovery (recovery.ts), with why. */
export interface RefusedIntent {
  readonly intent: WriteIntent;
  readonly reason: string;
}

/** What a log line or an answer says of intents given up: each write, when it was recorded, and why. */
export function describeRefused(refused: readonly RefusedIntent[]): { readonly method: string; readonly path: string; readonly at: string; readonly reason: string }[] {
  return refused.map(({ intent, reason }) => ({ ...describeIntent(intent), reason }));
}

export interface IntentObject {
  readonly type: ObjectType;
  readonly id: string;
  readonly path: string;
  /** A resource the write moves to another store: its path there, read before `path` (resource-store.ts). */
  readonly movedTo?: string;
}

export type LeaseAttempt =
  | { readonly acquired: true; /** Intents that earlier holders left (absent when none). */ readonly pending?: readonly WriteIntent[] }
  | { readonly acquired: false; readonly heldUntil: number };

/**
 * How a take of the lease treats the mark a run of the gateway's sweep leaves on it when it finds
 * the lease held (`recoveryWantedUntil`, gateway/sweep.ts): intents are left, and a holder that
 * recovers none (a job slice of the master's) is asked to leave the lease free between two of its
 * differences for one that does.
 */
export interface AcquireOptions {
  /** The taker recovers the intents it finds (a gateway write, the sweep): it takes the lease whatever the mark, and clears it. */
  readonly recovers?: boolean;
  /**
   * The taker recovers none (a job slice of the master's): refused while a mark stands, as while
   * another owner holds the lease, answering the later of the two ends as `heldUntil`.
   */
  readonly yields?: boolean;
}

/** The cluster's write lease (one per cluster), with the intents of the writes made under it. */
export interface LeaseStore {
  /**
   * Takes the lease for `owner` until `until` (epoch ms) unless another owner holds an unexpired
   * one at `now` (or, for a taker that `yields`, a sweep's mark stands), recording `intent` with
   * it; answers the intents earlier holders left.
   */
  tryAcquire(owner: string, now: number, until: number, intent?: WriteIntent, options?: AcquireOptions): Promise<LeaseAttempt>;
  /**
   * Gives the lease back if `owner` still holds it, clearing the intents of the owners in `clear`;
   * a no-op otherwise (the intents then stay for the next holder).
   */
  release(owner: string, clear?: readonly string[]): Promise<void>;
  /**
   * Moves the expiry of `owner`'s lease to `until` (epoch ms) if `owner` still holds it (nobody
   * took it over since); false when another owner holds it, or nobody does.
   */
  renew(owner: string, until: number): Promise<boolean>;
}

/**
 * The lease as the work run under it sees it (`WriteSerializer.run`). Work longer than one lease
 * (a job slice's steps under it, job-runner.ts) asks for the time its next step may take before
 * each step: the lease is renewed when less than that is left, so it never ends while the holder
 * still works, whatever the function's own timeout.
 */
export interface LeaseHold {
  /**
   * Makes sure the lease lasts `forMs` more (at most the lease's time to live), renewing it when
   * less is left; throws `WriteLeaseLostError` when another writer took it over (the holder
   * outlived it between two steps): nothing more may be done under it.
   */
  keep(forMs: number): Promise<void>;
  /**
   * Intents earlier holders left that this run did not recover (it has no recovery, as a job
   * slice has not, or its recovery failed): writes the master may have applied whose changes are
   * not in the log yet. Work that changes the master under the lease leaves their objects alone
   * until the next gateway write or the sweep (recovery.ts) publishes them.
   */
  readonly unrecovered: readonly WriteIntent[];
}

/** Work under the lease found it taken over by another writer: transient, the work is redone under a lease of its own. */
export class WriteLeaseLostError extends Error {
  readonly transient = true;
  constructor(readonly heldUntil: number) {
    super(`the cluster's write lease ended at ${new Date(heldUntil).toISOString()} and another writer took it over: the work under it stops here, to be redone under a new lease`);
    this.name = 'WriteLeaseLostError';
  }
}

/**
 * A recovery (`IntentRecovery`) that stopped at an intent it could not recover (the master or the
 * log failing) after recovering those before it, oldest first: their owners are cleared all the
 * same, and the rest stay for the next holder. Kept, a recovered upload's intent would have every
 * later holder ask for its capture again for as long as the failing one stays (recovery.ts).
 */
export class IntentsRecoveredPartWay extends Error {
  constructor(
    readonly owners: readonly string[],
    readonly failure: unknown,
  ) {
    super(failure instanceof Error ? failure.message : String(failure));
    this.name = 'IntentsRecoveredPartWay';
  }
}

/** What a write under the lease records and when it is done. */
export interface RunOptions<T> {
  /** Recorded with the lease before `work` runs (the write's `WriteIntent`, less its owner and time). */
  readonly intent?: Omit<WriteIntent, 'owner' | 'at'>;
  /** Whether `work`'s result means its changes are in the log (or there were none): its intent is cleared. @default always */
  readonly finished?: (result: T) => boolean;
  /** Recovers the intents earlier holders left, for this run (a gateway write reads the master as it reads its own write back, with the master node's credentials). @default the serializer's */
  readonly recover?: IntentRecovery;
  /**
   * Read once the lease is held, before the recovery and `work`: an error refuses the run, thrown
   * once the lease is given back, with its intent cleared (nothing was done). A gateway write
   * reads there whether a resync holds the master, which a resync takes under the same lease
   * (job-runner.ts, `bootstrapStep`): the write is then either refused or wholly before the hold.
   */
  readonly refusal?: () => Promise<Error | undefined>;
}

/** Runs a write with the cluster's writes serialized around it. */
export interface WriteSerializer {
  /** `work` is handed the lease it runs under, to keep it for steps longer than one lease (`LeaseHold`). */
  run<T>(work: (hold: LeaseHold) => Promise<T>, options?: RunOptions<T>): Promise<T>;
}

/**
 * Publishes what the master holds of the objects of intents that earlier holders left (recovery.ts),
 * under the lease, before the new holder's own work; answers the owners whose intents it
 * recovered (their intents are then cleared). One that fails part way throws
 * `IntentsRecoveredPartWay`, naming those it recovered before, which are cleared too.
 */
export type IntentRecovery = (pending: readonly WriteIntent[]) => Promise<readonly string[]>;

/** 503: another write held the lease for the whole wait. */
export class GatewayBusyError extends AppError {
  constructor(
    readonly waitedMs: number,
    retryAfterSeconds: number,
    heldUntil: number,
  ) {
    super(
      503,
      'GATEWAY_BUSY',
      `Another write through the gateway held the cluster's write lease for the ${waitedMs} ms this write waited ` +
        `(writes are applied one at a time, in order); retry after ${retryAfterSeconds} s. The lease ends at ${new Date(heldUntil).toISOString()} at the latest.`,
      undefined,
      { retryAfterSeconds },
      retryAfterSeconds,
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
  /** Recovers the intents earlier holders left; without it they stay for a holder that has it. */
  readonly recover?: IntentRecovery;
  /** Told when a recovery failed (the intents it did not recover stay; the holder's own work goes on). */
  readonly onRecoveryFailure?: (error: unknown, pending: readonly WriteIntent[]) => void;
  /**
   * The runs recover no intent and leave the lease to one that does while a sweep's mark asks for
   * it (`AcquireOptions.yields`): a job slice of the master's, which takes the lease difference
   * after difference and would otherwise keep the sweep out for as long as it runs.
   */
  readonly yieldsToRecovery?: boolean;
  /**
   * Told once per run, when its first attempt finds the lease held, before it waits for it: the
   * sweep leaves its mark there, so the holder's next take leaves the lease to it.
   */
  readonly onHeld?: (heldUntil: number) => Promise<void>;
}

/** A serializer over the cluster's lease. */
export function leaseSerializer(store: LeaseStore, options: LeaseOptions): WriteSerializer {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const newOwner = options.newOwner ?? randomUUID;
  const { baseMs, capMs } = options.backoff ?? { baseMs: 20, capMs: 250 };

  async function acquire(draft: RunOptions<unknown>['intent'], recovers: boolean): Promise<{ owner: string; pending: readonly WriteIntent[]; until: number }> {
    const owner = newOwner();
    const started = now();
    const giveUpAt = started + options.waitMs;
    const taking: AcquireOptions = { ...(recovers ? { recovers: true } : {}), ...(options.yieldsToRecovery ? { yields: true } : {}) };
    const marked = recovers || options.yieldsToRecovery;
    for (let attempt = 0; ; attempt += 1) {
      const at = now();
      const intent = draft ? { ...draft, owner, at: new Date(at).toISOString() } : undefined;
      const until = at + options.ttlMs;
      const result = marked ? await store.tryAcquire(owner, at, until, intent, taking) : await store.tryAcquire(owner, at, until, intent);
      if (result.acquired) return { owner, pending: result.pending ?? [], until };
      if (attempt === 0) await options.onHeld?.(result.heldUntil);
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
    async run(work, runOptions = {}) {
      const recover = runOptions.recover ?? options.recover;
      const { owner, pending, until } = await acquire(runOptions.intent, recover !== undefined);
      const clear: string[] = [];
      try {
        const refused = await runOptions.refusal?.();
        if (refused !== undefined) {
          clear.push(owner);
          throw refused;
        }
        if (pending.length > 0 && recover) {
          try {
            clear.push(...(await recover(pending)));
          } catch (error) {
            if (error instanceof IntentsRecoveredPartWay) clear.push(...error.owners);
            options.onRecoveryFailure?.(error instanceof IntentsRecoveredPartWay ? error.failure : error, pending);
          }
        }
        let heldUntil = until;
        const recovered = new Set(clear);
        const hold: LeaseHold = {
          unrecovered: pending.filter((intent) => !recovered.has(intent.owner)),
          async keep(forMs) {
            if (forMs > options.ttlMs) throw new Error(`a step under the write lease may take at most its ${options.ttlMs} ms time to live, not ${forMs} ms`);
            const at = now();
            if (heldUntil - at >= forMs) return;
            const next = at + options.ttlMs;
            if (!(await store.renew(owner, next))) throw new WriteLeaseLostError(heldUntil);
            heldUntil = Math.max(heldUntil, next);
          },
        };
        const result = await work(hold);
        if (runOptions.finished?.(result) ?? true) clear.push(owner);
        return result;
      } finally {
        try {
          await store.release(owner, clear);
        } catch (error) {
          options.onReleaseFailure?.(error);
        }
      }
    },
  };
}

/** No serialization: each write runs at once, unless its `refusal` refuses it (a single-writer setting, and unit tests). */
export const UNSERIALIZED: WriteSerializer = {
  async run(work, runOptions) {
    const refused = await runOptions?.refusal?.();
    if (refused !== undefined) throw refused;
    return work({ keep: async () => undefined, unrecovered: [] });
  },
};
