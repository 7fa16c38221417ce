/**
 * The baseline a progress write is measured against, in the status bench and its profile alike:
 * a raw conditional `PutItem` of a status-shaped item, compare-and-swap on its version, as the
 * status store's own write is. Each id's version is counted here, so consecutive calls for one
 * id always pass their condition.
 */
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

export function rawConditionalPut(client: DynamoDBClient, table: string): (id: string, progress: number) => Promise<void> {
  const versions = new Map<string, number>();
  return async (id, progress) => {
    const version = versions.get(id) ?? 0;
    versions.set(id, version + 1);
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          executionId: { S: id },
          processName: { S: 'bench:raw' },
          phase: { S: 'RUNNING' },
          progress: { N: String(Math.abs(progress) % 100) },
          version: { N: String(version + 1) },
          lastUpdated: { S: new Date().toISOString() },
        },
        ConditionExpression: version === 0 ? 'attribute_not_exists(executionId)' : '#v = :v',
        ...(version === 0 ? {} : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': { N: String(version) } } }),
      }),
    );
  };
}
