/**
 * Reads and writes the node credentials table (lambdas/shared/credentials-table.ts) with the
 * low-level DynamoDB client and attribute maps, the adapters' one style (docs/architecture.md):
 * the authorizer runs before every uncached request, so its cold start carries no document
 * client. The only place a credentials item is written.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CREDENTIALS_TABLE, type CredentialsItem } from '../credentials-table';
import { generateToken } from '../node-token';

export class CredentialsStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** The stored secret hash of a node, or `undefined` when it has no token. */
  async secretHashOf(nodeId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [CREDENTIALS_TABLE.partitionKey]: { S: nodeId } }, ConsistentRead: true }),
    );
    return Item?.secretHash?.S;
  }

  /** Issues a new token for the node, replacing any previous one; returns the token (shown once). */
  async issue(nodeId: string, now: Date = new Date()): Promise<string> {
    const { token, secretHash } = generateToken(nodeId);
    const item: CredentialsItem = { nodeId, secretHash, createdAt: now.toISOString() };
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { [CREDENTIALS_TABLE.partitionKey]: { S: item.nodeId }, secretHash: { S: item.secretHash }, createdAt: { S: item.createdAt } },
      }),
    );
    return token;
  }

  /** Deletes the name's token; false when it had none. The authorizer refuses it from then on (after its cached verdicts expire). */
  async revoke(nodeId: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { [CREDENTIALS_TABLE.partitionKey]: { S: nodeId } }, ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }
}
