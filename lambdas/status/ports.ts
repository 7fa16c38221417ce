import type { ActiveWrite, ExecutionStatus, Phase } from './execution';

/**
 * The most processes one listing may name: each is read from its own index partitions (groups x
 * shards). A caller with more filters the rest itself.
 */
export const MAX_PROCESS_NAMES = 5;

export interface ListQuery {
  phases?: Phase[];
  /** One process, or any of a few (at most MAX_PROCESS_NAMES, each read from its own partitions). */
  processName?: string | readonly string[];
  userName?: string;
  nodeId?: string;
  /** ISO 8601: only executions completed strictly before this instant. */
  completedBefore?: string;
  /** ISO 8601: only executions completed strictly after this instant. */
  completedAfter?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /**
   * Filters the caller applies to what the store answers (GET /jobs: `datetime`, durations, more
   * process ids than an index reads), as one canonical string: a cursor is bound to it as to
   * the store's own filters, so a next link sent with other values of them is refused.
   */
  callerFilters?: string;
}

export interface Page {
  items: ExecutionStatus[];
  /** Present when more items may follow. */
  cursor?: string;
}

/** The shared status map (GeoServer's wpsExecutionStatusMap). */
export interface StatusStore {
  get(executionId: string): Promise<ExecutionStatus | undefined>;
  /**
   * Stores `next` only if the stored version is still `expectedVersion` (0: must not exist yet).
   * Returns false when another writer got there first.
   */
  put(next: ExecutionStatus, expectedVersion: number): Promise<boolean>;
  /**
   * Applies `write` in one conditional update when the stored status meets its conditions (its
   * phase is one of `from`, not dismissed, matching immutable fields, and a stored `lastUpdated`
   * no later than the write's), and returns the new status; returns undefined (changing nothing) when it does not, or is absent.
   */
  applyActiveWrite(executionId: string, write: ActiveWrite): Promise<ExecutionStatus | undefined>;
  /** Removes the status only if its stored version is still `expectedVersion`. */
  remove(executionId: string, expectedVersion: number): Promise<boolean>;
  list(query: ListQuery): Promise<Page>;
  /** Completed statuses with completionTime before `cutoff`, oldest first, in pages. */
  completedBefore(cutoff: string, limit: number, cursor?: string): Promise<Page>;
  /** Active statuses whose last heartbeat is before `cutoff`, oldest first, in pages. */
  silentSince(cutoff: string, limit: number, cursor?: string): Promise<Page>;
}
