/** How the status API renders a status over HTTP: body, validator and poll hints. */
import { header, json, type HttpEvent, type HttpResult } from '../shared/http';
import { isCompleted, type ExecutionStatus } from './execution';

/**
 * Strong validator of one stored state. The version alone would repeat if an id were removed
 * and reused, so the last update instant is folded in.
 */
export function etagOf(status: ExecutionStatus): string {
  return `"${status.version}-${Date.parse(status.lastUpdated).toString(36)}"`;
}

/** If-None-Match per RFC 9110: a list of tags, weak or strong, or `*`. */
export function matchesIfNoneMatch(event: HttpEvent, etag: string): boolean {
  const value = header(event, 'if-none-match');
  if (value === undefined) return false;
  if (value.trim() === '*') return true;
  return value.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Version a client asked for with If-Match (`"<version>-..."` as handed out in ETag). */
export function ifMatchVersion(event: HttpEvent): number | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const match = /^"?(\d+)(-[0-9a-z]+)?"?$/.exec(value.trim());
  return match ? Number(match[1]) : Number.NaN;
}

export function pollHeaders(status: ExecutionStatus, defaultRetryAfterSeconds: number, now = new Date()): Record<string, string> {
  const headers: Record<string, string> = { etag: etagOf(status) };
  if (isCompleted(status.phase)) {
    headers['cache-control'] = 'private, max-age=60';
  } else {
    const hinted = status.nextPoll ? Math.ceil((Date.parse(status.nextPoll) - now.getTime()) / 1000) : undefined;
    headers['retry-after'] = String(hinted !== undefined && hinted > 0 ? hinted : defaultRetryAfterSeconds);
    headers['cache-control'] = 'no-cache';
  }
  return headers;
}

export function statusResponse(statusCode: number, status: ExecutionStatus, extraHeaders: Record<string, string> = {}): HttpResult {
  return json(statusCode, status, { etag: etagOf(status), ...extraHeaders });
}
