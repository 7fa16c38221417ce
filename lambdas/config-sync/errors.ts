/**
 * Typed errors of configuration sync. They extend the shared `AppError`, so the one HTTP
 * mapping (status + `{ code, message }`) serves both services.
 */
import { AppError } from '../shared/errors';
import type { ObjectRef } from './objects';

// The event model throws these, and the ports (which IdempotencyKeyTakenError below names)
// import the event model: they live apart so that no module imports itself through the others.
export { InvalidConfigEventError, type FieldIssue } from './event-errors';

/** 403: GeoServer's rule "never change configuration using a pure slave", enforced. */
export class PureSlavePublishError extends AppError {
  constructor(readonly node: string) {
    super(403, 'PURE_SLAVE', `Node ${node} is a pure slave: configuration changes must be published by a master`);
  }
}

/**
 * 403: a node with a GeoServer publishes through the REST gateway, which sends each change to
 * that GeoServer first. A change published through the JSON API never reaches it (the node's own
 * events are its GeoServer's already, apply.ts "Own events"), and the node's next capture would
 * publish its removal.
 */
export class GeoServerNodePublishError extends AppError {
  constructor(readonly node: string) {
    super(
      403,
      'GEOSERVER_NODE',
      `Node ${node} has a GeoServer: publish its changes through the REST gateway (/geoserver/rest/...), which sends them to that GeoServer first; a change published here would never reach it`,
    );
  }
}

/** 404: a node name that the cluster configuration does not declare. */
export class UnknownNodeError extends AppError {
  constructor(
    readonly node: string,
    readonly cluster: string,
  ) {
    super(404, 'NODE_NOT_FOUND', `Node ${node} is not a member of cluster ${cluster}`);
  }
}

/** 404: a node's store holds no object of this type and id. */
export class CatalogObjectNotFoundError extends AppError {
  constructor(node: string, type: string, id: string) {
    super(404, 'OBJECT_NOT_FOUND', `Node ${node} holds no ${type} ${id}`);
  }
}

/**
 * 409: an event or snapshot of another cluster reached this node. Clusters sharing an account must
 * never see each other's events (GeoServer's `group`), so this is a wiring fault; applying
 * it would silently merge two clusters' configurations.
 */
export class WrongClusterError extends AppError {
  /** @param what the event or snapshot, e.g. `Event 12` or `Snapshot at 40` */
  constructor(node: string, nodeCluster: string, otherCluster: string, what: string) {
    super(
      409,
      'CLUSTER_MISMATCH',
      `${what} of cluster ${otherCluster} reached node ${node} of cluster ${nodeCluster}`,
      undefined,
      { node, nodeCluster, otherCluster },
    );
  }
}

/**
 * 409: events a node needs to close a gap are not in the event log. Holes left by publishers
 * are waited for and closed as void (see `EventLog.closeHoles`), so this means the log was
 * trimmed past the node's cursor: the node must bootstrap again from a snapshot. (A hole still
 * younger than the grace period is `EventsNotYetWrittenError`.)
 */
export class EventsMissingFromLogError extends AppError {
  constructor(
    readonly cluster: string,
    readonly node: string,
    readonly missing: readonly number[],
  ) {
    super(
      409,
      'RESYNC_REQUIRED',
      `Events ${describeSequences(missing)} of cluster ${cluster} are missing from the event log; ` +
        `node ${node} must resync from a snapshot`,
      undefined,
      { cluster, node, missing: [...missing] },
    );
  }
}

/**
 * 503: events a node needs are allocated in the log but not written yet, and stayed so for
 * longer than the applier waits. Their publisher is still within the log's grace period (or
 * died so recently that the hole cannot be closed yet); nothing is wrong with the node, and a
 * later attempt reads them or finds them closed as void. Transient: never counted toward
 * parking, retried by the queue.
 */
export class EventsNotYetWrittenError extends AppError {
  readonly transient = true;

  constructor(
    readonly cluster: string,
    readonly node: string,
    readonly waiting: readonly number[],
  ) {
    super(
      503,
      'EVENTS_NOT_YET_WRITTEN',
      `Events ${describeSequences(waiting)} of cluster ${cluster} are allocated but not written yet; ` +
        `node ${node} applies them once their publisher writes them or the log closes them as void ` +
        `(a publisher that died leaves them for the log's grace period)`,
      undefined,
      { cluster, node, waiting: [...waiting] },
    );
  }
}

/**
 * 409: a node store refused to advance the cursor although nobody else advanced it. The
 * cursor write is a compare-and-swap; a refusal with an unchanged cursor means the store
 * is misbehaving, and retrying would spin forever.
 */
export class CursorContentionError extends AppError {
  constructor(node: string, cursor: number, sequence: number) {
    super(
      409,
      'CURSOR_CONFLICT',
      `Node ${node}: the store refused to advance its cursor from ${cursor} to ${sequence} but the cursor did not move`,
      undefined,
      { node, cursor, sequence },
    );
  }
}

function describeSequences(sequences: readonly number[]): string {
  const first = sequences[0];
  const last = sequences[sequences.length - 1];
  if (first === undefined || last === undefined) return '(none)';
  if (sequences.length === 1) return String(first);
  return sequences.length === last - first + 1 ? `${first}..${last}` : sequences.join(', ');
}

/**
 * Not an HTTP answer by itself: the event log found the `Idempotency-Key` already claimed. The
 * publish path turns it into the original answer, or a 422 when the body differs.
 */
export class IdempotencyKeyTakenError extends Error {
  constructor(readonly record: import('./ports').IdempotencyRecord) {
    super(`Idempotency-Key ${record.key} of node ${record.node} already committed sequence ${record.sequence}`);
    this.name = 'IdempotencyKeyTakenError';
  }
}

/** 422: the same `Idempotency-Key` was sent with another body. */
export class IdempotencyKeyReusedError extends AppError {
  constructor(key: string, sequence: number) {
    super(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key ${key} was used for another request body (it committed sequence ${sequence}); use a new key for a new change`,
      'Idempotency-Key',
      { sequence },
    );
  }
}

/** 409: the request that claimed this key committed its change and has not answered yet. */
export class IdempotentRequestInProgressError extends AppError {
  constructor(key: string, sequence: number) {
    super(
      409,
      'IDEMPOTENT_REQUEST_IN_PROGRESS',
      `The request with Idempotency-Key ${key} committed sequence ${sequence} and is still finishing; retry in a second`,
      'Idempotency-Key',
      { sequence },
      1,
    );
  }
}

/**
 * 503: the sequences allocated to a change set were voided before it was written (the write
 * came later than the log's grace period, so readers closed the hole). Nothing was stored;
 * the same request can be sent again.
 */
export class SequenceRangeAbandonedError extends AppError {
  constructor(first: number, last: number) {
    super(
      503,
      'SEQUENCES_ABANDONED',
      `Sequences ${first}..${last} were given up as void before this change was written; nothing was stored, send it again`,
      undefined,
      { first, last },
      1,
    );
  }
}

/** 413: a change set whose stored form exceeds one DynamoDB transaction (4 MB, 100 items). */
export class ChangeSetTooLargeError extends AppError {
  constructor(message: string) {
    super(413, 'CHANGE_SET_TOO_LARGE', message);
  }
}

/**
 * 409: a redrive left a parked remove with `recurse` in its record (apply.ts `retryParked`): its
 * node applied objects inside the removed one after it (a workspace added again, then filled), or
 * layers and layer groups naming a style of the removed style's name after it, and the GeoServer's
 * recursive delete, applied now, would take them too (reset their styles, for a style), while the
 * node's store and the master keep them. A resync rebuilds the node and its GeoServer from a master's snapshot.
 */
export class RecursiveRemoveWouldTakeLaterObjectsError extends AppError {
  constructor(
    readonly node: string,
    readonly sequence: number,
    readonly object: ObjectRef,
    readonly later: readonly ObjectRef[],
  ) {
    const shown = later.slice(0, 5).map((ref) => `${ref.type} ${ref.id}`);
    const more = later.length > shown.length ? ` and ${later.length - shown.length} more` : '';
    super(
      409,
      'REMOVE_WOULD_TAKE_LATER_OBJECTS',
      `Event ${sequence} (remove with recurse of ${object.type} ${object.id}) stays parked on node ${node}: ` +
        `its GeoServer would ${object.type === 'style' ? 'reset the styles of' : 'delete with it'} ${shown.join(', ')}${more}, which the node applied after it; ` +
        `resync the node (POST /nodes/${node}/resync) to rebuild it and its GeoServer from a master`,
    );
  }
}
