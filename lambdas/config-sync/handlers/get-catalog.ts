/**
 * GET /nodes/{node}/catalog?type=&limit=&next=&includeDeleted=: what a node's store holds now,
 * ordered by `type/id`, one page at a time. `cursor` is the node's last applied sequence, read
 * before the objects (the page reflects at least that much). What a recursive remove took
 * (liveness.ts) is removed like a tombstone: left out, or shown `deleted` with `includeDeleted`.
 */
import { callerIdentity, httpHandler, json, pathParam } from '../../shared/http';
import { parseQuery } from '../../shared/query';
import { findNode } from '../cluster';
import { objectStorageKey } from '../events';
import { catalogQuerySchema } from '../request-schemas';
import { membershipFromEnv, nodeStoreFromEnv } from '../adapters/from-env';
import { shownObject, type StoredObject } from '../ports';
import { Liveness } from '../liveness';

const membership = membershipFromEnv();
/** Parsed on every request: built at cold start. */
const catalogQuery = catalogQuerySchema();
const store = nodeStoreFromEnv();

/**
 * A Lambda response is at most 6 MB: a page of large styles is cut short at this size (its
 * `next` continues after the last object returned).
 */
const MAX_PAGE_BYTES = 5 * 1024 * 1024;

export const handler = httpHandler(async (event) => {
  // A node's or an operator's read (the route's authorizer); fails closed without one.
  callerIdentity(event);
  const node = findNode(membership, pathParam(event, 'node')).name;
  const query = parseQuery(catalogQuery, event.queryStringParameters);
  const { type, next: after, limit, includeDeleted } = query;

  // The stored cursor: a node held by a resync still shows the last sequence its store holds.
  const { cursor } = await store.readProgress(node);
  const page = await store.listObjects(node, { type, limit, after, includeDeleted });
  const taken = await new Liveness((refs) => store.readObjects(node, refs)).taken(page.objects);
  const objects: StoredObject[] = [];
  let bytes = 0;
  // Objects of the page gone through, shown or left out.
  let listed = 0;
  for (const [index, stored] of page.objects.entries()) {
    const object = taken[index] && !stored.deleted ? { ...stored, deleted: true } : stored;
    if (object.deleted && !includeDeleted) {
      listed += 1;
      continue;
    }
    bytes += Buffer.byteLength(JSON.stringify(object), 'utf8');
    if (bytes > MAX_PAGE_BYTES && objects.length > 0) break;
    listed += 1;
    objects.push(shownObject(object));
  }
  const last = page.objects[listed - 1];
  const next = listed < page.objects.length && last ? objectStorageKey(last) : page.next;
  return json(200, { node, cursor, objects, ...(next === undefined ? {} : { next }) }, { 'cache-control': 'no-store' });
});
