/**
 * Pausing a node, as GeoServer's JMS module lets an operator switch a node's sending and
 * receiving off at run time: while paused, the node's queue keeps every event (nothing is
 * consumed, nothing lost) and its publishes are refused with 409 NODE_PAUSED. Resuming
 * re-enables consumption; the queue then delivers what accumulated, in order.
 *
 * The pause is recorded first and consumption switched second (and in reverse on resume), so
 * that a failure between the two leaves the node refusing publishes rather than half-running;
 * both steps are idempotent, so the operator simply repeats the call.
 */
import { ConflictError, ForbiddenError } from '../shared/errors';
import { canPublish, consumes, type ClusterNode } from '../shared/cluster-model';

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

export interface PauseDeps {
  readonly pauses: NodePauses;
  readonly consumption: ConsumptionSwitch;
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
  // A repeated pause keeps the first one's time and author.
  const state = (await deps.pauses.read(target.name)) ?? { since: now.toISOString(), by: caller.name };
  await deps.pauses.write(target.name, state);
  if (consumes(target.role)) await deps.consumption.setEnabled(target.name, false);
  return { node: target.name, paused: true, ...state, consumption: consumes(target.role) ? 'disabled' : 'none' };
}

export async function resumeNode(deps: PauseDeps, caller: ClusterNode, target: ClusterNode): Promise<PauseOutcome> {
  assertCanSwitch(caller, target, 'resume');
  if (consumes(target.role)) await deps.consumption.setEnabled(target.name, true);
  await deps.pauses.write(target.name, undefined);
  return { node: target.name, paused: false, consumption: consumes(target.role) ? 'enabled' : 'none' };
}

/** Refuses a paused node's publish. */
export async function assertNotPaused(pauses: NodePauses, node: string): Promise<void> {
  const state = await pauses.read(node);
  if (state) throw new NodePausedError(node, state);
}
