/**
 * OGC API - Processes - Part 1: Core 1.0 (OGC 18-062r2): job status, job list, results,
 * conformance and exception bodies, rendered from stored execution statuses.
 * Schemas: schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/schemas/ (statusInfo.yaml,
 * jobList.yaml, exception.yaml, link.yaml, confClasses.yaml, results.yaml).
 */
import { AppError, GoneError, NotFoundError } from '../../shared/errors';
import { DISMISSED_EXCEPTION, isCompleted, type ExecutionStatus } from '../execution';
// One output name for the recorded result location in every protocol.
import { RESULT_OUTPUT_ID } from './wps1';

export const OGC_STATUS_CODES = ['accepted', 'running', 'successful', 'failed', 'dismissed'] as const;
export type OgcStatusCode = (typeof OGC_STATUS_CODES)[number];

/** link.yaml: only `href` is required. */
export interface OgcLink {
  href: string;
  rel?: string;
  type?: string;
  hreflang?: string;
  title?: string;
}

/** statusInfo.yaml: `jobID`, `status` and `type` are required. */
export interface StatusInfo {
  jobID: string;
  status: OgcStatusCode;
  type: 'process';
  processID?: string;
  message?: string;
  created?: string;
  started?: string;
  finished?: string;
  updated?: string;
  progress?: number;
  links?: OgcLink[];
}

/** jobList.yaml. */
export interface JobList {
  jobs: StatusInfo[];
  links: OgcLink[];
}

/** exception.yaml (RFC 7807 shape): only `type` is required; extra members are allowed. */
export interface OgcExceptionBody {
  type: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** The exception schema and the 1.0 OpenAPI document serve exceptions as application/json. */
export const OGC_JSON_CONTENT_TYPE = 'application/json';

export const REL_RESULTS = 'http://www.opengis.net/def/rel/ogc/1.0/results';

export const EXCEPTION_TYPES = {
  noSuchJob: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job',
  resultNotReady: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready',
  /**
   * Processes 1.0 defines no type URI for the remaining cases (invalid parameter, a dismiss of a
   * dismissed job, results of a failed or dismissed job); RFC 7807's `about:blank` says "the
   * HTTP status says it all" instead of inventing an OGC-looking URI that resolves nowhere.
   */
  generic: 'about:blank',
} as const;

/**
 * Conformance classes of OGC API - Processes - Part 1: Core 1.0 whose resources this API serves.
 * The `core` class is not declared: it requires a landing page, the process list, process
 * descriptions and execution (`/processes/...`), which belong to the GeoServer nodes running the
 * processes, not to the cluster that keeps their jobs' status. The job classes name `core` as
 * their prerequisite, so this is a partial declaration: what a client may rely on here.
 */
export const CONFORMANCE_CLASSES = [
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json',
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list',
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss',
] as const;

/** `GET /conformance` (confClasses.yaml). */
export function conformance(): { conformsTo: string[] } {
  return { conformsTo: [...CONFORMANCE_CLASSES] };
}

/**
 * The OGC status of a stored one. A dismiss reads as `dismissed` from the request on (DISMISSING)
 * and after the node stopped the job (FAILED with `dismissed`), as the client asked for.
 */
export function ogcStatusOf(status: ExecutionStatus): OgcStatusCode {
  if (status.dismissed === true || status.phase === 'DISMISSING') return 'dismissed';
  switch (status.phase) {
    case 'QUEUED':
      return 'accepted';
    case 'RUNNING':
      return 'running';
    case 'SUCCEEDED':
      return 'successful';
    case 'FAILED':
      return 'failed';
  }
}

/**
 * `GET /jobs/{jobId}`: statusInfo for one execution.
 * - `message`: the node's task text while accepted or running; for a failed job its exception
 *   message; for a dismissed one the dismissal (or the exception the node stopped it with).
 * - `started`: `startTime`, the time of the write that took the job from QUEUED to RUNNING
 *   (execution.ts), the moment WPS answers switch from Accepted to Running. Absent while the job
 *   is accepted, for a job that ended without running, and for a job stored before start times
 *   were recorded: its start is unknown, and `created` would claim it never waited in the queue.
 * - `finished`: `completionTime`, set once when the job completed.
 * - `updated`: `lastUpdated`, the node's last write (heartbeat).
 *
 * For the answer to a DELETE, pass `{ ...status, dismissed: true }`, and for a job the dismiss
 * removed because it had completed, also `exception: REMOVED_COMPLETED_JOB`: its last stored
 * state would otherwise not say dismissed, or say it was dismissed before it completed.
 */
export function statusInfo(status: ExecutionStatus, baseUrl: string): StatusInfo {
  const ogcStatus = ogcStatusOf(status);
  const jobUrl = jobHref(baseUrl, status.executionId);
  const links: OgcLink[] = [{ href: jobUrl, rel: 'self', type: OGC_JSON_CONTENT_TYPE, title: 'Job status' }];
  if (ogcStatus === 'successful') {
    links.push({ href: `${jobUrl}/results`, rel: REL_RESULTS, type: OGC_JSON_CONTENT_TYPE, title: 'Job results' });
  }
  const created = rfc3339(status.creationTime);
  return prune({
    jobID: status.executionId,
    status: ogcStatus,
    type: 'process',
    processID: status.processName,
    message: messageOf(status, ogcStatus),
    created,
    started: rfc3339(status.startTime),
    finished: isCompleted(status.phase) ? rfc3339(status.completionTime) : undefined,
    updated: rfc3339(status.lastUpdated),
    progress: clampProgress(status.progress),
    links,
  });
}

function messageOf(status: ExecutionStatus, ogcStatus: OgcStatusCode): string | undefined {
  if (ogcStatus === 'dismissed') return status.exception?.message ?? DISMISSED_EXCEPTION.message;
  if (ogcStatus === 'failed') return status.exception?.message ?? status.task;
  // The task is the node's last progress text, stale once the job succeeded.
  if (ogcStatus === 'successful') return 'Process succeeded';
  return status.task;
}

// The answer to a DELETE of a job that had already completed: one text for every protocol.
export { REMOVED_COMPLETED_JOB } from '../execution';

/** `GET /jobs`: the page of jobs with the list's own links (self, next). */
export function jobList(statuses: readonly ExecutionStatus[], links: readonly OgcLink[], baseUrl: string): JobList {
  return { jobs: statuses.map((status) => statusInfo(status, baseUrl)), links: [...links] };
}

/** The list's links: `self`, and `next` when another page exists (Processes 1.0 job-list). */
export function jobListLinks(selfHref: string, nextHref?: string): OgcLink[] {
  const links: OgcLink[] = [{ href: selfHref, rel: 'self', type: OGC_JSON_CONTENT_TYPE, title: 'This page of jobs' }];
  if (nextHref !== undefined) links.push({ href: nextHref, rel: 'next', type: OGC_JSON_CONTENT_TYPE, title: 'Next page of jobs' });
  return links;
}

/**
 * `GET /jobs/{jobId}/results` (results.yaml: output id -> inline value or link). The status
 * table keeps one result URL per execution, published as a link; a successful job without one
 * has no outputs to show, which is an empty results object.
 * @throws OgcApiException 404 result-not-ready while accepted or running; 400 with the job's
 *   exception when it failed; 410 when it was dismissed (its results will never exist).
 */
export function results(status: ExecutionStatus, instance?: string): Record<string, OgcLink> {
  const ogcStatus = ogcStatusOf(status);
  switch (ogcStatus) {
    case 'successful':
      return status.resultLocation === undefined
        ? {}
        : { [RESULT_OUTPUT_ID]: { href: status.resultLocation, title: 'Result' } };
    case 'accepted':
    case 'running':
      throw resultNotReady(status.executionId, instance);
    case 'failed':
      throw jobFailed(status, instance);
    case 'dismissed':
      throw new OgcApiException(410, {
        type: EXCEPTION_TYPES.generic,
        title: 'Job dismissed',
        detail: `Job ${status.executionId} was dismissed; it has no results`,
        instance,
      });
  }
}

/** An exception with its OGC body; an AppError so an unrendered one still gets its status. */
export class OgcApiException extends AppError {
  readonly body: OgcExceptionBody;

  constructor(status: number, body: OgcExceptionBody) {
    super(status, body.title ?? 'OGC_API_EXCEPTION', body.detail ?? body.title ?? body.type);
    this.body = prune({ ...body, status });
  }
}

/** 404 for an unknown or expired job id. */
export function noSuchJob(jobId: string, instance?: string): OgcApiException {
  return new OgcApiException(404, {
    type: EXCEPTION_TYPES.noSuchJob,
    title: 'No such job',
    detail: `Job ${jobId} does not exist: it was never submitted, was removed after a dismiss, or expired`,
    instance,
  });
}

/** 404 while a job has no results yet. */
export function resultNotReady(jobId: string, instance?: string): OgcApiException {
  return new OgcApiException(404, {
    type: EXCEPTION_TYPES.resultNotReady,
    title: 'Result not ready',
    detail: `Job ${jobId} has not finished yet; poll its status and ask again once it is successful`,
    instance,
  });
}

/** 410 for a dismiss of a job already dismissed. */
export function alreadyDismissed(jobId: string, instance?: string): OgcApiException {
  return new OgcApiException(410, {
    type: EXCEPTION_TYPES.generic,
    title: 'Job already dismissed',
    detail: `Job ${jobId} was already dismissed`,
    instance,
  });
}

/**
 * Results of a failed job. Processes 1.0 asks for a 4xx or 5xx exception describing the
 * failure; 400 is used because the API itself worked (a job failing must not count against the
 * API's 5xx error rate or invite automatic retries), and the job's own exception is passed on:
 * its code as `title` and extension member `code`, its message as `detail`.
 */
export function jobFailed(status: ExecutionStatus, instance?: string): OgcApiException {
  return new OgcApiException(400, {
    type: EXCEPTION_TYPES.generic,
    title: status.exception?.code ?? 'Job failed',
    detail: status.exception?.message ?? `Job ${status.executionId} failed without reporting a reason`,
    instance,
    ...(status.exception ? { code: status.exception.code } : {}),
  });
}

/** 400 naming a bad query parameter. */
export function invalidParameter(name: string, detail: string, instance?: string): OgcApiException {
  return new OgcApiException(400, { type: EXCEPTION_TYPES.generic, title: `Invalid parameter ${name}`, detail, instance });
}

/**
 * Maps what the domain's `dismiss()` and lookups throw to the OGC answers: unknown id -> 404
 * no-such-job, already dismissed -> 410. Other errors are not protocol errors and are returned
 * as undefined for the shared error mapping to handle.
 */
export function toOgcApiException(error: unknown, jobId: string, instance?: string): OgcApiException | undefined {
  if (error instanceof OgcApiException) return error;
  if (error instanceof NotFoundError) return noSuchJob(jobId, instance);
  if (error instanceof GoneError) return alreadyDismissed(jobId, instance);
  return undefined;
}

export interface JobListQuery {
  /** 1-10000, default 10 (Processes 1.0 job-list `limit`). */
  limit: number;
  /** Only jobs of these processes, when given. */
  processIds?: string[];
  /** Only jobs in these OGC statuses, when given. */
  statuses?: OgcStatusCode[];
  /** Only jobs of these types, when given (every job here is of type `process`). */
  types?: string[];
  /** Only jobs created in this interval, inclusive (epoch ms; either end may be open), when given: `datetime`. */
  created?: { readonly from?: number; readonly to?: number };
  /** Only jobs that have run at least / at most this many seconds (started jobs only), when given. */
  minDuration?: number;
  maxDuration?: number;
}

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 10_000;

function jobHref(baseUrl: string, jobId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/jobs/${encodeURIComponent(jobId)}`;
}

/** RFC 3339 (UTC) from a stored timestamp; a value that does not parse is left out, not echoed. */
function rfc3339(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : new Date(millis).toISOString();
}

function clampProgress(progress: number): number | undefined {
  if (!Number.isFinite(progress)) return undefined;
  return Math.min(100, Math.max(0, Math.round(progress)));
}

/** Drops undefined members so the JSON carries only what is known. */
function prune<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
