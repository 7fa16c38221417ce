/**
 * `GET /jobs` against the status store: OGC statuses and process ids become the store's phase and
 * processName filters (so an index serves the listing where one can), and what the store cannot
 * express (`type`, `datetime`, `minDuration`, `maxDuration`, failed vs dismissed) is filtered
 * here, page by page, without breaking the store's cursors.
 */
import type { ExecutionStatus, Phase } from '../execution';
import { MAX_PROCESS_NAMES, type StatusStore } from '../ports';
import { ogcStatusOf, type JobListQuery, type OgcStatusCode } from './ogcapi';

/**
 * Stored phases an OGC status can come from. `dismissed` is a dismiss in progress (DISMISSING) or
 * done (FAILED with `dismissed`); a FAILED row may be either, which the in-memory filter settles.
 */
const PHASES_OF: Readonly<Record<OgcStatusCode, readonly Phase[]>> = {
  accepted: ['QUEUED'],
  running: ['RUNNING'],
  successful: ['SUCCEEDED'],
  failed: ['FAILED'],
  dismissed: ['DISMISSING', 'FAILED'],
};

/**
 * The most jobs one page carries, whatever `limit` asks (Processes 1.0 lets a server serve less
 * than the limit and link `next`). 1000 statusInfo objects are well under a megabyte; 10,000
 * could approach Lambda's 6 MB response limit and its timeout.
 */
export const MAX_PAGE_SIZE = 1000;

/**
 * Store reads per page at most. Filters the store cannot apply (more than a few process ids,
 * failed vs dismissed) can leave a store page with few matches; a few more reads fill the page, and past
 * that the client follows `next` rather than one request scanning without bound.
 */
const MAX_READS_PER_PAGE = 5;

export interface JobPage {
  statuses: ExecutionStatus[];
  /** The store cursor for the next page, when more may follow. */
  cursor?: string;
}

/** The job type of every job of this API (Processes 1.0 job list, `type`). */
const JOB_TYPE = 'process';

/**
 * How long a job has run, in seconds (Processes 1.0: from `started` to `finished`, or to now while
 * it runs); undefined for a job with no start time, as its statusInfo shows no `started`
 * (ogcapi.ts): one still queued, one that ended without running, one stored before start times
 * were recorded. Time spent queued is not run time.
 */
function durationSeconds(status: ExecutionStatus, now: number): number | undefined {
  if (status.startTime === undefined) return undefined;
  const end = status.completionTime === undefined ? now : Date.parse(status.completionTime);
  return (end - Date.parse(status.startTime)) / 1000;
}

/** Whether a job passes the filters of the query that no store index serves: type, datetime, duration. */
function passesOtherFilters(query: JobListQuery, status: ExecutionStatus, now: number): boolean {
  const { created, minDuration, maxDuration } = query;
  if (created !== undefined) {
    const time = Date.parse(status.creationTime);
    if ((created.from !== undefined && time < created.from) || (created.to !== undefined && time > created.to)) return false;
  }
  if (minDuration === undefined && maxDuration === undefined) return true;
  const duration = durationSeconds(status, now);
  return duration !== undefined && (minDuration === undefined || duration >= minDuration) && (maxDuration === undefined || duration <= maxDuration);
}

export async function listJobs(store: StatusStore, query: JobListQuery, cursor?: string, now = Date.now()): Promise<JobPage> {
  // No job of the types asked for: an empty list, without reading the store.
  if (query.types !== undefined && !query.types.includes(JOB_TYPE)) return { statuses: [] };
  const pageSize = Math.min(query.limit, MAX_PAGE_SIZE);
  const phases = query.statuses ? [...new Set(query.statuses.flatMap((status) => PHASES_OF[status]))] : undefined;
  // Up to a few process ids are read by index; more are filtered here, as read.
  const ids = query.processIds;
  const processName = ids === undefined || ids.length > MAX_PROCESS_NAMES ? undefined : ids.length === 1 ? ids[0] : ids;
  const wanted = (status: ExecutionStatus): boolean =>
    (query.statuses === undefined || query.statuses.includes(ogcStatusOf(status))) &&
    (query.processIds === undefined || query.processIds.includes(status.processName)) &&
    passesOtherFilters(query, status, now);

  // What `wanted` checks beyond the store's filters: a cursor is bound to it too (when there is
  // any: an unfiltered list's cursors stay as they were issued).
  const own = [
    query.statuses === undefined ? null : [...new Set(query.statuses)].sort(),
    ids === undefined ? null : [...new Set(ids)].sort(),
    query.created ?? null,
    query.minDuration ?? null,
    query.maxDuration ?? null,
  ];
  const callerFilters = own.every((filter) => filter === null) ? undefined : JSON.stringify(own);
  const statuses: ExecutionStatus[] = [];
  let next = cursor;
  for (let read = 0; read < MAX_READS_PER_PAGE; read++) {
    // Asking only for what is still missing means every item read is consumed, so the store's
    // cursor after this read is exactly where the next page starts.
    const page = await store.list({ phases, processName, limit: pageSize - statuses.length, cursor: next, ...(callerFilters === undefined ? {} : { callerFilters }) });
    statuses.push(...page.items.filter(wanted));
    next = page.cursor;
    if (next === undefined || statuses.length >= pageSize) break;
  }
  return { statuses, cursor: next };
}
