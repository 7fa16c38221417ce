/**
 * Background jobs of a node: work that takes longer than an API request may last (30 s in API
 * Gateway, 29 s for the functions behind it): a drift check of its GeoServer, a reconcile, a capture of a master's GeoServer, a
 * resync. The route answers 202 with the job; the node's own apply function runs it in
 * slices, each within its invocation's time, from its own queue:
 *
 * - The job item (in the node store, the node's partition) holds the phase and a checkpoint
 *   (the last store key compared, the index of the next difference to fix). A slice reads it,
 *   works until its time runs out, saves the checkpoint after each page, and puts the next
 *   slice's message in the queue. A slice that dies midway leaves its message in the queue,
 *   which delivers it again: it resumes from the last checkpoint. Every step is idempotent
 *   (a comparison is read-only; a fix is the apply's idempotent PUT/POST/DELETE; a capture
 *   re-reads the difference before publishing it), so redoing a page is safe.
 * - Why the node's queue rather than a function that invokes itself or Step Functions: the
 *   apply function is the one that can reach the node's GeoServer (its network, its secret);
 *   the queue is FIFO in the cluster's message group, so a slice never runs beside an event
 *   being applied (a reconcile cannot write an older object over a newer one); a GeoServer
 *   that goes down mid-job makes the slice wait with the same backoff as events; and the
 *   local runtime already runs queues, not Step Functions.
 * - One job per node at a time: starting one while another runs is a 409. A job whose slices
 *   have not saved anything for `STALE_AFTER_MS` (its messages lost) may be replaced, so no
 *   request can block a node's jobs for good; the replaced job is failed as the new one starts
 *   (`replacedStaleError`), and its late slices find they are no longer the node's job and stop.
 * - A job is cancelled (`JobStore.cancel`) the same way: one conditional write ends it
 *   `cancelled` and gives the node back (to the capture waiting to follow it, if any); a slice
 *   running then finds at its next save that it is no longer the node's job and stops, saving
 *   nothing. A resync whose copy began is refused (`ResyncCopyingError`): its store is half-copied.
 */
import { ConflictError } from '../shared/errors';
import type { ObjectRef } from './events';
import type { CatalogCursor, DriftEntry } from './geoserver/drift';
import type { PauseState } from './pause';
import type { NodeStore, ParkedObject } from './ports';

export const JOB_KINDS = ['drift', 'reconcile', 'capture', 'resync'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
/** `cancelled`: ended by POST /nodes/{node}/jobs/{id}/cancel (`JobStore.cancel`), its `error` naming who cancelled it. */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
/**
 * `bootstrap`: a resync's store snapshot (copied page by page) and log catch-up; `scan-store`: the store's objects
 * against the GeoServer, page by page; `scan-geoserver`: the GeoServer's listings against the
 * store (extras); `fix`: the differences made good (reconcile) or published (capture).
 */
export type JobPhase = 'bootstrap' | 'scan-store' | 'scan-geoserver' | 'fix' | 'done';

export interface JobProgress {
  /** Store objects compared so far. */
  readonly compared: number;
  readonly missing: number;
  readonly extra: number;
  readonly different: number;
  /** Differences to fix or publish, once the scan is done. */
  readonly toFix: number | null;
  /** Differences fixed on the GeoServer (reconcile) or published as events (capture). */
  readonly fixed: number;
  /** Differences the GeoServer refused to take (reconcile) or that could not be published. */
  readonly failed: number;
  /** REST calls made to the GeoServer. */
  readonly restCalls: number;
  /** Events published (capture). */
  readonly published: number;
  /** Objects of the source's snapshot copied into the store so far (resync). */
  readonly copied?: number;
}

export interface JobFailure extends ObjectRef {
  readonly message: string;
}

/** Where a job's next slice picks up. */
export interface JobCheckpoint {
  /** The last store key dealt with (a scan, or a resync's copy or prune). */
  readonly after?: string;
  /** The next difference to fix. */
  readonly index?: number;
  /** Chunks of differences stored so far. */
  readonly chunks?: number;
  /**
   * A resync's bootstrap: `copy` (the source's objects into the store, page by page), `prune`
   * (the store's objects the source does not hold), `finish` (parking records replaced with the source's, cursor
   * set to the snapshot's sequence), `catch-up` (the log after it); absent before the snapshot
   * is taken.
   */
  readonly step?: 'copy' | 'prune' | 'finish' | 'catch-up';
  /** A resync's snapshot sequence: the source's cursor, read before its first object. */
  readonly sequence?: number;
  /**
   * A resync's: the source's parking records as of the snapshot (read after its cursor, before
   * its first object), which `finish` gives the node with the snapshot (job-runner.ts,
   * `carriedParking`).
   */
  readonly parked?: readonly ParkedObject[];
  /** Events a resync's catch-up has applied so far. */
  readonly applied?: number;
  /**
   * The layer groups a capture has published again after a removal with recurse (its regroups),
   * so a group's own difference, found published already when its turn comes, is counted fixed.
   */
  readonly regrouped?: readonly string[];
  /**
   * The replaced stores (their ids) a capture leaves as the nodes hold them, one of whose layers a
   * stored layer group has as its root layer: nothing of them, of what they hold, nor of what
   * replaced them is published (job-runner.ts, `replacedStoreRemoval`).
   */
  readonly keptStores?: readonly string[];
  /**
   * The `scan-geoserver` phase's: how far its listing of the GeoServer's catalog has got (the
   * extras of what it listed before are stored with the differences), for its next step to go on
   * from there; absent before its first step.
   */
  readonly listing?: CatalogCursor;
  /**
   * The `scan-geoserver` phase's: the extras a step listed and could not finish within its calls
   * and time, from the first extra layer group not yet read for the groups it holds
   * (`withHeldGroupsWithin`), in the listing's order: the next step reads them before it lists
   * more. Absent when none is left.
   */
  readonly extrasLeft?: readonly DriftEntry[];
  /** The `scan-geoserver` phase's: the listing has ended, and only `extrasLeft` remain. */
  readonly listingDone?: true;
  /**
   * A capture's: the log's head when its scan had compared everything (noted as it ends, so that no
   * event above it came before a difference was found). A difference the fix finds no longer standing
   * whose stored object an event above it wrote was made good on the nodes after the scan (by the
   * capture itself, before a step of it was redone, or by a gateway write): counted fixed (job-runner.ts).
   */
  readonly scanHead?: number;
  /**
   * Set by every save of a slice that has not ended (job-runner.ts, `runJobSlice`): found set by
   * the next slice, the one before it died midway (its invocation timed out or crashed).
   */
  readonly sliceOpen?: true;
  /** Slices in a row that died without finishing a step (`MAX_DEAD_SLICES` ends the job). */
  readonly deadSlices?: number;
}

export interface Job {
  readonly id: string;
  readonly node: string;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly phase: JobPhase;
  /** The node that asked for it. */
  readonly requestedBy: string;
  /** A resync's source node. */
  readonly source?: string;
  readonly checkpoint: JobCheckpoint;
  readonly progress: JobProgress;
  /** The first `MAX_JOB_FAILURES` differences that could not be fixed or published, with why. */
  readonly failures: readonly JobFailure[];
  /** Slices run so far (a slice delivered again counts again). */
  readonly slices: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** Why the job failed as a whole. */
  readonly error: string | null;
  /**
   * A resync's catch-up of the store: the snapshot's sequence, the cursor the log's events
   * brought it to and how many it applied. Set by every catch-up step, and by one that failed
   * part way (the events before the failure are committed): a failed job's shows where it stopped.
   */
  readonly resync?: { readonly snapshotSequence: number; readonly cursor: number; readonly appliedFromLog: number };
}

export const MAX_JOB_FAILURES = 20;
/** A running job that saved nothing for this long may be replaced by a new one. */
export const STALE_AFTER_MS = 15 * 60 * 1000;
/**
 * How long a job's record and its differences are kept after its last save (for a finished
 * job, after it finished; for one abandoned midway, after its last slice), then expired by the
 * store's TTL so records do not pile up. Longer than SQS keeps a message (14 days at most), so
 * no slice still in a queue finds its job gone.
 */
export const JOB_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** When a job record saved at `savedAt` expires: epoch seconds, as DynamoDB's TTL wants. */
export function jobExpiry(savedAt: Date): number {
  return Math.floor((savedAt.getTime() + JOB_RETENTION_MS) / 1000);
}

export const EMPTY_PROGRESS: JobProgress = {
  compared: 0,
  missing: 0,
  extra: 0,
  different: 0,
  toFix: null,
  fixed: 0,
  failed: 0,
  restCalls: 0,
  published: 0,
};

/** `started`, or the node's running job that prevents it. */
export type StartOutcome = { readonly started: true } | { readonly started: false; readonly active: Job };

/**
 * What `JobStore.follow` made of a capture asked for after the master's GeoServer changed (an
 * upload through the gateway): `started` at once (the node ran no job); `covered` by a capture of
 * the node that has not begun, so will read the GeoServer after the change (`by`); or `queued` as
 * the node's next job, started when the running one (`after`) ends.
 */
export type FollowOutcome =
  | { readonly outcome: 'started' }
  | { readonly outcome: 'covered'; readonly by: Job }
  | { readonly outcome: 'queued'; readonly after: Job };

/**
 * Whether a job of kind `replacing`, started in place of a stale job (one that saved nothing for
 * `STALE_AFTER_MS`), keeps the capture that was waiting to follow the stale job (`follow`) as its
 * own next job, which its final save then starts; otherwise that capture is failed
 * (`staleFollowError`) and the node's next job cleared. The upload it was asked for is already on
 * the master's GeoServer, so it is kept wherever running it after the replacing job is safe:
 * - a drift check only reads the GeoServer, and a reconcile makes the GeoServer match the store
 *   (what a reconcile of a master is asked for): the capture that runs after either still
 *   publishes what the GeoServer then holds;
 * - a capture reads the GeoServer after the changes the waiting one was to publish: it covers
 *   them, and a second capture would only scan again;
 * - a resync replaces the very store a capture compares the GeoServer with, and one that fails
 *   after its copy began leaves that store half-copied (the node held): handed the node by that
 *   final save, the capture would take what the copy had not reached for changes made on the
 *   GeoServer and publish them to every node. It is failed, asking for a capture once the
 *   resync has finished.
 */
export function keepsWaitingCapture(replacing: JobKind): boolean {
  return replacing === 'drift' || replacing === 'reconcile';
}

/**
 * Why a capture waiting to follow the node's running job (`follow`) was failed when that job was
 * replaced for saving nothing for `STALE_AFTER_MS` by a job that does not keep it
 * (`keepsWaitingCapture`): it waited for a job that will never end. A replacing capture reads the
 * GeoServer after the changes it was to publish; after a resync, a capture has to be asked for again.
 */
export function staleFollowError(node: string, stale: string | undefined, replacing: Pick<Job, 'id' | 'kind'>): string {
  const waitedFor = stale === undefined ? "the node's job it was waiting to follow ended without starting it" : `job ${stale}, which it was waiting to follow, saved nothing for ${STALE_AFTER_MS / 60000} minutes`;
  const changes =
    replacing.kind === 'capture'
      ? `that capture reads the GeoServer after the changes this one was to publish`
      : `once that job has finished, capture node ${node} (POST /nodes/${node}/capture) to publish the changes made on its GeoServer since this capture was asked for`;
  return `never ran: ${waitedFor} and was replaced by job ${replacing.id} (${replacing.kind}); ${changes}`;
}

/**
 * The error a job is failed with when a new job replaces it for saving nothing for
 * `STALE_AFTER_MS` (its slices stopped), in the same write that starts the new one: left as it
 * was, its record would read `queued` or `running` for ever, and whoever waits on it (the CLI's
 * `job --wait`, an upload's `X-Cluster-Job`) would wait for a job that can no longer end.
 */
export function replacedStaleError(replacing: Pick<Job, 'id' | 'kind'>): string {
  return `saved nothing for ${STALE_AFTER_MS / 60000} minutes (its slices stopped) and was replaced by job ${replacing.id} (${replacing.kind}); start it again if it is still needed`;
}

/**
 * What `JobStore.cancel` made of a cancel of job `id`: `cancelled` now, or already (`again`: an
 * earlier cancel's job, unchanged), with the job the node was handed to (`successor`, the capture
 * waiting to follow it, whose first slice the caller queues); `ended` otherwise (succeeded or
 * failed); `copying`: a resync whose copy began (its store half-copied), left running; `waiting`:
 * the capture waiting to follow the node's running job `after` (`follow`), left waiting; `not-found`.
 */
export type CancelOutcome =
  | { readonly outcome: 'cancelled'; readonly job: Job; readonly again: boolean; readonly successor?: Job }
  | { readonly outcome: 'ended'; readonly job: Job }
  | { readonly outcome: 'copying'; readonly job: Job }
  | { readonly outcome: 'waiting'; readonly job: Job; readonly after: string }
  | { readonly outcome: 'not-found' };

/** The error a cancelled job records: who cancelled it, and what is left of its work. */
export function cancelledError(job: Pick<Job, 'id' | 'node'>, by: string): string {
  return `cancelled by ${by} (POST /nodes/${job.node}/jobs/${job.id}/cancel); what it did before stays done: a drift check or reconcile shows what is left`;
}

/** 409 JOB_ENDED: a cancel of a job that had already ended otherwise (succeeded or failed). */
export class JobEndedError extends ConflictError {
  constructor(job: Job) {
    super('JOB_ENDED', `Job ${job.id} (${job.kind}) of node ${job.node} has already ended (${job.state} at ${job.finishedAt ?? job.updatedAt}): there is nothing to cancel`, {
      job: jobView(job),
    });
  }
}

/**
 * 409 RESYNC_COPYING: a cancel of a resync whose copy began. The node's store then holds part of
 * the snapshot and part of what it held before, and the node applies no event until a resync
 * finishes: cancelled, the resync would leave it so (the next one copying again from the start).
 * Its copy and catch-up are left to end; its closing reconcile (a GeoServer node's) may be cancelled.
 */
export class ResyncCopyingError extends ConflictError {
  constructor(job: Job) {
    super(
      'RESYNC_COPYING',
      ((job.progress.copied ?? 0) > 0
        ? `Resync job ${job.id} of node ${job.node} has begun replacing its store with ${job.source ?? 'its source'}'s snapshot (${job.progress.copied} objects copied): `
        : `Resync job ${job.id} of node ${job.node} holds a store an earlier resync left half-copied, which it is to replace with ${job.source ?? 'its source'}'s snapshot: `) +
        `cancelled now, it would leave the store half-copied and the node applying no event until another resync finished. ` +
        `It is not cancelled: wait for it to finish (geocluster job ${job.node} ${job.id} --wait); once it has reached its catch-up of the log ` +
        `or its closing reconcile, a cancel is taken`,
      { job: jobView(job) },
    );
  }
}

/**
 * 409 CAPTURE_WAITING: a cancel of the capture waiting to follow the node's running job (an upload
 * through the gateway asked for it, `follow`). While it waits, a reconcile of the master (the
 * running job, or a resync's closing one) leaves alone what the GeoServer holds and the store
 * lacks, so as not to delete the upload before it is published; cancelled, the reconcile's next
 * batch would delete it from the master's GeoServer, with no node holding it.
 */
export class CaptureWaitingError extends ConflictError {
  constructor(job: Job, after: string) {
    super(
      'CAPTURE_WAITING',
      `Capture job ${job.id} of node ${job.node} is waiting to publish what an upload through the gateway made, after job ${after}: cancelled now, ` +
        `a reconcile of the node (job ${after}, or a later one) would delete what the upload made from its GeoServer. It is not cancelled: ` +
        `cancel job ${after} instead (the capture then starts at once), or cancel this capture once it runs`,
      { job: jobView(job) },
    );
  }
}

/** Where jobs and the differences they found are kept (the node store table in AWS). */
export interface JobStore {
  /**
   * Records `job` as the node's job, unless another is running (and not stale). Replacing a stale
   * job marks it failed (`replacedStaleError`) and keeps the capture waiting to follow it as `job`'s next job when `keepsWaitingCapture`;
   * otherwise it fails that capture (`staleFollowError`) and clears the node's next job.
   */
  start(job: Job, now: Date): Promise<StartOutcome>;
  read(node: string, id: string): Promise<Job | undefined>;
  /** The node's most recent job, running or not. */
  latest(node: string): Promise<Job | undefined>;
  /** The most recent drift check, reconcile or capture of the node (the jobs GET /nodes/{node}/drift reports on). */
  latestScan(node: string): Promise<Job | undefined>;
  /**
   * Makes sure a capture reads the node's GeoServer after a change made there now: `job` is
   * started as `start` would start it when the node runs no job; a capture of the node that has
   * not begun (the node's job still queued, or the one waiting to follow it) covers it; otherwise
   * `job` is recorded as the node's next job, which the running job's final save starts (in place
   * of a next job whose record is gone or that has ended, which waits for nothing).
   */
  follow(job: Job, now: Date): Promise<FollowOutcome>;
  /**
   * The job the final save of job `id` started (the node's next job, `follow`), while it has not
   * begun: its first slice is still to be queued. Undefined otherwise.
   */
  successor(node: string, id: string): Promise<Job | undefined>;
  /**
   * The job waiting to follow job `id` while `id` is the node's running job (`follow`: a capture
   * an upload through the gateway asked for), while it has not ended. Undefined otherwise.
   */
  follower(node: string, id: string): Promise<Job | undefined>;
  /**
   * Saves the job's progress, on condition that it is still the node's job (a replaced job's
   * slice gets `superseded` and stops). A job in a final state releases the node, or hands it to
   * the node's next job (`follow`), whose first slice the caller then queues (`successor`).
   */
  save(job: Job): Promise<'saved' | 'superseded'>;
  /**
   * Ends job `id` of `node` `cancelled` (`cancelledError`, naming `by`), in one write conditioned
   * on the job's last save being the one read (a slice's save meanwhile: read again), that gives
   * the node back: released, or handed to the capture waiting to follow the job (`follow`), as a
   * final save does. A capture waiting to follow (the lock's next job) is not cancelled (`waiting`,
   * `CaptureWaitingError`). A resync's hold of the node is given back in the same write, unless its copy began
   * (`copying`, nothing written); a hold it takes later (a slice running beside the cancel) its
   * slice gives back as a replaced resync's (job-runner.ts). Cancelling a cancelled job writes nothing.
   */
  cancel(node: string, id: string, by: string, now: Date): Promise<CancelOutcome>;
  /** Stores chunk `index` of the differences a scan found (idempotent: a redone page writes the same chunk). */
  putDifferences(node: string, id: string, index: number, entries: readonly DriftEntry[]): Promise<void>;
  /** Every difference of the job, in chunk order. */
  readDifferences(node: string, id: string): Promise<DriftEntry[]>;
  /** Removes the differences of the node's jobs other than `keep` (storage only). */
  pruneDifferences(node: string, keep: string): Promise<void>;
}

export function newJob(params: { id: string; node: string; kind: JobKind; requestedBy: string; source?: string; hasGeoServer: boolean; now: Date }): Job {
  const at = params.now.toISOString();
  return {
    id: params.id,
    node: params.node,
    kind: params.kind,
    state: 'queued',
    phase: params.kind === 'resync' ? 'bootstrap' : 'scan-store',
    requestedBy: params.requestedBy,
    ...(params.source === undefined ? {} : { source: params.source }),
    checkpoint: {},
    progress: EMPTY_PROGRESS,
    failures: [],
    slices: 0,
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
    error: null,
  };
}

/** What GET /nodes and the job routes show of a job. */
export function jobView(job: Job): Record<string, unknown> {
  const { checkpoint: _checkpoint, ...view } = job;
  return view;
}

/** What GET /nodes shows of a resync holding a node (`NodeProgress.heldBy`), or null when none does. */
export interface ResyncHoldView {
  readonly job: string;
  /**
   * `running`: the job is at work (its hold renewed by every step); `incomplete`: it failed, or
   * saved nothing for `STALE_AFTER_MS` (its slices stopped), and left the store half-copied.
   */
  readonly state: 'running' | 'incomplete';
  /** The store holds part of the job's snapshot: the node applies no events until a resync finishes. */
  readonly storeIncomplete: boolean;
  /** Why the job stopped, when it did. */
  readonly error: string | null;
  /** The request that resumes the node (a new resync, which copies over the half-copied store), when it needs one. */
  readonly resume: string | null;
}

export function resyncHoldView(
  node: string,
  progress: { readonly heldBy?: string; readonly storeIncomplete?: boolean },
  job: Job | undefined,
  now: Date,
): ResyncHoldView | null {
  if (progress.heldBy === undefined) return null;
  const storeIncomplete = progress.storeIncomplete === true;
  const stale = job !== undefined && now.getTime() - Date.parse(job.updatedAt) >= STALE_AFTER_MS;
  const running = job !== undefined && !isFinal(job.state) && !stale;
  const error = running
    ? null
    : (job?.error ??
      (job === undefined
        ? `resync job ${progress.heldBy} is gone`
        : `resync job ${progress.heldBy} saved nothing since ${job.updatedAt}: its slices stopped`));
  return {
    job: progress.heldBy,
    state: running ? 'running' : 'incomplete',
    storeIncomplete,
    error,
    resume: running ? null : `POST /nodes/${node}/resync`,
  };
}

/**
 * Whether a job of `kind` refuses to run while a resync holds its node (`NodeProgress.heldBy`):
 * the jobs that act on a comparison of the node's GeoServer with its store. While a resync copies
 * a snapshot into the store, and after one failed or stopped part way, the store is half-copied:
 * a capture would publish every object the copy had not reached as added on the GeoServer, and
 * every object the store holds that the GeoServer lacks as removed, to every node; a reconcile
 * would delete from the GeoServer what the copy had not reached. A drift check writes nothing (its
 * report would only be as wrong as the store), and a resync is the job that holds the node.
 */
export function refusedWhileHeld(kind: JobKind): boolean {
  return kind === 'capture' || kind === 'reconcile';
}

/**
 * What ends `hold` on `node`, and when to do `action` (a job's kind, or sending the request)
 * again: the resync finishing, while it runs; a new resync, once it failed or stopped part way.
 */
function whatEndsTheHold(node: string, hold: ResyncHoldView, action: string): string {
  return hold.state === 'running'
    ? `resync job ${hold.job} is copying a snapshot into it; wait for that resync to finish, then ${action} again`
    : `resync job ${hold.job} stopped part way (${hold.error ?? 'no error recorded'}); resync the node again (POST /nodes/${node}/resync, geocluster resync ${node}) and ${action} once it has finished`;
}

/** What reading a node's resync hold needs: its progress in the store, and the job holding it. */
export type HoldReaders = { readonly store: Pick<NodeStore, 'readProgress'>; readonly jobs: Pick<JobStore, 'read'> };

/**
 * 409 NODE_HELD_BY_RESYNC: a capture or reconcile (`refusedWhileHeld`) asked for, or about to
 * run, while a resync holds the node. Its message names the resync and what ends the hold: the
 * resync finishing (while it runs), or a new resync (once it failed or stopped, the store half-copied).
 */
export class NodeHeldByResyncError extends ConflictError {
  constructor(node: string, kind: JobKind, hold: ResyncHoldView) {
    const harm =
      kind === 'capture'
        ? 'a capture would publish to every node what the copy has not reached as added on its GeoServer, and what the store holds that the GeoServer lacks as removed'
        : 'a reconcile would delete from its GeoServer what the copy has not reached';
    super('NODE_HELD_BY_RESYNC', `Node ${node}'s store is held by resync job ${hold.job} and may be half-copied, so no ${kind} runs (${harm}): ${whatEndsTheHold(node, hold, kind)}`, {
      resync: { ...hold },
    });
  }
}

/**
 * 409 NODE_HELD_BY_RESYNC: a write sent through the GeoServer gateway while a resync holds its
 * master, refused before anything is forwarded. What the master's GeoServer takes reaches the
 * other nodes through that half-copied store: an upload's capture compares the GeoServer with it
 * (`NodeHeldByResyncError`), and a rename or recursive delete finds there the objects it moved or
 * took along. Forwarded, the write would change the master alone. The message names the resync
 * and what ends the hold, as `NodeHeldByResyncError`'s does.
 */
export class GatewayWriteHeldByResyncError extends ConflictError {
  constructor(node: string, hold: ResyncHoldView) {
    super(
      'NODE_HELD_BY_RESYNC',
      `The gateway's master ${node} is held by resync job ${hold.job} and its store may be half-copied, so no write is sent to its GeoServer ` +
        `(an upload reaches the other nodes by a capture comparing the GeoServer with that store, and a rename or recursive delete publishes ` +
        `what it moved or took along as that store lists it; the master alone would change): ${whatEndsTheHold(node, hold, 'send the request')}`,
      { resync: { ...hold } },
    );
  }
}

/**
 * Refuses a job of `kind` (`refusedWhileHeld`) on `node` while a resync holds the node's store:
 * throws `NodeHeldByResyncError`. Read at the job's start and again as each of its slices begins.
 */
export async function assertNotHeldByResync(
  deps: HoldReaders,
  node: string,
  kind: JobKind,
  now: Date,
): Promise<void> {
  if (!refusedWhileHeld(kind)) return;
  const hold = await resyncHoldOf(deps, node, now);
  if (hold) throw new NodeHeldByResyncError(node, kind, hold);
}

/**
 * The refusal of a write through the gateway to `node` (its master) while a resync holds it
 * (`GatewayWriteHeldByResyncError`), or undefined. Read before the write waits for the write
 * lease, and again once it holds it (write-lease.ts, `RunOptions.refusal`): a resync takes its hold
 * under that lease, so a hold taken between the two reads is found by the second.
 */
export async function gatewayWriteRefusal(
  deps: HoldReaders,
  node: string,
  now: Date,
): Promise<GatewayWriteHeldByResyncError | undefined> {
  const hold = await resyncHoldOf(deps, node, now);
  return hold ? new GatewayWriteHeldByResyncError(node, hold) : undefined;
}

/** The resync holding `node` (`resyncHoldView` of its progress and job), or null when none does. */
export async function resyncHoldOf(
  deps: HoldReaders,
  node: string,
  now: Date,
): Promise<ResyncHoldView | null> {
  const progress = await deps.store.readProgress(node);
  if (progress.heldBy === undefined) return null;
  return resyncHoldView(node, progress, await deps.jobs.read(node, progress.heldBy), now);
}

/**
 * Why a node cannot start another job: 409 JOB_RUNNING's message. A queued job has not begun: it
 * starts when the node's queue delivers it, which a paused node's queue does only after the
 * resume, so "wait for it to end" alone would have the caller wait on a job that cannot move.
 * A running job of a node paused meanwhile (`paused`, read by the caller) cannot move either: its
 * next slice waits in the paused queue, which the message says.
 */
export function jobRunningMessage(node: string, active: Pick<Job, 'id' | 'kind' | 'state'>, paused?: PauseState): string {
  const waits =
    active.state === 'queued'
      ? `; it is queued, and starts when the node's queue delivers it (a paused node's only after POST /nodes/${node}/resume)`
      : paused
        ? `; the node is paused (since ${paused.since}, by ${paused.by}), so the job goes on only after POST /nodes/${node}/resume`
        : '';
  return `Node ${node} is running job ${active.id} (${active.kind})${waits}; wait for it to end`;
}

/**
 * 409 JOB_RUNNING's message for a pure master's resync asked for while another of its resyncs
 * (another source) runs. Nothing runs that job between requests (handlers/resync-node.ts): it
 * goes on only while its own resync is sent again, so "wait for it to end" alone had the caller
 * wait on a job nobody may be continuing. Says how to finish it, and from when a new resync may
 * replace it (`STALE_AFTER_MS` after its last save).
 */
export function resyncWithinRequestsRunningMessage(node: string, active: Pick<Job, 'id' | 'source' | 'updatedAt'>): string {
  const source = active.source ?? '<node>';
  const replaceable = new Date(Date.parse(active.updatedAt) + STALE_AFTER_MS).toISOString();
  return (
    `Node ${node} is running job ${active.id} (resync from ${source}), which goes on only while its resync is sent again: ` +
    `POST /nodes/${node}/resync with {"source": "${source}"} (geocluster resync ${node} --source ${source}) until it answers 200; ` +
    `nobody continuing it, a new resync may replace it once it has saved nothing for ${STALE_AFTER_MS / 60000} minutes (from ${replaceable})`
  );
}

/**
 * GET /nodes/{node}/drift before any check: 404 NOT_FOUND's message. "drift check of node X does
 * not exist" left the caller to guess that a check has to be started first (and that a node
 * without a GeoServer never has one).
 */
export function noDriftCheckMessage(node: string): string {
  return (
    `Node ${node} has no drift check yet: start one with POST /nodes/${node}/drift (geocluster drift ${node}), ` +
    'then read its report here (a node that declares no GeoServer has none: its check is refused, 409 NO_GEOSERVER)'
  );
}

/**
 * POST /nodes/{node}/resync of the cluster's only master without a source: 409 NO_RESYNC_SOURCE's
 * message, saying how to name one (any other node's store may be the snapshot).
 */
export function noResyncSourceMessage(cluster: string, node: string): string {
  return (
    `Cluster ${cluster} has no master other than ${node} to resync it from: name another node whose store to copy, ` +
    `{"source": "<node>"} in the request's body (geocluster resync ${node} --source <node>)`
  );
}

export function isFinal(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

export const JOB_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
/** What JOB_ID_PATTERN allows, for messages. */
export const JOB_ID_RULE = "must be 1-64 letters, digits or dashes (a job's id is a UUID)";

/** The message that asks the node's apply function to run the job's next slice. */
export const JOB_MESSAGE_FIELD = 'runJob';

export function jobMessage(job: Pick<Job, 'id'>): string {
  return JSON.stringify({ [JOB_MESSAGE_FIELD]: job.id });
}

export function jobIdOfMessage(body: string): string | undefined {
  if (!body.startsWith(`{"${JOB_MESSAGE_FIELD}"`)) return undefined;
  try {
    const value = JSON.parse(body) as Record<string, unknown>;
    const id = value[JOB_MESSAGE_FIELD];
    // A job id is a UUID; a message naming anything else is no job of ours.
    return Object.keys(value).length === 1 && typeof id === 'string' && JOB_ID_PATTERN.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
