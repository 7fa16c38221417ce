/**
 * A GeoServer node's status in the node store table: one item per node, sort key
 * `#geoserver` (beside `#cursor`, below every object key), the status as JSON text. Written
 * only by the node's own apply function (its partition), after batches of events and slices
 * of the node's jobs, read by GET /nodes.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { GeoServerStatus, GeoServerStatusStore } from '../geoserver/ports';
import { optionalString, str } from './dynamo-attributes';

export const GEOSERVER_STATUS_KEY = '#geoserver';

export class DynamoGeoServerStatusStore implements GeoServerStatusStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient,
  ) {}

  async read(node: string): Promise<GeoServerStatus | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { node: str(node), key: str(GEOSERVER_STATUS_KEY) } }),
    );
    const text = Item ? optionalString(Item, 'status') : undefined;
    return text === undefined ? undefined : (JSON.parse(text) as GeoServerStatus);
  }

  async write(node: string, status: GeoServerStatus): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { node: str(node), key: str(GEOSERVER_STATUS_KEY), status: str(JSON.stringify(status)) },
      }),
    );
  }
}
