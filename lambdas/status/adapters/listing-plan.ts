/**
 * Which index partitions a listing reads (pure, so every filter combination is unit-tested):
 *
 * - an owner and a process together: the owner-and-process index; otherwise an owner, process
 *   or node (the first given of userName, processName, nodeId): that attribute's index; the
 *   partitions of the groups the phases ask for;
 * - otherwise completed phases: the completion index, one partition set per phase;
 *   active phases: the heartbeat index;
 * - a completion-time range keeps only completed phases and bounds the sort key;
 * - no filter at all: a table scan, one page per request.
 *
 * Whatever a partition holds beyond the listing (a second attribute; one active phase of the
 * ACTIVE group or the heartbeat index) is filtered by DynamoDB as it reads, within a read budget.
 */
import { ACTIVE_PHASES, PHASES, type Phase } from '../execution';
import { MAX_PROCESS_NAMES, type ListQuery } from '../ports';
import {
  BY_ATTRIBUTE,
  BY_USER_PROCESS,
  COMPLETION,
  HEARTBEAT,
  LISTING_ATTRIBUTES,
  attributePartition,
  completedPartition,
  shardName,
  userProcessValue,
  type ListingAttribute,
  type ListingGroup,
  type StatusIndex,
} from './status-table';

/** One index partition a listing reads. */
export interface PartitionSource {
  readonly index: StatusIndex;
  readonly partition: string;
  /** Keep only these phases (the partition holds others too). */
  readonly phases?: readonly Phase[];
}

export interface IndexPlan {
  readonly kind: 'index';
  readonly sources: readonly PartitionSource[];
  /** Exclusive upper bound of the sort value. */
  readonly below?: string;
  /** Exclusive lower bound of the sort value. */
  readonly above?: string;
  /** Attributes no chosen index partition is keyed by, filtered as read. */
  readonly attributes: Partial<Record<ListingAttribute, string>>;
}

export type ListingPlan = { readonly kind: 'scan' } | { readonly kind: 'empty' } | IndexPlan;

const COMPLETED: readonly Phase[] = ['SUCCEEDED', 'FAILED'];

/** The processes a listing asks for, each once, or undefined for any. */
export function processNamesOf(query: Pick<ListQuery, 'processName'>): readonly string[] | undefined {
  if (query.processName === undefined) return undefined;
  return typeof query.processName === 'string' ? [query.processName] : [...new Set(query.processName)].sort();
}

export function planListing(query: ListQuery, shards: number): ListingPlan {
  const processes = processNamesOf(query);
  if (processes !== undefined && processes.length === 0) return { kind: 'empty' };
  if (processes !== undefined && processes.length > MAX_PROCESS_NAMES) {
    throw new RangeError(`A listing reads at most ${MAX_PROCESS_NAMES} processes by index, not ${processes.length}`);
  }
  const bounded = query.completedBefore !== undefined || query.completedAfter !== undefined;
  const given = LISTING_ATTRIBUTES.filter((attribute) => query[attribute] !== undefined);
  if (query.phases === undefined && given.length === 0 && !bounded) return { kind: 'scan' };

  let phases: readonly Phase[] = query.phases?.length ? [...new Set(query.phases)] : PHASES;
  // Only a completed execution has a completion time.
  if (bounded) phases = phases.filter((phase) => COMPLETED.includes(phase));
  if (phases.length === 0) return { kind: 'empty' };
  const active = phases.filter((phase) => ACTIVE_PHASES.includes(phase));
  // A partition of active statuses holds all three active phases; filter only when asked for fewer.
  const activeFilter = active.length < ACTIVE_PHASES.length ? active : undefined;
  const completed = phases.filter((phase) => COMPLETED.includes(phase));
  const everyShard = Array.from({ length: shards }, (_, shard) => shard);

  const sources: PartitionSource[] = [];
  // An owner and a process together have their own index; otherwise the first attribute given.
  const paired = query.userName !== undefined && query.processName !== undefined;
  const keyedBy: readonly ListingAttribute[] = paired ? ['userName', 'processName'] : given.slice(0, 1);
  const secondary = given.filter((attribute) => !keyedBy.includes(attribute));
  const primary = given[0];
  if (primary !== undefined) {
    const index = paired ? BY_USER_PROCESS : BY_ATTRIBUTE[primary];
    // Several processes: each one's partitions, merged like the shards of one.
    const values = paired
      ? (processes ?? []).map((process) => userProcessValue(query.userName as string, process))
      : primary === 'processName'
        ? (processes ?? [])
        : [query[primary] as string];
    const groups: Array<[ListingGroup, readonly Phase[] | undefined]> = [
      ...(active.length > 0 ? [['ACTIVE', activeFilter] as [ListingGroup, readonly Phase[] | undefined]] : []),
      ...completed.map((phase): [ListingGroup, undefined] => [phase as ListingGroup, undefined]),
    ];
    for (const value of values) {
      for (const [group, filter] of groups) {
        for (const shard of everyShard) sources.push({ index, partition: attributePartition(value, group, shard), phases: filter });
      }
    }
  } else {
    for (const phase of completed) {
      for (const shard of everyShard) sources.push({ index: COMPLETION, partition: completedPartition(phase, shard) });
    }
    if (active.length > 0) {
      for (const shard of everyShard) sources.push({ index: HEARTBEAT, partition: shardName(shard), phases: activeFilter });
    }
  }
  // The process is always read by index (alone or with the owner), so what is left is one value each.
  const attributes: Partial<Record<ListingAttribute, string>> = {};
  for (const attribute of secondary) attributes[attribute] = query[attribute] as string;
  return {
    kind: 'index',
    sources,
    below: query.completedBefore,
    // Strictly after T: past every `T#<id>`, whatever the id.
    above: query.completedAfter === undefined ? undefined : `${query.completedAfter}#\uffff`,
    attributes,
  };
}

/**
 * What a cursor is bound to: the filters of the listing that issued it (not its limit, which a
 * client may change between pages). A cursor presented with other filters is refused.
 */
export function listingFingerprint(query: ListQuery): string {
  return JSON.stringify([
    query.phases === undefined ? null : [...new Set(query.phases)].sort(),
    query.userName ?? null,
    processNamesOf(query) ?? null,
    query.nodeId ?? null,
    query.completedBefore ?? null,
    query.completedAfter ?? null,
    // Only where there are any: the cursors of every other listing stay as they were issued.
    ...(query.callerFilters === undefined ? [] : [query.callerFilters]),
  ]);
}
