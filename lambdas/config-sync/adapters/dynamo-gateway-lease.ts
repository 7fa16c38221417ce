/**
 * The cluster's gateway write lease (gateway/write-lease.ts) as one item of the event log table:
 * partition `<cluster>#gateway-lease`, sequence 0, with `owner` (a token per write) and
 * `leaseUntil` (epoch ms). It lives beside the log it orders, and the gateway already may write
 * that table; no event query reads that partition.
 *
 * Taking it is a conditional put: no owner, or a lease that ended before the taker's clock.
 * Giving it back removes the owner on condition that it is still ours, so a holder whose lease
 * was taken over (it outlived the expiry) never frees someone else's.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { LeaseAttempt, LeaseStore } from '../gateway/write-lease';
import { num, optionalNumber, str, type Item } from './dynamo-attributes';
import { HEAD_SEQUENCE } from './dynamo-event-log';

export function gatewayLeasePartition(cluster: string): string {
  return `${cluster}#gateway-lease`;
}

export class DynamoGatewayLease implements LeaseStore {
  private readonly key: Item;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    cluster: string,
  ) {
    this.key = { cluster: str(gatewayLeasePartition(cluster)), sequence: num(HEAD_SEQUENCE) };
  }

  async tryAcquire(owner: string, now: number, until: number): Promise<LeaseAttempt> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...this.key, owner: str(owner), leaseUntil: num(until), acquiredAt: str(new Date(now).toISOString()) },
          ConditionExpression: 'attribute_not_exists(#owner) OR #leaseUntil < :now',
          ExpressionAttributeNames: { '#owner': 'owner', '#leaseUntil': 'leaseUntil' },
          ExpressionAttributeValues: { ':now': num(now) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const held = error.Item ?? (await this.read());
      const heldUntil = held ? optionalNumber(held, 'leaseUntil') : undefined;
      // Released between our put and the read: try again at once.
      return { acquired: false, heldUntil: heldUntil ?? now };
    }
  }

  async release(owner: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'REMOVE #owner, #leaseUntil',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#leaseUntil': 'leaseUntil' },
          ExpressionAttributeValues: { ':owner': str(owner) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async read(): Promise<Item | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }));
    return result.Item;
  }
}
