/**
 * Pausing a node, as GeoServer's JMS module lets an operator switch a node's sending and
 * receiving off at run time: while paused, the node's queue keeps every event (nothing is
 * consumed, nothing lost) and its publishes are refused with 409 NODE_PAUSED. Resuming
 * re-enables consumption; the queue then delivers what accumulated, in order.
 *
 * The pause is recorded first and consumption switched second (and in reverse on resume), so
 * that a failure between the two leaves the node refusing publishes rather than half-running;
 * both steps are idempotent, so the operator simply repeats the call.
 *
 * One pause or resume of a node runs at a time (`SwitchLease`): the consumption switch is
 * last-writer-wins (an event source mapping's update), so a pause and a resume whose steps
 * interleaved could leave the record saying one thing and consumption doing the other (no
 * pause recorded, consumption off: a node that silently applies nothing). A call that finds
 * another in progress is refused with 409 SWITCH_IN_PROGRESS and changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { AppError, ConflictError, ForbiddenError } from '../shared/errors';
import { canPublish, consumes, type ClusterNode } from '../shared/cluster-nodes';

export interface PauseState {
  /** ISO-8601 instant of the pause. */
  readonly since: string;
  /** The node that paused it. */
  readonly by: string;
}

/** Where a node's pause is recorded (read by publishes and GET /nodes). */
export interface NodePauses {
  read(node: string): Promise<PauseState | undefined>;
  /** Records the pause, or clears it with `undefined`. */
  write(node: string, state: PauseState | undefined): Promise<void>;
}

/** The switch of a consuming node's queue consumption (in AWS its event source mapping). */
export interface ConsumptionSwitch {
  setEnabled(node: string, enabled: boolean): Promise<void>;
}

/** One pause or resume of a node at a time (see the file comment). */
export interface SwitchLease {
  /** Takes the node's lease for `owner` until `until` (epoch ms), unless another live owner holds it: whether it was taken. */
  acquire(node: string, owner: string, until: number): Promise<boolean>;
  /** Gives it up, if `owner` still holds it. */
  release(node: string, owner: string): Promise<void>;
}

export interface PauseDeps {
  readonly pauses: NodePauses;
  readonly consumption: ConsumptionSwitch;
  readonly lease: SwitchLease;
}

/**
 * How long a switch's lease lasts unless released: longer than the function may run (its
 * timeout is 10 s), so a live holder never loses it; one whose holder died ends by itself.
 */
export const SWITCH_LEASE_MS = 30_000;

/** 409: another pause or resume of the node is in progress. */
export class SwitchInProgressError extends ConflictError {
  constructor(node: string) {
    super('SWITCH_IN_PROGRESS', `Node ${node} is being paused or resumed by another request; nothing was changed: try again in a few seconds`);
  }
}

/** Seconds after which a refused consumption switch is worth repeating (a mapping's state change takes seconds). */
const SWITCH_BUSY_RETRY_SECONDS = 5;

/**
 * 409: the consumption switch refused the change because it is still changing state from an
 * earlier one (AWS Lambda refuses to update an event source mapping that is `Enabling`,
 * `Disabling` or `Updating`: a resume right after a pause). Repeating the request finishes it.
 */
export class ConsumptionSwitchBusyError extends AppError {
  constructor(node: string, enabled: boolean, cause: string) {
    super(
      409,
      'CONSUMPTION_SWITCH_BUSY',
      (enabled
        ? `Node ${node} is still paused: its queue consumption could not be enabled yet`
        : `Node ${node}'s pause is recorded (its publishes are refused), but its queue consumption could not be disabled yet`) +
        ` because its event source mapping is still changing state from an earlier pause or resume (${cause}). ` +
        `Repeat the ${enabled ? 'resume' : 'pause'} in a few seconds`,
      undefined,
      undefined,
      SWITCH_BUSY_RETRY_SECONDS,
    );
  }
}

async function oneAtATime<T>(deps: PauseDeps, node: string, work: () => Promise<T>): Promise<T> {
  const owner = randomUUID();
  if (!(await deps.lease.acquire(node, owner, Date.now() + SWITCH_LEASE_MS))) throw new SwitchInProgressError(node);
  try {
    return await work();
  } finally {
    // Should the release fail, the lease ends by itself.
    await deps.lease.release(node, owner).catch(() => undefined);
  }
}

export interface PauseOutcome {
  readonly node: string;
  readonly paused: boolean;
  readonly since?: string;
  readonly by?: string;
  /** Whether a queue's consumption was switched: a pure master has none. */
  readonly consumption: 'disabled' | 'enabled' | 'none';
}

/** 409: a paused node's publish. */
export class NodePausedError extends ConflictError {
  constructor(node: string, state: PauseState) {
    super('NODE_PAUSED', `Node ${node} is paused (since ${state.since}, by ${state.by}): resume it with POST /nodes/${node}/resume first`, {
      pausedSince: state.since,
      pausedBy: state.by,
    });
  }
}

/** Who may pause or resume a node: the node itself or a master, as for resync and redrive. */
export function assertCanSwitch(caller: ClusterNode, target: ClusterNode, action: 'pause' | 'resume'): void {
  if (caller.name !== target.name && !canPublish(caller.role)) {
    throw new ForbiddenError(`Node ${caller.name} may not ${action} node ${target.name}: only the node itself or a master may`);
  }
}

export async function pauseNode(deps: PauseDeps, caller: ClusterNode, target: ClusterNode, now: Date): Promise<PauseOutcome> {
  assertCanSwitch(caller, target, 'pause');
  return oneAtATime(deps, target.name, async () => {
    // A repeated pause keeps the first one's time and author.
    const state = (await deps.pauses.read(target.name)) ?? { since: now.toISOString(), by: caller.name };
    await deps.pauses.write(target.name, state);
    if (consumes(target.role)) await deps.consumption.setEnabled(target.name, false);
    return { node: target.name, paused: true, ...state, consumption: consumes(target.role) ? 'disabled' : 'none' };
  });
}

export async function resumeNode(deps: PauseDeps, caller: ClusterNode, target: ClusterNode): Promise<PauseOutcome> {
  assertCanSwitch(caller, target, 'resume');
  return oneAtATime(deps, target.name, async () => {
    if (consumes(target.role)) await deps.consumption.setEnabled(target.name, true);
    await deps.pauses.write(target.name, undefined);
    return { node: target.name, paused: false, consumption: consumes(target.role) ? 'enabled' : 'none' };
  });
}

/** Refuses a paused node's publish. */
export async function assertNotPaused(pauses: NodePauses, node: string): Promise<void> {
  const state = await pauses.read(node);
  if (state) throw new NodePausedError(node, state);
}
