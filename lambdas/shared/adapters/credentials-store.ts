/**
 * Reads and writes the node credentials table (lambdas/shared/credentials-table.ts) with the
 * DynamoDB document client. The only place a credentials item is written.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CREDENTIALS_TABLE, type CredentialsItem } from '../credentials-table';
import { generateToken } from '../node-token';

export class CredentialsStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  /** The stored secret hash of a node, or `undefined` when it has no token. */
  async secretHashOf(nodeId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [CREDENTIALS_TABLE.partitionKey]: nodeId }, ConsistentRead: true }),
    );
    return typeof Item?.secretHash === 'string' ? Item.secretHash : undefined;
  }

  /** Issues a new token for the node, replacing any previous one; returns the token (shown once). */
  async issue(nodeId: string, now: Date = new Date()): Promise<string> {
    const { token, secretHash } = generateToken(nodeId);
    const item: CredentialsItem = { nodeId, secretHash, createdAt: now.toISOString() };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return token;
  }

  /** Deletes the name's token; false when it had none. The authorizer refuses it from then on (after its cached verdicts expire). */
  async revoke(nodeId: string): Promise<boolean> {
    const { Attributes } = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: { [CREDENTIALS_TABLE.partitionKey]: nodeId }, ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }
}
