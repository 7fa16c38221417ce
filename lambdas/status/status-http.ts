/** How the status API renders a status over HTTP: body, validator and poll hints. */
import { header, json, type HttpEvent, type HttpResult } from '../shared/http';
import { isCompleted, type ExecutionStatus } from './execution';
import { hintedNextPollAt, ifNoneMatchMatches, secondsUntil } from './protocols/http-cache';

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

/** Version a client asked for with If-Match (`"<version>-..."` as handed out in ETag). */
export function ifMatchVersion(event: HttpEvent): number | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const match = /^"?(\d+)(-[0-9a-z]+)?"?$/.exec(value.trim());
  return match ? Number(match[1]) : Number.NaN;
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
