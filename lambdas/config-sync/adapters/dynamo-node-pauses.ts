/**
 * A node's pause as one item of the node store: partition the node, sort key `#paused`, which
 * sorts below every object key (and beside `#cursor`), so catalog listings, snapshots and
 * resyncs never see it.
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { NodePauses, PauseState } from '../pause';
import { NODE_STORE_TABLE } from '../tables';

export const PAUSE_KEY = NODE_STORE_TABLE.pauseKey;
/** The key of a node's pause item (also checked inside the event log's append transaction). */
export const pauseItemKey = (node: string) => ({ [NODE_STORE_TABLE.partitionKey]: { S: node }, [NODE_STORE_TABLE.sortKey]: { S: PAUSE_KEY } });
const keyOf = pauseItemKey;

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
