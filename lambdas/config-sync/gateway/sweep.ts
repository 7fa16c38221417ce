/**
 * One run of the gateway's sweep (handlers/recover-gateway-writes.ts), the crash window closed on a
 * quiet cluster: when intents are left with the cluster's write lease and nobody holds it, it takes
 * the lease and recovers them (recovery.ts), as the next gateway write would.
 *
 * The lease is shared with the master's jobs: a capture takes it for each difference, a reconcile
 * for each batch, one after another, the next as soon as the last is given back, and neither
 * recovers intents (a job slice has no recovery, `LeaseHold.unrecovered`). Left alone, a long one
 * would keep the sweep out for as long as it runs. So a run that finds the lease held leaves a mark
 * on the lease item (`wantRecovery`, `recoveryWantedUntil`: `RECOVERY_WANTED_MS`) before it waits
 * for it (`SWEEP_LEASE_WAIT_MS`): a job's take is refused while the mark stands (write-lease.ts,
 * `AcquireOptions.yields`), so the job leaves the lease free once the difference in hand is done,
 * and a take that recovers (this run's, the next run's, a gateway write's) clears the mark. The run
 * recovers then, or, when that difference outlasts its wait, the next run (a minute later) finds
 * the lease free. The job waits only for that take, and at most as long as the mark stands when
 * no run comes; a run that took the lease, recovering or not, has cleared the mark, so the job
 * goes on with its next difference at once.
 *
 * The intents left after a run are reported stale (`stale`, StaleGatewayIntents, which alarms)
 * when they are older than STALE_INTENT_MS, whether the run tried them and their recovery failed
 * or a holder kept the lease through its wait: the mark bounds the second to a few minutes, so an
 * intent that old means recovery keeps failing (or is kept from the lease for longer than it should
 * be). The intents of a live holder (a gateway write whose own intent is the only one in the item)
 * are its own to clear: no mark, and none of them counted.
 *
 * Nor does it recover anything while a resync holds the master (`refusal`, read under the lease,
 * as a gateway write reads it): recovery compares the master's GeoServer with the master's store,
 * which the resync has half-copied. An object the copy has not reached yet reads as absent from
 * it, so a DELETE's intent would publish no removal and be cleared, and the copy then bring the
 * object back into the store, from which the resync's closing reconcile would put it back on the
 * master's GeoServer. Gateway writes are refused meanwhile (jobs.ts, `gatewayWriteRefusal`), and
 * their recovery with them; the intents wait for the hold to end, not counted stale either.
 *
 * Nor while the master is paused (`refusal` answers its NodePausedError): a paused master
 * publishes nothing, as its gateway writes are refused (409 NODE_PAUSED) and so are the direct
 * publishes of its node; its intents wait for the resume, not counted stale.
 */
import { NodePausedError } from '../pause';
import { staleIntents, type Recovered } from './recovery';
import { GatewayBusyError, IntentsRecoveredPartWay, leaseSerializer, type LeaseStore, type WriteIntent } from './write-lease';

export interface SweepResult {
  /** Intents left in the lease item when the run began. */
  readonly pending: number;
  readonly recovered: number;
  readonly sequences: readonly number[];
  /**
   * Why nothing was recovered although intents were left: `held` (another holder kept the lease
   * through the run's wait: a gateway write, which recovers them itself, or a job's difference that
   * outlasted it, whose job then leaves the lease to the next run), `resync` (a resync holds the master),
   * `paused` (the master is paused), `failed` (the recovery failed, in part or whole).
   */
  readonly skipped?: 'held' | 'resync' | 'paused' | 'failed';
}

export interface SweepOutcome {
  readonly result: SweepResult;
  /** The intents found when the run began, oldest first. */
  readonly intents: readonly WriteIntent[];
  readonly recovered: Recovered;
  /** Why the recovery failed, when it did (the intents it did not recover stay). */
  readonly failure?: unknown;
  /** The resync holding the master, or its pause, when one did (nothing was recovered). */
  readonly heldBy?: Error;
  /**
   * The intents older than STALE_INTENT_MS left after the run (none: an empty list), but a live
   * holder's own. Undefined when a resync holds the master or the master is paused: the intents
   * wait for it on purpose, nothing to count then.
   */
  readonly stale?: readonly WriteIntent[];
  /** Until when the mark this run left stands, when it found the lease held and did not get it. */
  readonly wantedUntil?: number;
}

export interface SweepDeps {
  /** The lease item as a consistent read finds it: the intents, and who holds it until when. */
  readonly pending: () => Promise<{ readonly heldUntil?: number; readonly holder?: string; readonly intents: readonly WriteIntent[] }>;
  readonly lease: LeaseStore;
  /** Leaves the mark on the lease item until `until` (epoch ms): a job's take is refused meanwhile. */
  readonly wantRecovery: (until: number) => Promise<void>;
  /** How long the mark stands (`RECOVERY_WANTED_MS`). */
  readonly wantedMs: number;
  /** Recovers the intents (recovery.ts `recoverIntents`, reading the master with the master node's credentials). */
  readonly recover: (pending: readonly WriteIntent[]) => Promise<Recovered>;
  /**
   * Read under the lease before any recovery: the master's pause (its NodePausedError), else the
   * resync holding it (jobs.ts `gatewayWriteRefusal`).
   */
  readonly refusal: () => Promise<Error | undefined>;
  /** How long the run waits for a lease another holder has. */
  readonly waitMs: number;
  readonly ttlMs: number;
  readonly onReleaseFailure?: (error: unknown) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const NONE: Recovered = { owners: [], sequences: [], refused: [], captures: [] };

export async function sweepGatewayIntents(deps: SweepDeps): Promise<SweepOutcome> {
  const now = deps.now ?? Date.now;
  const { heldUntil, holder, intents } = await deps.pending();
  if (intents.length === 0) return { result: { pending: 0, recovered: 0, sequences: [] }, intents, recovered: NONE };
  // A live holder's own intent is its own to clear: the intents left are the others'.
  const heldNow = heldUntil !== undefined && heldUntil >= now();
  const left = heldNow && holder !== undefined ? intents.filter((intent) => intent.owner !== holder) : intents;
  let wantedUntil: number | undefined;
  const held = (): SweepOutcome => ({
    result: { pending: intents.length, recovered: 0, sequences: [], skipped: 'held' },
    intents,
    recovered: NONE,
    stale: staleIntents(left, now()),
    ...(wantedUntil === undefined ? {} : { wantedUntil }),
  });
  if (left.length === 0) return held();
  let recovered: Recovered = NONE;
  let failure: unknown;
  let heldBy: Error | undefined;
  const writes = leaseSerializer(deps.lease, {
    waitMs: deps.waitMs,
    ttlMs: deps.ttlMs,
    now,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    recover: async (pending) => {
      try {
        recovered = await deps.recover(pending);
      } catch (error) {
        // Those recovered before the failure are cleared (write-lease.ts): neither counted nor reported stale.
        if (error instanceof IntentsRecoveredPartWay) recovered = { ...recovered, owners: [...error.owners] };
        throw error;
      }
      return recovered.owners;
    },
    onRecoveryFailure: (error) => (failure = error),
    // Found held: the holder's next take leaves the lease to this run, or to the next one.
    onHeld: async () => {
      wantedUntil = now() + deps.wantedMs;
      await deps.wantRecovery(wantedUntil);
    },
    ...(deps.onReleaseFailure ? { onReleaseFailure: deps.onReleaseFailure } : {}),
  });
  try {
    await writes.run(async () => undefined, {
      refusal: async () => {
        heldBy = await deps.refusal();
        return heldBy;
      },
    });
  } catch (error) {
    if (error instanceof GatewayBusyError) return held();
    if (heldBy !== undefined && error === heldBy) {
      const skipped = heldBy instanceof NodePausedError ? ('paused' as const) : ('resync' as const);
      return { result: { pending: intents.length, recovered: 0, sequences: [], skipped }, intents, recovered: NONE, heldBy };
    }
    throw error;
  }
  const cleared = new Set(recovered.owners);
  return {
    result: { pending: intents.length, recovered: recovered.owners.length, sequences: recovered.sequences, ...(failure ? { skipped: 'failed' as const } : {}) },
    intents,
    recovered,
    ...(failure ? { failure } : {}),
    stale: staleIntents(
      intents.filter((intent) => !cleared.has(intent.owner)),
      now(),
    ),
  };
}
