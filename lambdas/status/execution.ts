/**
 * The execution status model and its rules: which phase may follow which, what a node's write
 * does to the stored status, dismissal, and when a status is lost or expired.
 *
 * Pure code: no AWS, no clock. Every function takes `now` so schedules and tests control time.
 */
import { AppError, ConflictError, GoneError, NotFoundError } from '../shared/errors';

export const PHASES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'DISMISSING', 'FAILED'] as const;
export type Phase = (typeof PHASES)[number];

export const COMPLETED_PHASES: readonly Phase[] = ['SUCCEEDED', 'FAILED'];
export const ACTIVE_PHASES: readonly Phase[] = ['QUEUED', 'RUNNING', 'DISMISSING'];

export function isCompleted(phase: Phase): boolean {
  return COMPLETED_PHASES.includes(phase);
}

/**
 * Valid predecessors of each phase, as GeoServer's status tracker defines them
 * (REFERENCE.md 1). A write to the same phase is always valid and is not listed.
 */
const PREDECESSORS: Record<Phase, readonly Phase[]> = {
  QUEUED: [],
  RUNNING: ['QUEUED'],
  SUCCEEDED: ['RUNNING'],
  DISMISSING: ['QUEUED', 'RUNNING'],
  FAILED: ['QUEUED', 'RUNNING', 'DISMISSING'],
};

export function canTransition(from: Phase, to: Phase): boolean {
  return from === to || PREDECESSORS[to].includes(from);
}

export interface ExecutionException {
  code: string;
  message: string;
}

export interface ExecutionStatus {
  executionId: string;
  processName: string;
  phase: Phase;
  /** 0-100. */
  progress: number;
  /** Text of the current step. */
  task?: string;
  /** The node running the execution: the writer of every write but one recording a dismiss. */
  nodeId: string;
  userName?: string;
  creationTime: string;
  /** The running node's heartbeat: set on every write by a node. */
  lastUpdated: string;
  /**
   * When the execution started running: the time of the write that took it from QUEUED to RUNNING,
   * set once and never overwritten. Absent while it is queued, for one that completed or was
   * dismissed without running, and for executions stored before start times were recorded (their
   * start is unknown, and is not made up). GeoServer's status records no start time.
   */
  startTime?: string;
  /** Set once, when the phase first becomes SUCCEEDED or FAILED; never overwritten. */
  completionTime?: string;
  expirationDate?: string;
  estimatedCompletion?: string;
  nextPoll?: string;
  exception?: ExecutionException;
  resultLocation?: string;
  /** True once a dismiss was requested; the execution then reads as dismissed in every protocol. */
  dismissed?: boolean;
  /** Incremented on every stored change; the compare-and-swap token and the ETag. */
  version: number;
}

/** What a node sends to create or update a status. Omitted fields keep their stored value. */
export interface StatusWrite {
  phase: Phase;
  processName?: string;
  progress?: number;
  task?: string;
  userName?: string;
  creationTime?: string;
  expirationDate?: string;
  estimatedCompletion?: string;
  nextPoll?: string;
  exception?: ExecutionException;
  resultLocation?: string;
}

export class TransitionError extends ConflictError {
  constructor(from: Phase | undefined, to: Phase) {
    super(
      'INVALID_TRANSITION',
      from === undefined
        ? `Cannot create process status in phase ${to}: a new execution starts QUEUED`
        : `Cannot switch process status from ${from} to ${to}`,
      { from: from ?? null, to },
    );
  }
}

/** Refuses a progress write to an execution a client dismissed: the node must stop the job. */
export class ExecutionDismissedError extends ConflictError {
  constructor(status: ExecutionStatus) {
    super(
      'EXECUTION_DISMISSED',
      `Execution ${status.executionId} was dismissed: stop it and write phase FAILED`,
      { status },
    );
  }
}

export const DISMISSED_EXCEPTION: ExecutionException = {
  code: 'Dismissed',
  message: 'The execution was dismissed by a client before it completed',
};

/**
 * What the answer to a dismiss of an execution that had already completed says, in every
 * protocol: the dismiss removed it and its results (GeoServer's rule). The stored exception, if
 * any, is the job's own failure and says nothing about the dismiss; "dismissed before it
 * completed" would be false.
 */
export const REMOVED_COMPLETED_JOB: ExecutionException = {
  code: 'Dismissed',
  message: 'The job had already completed; dismissing it removed the job and its results',
};

export interface WriteContext {
  executionId: string;
  /** The authenticated node making the write. */
  nodeId: string;
  now: Date;
}

export interface WriteOutcome {
  status: ExecutionStatus;
  /** True when the write was turned into FAILED because the execution had been dismissed. */
  dismissed: boolean;
}

/**
 * Computes the status a node's write produces, or throws the reason it is refused.
 * The caller stores the result with a compare-and-swap on `current.version`.
 */
export function applyWrite(
  current: ExecutionStatus | undefined,
  write: StatusWrite,
  ctx: WriteContext,
): WriteOutcome {
  // Never behind what is stored: another writer's clock may run ahead of ours, and a status
  // whose lastUpdated went backwards (or ended before its completionTime) misleads every poller.
  const now = notBefore(ctx.now, current?.lastUpdated);

  if (current === undefined) {
    if (write.phase !== 'QUEUED') throw new TransitionError(undefined, write.phase);
    if (write.processName === undefined) {
      throw new AppError(400, 'INVALID_REQUEST', 'processName: required when an execution is created', 'processName');
    }
    return {
      dismissed: false,
      status: prune({
        executionId: ctx.executionId,
        processName: write.processName,
        phase: 'QUEUED',
        progress: write.progress ?? 0,
        task: write.task,
        nodeId: ctx.nodeId,
        userName: write.userName,
        // The node's own creation time, as GeoServer records it, but never later than this write:
        // a node whose clock runs ahead would make a status created after its own last update.
        creationTime: write.creationTime !== undefined && write.creationTime < now ? write.creationTime : now,
        lastUpdated: now,
        expirationDate: write.expirationDate,
        estimatedCompletion: write.estimatedCompletion,
        nextPoll: write.nextPoll,
        exception: write.exception,
        resultLocation: write.resultLocation,
        version: 1,
      }),
    };
  }

  for (const field of ['processName', 'userName'] as const) {
    const requested = write[field];
    if (requested !== undefined && current[field] !== undefined && requested !== current[field]) {
      throw new ConflictError(
        'IMMUTABLE_FIELD',
        `${field} of execution ${current.executionId} is '${current[field]}' and cannot change to '${requested}'`,
      );
    }
  }

  // Once an execution succeeded, its result location is what every poller was handed (and may
  // have cached): a later write may repeat it, or record one where none was, never replace it.
  if (
    isCompleted(current.phase) &&
    write.resultLocation !== undefined &&
    current.resultLocation !== undefined &&
    write.resultLocation !== current.resultLocation
  ) {
    throw new ConflictError(
      'IMMUTABLE_FIELD',
      `resultLocation of execution ${current.executionId} is '${current.resultLocation}', which its clients were given ` +
        `when it completed; it cannot change to '${write.resultLocation}'`,
    );
  }

  let phase = write.phase;
  let exception = write.exception ?? current.exception;
  let turnedToFailed = false;
  if (current.phase === 'DISMISSING' || current.dismissed) {
    if (phase === 'QUEUED' || phase === 'RUNNING') throw new ExecutionDismissedError(current);
    // GeoServer's rule: a job that succeeds after a dismiss ends FAILED.
    if (phase === 'SUCCEEDED' && !isCompleted(current.phase)) {
      phase = 'FAILED';
      exception = DISMISSED_EXCEPTION;
      turnedToFailed = true;
    } else if (phase === 'FAILED' && write.exception === undefined && !isCompleted(current.phase)) {
      // Ending now without a reason of its own: the dismiss is the reason. A FAILED written again
      // (a node's retried save) keeps the one stored, the job's own failure included.
      exception = DISMISSED_EXCEPTION;
    }
  }
  if (!canTransition(current.phase, phase)) throw new TransitionError(current.phase, phase);

  const completing = isCompleted(phase);
  const next: ExecutionStatus = {
    ...current,
    phase,
    progress: phase === 'SUCCEEDED' ? 100 : (write.progress ?? current.progress),
    task: write.task ?? current.task,
    // The node running the execution. A dismiss is recorded by whichever node a client sent it to
    // (GeoServer's WPSExecutionManager.cancel saves DISMISSING there), which runs nothing: like
    // DELETE /executions/{id}, it leaves nodeId alone, so the reaper's NodeLost names the right node.
    nodeId: phase === 'DISMISSING' ? current.nodeId : ctx.nodeId,
    userName: current.userName ?? write.userName,
    lastUpdated: now,
    // Only the move out of QUEUED starts the run: a RUNNING status without a start time was stored
    // before start times were recorded, and its real start is unknown.
    startTime: current.startTime ?? (current.phase === 'QUEUED' && phase === 'RUNNING' ? now : undefined),
    completionTime: current.completionTime ?? (completing ? now : undefined),
    expirationDate: write.expirationDate ?? current.expirationDate,
    estimatedCompletion: write.estimatedCompletion ?? current.estimatedCompletion,
    nextPoll: write.nextPoll ?? current.nextPoll,
    exception,
    resultLocation: write.resultLocation ?? current.resultLocation,
    // A node may write DISMISSING itself (a client sent Dismiss to its GeoServer): from then on
    // the execution is as dismissed as after DELETE /executions/{id}, to the end.
    ...(phase === 'DISMISSING' || current.phase === 'DISMISSING' ? { dismissed: true } : {}),
    version: current.version + 1,
  };
  return { status: prune(next), dismissed: turnedToFailed || current.dismissed === true };
}

/**
 * A write to QUEUED or RUNNING (a node's progress report, the most frequent write by far) as
 * one conditional update: it applies exactly as `applyWrite` would whenever the stored status
 * is in one of `from`, is not dismissed, and matches the write's immutable fields. When those
 * conditions fail the caller falls back to reading the status and `applyWrite`, which then
 * gives the precise answer (created, refused transition, dismissed, conflicting field).
 */
export interface ActiveWrite {
  /** Phases the stored status may be in: the written one and its predecessors. */
  readonly from: readonly Phase[];
  /** The stored processName must equal this, when the write names one. */
  readonly processName?: string;
  /** The stored userName must be absent or equal to this, which it then becomes. */
  readonly userName?: string;
  /**
   * A RUNNING write's time, which becomes the stored `startTime` when there is none: only a QUEUED
   * status lacks one (this write starts it). A status past QUEUED without one was stored before
   * start times were recorded, and must not match: the read path then keeps its start unknown.
   */
  readonly startTime?: string;
  /** Fields the write replaces; the version is incremented. */
  readonly set: Readonly<
    Pick<ExecutionStatus, 'phase' | 'nodeId' | 'lastUpdated'> &
      Partial<Pick<ExecutionStatus, 'progress' | 'task' | 'expirationDate' | 'estimatedCompletion' | 'nextPoll' | 'exception' | 'resultLocation'>>
  >;
}

/** The single-update form of `write`, or undefined when it may complete or dismiss (those always read first). */
export function activeWrite(write: StatusWrite, ctx: WriteContext): ActiveWrite | undefined {
  if (write.phase !== 'QUEUED' && write.phase !== 'RUNNING') return undefined;
  const now = ctx.now.toISOString();
  return prune({
    from: [write.phase, ...PREDECESSORS[write.phase]],
    processName: write.processName,
    userName: write.userName,
    startTime: write.phase === 'RUNNING' ? now : undefined,
    set: prune({
      phase: write.phase,
      nodeId: ctx.nodeId,
      lastUpdated: now,
      progress: write.progress,
      task: write.task,
      expirationDate: write.expirationDate,
      estimatedCompletion: write.estimatedCompletion,
      nextPoll: write.nextPoll,
      exception: write.exception,
      resultLocation: write.resultLocation,
    }),
  });
}

export type DismissOutcome =
  /** The execution was queued or running: it is now DISMISSING until its node stops it. */
  | { action: 'dismissing'; status: ExecutionStatus }
  /** The execution had completed: the status is removed. */
  | { action: 'remove'; status: ExecutionStatus };

/** What a client's dismiss (cancel) does to an execution. */
export function dismiss(current: ExecutionStatus | undefined, executionId: string): DismissOutcome {
  if (current === undefined) throw new NotFoundError('Execution', executionId);
  if (current.dismissed || current.phase === 'DISMISSING') {
    throw new GoneError('ALREADY_DISMISSED', `Execution ${executionId} was already dismissed`);
  }
  if (isCompleted(current.phase)) return { action: 'remove', status: current };
  return {
    action: 'dismissing',
    status: { ...current, phase: 'DISMISSING', dismissed: true, version: current.version + 1 },
  };
}

/**
 * The reaper's rule (GeoServer lacks it): an active status whose node stopped sending heartbeats
 * for longer than the timeout becomes FAILED, so clients stop polling forever.
 * Returns undefined when the status is not lost.
 */
export function reapIfLost(
  current: ExecutionStatus,
  now: Date,
  heartbeatTimeoutMs: number,
): ExecutionStatus | undefined {
  if (isCompleted(current.phase)) return undefined;
  const silentForMs = now.getTime() - Date.parse(current.lastUpdated);
  if (silentForMs <= heartbeatTimeoutMs) return undefined;
  // Failing it is an update: lastUpdated moves with completionTime so completionTime <= lastUpdated.
  const at = notBefore(now, current.lastUpdated);
  return {
    ...current,
    phase: 'FAILED',
    lastUpdated: at,
    completionTime: current.completionTime ?? at,
    // A dismiss its node had begun (stored before nodes' DISMISSING carried the flag) stays one.
    ...(current.phase === 'DISMISSING' ? { dismissed: true } : {}),
    exception: {
      code: 'NodeLost',
      message:
        `Node ${current.nodeId} stopped sending heartbeats: no update since ${current.lastUpdated} ` +
        `(timeout ${Math.round(heartbeatTimeoutMs / 1000)} s)`,
    },
    version: current.version + 1,
  };
}

/**
 * `now` as an ISO instant, or `stored` when that is later. Every write takes its time through
 * this, so `lastUpdated` never decreases and a completion time set on a write is never later
 * than any `lastUpdated` after it.
 */
export function notBefore(now: Date, stored: string | undefined): string {
  const iso = now.toISOString();
  return stored !== undefined && stored > iso ? stored : iso;
}

/**
 * Cleanup's rule, as GeoServer's: a completed status expires once both its completion and its
 * last update are older than the retention.
 */
export function isExpired(status: ExecutionStatus, now: Date, retentionMs: number): boolean {
  if (status.completionTime === undefined) return false;
  const cutoff = now.getTime() - retentionMs;
  return Date.parse(status.completionTime) < cutoff && Date.parse(status.lastUpdated) < cutoff;
}

/** Drops undefined fields so stored items and JSON responses carry only what is known. */
function prune<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
