/**
 * The event log on DynamoDB.
 *
 * Table: partition key `cluster` (S), sort key `sequence` (N). One item per event
 * (`event`: its JSON; `unpublished`: present until the topic accepted it) and, at sequence 0
 * of the same partition, the cluster's log head: `head` (the highest sequence) and
 * `publishedThrough` (every event up to it is published: where the search for unpublished
 * events starts, so it never reads the whole log).
 *
 * Append is one transaction: the head moves from `h` to `h + 1` on condition that it is still
 * `h`, and the event is put at `h + 1` on condition that no item is there. A sequence is thus
 * never allocated without its event, and two appenders never get the same one: the log has no
 * holes. An appender that lost the race learns the new head from the cancellation (the head
 * item's old image) and tries again. Writes to one cluster's log are serialised by this,
 * which SNS FIFO's ~300 messages/s per group caps anyway.
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { parseDeliveredEvent, parsePublishedEvent, type DeliveredEvent, type PublishedEvent } from '../events';
import { IdempotencyKeyTakenError } from '../errors';
import type { EventDraft, EventLog, IdempotencyClaim, IdempotencyRecord } from '../ports';
import { cancellationCodes, num, optionalNumber, optionalString, pause, readNumber, readString, str, type Item } from './dynamo-attributes';

/** Sort key of the head item. Events start at 1. */
export const HEAD_SEQUENCE = 0;

export interface DynamoEventLogOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  /**
   * How long an append keeps retrying when other appenders keep winning the race.
   * @default 20000
   */
  readonly appendTimeoutMs?: number;
}

export class DynamoEventLog implements EventLog {
  private readonly client: DynamoDBClient;
  /** Last head seen per cluster: the first append attempt needs no read when it is current. */
  private readonly knownHeads = new Map<string, number>();

  constructor(private readonly options: DynamoEventLogOptions) {
    this.client = options.client ?? new DynamoDBClient({});
  }

  async append(draft: EventDraft, claim?: IdempotencyClaim): Promise<PublishedEvent> {
    const deadline = Date.now() + (this.options.appendTimeoutMs ?? 20_000);
    let head = this.knownHeads.get(draft.cluster) ?? (await this.head(draft.cluster));
    for (let attempt = 0; ; attempt += 1) {
      const sequence = head + 1;
      const event = { ...draft, sequence } as PublishedEvent;
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            // Makes the SDK's own retries of this exact request idempotent (10 minutes).
            ClientRequestToken: randomUUID(),
            TransactItems: [
              {
                Update: {
                  TableName: this.options.tableName,
                  Key: { cluster: str(draft.cluster), sequence: num(HEAD_SEQUENCE) },
                  UpdateExpression: 'SET #head = :next',
                  ConditionExpression: head === 0 ? 'attribute_not_exists(#head) OR #head = :previous' : '#head = :previous',
                  ExpressionAttributeNames: { '#head': 'head' },
                  ExpressionAttributeValues: { ':next': num(sequence), ':previous': num(head) },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Put: {
                  TableName: this.options.tableName,
                  Item: {
                    cluster: str(draft.cluster),
                    sequence: num(sequence),
                    event: str(JSON.stringify(event)),
                    unpublished: { BOOL: true },
                  },
                  ConditionExpression: 'attribute_not_exists(#sequence)',
                  ExpressionAttributeNames: { '#sequence': 'sequence' },
                },
              },
              ...(claim ? [{ Put: this.claimPut(draft.cluster, claim, sequence) }] : []),
            ],
          }),
        );
        this.knownHeads.set(draft.cluster, sequence);
        return event;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes === undefined) throw error;
        if (Date.now() > deadline) {
          throw new Error(`Event log of cluster ${draft.cluster}: no sequence allocated after ${attempt + 1} attempts`, { cause: error });
        }
        const [headCode, eventCode, claimCode] = codes;
        if (claim && claimCode === 'ConditionalCheckFailed') {
          const image = (error as TransactionCanceledException).CancellationReasons?.[2]?.Item;
          throw new IdempotencyKeyTakenError(image ? toRecord(image) : await this.readClaim(draft.cluster, claim));
        }
        if (headCode === 'ConditionalCheckFailed') {
          // Another appender won: its head is in the cancellation's old image.
          const image = (error as TransactionCanceledException).CancellationReasons?.[0]?.Item;
          const seen = image ? optionalNumber(image, 'head') : undefined;
          head = seen ?? (await this.head(draft.cluster));
          await pause(attempt, 2, 50);
        } else if (eventCode === 'ConditionalCheckFailed') {
          // An event above the head: only a hand-edited log could hold one. Never overwrite it.
          throw new Error(`Event log of cluster ${draft.cluster} holds event ${sequence} above its head ${head}`, { cause: error });
        } else {
          // TransactionConflict (a concurrent transaction on the head item) or throttling.
          await pause(attempt, 10, 200);
          head = await this.head(draft.cluster);
        }
      }
    }
  }

  async saveIdempotentAnswer(cluster: string, node: string, key: string, answer: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(claimPartition(cluster, node, key)), sequence: num(HEAD_SEQUENCE) },
        UpdateExpression: 'SET #answer = :answer',
        ConditionExpression: 'attribute_exists(#bodyHash)',
        ExpressionAttributeNames: { '#answer': 'answer', '#bodyHash': 'bodyHash' },
        ExpressionAttributeValues: { ':answer': str(answer) },
      }),
    );
  }

  /**
   * The claim of an `Idempotency-Key`: an item of its own partition (`<cluster>#idempotency#
   * <node>#<key>`), put in the append's transaction on condition that no live claim holds the
   * key. `expiresAt` is the table's TTL attribute: DynamoDB deletes it some time after.
   */
  private claimPut(cluster: string, claim: IdempotencyClaim, sequence: number) {
    return {
      TableName: this.options.tableName,
      Item: {
        cluster: str(claimPartition(cluster, claim.node, claim.key)),
        sequence: num(HEAD_SEQUENCE),
        node: str(claim.node),
        idempotencyKey: str(claim.key),
        bodyHash: str(claim.bodyHash),
        eventSequence: num(sequence),
        createdAt: str(claim.createdAt),
        expiresAt: num(claim.expiresAt),
      },
      ConditionExpression: 'attribute_not_exists(#bodyHash) OR #expiresAt < :now',
      ExpressionAttributeNames: { '#bodyHash': 'bodyHash', '#expiresAt': 'expiresAt' },
      // "Now" is the claiming request's clock, the one its own `expiresAt` derives from.
      ExpressionAttributeValues: { ':now': num(Math.floor(Date.parse(claim.createdAt) / 1000)) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  private async readClaim(cluster: string, claim: IdempotencyClaim): Promise<IdempotencyRecord> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(claimPartition(cluster, claim.node, claim.key)), sequence: num(HEAD_SEQUENCE) },
        ConsistentRead: true,
      }),
    );
    if (!result.Item) throw new Error(`Idempotency-Key ${claim.key}: the claim that refused this append is gone`);
    return toRecord(result.Item);
  }

  async readRange(cluster: string, from: number, to: number): Promise<DeliveredEvent[]> {
    const low = Math.max(1, from);
    if (to < low) return [];
    const items = await this.query({
      KeyConditionExpression: '#cluster = :cluster AND #sequence BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
      ExpressionAttributeValues: { ':cluster': str(cluster), ':from': num(low), ':to': num(to) },
    });
    return items.map((item) => parseDeliveredEvent(JSON.parse(readString(item, 'event')) as unknown));
  }

  async head(cluster: string): Promise<number> {
    const item = await this.headItem(cluster);
    const head = item ? (optionalNumber(item, 'head') ?? 0) : 0;
    this.knownHeads.set(cluster, head);
    return head;
  }

  async markPublished(cluster: string, sequence: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { cluster: str(cluster), sequence: num(sequence) },
          UpdateExpression: 'REMOVE #unpublished',
          // Never create an item for a sequence the log does not hold.
          ConditionExpression: 'attribute_exists(#sequence)',
          ExpressionAttributeNames: { '#unpublished': 'unpublished', '#sequence': 'sequence' },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
    // Usually events are marked in order: move the watermark along with them.
    await this.advanceWatermark(cluster, sequence - 1, sequence);
  }

  async listUnpublished(cluster: string, limit: number): Promise<PublishedEvent[]> {
    const headItem = await this.headItem(cluster);
    const watermark = headItem ? (optionalNumber(headItem, 'publishedThrough') ?? 0) : 0;
    const unpublished: PublishedEvent[] = [];
    // The published events right above the watermark, which a later run need not read again.
    let publishedPrefix = watermark;
    let prefixOpen = true;
    let exclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#cluster = :cluster AND #sequence > :watermark',
          ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
          ExpressionAttributeValues: { ':cluster': str(cluster), ':watermark': num(watermark) },
          Limit: 100,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.unpublished?.BOOL === true) {
          prefixOpen = false;
          unpublished.push(toEvent(item));
          if (unpublished.length >= limit) break;
        } else if (prefixOpen) {
          publishedPrefix = readNumber(item, 'sequence');
        }
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey && unpublished.length < limit);
    if (publishedPrefix > watermark) await this.advanceWatermark(cluster, watermark, publishedPrefix);
    return unpublished;
  }

  /** Moves `publishedThrough` from `from` to `to`; a no-op if another writer moved it first. */
  private async advanceWatermark(cluster: string, from: number, to: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { cluster: str(cluster), sequence: num(HEAD_SEQUENCE) },
          UpdateExpression: 'SET #watermark = :to',
          ConditionExpression:
            from === 0 ? '(attribute_not_exists(#watermark) OR #watermark = :from) AND #head >= :to' : '#watermark = :from AND #head >= :to',
          ExpressionAttributeNames: { '#watermark': 'publishedThrough', '#head': 'head' },
          ExpressionAttributeValues: { ':from': num(from), ':to': num(to) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async headItem(cluster: string): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(cluster), sequence: num(HEAD_SEQUENCE) },
        ConsistentRead: true,
      }),
    );
    return result.Item;
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let exclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, TableName: this.options.tableName, ConsistentRead: true, ExclusiveStartKey: exclusiveStartKey }),
      );
      items.push(...(page.Items ?? []));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
    return items;
  }
}

function toEvent(item: Item): PublishedEvent {
  return parsePublishedEvent(JSON.parse(readString(item, 'event')) as unknown);
}

function claimPartition(cluster: string, node: string, key: string): string {
  return `${cluster}#idempotency#${node}#${key}`;
}

function toRecord(item: Item): IdempotencyRecord {
  const answer = optionalString(item, 'answer');
  return {
    node: readString(item, 'node'),
    key: readString(item, 'idempotencyKey'),
    bodyHash: readString(item, 'bodyHash'),
    sequence: readNumber(item, 'eventSequence'),
    createdAt: readString(item, 'createdAt'),
    expiresAt: readNumber(item, 'expiresAt'),
    ...(answer === undefined ? {} : { answer }),
  };
}
