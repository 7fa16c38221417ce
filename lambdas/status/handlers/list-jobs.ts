/**
 * GET /jobs: OGC API - Processes job list, filtered by `processID` and `status`, paged by `limit`
 * with a `next` link that carries the store's cursor. Needs a node or operator token, like
 * GET /executions: a listing hands out the ids that let anyone poll or dismiss a job.
 */
import { createHash } from 'node:crypto';
import { callerIdentity, header, textResult } from '../../shared/http';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { ifNoneMatchMatches } from '../protocols/http-cache';
import { baseUrlOf, ogcApiHandler, protocolSettingsFromEnv } from '../protocols/http-edge';
import { listJobs } from '../protocols/job-list';
import { parseJobListQuery } from '../protocols/job-list-query';
import { OGC_JSON_CONTENT_TYPE, jobList, jobListLinks } from '../protocols/ogcapi';

const store = statusStoreFromEnv({ listing: true });
const settings = protocolSettingsFromEnv();

/**
 * The page cursor's query parameter (Processes 1.0 leaves paging parameters to the server). A
 * cursor the store did not sign for the same filters is refused by it as a 400 naming `cursor`.
 */
const CURSOR = 'cursor';

export const handler = ogcApiHandler(async (event) => {
  // The route has the authorizer; should it ever lose it, this fails closed.
  callerIdentity(event);
  const params = event.queryStringParameters ?? {};
  const { cursor, ...query } = parseJobListQuery(params, event.rawPath);
  const page = await listJobs(store, query, cursor);

  const baseUrl = baseUrlOf(event, settings);
  const pageUrl = (pageCursor: string | undefined): string => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (key !== CURSOR && value !== undefined) search.set(key, value);
    if (pageCursor !== undefined) search.set(CURSOR, pageCursor);
    const text = search.toString();
    return text === '' ? `${baseUrl}/jobs` : `${baseUrl}/jobs?${text}`;
  };
  const links = jobListLinks(pageUrl(cursor), page.cursor === undefined ? undefined : pageUrl(page.cursor));
  const body = JSON.stringify(jobList(page.statuses, links, baseUrl));

  // A list changes with any write to any job on it: validated by its content, revalidated always.
  // Always `private`, whatever the read switch: the list needs a token, and a shared cache must
  // not keep one caller's list of ids (RFC 9111 3.5 lets `public` store an authorized answer).
  const etag = `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers = { etag, 'cache-control': 'private, no-cache' };
  if (ifNoneMatchMatches(header(event, 'if-none-match'), etag)) return { statusCode: 304, headers };
  return textResult(200, OGC_JSON_CONTENT_TYPE, body, headers);
});
