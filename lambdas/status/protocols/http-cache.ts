/**
 * Poll caching for the status documents of every protocol: validators, 304 matching, when to
 * come back, and how long a cache may keep an answer. Polling is the bulk of this API's traffic;
 * a 304 saves the body and a good Retry-After saves the request.
 */
import { isCompleted, type ExecutionStatus } from '../execution';

/**
 * The validator of one stored state: `W/"<executionId>:<version>:<lastUpdated>"`.
 *
 * - `version` changes on every stored change, which is exactly when the document changes.
 * - `lastUpdated` is folded in because a removed id can be reused and start again at version 1.
 * - The id is percent-encoded: ETag characters are limited (RFC 9110 8.8.3) and ids are not.
 * - Weak, because documents also carry things that are not part of the stored state: the WPS 2.0
 *   NextPoll hint moves with the clock and links follow the request's host. Two renderings of
 *   one version are equivalent, not byte-identical, which is what a weak tag promises, and
 *   If-None-Match compares weakly anyway (RFC 9110 13.1.2), so 304s work the same.
 */
export function etagFor(status: ExecutionStatus): string {
  const updated = Date.parse(status.lastUpdated);
  const updatedTag = Number.isNaN(updated) ? '0' : updated.toString(36);
  return `W/"${encodeURIComponent(status.executionId)}:${status.version}:${updatedTag}"`;
}

/**
 * The validator of a document that also shows an instant taken from the clock (WPS 2.0's
 * NextPoll, `now` plus a default when the node gave none): the state's tag with that instant,
 * in whole seconds, folded in. A cache revalidating such a document would otherwise get 304s
 * for as long as the state stays the same, and its client would read a NextPoll long past and
 * poll again at once, in a loop (`shownInstantStillAhead`).
 */
export function etagWithInstant(status: ExecutionStatus, instant: Date): string {
  return `${etagFor(status).slice(0, -1)}:t${Math.floor(instant.getTime() / 1000).toString(36)}"`;
}

/**
 * The tag of `If-None-Match` naming a rendering of `status` (`etagWithInstant`) whose instant
 * is still ahead of `now`, so the cached document is as good as a new one: the 304 names it.
 * `undefined` when none does: the state changed, or the instant the client holds has passed.
 */
export function shownInstantStillAhead(header: string | undefined, status: ExecutionStatus, now: Date): string | undefined {
  if (header === undefined) return undefined;
  const state = opaqueTag(etagFor(status))?.slice(0, -1);
  for (const tag of parseEntityTags(header) ?? []) {
    if (state === undefined || !tag.startsWith(`${state}:t`)) continue;
    const seconds = tag.slice(state.length + 2, -1);
    if (/^[0-9a-z]{1,12}$/.test(seconds) && parseInt(seconds, 36) * 1000 > now.getTime()) return `W/${tag}`;
  }
  return undefined;
}

/**
 * Whether an `If-None-Match` header matches a current ETag, so the answer can be 304.
 * Handles lists, `*` (any current representation) and weak tags, using the weak comparison
 * RFC 9110 13.1.2 prescribes for If-None-Match. A malformed header matches nothing: answering
 * 200 with the document is always safe, a wrong 304 is not.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const current = opaqueTag(etag);
  if (current === undefined) return false;
  const tags = parseEntityTags(header);
  return tags !== undefined && tags.some((tag) => tag === current);
}

/** Whether `header` is a list of entity tags (`"a", W/"b"`), as If-None-Match and If-Match carry. */
export function isEntityTagList(header: string): boolean {
  const tags = parseEntityTags(header);
  return tags !== undefined && tags.length > 0;
}

/** The quoted part of an entity tag, without the weakness marker. */
function opaqueTag(tag: string): string | undefined {
  const match = /^\s*(?:W\/)?("[^"]*")\s*$/.exec(tag);
  return match?.[1];
}

/**
 * Parses `#entity-tag` with a scanner rather than `split(',')`: a comma is a legal character
 * inside an opaque tag, so splitting would cut `"a,b"` in two.
 */
function parseEntityTags(header: string): string[] | undefined {
  const tags: string[] = [];
  let i = 0;
  const skipSeparators = (): void => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
  };
  skipSeparators();
  while (i < header.length) {
    if (header.startsWith('W/', i)) i += 2;
    if (header[i] !== '"') return undefined;
    const end = header.indexOf('"', i + 1);
    if (end < 0) return undefined;
    tags.push(header.slice(i, end + 1));
    i = end + 1;
    while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i++;
    if (i < header.length && header[i] !== ',') return undefined;
    skipSeparators();
  }
  return tags;
}

/** Poll hints apply while a job is waiting or running; a dismissed job is over for its client. */
function isPollable(status: ExecutionStatus): boolean {
  return (status.phase === 'QUEUED' || status.phase === 'RUNNING') && status.dismissed !== true;
}

/** Never ask a client to come back later than this, whatever a node wrote in nextPoll. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * When the client should poll next: the node's `nextPoll` while it is still ahead, otherwise
 * `now + defaultSeconds`. A `nextPoll` in the past (the node stopped updating it, or clocks
 * differ) would tell clients to poll immediately and forever, so it is ignored.
 * Undefined for jobs that are finished or dismissed: there is nothing left to poll for.
 */
export function nextPollAt(status: ExecutionStatus, now: Date, defaultSeconds: number): Date | undefined {
  if (!isPollable(status)) return undefined;
  return hintedNextPollAt(status.nextPoll, now, defaultSeconds);
}

/**
 * The poll instant from a node's `nextPoll` hint alone, without asking whether the job is still
 * worth polling (callers that decide that differently, like the node JSON API, use this).
 */
export function hintedNextPollAt(nextPoll: string | undefined, now: Date, defaultSeconds: number): Date {
  const hinted = nextPoll === undefined ? Number.NaN : Date.parse(nextPoll);
  const latest = now.getTime() + MAX_RETRY_AFTER_SECONDS * 1000;
  if (!Number.isNaN(hinted) && hinted > now.getTime()) return new Date(Math.min(hinted, latest));
  return new Date(now.getTime() + Math.max(1, defaultSeconds) * 1000);
}

/** Whole seconds (at least 1) from `now` until `next`: the `Retry-After` value. */
export function secondsUntil(next: Date, now: Date): number {
  return Math.max(1, Math.ceil((next.getTime() - now.getTime()) / 1000));
}

/** `Retry-After` in whole seconds (at least 1) for a pollable job, else undefined. */
export function retryAfterSeconds(status: ExecutionStatus, now: Date, defaultSeconds: number): number | undefined {
  const next = nextPollAt(status, now, defaultSeconds);
  if (next === undefined) return undefined;
  return secondsUntil(next, now);
}

export interface CacheOptions {
  /**
   * How long a finished job's document may be reused without asking. It is not forever: a
   * dismiss removes a finished job and cleanup expires it, and a cache should notice within
   * this time. @default 300
   */
  finishedMaxAgeSeconds?: number;
  /**
   * Whether shared caches (a CDN) may keep the document. Set false when the route is
   * authenticated per user, so one user's job is never served to another. @default true
   */
  shared?: boolean;
}

/**
 * `Cache-Control` for a status document. A finished job changes only by disappearing, so it may
 * be kept for a while; an active job changes on every progress write, so caches may store it
 * but must revalidate each time (`no-cache`), which with the ETag costs a 304, not a body.
 */
export function cacheControl(status: ExecutionStatus, options: CacheOptions = {}): string {
  const { finishedMaxAgeSeconds = 300, shared = true } = options;
  const scope = shared ? 'public' : 'private';
  if (isCompleted(status.phase)) return `${scope}, max-age=${Math.max(0, Math.floor(finishedMaxAgeSeconds))}`;
  return `${scope}, no-cache`;
}

export interface PollHeaderOptions extends CacheOptions {
  now: Date;
  /** Retry-After for running jobs whose node gave no (future) nextPoll. */
  defaultRetryAfterSeconds: number;
}

/**
 * Every poll-related header for one status document, for the 200 and the 304 alike (RFC 9110
 * 15.4.5 asks a 304 to repeat ETag and Cache-Control).
 */
export function pollHeaders(status: ExecutionStatus, options: PollHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    etag: etagFor(status),
    'cache-control': cacheControl(status, options),
  };
  const retryAfter = retryAfterSeconds(status, options.now, options.defaultRetryAfterSeconds);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return headers;
}
