/**
 * GET /nodes/{node}/catalog?type=&limit=&next=&includeDeleted=: what a node's store holds now,
 * ordered by `type/id`, one page at a time. `cursor` is the node's last applied sequence, read
 * before the objects (the page reflects at least that much).
 */
import { ValidationError } from '../../shared/errors';
import { httpHandler, json, pathParam } from '../../shared/http';
import { findNode } from '../cluster';
import { OBJECT_TYPES, objectStorageKey, type ObjectType } from '../events';
import { membershipFromEnv, nodeStoreFromEnv } from '../adapters/from-env';
import type { StoredObject } from '../ports';

const membership = membershipFromEnv();
const store = nodeStoreFromEnv();

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/**
 * A Lambda response is at most 6 MB: a page of large styles is cut short at this size (its
 * `next` continues after the last object returned).
 */
const MAX_PAGE_BYTES = 5 * 1024 * 1024;

export const handler = httpHandler(async (event) => {
  const node = findNode(membership, pathParam(event, 'node')).name;
  const params = event.queryStringParameters ?? {};
  const type = parseType(params.type);
  const limit = parseLimit(params.limit);
  const after = parseNext(params.next);
  const includeDeleted = parseBoolean(params.includeDeleted, 'includeDeleted');

  // The stored cursor: a node held by a resync still shows the last sequence its store holds.
  const { cursor } = await store.readProgress(node);
  const page = await store.listObjects(node, { type, limit, after, includeDeleted });
  const objects: StoredObject[] = [];
  let bytes = 0;
  for (const object of page.objects) {
    bytes += Buffer.byteLength(JSON.stringify(object), 'utf8');
    if (bytes > MAX_PAGE_BYTES && objects.length > 0) break;
    objects.push(object);
  }
  const last = objects[objects.length - 1];
  const next = objects.length < page.objects.length && last ? objectStorageKey(last) : page.next;
  return json(200, { node, cursor, objects, ...(next === undefined ? {} : { next }) }, { 'cache-control': 'no-store' });
});

function parseType(raw: string | undefined): ObjectType | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!(OBJECT_TYPES as readonly string[]).includes(raw)) {
    throw new ValidationError('type', `must be one of: ${OBJECT_TYPES.join(', ')}`);
  }
  return raw as ObjectType;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const limit = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

/** `next` of a previous page: an object's `type/id`. */
function parseNext(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (Buffer.byteLength(raw, 'utf8') > 1024 || !raw.includes('/')) throw new ValidationError('next', 'is not the next value of a previous page');
  return raw;
}

function parseBoolean(raw: string | undefined, field: string): boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ValidationError(field, 'must be true or false');
}
