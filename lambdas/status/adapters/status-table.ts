/**
 * The layout of the status table, in one place for the adapter that reads and writes it and the
 * CDK construct that declares it: its indexes, their key attributes and how their values are
 * built. Pure: no AWS imports, so the CDK app and unit tests use it freely.
 *
 * Every index is sparse and write-sharded: `s<k>` (k = FNV-1a of the execution id mod N) is
 * part of each partition value, so no single partition takes every write (docs/architecture.md,
 * "The status table and its indexes"). Every sort value ends in `#<executionId>`, so sort values
 * are unique and a page cursor is one string valid across every partition a listing reads.
 */
import { isCompleted, type ExecutionStatus, type Phase } from '../execution';

/** One global secondary index of the status table. */
export interface StatusIndex {
  readonly name: string;
  readonly partitionAttribute: string;
  readonly sortAttribute: string;
  /** `ALL`, or the non-key attributes the index carries besides the keys (INCLUDE). */
  readonly projection: 'ALL' | readonly string[];
}

/**
 * Completed statuses by completion time, one partition set per completed phase:
 * `<SUCCEEDED|FAILED>#s<k>` / `<completionTime>#<id>`. Serves completion-time and completed-phase
 * listings and cleanup.
 */
export const COMPLETION: StatusIndex = { name: 'byCompletionTime', partitionAttribute: 'completedShard', sortAttribute: 'completedSort', projection: 'ALL' };

/**
 * Active statuses by last heartbeat: `s<k>` / `<lastUpdated>#<id>`. Serves the reaper and
 * active-phase listings. Every progress write moves its sort value, so it carries whole items.
 */
export const HEARTBEAT: StatusIndex = { name: 'byHeartbeat', partitionAttribute: 'activeShard', sortAttribute: 'heartbeatSort', projection: 'ALL' };

/**
 * What the attribute indexes carry besides their keys: the fields a listing filters on. Progress
 * writes change none of them, so a progress write costs these indexes nothing (a changed
 * projected attribute would be an index write); the page's items are then read by key.
 */
const LISTED_FIELDS = ['phase', 'userName', 'processName', 'nodeId'] as const;

/** The attributes a listing can select by, each served by its own index. */
export const LISTING_ATTRIBUTES = ['userName', 'processName', 'nodeId'] as const;
export type ListingAttribute = (typeof LISTING_ATTRIBUTES)[number];

/**
 * Statuses by owner, by process and by node: `<value>#<group>#s<k>` / `<listed time>#<id>`,
 * where the group is ACTIVE, SUCCEEDED or FAILED and the listed time is the completion time of a
 * completed status and the creation time of an active one.
 */
export const BY_ATTRIBUTE: Readonly<Record<ListingAttribute, StatusIndex>> = {
  userName: { name: 'byUser', partitionAttribute: 'userKey', sortAttribute: 'listSort', projection: LISTED_FIELDS },
  processName: { name: 'byProcess', partitionAttribute: 'processKey', sortAttribute: 'listSort', projection: LISTED_FIELDS },
  nodeId: { name: 'byNode', partitionAttribute: 'nodeKey', sortAttribute: 'listSort', projection: LISTED_FIELDS },
};

/**
 * Statuses by owner and process together (GeoServer's GetExecutions filters by both):
 * `<owner and process>#<group>#s<k>` / `<listed time>#<id>`. Filtering one attribute index by
 * the other reads every execution of the owner to find the few of one process; this index reads
 * only the page. It exists only for executions that name an owner.
 */
export const BY_USER_PROCESS: StatusIndex = { name: 'byUserProcess', partitionAttribute: 'userProcessKey', sortAttribute: 'listSort', projection: LISTED_FIELDS };

export const STATUS_INDEXES: readonly StatusIndex[] = [
  COMPLETION,
  HEARTBEAT,
  ...LISTING_ATTRIBUTES.map((attribute) => BY_ATTRIBUTE[attribute]),
  BY_USER_PROCESS,
];

/** Attributes the table stores only for its indexes; they never leave the adapter. */
export const INDEX_ATTRIBUTES: readonly string[] = [
  ...new Set([...STATUS_INDEXES.flatMap((index) => [index.partitionAttribute, index.sortAttribute]), 'expiresAt']),
];

/**
 * The groups of an attribute index. Active phases share one group, so a progress write (QUEUED
 * or RUNNING, applied as one UpdateItem that cannot read the stored creation time) never changes
 * an attribute index key; a listing of one active phase filters the group, whose size is the
 * executions running or queued right now, not the retention.
 */
export type ListingGroup = 'ACTIVE' | 'SUCCEEDED' | 'FAILED';

export function groupOf(phase: Phase): ListingGroup {
  if (phase === 'SUCCEEDED' || phase === 'FAILED') return phase;
  return 'ACTIVE';
}

export function shardName(shard: number): string {
  return `s${shard}`;
}

/** FNV-1a: stable, fast and evenly spread over UUIDs; any node computes the same shard. */
export function shardOf(executionId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < executionId.length; i++) {
    hash ^= executionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export function completedPartition(phase: Phase, shard: number): string {
  return `${phase}#${shardName(shard)}`;
}

/**
 * `<value>#<group>#s<k>`. A value may itself contain `#`; the group and shard are read from the
 * right, so two different (value, group, shard) never meet in one partition.
 */
export function attributePartition(value: string, group: ListingGroup, shard: number): string {
  return `${value}#${group}#${shardName(shard)}`;
}

/**
 * The owner and process as one partition value: the owner's length first, so no two different
 * (owner, process) pairs give the same string whatever characters either contains.
 */
export function userProcessValue(userName: string, processName: string): string {
  return `${userName.length}:${userName}:${processName}`;
}

export function sortValue(time: string, executionId: string): string {
  return `${time}#${executionId}`;
}

/** The index attributes of a stored status: every key it is listed under. */
export function indexAttributes(status: ExecutionStatus, shards: number): Record<string, string | undefined> {
  const shard = shardOf(status.executionId, shards);
  const group = groupOf(status.phase);
  const completed = isCompleted(status.phase);
  const listedAt = completed ? (status.completionTime ?? status.lastUpdated) : status.creationTime;
  const attributes: Record<string, string | undefined> = {
    [BY_ATTRIBUTE.processName.partitionAttribute]: attributePartition(status.processName, group, shard),
    [BY_ATTRIBUTE.nodeId.partitionAttribute]: attributePartition(status.nodeId, group, shard),
    [BY_ATTRIBUTE.userName.partitionAttribute]: status.userName === undefined ? undefined : attributePartition(status.userName, group, shard),
    [BY_USER_PROCESS.partitionAttribute]:
      status.userName === undefined ? undefined : attributePartition(userProcessValue(status.userName, status.processName), group, shard),
    listSort: sortValue(listedAt, status.executionId),
  };
  if (completed) {
    attributes[COMPLETION.partitionAttribute] = completedPartition(status.phase, shard);
    attributes[COMPLETION.sortAttribute] = sortValue(status.completionTime ?? status.lastUpdated, status.executionId);
  } else {
    attributes[HEARTBEAT.partitionAttribute] = shardName(shard);
    attributes[HEARTBEAT.sortAttribute] = sortValue(status.lastUpdated, status.executionId);
  }
  return attributes;
}
