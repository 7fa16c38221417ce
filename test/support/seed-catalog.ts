/**
 * A large catalog for the reconcile tests and the GeoServer bench: `count` objects in
 * dependency-consistent groups (a workspace, its PostGIS data store, then up to 99 feature types
 * each with its layer), stored as published by `origin` at sequence 1.
 */
import { BatchWriteItemCommand, type AttributeValue, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { JsonObject } from '../../lambdas/config-sync/merge-patch';
import { objectStorageKey } from '../../lambdas/config-sync/objects';
import type { StoredObject } from '../../lambdas/config-sync/ports';
import { mapConcurrently } from '../../lambdas/shared/concurrency';

export function seedObjects(count: number, origin: string): StoredObject[] {
  const objects: StoredObject[] = [];
  const stored = (type: StoredObject['type'], id: string, properties: JsonObject): StoredObject =>
    ({ type, id, properties, lastSequence: 1, lastOrigin: origin, updatedAt: '2026-12-01T00:00:00.000Z', deleted: false, incomplete: false }) as StoredObject;
  for (let w = 0; objects.length < count; w += 1) {
    const ws = `big${w}`;
    objects.push(stored('workspace', ws, { name: ws }));
    objects.push(stored('dataStore', `${ws}:pg`, { name: 'pg', type: 'PostGIS', workspace: { name: ws } }));
    for (let t = 0; t < 99 && objects.length + 2 <= count; t += 1) {
      const id = `${ws}:t${t}`;
      objects.push(stored('featureType', id, { name: `t${t}`, title: `t${t}`, store: { '@class': 'dataStore', name: `${ws}:pg` } }));
      objects.push(stored('layer', id, { name: `t${t}`, resource: { '@class': 'featureType', name: id } }));
    }
  }
  return objects.slice(0, count);
}

/**
 * Writes objects straight into a node's partition of the node store table with BatchWriteItem
 * (25 an item, `concurrency` batches at a time), in the form the store writes small objects:
 * the store's own snapshot path writes one conditional item at a time, which on DynamoDB Local
 * takes minutes for tens of thousands of objects.
 */
export async function writeStoredObjects(dynamo: DynamoDBClient, table: string, node: string, objects: readonly StoredObject[], concurrency: number): Promise<void> {
  const item = (object: StoredObject): Record<string, AttributeValue> => ({
    node: { S: node },
    key: { S: objectStorageKey(object) },
    type: { S: object.type },
    id: { S: object.id },
    lastSequence: { N: String(object.lastSequence) },
    lastOrigin: { S: object.lastOrigin },
    updatedAt: { S: object.updatedAt },
    deleted: { BOOL: object.deleted },
    incomplete: { BOOL: object.incomplete },
    properties: { S: JSON.stringify(object.properties) },
  });
  const batches: StoredObject[][] = [];
  for (let i = 0; i < objects.length; i += 25) batches.push(objects.slice(i, i + 25));
  await mapConcurrently(batches, concurrency, async (batch) => {
    let requests: Record<string, WriteRequest[]> | undefined = { [table]: batch.map((object) => ({ PutRequest: { Item: item(object) } })) };
    for (let attempt = 0; requests && Object.keys(requests).length > 0; attempt += 1) {
      if (attempt > 20) throw new Error('DynamoDB Local left items unprocessed 20 times');
      requests = (await dynamo.send(new BatchWriteItemCommand({ RequestItems: requests }))).UnprocessedItems;
    }
  });
}
