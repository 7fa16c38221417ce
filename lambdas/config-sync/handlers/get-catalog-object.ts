/**
 * GET /nodes/{node}/catalog/{type}/{id}: one object as the node's store holds it now, its
 * properties read from S3 if they were too large for the table. A removed object (a
 * tombstone), or one a recursive remove took (liveness.ts), is not found, like one the node
 * never had.
 */
import { shownObject } from '../ports';
import { Liveness } from '../liveness';
import { ValidationError } from '../../shared/errors';
import { callerIdentity, httpHandler, json, pathParam } from '../../shared/http';
import { findNode } from '../cluster';
import { CatalogObjectNotFoundError } from '../errors';
import { MAX_ID_BYTES, OBJECT_TYPES, utf8Bytes, type ObjectType } from '../events';
import { membershipFromEnv, nodeStoreFromEnv } from '../adapters/from-env';

const membership = membershipFromEnv();
const store = nodeStoreFromEnv();

export const handler = httpHandler(async (event) => {
  // A node's or an operator's read (the route's authorizer); fails closed without one.
  callerIdentity(event);
  const node = findNode(membership, pathParam(event, 'node')).name;
  const type = pathParam(event, 'type');
  if (!(OBJECT_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError('type', `must be one of: ${OBJECT_TYPES.join(', ')}`);
  }
  const id = pathParam(event, 'id');
  // Longer ids are refused when published (and would exceed DynamoDB's key size).
  if (utf8Bytes(id) > MAX_ID_BYTES) throw new CatalogObjectNotFoundError(node, type, id.slice(0, 64));
  const [object] = await store.readObjects(node, [{ type: type as ObjectType, id }]);
  if (!object || object.deleted) throw new CatalogObjectNotFoundError(node, type, id);
  const [taken] = await new Liveness((refs) => store.readObjects(node, refs)).taken([object]);
  if (taken) throw new CatalogObjectNotFoundError(node, type, id);
  return json(200, shownObject(object), { 'cache-control': 'no-store' });
});
