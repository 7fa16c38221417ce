/** How the status API renders a status over HTTP: body, validator and poll hints. */
import { ValidationError } from '../shared/errors';
import { header, json, type HttpEvent, type HttpResult } from '../shared/http';
import { isCompleted, type ExecutionStatus } from './execution';
import type { WriteCondition } from './service';
import { hintedNextPollAt, ifNoneMatchMatches, isEntityTagList, secondsUntil } from './protocols/http-cache';

/**
 * Strong validator of one stored state. The version alone would repeat if an id were removed
 * and reused, so the last update instant is folded in. Strong (unlike the protocol documents'
 * weak tags, see protocols/http-cache.ts) because nodes send it back in If-Match, which RFC 9110
 * 13.1.1 evaluates with the strong comparison: this JSON is the stored state, byte for byte.
 */
export function etagOf(status: ExecutionStatus): string {
  return `"${status.version}-${Date.parse(status.lastUpdated).toString(36)}"`;
}

/** If-None-Match per RFC 9110 (weak comparison, lists, `*`): the same matcher every poll route uses. */
export function matchesIfNoneMatch(event: HttpEvent, etag: string): boolean {
  return ifNoneMatchMatches(header(event, 'if-none-match'), etag);
}

/** An ETag as `etagOf` makes it. */
const STATUS_TAG = /^"\d+-[0-9a-z]+"$/;
/** The most tags one If-Match may list. */
const MAX_IF_MATCH_TAGS = 16;

/**
 * The condition a write's If-Match sets (RFC 9110 13.1.1): `*` holds for any existing status; a
 * list of ETags holds when the stored status's own ETag is one of them, compared whole (strong
 * comparison: the version and the update instant, so a tag of an execution since removed and
 * created again under the same id does not pass). Quotes may be left out, as earlier versions
 * of this API accepted. A weak tag of this API's form never matches (412). Absent header: `undefined`.
 *
 * @throws ValidationError when the header is neither `*` nor ETags this API hands out
 */
function ifMatchCondition(event: HttpEvent): WriteCondition | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const missing = (current: ExecutionStatus | undefined) => (current === undefined ? 'does not exist, so If-Match does not hold' : undefined);
  if (value.trim() === '*') return missing;
  const listed = value.split(',').map((tag) => tag.trim());
  // A weak tag (`W/"2-abc"`, one a proxy weakened on the way, e.g. by compressing the answer)
  // never passes the strong comparison: a 412 like any tag of another state, not a 400.
  const weak = listed.filter((tag) => tag.startsWith('W/')).map((tag) => tag.slice(2));
  const tags = listed.filter((tag) => !tag.startsWith('W/')).map((tag) => (tag.startsWith('"') ? tag : `"${tag}"`));
  if (listed.length > MAX_IF_MATCH_TAGS || ![...tags, ...weak].every((tag) => STATUS_TAG.test(tag))) {
    throw new ValidationError('If-Match', 'must be "*" or ETags returned by this API');
  }
  const whyNot = (current: ExecutionStatus) =>
    tags.length === 0
      ? `is at version ${current.version}; If-Match names weak ETags only, which never match a write (strong comparison): send the ETag this API returned, as it returned it`
      : `is at version ${current.version}, which If-Match does not name (send its current ETag)`;
  return (current) => missing(current) ?? (tags.includes(etagOf(current as ExecutionStatus)) ? undefined : whyNot(current as ExecutionStatus));
}

/**
 * The condition a write's If-None-Match sets (RFC 9110 13.1.2): `*` holds only where no status is
 * stored (create, never overwrite, another node's included); a list of ETags where the stored
 * one is none of them (weak comparison). Absent header: `undefined`.
 *
 * @throws ValidationError when the header is neither `*` nor a list of entity tags
 */
function ifNoneMatchCondition(event: HttpEvent): WriteCondition | undefined {
  const value = header(event, 'if-none-match');
  if (value === undefined) return undefined;
  if (value.trim() !== '*' && !isEntityTagList(value)) throw new ValidationError('If-None-Match', 'must be "*" or a list of ETags');
  return (current) =>
    current !== undefined && ifNoneMatchMatches(value, etagOf(current))
      ? `exists at version ${current.version}, which If-None-Match ${value.trim() === '*' ? '*' : 'names'} refuses to overwrite`
      : undefined;
}

/** Both conditions of a write (RFC 9110 13.2.2 evaluates If-Match first), or `undefined` for an unconditional write. */
export function writeCondition(event: HttpEvent): WriteCondition | undefined {
  const conditions = [ifMatchCondition(event), ifNoneMatchCondition(event)].filter((condition) => condition !== undefined);
  if (conditions.length === 0) return undefined;
  return (current) => conditions.map((condition) => condition(current)).find((reason) => reason !== undefined);
}

/**
 * Poll hints of the node API. Unlike the client protocols, a DISMISSING status still gets
 * Retry-After here: its node has yet to stop the job and write FAILED, and callers of this API
 * watch for that. The hint arithmetic is the protocols' own (node's nextPoll, capped, or default).
 */
export function pollHeaders(status: ExecutionStatus, defaultRetryAfterSeconds: number, now = new Date()): Record<string, string> {
  const headers: Record<string, string> = { etag: etagOf(status) };
  if (isCompleted(status.phase)) {
    headers['cache-control'] = 'private, max-age=60';
  } else {
    headers['retry-after'] = String(secondsUntil(hintedNextPollAt(status.nextPoll, now, defaultRetryAfterSeconds), now));
    headers['cache-control'] = 'no-cache';
  }
  return headers;
}

export function statusResponse(statusCode: number, status: ExecutionStatus, extraHeaders: Record<string, string> = {}): HttpResult {
  return json(statusCode, status, { etag: etagOf(status), ...extraHeaders });
}
