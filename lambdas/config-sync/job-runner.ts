/**
 * One slice of a node's job (jobs.ts), run by the node's apply function until `deadline`:
 * picks up at the job's checkpoint, saves it after every page, and says whether another slice
 * is needed. A GeoServer that cannot be reached (`GeoServerUnavailableError`) or a failure that
 * passes by itself (throttling, a timeout, a 5xx of AWS: `isTransientFailure`) is thrown out of
 * the slice, whose message is delivered again after the same backoff as events and resumes
 * from the last checkpoint; any other error fails the job, so a job never blocks the node's
 * queue. A resync that fails after its copy began leaves the node held (see `bootstrapStep`).
 */
import { catchUpReporting, isTransientFailure, MAX_APPLY_ATTEMPTS, type AppliedEvent, type ApplyDeps } from './apply';
import { isResourceType, isStoreType, objectStorageKey, RESOURCE_OF, RESOURCE_TYPES, splitObjectId, type ConfigChange, type ObjectRef, type ObjectType } from './events';
import { REST_MAPPING } from './geoserver/rest-mapping';
import { applyToGeoServer, type GeoServerApplyOptions, type GeoServerOutcome } from './geoserver/apply';
import {
  comparePage,
  fixOrder,
  GeoServerReader,
  dependencyRank,
  heldGroupNames,
  heldInAnotherWorkspace,
  holdsOneOf,
  idsNamedBy,
  innerGroupsFirst,
  objectDifferences,
  outerGroupsFirst,
  storeOfAnotherWorkspace,
  withHeldGroupsWithin,
  type CompareMode,
  type DriftEntry,
  type FixEntry,
  type ListedObject,
} from './geoserver/drift';
import { Liveness, parentsOf } from './liveness';
import { layerGroupEntries, localName, referencedName } from './representations';
import { GeoServerUnavailableError } from './geoserver/errors';
import type { GeoServerRest } from './geoserver/ports';
import { GatewayBusyError, UNSERIALIZED, WriteLeaseLostError, type LeaseHold, type WriteSerializer } from './gateway/write-lease';
import { assertNotHeldByResync, isFinal, MAX_JOB_FAILURES, STALE_AFTER_MS, type Job, type JobFailure, type JobProgress, type JobStore } from './jobs';
import { isJsonObject, wholeStatePatch, type JsonObject, type JsonValue } from './merge-patch';
import { NodePausedError } from './pause';
import { eventsBetween, parkedEventsText, type NodeStore, type ParkedObject, type StoredObject } from './ports';
import { mapConcurrently } from '../shared/concurrency';
import { withoutArns } from '../shared/errors';

export interface JobRunnerDeps {
  readonly cluster: string;
  readonly store: NodeStore;
  readonly jobs: JobStore;
  /** For a resync: the store, the log and the event bodies. */
  readonly apply: ApplyDeps;
  /** The node's GeoServer; absent for a node without one. */
  readonly rest?: GeoServerRest;
  readonly compareMode: CompareMode;
  /**
   * Publishes a change as the node's (capture); absent where the node cannot publish. Refuses
   * it with `NodePausedError`, nothing stored, while the node is paused (publish.ts, `pauses`).
   */
  readonly publish?: (change: ConfigChange) => Promise<number>;
  /**
   * The cluster's write lease, shared with the GeoServer REST gateway (gateway/write-lease.ts): a
   * capture reads and publishes each difference under it, so a gateway write cannot land between
   * the capture's read of an object and its publish. A reconcile fixes each batch under it too
   * (`reconcileStep`), and writes back the layer groups a removal with recurse changed
   * (`writeBackGroups`), so a gateway write is never undone by a fix read before it. A resync
   * takes its hold of the node under it (`bootstrapStep`), which a gateway write reads again
   * under it before forwarding. The apply function's leaves the lease to the gateway's sweep
   * between two takes while the sweep's mark asks for it (write-lease.ts `yieldsToRecovery`,
   * gateway/sweep.ts): a take it waits out ends the step as behind any holder (GatewayBusyError),
   * the next step going on from there. @default none (a cluster without the gateway)
   */
  readonly writes?: WriteSerializer;
  readonly now: () => Date;
  /**
   * Told the events a resync's catch-up applied, each with what the node's GeoServer made of it
   * (a change it refused is parked): for the apply function to report as it reports a batch's
   * (the GeoServer's status for GET /nodes, the metrics).
   */
  readonly onApplied?: (applied: readonly AppliedEvent[]) => void;
  /**
   * Told each change the node's GeoServer refused a reconcile's fix (a resync's closing
   * reconcile's too), every one of them, not only the first `MAX_JOB_FAILURES` the job records:
   * for the apply function to count as it counts the events its GeoServer refused (the metrics).
   */
  readonly onRejected?: (rejected: readonly GeoServerRejection[]) => void;
  /** Told the error a job failed with, whole, for the function's log (the job records it without AWS resource names). */
  readonly onFailure?: (error: unknown) => void;
  /** Store objects compared per page (and per checkpoint). @default 100 */
  readonly pageSize?: number;
  /** Parallel REST calls. @default 8 */
  readonly concurrency?: number;
}

/** A change the node's GeoServer refused (geoserver/apply.ts). */
export type GeoServerRejection = Extract<GeoServerOutcome, { readonly kind: 'rejected' }>;

export type SliceOutcome = 'more' | 'done' | 'superseded' | 'not-found';

/**
 * Slices of a job in a row that may die (their invocation timed out or crashed midway, so never
 * saved how they ended) without finishing a step, before the job is ended failed.
 */
export const MAX_DEAD_SLICES = 3;

export async function runJobSlice(deps: JobRunnerDeps, node: string, id: string, deadline: number): Promise<SliceOutcome> {
  let job = await deps.jobs.read(node, id);
  if (!job) return 'not-found';
  if (isFinal(job.state)) return 'done';
  // A slice that began and never saved how it ended died midway (its invocation timed out or
  // crashed). Each slice saves the job as it begins, so a job whose step never fits in a slice
  // would never go stale, and its message, re-delivered for ever in the node's FIFO message group,
  // would hold the node's events back for good: after MAX_DEAD_SLICES such slices in a row
  // without a step finished, the job is ended (below).
  const dead = job.checkpoint.sliceOpen === true ? (job.checkpoint.deadSlices ?? 0) + 1 : 0;
  /** Slices in a row that died without finishing a step, as this slice saves it: reset by its first step. */
  let deadSlices = dead;
  /** The job as last saved. */
  let saved: Job = job;
  const save = async (next: Job, open = true): Promise<boolean> => {
    const { sliceOpen: _open, deadSlices: _dead, ...checkpoint } = next.checkpoint;
    job = { ...next, checkpoint: { ...checkpoint, ...(open ? { sliceOpen: true } : {}), ...(deadSlices > 0 ? { deadSlices } : {}) }, updatedAt: deps.now().toISOString() };
    const outcome = await deps.jobs.save(job);
    if (outcome === 'saved') saved = job;
    // A resync no longer the node's job (finished by another slice of it running beside this one,
    // or replaced) gives back a hold this slice took before the copy began (one that lapses by
    // itself, in `STALE_AFTER_MS`: meanwhile the node would apply nothing). One taken by another
    // job, or marking a half-copied store, stays (`releaseResyncHold`).
    else if (next.kind === 'resync') await deps.store.releaseResyncHold(node, id);
    return outcome === 'saved';
  };
  if (!(await save({ ...job, state: 'running', slices: job.slices + 1 }))) return 'superseded';
  if (job.slices === 1) await deps.jobs.pruneDifferences(node, id).catch(() => undefined);

  try {
    if (dead >= MAX_DEAD_SLICES) {
      throw new Error(
        `its ${job.phase} phase did not finish a step in ${dead} slices in a row (each ended midway, by its function's timeout or a crash, ` +
          `without saving why): the job is ended so that the node's queue goes on; the function's log has each slice's start`,
      );
    }
    // A capture or reconcile compares the GeoServer with the node's store, which a resync holding
    // the node has half-copied (jobs.ts, `refusedWhileHeld`): checked as every slice begins, as
    // the check at the job's start does not cover one that waited behind a resync (`follow`)
    // which then failed part way, its final save handing this job the node.
    await assertNotHeldByResync(deps, node, job.kind, deps.now());
    // At least one step per slice, so every slice moves the job on.
    const cache: SliceCache = {};
    let closing: boolean;
    do {
      const current: Job = job;
      let step: Job;
      try {
        step = await runStep(deps, current, cache, deadline);
      } catch (error) {
        // A step that failed after committing part of its work: that part is recorded before the
        // failure is dealt with (the slice thrown out, or the job failed, as for any step).
        if (!(error instanceof StepFailedPartWay)) throw error;
        deadSlices = 0;
        if (!(await save(error.progressed))) return 'superseded';
        throw error.error;
      }
      deadSlices = 0;
      // The slice's last step saves that the slice ended: the next slice is no death's redelivery.
      closing = Date.now() >= deadline;
      if (!(await save(step, !closing))) return 'superseded';
      // A step that ended the job (a capture whose node was paused) recorded why.
      if (isFinal(step.state)) return 'done';
      if (step.phase === 'done') {
        const finished: Job = { ...step, state: 'succeeded', finishedAt: deps.now().toISOString() };
        return (await save(finished, false)) ? 'done' : 'superseded';
      }
    } while (!closing);
    return 'more';
  } catch (error) {
    if (error instanceof GeoServerUnavailableError || isTransientFailure(error)) {
      // Ended, not died (a GeoServer that is down, a store throttled): delivered again after the
      // backoff, however many times, without counting against the job. Best effort: a slice
      // whose save fails too counts as one that died.
      await save(saved, false).catch(() => undefined);
      throw error;
    }
    deps.onFailure?.(error);
    const failed: Job = {
      ...job,
      state: 'failed',
      finishedAt: deps.now().toISOString(),
      // Read by GET /nodes and the job's route: AWS resource names left out (onFailure logs the whole error).
      error: withoutArns(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
    };
    if (!(await save(failed, false))) return 'superseded';
    // A resync that failed before its copy began gives its node back at once (the hold would
    // lapse in any case), once its failure is recorded: a slice whose save fails is delivered
    // again and goes on under the hold. One that failed after its copy began leaves the store
    // half-copied, and the node held until a resync finishes (GET /nodes shows `resync` with
    // `storeIncomplete` and the request that resumes it): its objects are partly the snapshot's
    // (a GeoServer never got the copied ones) and the log after its old cursor may be gone
    // (often why it was resynced), so events applied from the old cursor would not make it whole.
    if (job.kind === 'resync') await deps.store.releaseResyncHold(node, id);
    return 'done';
  }
}

/**
 * Thrown by a step that failed after committing part of its work (a resync's catch-up, the
 * events it applied before the failure): `progressed` is the job with that part recorded, which
 * the slice saves before it deals with `error` as with any step's failure.
 */
class StepFailedPartWay {
  constructor(
    readonly progressed: Job,
    readonly error: unknown,
  ) {}
}

/**
 * What the steps of one slice share: the differences to fix, read from the job store once per
 * slice rather than once per step (they do not change during the fix phase).
 */
interface SliceCache {
  fixes?: DriftEntry[];
}

/**
 * One page of work (a page of store objects, a step of the GeoServer's listing, or one batch of fixes):
 * returns the job with its progress and checkpoint moved on. The slice saves it after every
 * step, so a slice that dies loses at most one step's work, which its redelivery redoes.
 */
async function runStep(deps: JobRunnerDeps, job: Job, cache: SliceCache, deadline: number): Promise<Job> {
  const progress = (changes: Partial<JobProgress>): JobProgress => ({ ...job.progress, ...changes });
  switch (job.phase) {
    case 'bootstrap':
      return bootstrapStep(deps, job);
    case 'scan-store': {
      const rest = requireRest(deps, job);
      const reader = new GeoServerReader(rest);
      const held = new Set(await reader.names('/workspaces'));
      const liveness = new Liveness((refs) => deps.store.readObjects(job.node, refs));
      const page = await deps.store.listObjects(job.node, { limit: deps.pageSize ?? 100, ...(job.checkpoint.after ? { after: job.checkpoint.after } : {}) });
      const alive = await liveness.live(page.objects);
      const live = page.objects.filter((_, index) => alive[index]);
      const entries = await comparePage(reader, live, held, deps.compareMode, deps.concurrency ?? 8);
      const chunks = job.checkpoint.chunks ?? 0;
      if (entries.length > 0) await deps.jobs.putDifferences(job.node, job.id, chunks, entries);
      const last = page.objects[page.objects.length - 1];
      return {
        ...job,
        phase: page.next === undefined ? 'scan-geoserver' : 'scan-store',
        checkpoint: { ...(last ? { after: page.next ?? objectStorageKey(last) } : {}), chunks: entries.length > 0 ? chunks + 1 : chunks },
        progress: progress({
          compared: job.progress.compared + live.length,
          missing: job.progress.missing + entries.filter((entry) => entry.kind === 'missing').length,
          different: job.progress.different + entries.filter((entry) => entry.kind === 'different').length,
          restCalls: job.progress.restCalls + reader.calls,
        }),
      };
    }
    case 'scan-geoserver': {
      const rest = requireRest(deps, job);
      const reader = new GeoServerReader(rest);
      const concurrency = deps.concurrency ?? 8;
      // The catalog listed a step at a time (`listCatalog`), each within the slice's time, and what
      // it listed compared with the store as it goes: a catalog too large (or a GeoServer too slow)
      // for one invocation is listed across slices, the listing going on where the last saved step left it.
      // Each extra layer group is read too (for the groups it holds), as many calls again as the
      // GeoServer holds groups the store lacks: bounded like the listing, what a step could not
      // read is carried to the next (`extrasLeft`), which reads it before it lists more.
      const stepCalls = concurrency * LISTING_STEP_ROUNDS;
      const carried = job.checkpoint.extrasLeft ?? [];
      let listingDone = job.checkpoint.listingDone === true;
      let listing = job.checkpoint.listing;
      let found: readonly DriftEntry[] = carried;
      if (carried.length === 0) {
        const listed = await reader.listCatalog(listing, { concurrency, calls: stepCalls, until: deadline });
        found = await extraObjects(deps.store, job.node, listed.objects);
        listing = listed.next;
        listingDone = listed.next === undefined;
      }
      const { done: extras, left } = await withHeldGroupsWithin(reader, found, { concurrency, calls: stepCalls, until: deadline, progress: carried.length > 0 });
      let chunks = job.checkpoint.chunks ?? 0;
      for (let i = 0; i < extras.length; i += 500) {
        await deps.jobs.putDifferences(job.node, job.id, chunks, extras.slice(i, i + 500));
        chunks += 1;
      }
      const extra = job.progress.extra + extras.length;
      const restCalls = job.progress.restCalls + reader.calls;
      if (left.length > 0 || !listingDone) {
        const checkpoint = { chunks, ...(listing === undefined ? {} : { listing }), ...(left.length > 0 ? { extrasLeft: left } : {}), ...(listingDone ? { listingDone: true as const } : {}) };
        return { ...job, checkpoint, progress: progress({ extra, restCalls }) };
      }
      // A capture notes the log's head once its scan has compared everything (`JobCheckpoint.scanHead`):
      // an event below it may have come before a difference was found, never one above it.
      const scanHead = job.kind === 'capture' ? await deps.apply.log.head(deps.cluster) : undefined;
      const fixes = job.kind === 'reconcile' || job.kind === 'resync' || job.kind === 'capture';
      const total = job.progress.missing + job.progress.different + extra;
      return {
        ...job,
        // A capture with no difference still publishes again the groups a stopped capture's cascade left (`PENDING_REGROUPS`).
        phase: fixes && (total > 0 || job.kind === 'capture') ? 'fix' : 'done',
        checkpoint: { chunks, index: 0, ...(scanHead === undefined ? {} : { scanHead }) },
        progress: progress({ extra, toFix: fixes ? total : null, restCalls }),
      };
    }
    case 'fix':
      return job.kind === 'capture' ? captureStep(deps, job, cache) : reconcileStep(deps, job, cache);
    case 'done':
      return job;
  }
}

/**
 * Rounds of `concurrency` listing calls a step of the `scan-geoserver` phase makes (about: it ends
 * sooner at the slice's deadline): its checkpoint saved that often, a slice that dies loses that many.
 */
const LISTING_STEP_ROUNDS = 8;

/**
 * Events a resync's catch-up applies per step (and per checkpoint: the node's cursor is one).
 * Fewer on a GeoServer node, where each event is a REST call or more: a step is not cut by the
 * slice's deadline, so it must end well within the invocation's time left after it.
 */
const CATCH_UP_STEP = 1000;
const GEOSERVER_CATCH_UP_STEP = 100;

/**
 * A resync's bootstrap, one step at a time: the store replaced with the source's snapshot as
 * `NodeStore.replaceWithSnapshot` does it, in pages a checkpoint follows, then the log after
 * the snapshot applied. The snapshot's sequence is the source's cursor read before its first
 * object (objects read later may be newer, which the log's replay skips, as for any snapshot).
 * While the copy runs, the node is held (`HELD_CURSOR`): the events its queue delivers between
 * slices are acknowledged without being applied, and the catch-up applies them from the log.
 * Every step is idempotent (a copy writes the same or an older version only, a prune deletes
 * only what the snapshot does not hold and no later event wrote), so a step redone after a
 * crash changes nothing more. The hold is taken under the cluster's write lease (`JobRunnerDeps.writes`),
 * under which a gateway write reads it again before forwarding: no gateway write reaches a master's
 * GeoServer once its hold is taken. The hold is renewed by every step; before the copy writes it
 * lapses `STALE_AFTER_MS` after the last, when the job may be replaced. From the copy's first
 * write until `finish`, the store is incomplete and the hold does not lapse, whatever becomes of the
 * job (failed, or stopped with its messages lost): the node applies nothing until a resync
 * finishes, which `POST /nodes/{node}/resync` starts (a failed job at once, a stopped one once
 * it is stale). Its copy writes over the half-copied store as over any other.
 */
async function bootstrapStep(deps: JobRunnerDeps, job: Job): Promise<Job> {
  const source = job.source;
  if (!source) throw new Error('a resync job names no source');
  const node = job.node;
  const limit = deps.pageSize ?? 100;
  const { step, sequence = 0, after, parked: carried } = job.checkpoint;
  /** The source's parking records, carried from step to step until `finish` gives them to the node. */
  const withCarried = carried === undefined ? {} : { parked: carried };
  const hold = (copying: boolean) => deps.store.holdForResync(node, job.id, Date.now() + STALE_AFTER_MS, copying);
  // The copy's steps renew the hold only while it is this job's (`NodeStore.renewResyncHold`): a
  // slice running late beside another of the job (two requests resyncing a pure master at once)
  // whose other slice has finished the resync would otherwise hold the node again, its store
  // marked incomplete and applying nothing, after a resync that succeeded. It stops instead.
  const renew = async (copying: boolean): Promise<void> => {
    if (!(await deps.store.renewResyncHold(node, job.id, Date.now() + STALE_AFTER_MS, copying))) {
      throw new Error(`resync job ${job.id} no longer holds node ${node}: another slice of it finished or failed it, or another resync took the node; this slice stops`);
    }
  };
  // Taken under the cluster's write lease (a master's, shared with the gateway), which a gateway
  // write holds from before it reads the hold again until its changes are in the log: a write is
  // then either refused by the hold or wholly before it, never forwarded to the GeoServer once the
  // copy may have begun. Renewals need not be: the hold is already there. Another holder past the
  // wait leaves the step where it is, for the next one.
  const takeHold = async (take: () => Promise<void>): Promise<boolean> => {
    try {
      await (deps.writes ?? UNSERIALIZED).run(take);
      return true;
    } catch (error) {
      if (error instanceof GatewayBusyError) return false;
      throw error;
    }
  };
  switch (step) {
    case undefined: {
      const taken = await deps.store.readProgress(source);
      if (taken.heldBy !== undefined) {
        throw new Error(`source node ${source} is being resynced itself (job ${taken.heldBy}): its store is incomplete until that job ends`);
      }
      const parked = await carriedParking(deps.store, source, node, taken.cursor);
      if (!(await takeHold(() => hold(false)))) return job;
      return {
        ...job,
        checkpoint: { step: 'copy', sequence: taken.cursor, ...(parked.length > 0 ? { parked } : {}) },
        progress: { ...job.progress, copied: 0 },
      };
    }
    case 'copy': {
      const page = await deps.store.listObjects(source, { limit, includeDeleted: true, ...(after === undefined ? {} : { after }) });
      // From the first write on, the store is incomplete until `finish`. The first page's is taken
      // under the lease too: a job that saved nothing for `STALE_AFTER_MS` since its hold was taken
      // finds it lapsed, and takes it again here.
      if (after === undefined) {
        if (!(await takeHold(() => renew(page.objects.length > 0)))) return job;
      } else {
        await renew(page.objects.length > 0);
      }
      await deps.store.putSnapshotObjects(node, page.objects);
      return {
        ...job,
        checkpoint: page.next === undefined ? { step: 'prune', sequence, ...withCarried } : { step: 'copy', sequence, after: page.next, ...withCarried },
        progress: { ...job.progress, copied: (job.progress.copied ?? 0) + page.objects.length },
      };
    }
    case 'prune': {
      await renew(true);
      const page = await deps.store.listObjects(node, { limit, includeDeleted: true, ...(after === undefined ? {} : { after }) });
      const inSnapshot = new Set((await deps.store.readObjects(source, page.objects)).map(objectStorageKey));
      await deps.store.removeUnlessNewer(node, page.objects.filter((object) => !inSnapshot.has(objectStorageKey(object))), sequence);
      return {
        ...job,
        checkpoint: page.next === undefined ? { step: 'finish', sequence, ...withCarried } : { step: 'prune', sequence, after: page.next, ...withCarried },
      };
    }
    case 'finish':
      await deps.store.finishSnapshot(node, sequence, carried ?? []);
      return { ...job, checkpoint: { step: 'catch-up', sequence, applied: 0 } };
    case 'catch-up': {
      const head = await deps.apply.log.head(deps.cluster);
      const cursor = await deps.store.readCursor(node);
      const result = await catchUpReporting(deps.apply, { cluster: deps.cluster, node }, Math.min(head, cursor + (deps.rest ? GEOSERVER_CATCH_UP_STEP : CATCH_UP_STEP)));
      // What a step applied is reported and counted however it ended: a failure part way leaves
      // the events before it committed, as a batch's failure does.
      deps.onApplied?.(result.applied);
      const applied = (job.checkpoint.applied ?? 0) + result.applied.length;
      // Where the store stands, shown as the catch-up goes (and where it stopped, if it fails).
      const resync = { snapshotSequence: sequence, cursor: result.cursor, appliedFromLog: applied };
      if (result.failure) {
        // An event the node cannot apply, counted by the applier (its failure recorded against
        // the event after the cursor) and not parked yet: the next step tries it again, and the
        // applier parks it at its `MAX_APPLY_ATTEMPTS`th failure and goes on, as the queue's
        // retries would. Failing the job here would end the resync (on a GeoServer node, before
        // its reconcile) over an event that every other path parks.
        if (!isTransientFailure(result.failure.error)) {
          const { failing } = await deps.store.readProgress(node);
          if (failing !== undefined && failing.sequence === result.cursor + 1 && failing.attempts < MAX_APPLY_ATTEMPTS) {
            return { ...job, checkpoint: { step: 'catch-up', sequence, applied }, resync };
          }
        }
        throw new StepFailedPartWay({ ...job, checkpoint: { step: 'catch-up', sequence, applied }, resync }, result.failure.error);
      }
      if (result.cursor < head) return { ...job, checkpoint: { step: 'catch-up', sequence, applied }, resync };
      return { ...job, phase: deps.rest ? 'scan-store' : 'done', checkpoint: {}, resync };
    }
  }
}

/** The source's parking records a resync carries at most (in its checkpoint, a store item of 400 KB). */
const CARRIED_PARKED_RECORDS = 100;
const CARRIED_PARKED_SEQUENCES = 5000;

/**
 * The source's parking records that a resync from it gives the node with its snapshot at
 * `snapshot` (the source's cursor, read first), or an error refusing the resync.
 *
 * An object with parked events is not as of the snapshot: the source holds it as it was before
 * its first parked event, and every later event of it is in the record. Its objects alone would
 * make the node lose those events for good, so the records come with them, cut to the snapshot
 * (sequences above it are the catch-up's, which joins them to the record as the source's applier
 * did). The node then holds exactly the source's state as of the snapshot, parked events
 * included, and a redrive of the node retries them there. Read after the cursor, every record of
 * an event at or below it is seen (a park moves the cursor in the same commit); read before the
 * first object, a redrive of the source in between leaves the node a record of events its copied
 * object holds already, which the node's redrive finds stale and clears.
 *
 * Refused when the node applied such an event itself (its cursor at or past the record's first
 * event, and no record of its own starting there): it would give up a change it holds for a
 * parked one. Such an event is parked on the source only; redrive the source, or resync from
 * another node. A node that has that event parked too (an event every node parks, such as a
 * patch growing its object past the bound), a node not that far yet (a new one), or a node whose
 * store a resync left incomplete loses nothing: the event stays parked, as on the source.
 */
async function carriedParking(store: NodeStore, source: string, node: string, snapshot: number): Promise<ParkedObject[]> {
  const records = (await store.listParked(source)).flatMap((record) => {
    const cut = cutToSnapshot(record, snapshot);
    return cut === undefined ? [] : [cut];
  });
  if (records.length === 0) return [];
  const named = (list: readonly ParkedObject[]) =>
    list
      .slice(0, 5)
      .map((record) => `${record.object ? objectStorageKey(record.object) : record.key} (${parkedEventsText(record, 5)})`)
      .join('; ') + (list.length > 5 ? ` and ${list.length - 5} more` : '');
  const sequences = records.reduce((sum, record) => sum + record.sequences.length, 0);
  if (records.length > CARRIED_PARKED_RECORDS || sequences > CARRIED_PARKED_SEQUENCES) {
    throw new Error(
      `source node ${source} holds more parked events than a resync carries to ${node} (${records.length} records, ${sequences} listed events; at most ${CARRIED_PARKED_RECORDS} and ${CARRIED_PARKED_SEQUENCES}): ${named(records)}. Redrive ${source} first, or resync from another node`,
    );
  }
  const target = await store.readProgress(node);
  if (target.storeIncomplete === true) return records;
  const own = new Map((await store.listParked(node)).map((record) => [record.key, firstParked(record)]));
  const appliedHere = records.filter((record) => {
    const first = firstParked(record);
    return target.cursor >= first && own.get(record.key) !== first;
  });
  if (appliedHere.length > 0) {
    throw new Error(
      `source node ${source} holds parked events that ${node} applied, which its snapshot would replace with parked ones: ${named(appliedHere)}. Redrive ${source} first, or resync from another node`,
    );
  }
  return records;
}

/** The first event a parking record holds back. */
function firstParked(record: ParkedObject): number {
  return record.sequences[0] ?? record.overflow?.from ?? 0;
}

/** A parking record as of sequence `snapshot`: its events above it left out; undefined when none is left. */
function cutToSnapshot(record: ParkedObject, snapshot: number): ParkedObject | undefined {
  const sequences = record.sequences.filter((sequence) => sequence <= snapshot);
  const overflow =
    record.overflow === undefined || record.overflow.from > snapshot ? undefined : { from: record.overflow.from, through: Math.min(record.overflow.through, snapshot) };
  if (sequences.length === 0 && overflow === undefined) return undefined;
  const { overflow: _overflow, ...rest } = record;
  return { ...rest, sequences, ...(overflow === undefined ? {} : { overflow }) };
}

/**
 * Extras: what the GeoServer lists that the store does not hold live. The namespace GeoServer
 * creates with each workspace and the layer it creates with each resource are not extras when
 * the store holds the workspace or the resource (a master may publish only the workspace).
 */
async function extraObjects(store: NodeStore, node: string, refs: readonly ListedObject[]): Promise<DriftEntry[]> {
  const liveness = new Liveness((chunk) => store.readObjects(node, chunk));
  const extras: DriftEntry[] = [];
  const heldLive = new Set<string>();
  const candidates: { ref: ListedObject; implied: ObjectRef[] }[] = [];
  for (let i = 0; i < refs.length; i += 100) {
    const chunk = refs.slice(i, i + 100);
    const found = new Map((await store.readObjects(node, chunk)).map((object) => [objectStorageKey(object), object]));
    const stored = chunk.map((ref) => found.get(objectStorageKey(ref)));
    const present = stored.filter((object): object is StoredObject => object !== undefined);
    const alive = await liveness.live(present);
    present.forEach((object, index) => {
      if (alive[index]) heldLive.add(objectStorageKey(object));
    });
    for (const ref of chunk) {
      if (heldLive.has(objectStorageKey(ref))) continue;
      candidates.push({ ref, implied: impliedBy(ref) });
    }
  }
  const impliedRefs = candidates.flatMap((candidate) => candidate.implied.filter((ref) => !heldLive.has(objectStorageKey(ref))));
  for (let i = 0; i < impliedRefs.length; i += 100) {
    const chunk = impliedRefs.slice(i, i + 100);
    const present = await store.readObjects(node, chunk);
    const alive = await liveness.live(present);
    present.forEach((object, index) => {
      if (alive[index]) heldLive.add(objectStorageKey(object));
    });
  }
  for (const { ref, implied } of candidates) {
    if (implied.some((parent) => heldLive.has(objectStorageKey(parent)))) continue;
    extras.push({ kind: 'extra', type: ref.type, id: ref.id, ...(ref.store === undefined ? {} : { store: ref.store }) } as DriftEntry);
  }
  return extras;
}

/**
 * An object with the one GeoServer shares its `enabled` and `advertised` with: a layer's resource
 * (of any resource type: the layer's id is its resource's), a resource's layer.
 */
function withFlagPartner(ref: ObjectRef): ObjectRef[] {
  if (ref.type === 'layer') return [ref, ...RESOURCE_TYPES.map((type) => ({ type, id: ref.id }) as ObjectRef)];
  if (isResourceType(ref.type)) return [ref, { type: 'layer', id: ref.id } as ObjectRef];
  return [ref];
}

/** What GeoServer creates an object alongside: a workspace's namespace, a resource's layer (same id, any resource type). */
function impliedBy(ref: ObjectRef): ObjectRef[] {
  if (ref.type === 'namespace') return [{ type: 'workspace', id: ref.id } as ObjectRef];
  if (ref.type === 'layer') return RESOURCE_TYPES.map((type) => ({ type, id: ref.id }) as ObjectRef);
  return [];
}

/** The differences to fix, in the order they are made good, loaded once per slice. */
async function loadFixes(deps: JobRunnerDeps, job: Job, cache: SliceCache, order: (entries: DriftEntry[]) => DriftEntry[]): Promise<DriftEntry[]> {
  cache.fixes ??= order(await deps.jobs.readDifferences(job.node, job.id));
  return cache.fixes;
}

/**
 * How a job sends each fix: tried once (a refused fix is reported unfixed and the job goes on; the
 * next reconcile tries it again), and a fix the GeoServer does not answer in time while it answers
 * `GET /about/version` is reported so too, rather than ending the slice as a GeoServer that is
 * down, which redelivered it for as long as that one change kept the GeoServer busy.
 */
const JOB_FIX_OPTIONS: GeoServerApplyOptions = { rejectionAttempts: 1, timedOutAsRejected: true };

/** Differences fixed per step (one checkpoint each): consecutive entries of one type and kind, fixed in parallel. */
const FIX_BATCH = 100;
/**
 * Differences fixed per step on a master (under the cluster's write lease, `JobRunnerDeps.writes`):
 * one round of parallel calls, so gateway writes wait at most that long for the lease.
 */
const LEASED_FIX_BATCH = 8;
/**
 * What each GeoServer call of a master's reconcile or capture under the cluster's write lease (and each publish of a capture) asks the lease
 * to last for before it is sent (`LeaseHold.keep`, renewing it when less is left): the call's own
 * bound (its client's timeout, 10 s, adapters/geoserver-http.ts) and room for the clocks of two
 * instances to differ. A batch's fixes and the layer groups a cascade changed are written back
 * in calls one after another for longer than the lease's time to live (gateway/limits.ts
 * `LEASE_TTL_MS`) may cover on the apply function, whose timeout is longer: kept so, the lease
 * never ends while a call made under it runs. A lease taken over meanwhile (the holder outlived
 * it between two calls) stops the step as transient, nothing more sent under it: the slice is
 * delivered again and redoes the step from its checkpoint under a lease of its own.
 */
export const LEASED_CALL_MS = 15_000;

/** `rest` for calls under the write lease: each keeps the lease for `LEASED_CALL_MS` before it is sent. */
function leasedRest(rest: GeoServerRest, hold: LeaseHold): GeoServerRest {
  return {
    url: rest.url,
    async send(request) {
      await hold.keep(LEASED_CALL_MS);
      return rest.send(request);
    },
  };
}
/** Differences captured per step: each is read again and published one at a time. */
const CAPTURE_BATCH = 20;

/**
 * Reconcile: the GeoServer made equal to the store. Missing and different objects are sent
 * whole from the store (the apply's idempotent PUT, or POST when absent), in dependency order,
 * objects of one type in parallel; a missing resource the GeoServer holds under another store of
 * its workspace is moved from there (`DriftEntry.store`); extras are deleted deepest first,
 * without `recurse`, so a delete never takes anything the store holds with it (GeoServer refuses it instead, and the
 * job records that). An extra layer group goes before the groups it holds, never in one batch
 * with a group holding it (GeoServer refuses to remove a group another group holds); a missing or
 * different one after the missing and different groups it holds, never in one batch with them
 * (GeoServer drops an entry naming a group it lacks). An extra holding the id of a missing store
 * or resource of another type is removed before that one's add, alone (`fixOrder`, `FixEntry`):
 * a store with `recurse` where it still holds resources, unless one is stated under another store
 * (`blockingStoreRemoval`); a resource after its layer, removed with `recurse`; the stated groups
 * those cascades changed are written back after the layers (`writeBackGroups`).
 *
 * On a master the gateway writes to, its GeoServer takes a write before the write is published,
 * and its store applies its own events without sending them back (apply.ts, "Own events"): a fix
 * made from a store that lacks such a write would undo it on the master's GeoServer for good (a
 * resync's closing reconcile runs once the hold has ended, while the gateway writes). So each batch
 * is fixed under the cluster's write lease, as a capture publishes (`JobRunnerDeps.writes`), with
 * the store read again under it, extras too: an extra the store now holds live is kept, and an
 * object one of the node's own events not yet applied names (`ownEventsNotApplied`) is left as is.
 *
 * An upload into a store through the gateway makes objects on the master's GeoServer that no
 * event names until the capture it asked for publishes them (gateway.ts). The upload is forwarded
 * and its capture asked for under the same lease, and a capture asked for while this job runs
 * waits to follow it (jobs.ts, `follow`): so a batch that finds, under the lease, a capture
 * waiting to follow this job removes no extra (they may be the upload's), and one that finds none
 * runs wholly before any such upload. The capture then publishes what the reconcile left, as the
 * master's GeoServer holds it: an upload is never undone by a reconcile that ran before its capture.
 */
async function reconcileStep(deps: JobRunnerDeps, job: Job, cache: SliceCache): Promise<Job> {
  const rest = requireRest(deps, job);
  const entries: readonly FixEntry[] = await loadFixes(deps, job, cache, fixOrder);
  let index = job.checkpoint.index ?? 0;
  let { fixed, failed, restCalls } = job.progress;
  const failures: JobFailure[] = [...job.failures];
  if (index < entries.length && entries[index]!.regroups !== undefined) {
    // The stated groups the cascade of a blocking extra's removal changed, written back under the
    // cluster's write lease, as each batch is fixed: what they are written back as is read under it.
    let written: Awaited<ReturnType<typeof writeBackGroups>>;
    try {
      written = await (deps.writes ?? UNSERIALIZED).run((hold) => writeBackGroups(deps, job.node, rest, entries, entries[index]!, hold));
    } catch (error) {
      if (!(error instanceof GatewayBusyError)) throw error;
      // Gateway writes hold the lease: these groups again next step.
      return job;
    }
    restCalls += written.calls;
    for (const rejection of written.rejected) {
      failed += 1;
      if (failures.length < MAX_JOB_FAILURES) failures.push({ type: 'layerGroup', id: rejection.id, message: rejection.message } as JobFailure);
    }
    if (written.rejected.length > 0) deps.onRejected?.(written.rejected.map(({ outcome }) => outcome));
    // Left as the master holds them while gateway writes are unpublished: unfixed, each said so.
    for (const withheld of written.withheld) {
      failed += 1;
      if (failures.length < MAX_JOB_FAILURES) failures.push({ type: 'layerGroup', id: withheld.id, message: withheld.message } as JobFailure);
    }
    index += 1;
  } else if (index < entries.length) {
    // One batch: consecutive entries of one type and kind (independent of each other); a blocking
    // extra's removal, or what follows from it (`FixEntry`), alone.
    const first = entries[index]!;
    const alone = (entry: FixEntry) => entry.blocking !== undefined || entry.implied !== undefined;
    let end = index;
    // A layer group is never removed alongside one holding it (GeoServer refuses it until that one
    // is gone), nor added or written alongside one it holds (GeoServer refuses it until that one is there).
    const heldInBatch = (entry: DriftEntry) =>
      entries.slice(index, end).some((other) => (entry.kind === 'extra' ? holdsOneOf(other, new Set([entry.id])) : holdsOneOf(entry, new Set([other.id]))));
    while (
      end < entries.length &&
      (end === index || (!alone(first) && !alone(entries[end]!))) &&
      end - index < (deps.writes ? LEASED_FIX_BATCH : FIX_BATCH) &&
      entries[end]!.type === first.type &&
      (entries[end]!.kind === 'extra') === (first.kind === 'extra') &&
      !heldInBatch(entries[end]!)
    ) {
      end += 1;
    }
    const batch = entries.slice(index, end);
    // A missing resource the GeoServer holds under a store of another workspace: not fixable here.
    const unfixable = new Map<DriftEntry, string>();
    // Left alone while gateway writes the master took are unpublished: why, by entry.
    const withheld = new Map<DriftEntry, string>();
    // Under the cluster's write lease (a master's, shared with the gateway): a gateway write is
    // either wholly before the batch (on the GeoServer, its events in the log) or wholly after it.
    // What the store is read as, and the node's own events it has not applied yet, are read under
    // it: an object a gateway write changed since the scan is left as that write made it.
    let outcomes: (GeoServerOutcome | undefined)[];
    try {
      outcomes = await (deps.writes ?? UNSERIALIZED).run(async (hold) => {
        // An extra is read with what would make it no extra (`impliedBy`), as the scan read it.
        const refs: ObjectRef[] = batch.flatMap((entry) => (entry.kind === 'extra' ? [entry, ...impliedBy(entry)] : [entry]));
        const read = await deps.store.readObjects(job.node, refs);
        const alive = await new Liveness((chunk) => deps.store.readObjects(job.node, chunk)).live(read);
        const stored = new Map(read.map((object) => [objectStorageKey(object), object] as const));
        const live = new Set(read.filter((_, at) => alive[at]).map(objectStorageKey));
        const pending = await ownEventsNotApplied(deps, job.node, refs);
        const written = (ref: ObjectRef) => pending.has(objectStorageKey(ref));
        // A capture waiting to follow this job (an upload's through the gateway, asked for under
        // the lease the upload was forwarded under): what the upload made is on the GeoServer and
        // not in the store until that capture publishes it, so no extra is removed meanwhile.
        const capture = batch.some((entry) => entry.kind === 'extra') ? await deps.jobs.follower(job.node, job.id) : undefined;
        // Gateway writes the master took whose changes are not in the log yet (their intents left
        // with the lease: the writer died, its log append or its upload's capture failed), which
        // the next gateway write or the sweep publishes (gateway/recovery.ts): the objects they
        // name are left as the master holds them, and, as they may have made objects no intent
        // names (a collection's new member, an upload's resources), no extra is removed meanwhile.
        // A layer's resource and a resource's layer with it (same id): GeoServer holds their
        // `enabled` and `advertised` once, so a fix of one would undo that write's flags on the other.
        const unpublished = new Set(hold.unrecovered.flatMap((intent) => intent.objects.flatMap(withFlagPartner)).map(objectStorageKey));
        // Left for those writes' recovery, each reported unfixed (a job left quiet about them would
        // end as if the master were in line): a reconcile after the sweep fixes what is left.
        const leftFor = (entry: FixEntry) =>
          `left as the master holds it: ${heldBackBy(hold, entry.kind === 'extra' ? 'they may have made it' : 'fixing it could undo one of them')}`;
        // (What follows from another entry, `implied`, is counted with that one, not again.)
        const leave = (entry: FixEntry) => {
          if (!entry.implied) withheld.set(entry, leftFor(entry));
          return undefined;
        };
        withheld.clear();
        return mapConcurrently(batch, deps.concurrency ?? 8, async (entry) => {
          // Written since the scan by the node's own events (the gateway's writes to its GeoServer),
          // which its store applies without sending them back (apply.ts, "Own events"): left as is.
          if (written(entry) || (entry.kind === 'extra' && impliedBy(entry).some(written))) return undefined;
          // An extra the store holds live now (a gateway write the scan listed before its events were
          // applied): kept. Not one removed for a stored object of another type of its id (`FixEntry`).
          // Neither is a difference any more: not reported as left for the unpublished writes below.
          const plainExtra = entry.kind === 'extra' && entry.blocking === undefined && entry.implied === undefined;
          if (plainExtra && [entry, ...impliedBy(entry)].some((ref) => live.has(objectStorageKey(ref)))) return undefined;
          if (entry.kind === 'extra' && hold.unrecovered.length > 0) return leave(entry);
          if (entry.kind === 'extra' && capture !== undefined) return undefined;
          if (unpublished.has(objectStorageKey(entry))) return leave(entry);
          return fixEntry(entry, stored, leasedRest(rest, hold));
        });
      });
    } catch (error) {
      if (!(error instanceof GatewayBusyError)) throw error;
      // Gateway writes hold the lease: this batch again next step.
      return job;
    }
    async function fixEntry(entry: FixEntry, stored: ReadonlyMap<string, StoredObject>, rest: GeoServerRest): Promise<GeoServerOutcome | undefined> {
      const otherWorkspace = entry.kind === 'missing' ? storeOfAnotherWorkspace(entry) : undefined;
      if (otherWorkspace !== undefined) {
        unfixable.set(entry, heldInAnotherWorkspace(entry.id, otherWorkspace));
        return undefined;
      }
      if (entry.kind === 'extra') {
        const properties = extraProperties(entry);
        // A blocking resource's layer goes with `recurse`: GeoServer refuses it while a group
        // names it, and the cascade changes only groups (the stated ones written back after) and
        // the blocking resource, removed next.
        let recurse = entry.blocking === true && entry.type === 'layer';
        if (entry.blocking && isStoreType(entry.type)) {
          const removal = await blockingStoreRemoval(deps, job.node, new GeoServerReader(rest), entry);
          if ('failed' in removal) {
            unfixable.set(entry, removal.failed);
            return undefined;
          }
          recurse = removal.recurse;
        }
        return applyToGeoServer(rest, { kind: 'remove', type: entry.type, id: entry.id, properties, recurse }, JOB_FIX_OPTIONS);
      }
      const object = stored.get(objectStorageKey(entry));
      if (!object || object.deleted) return undefined; // changed since the scan: its events apply it
      // A resource the GeoServer holds under another store of its workspace (a move it missed) is
      // moved as the apply moves one: PUT at its path there naming the stated store, then read
      // back under that store (GeoServer refuses a second resource of its name in the namespace).
      const formerStore = entry.kind === 'missing' ? entry.store : undefined;
      // Any other missing object is POSTed first (one call, not a PUT answered 404 then the POST),
      // but a namespace, which GeoServer made with its workspace a moment ago, is PUT.
      const absent = entry.kind === 'missing' && entry.type !== 'namespace' && formerStore === undefined;
      return applyToGeoServer(
        rest,
        { kind: 'upsert', type: entry.type, id: entry.id, properties: object.properties, incomplete: object.incomplete, deleted: [], absent, ...(formerStore === undefined ? {} : { formerStore }) },
        JOB_FIX_OPTIONS,
      );
    }
    const rejected: GeoServerRejection[] = [];
    batch.forEach((entry, i) => {
      const outcome = outcomes[i];
      const why = unfixable.get(entry) ?? withheld.get(entry);
      if (why !== undefined) {
        failed += 1;
        if (failures.length < MAX_JOB_FAILURES) failures.push({ type: entry.type, id: entry.id, message: why } as JobFailure);
        return;
      }
      if (outcome === undefined) return;
      if (outcome.kind === 'applied') {
        if (!entry.implied) fixed += 1;
        restCalls += outcome.calls;
      } else {
        failed += 1;
        restCalls += outcome.attempts;
        rejected.push(outcome);
        if (failures.length < MAX_JOB_FAILURES) failures.push({ type: entry.type, id: entry.id, message: `${outcome.request}: ${outcome.status ?? ''} ${outcome.answer}`.trim() } as JobFailure);
      }
    });
    if (rejected.length > 0) deps.onRejected?.(rejected);
    index = end;
  }
  return {
    ...job,
    phase: index >= entries.length ? 'done' : 'fix',
    checkpoint: { ...job.checkpoint, index },
    progress: { ...job.progress, fixed, failed, restCalls },
    failures,
  };
}

/** Events of the node's log its store is behind by that a reconcile step reads under the lease; beyond, the step waits for the store. */
const OWN_EVENTS_READ_MAX = 1000;

/**
 * The objects of `refs` (their keys) that an event the node published and its store has not
 * applied yet changes: on a master, a gateway write's (forwarded to its GeoServer before it was
 * published) or a capture's. Read under the cluster's write lease, so every gateway write that
 * reached the GeoServer is in the log. A store further behind than `OWN_EVENTS_READ_MAX` fails
 * the step as transient: the slice is delivered again once its queue has brought the store on.
 */
async function ownEventsNotApplied(deps: JobRunnerDeps, node: string, refs: readonly ObjectRef[]): Promise<Set<string>> {
  const written = new Set<string>();
  if (!deps.publish) return written; // a node that cannot publish has no events of its own
  // Read at once: a cursor read after the head can only be further on, which leaves less to read.
  const [cursor, head] = await Promise.all([deps.store.readCursor(node), deps.apply.log.head(deps.cluster)]);
  if (head <= cursor) return written;
  if (head - cursor > OWN_EVENTS_READ_MAX) {
    throw Object.assign(new Error(`node ${node}'s store is ${head - cursor} events behind the log: its reconcile waits for it to catch up`), { transient: true });
  }
  const wanted = new Set(refs.map(objectStorageKey));
  for await (const event of eventsBetween(deps.apply.log, deps.cluster, cursor + 1, head)) {
    if (event.object === undefined || event.origin !== node) continue;
    const key = objectStorageKey(event.object);
    if (wanted.has(key)) written.add(key);
  }
  return written;
}

/** A resource's REST path goes through its store, which the GeoServer's listing named. */
function extraProperties(entry: DriftEntry): JsonObject {
  if (!isResourceType(entry.type) || entry.store === undefined) return {};
  return { store: { name: `${entry.id.split(':')[0]}:${entry.store}` } };
}

/**
 * Capture (a master's GeoServer is the truth): what it holds and the store does not is
 * published as an `add`, what differs as a `modify` carrying its whole state, what the store
 * holds and it does not as a `remove`, through the same publish path as the gateway. A resource
 * it holds under another store of its workspace than the stored one (moved in its web UI) is no
 * removal: it is published as the gateway publishes a move, a `modify` whose `store` names the
 * store that holds it (`heldNow`). Each difference is read again before it is published, and a
 * modify published only where the object still differs from the store by the drift scan's rule
 * (`objectDifferences`), so a slice redone after a crash publishes only what still differs. A
 * style document the GeoServer does not serve is never published as removed (no read proves it
 * was, `GeoServerReader.styleDocument`): the stored one is kept, and the style reported unfixed.
 *
 * Each difference is read and published under the cluster's write lease, as a gateway write is:
 * otherwise a gateway write to the same object between the capture's read and its publish would
 * be logged first and then overwritten by the capture's older state, on every node but the
 * master. One difference at a time, so gateway writes wait at most that long. Most are a few
 * calls, but a regroup reads and publishes every group a cascade changed: each read of the
 * GeoServer and each publish keeps the lease first (`LEASED_CALL_MS`), as a reconcile's calls do,
 * and a lease another writer took over meanwhile stops the step before anything read under it is
 * published (`WriteLeaseLostError`, transient: the slice is redone from that difference, its
 * checkpoint saved with the ones before it). A lease another writer holds past the wait ends the
 * step where it is: the next step (or slice) goes on from there.
 *
 * A capture publishes as its node, so a paused node's capture publishes nothing: a slice already
 * running when the pause came (the pause switches the queue's consumption off, not a slice in
 * flight) has its next publish refused inside the log append, with nothing stored, as a paused
 * node's `POST /config/events` is. The job then ends `failed` where it is, its `error` saying
 * why and how far it got (GET /nodes and the job's route show it); what it published before the
 * pause stays published, and a capture started once the node is resumed publishes the rest.
 */
type CaptureOutcome = 'published' | 'unchanged' | 'kept' | { failed: string; id?: string; keepsStore?: true } | { paused: NodePausedError };

async function captureStep(deps: JobRunnerDeps, job: Job, cache: SliceCache): Promise<Job> {
  const rest = requireRest(deps, job);
  const publish = deps.publish;
  if (!publish) throw new Error(`node ${job.node} cannot publish: only a master's GeoServer can be captured`);
  // The lease the entry being captured runs under (each its own, `writes.run`): every read of the
  // master's GeoServer keeps it for the call's bound first (`LEASED_CALL_MS`), as a reconcile's
  // calls do. An entry's reads are not bounded in number (a regroup reads every group a cascade
  // changed), and a slow GeoServer's may outlast the lease: a gateway write could then take it,
  // change a group the capture read and publish it, and the capture publish its older read after.
  let hold: LeaseHold | undefined;
  const reader = new GeoServerReader({
    url: rest.url,
    async send(request) {
      if (!hold) throw new Error(`capture of node ${job.node}: a read of its GeoServer outside the write lease (${request.method} ${request.path})`);
      return leasedRest(rest, hold).send(request);
    },
  });
  const entries: readonly CaptureEntry[] = await loadFixes(deps, job, cache, (differences) => withPendingRegroups(captureOrder(differences)));
  let index = job.checkpoint.index ?? 0;
  let { fixed, failed, published } = job.progress;
  const failures: JobFailure[] = [...job.failures];
  const writes = deps.writes ?? UNSERIALIZED;
  // The log's head when the scan ended (absent in a capture that began before it was noted).
  const scanHead = job.checkpoint.scanHead;
  // The groups this capture's regroups published (`JobCheckpoint.regrouped`).
  const regrouped = new Set(job.checkpoint.regrouped ?? []);
  // The layers this capture removes as their resource was replaced (`replaced`), and so the ids of those resources.
  const replacedLayers = new Set(entries.filter((entry) => entry.replaced !== undefined).map((entry) => entry.id));
  // The replaced stores this capture leaves as the nodes hold them (`JobCheckpoint.keptStores`).
  const keptStores = new Set(job.checkpoint.keptStores ?? []);
  let keptMembers: Promise<Set<string>> | undefined;
  /**
   * Whether `entry` is of a kept store: the store (either type: its removal, what replaced it, its
   * regroups), a resource it holds as the node's store says (live) or one the master's GeoServer
   * holds in what replaced it (an extra listed under it), or the layer of one (a layer's id is its
   * resource's). Every node's GeoServer still holds the store and what it held: a removal of one of
   * them would be refused there (its layer a group's root layer, or a resource with its layer), and
   * an add into the new store, or of a resource of one of those names, refused too.
   */
  const ofKeptStore = async (entry: CaptureEntry): Promise<boolean> => {
    if (keptStores.size === 0) return false;
    if (isStoreType(entry.type)) return keptStores.has(entry.id);
    if (entry.type !== 'layer' && !isResourceType(entry.type)) return false;
    keptMembers ??= (async () => {
      const members = new Set<string>();
      for (const removal of entries.filter((other) => other.replacedStore && keptStores.has(other.id))) {
        const held = await storedResourcesOf(deps, job.node, removal);
        const alive = await new Liveness((refs) => deps.store.readObjects(job.node, refs)).live(held);
        held.filter((_, at) => alive[at]).forEach((resource) => members.add(resource.id));
        const { workspace, name } = splitObjectId(removal.id);
        for (const other of entries) {
          if (other.kind === 'extra' && isResourceType(other.type) && other.store === name && splitObjectId(other.id).workspace === workspace) members.add(other.id);
        }
      }
      return members;
    })();
    return (await keptMembers).has(entry.id);
  };
  /**
   * The layers a kept store's replacement holds on the master's GeoServer (the layers of the
   * resources listed under it, extras) that the nodes lack, each with why (`what`) and what to
   * capture first (`until`). This capture adds none of them, so a layer group difference naming
   * one would be refused by every node's GeoServer and parked (it drops the unknown entry: a group
   * left empty is refused): it is held back too (`heldBackNamed`). A layer the nodes hold (of a
   * resource of a former one's name, kept with the store), like a replaced layer a stored group has
   * as its root layer (kept as the nodes hold it), is no such layer: a group naming it applies there,
   * and the removal with recurse that later captures the replacement takes it out and publishes the
   * group again (`regroup`).
   */
  type HeldBack = { readonly what: string; readonly until: string };
  let heldBackLayers: Promise<Map<string, HeldBack>> | undefined;
  const heldBackLayersNow = (): Promise<Map<string, HeldBack>> =>
    (heldBackLayers ??= (async () => {
      const layers = new Map<string, HeldBack>();
      for (const removal of entries.filter((other) => other.replacedStore && keptStores.has(other.id))) {
        const { workspace, name } = splitObjectId(removal.id);
        const replacing = entries.find((other) => other.kind === 'extra' && isStoreType(other.type) && other.id === removal.id)?.type ?? 'store';
        const held = { what: `of the ${replacing} ${removal.id} that replaced ${removal.type} ${removal.id}, which this capture keeps as the nodes hold it`, until: removal.id };
        const ids = entries
          .filter((other) => other.kind === 'extra' && isResourceType(other.type) && other.store === name && splitObjectId(other.id).workspace === workspace)
          .map((other) => other.id);
        if (ids.length === 0) continue;
        const stored = await deps.store.readObjects(job.node, ids.map((id) => ({ type: 'layer', id }) as ObjectRef));
        const alive = await new Liveness((refs) => deps.store.readObjects(job.node, refs)).live(stored);
        const nodesHold = new Set(stored.filter((_, at) => alive[at]).map((layer) => layer.id));
        for (const id of ids) if (!nodesHold.has(id)) layers.set(id, held);
      }
      return layers;
    })());
  /**
   * Why the layer group difference `group`, as the master's GeoServer holds it (`held`), is held
   * back: it names a held-back layer, or a group this capture adds (an extra) that is held back so.
   * Such a group is read as the master's GeoServer holds it now (`within`: the groups on the way).
   */
  const heldBackNamed = async (group: ObjectRef, held: JsonObject, within: ReadonlySet<string> = new Set()): Promise<string | undefined> => {
    const layers = await heldBackLayersNow();
    if (layers.size === 0) return undefined;
    const tail = (until: string) => `every node's GeoServer would refuse the group (or take the name for the layer the nodes keep), so it is not captured; capture again once ${until} is captured`;
    for (const value of [held.rootLayer, ...layerGroupEntries(held)]) {
      const name = referencedName(value);
      if (name === undefined) continue;
      const ofGroup = isJsonObject(value) && value['@type'] === 'layerGroup';
      for (const id of idsNamedBy(group.id, name)) {
        const layer = ofGroup ? undefined : layers.get(id);
        if (layer) return `names layer ${id}, ${layer.what}: ${tail(layer.until)}`;
        if (!ofGroup || within.has(id) || !entries.some((other) => other.kind === 'extra' && other.type === 'layerGroup' && other.id === id)) continue;
        const inner = await reader.object('layerGroup', id);
        const why = inner && (await heldBackNamed({ type: 'layerGroup', id }, inner, new Set([...within, group.id])));
        if (why) return `names layer group ${id}, held back as it ${why}`;
      }
    }
    return undefined;
  };
  let paused: NodePausedError | undefined;
  let lost: WriteLeaseLostError | undefined;
  for (const end = Math.min(entries.length, index + CAPTURE_BATCH); index < end; ) {
    const entry = entries[index]!;
    let outcome: CaptureOutcome;
    const publishing = async (change: ConfigChange): Promise<CaptureOutcome> => {
      // Kept before the publish too, outside its failure's handling: a lease lost since the read
      // (`WriteLeaseLostError`) stops the step, as what was read may be older than a gateway
      // write's, logged meanwhile.
      await hold?.keep(LEASED_CALL_MS);
      try {
        await publish(change);
        published += 1;
        return 'published';
      } catch (error) {
        if (error instanceof NodePausedError) return { paused: error };
        return { failed: withoutArns(error instanceof Error ? error.message : String(error)) };
      }
    };
    /**
     * The layer groups the cascade of the removal with `recurse` (`cascadedAt`, its sequence) of
     * the replaced layer, or of the replaced store (the layers of the resources it held then),
     * changed on the nodes, each published again as the master's GeoServer holds it: a modify
     * carrying its whole state, or an add where the cascade removed it. One published since the
     * cascade (by this step before it was redone, or by a write of its own) is left as it is;
     * one the master's GeoServer lacks is removed by its own difference. The cascades of the
     * capture's other such removals, all published before this, compound with it on the nodes (a
     * group one left naming only a layer another took is removed there, and so the groups it
     * leaves empty): their layers are taken with this one's.
     */
    const regroup = async (cascadedAt: number | undefined): Promise<CaptureOutcome> => {
      if (cascadedAt === undefined) return 'unchanged';
      const layers: string[] = [];
      for (const cascade of entries.filter((other) => other.regroups)) {
        const [removed] = cascade === entry ? [{ cascadedAt }] : await deps.store.readObjects(job.node, [cascade]);
        const at = removed?.cascadedAt;
        if (at === undefined) continue;
        layers.push(
          ...(isStoreType(cascade.type)
            ? (await storedResourcesOf(deps, job.node, cascade)).filter((resource) => resource.lastSequence < at).map((resource) => resource.id)
            : [cascade.id]),
        );
      }
      // A group written again (`stored`, its stored state before the cascade), or the add of one it names (`held` only).
      type Write = DriftEntry & { readonly held?: JsonObject; readonly stored?: StoredObject; readonly emptied?: boolean };
      const writes: Write[] = [];
      // This capture's own cascade (published after its scan): a group published since was published
      // again by this step before it was redone (its checkpoint, and `regrouped` with it, lost), or
      // made good by a gateway write since; either way counted among the groups published again.
      const ownCascade = scanHead !== undefined && cascadedAt > scanHead;
      for (const { group, emptied } of groupsTakenByCascade(await storedGroups(deps, job.node), layers)) {
        if (group.lastSequence > cascadedAt) {
          if (ownCascade) regrouped.add(group.id);
          continue;
        }
        const held = await reader.object('layerGroup', group.id, group.properties);
        if (held === undefined) continue;
        writes.push({ kind: 'different', type: 'layerGroup', id: group.id, holds: heldGroupNames(held), held, stored: group, emptied });
      }
      // The adds of this capture's groups still to come that a group written here names (or one
      // of those does), made here first: a node's GeoServer drops an entry naming a group it lacks.
      // One the store holds already (added by this step before it was redone), or the master's
      // GeoServer no longer holds, is not written (`held` undefined).
      const pending = entries.slice(index + 1).filter((other) => other.type === 'layerGroup' && other.kind === 'extra' && !other.regroups);
      for (let grew = true; grew; ) {
        grew = false;
        for (const add of pending) {
          if (writes.some((write) => write.id === add.id) || !writes.some((write) => holdsOneOf(write, new Set([add.id])))) continue;
          grew = true;
          const [stored] = await deps.store.readObjects(job.node, [add]);
          // Added since this capture's cascade: by this step before it was redone (as above).
          if (stored && ownCascade && stored.lastSequence > cascadedAt) regrouped.add(add.id);
          const held = stored ? undefined : await reader.object('layerGroup', add.id);
          writes.push({ kind: 'extra', type: 'layerGroup', id: add.id, holds: held ? heldGroupNames(held) : [], held });
        }
      }
      // The groups written again come inner first already (groupsTakenByCascade); adds made here go among them.
      const ordered = writes.some((write) => write.stored === undefined) ? innerGroupsFirst(writes) : writes;
      let outcome: CaptureOutcome = 'unchanged';
      for (const write of ordered) {
        if (write.held === undefined) continue;
        const ref = { type: 'layerGroup', id: write.id };
        const sent = await publishing(
          (write.stored === undefined || write.emptied
            ? { kind: 'add', object: ref, properties: write.held }
            : { kind: 'modify', object: ref, patch: wholeStatePatch(write.stored.properties, write.held) }) as ConfigChange,
        );
        if (typeof sent === 'object' && 'failed' in sent) {
          return {
            failed:
              write.stored === undefined
                ? `layer group ${write.id}, which a group published again after the removal of ${entry.type} ${entry.id} with recurse names, could not be added before it: ${sent.failed}`
                : `layer group ${write.id}, which the removal of ${entry.type} ${entry.id} with recurse changed on the nodes, could not be published again: ${sent.failed}`,
          };
        }
        if (sent !== 'published') return sent;
        regrouped.add(write.id);
        outcome = 'published';
      }
      return outcome;
    };
    /**
     * The layer groups a removal with recurse published before this capture changed on the nodes
     * and nothing has published since (`groupsPendingCascade`: a capture stopped between its
     * removal and `regroup`), each published again as `regroup` publishes its own. Once published,
     * a group is no longer pending: a step redone, or a later capture, publishes nothing.
     */
    const regroupPending = async (): Promise<CaptureOutcome> => {
      let outcome: CaptureOutcome = 'unchanged';
      for (const { group, emptied } of await groupsPendingCascade(deps, job.node)) {
        const held = await reader.object('layerGroup', group.id, group.properties);
        if (held === undefined) continue; // the master's GeoServer lacks it: removed by its own difference
        const ref = { type: 'layerGroup', id: group.id };
        const sent = await publishing(
          (emptied ? { kind: 'add', object: ref, properties: held } : { kind: 'modify', object: ref, patch: wholeStatePatch(group.properties, held) }) as ConfigChange,
        );
        if (typeof sent === 'object' && 'failed' in sent) {
          return {
            failed: `layer group ${group.id}, which an earlier removal with recurse changed on the nodes (its capture stopped before publishing the group again), could not be published again: ${sent.failed}`,
            id: group.id,
          };
        }
        if (sent !== 'published') return sent;
        regrouped.add(group.id);
        outcome = 'published';
      }
      return outcome;
    };
    // A stored style document the GeoServer did not serve (why), kept: the style stays unfixed.
    let keptBody: string | undefined;
    // The sequence of the event that last wrote the entry's stored object (its removal's, for a tombstone).
    let written: number | undefined;
    try {
      outcome = await writes.run(async (entryHold) => {
        hold = entryHold;
        keptBody = undefined;
        written = undefined;
        if (entry.pendingRegroups) return regroupPending();
        if (await ofKeptStore(entry)) return 'kept';
        // The stored layer groups, listed once for a replaced resource's entries (its root layer, its layer's `recurse`).
        let groups: readonly StoredObject[] | undefined;
        if (replacedLayers.has(entry.id) && (entry.type === 'layer' || isResourceType(entry.type))) {
          // Every node's GeoServer refuses to remove a group's root layer, even with recurse: the
          // replaced resource is left as the nodes hold it (its removals, the new resource's add,
          // the layer's add again and its regroups publish nothing), reported once, at its removal.
          groups = await storedGroups(deps, job.node);
          const holder = rootLayerHolder(groups, entry.id);
          if (holder !== undefined) {
            if (entry.replaced === undefined) return 'kept';
            return {
              failed:
                `layer group ${holder} has layer ${entry.id} as its root layer, which every node's GeoServer refuses to remove (even with recurse), ` +
                `so the ${entry.replaced} that replaced the resource of ${entry.id} is not captured and the nodes keep the former one; ` +
                `remove or change the root layer of ${holder} on the master's GeoServer, capture, then make it again and capture`,
            };
          }
        }
        const [object] = await deps.store.readObjects(job.node, [entry]);
        written = object?.lastSequence;
        // As the nodes hold it: what a removal with recurse took (a replaced store's resources and
        // their layers, removed with it) is gone from their GeoServers, and no removal of its own.
        const stored = object && (await new Liveness((refs) => deps.store.readObjects(job.node, refs)).live([object]))[0] ? object : undefined;
        if (entry.replaced !== undefined) {
          // Removed before what replaced it is added (captureOrder); added again after it if still held.
          // Already the new resource's (a step redone after it was added again): nothing to remove.
          if (!stored || resourceClassOf(stored.properties) === entry.replaced) return 'unchanged';
          const recurse = namedByStoredGroup(groups ?? (await storedGroups(deps, job.node)), entry.id);
          return publishing({ kind: 'remove', object: { type: entry.type, id: entry.id }, recurse } as ConfigChange);
        }
        if (entry.regroups) return regroup(object?.cascadedAt);
        // Gone from the store already (its removal published by this step before it was redone):
        // nothing left to remove, and no stored properties to find it by.
        if (entry.kind === 'missing' && !stored) return 'unchanged';
        const found = await heldNow(reader, entry, stored?.properties);
        if ('storeOfAnotherWorkspace' in found) return { failed: heldInAnotherWorkspace(entry.id, found.storeOfAnotherWorkspace) };
        const held = found.object;
        let heldWhole = held;
        if (held && entry.type === 'style') {
          const document = await reader.styleDocument(entry.id, held);
          const storedBody = stored?.properties.body;
          if ('body' in document) heldWhole = { ...held, body: document.body };
          else if (typeof storedBody === 'string') {
            // No read proves a document removed on purpose (GeoServerReader.styleDocument): the
            // stored one is kept, not published as removed from every node.
            heldWhole = { ...held, body: storedBody };
            keptBody = document.unread;
          }
        }
        if (entry.type === 'layerGroup' && heldWhole) {
          const named = await heldBackNamed(entry, heldWhole);
          if (named !== undefined) return { failed: named };
        }
        const unknownStore = heldWhole ? await storeNotHeld(deps, job.node, entries, entry, heldWhole, stored?.properties) : undefined;
        if (unknownStore !== undefined) {
          return { failed: `the GeoServer holds it under store ${unknownStore}, which the cluster does not hold (made after this capture's scan): a capture run again publishes the store, then this` };
        }
        let change: ConfigChange | undefined;
        // Read as absent, published as removed from every node: only from a GeoServer that
        // answers its catalog (a URL answering 404 to everything reads every object absent).
        if (!heldWhole && stored) {
          await reader.assertServesCatalog();
          // And read again once it does: a GeoServer back between the read above and the listing
          // (its redeploy ending) held the object all along. Redone from this entry, after the
          // queue's backoff, as for a GeoServer that is down.
          const again = await heldNow(reader, entry, stored.properties);
          if ('storeOfAnotherWorkspace' in again || again.object !== undefined) {
            throw new GeoServerUnavailableError(
              deps.rest?.url ?? '',
              `GET ${entry.type} ${entry.id}`,
              404,
              `${entry.type} ${entry.id} read as absent while the GeoServer answered no catalog listing, then found once it did: it was coming back`,
            );
          }
        }
        if (!heldWhole && stored && entry.replacedStore) {
          const replacing = entries.find((other) => other.kind === 'extra' && isStoreType(other.type) && other.id === entry.id)?.type;
          const removal = await replacedStoreRemoval(deps, job.node, reader, stored, replacing);
          if ('failed' in removal) {
            if (removal.keepsStore) {
              keptStores.add(entry.id);
              keptMembers = undefined;
              heldBackLayers = undefined;
            }
            return removal;
          }
          change = removal.change;
        } else if (!heldWhole && stored) change = { kind: 'remove', object: { type: entry.type, id: entry.id }, recurse: false } as ConfigChange;
        else if (heldWhole && !stored) change = { kind: 'add', object: { type: entry.type, id: entry.id }, properties: heldWhole } as ConfigChange;
        // A modify only where the object still differs, compared as the drift scan compares: a
        // step redone after a crash finds what it published already in the store.
        else if (held && heldWhole && stored && objectDifferences(stored, held, heldWhole.body as string | undefined, deps.compareMode).length > 0) {
          change = { kind: 'modify', object: { type: entry.type, id: entry.id }, patch: wholeStatePatch(stored.properties, heldWhole) } as ConfigChange;
        }
        if (!change) return 'unchanged';
        return publishing(change);
      });
    } catch (error) {
      if (error instanceof GatewayBusyError) break; // gateway writes hold the lease: this entry again next step
      if (!(error instanceof WriteLeaseLostError)) throw error;
      // Another writer took the lease over during this entry (a call outlived what it was kept
      // for): nothing more is published under it. The entries before it were each captured under
      // a lease of their own, so they are saved as done; the slice is thrown out as transient and
      // redone from this entry, under a new lease.
      lost = error;
      break;
    } finally {
      hold = undefined;
    }
    if (typeof outcome === 'object' && 'paused' in outcome) {
      paused = outcome.paused;
      break;
    }
    const failure =
      typeof outcome === 'object'
        ? outcome.failed
        : keptBody === undefined
          ? undefined
          : `the master's GeoServer served no document for style ${entry.id} (${keptBody}): the stored document is kept, and ` +
            `${outcome === 'published' ? 'the rest of the style published' : 'nothing else differs'}; upload the document to the master's GeoServer, ` +
            `or reconcile the node to send it the stored one`;
    if (failure !== undefined) {
      failed += 1;
      const id = typeof outcome === 'object' && 'id' in outcome && outcome.id !== undefined ? outcome.id : entry.id;
      if (failures.length < MAX_JOB_FAILURES) failures.push({ type: entry.type, id, message: failure } as JobFailure);
    } else if (outcome === 'published' && !entry.regroups && !entry.pendingRegroups && entry.replaced === undefined) {
      // The groups published again, and a replaced layer's removal before its own difference
      // adds it again, are no difference of their own: counted as published only.
      fixed += 1;
    } else if (
      outcome === 'unchanged' &&
      !entry.regroups &&
      !entry.pendingRegroups &&
      entry.replaced === undefined &&
      ((entry.type === 'layerGroup' && regrouped.has(entry.id)) || (scanHead !== undefined && written !== undefined && written > scanHead))
    ) {
      // A difference of the scan found no longer standing, which an event published after the scan
      // made good on every node, counted fixed once: a group's own difference a regroup of this
      // capture published already, as the master holds it; or one whose stored object an event
      // above the log's head at the scan's end (`scanHead`) wrote. That is this capture's own publish,
      // made by this step before it was redone (its invocation died before the checkpoint, which
      // the counts are saved with), or another of its publishes of that object (a regroup), or a
      // gateway write made since the scan: either way the nodes were brought to the master's
      // GeoServer after the scan found them apart. One the master's GeoServer no longer holds
      // apart, with nothing written since the scan (the web UI undid it), is fixed by nobody and
      // not counted; nor is one a gateway write preceded during the scan (below the head: the scan
      // found the difference after it). Each entry is counted at its own place only, once per pass, and the pass
      // counted is the one whose checkpoint is saved: never twice.
      fixed += 1;
    }
    index += 1;
  }
  const progressed: Job = {
    ...job,
    phase: index >= entries.length ? 'done' : 'fix',
    checkpoint: { ...job.checkpoint, index, ...(regrouped.size === 0 ? {} : { regrouped: [...regrouped] }), ...(keptStores.size === 0 ? {} : { keptStores: [...keptStores] }) },
    progress: { ...job.progress, fixed, failed, published, restCalls: job.progress.restCalls + reader.calls },
    failures,
  };
  if (lost) throw new StepFailedPartWay(progressed, lost);
  if (!paused) return progressed;
  // The differences of the scan: not the regroups, nor a replaced layer's removal before its own difference.
  const differences = entries.filter((entry) => !entry.regroups && !entry.pendingRegroups && entry.replaced === undefined).length;
  return {
    ...progressed,
    state: 'failed',
    finishedAt: deps.now().toISOString(),
    error:
      `${paused.code}: ${paused.message}. The capture stopped after fixing ${fixed} of its ${differences} differences` +
      (regrouped.size === 0 ? '' : ` (and published again ${regrouped.size} layer group${regrouped.size === 1 ? '' : 's'} that a removal with recurse changed on the nodes)`) +
      '; ' +
      `once the node is resumed, POST /nodes/${job.node}/capture publishes the rest`,
  };
}

/**
 * A difference's object as the GeoServer holds it now. A resource is read under the store the
 * scan found it in (`DriftEntry.store`: an extra's, or a missing one's the GeoServer holds under
 * another store of its workspace), else under the stored one; where that answers 404 it is looked
 * up through its workspace, and read under the store that holds it: moved there (in the web UI,
 * or since the scan), it is no removal, but a modify whose `store` names that store, as the
 * gateway publishes a move (gateway/resource-store.ts), which the nodes apply as a move.
 */
async function heldNow(
  reader: GeoServerReader,
  entry: DriftEntry,
  stored: JsonObject | undefined,
): Promise<{ readonly object: JsonObject | undefined } | { readonly storeOfAnotherWorkspace: string }> {
  // Held under a store of another workspace (at the scan, or found so below): no removal, and
  // nothing a capture can publish (`storeOfAnotherWorkspace`).
  const scanned = storeOfAnotherWorkspace(entry);
  if (scanned !== undefined) return { storeOfAnotherWorkspace: scanned };
  const held = await reader.object(entry.type, entry.id, entry.store === undefined ? (stored ?? {}) : extraProperties(entry));
  if (held !== undefined || !isResourceType(entry.type)) return { object: held };
  const store = await reader.heldStore(entry.type, entry.id);
  if (store === undefined) return { object: undefined };
  if (storeOfAnotherWorkspace({ id: entry.id, store }) !== undefined) return { storeOfAnotherWorkspace: store };
  return { object: await reader.object(entry.type, entry.id, extraProperties({ ...entry, store: localName(store) })) };
}

/**
 * The store (its id) a resource the GeoServer holds is in, where that is not the stored one and the
 * cluster holds no such store: neither the node's store (live) nor this capture's differences (an
 * extra store, published before its resources). Made in the web UI after the capture's scan, it
 * would be named by no node's GeoServer: an add or a move into it would be parked on every node.
 */
async function storeNotHeld(
  deps: JobRunnerDeps,
  node: string,
  differences: readonly DriftEntry[],
  entry: DriftEntry,
  held: JsonObject,
  stored: JsonObject | undefined,
): Promise<string | undefined> {
  if (!isResourceType(entry.type)) return undefined;
  const storeOf = (properties: JsonObject) => parentsOf({ type: entry.type, id: entry.id, properties }).find((parent) => parent.type !== 'workspace');
  const store = storeOf(held);
  if (store === undefined) return undefined;
  const key = objectStorageKey(store);
  const before = stored === undefined ? undefined : storeOf(stored);
  if (before !== undefined && objectStorageKey(before) === key) return undefined;
  if (differences.some((difference) => difference.kind === 'extra' && objectStorageKey(difference) === key)) return undefined;
  const [object] = await deps.store.readObjects(node, [store]);
  return object && !object.deleted ? undefined : store.id;
}

/**
 * A difference as a capture publishes it: `replaced` marks the removal of a stored layer whose
 * resource another resource of its id replaced (`captureOrder`), and names that resource's type:
 * published whatever the GeoServer holds under that id, unless the stored layer is that
 * resource's already; its own difference, later in the order, adds it again. `replacedStore`
 * marks the removal of a store another store of its id replaced, published with `recurse` where
 * the store still holds resources (`replacedStoreRemoval`). `regroups` marks no difference but
 * the layer groups the cascade of such a layer's or store's removal changed on the nodes,
 * published again (`groupsTakenByCascade`) once every layer is added. `pendingRegroups` marks no
 * difference but the groups earlier such removals changed and nothing published since
 * (`PENDING_REGROUPS`).
 */
type CaptureEntry = DriftEntry & { readonly replaced?: string; readonly replacedStore?: true; readonly regroups?: true; readonly pendingRegroups?: true };

/**
 * The resources the node's store holds (not removed; taken by a cascade or not) in `store` (a
 * store's ref), as their `store` names it: what its removal with recurse removes with it on the
 * nodes. One listing of the store's resource type, in pages.
 */
async function storedResourcesOf(deps: JobRunnerDeps, node: string, store: ObjectRef): Promise<StoredObject[]> {
  if (!isStoreType(store.type)) return [];
  const key = objectStorageKey(store);
  const held: StoredObject[] = [];
  let after: string | undefined;
  do {
    const page = await deps.store.listObjects(node, { type: RESOURCE_OF[store.type], limit: deps.pageSize ?? 100, ...(after === undefined ? {} : { after }) });
    held.push(...page.objects.filter((object) => !object.deleted && parentsOf(object).some((parent) => objectStorageKey(parent) === key)));
    after = page.next;
  } while (after !== undefined);
  return held;
}

/**
 * The removal of a store the master's GeoServer holds a store of another type under the name of
 * (`captureOrder`): with `recurse` where the node's store says it still holds resources (live),
 * as the master's web UI removed it with them; the nodes' GeoServers then remove them and their
 * layers, and take those out of their groups (published again after, `regroups`). A resource the
 * store holds that the master's GeoServer holds under another store (moved there, its move not
 * yet published: it failed, or was made after the scan) would be deleted on every node with it:
 * nothing is published, and the store is left unfixed naming it.
 *
 * Nor where a stored layer group has the layer of one of those resources as its root layer: every
 * node's GeoServer refuses to remove that layer even with `recurse` (`rootLayerHolder`), and so
 * the store. The store is then kept (`keepsStore`): nothing of it, of what it holds, nor of what
 * replaced it (`replacing`, that store's type) is published, and it is left unfixed naming the group.
 */
async function replacedStoreRemoval(
  deps: JobRunnerDeps,
  node: string,
  reader: GeoServerReader,
  store: StoredObject,
  replacing: ObjectType | undefined,
): Promise<{ readonly change: ConfigChange } | { readonly failed: string; readonly keepsStore?: true }> {
  const stored = await storedResourcesOf(deps, node, store);
  const alive = await new Liveness((refs) => deps.store.readObjects(node, refs)).live(stored);
  const held = stored.filter((_, index) => alive[index]);
  if (held.length > 0) {
    const groups = await storedGroups(deps, node);
    for (const resource of held) {
      const holder = rootLayerHolder(groups, resource.id);
      if (holder === undefined) continue;
      return {
        failed:
          `layer group ${holder} has layer ${resource.id}, of ${store.type} ${store.id}, as its root layer, which every node's GeoServer refuses to remove (even with recurse), ` +
          `so the ${replacing ?? 'store'} that replaced it is not captured and the nodes keep the former one with what it holds; ` +
          `remove or change the root layer of ${holder} on the master's GeoServer, capture, then make it again and capture`,
        keepsStore: true,
      };
    }
  }
  const where = await mapConcurrently(held, deps.concurrency ?? 8, (resource) => reader.heldStore(resource.type, resource.id));
  for (const [index, resource] of held.entries()) {
    const elsewhere = where[index];
    if (elsewhere !== undefined) {
      return {
        failed:
          `${resource.type} ${resource.id}, which the cluster holds in ${store.type} ${store.id}, is under store ${elsewhere} on the master's GeoServer: ` +
          `removing the store with recurse would delete it on every node, so the store is not removed; a capture run again publishes its move, then this`,
      };
    }
  }
  return { change: { kind: 'remove', object: { type: store.type, id: store.id }, recurse: held.length > 0 } as ConfigChange };
}

/**
 * Whether a reconcile may remove an extra store that blocks a missing store of another type of its
 * id (`fixOrder`), and with `recurse`: where the GeoServer still holds resources in it. Not where
 * one of them is a resource the node's store states (live, so under another store: the extra one
 * is not stated), whose move out of it failed: the removal with recurse would delete it. The store
 * is then left, naming that resource, and the stated store's add is refused as before.
 */
async function blockingStoreRemoval(
  deps: JobRunnerDeps,
  node: string,
  reader: GeoServerReader,
  store: DriftEntry,
): Promise<{ readonly recurse: boolean } | { readonly failed: string }> {
  if (!isStoreType(store.type)) return { recurse: false };
  const resourceType = RESOURCE_OF[store.type];
  const { workspace, name } = splitObjectId(store.id);
  const listing = REST_MAPPING[resourceType].collection!({ ...(workspace === undefined ? {} : { workspace }), name: '', store: name });
  const held = (await reader.names(listing)).map((resource) => ({ type: resourceType, id: `${workspace ?? ''}:${resource}` }) as ObjectRef);
  const objects = held.length === 0 ? [] : await deps.store.readObjects(node, held);
  const alive = await new Liveness((refs) => deps.store.readObjects(node, refs)).live(objects);
  const stated = objects.find((_, index) => alive[index]);
  if (stated !== undefined) {
    const where = referencedName(stated.properties.store);
    return {
      failed:
        `${stated.type} ${stated.id}, which the cluster states under store ${where ?? '(none named)'}, is still in ${store.type} ${store.id} on the GeoServer: ` +
        `removing the store with recurse would delete it, so the store is not removed; once ${stated.id} is moved (a reconcile run again moves it, ` +
        `or move it in that GeoServer), a reconcile removes the store and adds the stated one`,
    };
  }
  return { recurse: held.length > 0 };
}

/**
 * The stated layer groups the cascade of a blocking extra's removal (`FixEntry.regroups`: the
 * layers it took) changed on the GeoServer, each written back whole as the node's store holds it
 * (PUT, or POST where the cascade removed it), in the order `groupsTakenByCascade` gives. A group
 * with a difference of its own is left to it: written at its place, after this.
 *
 * Run under the cluster's write lease (`reconcileStep`), the store read under it, so a gateway write
 * to one of these groups is wholly before or after it. One before it is written back as that write
 * left it in the store: while one of the node's own events not yet applied names a group
 * (`ownEventsNotApplied`), the step fails as transient, nothing written, and its slice is delivered
 * again once the node's queue has brought the store on.
 *
 * While a gateway write the master took has its changes not in the log (`LeaseHold.unrecovered`,
 * as for a reconcile's extras), nothing is written back: the store's groups written over the
 * master's would revert what that write did to one of them before its recovery publishes it, and
 * its intent need not name every group it changed (a recursive DELETE's cascade, a style rename's
 * users). The groups are answered `withheld`, reported unfixed, for a reconcile run once those
 * writes are published.
 */
async function writeBackGroups(
  deps: JobRunnerDeps,
  node: string,
  rest: GeoServerRest,
  entries: readonly FixEntry[],
  entry: FixEntry,
  hold: LeaseHold,
): Promise<{
  readonly calls: number;
  readonly rejected: readonly { readonly id: string; readonly message: string; readonly outcome: GeoServerRejection }[];
  readonly withheld: readonly { readonly id: string; readonly message: string }[];
}> {
  const ownDifference = new Set(entries.filter((other) => other.type === 'layerGroup' && other.kind !== 'extra').map((other) => other.id));
  let calls = 0;
  const rejected: { id: string; message: string; outcome: GeoServerRejection }[] = [];
  const taken = groupsTakenByCascade(await storedGroups(deps, node), entry.regroups ?? []).filter(({ group }) => !ownDifference.has(group.id));
  if (hold.unrecovered.length > 0 && taken.length > 0) {
    const message =
      `not written back after the removal of ${entry.type} ${entry.id} with recurse took ${(entry.regroups ?? []).join(', ')} out of it: ` +
      heldBackBy(hold, "writing the store's group over the master's could undo one of them");
    return { calls, rejected, withheld: taken.map(({ group }) => ({ id: group.id, message })) };
  }
  // Written since by the node's own events (the gateway's writes to its GeoServer), which its store
  // applies without sending them back (apply.ts, "Own events"). Such a write changed the group the
  // cascade left, so neither the store's state before it nor the group as it is would do: the step
  // waits for the store to apply those events, then writes the group back as they left it.
  const pending = await ownEventsNotApplied(deps, node, taken.map(({ group }) => group));
  const written = taken.filter(({ group }) => pending.has(objectStorageKey(group))).map(({ group }) => group.id);
  if (written.length > 0) {
    throw Object.assign(
      new Error(`node ${node}'s store has not applied its own events on layer groups ${written.join(', ')} yet: its reconcile writes them back once it has`),
      { transient: true },
    );
  }
  // One group after another, for longer than one lease may last: the lease is kept for each call (`LEASED_CALL_MS`).
  const leased = leasedRest(rest, hold);
  for (const { group } of taken) {
    const outcome = await applyToGeoServer(
      leased,
      { kind: 'upsert', type: 'layerGroup', id: group.id, properties: group.properties, incomplete: group.incomplete, deleted: [] },
      JOB_FIX_OPTIONS,
    );
    if (outcome.kind === 'applied') {
      calls += outcome.calls;
      continue;
    }
    calls += outcome.attempts;
    rejected.push({
      id: group.id,
      message: `${outcome.request}: ${outcome.status ?? ''} ${outcome.answer}`.trim() + ` (written back after the removal of ${entry.type} ${entry.id} with recurse took ${(entry.regroups ?? []).join(', ')} out of it)`,
      outcome,
    });
  }
  return { calls, rejected, withheld: [] };
}

/**
 * Why a fix was held back, as a job failure says it: the gateway writes the master took whose
 * changes are not in the log yet (`LeaseHold.unrecovered`), so an operator sees which writes held
 * it back and when, what the fix could have done to them (`risk`), and what to do.
 */
function heldBackBy(hold: LeaseHold, risk: string): string {
  const writes = hold.unrecovered.map((intent) => `${intent.method} ${intent.path} (at ${intent.at})`);
  const listed = writes.slice(0, 3).join(', ') + (writes.length > 3 ? ` and ${writes.length - 3} more` : '');
  return (
    `gateway writes the master took are not published yet (${listed}), and ${risk}; ` +
    `once the next gateway write or the gateway sweep has published them, reconcile the node again`
  );
}

/** The layer groups the node's store holds (live), in the store's order. */
async function storedGroups(deps: JobRunnerDeps, node: string): Promise<StoredObject[]> {
  const liveness = new Liveness((refs) => deps.store.readObjects(node, refs));
  const groups: StoredObject[] = [];
  let after: string | undefined;
  do {
    const page = await deps.store.listObjects(node, { type: 'layerGroup', limit: deps.pageSize ?? 100, ...(after === undefined ? {} : { after }) });
    const alive = await liveness.live(page.objects);
    groups.push(...page.objects.filter((_, index) => alive[index]));
    after = page.next;
  } while (after !== undefined);
  return groups;
}

/**
 * Whether an entry (or the root layer) of the layer group `group` refers to the layer or group
 * `id`, as GeoServer resolves its name (`idsNamedBy`): a bare name never one of another workspace.
 */
function refersTo(group: string, value: JsonValue | undefined, id: string): boolean {
  const name = referencedName(value);
  return name !== undefined && idsNamedBy(group, name).includes(id);
}

/**
 * Values kept by ids, found as `refersTo` finds an id: one lookup per entry where a scan of every
 * id per entry would be quadratic in a catalog of thousands of layer groups.
 */
class ByReference<V> {
  private readonly byId = new Map<string, V[]>();

  add(id: string, value: V): void {
    const values = this.byId.get(id);
    if (values) values.push(value);
    else this.byId.set(id, [value]);
  }

  /** The values of every id `entry`, an entry of the layer group `group`, refers to. */
  find(group: string, entry: JsonValue | undefined): readonly V[] {
    const name = referencedName(entry);
    return name === undefined ? [] : idsNamedBy(group, name).flatMap((id) => this.byId.get(id) ?? []);
  }
}

/** The largest of `values`, or 0. */
function latest(values: readonly number[]): number {
  return values.reduce((max, value) => (value > max ? value : max), 0);
}

/**
 * Whether a layer group of `groups` (those the store holds) names the layer (an entry, or its root layer). A node's
 * GeoServer refuses to remove a layer a group names unless `recurse=true` ("Unable to delete layer
 * referenced by layer group"), whatever the master's GeoServer holds now: a group the master's
 * web UI took the layer out of as it removed the replaced resource (its change follows in the
 * capture), or one that names the new layer again and is otherwise as stored (no difference of
 * its own), which the nodes' GeoServers still hold naming the former one. What the cascade does
 * to those groups on the nodes is undone after the new layer's add (`groupsTakenByCascade`).
 */
function namedByStoredGroup(groups: readonly StoredObject[], layer: string): boolean {
  return groups.some((group) => layerGroupEntries(group.properties).some((entry) => refersTo(group.id, entry, layer)) || refersTo(group.id, group.properties.rootLayer, layer));
}

/**
 * The first layer group of `groups` (those the store holds) whose root layer is the layer `layer` (its id), if any. A
 * node's GeoServer refuses to remove such a layer even with `recurse=true`: the cascade
 * (CascadeDeleteVisitor) takes the layer out of the groups listing it among their entries only,
 * then the removal is refused ("Unable to delete layer referenced by layer group"), the cascade's
 * changes to those groups saved all the same.
 */
function rootLayerHolder(groups: readonly StoredObject[], layer: string): string | undefined {
  return groups.find((group) => refersTo(group.id, group.properties.rootLayer, layer))?.id;
}

/**
 * The stored layer groups a node's GeoServer changed in its cascade of the removal with `recurse`
 * of the `layers` (a layer's, or a store's: its resources' layers, whose ids are theirs)
 * (GeoServer's CascadeDeleteVisitor: the layer leaves every group listing it among its
 * entries, a group left without entries is removed, and leaves the groups listing it the same
 * way; a root layer is not an entry), those it removed marked `emptied`. Ordered so a group comes
 * after the groups among them that it names, as they must be added again.
 */
function groupsTakenByCascade(groups: readonly StoredObject[], layers: readonly string[]): { group: StoredObject; emptied: boolean }[] {
  // Each group's entries found by the ids they refer to (`ByReference` turned about): a taken id
  // reaches the entries referring to it, so the cascade is followed once, not group by group per round.
  const entries = groups.map((group) => layerGroupEntries(group.properties));
  const byId = new Map<string, { group: number; entry: number }[]>();
  entries.forEach((list, group) =>
    list.forEach((value, entry) => {
      const name = referencedName(value);
      if (name === undefined) return;
      for (const id of idsNamedBy(groups[group]!.id, name)) {
        const found = byId.get(id);
        if (found) found.push({ group, entry });
        else byId.set(id, [{ group, entry }]);
      }
    }),
  );
  const left = entries.map((list) => list.length);
  const takenEntries = new Set<string>();
  const changed = new Set<number>();
  const emptied = new Set<number>();
  const queue = [...layers];
  const seen = new Set<string>();
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    for (const { group, entry } of byId.get(id) ?? []) {
      if (takenEntries.has(`${group} ${entry}`)) continue;
      takenEntries.add(`${group} ${entry}`);
      changed.add(group);
      left[group]! -= 1;
      // Left without entries: removed, and taken out of the groups listing it.
      if (left[group] === 0) {
        emptied.add(group);
        queue.push(groups[group]!.id);
      }
    }
  }
  const emptiedIds = new Set([...emptied].map((group) => groups[group]!.id));
  return namedGroupsFirst(groups.filter((_, group) => changed.has(group))).map((group) => ({ group, emptied: emptiedIds.has(group.id) }));
}

/**
 * `affected` ordered so a group comes after the groups among them that it names, as they must be
 * added again: at each place the first in the order given whose named groups are all placed (the
 * first left where groups name one another in a loop).
 */
function namedGroupsFirst(affected: readonly StoredObject[]): StoredObject[] {
  const index = new ByReference<number>();
  affected.forEach((group, at) => index.add(group.id, at));
  const names = affected.map((group, at) => new Set(layerGroupEntries(group.properties).flatMap((entry) => index.find(group.id, entry).filter((other) => other !== at))));
  const namedBy = affected.map((): number[] => []);
  names.forEach((named, at) => named.forEach((other) => namedBy[other]!.push(at)));
  const waiting = names.map((named) => named.size);
  const placed = affected.map(() => false);
  // The groups ready (all they name placed), the first in the order given on top: a binary heap.
  const ready: number[] = [];
  const push = (at: number) => {
    ready.push(at);
    for (let i = ready.length - 1; i > 0 && ready[(i - 1) >> 1]! > ready[i]!; i = (i - 1) >> 1) [ready[i], ready[(i - 1) >> 1]] = [ready[(i - 1) >> 1]!, ready[i]!];
  };
  const pop = (): number | undefined => {
    const top = ready[0];
    const last = ready.pop();
    if (ready.length > 0 && last !== undefined) {
      ready[0] = last;
      for (let i = 0; ; ) {
        const smallest = [2 * i + 1, 2 * i + 2].filter((child) => child < ready.length && ready[child]! < ready[i]!).sort((a, b) => ready[a]! - ready[b]!)[0];
        if (smallest === undefined) break;
        [ready[i], ready[smallest]] = [ready[smallest]!, ready[i]!];
        i = smallest;
      }
    }
    return top;
  };
  waiting.forEach((count, at) => {
    if (count === 0) push(at);
  });
  const ordered: StoredObject[] = [];
  let unplaced = 0;
  while (ordered.length < affected.length) {
    while (placed[unplaced]) unplaced += 1;
    const next = pop() ?? unplaced;
    placed[next] = true;
    ordered.push(affected[next]!);
    for (const holder of namedBy[next]!) {
      if (placed[holder]) continue;
      waiting[holder]! -= 1;
      if (waiting[holder] === 0) push(holder);
    }
  }
  return ordered;
}

/**
 * The stored layer groups (live) a removal with `recurse` changed on the nodes' GeoServers and no
 * write has published since, as `groupsTakenByCascade` reckons them, in its order: a group naming
 * a layer taken by a cascade later than the group's own `lastSequence` (`cascadeSequences`), or
 * a group such groups emptied after it. The removal's capture publishes them again after it
 * (`regroups`); one stopped before that (its node paused, the job failed, lapsed or cancelled)
 * leaves them so, while the master's GeoServer and store agree on them: no scan finds them.
 */
async function groupsPendingCascade(deps: JobRunnerDeps, node: string): Promise<{ group: StoredObject; emptied: boolean }[]> {
  const groups = await storedGroups(deps, node);
  return groupsChangedSince(groups, await cascadeSequences(deps, node, groups));
}

/**
 * `groupsTakenByCascade` with each layer's cascade sequence (`taken`: layer id → the sequence of
 * the latest removal with recurse that took it): a group changed on the nodes since its last write
 * names a layer taken after it, or a group every entry of which was taken after it (emptied then,
 * so removed on the nodes, and with it that entry). That group may have been published again
 * since (by the capture that stopped): its entries now stand for those it had then, so a group
 * naming it is, at worst, published once more than needed, as the master's GeoServer holds it.
 */
function groupsChangedSince(groups: readonly StoredObject[], taken: ReadonlyMap<string, number>): { group: StoredObject; emptied: boolean }[] {
  if (taken.size === 0) return [];
  const memo = new Map<string, number>();
  // The cascade sequences of the layers, and the groups, an entry may refer to: looked up, not scanned per entry.
  const layerSequences = new ByReference<number>();
  for (const [id, sequence] of taken) layerSequences.add(id, sequence);
  const namedGroups = new ByReference<StoredObject>();
  for (const group of groups) namedGroups.add(group.id, group);
  // The latest cascade after `since` that took what `entry` (of the group `holder`) names on the nodes: 0 where none did.
  const takenAfter = (holder: string, entry: JsonValue, since: number, within: readonly string[]): number => {
    const layers = layerSequences.find(holder, entry).filter((sequence) => sequence > since);
    const named = namedGroups.find(holder, entry).filter((group) => !within.includes(group.id));
    return latest([...layers, ...named.map((group) => emptiedAfter(group, since, [...within, group.id]))]);
  };
  // When every entry of `group` had been taken after `since`: 0 where some never was.
  const emptiedAfter = (group: StoredObject, since: number, within: readonly string[]): number => {
    const key = `${group.id}@${since}`;
    if (!memo.has(key)) {
      const at = layerGroupEntries(group.properties).map((entry) => takenAfter(group.id, entry, since, within));
      memo.set(key, at.length > 0 && at.every((sequence) => sequence > 0) ? Math.max(...at) : 0);
    }
    return memo.get(key)!;
  };
  const changed = groups.flatMap((group) => {
    const at = layerGroupEntries(group.properties).map((entry) => takenAfter(group.id, entry, group.lastSequence, [group.id]));
    return at.some((sequence) => sequence > 0) ? [{ group, emptied: at.every((sequence) => sequence > 0) }] : [];
  });
  const emptied = new Set(changed.filter((change) => change.emptied).map((change) => change.group.id));
  return namedGroupsFirst(changed.map((change) => change.group)).map((group) => ({ group, emptied: emptied.has(group.id) }));
}

/**
 * For the layers the `groups` name (a qualified name, or a workspace group's local one), the
 * sequence of the latest removal with `recurse` that took each on the nodes, as the store records
 * it (`cascadedAt`, kept when the object is added again): the layer's own, its resource's (any
 * resource type: the layer of a replaced resource names the new one), or that of a container of
 * that resource (its store, its workspace) removed after the resource's last change.
 */
async function cascadeSequences(deps: JobRunnerDeps, node: string, groups: readonly StoredObject[]): Promise<Map<string, number>> {
  const ids = new Set<string>();
  for (const group of groups) {
    const { workspace } = splitObjectId(group.id);
    for (const entry of layerGroupEntries(group.properties)) {
      const name = referencedName(entry);
      if (name === undefined) continue;
      if (name.includes(':')) ids.add(name);
      else if (workspace !== undefined) ids.add(`${workspace}:${name}`);
    }
  }
  const read = async (refs: readonly ObjectRef[]): Promise<StoredObject[]> => {
    const found: StoredObject[] = [];
    for (let i = 0; i < refs.length; i += 100) found.push(...(await deps.store.readObjects(node, refs.slice(i, i + 100))));
    return found;
  };
  const named = await read([...ids].flatMap((id) => (['layer', ...RESOURCE_TYPES] as ObjectType[]).map((type) => ({ type, id }) as ObjectRef)));
  const resources = named.filter((object) => isResourceType(object.type));
  const containerRefs = new Map(resources.flatMap((resource) => parentsOf(resource)).map((ref) => [objectStorageKey(ref), ref] as const));
  const containers = new Map((await read([...containerRefs.values()])).map((object) => [objectStorageKey(object), object] as const));
  const sequences = new Map<string, number>();
  const takenAt = (id: string, sequence: number | undefined) => {
    if (sequence !== undefined && sequence > (sequences.get(id) ?? 0)) sequences.set(id, sequence);
  };
  for (const object of named) {
    takenAt(object.id, object.cascadedAt);
    if (!isResourceType(object.type)) continue;
    for (const parent of parentsOf(object)) {
      const container = containers.get(objectStorageKey(parent));
      if (container?.cascadedAt !== undefined && container.cascadedAt > object.lastSequence) takenAt(object.id, container.cascadedAt);
    }
  }
  return sequences;
}

/** The type of the resource a layer's properties name (`resource['@class']`). */
function resourceClassOf(layer: JsonObject): string | undefined {
  const resource = layer.resource;
  return isJsonObject(resource) && typeof resource['@class'] === 'string' ? resource['@class'] : undefined;
}

/**
 * Capture order: what the GeoServer has (adds, modifies) in dependency order, then what the store
 * holds and the GeoServer lacks where the store states it deepest first (removals, or the moves of
 * resources held under another store, after that store's add and before the former store's removal);
 * a layer group's removal before those of the groups it holds (`outerGroupsFirst`): every node's
 * GeoServer refuses to remove a group another group still holds; its add or modify after the adds
 * and modifies of the groups it holds (`innerGroupsFirst`): every node's GeoServer drops an entry
 * naming a group it lacks.
 *
 * A stored resource the GeoServer holds as a resource of another type under the same id (a feature
 * type removed and a coverage of its name made in the web UI) is removed before that one is added:
 * GeoServer refuses a second resource of a name in a namespace, so every node would refuse the add.
 * Its layer (GeoServer's, of the same id) is removed before it, and added again, as the new
 * resource's, after that resource; both removals come after the stores and styles are added and
 * before any resource is, and the former resource's store is removed with the other removals.
 * The layer's removal takes `recurse` where a group the store holds names it
 * (`namedByStoredGroup`); the groups its cascade changed on the nodes are published again after
 * every layer is added and before the other groups' differences (a `regroups` entry per replaced
 * layer), so a group the master holds naming the new layer again, otherwise unchanged, is no
 * longer left on the nodes without it. A group published again there that names a group this
 * capture adds has that add published before it, there (`regroup`), not at its own place.
 *
 * So too a stored store the GeoServer holds as a store of another type under the same id (a data
 * store removed and a coverage store of its name made in the web UI): GeoServer refuses a store
 * name a store of any type has in the workspace. Its removal (`replacedStore`: with `recurse`
 * where it still holds resources, `replacedStoreRemoval`) comes before the new store's add, after
 * the other stores and styles are added and the resources moved out of stores (moved before
 * their former store's removal, which would otherwise delete them on the nodes); what it held
 * goes with it on the nodes, its own removals then finding nothing to remove. The groups that
 * cascade changed are published again as a replaced layer's are (a `regroups` entry per store).
 */
function captureOrder(entries: DriftEntry[]): CaptureEntry[] {
  const upserts = innerGroupsFirst(entries.filter((entry) => entry.kind !== 'missing').sort((a, b) => dependencyRank(a.type) - dependencyRank(b.type)));
  const removals = outerGroupsFirst(entries.filter((entry) => entry.kind === 'missing').sort((a, b) => dependencyRank(b.type) - dependencyRank(a.type)));
  // The stored objects of `isType` the GeoServer holds one of another such type of the id of, and that one's type.
  const replacedOf = (isType: (type: ObjectType) => boolean) => {
    const replacing = new Map(entries.filter((entry) => entry.kind === 'extra' && isType(entry.type)).map((entry) => [entry.id, entry.type] as const));
    const ids = new Set(removals.filter((entry) => isType(entry.type) && replacing.has(entry.id) && replacing.get(entry.id) !== entry.type).map((entry) => entry.id));
    return { replacing, ids };
  };
  const { replacing, ids: replacedIds } = replacedOf(isResourceType);
  const { ids: replacedStoreIds } = replacedOf(isStoreType);
  if (replacedIds.size === 0 && replacedStoreIds.size === 0) return [...upserts, ...removals];
  const replacedLayer = (entry: DriftEntry) => entry.type === 'layer' && replacedIds.has(entry.id);
  const replacedStore = (entry: DriftEntry) => isStoreType(entry.type) && replacedStoreIds.has(entry.id);
  // Every move out of a store, before any replaced store's removal with recurse.
  const moves = replacedStoreIds.size === 0 ? [] : removals.filter((entry) => isResourceType(entry.type) && entry.store !== undefined);
  const storeRemovals = removals.filter(replacedStore);
  const stores: CaptureEntry[] = [...moves, ...storeRemovals.map((entry): CaptureEntry => ({ ...entry, replacedStore: true })), ...upserts.filter(replacedStore)];
  const first: CaptureEntry[] = [
    // A layer the GeoServer still holds (the new resource's) is removed here and added at its place below.
    ...upserts.filter(replacedLayer).map((entry): CaptureEntry => ({ kind: 'missing', type: entry.type, id: entry.id, replaced: replacing.get(entry.id) }) as CaptureEntry),
    ...removals.filter((entry) => replacedIds.has(entry.id) && (entry.type === 'layer' || isResourceType(entry.type))),
  ];
  const before = upserts.filter((entry) => dependencyRank(entry.type) < dependencyRank('featureType') && !replacedStore(entry));
  const resources = upserts.filter((entry) => dependencyRank(entry.type) >= dependencyRank('featureType') && dependencyRank(entry.type) < dependencyRank('layerGroup'));
  const groups = upserts.filter((entry) => dependencyRank(entry.type) >= dependencyRank('layerGroup'));
  const regroups = [
    ...[...replacedIds].map((id): CaptureEntry => ({ kind: 'different', type: 'layer', id, regroups: true }) as CaptureEntry),
    ...storeRemovals.map((entry): CaptureEntry => ({ kind: 'different', type: entry.type, id: entry.id, regroups: true }) as CaptureEntry),
  ];
  const rest = removals.filter((entry) => !moves.includes(entry) && !storeRemovals.includes(entry) && !first.includes(entry));
  return [...before, ...stores, ...first, ...resources, ...regroups, ...groups, ...rest];
}

/**
 * The entry that publishes again, in every capture, the groups earlier removals with `recurse`
 * changed on the nodes and nothing published since (`groupsPendingCascade`): none after a capture
 * that ran to its end, whose `regroups` published them.
 */
const PENDING_REGROUPS: CaptureEntry = { kind: 'different', type: 'layerGroup', id: '', pendingRegroups: true } as CaptureEntry;

/**
 * `PENDING_REGROUPS` placed in a capture's order where `regroups` go: after every add and modify
 * of the layers and what they need (and this capture's `regroups`), before the groups'
 * differences, which may name the groups it adds again.
 */
function withPendingRegroups(order: readonly CaptureEntry[]): CaptureEntry[] {
  const rank = dependencyRank('layerGroup');
  let at = 0;
  order.forEach((entry, index) => {
    if (entry.regroups || (entry.kind !== 'missing' && dependencyRank(entry.type) < rank)) at = index + 1;
  });
  return [...order.slice(0, at), PENDING_REGROUPS, ...order.slice(at)];
}

function requireRest(deps: JobRunnerDeps, job: Job): GeoServerRest {
  if (!deps.rest) throw new Error(`node ${job.node} has no GeoServer`);
  return deps.rest;
}
