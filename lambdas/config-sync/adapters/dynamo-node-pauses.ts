/**
 * A node's pause as one item of the node store: partition the node, sort key `#paused`, which
 * sorts below every object key (and beside `#cursor`), so catalog listings, snapshots and
 * resyncs never see it. The lease of a pause or resume in progress is another, `#switching`.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { NodePauses, PauseState, SwitchLease } from '../pause';
import { NODE_STORE_TABLE } from '../tables';

export const PAUSE_KEY = NODE_STORE_TABLE.pauseKey;
/** The key of a node's pause item (also checked inside the event log's append transaction). */
export const pauseItemKey = (node: string) => ({ [NODE_STORE_TABLE.partitionKey]: { S: node }, [NODE_STORE_TABLE.sortKey]: { S: PAUSE_KEY } });
const keyOf = pauseItemKey;

/**
 * A transaction's check that `node` is not paused, as `DynamoNodePauses.read` reads a pause (an
 * item with both `since` and `by`): the event log's append and a store's commit that checks the
 * pause (`StoreCommit.unlessPaused`) both use it. A refusal returns the pause item.
 */
export function notPausedCheck(tableName: string, node: string) {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: keyOf(node),
      ConditionExpression: 'attribute_not_exists(#since) OR attribute_not_exists(#by)',
      ExpressionAttributeNames: { '#since': 'since', '#by': 'by' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  };
}
const switchItemKey = (node: string) => ({ [NODE_STORE_TABLE.partitionKey]: { S: node }, [NODE_STORE_TABLE.sortKey]: { S: NODE_STORE_TABLE.switchKey } });

export class DynamoNodePauses implements NodePauses {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient,
  ) {}

  async read(node: string): Promise<PauseState | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: keyOf(node), ConsistentRead: true }),
    );
    if (!Item?.since?.S || !Item.by?.S) return undefined;
    return { since: Item.since.S, by: Item.by.S };
  }

  async write(node: string, state: PauseState | undefined): Promise<void> {
    const Key = keyOf(node);
    if (state === undefined) {
      await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key }));
      return;
    }
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: { ...Key, since: { S: state.since }, by: { S: state.by } } }));
  }
}

/**
 * The lease of a node's pause or resume in progress (pause.ts): the item `#switching` of the
 * node's partition, taken by a conditional put unless a live owner holds it. It carries the
 * table's TTL attribute, so one whose release failed is also deleted in time.
 */
export class DynamoSwitchLease implements SwitchLease {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient,
  ) {}

  async acquire(node: string, owner: string, until: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...switchItemKey(node), owner: { S: owner }, until: { N: String(until) }, [NODE_STORE_TABLE.ttlAttribute]: { N: String(Math.ceil(until / 1000) + 3600) } },
          ConditionExpression: 'attribute_not_exists(#until) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': { N: String(Date.now()) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(node: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({ TableName: this.tableName, Key: switchItemKey(node), ConditionExpression: '#owner = :owner', ExpressionAttributeNames: { '#owner': 'owner' }, ExpressionAttributeValues: { ':owner': { S: owner } } }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
