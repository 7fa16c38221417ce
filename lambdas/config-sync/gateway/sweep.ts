/**
 * One run of the gateway's sweep (handlers/recover-gateway-writes.ts), the crash window closed on a
 * quiet cluster: when intents are left with the cluster's write lease and nobody holds it, it takes
 * the lease and recovers them (recovery.ts), as the next gateway write would.
 *
 * The lease is shared with the master's jobs: a capture takes it for each difference, a reconcile
 * for each batch, one after another, and neither recovers intents (a job slice has no recovery,
 * `LeaseHold.unrecovered`). A long one keeps the sweep out for as long as it runs. A run that could
 * not take the lease tried nothing, so the intents it found are not reported stale by it
 * (`stale` undefined): StaleGatewayIntents counts intents whose recovery was tried and left them,
 * not ones that waited for a job to end. The first run after the job ends tries them, and counts
 * them if they are still left.
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
   * Why nothing was recovered although intents were left: `held` (another holder kept the lease:
   * a gateway write, which recovers them itself, or a job), `resync` (a resync holds the master),
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
   * The intents older than STALE_INTENT_MS left after a run that tried to recover them (none: an
   * empty list). Undefined when the run tried nothing (the lease held by another, a resync
   * holding the master, the master paused): nothing to count then.
   */
  readonly stale?: readonly WriteIntent[];
}

export interface SweepDeps {
  /** The lease item as a consistent read finds it: the intents, and until when someone holds it. */
  readonly pending: () => Promise<{ readonly heldUntil?: number; readonly intents: readonly WriteIntent[] }>;
  readonly lease: LeaseStore;
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
  const { heldUntil, intents } = await deps.pending();
  if (intents.length === 0) return { result: { pending: 0, recovered: 0, sequences: [] }, intents, recovered: NONE };
  const held = { result: { pending: intents.length, recovered: 0, sequences: [], skipped: 'held' as const }, intents, recovered: NONE };
  if (heldUntil !== undefined && heldUntil >= now()) return held;
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
    if (error instanceof GatewayBusyError) return held;
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
