/**
 * A DynamoDB client stand-in for the status store's scans: it answers every command with one of
 * `stored` per page, in order, resuming after the `ExclusiveStartKey` it is given (as a Scan with
 * `Limit` 1 pages a table keyed by `executionId`), and keeps each command it is sent in `sent`.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

export function oneItemPerScanPage(stored: readonly Item[], sent: unknown[] = []): DynamoDBClient {
  return {
    send: async (command: { input: { ExclusiveStartKey?: { executionId?: { S?: string } } } }) => {
      sent.push(command);
      const start = command.input.ExclusiveStartKey?.executionId?.S;
      const index = start === undefined ? 0 : stored.findIndex((item) => item['executionId']?.S === start) + 1;
      const item = stored[index];
      return { Items: item ? [item] : [], LastEvaluatedKey: item && index < stored.length - 1 ? { executionId: item['executionId'] } : undefined };
    },
  } as unknown as DynamoDBClient;
}
